static MIGRATIONS: migrate::Migrations = migrate::embed_migrations!("tests/ui/fixtures/not_sql");

fn main() {
    let _ = MIGRATIONS.len();
}
