//! Verifying a backup (hash, then integrity) and restoring it into a live database: in place where that is safe
//! (`inplace.rs`), through SQLite's backup API otherwise.

use super::create::{create, step_to_done};
use super::fsutil::{check_integrity, open_backup_file, sha256_file};
#[cfg(unix)]
use super::inplace::InPlace;
use super::inplace::{self, Marker, MarkerLock};
use super::manifest::{BackupInfo, Reason, inspect};
use super::temp::TempFile;
use super::{BackupError, BackupOptions, SnapshotMethod};
use rusqlite::Connection;
use rusqlite::backup::Backup;
use std::fs::File;
use std::io;
#[cfg(feature = "compression")]
use std::io::{BufReader, BufWriter, Write};
use std::path::Path;

/// What [`restore`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreReport {
    /// The backup that now is the database.
    pub restored: BackupInfo,
    /// The backup of the database as it was just before the restore (`None` for an in-memory or empty database).
    /// When this restore finished an interrupted one, the pre-restore backup that one took, if it can be found.
    pub pre_restore: Option<BackupInfo>,
    /// How the backup was written into the database.
    pub method: RestoreMethod,
    /// The database was half-written by an earlier restore that was interrupted (see
    /// [`BackupError::RestoreInterrupted`]); this restore finished it. No pre-restore backup of the half-written file
    /// was taken.
    pub finished_interrupted: bool,
    /// Pages written into the database file by [`RestoreMethod::InPlace`], which skips pages that already hold the
    /// backup's bytes (after a migration that changed little, most of them); `None` for the backup API, which writes
    /// every page.
    pub pages_written: Option<u64>,
}

/// How [`restore`] wrote the backup into the database.
///
/// ```
/// use litemigrate_runtime::backup::RestoreMethod;
/// assert_eq!(RestoreMethod::InPlace.as_str(), "in-place");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestoreMethod {
    /// The verified file was written over the database file once, in place, under an exclusive lock (unix, file
    /// database, no other connection with the WAL open, connection in normal locking mode and autocommit). The
    /// default when those hold: about the cost of a `cp` when few pages differ, bounded by the disk's write speed when
    /// all do.
    InPlace,
    /// SQLite's online backup API, one write transaction on the database (every page goes through the WAL or the
    /// journal): the fallback, and what [`SnapshotMethod::BackupApi`](super::SnapshotMethod::BackupApi) asks for.
    BackupApi,
}

impl RestoreMethod {
    /// `"in-place"` or `"backup-api"`.
    pub fn as_str(self) -> &'static str {
        match self {
            RestoreMethod::InPlace => "in-place",
            RestoreMethod::BackupApi => "backup-api",
        }
    }
}

/// A verified, plain (decompressed if need be) copy of a backup, ready to be read by SQLite.
enum Plain {
    /// The backup file itself.
    InPlace,
    /// A decompressed temporary file, deleted on drop.
    Temp(TempFile),
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
/// use litemigrate_runtime::backup::{self, BackupOptions};
/// # fn main() -> Result<(), litemigrate_runtime::backup::BackupError> {
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

#[cfg(not(feature = "compression"))]
fn decompress(info: &BackupInfo) -> Result<TempFile, BackupError> {
    Err(BackupError::io(
        "decompress",
        &info.path,
        super::create::compression_unavailable(),
    ))
}

#[cfg(feature = "compression")]
fn decompress(info: &BackupInfo) -> Result<TempFile, BackupError> {
    let dir = info.path.parent().unwrap_or_else(|| Path::new("."));
    // Locked while in use, so a later backup removes it only once a killed restore left it.
    let tmp = super::fsutil::locked_temp(dir, "restore")?;
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

#[cfg(feature = "compression")]
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
/// its target), then put the backup into the database. Other connections see the old database or the restored one,
/// never a mix; how depends on [`RestoreReport::method`]:
///
/// - [`RestoreMethod::InPlace`] (the default where it is safe; see [`BackupOptions::method`]): the file is written
///   over the database once, under `BEGIN EXCLUSIVE`, keeping its inode, so every open connection (even one that has
///   not read yet) sees the restored file. Only pages that differ from the backup are written
///   ([`RestoreReport::pages_written`]). A WAL database is switched to `journal_mode=DELETE` for the copy, which
///   only succeeds when no other connection has it open, and back to WAL after. A process killed during the copy
///   leaves a file SQLite refuses ("file is not a database"), never a mix; [`create`] then reports
///   [`BackupError::RestoreInterrupted`] and the next `restore` into the database finishes.
/// - [`RestoreMethod::BackupApi`]: SQLite's online backup API, one write transaction on the database (atomic, but
///   every page is written twice). Used when another connection has the WAL open, the connection is inside a
///   transaction or in exclusive locking mode, on non-unix systems, and when `opts.method` is
///   [`SnapshotMethod::BackupApi`](super::SnapshotMethod::BackupApi).
///
/// `conn` stays usable and sees the restored database.
///
/// ```no_run
/// use litemigrate_runtime::backup::{self, BackupOptions};
/// # fn main() -> Result<(), litemigrate_runtime::backup::BackupError> {
/// let mut conn = rusqlite::Connection::open("app.db").unwrap();
/// let dir = std::path::Path::new("backups");
/// let newest = backup::list(dir)?.into_iter().next().expect("a backup");
/// let report = backup::restore(&mut conn, dir, &newest.id, 7, &BackupOptions::default())?;
/// println!("restored {} ({}); the previous state is in {:?}", report.restored.id, report.method.as_str(),
///          report.pre_restore.map(|b| b.id));
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
/// use litemigrate_runtime::backup::{self, BackupOptions, Reason};
/// # fn main() -> Result<(), litemigrate_runtime::backup::BackupError> {
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
    let src = plain.path(info);
    let Some(db) = super::db_file(conn) else {
        return restore_backup_api(conn, info, src, current_version, opts, None);
    };
    // One restore per database file at a time; held until the restore is complete.
    let lock = MarkerLock::acquire(&db)?;
    let result = restore_file(conn, &db, info, src, current_version, opts, &lock);
    match &result {
        // The marker names the backups that finish the job: keep it.
        Err(BackupError::RestoreInterrupted { .. }) => drop(lock),
        _ => lock.finish()?,
    }
    result
}

fn restore_file(
    conn: &mut Connection,
    db: &Path,
    info: &BackupInfo,
    src: &Path,
    current_version: u64,
    opts: &BackupOptions,
    lock: &MarkerLock,
) -> Result<RestoreReport, BackupError> {
    let mut marker = Marker {
        backup: info.id.clone(),
        dir: info.path.parent().map(Path::to_path_buf).unwrap_or_default(),
        ..Marker::default()
    };
    if inplace::is_torn(db)? {
        return finish_interrupted(db, info, src, lock, marker);
    }
    if opts.method == SnapshotMethod::BackupApi {
        return restore_backup_api(conn, info, src, current_version, opts, Some(db));
    }
    #[cfg(not(unix))]
    return restore_backup_api(conn, info, src, current_version, opts, Some(db));
    #[cfg(unix)]
    {
        let Some(prepared) = inplace::prepare(conn, db) else {
            return restore_backup_api(conn, info, src, current_version, opts, Some(db));
        };
        marker.wal = prepared.wal;
        let result = in_place(conn, db, info, src, current_version, opts, lock, &mut marker);
        prepared.end(conn);
        result
    }
}

#[cfg(unix)]
#[allow(clippy::too_many_arguments)]
fn in_place(
    conn: &mut Connection,
    db: &Path,
    info: &BackupInfo,
    src: &Path,
    current_version: u64,
    opts: &BackupOptions,
    lock: &MarkerLock,
    marker: &mut Marker,
) -> Result<RestoreReport, BackupError> {
    for attempt in 1..=3 {
        let data_version = conn
            .query_row("PRAGMA data_version", [], |r| r.get::<_, i64>(0))
            .map_err(|e| BackupError::sqlite("read the state of", db, e))?;
        let pre_restore = create(conn, opts, Reason::PreRestore, current_version, info.version_before)?;
        marker.pre_restore = pre_restore.as_ref().map(|p| p.id.clone());
        match inplace::write(conn, db, src, lock, marker, data_version)? {
            InPlace::Done(pages) => {
                return Ok(RestoreReport {
                    restored: info.clone(),
                    pre_restore,
                    method: RestoreMethod::InPlace,
                    finished_interrupted: false,
                    pages_written: Some(pages),
                });
            }
            // Another connection committed after the pre-restore backup was taken: take it again.
            InPlace::Changed => {
                crate::trace::retry(
                    "another connection committed after the pre-restore backup: taken again",
                    attempt,
                );
                continue;
            }
            InPlace::Unsupported => return copy_back(conn, info, src, pre_restore, Some(db)),
        }
    }
    Err(BackupError::Busy { path: db.to_path_buf() })
}

/// The interrupted restore's marker names its pre-restore backup: report that one, no new backup of a half-written
/// file is possible.
fn finish_interrupted(
    db: &Path,
    info: &BackupInfo,
    src: &Path,
    lock: &MarkerLock,
    mut marker: Marker,
) -> Result<RestoreReport, BackupError> {
    #[cfg(unix)]
    {
        let earlier = inplace::read_marker(db);
        marker.wal = match &earlier {
            Some(m) => m.wal,
            // Byte 18 of the header: 2 for a WAL database.
            None => header_byte(src, 18) == Some(2),
        };
        let pre_restore = earlier
            .as_ref()
            .and_then(|m| inspect(&m.dir, m.pre_restore.as_deref()?).ok());
        marker.pre_restore = pre_restore.as_ref().map(|p| p.id.clone());
        let pages = inplace::finish_interrupted(db, src, lock, &marker)?;
        Ok(RestoreReport {
            restored: info.clone(),
            pre_restore,
            method: RestoreMethod::InPlace,
            finished_interrupted: true,
            pages_written: Some(pages),
        })
    }
    #[cfg(not(unix))]
    {
        let _ = (src, lock, &mut marker);
        Err(inplace::interrupted(
            db,
            format!("restoring {} over it needs a unix system", info.id),
        ))
    }
}

#[cfg(unix)]
fn header_byte(path: &Path, at: u64) -> Option<u8> {
    use std::os::unix::fs::FileExt;
    let mut b = [0u8; 1];
    File::open(path).ok()?.read_exact_at(&mut b, at).ok()?;
    Some(b[0])
}

fn restore_backup_api(
    conn: &mut Connection,
    info: &BackupInfo,
    src: &Path,
    current_version: u64,
    opts: &BackupOptions,
    db: Option<&Path>,
) -> Result<RestoreReport, BackupError> {
    let pre_restore = create(conn, opts, Reason::PreRestore, current_version, info.version_before)?;
    copy_back(conn, info, src, pre_restore, db)
}

/// The backup API into the live database: one write transaction, so other connections see old or new.
fn copy_back(
    conn: &mut Connection,
    info: &BackupInfo,
    src: &Path,
    pre_restore: Option<BackupInfo>,
    db: Option<&Path>,
) -> Result<RestoreReport, BackupError> {
    backup_api_into(conn, src, db)?;
    Ok(RestoreReport {
        restored: info.clone(),
        pre_restore,
        method: RestoreMethod::BackupApi,
        finished_interrupted: false,
        pages_written: None,
    })
}

fn backup_api_into(conn: &mut Connection, src: &Path, db: Option<&Path>) -> Result<(), BackupError> {
    let target = db.map(Path::to_path_buf).unwrap_or_default();
    let src = open_backup_file(src)?;
    let b = Backup::new(&src, conn).map_err(|e| BackupError::sqlite("start restoring into", &target, e))?;
    step_to_done(&b, &target)
}

/// The copy-back step alone: writes the plain database file `src` into `conn`'s database with `method` (in place
/// where possible for [`SnapshotMethod::Auto`]), without verification or a pre-restore backup. For the benchmark's
/// breakdown (see [`super::bench`]); not a stable API. Returns the method and, in place, the pages written.
#[cfg(feature = "bench-internals")]
pub fn copy_back_only(
    conn: &mut Connection,
    src: &Path,
    method: SnapshotMethod,
) -> Result<(RestoreMethod, Option<u64>), BackupError> {
    let db = super::db_file(conn).ok_or_else(|| BackupError::NotFound {
        id: "main".into(),
        dir: src.to_path_buf(),
    })?;
    #[cfg(unix)]
    if method == SnapshotMethod::Auto
        && let Some(prepared) = inplace::prepare(conn, &db)
    {
        let lock = MarkerLock::acquire(&db)?;
        let marker = Marker {
            backup: "benchmark".into(),
            wal: prepared.wal,
            ..Marker::default()
        };
        let r = conn
            .query_row("PRAGMA data_version", [], |r| r.get::<_, i64>(0))
            .map_err(|e| BackupError::sqlite("read the state of", &db, e))
            .and_then(|v| inplace::write(conn, &db, src, &lock, &marker, v));
        prepared.end(conn);
        lock.finish()?;
        if let InPlace::Done(pages) = r? {
            return Ok((RestoreMethod::InPlace, Some(pages)));
        }
    }
    let _ = method;
    backup_api_into(conn, src, Some(&db)).map(|()| (RestoreMethod::BackupApi, None))
}
