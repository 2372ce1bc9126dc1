static MIGRATIONS: litemigrate::Migrations = litemigrate::embed_migrations!("tests/ui/fixtures/version_zero");

fn main() {
    let _ = MIGRATIONS.len();
}
