static MIGRATIONS: migrate::Migrations = migrate::embed_migrations!("tests/ui/fixtures/down_fails");

fn main() {
    let _ = MIGRATIONS.len();
}
