static MIGRATIONS: litemigrate::Migrations = litemigrate::embed_migrations!("tests/ui/fixtures/down_without_up");

fn main() {
    let _ = MIGRATIONS.len();
}
