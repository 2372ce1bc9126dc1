static MIGRATIONS: litemigrate::Migrations = litemigrate::embed_migrations!("tests/ui/fixtures/directive_after_sql");

fn main() {
    let _ = MIGRATIONS.len();
}
