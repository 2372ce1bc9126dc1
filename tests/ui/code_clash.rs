fn backfill(_tx: &rusqlite::Transaction<'_>) -> Result<(), litemigrate::CodeError> {
    Ok(())
}

static MIGRATIONS: litemigrate::Migrations =
    litemigrate::embed_migrations!("tests/ui/fixtures/code_clash", code = [(2, "backfill", backfill)]);

fn main() {
    let _ = MIGRATIONS.len();
}
