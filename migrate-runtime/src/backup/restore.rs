//! Verifying a backup (hash, then integrity) and restoring it into a live database through the backup API.

use super::create::{create, step_to_done};
use super::fsutil::{check_integrity, open_backup_file, sha256_file};
use super::manifest::{BackupInfo, Reason, inspect};
use super::{BackupError, BackupOptions};
use rusqlite::Connection;
use rusqlite::backup::Backup;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Write};
use std::path::Path;
use tempfile::NamedTempFile;

/// What [`restore`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreReport {
    /// The backup that now is the database.
    pub restored: BackupInfo,
    /// The backup of the database as it was just before the restore (`None` for an in-memory or empty database).
    pub pre_restore: Option<BackupInfo>,
}

/// A verified, plain (decompressed if need be) copy of a backup, ready to be read by SQLite.
enum Plain {
    /// The backup file itself.
    InPlace,
    /// A decompressed temporary file, deleted on drop.
    Temp(NamedTempFile),
}

impl Plain {
    fn path<'a>(&'a self, info: &'a BackupInfo) -> &'a Path {
        match self {
            Plain::InPlace => &info.path,
            Plain::Temp(t) => t.path(),
        }
    }
}

/// Checks a backup: its SHA-256 against the manifest first (a flipped byte), then `PRAGMA integrity_check` (or
/// `quick_check` per `opts`) on the database it holds (a copy that was bad when written, or truncated before
/// hashing). Compressed backups are decompressed to a temporary file in the backup directory for the check.
///
/// ```no_run
/// use migrate_runtime::backup::{self, BackupOptions};
/// # fn main() -> Result<(), migrate_runtime::backup::BackupError> {
/// let dir = std::path::Path::new("backups");
/// for b in backup::list(dir)? {
///     match backup::verify(dir, &b.id, &BackupOptions::default()) {
///         Ok(_) => println!("{}: ok", b.id),
///         Err(e) => println!("{}: {e}", b.id),
///     }
/// }
/// # Ok(())
/// # }
/// ```
pub fn verify(dir: &Path, id: &str, opts: &BackupOptions) -> Result<BackupInfo, BackupError> {
    let info = inspect(dir, id)?;
    let _plain = verified_plain(&info, opts.quick_check)?;
    Ok(info)
}

fn verified_plain(info: &BackupInfo, quick: bool) -> Result<Plain, BackupError> {
    let expected = info.checksum().ok_or_else(|| BackupError::ManifestCorrupt {
        path: info.manifest_path(),
        detail: format!("sha256 {:?} is not a SHA-256 value", info.sha256),
    })?;
    // Hash and integrity check each read the whole file: run them side by side, and report a hash mismatch first
    // (it says the file changed after it was written, which explains any integrity failure too).
    std::thread::scope(|s| {
        let hashing = s.spawn(|| sha256_file(&info.path));
        let checked = (|| {
            let plain = if info.compressed {
                Plain::Temp(decompress(info)?)
            } else {
                Plain::InPlace
            };
            check_integrity(plain.path(info), quick)?;
            Ok(plain)
        })();
        let hashed = hashing.join().unwrap_or_else(|_| {
            Err(BackupError::io(
                "hash",
                &info.path,
                io::Error::other("the hashing thread panicked"),
            ))
        });
        let actual = match hashed {
            Err(BackupError::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {
                return Err(BackupError::NotFound {
                    id: info.id.clone(),
                    dir: info.path.parent().map(Path::to_path_buf).unwrap_or_default(),
                });
            }
            Err(e) => return Err(e),
            Ok((actual, _len)) => actual,
        };
        if actual != expected {
            return Err(BackupError::HashMismatch {
                path: info.path.clone(),
                expected,
                actual,
            });
        }
        checked
    })
}

fn decompress(info: &BackupInfo) -> Result<NamedTempFile, BackupError> {
    let dir = info.path.parent().unwrap_or_else(|| Path::new("."));
    let tmp = tempfile::Builder::new()
        .prefix(".restore.")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| BackupError::io("create a temporary file in", dir, e))?;
    let input = File::open(&info.path).map_err(|e| BackupError::io("open", &info.path, e))?;
    let out = tmp
        .as_file()
        .try_clone()
        .map_err(|e| BackupError::io("open", tmp.path().to_path_buf(), e))?;
    let mut writer = BufWriter::with_capacity(1 << 20, out);
    let mut dec = zstd::stream::read::Decoder::with_buffer(BufReader::with_capacity(1 << 20, input))
        .map_err(|e| BackupError::io("decompress", &info.path, e))?;
    let copied = io::copy(&mut dec, &mut writer).and_then(|n| writer.flush().map(|()| n));
    match copied {
        Ok(_) => Ok(tmp),
        // A write error is about the temp file (likely a full disk); a read error means the stream is damaged.
        Err(e) if is_write_side(&e) => Err(BackupError::io("decompress into", tmp.path().to_path_buf(), e)),
        Err(e) => Err(BackupError::IntegrityFailed {
            path: info.path.clone(),
            message: format!("zstd stream is damaged: {e}"),
        }),
    }
}

fn is_write_side(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded | io::ErrorKind::PermissionDenied
    ) || matches!(e.raw_os_error(), Some(28 | 122))
}

/// Restores a backup into `conn`'s main database.
///
/// In order: resolve `id` inside `dir` (refusing anything outside), verify hash and integrity, back up the current
/// database (reason `pre-restore`; `current_version` is recorded as its version before, the backup's own version as
/// its target), then copy the backup into the database with SQLite's backup API. The copy is one write transaction
/// on the target, so other connections see the old database or the restored one, never a mix.
///
/// ```no_run
/// use migrate_runtime::backup::{self, BackupOptions};
/// # fn main() -> Result<(), migrate_runtime::backup::BackupError> {
/// let mut conn = rusqlite::Connection::open("app.db").unwrap();
/// let dir = std::path::Path::new("backups");
/// let newest = backup::list(dir)?.into_iter().next().expect("a backup");
/// let report = backup::restore(&mut conn, dir, &newest.id, 7, &BackupOptions::default())?;
/// println!("restored {}; the previous state is in {:?}", report.restored.id, report.pre_restore.map(|b| b.id));
/// # Ok(())
/// # }
/// ```
pub fn restore(
    conn: &mut Connection,
    dir: &Path,
    id: &str,
    current_version: u64,
    opts: &BackupOptions,
) -> Result<RestoreReport, BackupError> {
    let info = inspect(dir, id)?;
    let opts = BackupOptions {
        dir: Some(dir.to_path_buf()),
        ..opts.clone()
    };
    restore_info(conn, &info, current_version, &opts)
}

/// [`restore`] for a backup already in hand (e.g. the one [`create`] just returned), without resolving an id. The
/// pre-restore backup goes to `opts`' directory.
///
/// ```no_run
/// use migrate_runtime::backup::{self, BackupOptions, Reason};
/// # fn main() -> Result<(), migrate_runtime::backup::BackupError> {
/// let mut conn = rusqlite::Connection::open("app.db").unwrap();
/// let opts = BackupOptions::default();
/// if let Some(info) = backup::create(&conn, &opts, Reason::PreMigrate, 3, 4)? {
///     // ... a migration that cannot be rolled back fails halfway ...
///     backup::restore_info(&mut conn, &info, 3, &opts)?;
/// }
/// # Ok(())
/// # }
/// ```
pub fn restore_info(
    conn: &mut Connection,
    info: &BackupInfo,
    current_version: u64,
    opts: &BackupOptions,
) -> Result<RestoreReport, BackupError> {
    let plain = verified_plain(info, opts.quick_check)?;
    let pre_restore = create(conn, opts, Reason::PreRestore, current_version, info.version_before)?;
    let target = super::db_file(conn).unwrap_or_default();
    {
        let src = open_backup_file(plain.path(info))?;
        let b = Backup::new(&src, conn).map_err(|e| BackupError::sqlite("start restoring into", &target, e))?;
        step_to_done(&b, &target)?;
    }
    Ok(RestoreReport {
        restored: info.clone(),
        pre_restore,
    })
}
