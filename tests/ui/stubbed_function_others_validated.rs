static MIGRATIONS: litemigrate::Migrations =
    litemigrate::embed_migrations!("tests/ui/fixtures/stubbed_but_broken", validate_functions = ["vec_length/1"]);

fn main() {
    let _ = MIGRATIONS.len();
}
