static MIGRATIONS: litemigrate::Migrations = litemigrate::embed_migrations!("tests/ui/fixtures/rows_cascade");

fn main() {
    let _ = MIGRATIONS.len();
}
