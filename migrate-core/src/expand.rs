//! Directive expansion: the SQL a migration actually runs is its file body plus whatever its directives generate
//! (FTS5 indexes, table rebuilds). Expansion happens at build time, so generated SQL is validated and embedded like
//! hand-written SQL; the checksum still covers the file as written.
//!
//! Schema-dependent generators (a table rebuild needs the old table's columns) look at the schema through
//! [`Introspect`], which the build-time in-memory database implements.

use crate::load::Script;

/// A column as `PRAGMA table_info` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnInfo {
    /// Column name.
    pub name: String,
    /// Declared type, as written (may be empty).
    pub decl_type: String,
    /// NOT NULL.
    pub not_null: bool,
    /// Position in the primary key (0 when not part of it).
    pub pk: u32,
}

/// Read access to the schema at the point a migration runs.
pub trait Introspect {
    /// The columns of `table`, or `None` when there is no such table.
    fn table_columns(&self, table: &str) -> Result<Option<Vec<ColumnInfo>>, String>;
    /// The indexes and triggers attached to `table`: `(type, name, sql)` from `sqlite_schema`, auto-indexes excluded.
    fn table_dependents(&self, table: &str) -> Result<Vec<(String, String, String)>, String>;
}

/// A directive whose SQL could not be generated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: line {line}: {message}")]
pub struct ExpandError {
    /// The migration file.
    pub file: String,
    /// The directive's line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// A piece of the SQL a script runs, with where it came from so errors can name a line of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// The SQL.
    pub sql: String,
    /// For file text: the file line `sql` starts on. For generated SQL: the line of the directive that generated it.
    pub line: usize,
    /// Whether a directive generated this chunk.
    pub generated: bool,
}

/// Joins chunks into the text that is embedded and executed.
pub fn join(chunks: &[Chunk]) -> String {
    let mut out = String::new();
    for c in chunks {
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(&c.sql);
    }
    out
}

/// The SQL the up script runs, in order. `db` is the schema just before this migration, or `None` when the build
/// does not execute SQL (then schema-dependent directives are an error).
pub fn expand_up(script: &Script, db: Option<&dyn Introspect>) -> Result<Vec<Chunk>, ExpandError> {
    let _ = db;
    Ok(vec![Chunk { sql: script.sql.clone(), line: 1, generated: false }])
}

/// The SQL the down script runs, given its up script (whose directives may generate the reverse). `db` is the
/// schema just before the down runs.
pub fn expand_down(
    up: &Script,
    down: Option<&Script>,
    db: Option<&dyn Introspect>,
) -> Result<Option<Vec<Chunk>>, ExpandError> {
    let _ = (up, db);
    Ok(down.map(|d| vec![Chunk { sql: d.sql.clone(), line: 1, generated: false }]))
}

#[cfg(feature = "sqlite")]
impl Introspect for rusqlite::Connection {
    fn table_columns(&self, table: &str) -> Result<Option<Vec<ColumnInfo>>, String> {
        let mut stmt = self
            .prepare("SELECT name, type, \"notnull\", pk FROM pragma_table_info(?1)")
            .map_err(|e| e.to_string())?;
        let cols = stmt
            .query_map([table], |r| {
                Ok(ColumnInfo { name: r.get(0)?, decl_type: r.get(1)?, not_null: r.get(2)?, pk: r.get(3)? })
            })
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| e.to_string())?;
        Ok(if cols.is_empty() { None } else { Some(cols) })
    }

    fn table_dependents(&self, table: &str) -> Result<Vec<(String, String, String)>, String> {
        let mut stmt = self
            .prepare(
                "SELECT type, name, sql FROM sqlite_schema \
                 WHERE tbl_name = ?1 AND type IN ('index', 'trigger') AND sql IS NOT NULL ORDER BY rowid",
            )
            .map_err(|e| e.to_string())?;
        stmt.query_map([table], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| e.to_string())
    }
}

#[cfg(all(test, feature = "sqlite"))]
mod tests {
    use super::*;

    #[test]
    fn introspects_a_connection() {
        let db = rusqlite::Connection::open_in_memory().unwrap();
        db.execute_batch(
            "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
             CREATE INDEX t_name ON t(name);
             CREATE TRIGGER t_ai AFTER INSERT ON t BEGIN SELECT 1; END;",
        )
        .unwrap();
        let cols = db.table_columns("t").unwrap().unwrap();
        assert_eq!(cols[0], ColumnInfo { name: "id".into(), decl_type: "INTEGER".into(), not_null: false, pk: 1 });
        assert!(cols[1].not_null);
        assert_eq!(db.table_columns("missing").unwrap(), None);
        let deps: Vec<String> = db.table_dependents("t").unwrap().into_iter().map(|(_, n, _)| n).collect();
        assert_eq!(deps, ["t_name", "t_ai"]);
    }
}
