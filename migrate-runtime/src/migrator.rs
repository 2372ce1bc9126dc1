//! Bringing a live database to a target version: the launch check, planning, and applying under locks.
//!
//! # Concurrency
//!
//! Every transactional unit starts with `BEGIN IMMEDIATE`, which takes SQLite's write lock up front (waiting up to
//! the connection's busy timeout). Once the lock is held, `PRAGMA data_version` says whether any other connection
//! committed since the history was last read; if one did, the history is read again and the plan remade, so a
//! process that waited for another one finds the work done and returns `Ok` with nothing applied. Checking
//! `data_version` instead of re-reading the whole history under every lock keeps per-migration mode linear in the
//! number of migrations. The primary key (set, version) of the history table is the last line of defence: a
//! migration's row can only be inserted once.
//!
//! `-- migrate:no-transaction` migrations (VACUUM, `journal_mode`) cannot hold `BEGIN IMMEDIATE` while they run.
//! They run under an OS advisory lock (`std::fs::File::lock`, i.e. `flock`/`LockFileEx`) on a file beside the
//! database, `<database>.migrate-lock`, which is created on first use and never deleted (deleting a lock file races
//! with its users). The history is re-read under that lock too. In-memory and temporary databases need no lock. A
//! process killed during such a migration leaves it without a history row, so it runs again on the next launch:
//! keep no-transaction migrations idempotent (VACUUM and `PRAGMA journal_mode` are).
//!
//! # Foreign keys
//!
//! `PRAGMA foreign_keys` cannot change inside a transaction, so a unit containing a `foreign-keys=off` migration
//! turns enforcement off before `BEGIN` (for the whole unit: in batch mode, the whole batch), runs
//! `PRAGMA foreign_key_check` before `COMMIT` (violations roll the unit back and are named in
//! [`Error::ForeignKeyViolation`]) and restores the previous setting afterwards, whatever happened.

mod execute;
mod planning;
mod report;
mod requires;

pub(crate) use execute::data_version;
pub use report::{Applied, Mode, Policy, Report, Target};

use crate::backup::{self as bk, BackupInfo, BackupOptions, BackupPolicy, Reason};
use crate::error::Error;
use crate::history::{self, HistoryTable};
use crate::plan::{self, Direction, Plan};
use crate::repeat;
use crate::status::{self, Status};
use crate::table::Migrations;
use crate::trace;
use rusqlite::Connection;
use std::borrow::Cow;
use std::fmt;

/// Builder for a migration run, and for status/verify/baseline with a non-default configuration.
///
/// # Transactions and locks
///
/// Batch mode ([`Mode::Batch`], the default) applies every pending migration in one `BEGIN IMMEDIATE` transaction;
/// [`Mode::PerMigration`] uses one transaction each. After taking the write lock, the migrator checks
/// `PRAGMA data_version` and re-reads the history if another connection committed meanwhile, so a process that
/// waited for another one returns `Ok` with nothing applied.
///
/// `-- migrate:no-transaction` migrations (VACUUM, `journal_mode`) run outside any transaction, splitting the batch
/// around them, under an OS advisory lock (`std::fs::File::lock`) on `<database>.migrate-lock`; the history is
/// re-checked under that lock and their row is written right after, in a transaction of its own. A transaction
/// cannot serve as that lock (VACUUM refuses to run inside one), and the lock file is never deleted (deleting a lock
/// file races with its users). In-memory databases need no lock. A process killed during such a migration leaves it
/// without a row, so it runs again at the next launch: keep them idempotent.
///
/// `-- migrate:foreign-keys=off`: enforcement is turned off before `BEGIN` (SQLite ignores the pragma inside a
/// transaction; in batch mode, for the whole batch), `PRAGMA foreign_key_check` runs before `COMMIT` (violations
/// roll back, [`Error::ForeignKeyViolation`] names the table and rowids), and the previous setting is restored.
///
/// ```no_run
/// # static MIGRATIONS: litemigrate_runtime::Migrations = litemigrate_runtime::Migrations::empty();
/// use litemigrate_runtime::{Mode, Target};
/// let mut conn = rusqlite::Connection::open("app.db").unwrap();
/// let report = MIGRATIONS
///     .migrator()
///     .target(Target::Version(3))
///     .mode(Mode::PerMigration)
///     .history_table("schema_history")
///     .run(&mut conn)
///     .unwrap();
/// println!("{report}");
/// ```
#[derive(Debug, Clone)]
pub struct Migrator<'m> {
    migrations: &'m Migrations,
    target: Target,
    dry_run: bool,
    mode: Mode,
    policy: Policy,
    table: Cow<'static, str>,
    backup: BackupPolicy,
    backup_options: BackupOptions,
    header_stamp: bool,
    on_step: Option<StepHook<'m>>,
    refuse_replica: bool,
    /// Whether pending migrations' `requires` name sets of this database (`false` in a catalog, where they name
    /// databases and the catalog orders the work).
    set_requires: bool,
}

/// The callback of [`Migrator::on_step`].
#[derive(Clone, Copy)]
struct StepHook<'m>(&'m dyn Fn(&Applied));

impl fmt::Debug for StepHook<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StepHook")
    }
}

impl Migrations {
    /// Brings the database to the newest embedded migration with the default policy (batch mode, everything
    /// unusual an error). When nothing is pending this reads `PRAGMA user_version` (or, failing the stamp, one
    /// indexed history row; see [`Migrator::header_stamp`]) and writes nothing.
    ///
    /// ```no_run
    /// # static MIGRATIONS: litemigrate_runtime::Migrations = litemigrate_runtime::Migrations::empty();
    /// let mut conn = rusqlite::Connection::open("app.db").unwrap();
    /// MIGRATIONS.migrate(&mut conn).unwrap();
    /// ```
    pub fn migrate(&self, conn: &mut Connection) -> Result<Report, Error> {
        self.migrator().run(conn)
    }

    /// A builder for everything else: target, dry run, mode, policies, history table.
    pub fn migrator(&self) -> Migrator<'_> {
        Migrator {
            migrations: self,
            target: Target::Latest,
            dry_run: false,
            mode: Mode::Batch,
            policy: Policy::default(),
            table: Cow::Borrowed(history::DEFAULT_TABLE),
            backup: BackupPolicy::default(),
            backup_options: BackupOptions::default(),
            header_stamp: true,
            on_step: None,
            refuse_replica: true,
            set_requires: self.requires_sets,
        }
    }

    /// Where the database stands (read-only; works on a read-only database and creates nothing).
    ///
    /// ```no_run
    /// # static MIGRATIONS: litemigrate_runtime::Migrations = litemigrate_runtime::Migrations::empty();
    /// let conn = rusqlite::Connection::open("app.db").unwrap();
    /// println!("{}", MIGRATIONS.status(&conn).unwrap());
    /// ```
    pub fn status(&self, conn: &Connection) -> Result<Status, Error> {
        self.migrator().status(conn)
    }
}

impl<'m> Migrator<'m> {
    /// The version to migrate to (default [`Target::Latest`]).
    pub fn target(mut self, target: Target) -> Self {
        self.target = target;
        self
    }

    /// Plan only: return the steps (with their SQL) and change nothing.
    pub fn dry_run(mut self, dry_run: bool) -> Self {
        self.dry_run = dry_run;
        self
    }

    /// Batch (default) or per-migration transactions.
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// Replace the whole policy.
    pub fn policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// See [`Policy::allow_out_of_order`].
    pub fn allow_out_of_order(mut self, allow: bool) -> Self {
        self.policy.allow_out_of_order = allow;
        self
    }

    /// See [`Policy::allow_missing`].
    pub fn allow_missing(mut self, allow: bool) -> Self {
        self.policy.allow_missing = allow;
        self
    }

    /// See [`Policy::allow_unknown_rollback`].
    pub fn allow_unknown_rollback(mut self, allow: bool) -> Self {
        self.policy.allow_unknown_rollback = allow;
        self
    }

    /// Use another history table (default `_migrations`). The name must be a plain identifier (letters, digits,
    /// `_`); it is checked when the migrator runs.
    pub fn history_table(mut self, name: impl Into<String>) -> Self {
        self.table = Cow::Owned(name.into());
        self
    }

    /// Whether a run with work to do refuses a LiteFS replica (a `.primary` file beside the database) with
    /// [`Error::Replica`] (default `true`; see [`crate::replica`]). Turn it off only when writes from this node reach
    /// the primary another way, e.g. under `litefs run -with-halt-lock-on <db>` (write forwarding).
    pub fn refuse_on_replica(mut self, on: bool) -> Self {
        self.refuse_replica = on;
        self
    }

    /// Whether the launch check may answer from `PRAGMA user_version` (default `true`).
    ///
    /// Reading the history table makes SQLite parse the application's whole schema first, which dominates a launch
    /// with thousands of schema objects; `user_version` is in the file header. With this on, every transaction that
    /// changes the history also stores a 32-bit stamp of the newest chain value there, and a launch whose stamp
    /// matches the embedded chain returns without reading a table. The value is only written while `user_version`
    /// is 0 or holds this set's own stamp, so an application that keeps its own number there keeps it (and its
    /// launches read the history as before). Turn it off if your application reads `user_version` and expects 0.
    ///
    /// ```no_run
    /// # static MIGRATIONS: litemigrate_runtime::Migrations = litemigrate_runtime::Migrations::empty();
    /// let mut conn = rusqlite::Connection::open("app.db").unwrap();
    /// // This application owns user_version: never read or write it.
    /// MIGRATIONS.migrator().header_stamp(false).run(&mut conn).unwrap();
    /// ```
    pub fn header_stamp(mut self, on: bool) -> Self {
        self.header_stamp = on;
        self
    }

    /// Whether a file database is backed up before the first write (default [`BackupPolicy::Required`]: a failed
    /// backup stops the run before anything changes). See [`crate::backup`].
    ///
    /// ```no_run
    /// # static MIGRATIONS: litemigrate_runtime::Migrations = litemigrate_runtime::Migrations::empty();
    /// use litemigrate_runtime::backup::BackupPolicy;
    /// let mut conn = rusqlite::Connection::open("app.db").unwrap();
    /// let report = MIGRATIONS.migrator().backup(BackupPolicy::BestEffort).run(&mut conn).unwrap();
    /// for w in &report.backup_warnings {
    ///     eprintln!("warning: {w}");
    /// }
    /// ```
    pub fn backup(mut self, policy: BackupPolicy) -> Self {
        self.backup = policy;
        self
    }

    /// Where and how backups are written: directory (default `backups/` next to the database), compression,
    /// `quick_check`, retention (default: 30 days).
    ///
    /// ```no_run
    /// # static MIGRATIONS: litemigrate_runtime::Migrations = litemigrate_runtime::Migrations::empty();
    /// use litemigrate_runtime::backup::{BackupOptions, Retention};
    /// let mut conn = rusqlite::Connection::open("app.db").unwrap();
    /// let opts = BackupOptions {
    ///     compress: true,
    ///     retention: Retention { keep_last: Some(5), max_age: None },
    ///     ..BackupOptions::default()
    /// };
    /// let report = MIGRATIONS.migrator().backup_options(opts).run(&mut conn).unwrap();
    /// if let Some(b) = &report.backup {
    ///     println!("backed up to {}", b.path.display());
    /// }
    /// ```
    pub fn backup_options(mut self, options: BackupOptions) -> Self {
        self.backup_options = options;
        self
    }

    /// Calls `f` after each step has run (in batch mode before its unit commits), e.g. to drive a progress bar. If
    /// another process commits while a unit waits for the lock, the unit is re-planned and a step may be reported
    /// again.
    ///
    /// ```no_run
    /// # static MIGRATIONS: litemigrate_runtime::Migrations = litemigrate_runtime::Migrations::empty();
    /// let mut conn = rusqlite::Connection::open("app.db").unwrap();
    /// let show = |a: &litemigrate_runtime::Applied| eprintln!("{} {} {}", a.direction, a.version, a.name);
    /// MIGRATIONS.migrator().on_step(&show).run(&mut conn).unwrap();
    /// ```
    pub fn on_step(mut self, f: &'m dyn Fn(&Applied)) -> Self {
        self.on_step = Some(StepHook(f));
        self
    }

    fn step_done(&self, a: &Applied) {
        if let Some(StepHook(f)) = self.on_step {
            f(a);
        }
    }

    /// The migrations this migrator applies.
    pub fn migrations(&self) -> &'m Migrations {
        self.migrations
    }

    /// The hook before the first write of a run: called once there is work to do and before `BEGIN IMMEDIATE`.
    /// The backup helper takes its verified backup here; a failure aborts the run before anything is written.
    fn before_first_write(
        &self,
        conn: &Connection,
        plan: &Plan,
        (from, to): (u64, u64),
        warnings: &mut Vec<String>,
    ) -> Result<Option<BackupInfo>, Error> {
        if self.backup == BackupPolicy::Off {
            return Ok(None);
        }
        let reason = if plan.steps.iter().any(|s| s.direction == Direction::Down) {
            Reason::PreRollback
        } else {
            Reason::PreMigrate
        };
        let started = std::time::Instant::now();
        match bk::create(conn, &self.backup_options, reason, from, to) {
            Ok(Some(info)) => {
                trace::backup_taken(&info, started.elapsed());
                let dir = info.path.parent().unwrap_or(std::path::Path::new("."));
                if let Err(e) = bk::apply_retention(dir, &self.backup_options.retention, &info.id) {
                    warnings.push(format!("backup retention failed (the new backup is kept): {e}"));
                }
                Ok(Some(info))
            }
            Ok(None) => Ok(None),
            Err(e) if self.backup == BackupPolicy::BestEffort => {
                trace::backup_skipped(&e);
                warnings.push(format!(
                    "no backup was taken, migrating anyway (best-effort policy): {e}"
                ));
                Ok(None)
            }
            Err(e) => Err(Error::Backup(e)),
        }
    }

    /// After a failed run: a `no-transaction` migration that failed (or whose history row failed) may have left the
    /// database half-changed, which no transaction undoes; so may a migration that ended the runner's transaction
    /// ([`Error::TransactionLeft`]). Put the pre-migrate backup back and say so, but only if no other connection
    /// committed since just before the backup was taken (`snapshot_dv`, the connection's `PRAGMA data_version`
    /// then; this connection's own commits do not change it): restoring would discard those writes, so then the
    /// error names the backup to restore by hand instead. The failure record is written again after a restore,
    /// which put back the failures table of before the run.
    fn restore_after_failure(&self, conn: &mut Connection, error: Error, failed: Failed<'_>) -> Error {
        let Failed {
            backup,
            plan,
            table,
            snapshot_dv,
        } = failed;
        let (Some(backup), Some(at)) = (backup, error.migration().cloned()) else {
            return error;
        };
        let step = plan.steps.iter().find(|s| s.version == at.version);
        let no_tx = step.is_some_and(|s| s.transaction == plan::TxMode::None);
        let left = error.kind() == crate::ErrorKind::TransactionLeft;
        if !(no_tx || left) || error.kind() == crate::ErrorKind::LockFile {
            return error;
        }
        if data_version(conn).ok() != Some(snapshot_dv) {
            return Error::NotRestored {
                source: Box::new(error),
                backup: Box::new(backup.clone()),
            };
        }
        match bk::restore_info(conn, backup, at.version, &self.backup_options) {
            Ok(_) => {
                let direction = step.map_or(Direction::Up, |s| s.direction);
                let set = self.migrations.set_name();
                // Best effort, as the first record was: the error itself is what the caller gets.
                let _ = table.record_failure(conn, set, &at, direction, &error.to_string());
                Error::RestoredFromBackup {
                    source: Box::new(error),
                    backup: Box::new(backup.clone()),
                }
            }
            Err(restore) => Error::RestoreFailed {
                source: Box::new(error),
                backup: Box::new(backup.clone()),
                restore,
            },
        }
    }

    fn resolve_target(&self) -> Result<u64, Error> {
        let latest = self.migrations.latest_version();
        match self.target {
            Target::Latest => Ok(latest),
            Target::Version(0) => Ok(0),
            Target::Version(v) if self.migrations.get(v).is_some() => Ok(v),
            Target::Version(version) => Err(Error::UnknownTarget { version, latest }),
        }
    }

    /// Runs the migration (or, with `dry_run`, plans it).
    pub fn run(&self, conn: &mut Connection) -> Result<Report, Error> {
        let mut span = trace::RunSpan::default();
        let result = self.run_in(conn, &mut span);
        if let Err(e) = &result {
            span.failed(e);
        }
        result
    }

    /// The body of [`Migrator::run`]; opens `span` once the plan is known.
    fn run_in(&self, conn: &mut Connection, span: &mut trace::RunSpan) -> Result<Report, Error> {
        let table = HistoryTable::new(&self.table)?;
        let target = self.resolve_target()?;
        let set = self.migrations.set_name();
        let (mut planned_at, mut actions, mut current, mut seen_facts) = match self.plan_read(conn, &table, target)? {
            planning::Read::Current(v) => {
                trace::up_to_date(set, v);
                return Ok(Report::nothing(self.migrations, self.mode, self.dry_run, v));
            }
            planning::Read::Plan(p) => (p.planned_at, p.actions, p.current, Some(p.seen)),
        };
        if actions.is_empty() {
            trace::up_to_date(set, current);
        } else {
            trace::pending(set, current, target, actions.len());
        }
        let per_migration = self.mode == Mode::PerMigration;
        let (mut retakes, mut attempts) = (0, 0);
        // `PRAGMA data_version` just before the backup was taken: see `restore_after_failure`.
        let mut snapshot_dv;
        let report = loop {
            if actions.is_empty() {
                let mut report = Report::nothing(self.migrations, self.mode, self.dry_run, current);
                report.repeatables = if self.dry_run {
                    repeat::pending(conn, &table, self.migrations, false)?
                } else {
                    repeat::apply(conn, &table, self.migrations, self.header_stamp, false)?
                };
                return Ok(report);
            }
            span.enter(set, &actions, current, target, self.dry_run);
            let mut report = Report {
                set_name: self.migrations.set_name().to_owned(),
                dry_run: self.dry_run,
                mode: self.mode,
                from_version: current,
                to_version: target,
                plan: plan::public_plan(&actions, per_migration, self.dry_run),
                applied: Vec::new(),
                backup: None,
                backup_warnings: Vec::new(),
                repeatables: Vec::new(),
            };
            if self.dry_run {
                let rolls_back = report.plan.steps.iter().any(|s| s.direction == Direction::Down);
                report.repeatables = repeat::pending(conn, &table, self.migrations, rolls_back)?;
                return Ok(report);
            }
            let versions = (report.from_version, report.to_version);
            // Only a restore from the backup reads it, and without a backup policy there is none to restore.
            snapshot_dv = match self.backup {
                BackupPolicy::Off => planned_at,
                _ => data_version(conn)?,
            };
            report.backup = self.before_first_write(conn, &report.plan, versions, &mut report.backup_warnings)?;
            let Some(taken) = &report.backup else {
                break report;
            };
            // The snapshot is taken after the plan, outside the migration's lock: another launcher may have migrated
            // in between, and the backup would then hold a later state than its manifest's version says (and be no
            // use as "the state before"). Plan again; keep the backup only if the plan still stands.
            let seen = data_version(conn)?;
            if seen == planned_at {
                break report;
            }
            let again = self.plan_now(conn, &table, target)?;
            let (again, now) = (again.actions, again.current);
            // Another connection committed: what the planning read saw may no longer hold.
            seen_facts = None;
            if now == current && plan::public_plan(&again, per_migration, false) == report.plan {
                planned_at = seen;
                break report;
            }
            bk::discard(taken)?;
            attempts += 1;
            trace::retry(
                "another connection committed while the backup was taken: plan read again",
                attempts,
            );
            // Another launcher applying migrations moves the version forward, which can happen only as often as
            // there are migrations (16 launchers committing one migration each kept this loop busy); the same
            // version with a changed history, over and over, is what must not loop forever.
            if now <= current {
                retakes += 1;
            }
            if retakes == 3 {
                // Only other migrators changing the history over and over get here.
                let path = taken.source.clone();
                return Err(Error::Backup(bk::BackupError::Busy { path }));
            }
            (actions, current, planned_at) = (again, now, seen);
        };
        let mut report = report;
        report.applied = match self.execute(conn, &table, target, actions, planned_at, seen_facts) {
            Ok(applied) => applied,
            Err(e) => {
                let failed = Failed {
                    backup: report.backup.as_ref(),
                    plan: &report.plan,
                    table: &table,
                    snapshot_dv,
                };
                return Err(self.restore_after_failure(conn, e, failed));
            }
        };
        // After a rollback every repeatable runs again: the downs may have dropped what they created.
        let rolled_back = report.plan.steps.iter().any(|s| s.direction == Direction::Down);
        report.repeatables = repeat::apply(conn, &table, self.migrations, self.header_stamp, rolled_back)?;
        Ok(report)
    }

    /// Where the database stands (read-only).
    pub fn status(&self, conn: &Connection) -> Result<Status, Error> {
        Ok(self.status_after(conn, |_| Ok(()))?.0)
    }

    pub(crate) fn checked_status(&self, conn: &Connection) -> Result<(Status, u64), Error> {
        self.status_after(conn, |c| self.planner().check_policy(c, false))
    }

    /// The status and current version, once `check` accepted the classification (before the failures are read).
    fn status_after(
        &self,
        conn: &Connection,
        check: impl FnOnce(&status::Classified<'_>) -> Result<(), Error>,
    ) -> Result<(Status, u64), Error> {
        let table = HistoryTable::new(&self.table)?;
        let set = self.migrations.set_name();
        let rows = table.read_all(conn, set)?;
        let exists = rows.is_some();
        let c = status::classify(self.migrations, rows.unwrap_or_default());
        check(&c)?;
        let current = c.current;
        let last_failure = table.last_failure(conn, set)?;
        let mut status = c.to_status(
            set,
            &table.name,
            exists,
            self.migrations.latest_version(),
            last_failure,
            self.migrations.build_sqlite_version(),
        );
        status.repeatables = repeat::entries(conn, &table, self.migrations)?;
        Ok((status, current))
    }

    fn planner(&self) -> plan::Planner<'m> {
        plan::Planner {
            migrations: self.migrations,
            policy: self.policy,
            target: self.target,
        }
    }

    pub(crate) fn resolved_target(&self) -> Result<u64, Error> {
        self.resolve_target()
    }

    pub(crate) fn set_name(&self) -> &str {
        self.migrations.set_name()
    }

    // For `baseline` and `adopt`, which write history rows outside the apply loop.
    #[cfg(feature = "validate")]
    pub(crate) fn stamps(&self) -> bool {
        self.header_stamp
    }

    pub(crate) fn table(&self) -> Result<HistoryTable, Error> {
        HistoryTable::new(&self.table)
    }
}

/// What [`Migrator::restore_after_failure`] needs to know about the failed run.
struct Failed<'a> {
    backup: Option<&'a BackupInfo>,
    plan: &'a Plan,
    table: &'a HistoryTable,
    snapshot_dv: i64,
}
