static MIGRATIONS: litemigrate::Migrations = litemigrate::embed_migrations!(
    "tests/ui/fixtures/rows_unique_fixture/migrations",
    fixtures = "tests/ui/fixtures/rows_unique_fixture/fixtures"
);

fn main() {
    let _ = MIGRATIONS.len();
}
