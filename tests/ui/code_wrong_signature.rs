fn backfill(_conn: &rusqlite::Connection) -> Result<(), litemigrate::CodeError> {
    Ok(())
}

static MIGRATIONS: litemigrate::Migrations =
    litemigrate::embed_migrations!("tests/ui/fixtures/code_clash", code = [(3, "backfill", backfill)]);

fn main() {
    let _ = MIGRATIONS.len();
}
