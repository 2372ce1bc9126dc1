static MIGRATIONS: litemigrate::Migrations = litemigrate::embed_migrations!("tests/ui/fixtures/rows_references_default");

fn main() {
    let _ = MIGRATIONS.len();
}
