use litemigrate_core::Checksum;
use std::io;
use std::path::PathBuf;

/// Everything that can go wrong while creating, verifying, restoring or pruning backups.
///
/// ```no_run
/// use litemigrate_runtime::backup::{self, BackupErrorKind, BackupOptions};
/// # let dir = std::path::Path::new("backups");
/// match backup::verify(dir, "app.20261122T103000.123Z.v3", &BackupOptions::default()) {
///     Ok(info) => println!("{} is intact", info.id),
///     Err(e) if e.kind() == BackupErrorKind::HashMismatch => eprintln!("the file changed after it was written: {e}"),
///     Err(e) => eprintln!("{e}"),
/// }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BackupError {
    /// A file operation failed.
    #[error("backup: cannot {op} {}: {source}", path.display())]
    Io {
        /// What was being done.
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// SQLite reported an error while copying or checking.
    #[error("backup: SQLite failed to {op} {}: {source}", path.display())]
    Sqlite {
        /// What was being done.
        op: &'static str,
        /// The database or backup file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: rusqlite::Error,
    },
    /// The disk (or quota) is full. Nothing partial was left behind and the database was not changed.
    #[error("backup: no space left while writing {} ({detail}); nothing was written and the database is unchanged", path.display())]
    DiskFull {
        /// The file being written.
        path: PathBuf,
        /// The underlying message.
        detail: String,
    },
    /// `PRAGMA integrity_check` (or `quick_check`) did not say `ok`, or the file is not a database.
    #[error("backup: integrity check of {} failed: {message}", path.display())]
    IntegrityFailed {
        /// The checked file.
        path: PathBuf,
        /// What SQLite reported.
        message: String,
    },
    /// The file's SHA-256 is not the one its manifest recorded.
    #[error("backup: {} has SHA-256 {actual}, its manifest recorded {expected}", path.display())]
    HashMismatch {
        /// The backup file.
        path: PathBuf,
        /// From the manifest.
        expected: Checksum,
        /// Computed now.
        actual: Checksum,
    },
    /// A backup id or path resolves outside the backup directory.
    #[error("backup: refusing {requested:?}: it resolves outside the backup directory {}", dir.display())]
    OutsideDir {
        /// What the caller asked for.
        requested: String,
        /// The backup directory.
        dir: PathBuf,
    },
    /// No backup with this id (no manifest for it) in the directory.
    #[error("backup: no backup {id:?} in {}", dir.display())]
    NotFound {
        /// What the caller asked for.
        id: String,
        /// The backup directory.
        dir: PathBuf,
    },
    /// A manifest is unreadable, or does not describe the file next to it.
    #[error("backup: manifest {} is corrupt: {detail}", path.display())]
    ManifestCorrupt {
        /// The manifest file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// The source stayed locked by other connections.
    #[error("backup: {} stayed busy (locked by another connection)", path.display())]
    Busy {
        /// The database.
        path: PathBuf,
    },
    /// A restore stopped after it had begun overwriting the database file (the process was killed, or a write
    /// failed). The file is marked so that SQLite refuses it ("file is not a database") rather than serve a mix of
    /// two states; restoring a backup into it (`backup` again, or `pre_restore`, the state before) finishes the job.
    #[error(
        "backup: a restore into {} was interrupted and left it half-written (SQLite refuses the file until a restore \
         finishes): {detail}; restore {} again{}",
        db.display(),
        backup.as_deref().unwrap_or("the backup"),
        pre_restore.as_deref().map(|p| format!(", or {p} for the state before it")).unwrap_or_default()
    )]
    RestoreInterrupted {
        /// The database file.
        db: PathBuf,
        /// The id of the backup that was being restored, when the marker next to the database says.
        backup: Option<String>,
        /// The id of the backup of the database as it was before that restore.
        pre_restore: Option<String>,
        /// What stopped it, or that it was found so.
        detail: String,
    },
}

/// The class of a [`BackupError`], to match on without destructuring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BackupErrorKind {
    /// [`BackupError::Io`].
    Io,
    /// [`BackupError::Sqlite`].
    Sqlite,
    /// [`BackupError::DiskFull`].
    DiskFull,
    /// [`BackupError::IntegrityFailed`].
    IntegrityFailed,
    /// [`BackupError::HashMismatch`].
    HashMismatch,
    /// [`BackupError::OutsideDir`].
    OutsideDir,
    /// [`BackupError::NotFound`].
    NotFound,
    /// [`BackupError::ManifestCorrupt`].
    ManifestCorrupt,
    /// [`BackupError::Busy`].
    Busy,
    /// [`BackupError::RestoreInterrupted`].
    RestoreInterrupted,
}

impl BackupError {
    /// The class of this error.
    ///
    /// ```
    /// use litemigrate_runtime::backup::{BackupError, BackupErrorKind};
    /// let e = BackupError::NotFound { id: "x".into(), dir: "backups".into() };
    /// assert_eq!(e.kind(), BackupErrorKind::NotFound);
    /// ```
    pub fn kind(&self) -> BackupErrorKind {
        match self {
            BackupError::Io { .. } => BackupErrorKind::Io,
            BackupError::Sqlite { .. } => BackupErrorKind::Sqlite,
            BackupError::DiskFull { .. } => BackupErrorKind::DiskFull,
            BackupError::IntegrityFailed { .. } => BackupErrorKind::IntegrityFailed,
            BackupError::HashMismatch { .. } => BackupErrorKind::HashMismatch,
            BackupError::OutsideDir { .. } => BackupErrorKind::OutsideDir,
            BackupError::NotFound { .. } => BackupErrorKind::NotFound,
            BackupError::ManifestCorrupt { .. } => BackupErrorKind::ManifestCorrupt,
            BackupError::Busy { .. } => BackupErrorKind::Busy,
            BackupError::RestoreInterrupted { .. } => BackupErrorKind::RestoreInterrupted,
        }
    }

    /// An I/O error, classified as [`BackupError::DiskFull`] when the device or quota is full.
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: io::Error) -> BackupError {
        let path = path.into();
        if is_disk_full(&source) {
            return BackupError::DiskFull {
                path,
                detail: source.to_string(),
            };
        }
        BackupError::Io { op, path, source }
    }

    /// A SQLite error, classified: `SQLITE_FULL` is a full disk, `SQLITE_BUSY`/`LOCKED` is busy.
    pub(crate) fn sqlite(op: &'static str, path: impl Into<PathBuf>, source: rusqlite::Error) -> BackupError {
        let path = path.into();
        match source.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DiskFull) => BackupError::DiskFull {
                path,
                detail: source.to_string(),
            },
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => BackupError::Busy { path },
            _ => BackupError::Sqlite { op, path, source },
        }
    }
}

fn is_disk_full(e: &io::Error) -> bool {
    if matches!(e.kind(), io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded) {
        return true;
    }
    // ENOSPC (28) and EDQUOT (122) on Linux, for errors that reach us without a kind (e.g. wrapped by zstd).
    #[cfg(target_os = "linux")]
    if matches!(e.raw_os_error(), Some(28 | 122)) {
        return true;
    }
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<io::Error>())
        .is_some_and(is_disk_full)
}
