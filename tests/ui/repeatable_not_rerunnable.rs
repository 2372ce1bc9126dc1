static MIGRATIONS: litemigrate::Migrations =
    litemigrate::embed_migrations!("tests/ui/fixtures/repeatable_not_rerunnable");

fn main() {
    let _ = MIGRATIONS.len();
}
