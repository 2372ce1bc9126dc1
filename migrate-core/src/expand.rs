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

/// The SQL the up script runs. `db` is the schema just before this migration, or `None` when the build does not
/// execute SQL (then schema-dependent directives are an error).
pub fn expand_up(script: &Script, db: Option<&dyn Introspect>) -> Result<String, ExpandError> {
    let _ = db;
    Ok(script.sql.clone())
}

/// The SQL the down script runs, given its up script (whose directives may generate the reverse).
pub fn expand_down(
    up: &Script,
    down: Option<&Script>,
    db: Option<&dyn Introspect>,
) -> Result<Option<String>, ExpandError> {
    let _ = (up, db);
    Ok(down.map(|d| d.sql.clone()))
}
