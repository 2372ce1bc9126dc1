//! Verified backups: a consistent, hashed, integrity-checked copy of a file database, taken before anything changes
//! it, and one call to get it back.
//!
//! A backup is two files in the backup directory (default: `backups/` next to the database):
//!
//! - `{db stem}.{UTC time}.v{version before}.bak` (`.bak.zst` when compressed), the snapshot;
//! - the same name plus `.json`, the manifest ([`BackupInfo`]): source, versions, reason, size, SHA-256, SQLite
//!   version and the integrity result.
//!
//! Only files with a manifest are listed, verified, restored or deleted by retention: a file this library did not
//! create is never touched.
//!
//! A restore ([`restore`]) verifies the backup, backs up the current state (reason `pre-restore`), then writes the
//! backup into the database: in place, once, under `BEGIN EXCLUSIVE` when no other connection can see the file
//! half-written ([`RestoreMethod::InPlace`]; only the pages that differ from the backup are written), otherwise through SQLite's backup API ([`RestoreMethod::BackupApi`]).
//! Either way other connections see the old database or the restored one. A restore killed during the in-place copy
//! leaves a file that SQLite refuses ("file is not a database") and a `<db>-restore` marker naming the backups;
//! [`create`] (so the migrator) then fails with [`BackupError::RestoreInterrupted`], and the next restore into the
//! database finishes the job.
//!
//! ```no_run
//! use litemigrate_runtime::backup::{self, BackupOptions, Reason};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut conn = rusqlite::Connection::open("app.db")?;
//! let opts = BackupOptions::default();
//! if let Some(info) = backup::create(&conn, &opts, Reason::Manual, 3, 3)? {
//!     println!("backup {} ({} bytes, sha256 {})", info.id, info.size, info.sha256);
//! }
//! let dir = opts.dir_for(std::path::Path::new("app.db"));
//! let newest = &backup::list(&dir)?[0];
//! backup::verify(&dir, &newest.id, &opts)?;
//! backup::restore(&mut conn, &dir, &newest.id, 3, &opts)?;
//! # Ok(())
//! # }
//! ```

mod create;
mod error;
mod fsutil;
pub(crate) mod inplace;
mod manifest;
mod restore;
mod retention;
mod temp;

pub use create::create;
pub use error::{BackupError, BackupErrorKind};
pub use manifest::{BackupInfo, Reason, inspect, list};
pub use restore::{RestoreMethod, RestoreReport, restore, restore_info, verify};
pub(crate) use retention::discard;
pub use retention::{Retention, apply_retention};

use std::path::{Path, PathBuf};

/// The steps of a backup and a restore, one at a time, for the backup benchmark's breakdown
/// (`benches/backup.rs`). Behind the `bench-internals` feature, which is **not a stable API**: these functions
/// skip the checks that make [`create`] and [`restore`] safe (no integrity check, no manifest, no pre-restore
/// backup), and may change or go away in any release.
#[cfg(feature = "bench-internals")]
pub mod bench {
    pub use super::create::snapshot_only;
    pub use super::restore::copy_back_only;
}

/// Whether the migrator backs up a file database before changing it.
///
/// ```
/// use litemigrate_runtime::backup::BackupPolicy;
/// assert_eq!(BackupPolicy::default(), BackupPolicy::Required);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BackupPolicy {
    /// No backup.
    Off,
    /// Back up first; a failed backup (including a failed integrity check) stops the migration. The default: the
    /// database may be the only copy of the user's data.
    #[default]
    Required,
    /// Try to back up; on failure, warn and migrate anyway. For callers who explicitly accept the risk.
    BestEffort,
}

/// How a snapshot is taken, and how [`restore`] writes a backup back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SnapshotMethod {
    /// A plain file copy while writers are locked out and the WAL is fully checkpointed, when that can be
    /// established; otherwise the online backup API. Restores write the file over the database in place when no
    /// other connection can see it half-done ([`RestoreMethod::InPlace`]), else use the backup API. The default.
    #[default]
    Auto,
    /// Always SQLite's online backup API, for snapshots and restores (the reference the tests compare the fast
    /// paths against).
    BackupApi,
}

/// Where and how backups are written.
///
/// ```
/// use litemigrate_runtime::backup::{BackupOptions, Retention};
/// use std::time::Duration;
///
/// let opts = BackupOptions {
///     compress: true,
///     retention: Retention { keep_last: Some(5), max_age: Some(Duration::from_secs(7 * 86_400)) },
///     ..BackupOptions::default()
/// };
/// assert!(opts.dir.is_none());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupOptions {
    /// The backup directory; `None` means `backups/` next to the database file.
    pub dir: Option<PathBuf>,
    /// Compress with zstd (streaming). The manifest's hash and size are those of the compressed file.
    pub compress: bool,
    /// The zstd level when compressing (default 3).
    pub compression_level: i32,
    /// Verify with `PRAGMA quick_check` instead of the full `PRAGMA integrity_check`.
    pub quick_check: bool,
    /// What retention keeps (applied by [`apply_retention`]; the migrator applies it after each backup).
    pub retention: Retention,
    /// How the snapshot is taken.
    pub method: SnapshotMethod,
}

impl Default for BackupOptions {
    fn default() -> Self {
        BackupOptions {
            dir: None,
            compress: false,
            compression_level: 3,
            quick_check: false,
            retention: Retention::default(),
            method: SnapshotMethod::Auto,
        }
    }
}

impl BackupOptions {
    /// The backup directory for a database file: [`BackupOptions::dir`], or `backups/` next to the file.
    ///
    /// ```
    /// use litemigrate_runtime::backup::BackupOptions;
    /// use std::path::Path;
    /// let dir = BackupOptions::default().dir_for(Path::new("/data/app.db"));
    /// assert_eq!(dir, Path::new("/data/backups"));
    /// ```
    pub fn dir_for(&self, db_file: &Path) -> PathBuf {
        match &self.dir {
            Some(d) => d.clone(),
            None => db_file.parent().unwrap_or_else(|| Path::new(".")).join("backups"),
        }
    }
}

/// The path of the main database file of `conn`, or `None` for an in-memory or temporary database.
///
/// ```
/// let conn = rusqlite::Connection::open_in_memory().unwrap();
/// assert_eq!(litemigrate_runtime::backup::db_file(&conn), None);
/// ```
pub fn db_file(conn: &rusqlite::Connection) -> Option<PathBuf> {
    match conn.path() {
        Some(p) if !p.is_empty() => Some(PathBuf::from(p)),
        _ => None,
    }
}

/// SHA-256 and length of a file (the catalog's backup runs hash the extra paths they copy).
pub(crate) use fsutil::sha256_file as sha256_of;

/// The manifest's and the file name's forms of the current UTC time (a catalog backup run is named by it).
pub(crate) fn manifest_timestamps_now() -> (String, String) {
    manifest::timestamps(crate::clock::Instant::now())
}
