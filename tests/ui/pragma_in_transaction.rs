static MIGRATIONS: litemigrate::Migrations = litemigrate::embed_migrations!("tests/ui/fixtures/pragma_in_transaction");

fn main() {
    let _ = MIGRATIONS.len();
}
