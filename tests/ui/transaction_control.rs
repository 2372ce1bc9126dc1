static MIGRATIONS: migrate::Migrations = migrate::embed_migrations!("tests/ui/fixtures/transaction_control");

fn main() {
    let _ = MIGRATIONS.len();
}
