static MIGRATIONS: migrate::Migrations = migrate::embed_migrations!("tests/ui/fixtures/nul_byte");

fn main() {
    let _ = MIGRATIONS.len();
}
