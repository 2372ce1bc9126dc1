//! `PRAGMA user_version` as a shortcut for the launch check.
//!
//! The launch check reads the newest history row, and the first statement that names any table makes SQLite read
//! and parse the whole schema: milliseconds for an application with a few thousand objects, against microseconds
//! for opening the file. `user_version` lives in the database header, and reading it parses nothing. So every
//! transaction that changes this set's history also writes a 32-bit stamp of the newest row's chain value (and of
//! the set and history table names) into `user_version`, before it commits. At launch, a stamp equal to the stamp of
//! the embedded chain at the target means "up to date" without reading a table; any other value falls through to the
//! history read, which stays the source of truth. The chain covers every applied migration's checksum, so the
//! shortcut checks the whole history as the row read does, with a 1-in-2³² chance that an unrelated value matches.
//!
//! `user_version` belongs to the application. It is written only when it is 0 or holds the stamp this set wrote for
//! its newest row, so an application (or rusqlite_migration, before the switch) that keeps its own number there keeps
//! it, and only loses the shortcut. [`crate::Migrator::header_stamp`] turns reading and writing off.

use crate::error::Error;
use crate::history::{HistoryTable, Newest};
use litemigrate_core::Checksum;
pub(crate) use litemigrate_core::repeatable::stamp_chain;
use rusqlite::Connection;
use sha2::{Digest, Sha256};

/// The stamp for a set whose newest history row has `chain`. Never 0, which means "unclaimed".
pub(crate) fn value(table: &str, set: &str, chain: &Checksum) -> i32 {
    let mut h = Sha256::new();
    // Length-prefixed, so ("a", "bc") and ("ab", "c") differ.
    for part in [table.as_bytes(), set.as_bytes()] {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part);
    }
    h.update(chain.as_bytes());
    let d = h.finalize();
    let v = i32::from_le_bytes([d[0], d[1], d[2], d[3]]);
    if v == 0 { 1 } else { v }
}

/// `PRAGMA main.user_version`: read from the header, without loading the schema.
pub(crate) fn read(conn: &Connection) -> Result<i32, Error> {
    conn.query_row("PRAGMA main.user_version", [], |r| r.get(0))
        .map_err(|e| Error::db("reading PRAGMA user_version", None, e))
}

/// Whether this set may write `user_version`: it is 0, or it holds the stamp of the set's newest history row.
/// `Some(value read)` when it may, so the caller can see whether its migrations changed it meanwhile
/// ([`still_ours`]).
/// `digests`: the repeatables digests a covering stamp of this set may have been written with
/// (`crate::repeat::stamp_digests`; empty for a set without repeatables).
pub(crate) fn owned(
    conn: &Connection,
    table: &HistoryTable,
    set: &str,
    digests: &[Checksum],
) -> Result<Option<i32>, Error> {
    let current = read(conn)?;
    if current == 0 {
        return Ok(Some(0));
    }
    let newest = match table.newest(conn, set)? {
        Newest::Row(_, chain) => Some(chain),
        Newest::NoTable | Newest::Empty | Newest::Corrupt => None,
    };
    Ok(owned_given(current, table, set, newest.as_ref(), digests))
}

/// [`owned`] from values already read in the same transaction: `current`, the `user_version` read, and `newest`,
/// the chain of the set's newest history row (`None`: no row, or a corrupt one).
pub(crate) fn owned_given(
    current: i32,
    table: &HistoryTable,
    set: &str,
    newest: Option<&Checksum>,
    digests: &[Checksum],
) -> Option<i32> {
    if current == 0 {
        return Some(0);
    }
    let ours = newest.is_some_and(|chain| {
        current == value(&table.name, set, chain)
            || digests
                .iter()
                .any(|d| current == value(&table.name, set, &stamp_chain(chain, Some(d))))
    });
    ours.then_some(current)
}

/// Whether `user_version` still holds `before`, the value [`owned`] read at the start of the transaction. A
/// migration that sets `PRAGMA user_version` itself makes the value the application's: the stamp must not
/// overwrite it then (and [`owned`] says no from then on, as the value is neither 0 nor a stamp).
pub(crate) fn still_ours(conn: &Connection, before: Option<i32>) -> Result<bool, Error> {
    match before {
        Some(v) => Ok(read(conn)? == v),
        None => Ok(false),
    }
}

/// Sets `user_version` to the stamp of the set's newest history row (0 once the set has no rows). Call inside the
/// transaction that changed the history, after [`owned`] said yes at its start.
pub(crate) fn write(conn: &Connection, table: &HistoryTable, set: &str) -> Result<(), Error> {
    write_covering(conn, table, set, None)
}

/// [`write`], covering the set's repeatables (`digest`) too: call only once they are current.
pub(crate) fn write_covering(
    conn: &Connection,
    table: &HistoryTable,
    set: &str,
    digest: Option<&Checksum>,
) -> Result<(), Error> {
    let v = match table.newest(conn, set)? {
        Newest::Row(_, chain) => value(&table.name, set, &stamp_chain(&chain, digest)),
        // A corrupt newest row: clear the stamp, so launches read the history and report it.
        Newest::NoTable | Newest::Empty | Newest::Corrupt => 0,
    };
    set_user_version(conn, v)
}

/// [`write`] when the caller knows the chain of the set's newest row (it has just inserted that row, above every
/// other version), which saves reading it back.
pub(crate) fn write_known(conn: &Connection, table: &HistoryTable, set: &str, newest: &Checksum) -> Result<(), Error> {
    set_user_version(conn, value(&table.name, set, newest))
}

fn set_user_version(conn: &Connection, v: i32) -> Result<(), Error> {
    // An integer formatted into the statement: PRAGMA takes no bound parameters.
    conn.execute_batch(&format!("PRAGMA main.user_version = {v}"))
        .map_err(|e| Error::db("writing PRAGMA user_version", None, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_depend_on_every_input_and_are_never_zero() {
        let a = Checksum([1; 32]);
        let b = Checksum([2; 32]);
        let base = value("_migrations", "default", &a);
        assert_ne!(base, 0);
        assert_ne!(base, value("_migrations", "default", &b));
        assert_ne!(base, value("_history", "default", &a));
        assert_ne!(base, value("_migrations", "other", &a));
        assert_ne!(value("a", "bc", &a), value("ab", "c", &a));
        assert_eq!(base, value("_migrations", "default", &a));
    }

    /// Databases in the field hold stamps: a new formula would make every one of them look application-owned, and
    /// the shortcut would never be written again. The value was computed independently (Python's hashlib).
    #[test]
    fn the_formula_is_pinned() {
        assert_eq!(value("_migrations", "default", &Checksum([1; 32])), -522472451);
    }
}
