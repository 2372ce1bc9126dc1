static MIGRATIONS: litemigrate::Migrations = litemigrate::embed_migrations!("tests/ui/fixtures/subdirectory");

fn main() {
    let _ = MIGRATIONS.len();
}
