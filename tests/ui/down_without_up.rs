static MIGRATIONS: migrate::Migrations = migrate::embed_migrations!("tests/ui/fixtures/down_without_up");

fn main() {
    let _ = MIGRATIONS.len();
}
