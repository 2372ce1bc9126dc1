static MIGRATIONS: litemigrate::Migrations = litemigrate::embed_migrations!("tests/ui/fixtures/bad_sql_line");

fn main() {
    let _ = MIGRATIONS.len();
}
