static MIGRATIONS: litemigrate::Migrations = litemigrate::embed_migrations!("tests/ui/fixtures/duplicate_version");

fn main() {
    let _ = MIGRATIONS.len();
}
