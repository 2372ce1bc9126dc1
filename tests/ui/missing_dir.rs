static MIGRATIONS: litemigrate::Migrations = litemigrate::embed_migrations!("tests/ui/fixtures/does_not_exist");

fn main() {
    let _ = MIGRATIONS.len();
}
