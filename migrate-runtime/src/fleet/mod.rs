//! Fleets: one embedded set over thousands of tenant databases.
//!
//! [`Fleet`] runs the migrator ([`Migrator::run`]: one transaction per batch, backup policy, `BEGIN IMMEDIATE` and
//! the state re-read under the lock, history rows committed with the migration) on every database an iterator or a
//! glob yields, on a bounded number of threads, and hands one [`FileResult`] per database to a callback as each
//! finishes (with more than one job, within 20 ms of it finishing: results are handed over in batches, see the
//! README's "Fleets"). Paths are pulled from the iterator only as threads free up (at most 256 per job are queued)
//! and results are dropped after the callback, so memory does not grow with the number of files.
//!
//! - **Canary** ([`Fleet::canary`]): the first N databases are migrated first, in waves of `jobs` started together;
//!   if any fails, the canaries of later waves and all the rest are skipped untouched (not even opened).
//! - **Fail policy** ([`FailPolicy`]): stop at the first failure (default: databases not yet started are skipped,
//!   those in flight finish), or continue and report every failure. A failing database keeps its previous version:
//!   its transaction rolled back.
//! - **Resuming**: after a crash or a `kill -9` of the runner, run it again. Each database's own transaction makes
//!   it either migrated or untouched, and one that is already current costs one launch check (`PRAGMA
//!   user_version`). The [`journal`] records what each run did, so an operator can retry the failures only
//!   ([`journal::failed_paths`]).
//! - **Replicas** (LiteFS, see [`crate::replica`]): a database with pending migrations whose directory holds a
//!   `.primary` file is skipped with [`ErrorKind::Replica`](crate::ErrorKind::Replica) naming the primary, and does
//!   not count as a failure.
//!
//! ```no_run
//! # static MIGRATIONS: litemigrate_runtime::Migrations = litemigrate_runtime::Migrations::empty();
//! use litemigrate_runtime::fleet::{FailPolicy, Fleet, FileStatus};
//! let summary = Fleet::new(&MIGRATIONS)
//!     .jobs(8)
//!     .canary(10)
//!     .fail_policy(FailPolicy::Continue)
//!     .journal("fleet.journal")
//!     .run_glob("tenants/*.db", |r| {
//!         if r.status == FileStatus::Failed {
//!             eprintln!("{}: {}", r.path.display(), r.error.as_ref().map(|e| e.to_string()).unwrap_or_default());
//!         }
//!     })
//!     .unwrap();
//! println!("{} migrated, {} current, {} failed", summary.migrated, summary.current, summary.failed);
//! ```

pub mod journal;
mod pool;
mod result;
mod runner;

pub use result::{FileResult, FileStatus, SkipReason, Stopped, Summary};
pub use runner::glob_paths;

use crate::backup::{BackupOptions, BackupPolicy};
use crate::migrator::{Migrator, Mode, Policy, Target};
use crate::table::Migrations;
use std::path::PathBuf;
use std::time::Duration;

/// What the runner does after a database fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum FailPolicy {
    /// Start no further database (those in flight finish); the rest are reported skipped.
    #[default]
    Stop,
    /// Go on and report every failure.
    Continue,
}

/// A failure of the run itself (not of one database: those are [`FileResult`]s).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FleetError {
    /// The journal could not be opened, read or written (the run stops: it could no longer say what it did).
    #[error("fleet journal {}: {source}", path.display())]
    Journal {
        /// The journal file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The glob pattern is not valid.
    #[error("bad glob pattern `{pattern}`: {source}")]
    Pattern {
        /// The pattern.
        pattern: String,
        /// What is wrong with it.
        source: glob::PatternError,
    },
    /// A directory the glob had to read could not be read (the run stops where it was).
    #[error("listing {}: {source}", path.display())]
    Listing {
        /// The path that could not be read.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

impl FleetError {
    /// The error's stable name: `journal`, `pattern`, `listing`.
    pub fn kind(&self) -> &'static str {
        match self {
            FleetError::Journal { .. } => "journal",
            FleetError::Pattern { .. } => "pattern",
            FleetError::Listing { .. } => "listing",
        }
    }
}

/// The fleet runner: the migrator's settings, applied to many databases. See the [module docs](self).
#[derive(Debug, Clone)]
pub struct Fleet<'m> {
    migrations: &'m Migrations,
    target: Target,
    mode: Mode,
    policy: Policy,
    table: String,
    header_stamp: bool,
    backup: BackupPolicy,
    backup_options: BackupOptions,
    busy_timeout: Duration,
    jobs: usize,
    canary: usize,
    fail: FailPolicy,
    journal: Option<PathBuf>,
    refuse_replica: bool,
}

impl<'m> Fleet<'m> {
    /// A runner over `migrations` with the migrator's defaults (latest, batch, backups required), one thread per
    /// core, no canary, stop at the first failure, no journal.
    pub fn new(migrations: &'m Migrations) -> Fleet<'m> {
        Fleet {
            migrations,
            target: Target::Latest,
            mode: Mode::Batch,
            policy: Policy::default(),
            table: crate::history::DEFAULT_TABLE.to_owned(),
            header_stamp: true,
            backup: BackupPolicy::default(),
            backup_options: BackupOptions::default(),
            busy_timeout: Duration::from_secs(5),
            jobs: std::thread::available_parallelism().map_or(1, usize::from),
            canary: 0,
            fail: FailPolicy::Stop,
            journal: None,
            refuse_replica: true,
        }
    }

    /// The version to bring every database to (see [`Migrator::target`]).
    pub fn target(mut self, target: Target) -> Self {
        self.target = target;
        self
    }

    /// Batch (default) or per-migration transactions (see [`Migrator::mode`]).
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// The migrator's policy (see [`Migrator::policy`]).
    pub fn policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// The history table (see [`Migrator::history_table`]).
    pub fn history_table(mut self, name: impl Into<String>) -> Self {
        self.table = name.into();
        self
    }

    /// See [`Migrator::header_stamp`].
    pub fn header_stamp(mut self, on: bool) -> Self {
        self.header_stamp = on;
        self
    }

    /// The backup policy for each database (default: required, see [`Migrator::backup`]).
    pub fn backup(mut self, policy: BackupPolicy) -> Self {
        self.backup = policy;
        self
    }

    /// Where and how backups are written (see [`Migrator::backup_options`]). With `dir` unset each database's
    /// backups go to `backups/` next to it.
    pub fn backup_options(mut self, options: BackupOptions) -> Self {
        self.backup_options = options;
        self
    }

    /// How long one database waits for another process's write lock before it fails with
    /// [`ErrorKind::Busy`](crate::ErrorKind::Busy) (default 5 s).
    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }

    /// Databases migrated at once (default: the number of cores; 0 counts as 1).
    pub fn jobs(mut self, jobs: usize) -> Self {
        self.jobs = jobs.max(1);
        self
    }

    /// Migrate the first `n` databases first; if any of them fails, skip the rest untouched (default 0). The
    /// canaries start `jobs` at a time, each wave whole: with 2 jobs and a failing first canary the second still
    /// runs (it started with it), the third does not.
    pub fn canary(mut self, n: usize) -> Self {
        self.canary = n;
        self
    }

    /// Stop at the first failure (default) or continue.
    pub fn fail_policy(mut self, fail: FailPolicy) -> Self {
        self.fail = fail;
        self
    }

    /// Append a record of the run to this [`journal`] file (created if needed).
    pub fn journal(mut self, path: impl Into<PathBuf>) -> Self {
        self.journal = Some(path.into());
        self
    }

    /// See [`Migrator::refuse_on_replica`] (default `true`: a replica with pending migrations is skipped).
    pub fn refuse_on_replica(mut self, on: bool) -> Self {
        self.refuse_replica = on;
        self
    }

    /// The migrator one database runs with.
    fn migrator(&self) -> Migrator<'m> {
        self.migrations
            .migrator()
            .target(self.target)
            .mode(self.mode)
            .policy(self.policy)
            .history_table(self.table.clone())
            .header_stamp(self.header_stamp)
            .backup(self.backup)
            .backup_options(self.backup_options.clone())
            .refuse_on_replica(self.refuse_replica)
    }
}
