static MIGRATIONS: litemigrate::Migrations =
    litemigrate::embed_migrations!("tests/ui/fixtures/lint_denied", deny = ["drop-table"]);

fn main() {
    let _ = MIGRATIONS.len();
}
