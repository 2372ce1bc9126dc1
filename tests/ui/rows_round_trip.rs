static MIGRATIONS: litemigrate::Migrations = litemigrate::embed_migrations!("tests/ui/fixtures/rows_round_trip");

fn main() {
    let _ = MIGRATIONS.len();
}
