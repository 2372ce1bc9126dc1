static MIGRATIONS: litemigrate::Migrations = litemigrate::embed_migrations!("tests/ui/fixtures/bad_name");

fn main() {
    let _ = MIGRATIONS.len();
}
