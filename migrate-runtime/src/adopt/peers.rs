//! The other tools' history tables: which tool a database was migrated by, and what it says was applied.
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
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

/// What a stored checksum is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Stored {
    Sha384(Vec<u8>),
    SipHash(u64),
    Crc32(i32),
}

/// One migration the other tool recorded as applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PeerRow {
    /// The version as this library keeps it.
    pub version: u64,
    /// The version as the tool stored it.
    pub text: String,
    /// Its checksum, when the tool keeps one.
    pub checksum: Option<Stored>,
    /// The tool marked it failed (sqlx `success = false`, Flyway `success = 0`, golang-migrate `dirty`).
    pub failed: bool,
}

/// What the tool says was applied.
pub(crate) enum Applied {
    /// These versions.
    Rows(Vec<PeerRow>),
    /// Every migration up to this version (golang-migrate keeps only the current one).
    UpTo(PeerRow),
    /// The first n migrations (rusqlite_migration's `user_version`).
    Count(u64),
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

/// The history tables of every tool, for the launch check and `baseline`'s comparison.
pub(crate) fn tables_present(conn: &Connection) -> Result<Vec<&'static str>, Error> {
    Ok(present(conn)?.into_iter().filter_map(Tool::table).collect())
}

fn has_column(conn: &Connection, table: &str, column: &str) -> Result<bool, Error> {
    let sql = "SELECT count(*) FROM pragma_table_info(?1) WHERE name = ?2";
    conn.query_row(sql, [table, column], |r| r.get::<_, i64>(0))
        .map(|n| n > 0)
        .map_err(|e| Error::db("reading another tool's history table", None, e))
}

fn db(e: rusqlite::Error) -> Error {
    Error::db("reading another tool's history table", None, e)
}

fn version(tool: Tool, text: String) -> Result<u64, AdoptError> {
    let n = match tool {
        Tool::Diesel => litemigrate_core::layouts::diesel::number_of(&text).ok(),
        _ => text.trim().parse::<u64>().ok().filter(|v| *v > 0),
    };
    n.ok_or(AdoptError::BadVersion { tool, version: text })
}

/// One row as read: the version text, the stored checksum, whether it failed.
type RawRow = (String, Option<Stored>, bool);

/// Reads what `tool` recorded.
pub(crate) fn read(conn: &Connection, tool: Tool) -> Result<Applied, Error> {
    let rows = |sql: &str, f: &dyn Fn(&rusqlite::Row<'_>) -> rusqlite::Result<RawRow>| {
        let mut stmt = conn.prepare(sql).map_err(db)?;
        let raw: Vec<RawRow> = stmt
            .query_map([], |r| f(r))
            .map_err(db)?
            .collect::<Result<_, _>>()
            .map_err(db)?;
        raw.into_iter()
            .map(|(text, checksum, failed)| {
                Ok(PeerRow {
                    version: version(tool, text.clone())?,
                    text,
                    checksum,
                    failed,
                })
            })
            .collect::<Result<Vec<_>, AdoptError>>()
            .map_err(Error::from)
    };
    let text = |r: &rusqlite::Row<'_>, i: usize| -> rusqlite::Result<String> {
        Ok(match r.get_ref(i)? {
            rusqlite::types::ValueRef::Integer(n) => n.to_string(),
            rusqlite::types::ValueRef::Real(x) => x.to_string(),
            v => String::from_utf8_lossy(v.as_bytes().unwrap_or_default()).into_owned(),
        })
    };
    Ok(match tool {
        Tool::Sqlx => Applied::Rows(rows(
            "SELECT version, checksum, success FROM _sqlx_migrations ORDER BY version",
            &|r| Ok((text(r, 0)?, Some(Stored::Sha384(r.get(1)?)), !r.get::<_, bool>(2)?)),
        )?),
        Tool::Diesel => Applied::Rows(rows("SELECT version FROM __diesel_schema_migrations", &|r| {
            Ok((text(r, 0)?, None, false))
        })?),
        Tool::Refinery => Applied::Rows(rows(
            "SELECT version, checksum FROM refinery_schema_history ORDER BY version",
            &|r| {
                let sum = text(r, 1)?.trim().parse::<u64>().ok().map(Stored::SipHash);
                Ok((text(r, 0)?, sum, false))
            },
        )?),
        Tool::Flyway => Applied::Rows(rows(
            "SELECT version, checksum, success FROM flyway_schema_history \
             WHERE version IS NOT NULL AND type <> 'UNDO_SQL' ORDER BY installed_rank",
            &|r| {
                let sum = r
                    .get::<_, Option<i64>>(1)?
                    .and_then(|c| i32::try_from(c).ok())
                    .map(Stored::Crc32);
                Ok((text(r, 0)?, sum, !r.get::<_, bool>(2)?))
            },
        )?),
        Tool::Dbmate => Applied::Rows(rows("SELECT version FROM schema_migrations", &|r| {
            Ok((text(r, 0)?, None, false))
        })?),
        Tool::GolangMigrate => {
            let mut all = rows("SELECT version, dirty FROM schema_migrations", &|r| {
                Ok((text(r, 0)?, None, r.get::<_, bool>(1)?))
            })?;
            match all.pop() {
                Some(row) => Applied::UpTo(row),
                None => Applied::Rows(Vec::new()),
            }
        }
        Tool::Goose => {
            // Rows in order; the last one for a version says whether it is applied now.
            let all = rows(
                "SELECT version_id, is_applied FROM goose_db_version WHERE version_id <> 0 ORDER BY id",
                &|r| Ok((text(r, 0)?, None, !r.get::<_, bool>(1)?)),
            )?;
            let mut applied: Vec<PeerRow> = Vec::new();
            for row in all {
                applied.retain(|a| a.version != row.version);
                // `failed` carried "is_applied = false" here: a row that was rolled back is not applied.
                if !row.failed {
                    applied.push(row);
                }
            }
            applied.sort_by_key(|r| r.version);
            Applied::Rows(applied)
        }
        Tool::RusqliteMigration => {
            let n: i64 = conn
                .query_row("PRAGMA main.user_version", [], |r| r.get(0))
                .map_err(db)?;
            Applied::Count(u64::try_from(n).unwrap_or(0))
        }
    })
}
