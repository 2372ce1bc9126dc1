//! Applying a plan: unit by unit under `BEGIN IMMEDIATE` (or, for a `no-transaction` migration, under the lock
//! file), re-planning when another connection committed meanwhile, and recording failures afterwards. See the
//! parent module's docs for the locking and foreign-key rules.

use super::{Applied, Migrator, Mode};
use crate::error::{At, Error, FkViolation};
use crate::history::{self, HistoryTable, Kind, NewRow};
use crate::plan::{self, Action, Direction};
use crate::stamp;
use crate::table::{CodeFn, Down, Up};
use crate::trace;
use litemigrate_core::lex::Keyword;
use litemigrate_core::split::Statement;
use rusqlite::{Connection, Transaction, TransactionBehavior};
use std::time::Instant;

/// What the planning read saw, handed to the first unit only. While `PRAGMA data_version` under the write lock equals
/// the plan's, no other connection has committed since that read, so these still hold and the unit need not read
/// them again (a fleet pays every statement once per database, each a new connection with nothing prepared).
#[derive(Clone, Copy, Debug)]
pub(super) struct Seen {
    /// The history table exists: `CREATE TABLE IF NOT EXISTS` would do nothing.
    pub(super) table: bool,
    /// The version of the set's newest history row (`None`: no row).
    pub(super) newest: Option<u64>,
    /// What [`stamp::owned`] answers in that snapshot; `None` when it was not worked out.
    pub(super) stamp_owned: Option<Option<i32>>,
}

/// One transactional unit of the current plan.
struct Unit<'a> {
    table: &'a HistoryTable,
    /// The unit's actions, in order: a slice of the plan.
    actions: &'a [Action<'a>],
    /// Some action of the unit is `foreign-keys=off`: enforcement is off around it and checked before commit.
    fk_off: bool,
    /// What the planning read saw, for the run's first unit (see [`Seen`]).
    seen: Option<Seen>,
}

enum UnitOutcome {
    Done(Vec<Applied>),
    /// Someone else committed since the plan was made; re-plan.
    Stale,
}

/// The migration a failure is recorded against in the failures table.
struct Blame {
    at: At,
    direction: Direction,
}

impl Blame {
    fn of(a: &Action) -> Blame {
        Blame {
            at: a.at(),
            direction: a.direction(),
        }
    }
}

/// A unit that failed: the error, and the migration to record it against when it was a migration's fault (or the
/// environment failed while one ran). Taking the lock or reading `data_version` blames nobody.
struct UnitFailure {
    error: Error,
    blame: Option<Blame>,
}

impl From<Error> for UnitFailure {
    fn from(error: Error) -> Self {
        UnitFailure { error, blame: None }
    }
}

impl<'m> Migrator<'m> {
    /// Applies the actions unit by unit, re-reading the state whenever a lock is taken and someone else may have
    /// written since.
    pub(super) fn execute(
        &self,
        conn: &mut Connection,
        table: &HistoryTable,
        target: u64,
        mut actions: Vec<Action<'m>>,
        planned_at: i64,
        seen_at_plan: Option<Seen>,
    ) -> Result<Vec<Applied>, Error> {
        let per_migration = self.mode == Mode::PerMigration;
        let mut applied = Vec::new();
        // The `PRAGMA data_version` the current plan was made at; a different value under a lock means another
        // connection committed in between, and the history is read again.
        let mut seen = planned_at;
        // Only the first unit runs in the planning read's state: every later one follows a commit (ours, which
        // changed the history) or a re-plan (someone else's).
        let mut seen_at_plan = seen_at_plan;
        let mut pos = 0;
        let mut replans = 0;
        while pos < actions.len() {
            let end = plan::unit_end(&actions, pos, per_migration);
            let first = seen_at_plan.take();
            let outcome = if actions[pos].no_transaction() {
                self.lone_unit(conn, table, &actions[pos], &mut seen)
            } else {
                let unit = Unit {
                    table,
                    actions: &actions[pos..end],
                    fk_off: actions[pos..end].iter().any(Action::foreign_keys_off),
                    seen: first,
                };
                self.fk_unit(conn, &unit, &mut seen)
            };
            match outcome {
                Ok(UnitOutcome::Done(mut done)) => {
                    applied.append(&mut done);
                    pos = end;
                }
                Ok(UnitOutcome::Stale) => {
                    replans += 1;
                    trace::retry(
                        "another connection committed before the write lock: plan read again",
                        replans,
                    );
                    actions = self.plan_now(conn, table, target)?.actions;
                    pos = 0;
                }
                Err(UnitFailure { error, blame }) => {
                    let error = error.with_sqlite_versions(self.migrations.build_sqlite_version());
                    if let Some(b) = blame {
                        let set = self.migrations.set_name();
                        let _ = table.record_failure(conn, set, &b.at, b.direction, &error.to_string());
                    }
                    return Err(error);
                }
            }
        }
        Ok(applied)
    }

    /// A `no-transaction` migration, under the lock file.
    fn lone_unit(
        &self,
        conn: &mut Connection,
        table: &HistoryTable,
        a: &Action,
        seen: &mut i64,
    ) -> Result<UnitOutcome, UnitFailure> {
        let _lock = lock_file(conn, &a.at())?;
        let dv = data_version(conn)?;
        if *seen != dv {
            *seen = dv;
            return Ok(UnitOutcome::Stale);
        }
        let done = self.run_no_tx(conn, table, a).map_err(|error| UnitFailure {
            error,
            blame: Some(Blame::of(a)),
        })?;
        self.step_done(&done);
        *seen = data_version(conn)?;
        Ok(UnitOutcome::Done(vec![done]))
    }

    /// A transactional unit, with foreign keys turned off around it when one of its migrations asks for that
    /// (`PRAGMA foreign_keys` is a no-op inside a transaction) and turned back on whatever happened.
    fn fk_unit(&self, conn: &mut Connection, unit: &Unit<'_>, seen: &mut i64) -> Result<UnitOutcome, UnitFailure> {
        let restore_fk = if unit.fk_off { foreign_keys_off(conn)? } else { false };
        let result = self.run_unit(conn, unit, seen);
        if restore_fk {
            // Restore even after a failure; report the first error.
            let restored = conn
                .execute_batch("PRAGMA foreign_keys = ON")
                .map_err(|e| Error::db("restoring PRAGMA foreign_keys", None, e));
            if result.is_ok() {
                restored?;
            }
        }
        result
    }

    /// One transactional unit: `BEGIN IMMEDIATE`, the staleness check, the steps, their history rows, the foreign
    /// key check, the stamp, `COMMIT`.
    fn run_unit(&self, conn: &mut Connection, unit: &Unit<'_>, seen: &mut i64) -> Result<UnitOutcome, UnitFailure> {
        let set = self.migrations.set_name();
        let table = unit.table;
        let asked = Instant::now();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| Error::db("taking the write lock (BEGIN IMMEDIATE)", None, e))?;
        // invariant: a unit holds at least one action (`plan::unit_end` returns more than its start).
        trace::write_lock(&unit.actions[0], asked.elapsed());
        let dv = data_version(&tx)?;
        if *seen != dv {
            *seen = dv;
            // Dropping the transaction rolls it back; nothing was written.
            return Ok(UnitOutcome::Stale);
        }
        if !unit.seen.is_some_and(|s| s.table) {
            table.create(&tx)?;
        }
        let stamp_before = match unit.seen.and_then(|s| s.stamp_owned) {
            Some(owned) => owned,
            None if self.header_stamp => stamp::owned(
                &tx,
                table,
                set,
                &crate::repeat::stamp_digests(&tx, table, self.migrations)?,
            )?,
            None => None,
        };
        let (done, new_rows, header) = self.run_steps(&tx, unit)?;
        let newest_after = newest_inserted(unit, &new_rows);
        // Every schema change expires prepared statements, so a cached one-row insert between migrations would be
        // re-prepared once per migration; one multi-row insert at the end of the unit is prepared once.
        table.insert(&tx, set, &new_rows).map_err(|error| {
            let blame = error.migration().cloned().map(|at| Blame {
                at,
                direction: Direction::Up,
            });
            UnitFailure { error, blame }
        })?;
        if unit.fk_off {
            check_foreign_keys(&tx, unit.actions)?;
        }
        // A migration of the unit that set `user_version` made it the application's: leave it.
        // Only a PRAGMA (or code) can have changed `user_version` since it was read.
        let ours = match stamp_before {
            Some(_) if !header => true,
            before => stamp::still_ours(&tx, before)?,
        };
        if ours {
            match newest_after {
                Some(chain) => stamp::write_known(&tx, table, set, &chain)?,
                None => stamp::write(&tx, table, set)?,
            }
        }
        // invariant: a unit holds at least one action (`plan::unit_end` returns more than its start).
        let last = unit.actions[unit.actions.len() - 1].at();
        tx.commit().map_err(|e| UnitFailure {
            error: Error::db("committing", Some(last.clone()), e),
            // Recorded as `up` whatever the unit's direction, as it always has been.
            blame: Some(Blame {
                at: last,
                direction: Direction::Up,
            }),
        })?;
        Ok(UnitOutcome::Done(done))
    }

    /// Runs the unit's steps inside `tx`. Down steps delete their history row at once; the rows of up steps are
    /// returned, to be inserted together after the unit's statements, with whether a step may have set
    /// `user_version` (a `PRAGMA` statement, or code).
    fn run_steps<'u>(
        &self,
        tx: &Transaction<'_>,
        unit: &Unit<'u>,
    ) -> Result<(Vec<Applied>, Vec<NewRow<'u>>, bool), UnitFailure> {
        let set = self.migrations.set_name();
        let mut done = Vec::with_capacity(unit.actions.len());
        let mut new_rows = Vec::with_capacity(unit.actions.len());
        let mut header = false;
        for a in unit.actions {
            let span = trace::step(set, a);
            let body = Body::of(a);
            header |= body.may_set_user_version();
            let guarded = body.may_leave_transaction();
            if guarded {
                open_step_guard(tx, a)?;
            }
            let step = run_body(tx, Some(tx), a, &body).and_then(|us| {
                close_step_guard(tx, a, guarded)?;
                match a {
                    Action::Up(m) => new_rows.push(NewRow::of(m, Kind::ran(m), history::now(), us)),
                    _ => record(tx, unit.table, set, a, us)?,
                }
                Ok(us)
            });
            let us = step.map_err(|error| UnitFailure {
                error,
                blame: Some(Blame::of(a)),
            })?;
            span.done(us);
            let a = applied_of(a, us);
            self.step_done(&a);
            done.push(a);
        }
        Ok((done, new_rows, header))
    }

    fn run_no_tx(&self, conn: &mut Connection, table: &HistoryTable, a: &Action) -> Result<Applied, Error> {
        let set = self.migrations.set_name();
        let span = trace::step(set, a);
        // The history table must exist before the statement runs, so the row can follow it.
        table.create(conn)?;
        let us = run_body(conn, None, a, &Body::of(a))?;
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| Error::db("taking the write lock (BEGIN IMMEDIATE)", Some(a.at()), e))?;
        // Read after the migration ran: one that set `user_version` itself has made it the application's.
        let stamp = self.header_stamp
            && stamp::owned(
                &tx,
                table,
                set,
                &crate::repeat::stamp_digests(&tx, table, self.migrations)?,
            )?
            .is_some();
        record(&tx, table, set, a, us)?;
        if stamp {
            stamp::write(&tx, table, set)?;
        }
        tx.commit().map_err(|e| Error::db("committing", Some(a.at()), e))?;
        span.done(us);
        Ok(applied_of(a, us))
    }
}

/// The chain of the set's newest history row once `new_rows` are in, when that is known without reading it back: a
/// unit of ups only, its rows in rising versions, the last one above the newest row the planning read saw.
fn newest_inserted(unit: &Unit<'_>, new_rows: &[NewRow<'_>]) -> Option<litemigrate_core::Checksum> {
    let seen = unit.seen?;
    let last = new_rows.last()?;
    let ups_only = new_rows.len() == unit.actions.len() && unit.actions.iter().all(|a| matches!(a, Action::Up(_)));
    let rising = new_rows.windows(2).all(|w| w[0].version < w[1].version);
    (ups_only && rising && seen.newest.is_none_or(|v| last.version > v)).then_some(last.chain)
}

/// The savepoint around a step of a transactional unit that may end the runner's transaction: code, or SQL with a
/// statement that starts with transaction control ([`Statement::controls_transaction`]). Such a step (`COMMIT`,
/// `END`, `ROLLBACK`, even followed by a new `BEGIN`) also ends this savepoint, which is how [`close_step_guard`]
/// notices; the loader refuses such SQL, this catches code migrations and sets built without it. Other SQL steps
/// cannot leave the transaction and go without it (two statements less per step).
const STEP_GUARD: &str = "migrate_step_guard";

fn open_step_guard(tx: &Connection, a: &Action) -> Result<(), UnitFailure> {
    tx.execute_batch(&format!("SAVEPOINT {}", litemigrate_core::sql::quote_ident(STEP_GUARD)))
        .map_err(|e| UnitFailure::from(Error::db("opening the step savepoint", Some(a.at()), e)))
}

/// Fails with [`Error::TransactionLeft`] when the step left the unit's transaction, before its history row is
/// written. `guarded`: the step ran inside the savepoint of [`open_step_guard`].
fn close_step_guard(tx: &Connection, a: &Action, guarded: bool) -> Result<(), Error> {
    let left = |what| Error::TransactionLeft { at: a.at(), what };
    if tx.is_autocommit() {
        return Err(left(
            "a COMMIT, END or ROLLBACK left the connection outside any transaction",
        ));
    }
    if !guarded {
        return Ok(());
    }
    match tx.execute_batch(&format!("RELEASE {}", litemigrate_core::sql::quote_ident(STEP_GUARD))) {
        Ok(()) => Ok(()),
        Err(e) if e.to_string().contains("no such savepoint") => Err(left(
            "the runner's transaction was ended and a new one begun (e.g. `COMMIT; BEGIN;` or `ROLLBACK; BEGIN;`)",
        )),
        Err(e) => Err(Error::db("releasing the step savepoint", Some(a.at()), e)),
    }
}

/// What a step runs: its SQL, split into statements once (to run them one by one and to see what they may do), or
/// its code.
enum Body<'a> {
    Sql(Vec<Statement<'a>>),
    Code(CodeFn),
    /// A down with neither SQL nor code: the planner refuses it before anything runs.
    Irreversible,
}

impl<'a> Body<'a> {
    fn of(a: &'a Action<'_>) -> Body<'a> {
        let sql = match a {
            Action::Up(m) => match m.up() {
                Up::Sql(sql) => sql,
                Up::Code(f) => return Body::Code(f),
            },
            Action::Down(m) => match m.down() {
                Some(Down::Sql(sql)) => sql,
                Some(Down::Code(f)) => return Body::Code(f),
                None => return Body::Irreversible,
            },
            Action::DownUnknown { sql, .. } => sql,
        };
        Body::Sql(litemigrate_core::split::statements(sql))
    }

    /// Whether running it may end the runner's transaction (see [`STEP_GUARD`]).
    fn may_leave_transaction(&self) -> bool {
        match self {
            Body::Sql(stmts) => stmts.iter().any(Statement::controls_transaction),
            Body::Code(_) => true,
            Body::Irreversible => false,
        }
    }

    /// Whether running it may set `user_version`: only a `PRAGMA` can, or code.
    fn may_set_user_version(&self) -> bool {
        match self {
            Body::Sql(stmts) => stmts.iter().any(|s| s.keyword() == Some(Keyword::Pragma)),
            Body::Code(_) => true,
            Body::Irreversible => false,
        }
    }
}

/// `PRAGMA foreign_key_check` before the commit of a unit that ran with foreign keys off.
fn check_foreign_keys(tx: &Connection, actions: &[Action]) -> Result<(), UnitFailure> {
    let violations = fk_violations(tx)?;
    if violations.is_empty() {
        return Ok(());
    }
    // Name the newest foreign-keys=off migration of the unit: it is the one that relaxed the checks.
    // invariant: the unit is non-empty and, being checked, has an action with the flag; the fallback is the first.
    let culprit = actions
        .iter()
        .rev()
        .find(|a| a.foreign_keys_off())
        .unwrap_or(&actions[0]);
    let at = culprit.at();
    Err(UnitFailure {
        error: Error::ForeignKeyViolation {
            at: at.clone(),
            violations,
        },
        blame: Some(Blame {
            at,
            direction: actions[0].direction(),
        }),
    })
}

fn applied_of(a: &Action, duration_us: u64) -> Applied {
    let at = a.at();
    Applied {
        direction: a.direction(),
        version: at.version,
        name: at.name,
        duration_us,
    }
}

/// Runs one action's SQL (statement by statement, so a failure names the line in the file) or code; returns its
/// duration in microseconds.
fn run_body(conn: &Connection, tx: Option<&Transaction<'_>>, a: &Action, body: &Body<'_>) -> Result<u64, Error> {
    let start = Instant::now();
    match body {
        Body::Sql(stmts) => {
            let down = a.direction() == Direction::Down;
            for st in stmts {
                conn.execute_batch(st.sql)
                    .map_err(|e| Error::statement(a.at(), st.line, down, e))?;
            }
        }
        Body::Code(f) => run_code(conn, tx, *f, a)?,
        // invariant: the planner refuses irreversible migrations before anything runs.
        Body::Irreversible => {
            return Err(Error::Irreversible {
                at: a.at(),
                unknown: false,
            });
        }
    }
    Ok(u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX))
}

fn run_code(conn: &Connection, tx: Option<&Transaction<'_>>, f: CodeFn, a: &Action) -> Result<(), Error> {
    if let Some(tx) = tx {
        return f(tx).map_err(|source| Error::CodeFailed { at: a.at(), source });
    }
    // Only reachable if a table marks a code migration no-transaction, which the loader never does: give it a
    // transaction of its own rather than run it bare.
    let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate)
        .map_err(|e| Error::db("BEGIN IMMEDIATE", Some(a.at()), e))?;
    f(&tx).map_err(|source| Error::CodeFailed { at: a.at(), source })?;
    tx.commit().map_err(|e| Error::db("committing", Some(a.at()), e))
}

/// The history change of one step that writes it at once: the row of a no-transaction up, the deletion of a down.
fn record(tx: &Connection, table: &HistoryTable, set: &str, a: &Action, us: u64) -> Result<(), Error> {
    match a {
        Action::Up(m) => table.insert(tx, set, &[NewRow::of(m, Kind::ran(m), history::now(), us)]),
        Action::Down(m) => table.delete(tx, set, &At::of(m)),
        Action::DownUnknown { at, .. } => table.delete(tx, set, at),
    }
}

pub(crate) fn data_version(conn: &Connection) -> Result<i64, Error> {
    conn.query_row("PRAGMA data_version", [], |r| r.get(0))
        .map_err(|e| Error::db("reading PRAGMA data_version", None, e))
}

/// Turns foreign keys off if they are on; returns whether they must be turned back on.
fn foreign_keys_off(conn: &Connection) -> Result<bool, Error> {
    let on: bool = conn
        .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
        .map_err(|e| Error::db("reading PRAGMA foreign_keys", None, e))?;
    if on {
        conn.execute_batch("PRAGMA foreign_keys = OFF")
            .map_err(|e| Error::db("PRAGMA foreign_keys = OFF", None, e))?;
    }
    Ok(on)
}

fn fk_violations(conn: &Connection) -> Result<Vec<FkViolation>, Error> {
    let ctx = |e| Error::db("PRAGMA foreign_key_check", None, e);
    let mut stmt = conn.prepare("PRAGMA foreign_key_check").map_err(ctx)?;
    let rows = stmt
        .query_map([], |r| {
            Ok(FkViolation {
                table: r.get(0)?,
                rowid: r.get(1)?,
                parent: r.get(2)?,
            })
        })
        .map_err(ctx)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(ctx)
}

/// The cross-process lock for no-transaction migrations (see the parent module's docs).
fn lock_file(conn: &Connection, at: &At) -> Result<Option<std::fs::File>, Error> {
    let Some(path) = conn.path().filter(|p| !p.is_empty()) else {
        return Ok(None);
    };
    let lock_path = format!("{path}.migrate-lock");
    let err = |source| Error::LockFile {
        at: at.clone(),
        path: lock_path.clone(),
        source,
    };
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(err)?;
    file.lock().map_err(err)?;
    Ok(Some(file))
}
