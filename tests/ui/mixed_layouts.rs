static MIGRATIONS: litemigrate::Migrations = litemigrate::embed_migrations!("tests/ui/fixtures/mixed_layouts");

fn main() {
    let _ = MIGRATIONS.len();
}
