static MIGRATIONS: migrate::Migrations = migrate::embed_migrations!("tests/ui/fixtures/subdirectory");

fn main() {
    let _ = MIGRATIONS.len();
}
