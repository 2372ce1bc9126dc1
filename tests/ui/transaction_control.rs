static MIGRATIONS: litemigrate::Migrations = litemigrate::embed_migrations!("tests/ui/fixtures/transaction_control");

fn main() {
    let _ = MIGRATIONS.len();
}
