static MIGRATIONS: litemigrate::Migrations = litemigrate::embed_migrations!("tests/ui/fixtures/unknown_directive");

fn main() {
    let _ = MIGRATIONS.len();
}
