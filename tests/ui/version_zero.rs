static MIGRATIONS: migrate::Migrations = migrate::embed_migrations!("tests/ui/fixtures/version_zero");

fn main() {
    let _ = MIGRATIONS.len();
}
