//! A small knowledge store with full-text search, whose FTS5 index, sync triggers and a table rebuild are generated
//! from `-- migrate:` directives at build time (see `examples/knowledge/migrations`).
//!
//! ```text
//! cargo run --example knowledge -- /tmp/k.db                                         # migrate, insert, search, update, search
//! cargo run --example knowledge -- /tmp/k.db add "Rust ownership" "Each value has one owner; borrowing lends it."
//! cargo run --example knowledge -- /tmp/k.db                                         # migrate, insert, search, update, search
//! cargo run --example knowledge -- /tmp/k.db add "rust ownership" "Moves transfer ownership."   # same title: updated
//! cargo run --example knowledge -- /tmp/k.db search borrow
//! cargo run --example knowledge -- /tmp/k.db check                                        # sync check, repair
//! ```

use std::error::Error;

/// Validated while this example compiles: the generated FTS5 and rebuild SQL runs in an in-memory SQLite first.
static MIGRATIONS: litemigrate::Migrations = litemigrate::embed_migrations!("examples/knowledge/migrations");

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().unwrap_or_else(|| "knowledge.db".to_owned());
    let mut conn = rusqlite::Connection::open(&path)?;
    let report = MIGRATIONS.migrate(&mut conn)?;
    println!("{path}: {report}");

    let rest: Vec<String> = args.collect();
    match rest.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["add", title, content] => {
            // An upsert fires the update trigger; `INSERT OR REPLACE` would skip the delete trigger (unless
            // `PRAGMA recursive_triggers=ON`) and leave stale terms in the index.
            conn.execute(
                "INSERT INTO knowledge_entries (title, content) VALUES (?1, ?2)
                 ON CONFLICT (title) DO UPDATE SET content = excluded.content",
                [title, content],
            )?;
            println!("saved: {title}");
        }
        ["search", query] => {
            let mut stmt = conn.prepare(
                "SELECT e.id, e.title, snippet(knowledge_fts, 1, '[', ']', '…', 8)
                 FROM knowledge_fts JOIN knowledge_entries AS e ON e.id = knowledge_fts.rowid
                 WHERE knowledge_fts MATCH ?1 ORDER BY rank",
            )?;
            let rows = stmt.query_map([query], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?))
            })?;
            for row in rows {
                let (id, title, snippet) = row?;
                println!("  {id}: {title} — {snippet}");
            }
        }
        ["check"] => {
            let report = litemigrate::fts::sync_check(&conn, "knowledge_fts")?;
            if report.in_sync() {
                println!("knowledge_fts matches knowledge_entries");
            } else {
                println!("knowledge_fts is out of sync: {report:?}; rebuilding");
                litemigrate::fts::rebuild(&conn, "knowledge_fts")?;
            }
        }
        [] => demo(&conn)?,
        _ => return Err("usage: knowledge [DB] [add TITLE CONTENT | search QUERY | check]".into()),
    }
    Ok(())
}

/// With no command: insert, search, update, search again, showing the index follows every change of its content
/// table through the generated triggers.
fn demo(conn: &rusqlite::Connection) -> Result<(), Box<dyn Error>> {
    let upsert = "INSERT INTO knowledge_entries (title, content, domain, confidence) VALUES (?1, ?2, ?3, ?4)
                  ON CONFLICT (title) DO UPDATE SET content = excluded.content, confidence = excluded.confidence";
    conn.execute(
        upsert,
        (
            "Ownership",
            "Each value has one owner; borrowing lends it.",
            "rust",
            0.9,
        ),
    )?;
    conn.execute(upsert, ("WAL mode", "Readers do not block the writer.", "sqlite", 0.8))?;
    search(conn, "borrowing")?;
    // Same title (case-insensitively unique since 0003): the upsert updates the entry and its index terms.
    conn.execute(
        upsert,
        (
            "ownership",
            "Moves transfer ownership to the new binding.",
            "rust",
            0.95,
        ),
    )?;
    search(conn, "borrowing")?;
    search(conn, "moves")?;
    Ok(())
}

fn search(conn: &rusqlite::Connection, query: &str) -> Result<(), Box<dyn Error>> {
    let mut stmt = conn.prepare(
        "SELECT e.title, e.domain, e.confidence FROM knowledge_fts
         JOIN knowledge_entries AS e ON e.id = knowledge_fts.rowid WHERE knowledge_fts MATCH ?1 ORDER BY rank",
    )?;
    let hits = stmt
        .query_map([query], |r| {
            Ok(format!(
                "{} ({}, {:.2})",
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, f64>(2)?
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    println!(
        "search {query:?}: {}",
        if hits.is_empty() {
            "no match".to_owned()
        } else {
            hits.join(", ")
        }
    );
    Ok(())
}
