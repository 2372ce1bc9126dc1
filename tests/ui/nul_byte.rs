static MIGRATIONS: litemigrate::Migrations = litemigrate::embed_migrations!("tests/ui/fixtures/nul_byte");

fn main() {
    let _ = MIGRATIONS.len();
}
