static MIGRATIONS: litemigrate::Migrations = litemigrate::embed_migrations!("tests/ui/fixtures/not_sql");

fn main() {
    let _ = MIGRATIONS.len();
}
