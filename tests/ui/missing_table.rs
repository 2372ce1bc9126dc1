static MIGRATIONS: litemigrate::Migrations = litemigrate::embed_migrations!("tests/ui/fixtures/missing_table");

fn main() {
    let _ = MIGRATIONS.len();
}
