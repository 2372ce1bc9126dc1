static MIGRATIONS: litemigrate::Migrations = litemigrate::embed_migrations!("tests/ui/fixtures/history_write");

fn main() {
    let _ = MIGRATIONS.len();
}
