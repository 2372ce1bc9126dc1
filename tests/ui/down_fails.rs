static MIGRATIONS: litemigrate::Migrations = litemigrate::embed_migrations!("tests/ui/fixtures/down_fails");

fn main() {
    let _ = MIGRATIONS.len();
}
