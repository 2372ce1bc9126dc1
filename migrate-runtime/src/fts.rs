//! Maintenance of FTS5 indexes at run time: rebuild, optimize, incremental merge, integrity check, and a sync check
//! that says whether an external-content index still matches its content table.
//!
//! Every function takes the index name as data and quotes it; none trusts it as SQL.
//!
//! ```
//! use litemigrate_core::fts5::Fts5Index;
//! use litemigrate_runtime::fts;
//! let db = rusqlite::Connection::open_in_memory().unwrap();
//! db.execute_batch("CREATE TABLE docs(id INTEGER PRIMARY KEY, body TEXT)").unwrap();
//! let idx = Fts5Index::external("docs_fts", "docs").rowid("id").columns(["body"]);
//! db.execute_batch(&idx.up_sql().unwrap()).unwrap();
//! assert!(fts::sync_check(&db, "docs_fts").unwrap().in_sync());
//! fts::optimize(&db, "docs_fts").unwrap();
//! ```

use litemigrate_core::fts5::{Fts5Index, Kind};
use litemigrate_core::lex::{self, Keyword, Token};
use litemigrate_core::sql::quote_ident;
use rusqlite::{Connection, ErrorCode};

/// What went wrong with an FTS5 maintenance command.
#[derive(Debug, thiserror::Error)]
pub enum FtsError {
    /// No table of that name.
    #[error("there is no FTS5 index `{0}`")]
    NoSuchIndex(String),
    /// The table exists but is not an FTS5 table.
    #[error("`{0}` is not an FTS5 table")]
    NotFts5(String),
    /// The index has no content table, so there is nothing to compare it with or rebuild it from.
    #[error("FTS5 index `{index}`: {what} needs an external-content index (content=<table>)")]
    NoContentTable {
        /// The index.
        index: String,
        /// What was asked.
        what: &'static str,
    },
    /// FTS5 found the index corrupt, or (when `compared_with_content`) different from its content table. Run
    /// [`rebuild`] to repair it from the content table.
    #[error("FTS5 index `{index}` failed its integrity check{}: {message}",
        if *compared_with_content { " against its content table" } else { "" })]
    Integrity {
        /// The index.
        index: String,
        /// Whether the index was compared with its content table (`rank = 1`).
        compared_with_content: bool,
        /// SQLite's message.
        message: String,
    },
    /// A command failed for another reason.
    #[error("FTS5 index `{index}`: `{command}` failed: {source}")]
    Sqlite {
        /// The index.
        index: String,
        /// The FTS5 command.
        command: &'static str,
        /// The error.
        #[source]
        source: rusqlite::Error,
    },
}

/// What [`sync_check`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncReport {
    /// The index holds exactly the content table's rows and values.
    pub matches_content: bool,
    /// SQLite's message when it does not.
    pub message: Option<String>,
    /// Writes to the content table that no trigger mentioning the index follows (`"INSERT"`, `"DELETE"`,
    /// `"UPDATE"`): the index will drift again after a [`rebuild`] until they are added (e.g. by
    /// `-- migrate:fts5-resync`).
    pub unsynced_events: Vec<&'static str>,
}

impl SyncReport {
    /// The index matches its content table now and every kind of write is followed.
    pub fn in_sync(&self) -> bool {
        self.matches_content && self.unsynced_events.is_empty()
    }
}

/// Reads the index's declaration.
fn lookup(conn: &Connection, index: &str) -> Result<Fts5Index, FtsError> {
    let sql: Option<Option<String>> = conn
        .query_row(
            "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?1 COLLATE NOCASE",
            [index],
            |r| r.get(0),
        )
        .map(Some)
        .or_else(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Ok(None),
            e => Err(e),
        })
        .map_err(|source| FtsError::Sqlite {
            index: index.to_owned(),
            command: "lookup",
            source,
        })?;
    let sql = sql.ok_or_else(|| FtsError::NoSuchIndex(index.to_owned()))?;
    sql.as_deref()
        .and_then(Fts5Index::from_create_sql)
        .ok_or_else(|| FtsError::NotFts5(index.to_owned()))
}

/// `INSERT INTO idx(idx[, rank]) VALUES (command[, rank])`.
fn command(
    conn: &Connection,
    idx: &Fts5Index,
    command: &'static str,
    rank: Option<i64>,
) -> Result<(), rusqlite::Error> {
    let q = quote_ident(idx.name());
    match rank {
        Some(rank) => conn.execute(&format!("INSERT INTO {q}({q}, rank) VALUES (?1, ?2)"), (command, rank)),
        None => conn.execute(&format!("INSERT INTO {q}({q}) VALUES (?1)"), [command]),
    }
    .map(drop)
}

fn sqlite_err(index: &Fts5Index, command: &'static str) -> impl FnOnce(rusqlite::Error) -> FtsError + use<> {
    let index = index.name().to_owned();
    move |source| FtsError::Sqlite { index, command, source }
}

/// Re-indexes every row of the content table (the `'rebuild'` command): repairs an index that drifted.
pub fn rebuild(conn: &Connection, index: &str) -> Result<(), FtsError> {
    let idx = lookup(conn, index)?;
    if idx.kind() == Kind::ContentlessDelete {
        return Err(FtsError::NoContentTable {
            index: idx.name().to_owned(),
            what: "rebuild",
        });
    }
    command(conn, &idx, "rebuild", None).map_err(sqlite_err(&idx, "rebuild"))
}

/// Merges all of the index's b-trees into one (the `'optimize'` command): fastest queries, but it rewrites the
/// whole index; see [`merge`] for doing it in steps.
pub fn optimize(conn: &Connection, index: &str) -> Result<(), FtsError> {
    let idx = lookup(conn, index)?;
    command(conn, &idx, "optimize", None).map_err(sqlite_err(&idx, "optimize"))
}

/// One step of incremental merging (the `'merge'` command), writing about `pages` leaf pages (at least 1). Returns
/// whether it did any work: call it again (e.g. from an idle task) until it returns `false`.
pub fn merge(conn: &Connection, index: &str, pages: u32) -> Result<bool, FtsError> {
    let idx = lookup(conn, index)?;
    let before = conn.total_changes();
    command(conn, &idx, "merge", Some(i64::from(pages.max(1)))).map_err(sqlite_err(&idx, "merge"))?;
    // sqlite.org: a merge that changed fewer than two rows had nothing left to do.
    Ok(conn.total_changes().saturating_sub(before) >= 2)
}

/// FTS5's integrity check; for an external-content index it also compares the index with the content table
/// (`rank = 1`). A failure is [`FtsError::Integrity`].
pub fn integrity_check(conn: &Connection, index: &str) -> Result<(), FtsError> {
    let idx = lookup(conn, index)?;
    let compare = idx.kind() == Kind::External;
    run_integrity(conn, &idx, compare)
}

fn run_integrity(conn: &Connection, idx: &Fts5Index, compare: bool) -> Result<(), FtsError> {
    match command(conn, idx, "integrity-check", Some(i64::from(compare))) {
        Ok(()) => Ok(()),
        Err(e) if e.sqlite_error_code() == Some(ErrorCode::DatabaseCorrupt) => Err(FtsError::Integrity {
            index: idx.name().to_owned(),
            compared_with_content: compare,
            message: e.to_string(),
        }),
        Err(source) => Err(FtsError::Sqlite {
            index: idx.name().to_owned(),
            command: "integrity-check",
            source,
        }),
    }
}

/// Whether an external-content index matches its content table, and whether its triggers follow every kind of
/// write. Damage (an `INSERT OR REPLACE` without `recursive_triggers`, writes while a trigger was missing, a
/// hand-edited index) shows as `matches_content == false`; [`rebuild`] repairs it.
pub fn sync_check(conn: &Connection, index: &str) -> Result<SyncReport, FtsError> {
    let idx = lookup(conn, index)?;
    let Some(table) = idx.table().filter(|_| idx.kind() == Kind::External) else {
        return Err(FtsError::NoContentTable {
            index: idx.name().to_owned(),
            what: "a sync check",
        });
    };
    let (matches_content, message) = match run_integrity(conn, &idx, true) {
        Ok(()) => (true, None),
        Err(FtsError::Integrity { message, .. }) => (false, Some(message)),
        Err(e) => return Err(e),
    };
    let mut stmt = conn
        .prepare("SELECT sql FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = ?1 COLLATE NOCASE")
        .map_err(sqlite_err(&idx, "sync-check"))?;
    let triggers: Vec<Option<String>> = stmt
        .query_map([table], |r| r.get(0))
        .and_then(|rows| rows.collect())
        .map_err(sqlite_err(&idx, "sync-check"))?;
    let followed: Vec<&'static str> = triggers
        .iter()
        .flatten()
        .filter_map(|sql| followed_event(sql, idx.name()))
        .collect();
    let unsynced_events = ["INSERT", "DELETE", "UPDATE"]
        .into_iter()
        .filter(|e| !followed.contains(e))
        .collect();
    Ok(SyncReport {
        matches_content,
        message,
        unsynced_events,
    })
}

/// The write a trigger follows (`INSERT`, `DELETE`, `UPDATE`) when its SQL mentions `index`, read through the lexer
/// so quoted names, strings and comments are not mistaken for keywords: the last of those keywords before the
/// first `ON` (`… AFTER UPDATE OF a ON t`).
fn followed_event(sql: &str, index: &str) -> Option<&'static str> {
    let toks: Vec<Token<'_>> = lex::significant(sql).collect();
    let mentions = toks
        .iter()
        .any(|t| t.ident().is_some_and(|n| n.eq_ignore_ascii_case(index)));
    if !mentions {
        return None;
    }
    let on = toks
        .iter()
        .position(|t| t.is_keyword(Keyword::On))
        .unwrap_or(toks.len());
    toks[..on].iter().rev().find_map(|t| match t.keyword() {
        Some(Keyword::Insert) => Some("INSERT"),
        Some(Keyword::Delete) => Some("DELETE"),
        Some(Keyword::Update) => Some("UPDATE"),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_event_is_read_from_keywords_only() {
        let ev = |sql: &str| followed_event(sql, "f");
        assert_eq!(
            ev("CREATE TRIGGER t_au AFTER UPDATE OF a ON t BEGIN INSERT INTO f VALUES (1); END"),
            Some("UPDATE")
        );
        assert_eq!(ev("CREATE TRIGGER t_ai AFTER INSERT ON t BEGIN SELECT 1; END"), None);
        // A trigger named like an event, and a comment naming one, do not change which event it follows.
        assert_eq!(
            ev("CREATE TRIGGER \"update\" AFTER /* not UPDATE */ DELETE ON t BEGIN DELETE FROM f; END"),
            Some("DELETE")
        );
        // A quoted "on" is a name, not the end of the event clause.
        assert_eq!(
            ev("CREATE TRIGGER \"on\" AFTER INSERT ON t BEGIN INSERT INTO f VALUES (1); END"),
            Some("INSERT")
        );
    }
}
