// Lints are warnings (uses of deprecated constants): with `deny(deprecated)` this case fails if any is left.
// Each opt-out silences exactly its case.
#![deny(deprecated)]

// `allow = [...]` for the set, `-- migrate:allow <id>` in the file.
static SET_ALLOW: litemigrate::Migrations =
    litemigrate::embed_migrations!("tests/ui/fixtures/lint_warning", allow = ["drop-table"]);
static FILE_ALLOW: litemigrate::Migrations = litemigrate::embed_migrations!("tests/ui/fixtures/lint_allowed_in_file");
// `rows = false` for the set, `-- migrate:allow rows` in the file.
static NO_ROWS: litemigrate::Migrations =
    litemigrate::embed_migrations!("tests/ui/fixtures/rows_cascade", rows = false, set = "no_rows");
static ROWS_ALLOWED: litemigrate::Migrations =
    litemigrate::embed_migrations!("tests/ui/fixtures/rows_allowed_in_file", set = "rows_allowed");

fn main() {
    assert_eq!(SET_ALLOW.len(), 2);
    assert_eq!(FILE_ALLOW.len(), 2);
    assert_eq!(NO_ROWS.len(), 2);
    assert_eq!(ROWS_ALLOWED.len(), 2);
}
