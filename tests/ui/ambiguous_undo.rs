static MIGRATIONS: litemigrate::Migrations = litemigrate::embed_migrations!("tests/fixtures/layouts/flyway");

fn main() {
    let _ = MIGRATIONS.len();
}
