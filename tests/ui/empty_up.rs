static MIGRATIONS: litemigrate::Migrations = litemigrate::embed_migrations!("tests/ui/fixtures/empty_up");

fn main() {
    let _ = MIGRATIONS.len();
}
