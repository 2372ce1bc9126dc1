fn backfill(_tx: &rusqlite::Transaction<'_>) -> Result<(), migrate::CodeError> {
    Ok(())
}

static MIGRATIONS: migrate::Migrations =
    migrate::embed_migrations!("tests/ui/fixtures/code_clash", code = [(2, "backfill", backfill)]);

fn main() {
    let _ = MIGRATIONS.len();
}
