static MIGRATIONS: migrate::Migrations = migrate::embed_migrations!("tests/ui/fixtures/empty_up");

fn main() {
    let _ = MIGRATIONS.len();
}
