static MIGRATIONS: litemigrate::Migrations = litemigrate::embed_migrations!("tests/ui/fixtures/not_utf8");

fn main() {
    let _ = MIGRATIONS.len();
}
