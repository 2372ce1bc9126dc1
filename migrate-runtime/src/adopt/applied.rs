//! What another tool's history table says was applied (feature `validate`: only the adoption reads it).

use super::AdoptError;
use super::peers::{Tool, db};
use crate::error::Error;
use rusqlite::Connection;

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
