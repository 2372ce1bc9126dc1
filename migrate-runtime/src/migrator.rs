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

use crate::backup::{self as bk, BackupInfo, BackupOptions, BackupPolicy, Reason};
use crate::error::{At, Error, FkViolation};
use crate::history::{self, HistoryTable, Newest};
use crate::plan::{self, Action, Direction, Plan};
use crate::stamp;
use crate::status::{self, Classified, State, Status};
use crate::table::{Down, Migration, Migrations, Up};
use rusqlite::{Connection, Transaction, TransactionBehavior};
use std::borrow::Cow;
use std::fmt;
use std::time::Instant;

/// The version to bring the database to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize)]
pub enum Target {
    /// The newest embedded migration.
    #[default]
    Latest,
    /// A given version: up to it when the database is older, down to it (running down scripts, newest first) when
    /// it is newer. 0 rolls everything back. Must be 0 or an embedded version.
    Version(u64),
}

/// How pending migrations are grouped into transactions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// All pending migrations in one transaction (split only around `no-transaction` migrations): the database
    /// moves from one release's schema to the next, or not at all.
    #[default]
    Batch,
    /// One transaction per migration: a failure keeps the migrations before it.
    PerMigration,
}

/// What the caller explicitly allows beyond the default (everything unusual is an error).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize)]
pub struct Policy {
    /// Apply a migration whose version is below the newest applied one (e.g. merged from a branch).
    pub allow_out_of_order: bool,
    /// Ignore applied migrations whose files are gone.
    pub allow_missing: bool,
    /// When rolling back, run the down SQL recorded in the history for migrations this binary does not embed
    /// (a database migrated by a newer release, being brought back by an older one).
    pub allow_unknown_rollback: bool,
}

/// One step that ran.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Applied {
    /// Up or down.
    #[serde(serialize_with = "plan::ser_direction")]
    pub direction: Direction,
    /// Version.
    pub version: u64,
    /// Name.
    pub name: String,
    /// How long the SQL (or Rust function) took, in microseconds.
    pub duration_us: u64,
}

/// What a run did (or, for a dry run, would do).
///
/// ```no_run
/// # static MIGRATIONS: migrate_runtime::Migrations = migrate_runtime::Migrations::empty();
/// let mut conn = rusqlite::Connection::open("app.db").unwrap();
/// let report = MIGRATIONS.migrate(&mut conn).unwrap();
/// if !report.applied.is_empty() {
///     println!("{report}");
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Report {
    /// The set.
    pub set_name: String,
    /// Whether nothing was changed because this was a dry run.
    pub dry_run: bool,
    /// The batching mode.
    pub mode: Mode,
    /// The newest applied version before the run.
    pub from_version: u64,
    /// The version the run brought the database to.
    pub to_version: u64,
    /// The steps planned. For a real run, SQL is left out; another process may have done some of them (see
    /// `applied`).
    pub plan: Plan,
    /// The steps this process ran, in order.
    pub applied: Vec<Applied>,
    /// The backup taken before the first write, if any.
    pub backup: Option<BackupInfo>,
    /// Backup problems that did not stop the run: a failed backup under [`BackupPolicy::BestEffort`], or a failed
    /// retention pass (the new backup is kept).
    pub backup_warnings: Vec<String>,
}

impl Report {
    fn nothing(m: &Migrations, mode: Mode, dry_run: bool, version: u64) -> Report {
        Report {
            set_name: m.set_name().to_owned(),
            dry_run,
            mode,
            from_version: version,
            to_version: version,
            plan: Plan::default(),
            applied: Vec::new(),
            backup: None,
            backup_warnings: Vec::new(),
        }
    }

    /// Whether the run had nothing to do.
    pub fn is_noop(&self) -> bool {
        self.plan.is_empty()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.plan.is_empty() {
            return writeln!(
                f,
                "set `{}`: up to date at version {}",
                self.set_name, self.from_version
            );
        }
        if self.dry_run {
            writeln!(
                f,
                "set `{}` (dry run): would migrate from version {} to {} in {} unit(s):",
                self.set_name,
                self.from_version,
                self.to_version,
                self.plan.units()
            )?;
            return write!(f, "{}", self.plan);
        }
        writeln!(
            f,
            "set `{}`: migrated from version {} to {} ({} step(s) run here)",
            self.set_name,
            self.from_version,
            self.to_version,
            self.applied.len()
        )?;
        if let Some(b) = &self.backup {
            writeln!(f, "  backup: {} ({})", b.path.display(), b.sha256)?;
        }
        for w in &self.backup_warnings {
            writeln!(f, "  warning: {w}")?;
        }
        for a in &self.applied {
            writeln!(
                f,
                "  {:<4} {} {} ({:.3} ms)",
                a.direction,
                a.version,
                a.name,
                a.duration_us as f64 / 1000.0
            )?;
        }
        Ok(())
    }
}

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
/// # static MIGRATIONS: migrate_runtime::Migrations = migrate_runtime::Migrations::empty();
/// use migrate_runtime::{Mode, Target};
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
    /// # static MIGRATIONS: migrate_runtime::Migrations = migrate_runtime::Migrations::empty();
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
        }
    }

    /// Where the database stands (read-only; works on a read-only database and creates nothing).
    ///
    /// ```no_run
    /// # static MIGRATIONS: migrate_runtime::Migrations = migrate_runtime::Migrations::empty();
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
    /// # static MIGRATIONS: migrate_runtime::Migrations = migrate_runtime::Migrations::empty();
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
    /// # static MIGRATIONS: migrate_runtime::Migrations = migrate_runtime::Migrations::empty();
    /// use migrate_runtime::backup::BackupPolicy;
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
    /// # static MIGRATIONS: migrate_runtime::Migrations = migrate_runtime::Migrations::empty();
    /// use migrate_runtime::backup::{BackupOptions, Retention};
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
    /// # static MIGRATIONS: migrate_runtime::Migrations = migrate_runtime::Migrations::empty();
    /// let mut conn = rusqlite::Connection::open("app.db").unwrap();
    /// let show = |a: &migrate_runtime::Applied| eprintln!("{} {} {}", a.direction, a.version, a.name);
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
        match bk::create(conn, &self.backup_options, reason, from, to) {
            Ok(Some(info)) => {
                let dir = info.path.parent().unwrap_or(std::path::Path::new("."));
                if let Err(e) = bk::apply_retention(dir, &self.backup_options.retention, &info.id) {
                    warnings.push(format!("backup retention failed (the new backup is kept): {e}"));
                }
                Ok(Some(info))
            }
            Ok(None) => Ok(None),
            Err(e) if self.backup == BackupPolicy::BestEffort => {
                warnings.push(format!(
                    "no backup was taken, migrating anyway (best-effort policy): {e}"
                ));
                Ok(None)
            }
            Err(e) => Err(Error::Backup(e)),
        }
    }

    /// After a failed run: a `no-transaction` migration that failed (or whose history row failed) may have left the
    /// database half-changed, which no transaction undoes. Put the pre-migrate backup back and say so.
    fn restore_after_failure(
        &self,
        conn: &mut Connection,
        error: Error,
        backup: Option<&BackupInfo>,
        plan: &Plan,
    ) -> Error {
        let (Some(backup), Some(at)) = (backup, error.migration()) else {
            return error;
        };
        let no_tx = plan
            .steps
            .iter()
            .any(|s| s.version == at.version && s.transaction == plan::TxMode::None);
        if !no_tx || error.kind() == crate::ErrorKind::LockFile {
            return error;
        }
        let version = at.version;
        match bk::restore_info(conn, backup, version, &self.backup_options) {
            Ok(_) => Error::RestoredFromBackup {
                source: Box::new(error),
                backup: Box::new(backup.clone()),
            },
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

    /// The launch check: the `user_version` stamp, else one indexed read of the newest history row. `Some(version)`
    /// when the database is exactly at the target with the embedded chain, i.e. nothing to do.
    fn fast_check(&self, conn: &Connection, table: &HistoryTable, target: u64) -> Result<Option<u64>, Error> {
        let set = self.migrations.set_name();
        if self.header_stamp
            && target > 0
            && let Some(m) = self.migrations.get(target)
            && stamp::read(conn)? == stamp::value(&table.name, set, &m.chain())
        {
            return Ok(Some(target));
        }
        match table.newest(conn, set)? {
            Newest::NoTable | Newest::Empty => Ok((target == 0).then_some(0)),
            Newest::Row(v, chain) => {
                let up_to_date = u64::try_from(v).ok() == Some(target)
                    && self.migrations.get(target).is_some_and(|m| m.chain() == chain);
                Ok(up_to_date.then_some(target))
            }
            Newest::Corrupt => Ok(None),
        }
    }

    /// Runs the migration (or, with `dry_run`, plans it).
    pub fn run(&self, conn: &mut Connection) -> Result<Report, Error> {
        let table = HistoryTable::new(&self.table)?;
        let target = self.resolve_target()?;
        let checked = self
            .fast_check(conn, &table, target)
            .map_err(|e| explain_unreadable(conn, e))?;
        if let Some(v) = checked {
            return Ok(Report::nothing(self.migrations, self.mode, self.dry_run, v));
        }
        // Read before the history: if it is unchanged once the write lock is held, no other connection committed
        // since the plan was made, and the plan stands without reading the history again.
        let mut planned_at = data_version(conn)?;
        let (mut actions, mut current) = self.plan_now(conn, &table, target)?;
        let per_migration = self.mode == Mode::PerMigration;
        let mut retakes = 0;
        let report = loop {
            if actions.is_empty() {
                return Ok(Report::nothing(self.migrations, self.mode, self.dry_run, current));
            }
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
            };
            if self.dry_run {
                return Ok(report);
            }
            let versions = (report.from_version, report.to_version);
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
            let (again, now) = self.plan_now(conn, &table, target)?;
            if now == current && plan::public_plan(&again, per_migration, false) == report.plan {
                planned_at = seen;
                break report;
            }
            bk::discard(taken)?;
            retakes += 1;
            if retakes == 3 {
                // Only other migrators changing the history over and over get here.
                let path = taken.source.clone();
                return Err(Error::Backup(bk::BackupError::Busy { path }));
            }
            (actions, current, planned_at) = (again, now, seen);
        };
        let mut report = report;
        report.applied = match self.execute(conn, &table, target, actions, planned_at) {
            Ok(applied) => applied,
            Err(e) => {
                return Err(self.restore_after_failure(conn, e, report.backup.as_ref(), &report.plan));
            }
        };
        Ok(report)
    }

    /// Reads the whole history and decides what to do. Returns the actions and the current version.
    fn plan_now(&self, conn: &Connection, table: &HistoryTable, target: u64) -> Result<(Vec<Action<'m>>, u64), Error> {
        let rows = table.read_all(conn, self.migrations.set_name())?.unwrap_or_default();
        let c = status::classify(self.migrations, rows);
        let actions = self.decide(conn, table, &c, target)?;
        Ok((actions, c.current))
    }

    /// The policy checks, then the steps to reach `target`.
    fn decide(
        &self,
        conn: &Connection,
        table: &HistoryTable,
        c: &Classified<'m>,
        target: u64,
    ) -> Result<Vec<Action<'m>>, Error> {
        self.check_policy(c, true)?;
        let set = self.migrations.set_name();
        let rollback = c.current > target;
        if !rollback {
            return Ok(c
                .embedded
                .iter()
                .filter(|(m, row, _)| row.is_none() && m.version <= target)
                .map(|(m, _, _)| Action::Up(*m))
                .collect());
        }
        let mut downs: Vec<Action<'m>> = Vec::new();
        for (m, row, _) in &c.embedded {
            if row.is_some() && m.version > target {
                if !m.is_reversible() {
                    return Err(Error::Irreversible {
                        at: At::of(m),
                        unknown: false,
                    });
                }
                downs.push(Action::Down(*m));
            }
        }
        for (r, _) in &c.unknown {
            if r.version > target {
                let sql = if self.policy.allow_unknown_rollback {
                    table.down_sql(conn, set, r.version)?
                } else {
                    None
                };
                match sql {
                    Some(sql) => downs.push(Action::DownUnknown { at: r.at(), sql }),
                    None => {
                        return Err(Error::Irreversible {
                            at: r.at(),
                            unknown: true,
                        });
                    }
                }
            }
        }
        downs.sort_by_key(|a| std::cmp::Reverse(a.version()));
        Ok(downs)
    }

    /// Divergent, missing, ahead and out-of-order are errors unless the policy allows them. `for_run` relaxes
    /// "ahead" when the caller asked to roll unknown migrations back to an explicit version.
    fn check_policy(&self, c: &Classified, for_run: bool) -> Result<(), Error> {
        for (m, row, state) in &c.embedded {
            if *state == State::Divergent {
                // invariant: a divergent entry always has its history row.
                let applied = row.as_ref().map(|r| r.checksum).unwrap_or_default();
                return Err(Error::Divergent {
                    at: At::of(m),
                    applied,
                    embedded: m.checksum(),
                });
            }
        }
        let rolling_back_unknown =
            for_run && self.policy.allow_unknown_rollback && matches!(self.target, Target::Version(_));
        if let Some((r, _)) = c.unknown.iter().rev().find(|(_, s)| *s == State::Ahead)
            && !rolling_back_unknown
        {
            return Err(Error::DatabaseAhead {
                at: r.at(),
                latest: self.migrations.latest_version(),
            });
        }
        if let Some((r, _)) = c.unknown.iter().find(|(_, s)| *s == State::Missing)
            && !self.policy.allow_missing
        {
            return Err(Error::Missing { at: r.at() });
        }
        if let Some((m, _, _)) = c.embedded.iter().find(|(_, _, s)| *s == State::OutOfOrder)
            && !self.policy.allow_out_of_order
        {
            return Err(Error::OutOfOrder {
                at: At::of(m),
                newest_applied: c.current,
            });
        }
        Ok(())
    }

    /// Where the database stands (read-only).
    pub fn status(&self, conn: &Connection) -> Result<Status, Error> {
        let table = HistoryTable::new(&self.table)?;
        let set = self.migrations.set_name();
        let rows = table.read_all(conn, set)?;
        let exists = rows.is_some();
        let c = status::classify(self.migrations, rows.unwrap_or_default());
        let last_failure = table.last_failure(conn, set)?;
        Ok(c.to_status(set, &table.name, exists, self.migrations.latest_version(), last_failure))
    }

    pub(crate) fn checked_status(&self, conn: &Connection) -> Result<(Status, u64), Error> {
        let table = HistoryTable::new(&self.table)?;
        let set = self.migrations.set_name();
        let rows = table.read_all(conn, set)?;
        let exists = rows.is_some();
        let c = status::classify(self.migrations, rows.unwrap_or_default());
        self.check_policy(&c, false)?;
        let current = c.current;
        let last_failure = table.last_failure(conn, set)?;
        Ok((
            c.to_status(set, &table.name, exists, self.migrations.latest_version(), last_failure),
            current,
        ))
    }

    pub(crate) fn stamps(&self) -> bool {
        self.header_stamp
    }

    pub(crate) fn table(&self) -> Result<HistoryTable, Error> {
        HistoryTable::new(&self.table)
    }

    /// Applies the actions unit by unit, re-reading the state whenever a lock is taken and someone else may have
    /// written since.
    fn execute(
        &self,
        conn: &mut Connection,
        table: &HistoryTable,
        target: u64,
        mut actions: Vec<Action<'m>>,
        planned_at: i64,
    ) -> Result<Vec<crate::migrator::Applied>, Error> {
        let per_migration = self.mode == Mode::PerMigration;
        let set = self.migrations.set_name();
        let mut applied = Vec::new();
        // The `PRAGMA data_version` the current plan was made at; a different value under a lock means another
        // connection committed in between, and the history is read again.
        let mut seen: Option<i64> = Some(planned_at);
        let mut pos = 0;
        while pos < actions.len() {
            if actions[pos].no_transaction() {
                let at = actions[pos].at();
                let _lock = lock_file(conn, &at)?;
                let dv = data_version(conn)?;
                if seen != Some(dv) {
                    actions = self.plan_now(conn, table, target)?.0;
                    seen = Some(dv);
                    pos = 0;
                    continue;
                }
                match self.run_no_tx(conn, table, &actions[pos]) {
                    Ok(a) => {
                        self.step_done(&a);
                        applied.push(a);
                    }
                    Err(e) => {
                        let _ = table.record_failure(
                            conn,
                            set,
                            &at,
                            actions[pos].direction() == Direction::Down,
                            &e.to_string(),
                        );
                        return Err(e);
                    }
                }
                seen = Some(data_version(conn)?);
                pos += 1;
                continue;
            }
            let end = plan::unit_end(&actions, pos, per_migration);
            let fk_off = actions[pos..end].iter().any(Action::foreign_keys_off);
            let restore_fk = if fk_off { foreign_keys_off(conn)? } else { false };
            let result = self.run_unit(conn, table, &actions, pos, end, fk_off, &mut seen);
            if restore_fk {
                // Restore even after a failure; report the first error.
                let restored = conn
                    .execute_batch("PRAGMA foreign_keys = ON")
                    .map_err(|e| Error::db("restoring PRAGMA foreign_keys", None, e));
                if result.is_ok() {
                    restored?;
                }
            }
            match result {
                Ok(UnitOutcome::Done(mut done)) => {
                    applied.append(&mut done);
                    pos = end;
                }
                Ok(UnitOutcome::Stale) => {
                    actions = self.plan_now(conn, table, target)?.0;
                    pos = 0;
                }
                Err((e, failed)) => {
                    if let Some((at, down)) = failed {
                        let _ = table.record_failure(conn, set, &at, down, &e.to_string());
                    }
                    return Err(e);
                }
            }
        }
        Ok(applied)
    }

    /// One transactional unit. On error, returns the migration that failed (to record) if it was a migration's
    /// fault or environment failure while running it.
    #[allow(clippy::too_many_arguments, clippy::type_complexity)]
    fn run_unit(
        &self,
        conn: &mut Connection,
        table: &HistoryTable,
        actions: &[Action],
        pos: usize,
        end: usize,
        fk_off: bool,
        seen: &mut Option<i64>,
    ) -> Result<UnitOutcome, (Error, Option<(At, bool)>)> {
        let set = self.migrations.set_name();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| (Error::db("taking the write lock (BEGIN IMMEDIATE)", None, e), None))?;
        let dv = data_version(&tx).map_err(|e| (e, None))?;
        if *seen != Some(dv) {
            *seen = Some(dv);
            // Dropping the transaction rolls it back; nothing was written.
            return Ok(UnitOutcome::Stale);
        }
        table.create(&tx).map_err(|e| (e, None))?;
        let stamp = self.header_stamp && stamp::owned(&tx, table, set).map_err(|e| (e, None))?;
        let mut done = Vec::with_capacity(end - pos);
        let mut new_rows = Vec::with_capacity(end - pos);
        for a in &actions[pos..end] {
            let down = a.direction() == Direction::Down;
            let step = run_action(&tx, Some(&tx), a).and_then(|us| {
                match a {
                    // Up rows are written after the unit's statements (below), still in its transaction.
                    Action::Up(m) => new_rows.push(history::NewRow {
                        version: m.version,
                        name: m.name(),
                        file: m.up_file(),
                        checksum: m.checksum(),
                        chain: m.chain(),
                        applied_at: history::now(),
                        duration_us: us,
                        kind: if m.is_code() { "code" } else { "sql" },
                        down_sql: m.down_sql(),
                    }),
                    _ => record(&tx, table, set, a, us, &history::now())?,
                }
                Ok(us)
            });
            match step {
                Ok(us) => {
                    let a = applied_of(a, us);
                    self.step_done(&a);
                    done.push(a);
                }
                Err(e) => return Err((e, Some((a.at(), down)))),
            }
        }
        // Every schema change expires prepared statements, so a cached one-row insert between migrations would be
        // re-prepared once per migration; a few multi-row inserts at the end of the unit are prepared once each.
        table.insert_many(&tx, set, &new_rows).map_err(|e| {
            let at = e.migration().cloned();
            (e, at.map(|at| (at, false)))
        })?;
        if fk_off {
            let violations = fk_violations(&tx).map_err(|e| (e, None))?;
            if !violations.is_empty() {
                // Name the newest foreign-keys=off migration of the unit: it is the one that relaxed the checks.
                // invariant: fk_off means at least one action of the unit has the flag.
                let at = actions[pos..end]
                    .iter()
                    .rev()
                    .find(|a| a.foreign_keys_off())
                    .map(Action::at);
                let at = at.unwrap_or_else(|| actions[pos].at());
                let down = actions[pos].direction() == Direction::Down;
                return Err((
                    Error::ForeignKeyViolation {
                        at: at.clone(),
                        violations,
                    },
                    Some((at, down)),
                ));
            }
        }
        if stamp {
            stamp::write(&tx, table, set).map_err(|e| (e, None))?;
        }
        let last = actions[end - 1].at();
        tx.commit()
            .map_err(|e| (Error::db("committing", Some(last.clone()), e), Some((last, false))))?;
        Ok(UnitOutcome::Done(done))
    }

    fn run_no_tx(&self, conn: &mut Connection, table: &HistoryTable, a: &Action) -> Result<Applied, Error> {
        let set = self.migrations.set_name();
        // The history table must exist before the statement runs, so the row can follow it.
        table.create(conn)?;
        let us = run_action(conn, None, a)?;
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| Error::db("taking the write lock (BEGIN IMMEDIATE)", Some(a.at()), e))?;
        let stamp = self.header_stamp && stamp::owned(&tx, table, set)?;
        record(&tx, table, set, a, us, &history::now())?;
        if stamp {
            stamp::write(&tx, table, set)?;
        }
        tx.commit().map_err(|e| Error::db("committing", Some(a.at()), e))?;
        Ok(applied_of(a, us))
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

enum UnitOutcome {
    Done(Vec<Applied>),
    /// Someone else committed since the plan was made; re-plan.
    Stale,
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

/// Runs one action's SQL or code; returns its duration in microseconds.
fn run_action(conn: &Connection, tx: Option<&Transaction<'_>>, a: &Action) -> Result<u64, Error> {
    let start = Instant::now();
    match a {
        Action::Up(m) => match m.up() {
            Up::Sql(sql) => exec_sql(conn, sql, m, false)?,
            Up::Code(f) => run_code(conn, tx, f, m)?,
        },
        Action::Down(m) => match m.down() {
            Some(Down::Sql(sql)) => exec_sql(conn, sql, m, true)?,
            Some(Down::Code(f)) => run_code(conn, tx, f, m)?,
            // invariant: the planner refuses irreversible migrations before anything runs.
            None => {
                return Err(Error::Irreversible {
                    at: At::of(m),
                    unknown: false,
                });
            }
        },
        Action::DownUnknown { at, sql } => {
            for st in migrate_core::split::statements(sql) {
                conn.execute_batch(st.sql)
                    .map_err(|e| Error::statement(at.clone(), st.line, true, e))?;
            }
        }
    }
    Ok(u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX))
}

/// Statement by statement, so a failure names the line in the file.
fn exec_sql(conn: &Connection, sql: &str, m: &Migration, down: bool) -> Result<(), Error> {
    for st in migrate_core::split::statements(sql) {
        conn.execute_batch(st.sql)
            .map_err(|e| Error::statement(At::of(m), st.line, down, e))?;
    }
    Ok(())
}

fn run_code(
    conn: &Connection,
    tx: Option<&Transaction<'_>>,
    f: crate::table::CodeFn,
    m: &Migration,
) -> Result<(), Error> {
    if let Some(tx) = tx {
        return f(tx).map_err(|source| Error::CodeFailed { at: At::of(m), source });
    }
    // Only reachable if a table marks a code migration no-transaction, which the loader never does: give it a
    // transaction of its own rather than run it bare.
    let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate)
        .map_err(|e| Error::db("BEGIN IMMEDIATE", Some(At::of(m)), e))?;
    f(&tx).map_err(|source| Error::CodeFailed { at: At::of(m), source })?;
    tx.commit().map_err(|e| Error::db("committing", Some(At::of(m)), e))
}

fn record(tx: &Connection, table: &HistoryTable, set: &str, a: &Action, us: u64, at: &str) -> Result<(), Error> {
    match a {
        Action::Up(m) => table.insert(
            tx,
            set,
            (m.version, m.name(), m.up_file()),
            &m.checksum(),
            &m.chain(),
            at,
            us,
            if m.is_code() { "code" } else { "sql" },
            m.down_sql(),
        ),
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

/// The cross-process lock for no-transaction migrations (see the module docs).
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
