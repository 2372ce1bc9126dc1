fn backfill(_conn: &rusqlite::Connection) -> Result<(), migrate::CodeError> {
    Ok(())
}

static MIGRATIONS: migrate::Migrations =
    migrate::embed_migrations!("tests/ui/fixtures/code_clash", code = [(3, "backfill", backfill)]);

fn main() {
    let _ = MIGRATIONS.len();
}
