static MIGRATIONS: litemigrate::Migrations = litemigrate::embed_migrations!("tests/ui/fixtures/down_leaves_table");

fn main() {
    let _ = MIGRATIONS.len();
}
