static MIGRATIONS: litemigrate::Migrations =
    litemigrate::embed_migrations!("tests/ui/fixtures/unbounded_validation", validation_steps = 100000);

fn main() {
    let _ = MIGRATIONS.len();
}
