//! Repeatable migrations at run time (see `litemigrate_core::repeatable`): applied after the versioned migrations
//! of a run, in name order, when their checksum differs from the one last applied (all of them after a rollback),
//! and recorded in the history table.
//!
//! History rows: the same table, keyed by set name `<set>#repeatable` (so the launch read of the set's newest
//! versioned row, and older binaries reading the set, never see them), `kind` = `repeatable`, `version` a sequence
//! number (one row per application), `name` the repeatable's name, `checksum` (and `chain`) its checksum. The latest
//! row per name is what was last applied.
//!
//! The launch stamp covers them: once they are current, `user_version` holds the stamp of
//! `litemigrate_core::repeatable::stamp_chain(newest chain, digest of the embedded repeatables)`, which is what the
//! launch check compares with; the versioned units write the plain stamp, so a run interrupted between the two
//! phases is noticed at the next launch.

use crate::error::{At, Error};
use crate::history::{self, HistoryTable, Kind, NewRow, Row};
use crate::stamp;
use crate::table::Migrations;
use litemigrate_core::Checksum;
use rusqlite::{Connection, TransactionBehavior};
use std::borrow::Cow;
use std::time::Instant;

/// One repeatable migration of a set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repeatable {
    name: Cow<'static, str>,
    file: Cow<'static, str>,
    sql: Cow<'static, str>,
    checksum: Checksum,
}

impl Repeatable {
    /// Used by `embed_migrations!`; not a stable API.
    #[doc(hidden)]
    pub const fn __embedded(name: &'static str, file: &'static str, sql: &'static str, checksum: [u8; 32]) -> Self {
        Repeatable {
            name: Cow::Borrowed(name),
            file: Cow::Borrowed(file),
            sql: Cow::Borrowed(sql),
            checksum: Checksum(checksum),
        }
    }

    pub(crate) fn from_loaded(r: litemigrate_core::repeatable::Repeatable) -> Self {
        Repeatable {
            name: Cow::Owned(r.name),
            file: Cow::Owned(r.path),
            sql: Cow::Owned(r.sql),
            checksum: r.checksum,
        }
    }

    /// The name after `R__`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The file as the build named it.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The SQL it runs.
    pub fn sql(&self) -> &str {
        &self.sql
    }

    /// SHA-256 of the normalized file.
    pub fn checksum(&self) -> Checksum {
        self.checksum
    }

    fn at(&self) -> At {
        At {
            version: 0,
            name: self.name.to_string(),
            file: self.file.to_string(),
        }
    }
}

/// Where one repeatable migration stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum RepeatableState {
    /// Applied with the embedded checksum.
    Current,
    /// Applied before, with another checksum: it runs again at the next migrate.
    Changed,
    /// Never applied.
    New,
}

/// One repeatable migration in a [`crate::Status`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct RepeatableEntry {
    /// Its name.
    pub name: String,
    /// Its file.
    pub file: String,
    /// Where it stands.
    pub state: RepeatableState,
    /// When it was last applied, UTC RFC 3339.
    pub applied_at: Option<String>,
}

/// The history key of a set's repeatable rows.
pub(crate) fn history_set(set: &str) -> String {
    format!("{set}#repeatable")
}

/// The latest row of each name (rows come oldest first).
fn latest<'r>(rows: &'r [Row], name: &str) -> Option<&'r Row> {
    rows.iter().rev().find(|r| r.name == name)
}

/// Where each embedded repeatable stands (empty when the set has none).
pub(crate) fn entries(conn: &Connection, table: &HistoryTable, m: &Migrations) -> Result<Vec<RepeatableEntry>, Error> {
    if m.repeatables().is_empty() {
        return Ok(Vec::new());
    }
    let rows = table.read_all(conn, &history_set(m.set_name()))?.unwrap_or_default();
    Ok(m.repeatables()
        .iter()
        .map(|r| {
            let last = latest(&rows, r.name());
            RepeatableEntry {
                name: r.name().to_owned(),
                file: r.file().to_owned(),
                state: match last {
                    Some(l) if l.checksum == r.checksum() => RepeatableState::Current,
                    Some(_) => RepeatableState::Changed,
                    None => RepeatableState::New,
                },
                applied_at: last.map(|l| l.applied_at.clone()),
            }
        })
        .collect())
}

/// The names [`apply`] would run now (read-only: for dry runs).
pub(crate) fn pending(
    conn: &Connection,
    table: &HistoryTable,
    m: &Migrations,
    all: bool,
) -> Result<Vec<String>, Error> {
    Ok(entries(conn, table, m)?
        .into_iter()
        .filter(|e| all || e.state != RepeatableState::Current)
        .map(|e| e.name)
        .collect())
}

/// The digests a covering stamp of this set may have been written with: the embedded repeatables' (current), and,
/// from the history, the embedded names with the checksums last applied (one of them was edited since) and every
/// recorded name with its last checksum (one was added or removed since). Empty for a set without repeatables, so
/// such a set reads nothing more.
pub(crate) fn stamp_digests(conn: &Connection, table: &HistoryTable, m: &Migrations) -> Result<Vec<Checksum>, Error> {
    if m.repeatables().is_empty() {
        return Ok(Vec::new());
    }
    let rows = table.read_all(conn, &history_set(m.set_name()))?.unwrap_or_default();
    Ok(digests_of(m, &rows))
}

fn digests_of(m: &Migrations, rows: &[Row]) -> Vec<Checksum> {
    let embedded: Vec<(&str, Checksum)> = m
        .repeatables()
        .iter()
        .filter_map(|r| latest(rows, r.name()).map(|l| (r.name(), l.checksum)))
        .collect();
    let mut recorded: Vec<(&str, Checksum)> = Vec::new();
    for r in rows {
        match recorded.iter_mut().find(|(n, _)| *n == r.name) {
            Some(slot) => slot.1 = r.checksum,
            None => recorded.push((&r.name, r.checksum)),
        }
    }
    recorded.sort_by(|a, b| a.0.cmp(b.0));
    let digest = litemigrate_core::repeatable::digest;
    m.repeat_digest()
        .copied()
        .into_iter()
        .chain(digest(&embedded))
        .chain(digest(&recorded))
        .collect()
}

/// Applies the repeatables that changed (every one when `all`), under `BEGIN IMMEDIATE`, and returns the names
/// applied. The rows are read under the lock, so of two launchers only the first applies anything. Ends by writing
/// the stamp that covers the repeatables, when `user_version` is this set's.
pub(crate) fn apply(
    conn: &mut Connection,
    table: &HistoryTable,
    m: &Migrations,
    header_stamp: bool,
    all: bool,
) -> Result<Vec<String>, Error> {
    if m.repeatables().is_empty() {
        return Ok(Vec::new());
    }
    let set = m.set_name();
    let key = history_set(set);
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| Error::db("taking the write lock (BEGIN IMMEDIATE)", None, e))?;
    table.create(&tx)?;
    let rows = table.read_all(&tx, &key)?.unwrap_or_default();
    let stamp_before = if header_stamp {
        stamp::owned(&tx, table, set, &digests_of(m, &rows))?
    } else {
        None
    };
    let mut seq = rows.last().map_or(0, |r| r.version);
    let mut applied = Vec::new();
    let mut new_rows = Vec::new();
    for r in m.repeatables() {
        if !all && latest(&rows, r.name()).is_some_and(|l| l.checksum == r.checksum()) {
            continue;
        }
        let start = Instant::now();
        for st in litemigrate_core::split::statements(r.sql()) {
            tx.execute_batch(st.sql)
                .map_err(|e| Error::statement(r.at(), st.line, false, e))?;
        }
        seq += 1;
        new_rows.push(NewRow {
            version: seq,
            name: r.name(),
            file: r.file(),
            checksum: r.checksum(),
            chain: r.checksum(),
            applied_at: history::now(),
            duration_us: u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX),
            kind: Kind::Repeatable,
            down_sql: None,
        });
        applied.push(r.name().to_owned());
    }
    table.insert(&tx, &key, &new_rows)?;
    if stamp::still_ours(&tx, stamp_before)? {
        stamp::write_covering(&tx, table, set, m.repeat_digest())?;
    }
    tx.commit().map_err(|e| Error::db("committing", None, e))?;
    Ok(applied)
}
