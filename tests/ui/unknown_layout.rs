static MIGRATIONS: litemigrate::Migrations = litemigrate::embed_migrations!("tests/fixtures/layouts/flyway", layout = "liquibase");

fn main() {
    let _ = MIGRATIONS.len();
}
