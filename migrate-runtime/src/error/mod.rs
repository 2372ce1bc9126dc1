//! `litemigrate::Error`: one variant per failure, each naming the migration (version, name, file) it is about.

use litemigrate_core::Checksum;
use std::fmt;

use crate::table::Migration;

mod kind;
pub use kind::ErrorKind;

/// The migration an error is about: version, name and file.
///
/// For a migration known only from the history table (missing from the binary, or from a newer binary), `file` is
/// the file recorded when it was applied.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct At {
    /// The version.
    pub version: u64,
    /// The name after the version.
    pub name: String,
    /// The up file (or the Rust function's path for a code migration).
    pub file: String,
}

impl At {
    pub(crate) fn of(m: &Migration) -> At {
        At {
            version: m.version,
            name: m.name().to_owned(),
            file: m.up_file().to_owned(),
        }
    }
}

impl fmt::Display for At {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "migration {} `{}` ({})", self.version, self.name, self.file)
    }
}

/// One row `PRAGMA foreign_key_check` reported.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct FkViolation {
    /// The table holding the offending row.
    pub table: String,
    /// The offending row's rowid (`None` for a WITHOUT ROWID table).
    pub rowid: Option<i64>,
    /// The table the foreign key refers to.
    pub parent: String,
}

impl fmt::Display for FkViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.rowid {
            Some(r) => write!(f, "{} rowid {} -> {}", self.table, r, self.parent),
            None => write!(f, "{} (without rowid) -> {}", self.table, self.parent),
        }
    }
}

fn fk_list(v: &[FkViolation]) -> String {
    const SHOWN: usize = 10;
    let mut s = v
        .iter()
        .take(SHOWN)
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    if v.len() > SHOWN {
        s.push_str(&format!(", … ({} in all)", v.len()));
    }
    s
}

fn opt_at(at: &Option<At>) -> String {
    at.as_ref().map(|a| format!("{a}: ")).unwrap_or_default()
}

/// Everything that can go wrong when checking or migrating a database.
///
/// Match on [`Error::kind`] to react to a class of failure; [`Error::migration`] names the migration involved.
///
/// ```no_run
/// # static MIGRATIONS: litemigrate_runtime::Migrations = litemigrate_runtime::Migrations::empty();
/// let mut conn = rusqlite::Connection::open("app.db").unwrap();
/// match MIGRATIONS.migrate(&mut conn) {
///     Ok(report) => println!("{report}"),
///     Err(e) if e.kind() == litemigrate_runtime::ErrorKind::Busy => eprintln!("another process holds the database: {e}"),
///     Err(e) => panic!("cannot migrate: {e}"),
/// }
/// ```
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configured history table name is not a plain identifier.
    #[error(
        "invalid history table name {name:?}: use letters, digits and `_` (not starting with a digit or `sqlite_`), \
         at most 64 characters"
    )]
    InvalidTableName {
        /// The name as given.
        name: String,
    },
    /// An applied migration's file was edited after it ran.
    #[error(
        "{at}: the file was changed after it was applied (applied checksum {}, embedded checksum {}); \
         restore the file and put the change in a new migration",
        applied.short(),
        embedded.short()
    )]
    Divergent {
        /// The migration.
        at: At,
        /// The checksum recorded when it ran.
        applied: Checksum,
        /// The checksum of the embedded file.
        embedded: Checksum,
    },
    /// An applied migration is no longer embedded (its file was deleted or renumbered).
    #[error("{at}: applied to the database but no longer among the embedded migrations (deleted or renumbered?)")]
    Missing {
        /// The migration, as the history table records it.
        at: At,
    },
    /// The database has migrations newer than this binary knows: it was migrated by a newer release.
    #[error(
        "{at}: the database was migrated by a newer binary (its newest migration is {at_version}; this binary knows \
         up to {latest})",
        at_version = at.version
    )]
    DatabaseAhead {
        /// The newest migration in the history table.
        at: At,
        /// The newest embedded version.
        latest: u64,
    },
    /// A migration that has not run sits below the newest applied one.
    #[error(
        "{at}: not applied, but the database already has the newer migration {newest_applied}; \
         allow out-of-order migrations explicitly or renumber the file"
    )]
    OutOfOrder {
        /// The unapplied migration.
        at: At,
        /// The newest applied version.
        newest_applied: u64,
    },
    /// The set starts with a squash of versions up to `at.version`, and the database stopped below it: the files
    /// that would bring it there are gone from this release.
    #[error(
        "{at}: this release squashed versions up to {at_version}, but the database stopped at version \
         {newest_applied}; migrate it to {at_version} first with a release that still has those migrations, \
         then with this one",
        at_version = at.version
    )]
    SquashedBelow {
        /// The squash migration.
        at: At,
        /// The newest applied version, below the squash.
        newest_applied: u64,
    },
    /// A history row that cannot be read.
    #[error("history table {table}: row for version {version:?} is corrupt: {detail}")]
    CorruptHistory {
        /// The history table.
        table: String,
        /// The version of the row, when it could be read.
        version: Option<i64>,
        /// What is wrong.
        detail: String,
    },
    /// A down migration was requested through a migration that has no down script.
    #[error("{at}: cannot roll back: the migration is irreversible (no down script{})", if *.unknown { ", and the binary does not know it" } else { "" })]
    Irreversible {
        /// The migration.
        at: At,
        /// The migration is known only from the history table, and rolling back unknown migrations was not allowed
        /// or the history holds no down SQL for it.
        unknown: bool,
    },
    /// A pending migration's `-- migrate:requires <set>@<version>` names a set that is not at that version in this
    /// database yet (another crate's set sharing the connection): migrate that set first.
    #[error(
        "{at}: requires set `{set}` at version {version} or later in this database, which is at {current}: migrate `{set}` first"
    )]
    RequiresNotMet {
        /// The requiring migration.
        at: At,
        /// The set required.
        set: String,
        /// The version required.
        version: u64,
        /// Where that set is in this database (0: not migrated at all).
        current: u64,
    },
    /// `Target::Version(v)` names a version that is neither embedded nor 0.
    #[error("target version {version} is not one of the embedded migrations (newest is {latest})")]
    UnknownTarget {
        /// The requested version.
        version: u64,
        /// The newest embedded version.
        latest: u64,
    },
    /// A statement of a migration failed; the migration's transaction was rolled back.
    #[error("{at}: line {line}: {source}{}{}", versions_note(sqlite), hint_note(hint))]
    MigrationFailed {
        /// The migration.
        at: At,
        /// The 1-based line of the failing statement in the file.
        line: usize,
        /// The down script failed (rolling back), not the up script.
        down: bool,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
        /// The SQLite the set was validated with and the one that ran the statement, when they differ (a function
        /// or syntax the build's SQLite has may be missing from an older one the application links).
        sqlite: Option<Box<SqliteVersions>>,
        /// What to do about SQLite's message, when there is advice ([`litemigrate_core::hint::for_sqlite_message`]).
        hint: Option<&'static str>,
    },
    /// A migration's SQL or Rust code ended the runner's transaction (`COMMIT`, `END`, `ROLLBACK`), so the unit's
    /// statements and its history rows would no longer commit together. The unit was rolled back as far as it still
    /// could be, and nothing of it was recorded as applied.
    #[error(
        "{at}: the migration ended the runner's transaction ({what}); nothing of this unit was recorded as applied. \
         Work committed by the migration itself (before a COMMIT) may remain without a history row, and a ROLLBACK \
         undid the unit's earlier migrations: check the schema (or restore the pre-migrate backup), then remove the \
         transaction control from the migration, or, for a SQL file, put `-- migrate:no-transaction` at its top \
         to manage transactions yourself"
    )]
    TransactionLeft {
        /// The migration.
        at: At,
        /// What was found: the connection back in autocommit mode, or the runner's savepoint gone.
        what: &'static str,
    },
    /// A pending migration writes the history table (or its failures table) this migrator was configured with;
    /// refused before anything ran.
    #[error(
        "{at}: line {line}: writes `{table}`, the runner's own history table: a migration must not change it (use \
         `baseline` or the `Migrator` API to change what is recorded)"
    )]
    WritesHistoryTable {
        /// The migration.
        at: At,
        /// The 1-based line of the statement in the file.
        line: usize,
        /// The table it writes.
        table: String,
    },
    /// A Rust-code migration returned an error; its transaction was rolled back.
    #[error("{at}: the Rust migration returned an error: {source}")]
    CodeFailed {
        /// The migration.
        at: At,
        /// What the function returned.
        #[source]
        source: crate::table::CodeError,
    },
    /// `PRAGMA foreign_key_check` found violations before commit of a `foreign-keys=off` migration; it was rolled
    /// back.
    #[error(
        "{at}: foreign key violations after the migration (rolled back): {}",
        fk_list(violations)
    )]
    ForeignKeyViolation {
        /// The migration.
        at: At,
        /// The offending rows.
        violations: Vec<FkViolation>,
    },
    /// The database stayed locked by another connection longer than the busy timeout.
    #[error("{}database is locked (busy timeout expired): {source}", opt_at(at))]
    Busy {
        /// The migration running when it happened, if any.
        at: Option<At>,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },
    /// The database (or its directory) is read-only and migrations are pending.
    #[error("{}database is read-only: {source}", opt_at(at))]
    ReadOnly {
        /// The migration that needed to write, if any.
        at: Option<At>,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },
    /// The database is a read-only replica of a replicated file system (LiteFS: a `.primary` file beside it names
    /// the primary) and migrations are pending: only the primary may write. Nothing was changed.
    #[error("replica: primary is {primary} (migrations are pending on {}; run them on the primary)", path.display())]
    Replica {
        /// The primary's host, as the `.primary` file names it.
        primary: String,
        /// The database file.
        path: std::path::PathBuf,
    },
    /// [`Migrator::wait`](crate::Migrator::wait) gave up: the database did not reach the embedded set in time.
    #[error("the database did not reach version {target} within {waited:?} (it is at version {current})")]
    WaitTimeout {
        /// The version waited for.
        target: u64,
        /// The newest version the history recorded at the last poll (0 when none).
        current: u64,
        /// How long it waited.
        waited: std::time::Duration,
    },
    /// The disk (or `max_page_count`) is full; the transaction was rolled back.
    #[error("{}database or disk is full: {source}", opt_at(at))]
    DiskFull {
        /// The migration running when it happened, if any.
        at: Option<At>,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },
    /// Any other SQLite error, outside a migration's own SQL.
    #[error("{}{context}: {source}", opt_at(at))]
    Database {
        /// What was being done.
        context: String,
        /// The migration involved, if any.
        at: Option<At>,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },
    /// The lock file that serialises `no-transaction` migrations across processes could not be used.
    #[error("{at}: lock file {path}: {source}")]
    LockFile {
        /// The migration that needed it.
        at: At,
        /// The lock file.
        path: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// `baseline` on a database that already has history for this set.
    #[error("cannot baseline: history table {table} already has {rows} row(s) for set `{set}`")]
    HistoryNotEmpty {
        /// The history table.
        table: String,
        /// The set.
        set: String,
        /// How many rows.
        rows: u64,
    },
    /// The live schema differs from the embedded schema at the database's version.
    #[error(
        "{}schema differs from the embedded schema at version {version}:\n{diff}",
        opt_at(at)
    )]
    SchemaDrift {
        /// The migration whose schema was expected (the current or baseline version).
        at: Option<At>,
        /// The version.
        version: u64,
        /// What differs, one item per line (the text of `schema_diff`, or why there is none).
        diff: String,
        /// What differs, as data: the facts the embedded schema has and the live one lacks, and the reverse.
        /// `None` when the build did not record the expected schema (only its hash), so only the hashes could be
        /// compared.
        schema_diff: Option<Box<litemigrate_core::schema::SchemaDiff>>,
    },
    /// `PRAGMA integrity_check` reported problems.
    #[error("integrity check failed: {}", messages.join("; "))]
    Integrity {
        /// What SQLite reported.
        messages: Vec<String>,
    },
    /// A migrations directory that breaks the file rules (run-time loading).
    #[error(transparent)]
    Load(#[from] litemigrate_core::LoadError),
    /// A migrations directory whose SQL does not compile (run-time loading).
    #[error(transparent)]
    #[cfg(feature = "validate")]
    Compile(#[from] litemigrate_core::compile::CompileError),
    /// A repeatable migration of a directory fails against the final schema or is not re-runnable (run-time
    /// loading; kind [`ErrorKind::Compile`], as the macro rejects it the same way).
    #[error(transparent)]
    #[cfg(feature = "validate")]
    Repeatable(litemigrate_core::repeatable::RepeatableError),
    /// The backup taken before the first write failed, or the database is one an interrupted restore left
    /// half-written ([`crate::backup::BackupError::RestoreInterrupted`], whatever the backup policy); nothing was
    /// migrated.
    #[error("nothing was migrated: {0}")]
    Backup(#[from] crate::backup::BackupError),
    /// Adopting another tool's database failed, or a launch found another tool's history and none of ours.
    #[error(transparent)]
    Adopt(#[from] crate::adopt::AdoptError),
    /// A `no-transaction` migration failed midway (the one failure a transaction cannot undo), and the pre-migrate
    /// backup was restored automatically: the database is as it was before the run. [`Error::kind`] and
    /// [`Error::migration`] are those of the failure.
    #[error("{source}; the database was restored automatically from the pre-migrate backup {}", backup.id)]
    RestoredFromBackup {
        /// The failure.
        source: Box<Error>,
        /// The backup that was restored.
        backup: Box<crate::backup::BackupInfo>,
    },
    /// A `no-transaction` migration failed midway, and the pre-migrate backup was NOT restored automatically
    /// because another connection committed to the database after the backup was taken: restoring would have
    /// discarded those writes. The database may be half-migrated; restore the named backup by hand
    /// (`litemigrate_runtime::backup::restore`) if losing the other writes is acceptable, or repair the migration's
    /// partial changes. [`Error::kind`] and [`Error::migration`] are those of the failure.
    #[error(
        "{source}; the pre-migrate backup {} ({}) was NOT restored automatically: another connection committed to \
         the database after it was taken, and restoring would discard those writes. The database may be \
         half-migrated: repair it, or restore that backup by hand (`migrate backup restore` / \
         `litemigrate_runtime::backup::restore`) if the other writes may be lost",
        backup.id,
        backup.path.display()
    )]
    NotRestored {
        /// The failure.
        source: Box<Error>,
        /// The backup that was left alone.
        backup: Box<crate::backup::BackupInfo>,
    },
    /// As [`Error::RestoredFromBackup`], but the restore failed too: the database may be half-migrated. Restore
    /// the backup by hand (`litemigrate_runtime::backup::restore`).
    #[error("{source}; restoring the pre-migrate backup {} failed too ({restore}); restore it by hand", backup.id)]
    RestoreFailed {
        /// The failure.
        source: Box<Error>,
        /// The backup that could not be restored.
        backup: Box<crate::backup::BackupInfo>,
        /// Why the restore failed.
        restore: crate::backup::BackupError,
    },
}

/// The readable message and the kind, not the variant's fields: `fn main() -> Result<(), Box<dyn Error>>` prints
/// the error it returns with `Debug`, and that is where an application's users read it. The fields stay available
/// by matching on the variant.
impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self} [{}]", self.kind())
    }
}

impl Error {
    /// The class of failure.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidTableName { .. } => ErrorKind::InvalidTableName,
            Error::Divergent { .. } => ErrorKind::Divergent,
            Error::Missing { .. } => ErrorKind::Missing,
            Error::DatabaseAhead { .. } => ErrorKind::DatabaseAhead,
            Error::OutOfOrder { .. } => ErrorKind::OutOfOrder,
            Error::CorruptHistory { .. } => ErrorKind::CorruptHistory,
            Error::Irreversible { .. } => ErrorKind::Irreversible,
            Error::UnknownTarget { .. } => ErrorKind::UnknownTarget,
            Error::RequiresNotMet { .. } => ErrorKind::RequiresNotMet,
            Error::MigrationFailed { .. } => ErrorKind::MigrationFailed,
            Error::CodeFailed { .. } => ErrorKind::CodeFailed,
            Error::ForeignKeyViolation { .. } => ErrorKind::ForeignKeyViolation,
            Error::Busy { .. } => ErrorKind::Busy,
            Error::ReadOnly { .. } => ErrorKind::ReadOnly,
            Error::DiskFull { .. } => ErrorKind::DiskFull,
            Error::Database { .. } => ErrorKind::Database,
            Error::LockFile { .. } => ErrorKind::LockFile,
            Error::HistoryNotEmpty { .. } => ErrorKind::HistoryNotEmpty,
            Error::SchemaDrift { .. } => ErrorKind::SchemaDrift,
            Error::Integrity { .. } => ErrorKind::Integrity,
            Error::Load(_) => ErrorKind::Load,
            #[cfg(feature = "validate")]
            Error::Compile(_) | Error::Repeatable(_) => ErrorKind::Compile,
            Error::Backup(_) => ErrorKind::Backup,
            Error::TransactionLeft { .. } => ErrorKind::TransactionLeft,
            Error::WritesHistoryTable { .. } => ErrorKind::WritesHistoryTable,
            Error::Adopt(e) => e.kind(),
            Error::SquashedBelow { .. } => ErrorKind::SquashedBelow,
            Error::Replica { .. } => ErrorKind::Replica,
            Error::WaitTimeout { .. } => ErrorKind::WaitTimeout,
            Error::RestoredFromBackup { source, .. }
            | Error::NotRestored { source, .. }
            | Error::RestoreFailed { source, .. } => source.kind(),
        }
    }

    /// The migration the error is about, when there is one.
    pub fn migration(&self) -> Option<&At> {
        match self {
            Error::Divergent { at, .. }
            | Error::Missing { at }
            | Error::DatabaseAhead { at, .. }
            | Error::OutOfOrder { at, .. }
            | Error::Irreversible { at, .. }
            | Error::MigrationFailed { at, .. }
            | Error::CodeFailed { at, .. }
            | Error::ForeignKeyViolation { at, .. }
            | Error::LockFile { at, .. }
            | Error::TransactionLeft { at, .. }
            | Error::WritesHistoryTable { at, .. }
            | Error::SquashedBelow { at, .. } => Some(at),
            Error::Busy { at, .. }
            | Error::ReadOnly { at, .. }
            | Error::DiskFull { at, .. }
            | Error::Database { at, .. }
            | Error::SchemaDrift { at, .. } => at.as_ref(),
            Error::RestoredFromBackup { source, .. }
            | Error::NotRestored { source, .. }
            | Error::RestoreFailed { source, .. } => source.migration(),
            _ => None,
        }
    }

    /// Classifies a SQLite error raised outside a migration's own statements (taking the lock, writing history).
    pub(crate) fn db(context: impl Into<String>, at: Option<At>, source: rusqlite::Error) -> Error {
        match sqlite_code(&source) {
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => Error::Busy { at, source },
            Some(rusqlite::ErrorCode::ReadOnly) => Error::ReadOnly { at, source },
            Some(rusqlite::ErrorCode::DiskFull) => Error::DiskFull { at, source },
            _ => Error::Database {
                context: context.into(),
                at,
                source,
            },
        }
    }

    /// Classifies a SQLite error raised by a migration's statement: environmental failures (busy, read-only, full)
    /// keep their own kind so callers can retry or free space; the rest is the migration's fault.
    pub(crate) fn statement(at: At, line: usize, down: bool, source: rusqlite::Error) -> Error {
        match sqlite_code(&source) {
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
                Error::Busy { at: Some(at), source }
            }
            Some(rusqlite::ErrorCode::ReadOnly) => Error::ReadOnly { at: Some(at), source },
            Some(rusqlite::ErrorCode::DiskFull) => Error::DiskFull { at: Some(at), source },
            _ => {
                let hint = litemigrate_core::hint::for_sqlite_message(&source.to_string());
                Error::MigrationFailed {
                    at,
                    line,
                    down,
                    source,
                    sqlite: None,
                    hint,
                }
            }
        }
    }

    /// Names both SQLite versions in a statement failure when the set was validated with another SQLite than the
    /// one running it: the usual reason SQL that passed the build fails at launch.
    pub(crate) fn with_sqlite_versions(mut self, build: Option<&str>) -> Error {
        if let Error::MigrationFailed { sqlite, .. } = &mut self {
            let v = SqliteVersions::new(build);
            if v.differ() {
                *sqlite = Some(Box::new(v));
            }
        }
        self
    }
}

/// The SQLite a set was validated with at build time and the one the application runs on.
///
/// ```
/// let v = litemigrate_runtime::SqliteVersions::new(Some("3.0.0"));
/// assert!(v.differ());
/// assert!(v.to_string().starts_with("validated with SQLite 3.0.0 at build, running on "));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct SqliteVersions {
    /// The SQLite the set was validated with (`None`: not recorded, e.g. a set built without compiling).
    pub build: Option<String>,
    /// The SQLite this process links (`rusqlite::version()`).
    pub running: String,
}

impl SqliteVersions {
    /// The build's version as given, and the running one.
    pub fn new(build: Option<&str>) -> SqliteVersions {
        SqliteVersions {
            build: build.map(str::to_owned),
            running: rusqlite::version().to_owned(),
        }
    }

    /// Whether the build's SQLite is known and is not the running one.
    pub fn differ(&self) -> bool {
        self.build.as_deref().is_some_and(|b| b != self.running)
    }
}

impl fmt::Display for SqliteVersions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.build {
            Some(b) => write!(f, "validated with SQLite {b} at build, running on {}", self.running),
            None => write!(
                f,
                "running on SQLite {} (the build's version was not recorded)",
                self.running
            ),
        }
    }
}

fn versions_note(v: &Option<Box<SqliteVersions>>) -> String {
    v.as_ref().map(|v| format!(" ({v})")).unwrap_or_default()
}

fn hint_note(h: &Option<&'static str>) -> String {
    h.map(|h| format!("; hint: {h}")).unwrap_or_default()
}

pub(crate) fn sqlite_code(e: &rusqlite::Error) -> Option<rusqlite::ErrorCode> {
    match e {
        rusqlite::Error::SqliteFailure(f, _) => Some(f.code),
        _ => None,
    }
}
