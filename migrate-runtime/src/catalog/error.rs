//! What can go wrong with a catalog: each variant names the database and its file.

use crate::backup::BackupError;
use crate::error::Error;
use std::path::PathBuf;

/// A catalog run, status or backup-run operation that failed. Every variant names the file to look at.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The data directory, the catalog lock or a backup run's files could not be read or written.
    #[error("{}: {message}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// What failed.
        message: String,
    },
    /// A catalog directory loaded at run time breaks a rule (the message names the file, as the build's would).
    #[error("{}: {message}", path.display())]
    Invalid {
        /// The catalog directory.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A database file could not be opened or read.
    #[error("database `{database}` ({}): {source}", file.display())]
    Open {
        /// The database.
        database: String,
        /// Its file.
        file: PathBuf,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// A rollback would take a database below the version another database's applied migration requires (roll
    /// that database back too, in the same call).
    #[error(
        "database `{database}` cannot go down to version {to}: migration {version} of database `{needed_by}` is \
         applied and requires `{database}@{needs_version}`; roll `{needed_by}` back below {version} as well"
    )]
    RollbackBlocked {
        /// The database that would go too low.
        database: String,
        /// The version it was asked to go to.
        to: u64,
        /// The database whose applied migration requires it.
        needed_by: String,
        /// That migration.
        version: u64,
        /// The version it requires.
        needs_version: u64,
    },
    /// A rollback names a version the database does not embed (nor 0), or a read-only database.
    #[error("database `{database}` cannot be rolled back to version {version}: {reason}")]
    BadRollbackTarget {
        /// The database.
        database: String,
        /// The requested version.
        version: u64,
        /// Why not.
        reason: String,
    },
    /// A read-only database the application ships is not in the data directory.
    #[error("database `{database}` is read-only and must be shipped with the application, but {} does not exist", file.display())]
    ReadOnlyMissing {
        /// The database.
        database: String,
        /// Its file.
        file: PathBuf,
    },
    /// A read-only database is not at its newest embedded version (it is never written, so it cannot be migrated).
    #[error(
        "database `{database}` ({}) is read-only and at version {current}, but this release needs version {latest}: \
         ship the newer file",
        file.display()
    )]
    ReadOnlyBehind {
        /// The database.
        database: String,
        /// Its file.
        file: PathBuf,
        /// Its version.
        current: u64,
        /// The newest embedded version.
        latest: u64,
    },
    /// A file with tables but no history: running its first migration would clash with what is there.
    #[error(
        "database `{database}` ({}) has tables but no migration history; record the version it is at with \
         `migrate baseline` (or `Migrations::baseline`) before migrating it",
        file.display()
    )]
    NeedsBaseline {
        /// The database.
        database: String,
        /// Its file.
        file: PathBuf,
    },
    /// A database's migrations or status failed (outside a run that changed files, or with nothing to restore).
    #[error("database `{database}` ({}): {source}", file.display())]
    Database {
        /// The database.
        database: String,
        /// Its file.
        file: PathBuf,
        /// The set's error (it names the migration and its file).
        source: Box<Error>,
    },
    /// A step failed; the files this run had changed were restored from its backup run (or, with
    /// [`keep_progress`](super::CatalogOptions::keep_progress), kept).
    #[error(
        "database `{database}` ({}): {source}; {}",
        file.display(),
        outcome(run.as_deref(), restored, *kept)
    )]
    Failed {
        /// The database whose step failed.
        database: String,
        /// Its file.
        file: PathBuf,
        /// The set's error (it names the migration and its file).
        source: Box<Error>,
        /// The backup run.
        run: Option<String>,
        /// The files restored from it (or removed, for files the run created), in the order restored.
        restored: Vec<PathBuf>,
        /// Whether progress was kept on purpose.
        kept: bool,
    },
    /// A step failed, but another connection wrote to a file this run had changed: restoring would discard that
    /// write, so nothing was restored.
    #[error(
        "database `{database}` ({}): {source}; nothing was restored, because another connection wrote to {} after \
         this run changed it: check that file, then restore backup run `{run}` by hand if the write can be lost",
        file.display(),
        written.display()
    )]
    NotRestored {
        /// The database whose step failed.
        database: String,
        /// Its file.
        file: PathBuf,
        /// The set's error.
        source: Box<Error>,
        /// The file another connection wrote.
        written: PathBuf,
        /// The backup run to restore by hand.
        run: String,
    },
    /// A step failed and restoring a file from the backup run failed too.
    #[error(
        "database `{database}` ({}): {source}; restoring {} from backup run `{run}` failed: {restore}",
        file.display(),
        restoring.display()
    )]
    RestoreFailed {
        /// The database whose step failed.
        database: String,
        /// Its file.
        file: PathBuf,
        /// The set's error.
        source: Box<Error>,
        /// The file whose restore failed.
        restoring: PathBuf,
        /// The backup run.
        run: String,
        /// Why.
        restore: BackupError,
    },
    /// Taking or restoring a backup failed.
    #[error("{}: {source}", file.display())]
    Backup {
        /// The database file (or extra path).
        file: PathBuf,
        /// What failed.
        source: BackupError,
    },
    /// The requirements cannot be met in any order (a catalog built at run time with a cycle).
    #[error("database `{database}`: migration {version} requires a version that can only come after it")]
    Unorderable {
        /// The database.
        database: String,
        /// The migration.
        version: u64,
    },
    /// A name that is not a database of the catalog.
    #[error("no database `{name}` in the catalog (databases: {known})")]
    UnknownDatabase {
        /// The name asked for.
        name: String,
        /// The catalog's databases.
        known: String,
    },
    /// No backup run with that id.
    #[error("{}: no backup run `{id}`", dir.display())]
    UnknownRun {
        /// The runs' directory.
        dir: PathBuf,
        /// The id.
        id: String,
    },
}

impl CatalogError {
    /// A stable snake_case name for the variant (the CLI's JSON `error.kind` is `catalog_` + this).
    pub fn as_str(&self) -> &'static str {
        match self {
            CatalogError::Io { .. } => "io",
            CatalogError::Invalid { .. } => "invalid",
            CatalogError::Open { .. } => "open",
            CatalogError::ReadOnlyMissing { .. } => "read_only_missing",
            CatalogError::ReadOnlyBehind { .. } => "read_only_behind",
            CatalogError::NeedsBaseline { .. } => "needs_baseline",
            CatalogError::Database { .. } => "database",
            CatalogError::Failed { .. } => "failed",
            CatalogError::NotRestored { .. } => "not_restored",
            CatalogError::RestoreFailed { .. } => "restore_failed",
            CatalogError::Backup { .. } => "backup",
            CatalogError::Unorderable { .. } => "unorderable",
            CatalogError::UnknownDatabase { .. } => "unknown_database",
            CatalogError::UnknownRun { .. } => "unknown_run",
            CatalogError::RollbackBlocked { .. } => "rollback_blocked",
            CatalogError::BadRollbackTarget { .. } => "bad_rollback_target",
        }
    }
}

fn outcome(run: Option<&str>, restored: &[PathBuf], kept: bool) -> String {
    if kept {
        return "the other databases keep their progress (keep_progress)".into();
    }
    match run {
        _ if restored.is_empty() => "no other database had changed".into(),
        Some(run) => format!(
            "restored from backup run `{run}`: {}",
            restored
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        None => format!(
            "removed the files this run created: {}",
            restored
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}
