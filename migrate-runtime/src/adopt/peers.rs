//! The other tools' history tables: which tool a database was migrated by (what it says was applied is
//! `history.rs`, used only by the adoption).
//!
//! Layouts as each tool creates them on SQLite (read from their sources and docs):
//! - sqlx `_sqlx_migrations(version BIGINT PRIMARY KEY, description, installed_on, success, checksum BLOB,
//!   execution_time)`; checksum SHA-384 of the file as read.
//! - diesel `__diesel_schema_migrations(version VARCHAR(50) PRIMARY KEY, run_on)`; versions only, as text.
//! - refinery `refinery_schema_history(version INT4 PRIMARY KEY, name, applied_on, checksum)`; checksum a
//!   SipHash-1-3 of name, version and SQL, as decimal text.
//! - Flyway `flyway_schema_history(installed_rank, version, description, type, script, checksum, …, success)`;
//!   checksum a CRC32 over the file's lines.
//! - dbmate `schema_migrations(version VARCHAR PRIMARY KEY)`; versions only.
//! - golang-migrate `schema_migrations(version, dirty)`: one row, the current version.
//! - goose `goose_db_version(id, version_id, is_applied, tstamp)`: one row per up or down; version 0 is goose's own.
//! - rusqlite_migration: no table; `PRAGMA user_version` counts the migrations applied.

use super::AdoptError;
use crate::error::Error;
use rusqlite::Connection;
use std::fmt;
use std::str::FromStr;

/// A migration tool whose database can be adopted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Tool {
    /// sqlx (`_sqlx_migrations`).
    Sqlx,
    /// diesel (`__diesel_schema_migrations`).
    Diesel,
    /// refinery (`refinery_schema_history`).
    Refinery,
    /// Flyway (`flyway_schema_history`).
    Flyway,
    /// dbmate (`schema_migrations` with a `version` column only).
    Dbmate,
    /// golang-migrate (`schema_migrations` with `version` and `dirty`).
    GolangMigrate,
    /// goose (`goose_db_version`).
    Goose,
    /// rusqlite_migration (`PRAGMA user_version`).
    RusqliteMigration,
}

impl Tool {
    /// Every tool, in the order detection tries them.
    pub const ALL: [Tool; 8] = [
        Tool::Sqlx,
        Tool::Diesel,
        Tool::Refinery,
        Tool::Flyway,
        Tool::Dbmate,
        Tool::GolangMigrate,
        Tool::Goose,
        Tool::RusqliteMigration,
    ];

    /// The name `--from` takes.
    pub fn as_str(self) -> &'static str {
        match self {
            Tool::Sqlx => "sqlx",
            Tool::Diesel => "diesel",
            Tool::Refinery => "refinery",
            Tool::Flyway => "flyway",
            Tool::Dbmate => "dbmate",
            Tool::GolangMigrate => "golang-migrate",
            Tool::Goose => "goose",
            Tool::RusqliteMigration => "rusqlite_migration",
        }
    }

    /// The history table it keeps, if any.
    pub fn table(self) -> Option<&'static str> {
        match self {
            Tool::Sqlx => Some("_sqlx_migrations"),
            Tool::Diesel => Some("__diesel_schema_migrations"),
            Tool::Refinery => Some("refinery_schema_history"),
            Tool::Flyway => Some("flyway_schema_history"),
            Tool::Dbmate | Tool::GolangMigrate => Some("schema_migrations"),
            Tool::Goose => Some("goose_db_version"),
            Tool::RusqliteMigration => None,
        }
    }

    /// Whether the tool stores a checksum this library can recompute.
    pub fn has_checksums(self) -> bool {
        matches!(self, Tool::Sqlx | Tool::Refinery | Tool::Flyway)
    }
}

impl fmt::Display for Tool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Tool {
    type Err = AdoptError;

    fn from_str(s: &str) -> Result<Tool, AdoptError> {
        let s = s.replace('_', "-");
        Tool::ALL
            .into_iter()
            .find(|t| t.as_str().replace('_', "-") == s)
            .ok_or_else(|| AdoptError::UnknownTool { name: s.clone() })
    }
}

/// The tools whose history table this database has. rusqlite_migration leaves no table, so it is only ever named.
pub(crate) fn present(conn: &Connection) -> Result<Vec<Tool>, Error> {
    // One read of sqlite_schema; a second only when a `schema_migrations` table needs telling apart.
    let names: Vec<String> = {
        let sql = "SELECT name FROM sqlite_schema WHERE type = 'table' AND name IN \
                   ('_sqlx_migrations', '__diesel_schema_migrations', 'refinery_schema_history', \
                   'flyway_schema_history', 'schema_migrations', 'goose_db_version')";
        let mut stmt = conn.prepare(sql).map_err(db)?;
        stmt.query_map([], |r| r.get(0))
            .map_err(db)?
            .collect::<Result<_, _>>()
            .map_err(db)?
    };
    let mut found = Vec::new();
    for tool in Tool::ALL {
        let Some(table) = tool.table() else { continue };
        if !names.iter().any(|n| n == table) {
            continue;
        }
        if table == "schema_migrations" {
            let dirty = has_column(conn, table, "dirty")?;
            if (tool == Tool::GolangMigrate) != dirty {
                continue;
            }
        }
        found.push(tool);
    }
    Ok(found)
}

/// The history tables of every tool, for `baseline`'s and `adopt`'s schema comparisons.
#[cfg(feature = "validate")]
pub(crate) fn tables_present(conn: &Connection) -> Result<Vec<&'static str>, Error> {
    Ok(present(conn)?.into_iter().filter_map(Tool::table).collect())
}

fn has_column(conn: &Connection, table: &str, column: &str) -> Result<bool, Error> {
    let sql = "SELECT count(*) FROM pragma_table_info(?1) WHERE name = ?2";
    conn.query_row(sql, [table, column], |r| r.get::<_, i64>(0))
        .map(|n| n > 0)
        .map_err(|e| Error::db("reading another tool's history table", None, e))
}

pub(super) fn db(e: rusqlite::Error) -> Error {
    Error::db("reading another tool's history table", None, e)
}
