static MIGRATIONS: litemigrate::Migrations = litemigrate::embed_migrations!("tests/ui/fixtures/simple_and_up");

fn main() {
    let _ = MIGRATIONS.len();
}
