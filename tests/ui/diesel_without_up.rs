static MIGRATIONS: litemigrate::Migrations = litemigrate::embed_migrations!("tests/ui/fixtures/diesel_no_up");

fn main() {
    let _ = MIGRATIONS.len();
}
