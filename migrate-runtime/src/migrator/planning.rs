//! The launch check and the planning read: the `user_version` stamp outside any transaction, then, for a database
//! that is not answered by it, the newest history row, the whole history and the plan in one read transaction.

use super::execute::{Seen, data_version};
use super::{Migrator, requires};
use crate::backup as bk;
use crate::error::Error;
use crate::history::{HistoryTable, Newest, Row, Scan};
use crate::plan::{self, Action};
use crate::stamp;
use crate::status;
use litemigrate_core::Checksum;
use rusqlite::Connection;

/// What the planning read found.
pub(super) enum Read<'m> {
    /// At the target with the embedded chain: nothing to do.
    Current(u64),
    Plan(Planning<'m>),
}

/// A plan, the snapshot it was made in, and what that snapshot showed.
pub(super) struct Planning<'m> {
    /// `PRAGMA data_version` in the planning snapshot.
    pub(super) planned_at: i64,
    pub(super) actions: Vec<Action<'m>>,
    pub(super) current: u64,
    pub(super) seen: Seen,
}

/// A plan and what its history read saw.
pub(super) struct Planned<'m> {
    pub(super) actions: Vec<Action<'m>>,
    pub(super) current: u64,
    /// The history table exists.
    pub(super) table: bool,
    /// The set's newest history row: its version and chain.
    pub(super) newest: Option<(u64, litemigrate_core::Checksum)>,
}

impl<'m> Migrator<'m> {
    /// The launch check: the `user_version` stamp, else one indexed read of the newest history row. `Some(version)`
    /// when the database is exactly at the target with the embedded chain, i.e. nothing to do.
    pub(crate) fn fast_check(
        &self,
        conn: &Connection,
        table: &HistoryTable,
        target: u64,
    ) -> Result<Option<u64>, Error> {
        if self.stamp_current(conn, table, target)? {
            return Ok(Some(target));
        }
        self.row_check(conn, table, target)
    }

    /// The launch check's first half: `user_version` holds the stamp of the embedded chain at the target.
    fn stamp_current(&self, conn: &Connection, table: &HistoryTable, target: u64) -> Result<bool, Error> {
        let set = self.migrations.set_name();
        let Some(m) = self.migrations.get(target).filter(|_| self.header_stamp && target > 0) else {
            return Ok(false);
        };
        let stamp = stamp::value(
            &table.name,
            set,
            &stamp::stamp_chain(&m.chain(), self.migrations.repeat_digest()),
        );
        Ok(stamp::read(conn)? == stamp)
    }

    /// The launch check's second half, for a database without the stamp: the newest history row.
    fn row_check(&self, conn: &Connection, table: &HistoryTable, target: u64) -> Result<Option<u64>, Error> {
        let set = self.migrations.set_name();
        match table.newest(conn, set)? {
            Newest::NoTable | Newest::Empty => Ok((target == 0).then_some(0)),
            Newest::Row(v, chain) => {
                let up_to_date = u64::try_from(v).is_ok_and(|v| self.is_current_row(v, &chain, target));
                Ok(up_to_date.then_some(target))
            }
            Newest::Corrupt => Ok(None),
        }
    }

    /// Whether a newest history row at `version` with `chain` means "at the target with the embedded chain".
    fn is_current_row(&self, version: u64, chain: &Checksum, target: u64) -> bool {
        // With repeatables, only the stamp says they are current too: the run checks them.
        version == target
            && self.migrations.get(target).is_some_and(|m| m.chain() == *chain)
            && self.migrations.repeat_digest().is_none()
    }

    /// The launch check alone (a catalog makes it for each file before deciding whether anything needs a lock or a
    /// backup run): `Some(version)` when the database is at the target with the embedded chain.
    pub(crate) fn is_current(&self, conn: &Connection) -> Result<Option<u64>, Error> {
        let table = HistoryTable::new(&self.table)?;
        let target = self.resolve_target()?;
        self.fast_check(conn, &table, target)
            .map_err(|e| explain_unreadable(conn, e))
    }

    /// The launch check, then (with work to do) the plan, read in one snapshot.
    pub(super) fn plan_read(&self, conn: &Connection, table: &HistoryTable, target: u64) -> Result<Read<'m>, Error> {
        let set = self.migrations.set_name();
        // The stamp alone, outside any transaction: a current database costs one header read.
        if self
            .stamp_current(conn, table, target)
            .map_err(|e| explain_unreadable(conn, e))?
        {
            return Ok(Read::Current(target));
        }
        // Everything else is read in one read transaction: one shared lock and one look for a hot journal instead
        // of one per statement (a fleet pays them per file), and one snapshot, so the launch check's row,
        // `data_version`, the history and the checks below agree. If `data_version` is unchanged once the write
        // lock is held, no other connection committed since that snapshot: the plan stands without reading the
        // history again, and so do the facts in `seen`. A caller already inside a transaction (a dry run in its own
        // read) plans in that one.
        let read = match conn.is_autocommit() {
            true => Some(
                conn.unchecked_transaction()
                    .map_err(|e| Error::db("starting the planning read (BEGIN)", None, e))?,
            ),
            false => None,
        };
        let c: &Connection = read.as_deref().unwrap_or(conn);
        // The launch check's row and the plan's history in one statement, from the newest row down: it stops there
        // when that row says the database is current (what `row_check` decides from the same two columns).
        let scan = table
            .scan_from_newest(c, set, |version, chain| self.is_current_row(version, chain, target))
            .map_err(|e| explain_unreadable(c, e))?;
        let rows = match scan {
            Scan::Enough => {
                if let Some(read) = read {
                    read.commit()
                        .map_err(|e| Error::db("ending the planning read (COMMIT)", None, e))?;
                }
                return Ok(Read::Current(target));
            }
            Scan::NoTable if target == 0 => return Ok(Read::Current(0)),
            Scan::All(rows) if rows.is_empty() && target == 0 => return Ok(Read::Current(0)),
            Scan::NoTable => None,
            Scan::All(rows) => Some(rows),
        };
        // Only now, with work to do: a current replica launches as fast as a primary.
        if !self.dry_run && self.refuse_replica {
            crate::replica::refuse_on_replica(c)?;
        }
        let planned_at = data_version(c)?;
        let planned = self.plan_rows(c, table, target, rows)?;
        let (actions, current) = (planned.actions, planned.current);
        let seen = Seen {
            table: planned.table,
            newest: planned.newest.as_ref().map(|(v, _)| *v),
            stamp_owned: match (self.header_stamp, self.migrations.repeatables().is_empty()) {
                (false, _) => Some(None),
                (true, true) => {
                    let newest = planned.newest.as_ref().map(|(_, chain)| chain);
                    Some(stamp::owned_given(stamp::read(c)?, table, set, newest, &[]))
                }
                // The repeatables' digests are one more read: the unit makes it.
                (true, false) => None,
            },
        };
        if self.set_requires {
            requires::check(c, table, self.migrations.set_name(), &actions)?;
        }
        // Only here, never on the launch fast path: a run from version 1 ahead and no history table of ours at
        // all (a database rolled back to 0 after `adopt` keeps the table, and the other tool's, and may migrate).
        if current == 0 && !actions.is_empty() && !seen.table {
            crate::adopt::refuse_foreign_history(c)?;
        }
        if let Some(read) = read {
            // Nothing was written: ending it releases the snapshot.
            read.commit()
                .map_err(|e| Error::db("ending the planning read (COMMIT)", None, e))?;
        }
        Ok(Read::Plan(Planning {
            planned_at,
            actions,
            current,
            seen,
        }))
    }

    /// Reads the whole history and decides what to do.
    pub(super) fn plan_now(&self, conn: &Connection, table: &HistoryTable, target: u64) -> Result<Planned<'m>, Error> {
        let rows = table.read_all(conn, self.migrations.set_name())?;
        self.plan_rows(conn, table, target, rows)
    }

    /// Decides what to do from the history `rows` (oldest first; `None`: no history table).
    fn plan_rows(
        &self,
        conn: &Connection,
        table: &HistoryTable,
        target: u64,
        rows: Option<Vec<Row>>,
    ) -> Result<Planned<'m>, Error> {
        let exists = rows.is_some();
        let rows = rows.unwrap_or_default();
        // Ordered by version: the last row is the one `HistoryTable::newest` reads.
        let newest = rows.last().map(|r| (r.version, r.chain));
        let c = status::classify(self.migrations, rows);
        let actions = self.planner().decide(conn, table, &c, target)?;
        plan::refuse_history_writes(&actions, table)?;
        Ok(Planned {
            actions,
            current: c.current,
            table: exists,
            newest,
        })
    }
}

/// SQLite refuses a database that an in-place restore was writing when it was interrupted ("file is not a
/// database"); say that instead, with the backups that finish it (`backup::restore`). Looked at only after a failure,
/// so the launch check pays nothing for it.
fn explain_unreadable(conn: &Connection, e: Error) -> Error {
    let Error::Database { source, .. } = &e else {
        return e;
    };
    if crate::error::sqlite_code(source) != Some(rusqlite::ErrorCode::NotADatabase) {
        return e;
    }
    match bk::db_file(conn) {
        Some(path) if matches!(bk::inplace::is_torn(&path), Ok(true)) => Error::Backup(bk::inplace::interrupted(
            &path,
            "found when the launch check read the database".into(),
        )),
        _ => e,
    }
}
