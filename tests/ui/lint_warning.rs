// What a lint looks like: an ordinary warning (made an error here so the test can show it).
#![deny(deprecated)]

static MIGRATIONS: litemigrate::Migrations = litemigrate::embed_migrations!("tests/ui/fixtures/lint_warning");

fn main() {
    let _ = MIGRATIONS.len();
}
