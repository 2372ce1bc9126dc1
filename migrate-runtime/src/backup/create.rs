//! Taking a backup: consistent snapshot into a temporary file in the backup directory, fsync, integrity check,
//! optional zstd, atomic no-clobber rename, manifest.

#[cfg(feature = "compression")]
use super::fsutil::HashingWriter;
use super::fsutil::{
    Copied, check_integrity, hash_following, locked_temp, remove_stale_temps, sha256_file, sync_dir, with_early_sync,
};
use super::manifest::{self, BackupInfo, FORMAT, Reason};
use super::temp::TempFile;
use super::{BackupError, BackupOptions, SnapshotMethod, db_file};
use litemigrate_core::Checksum;
use rusqlite::Connection;
use rusqlite::backup::{Backup, StepResult};
use std::fs::{self, File};
#[cfg(feature = "compression")]
use std::io::BufReader;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::mpsc::Sender;
use std::time::{Duration, Instant};

/// How long a snapshot waits for other connections' locks before giving up with [`BackupError::Busy`].
const BUSY_WAIT: Duration = Duration::from_secs(10);

/// Backs up the main database of `conn` into the backup directory and verifies the copy.
///
/// Returns `Ok(None)` (nothing to protect) for an in-memory or temporary database and for a database without tables.
/// Otherwise the backup is complete, fsynced, integrity-checked and described by its manifest when this returns; on
/// any error nothing is left in the directory and the database is unchanged.
///
/// `conn` should not hold uncommitted changes: the snapshot is of the committed state, except through the backup API,
/// which would copy what `conn` itself has written so far.
///
/// ```no_run
/// use litemigrate_runtime::backup::{self, BackupOptions, Reason};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let conn = rusqlite::Connection::open("app.db")?;
/// let opts = BackupOptions { compress: true, ..BackupOptions::default() };
/// match backup::create(&conn, &opts, Reason::Manual, 4, 4)? {
///     Some(info) => println!("wrote {}", info.path.display()),
///     None => println!("nothing to back up"),
/// }
/// # Ok(())
/// # }
/// ```
pub fn create(
    conn: &Connection,
    opts: &BackupOptions,
    reason: Reason,
    version_before: u64,
    target_version: u64,
) -> Result<Option<BackupInfo>, BackupError> {
    let Some(src) = source_to_back_up(conn)? else {
        return Ok(None);
    };
    let staging = Staging::new(&src, opts)?;
    let copy = copy_and_check(conn, &src, &staging, opts)?;
    let stored = staging.into_stored();
    let labels = Labels {
        reason,
        version_before,
        target_version,
    };
    let info = persist(stored, src, copy, opts, labels)?;
    Ok(Some(info))
}

/// The database file to back up, or `None` when there is nothing to protect (in-memory, temporary, no tables).
/// Refuses a file an interrupted in-place restore left half-written: a backup of it would be no backup.
fn source_to_back_up(conn: &Connection) -> Result<Option<PathBuf>, BackupError> {
    let Some(src) = db_file(conn) else {
        return Ok(None);
    };
    if super::inplace::is_torn(&src)? {
        return Err(super::inplace::interrupted(
            &src,
            "found at the start of a backup".into(),
        ));
    }
    let has_tables: bool = conn
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM main.sqlite_master WHERE type = 'table')",
            [],
            |r| r.get(0),
        )
        .map_err(|e| BackupError::sqlite("read the schema of", &src, e))?;
    Ok(has_tables.then_some(src))
}

/// The temporary files a backup is written into, in the backup directory (dropped, i.e. deleted, on any error).
struct Staging {
    dir: PathBuf,
    /// The database file's stem: the prefix of the backup's id.
    stem: String,
    /// The plain snapshot (the one checked for integrity).
    plain: TempFile,
    /// The compressed copy, when compressing.
    zst: Option<TempFile>,
}

impl Staging {
    fn new(src: &Path, opts: &BackupOptions) -> Result<Staging, BackupError> {
        let dir = opts.dir_for(src);
        fs::create_dir_all(&dir).map_err(|e| BackupError::io("create directory", &dir, e))?;
        // What killed backups left here would otherwise take a database's size each, for good.
        remove_stale_temps(&dir);
        let stem = src
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "db".into());
        #[cfg(not(feature = "compression"))]
        if opts.compress {
            // Refused before any snapshot is taken: the caller asked for a compressed backup and gets none silently.
            return Err(BackupError::io(
                "compress a backup into",
                &dir,
                compression_unavailable(),
            ));
        }
        let plain = temp_in(&dir, &stem)?;
        let zst = if opts.compress {
            Some(temp_in(&dir, &stem)?)
        } else {
            None
        };
        Ok(Staging { dir, stem, plain, zst })
    }

    /// The file that becomes the backup: the compressed copy if there is one (the plain one is deleted).
    fn into_stored(self) -> Stored {
        let file = match self.zst {
            Some(z) => {
                drop(self.plain);
                z
            }
            None => self.plain,
        };
        Stored {
            dir: self.dir,
            stem: self.stem,
            file,
        }
    }
}

/// The finished temporary file, ready to be renamed into place.
struct Stored {
    dir: PathBuf,
    stem: String,
    file: TempFile,
}

/// What the copy produced: the snapshot's method and size, the integrity check's verdict, the stored file's SHA-256
/// and size.
struct Checked {
    snap: Snapshot,
    integrity: String,
    sha256: Checksum,
    size: u64,
}

/// Snapshot, hash (or compress), fsync and integrity-check, overlapped.
///
/// Three passes over the copy: the hash (of the plain file, or the compression, which hashes its output), the
/// integrity check, and for a plain backup the copy itself. The plain hash follows the copy as it is written; the
/// check starts when the copy is complete and runs beside the rest of the hash (or the compression).
fn copy_and_check(
    conn: &Connection,
    src: &Path,
    staging: &Staging,
    opts: &BackupOptions,
) -> Result<Checked, BackupError> {
    std::thread::scope(|s| {
        let (tx, rx) = std::sync::mpsc::channel();
        let (plain, zst) = (&staging.plain, staging.zst.as_ref());
        let hash_plain = move |rx: Option<std::sync::mpsc::Receiver<Copied>>| {
            let d = match rx {
                Some(rx) => hash_following(plain.path(), &rx)?,
                None => sha256_file(plain.path())?,
            };
            plain
                .as_file()
                .sync_all()
                .map_err(|e| BackupError::io("fsync", plain.path().to_path_buf(), e))?;
            Ok(d)
        };
        let following = zst.is_none().then(|| s.spawn(move || hash_plain(Some(rx))));
        let (snap, synced) = with_early_sync(plain.as_file(), || {
            snapshot(conn, src, plain.path(), opts.method, following.as_ref().map(|_| &tx))
        });
        let snap = snap.and_then(|s| {
            synced
                .map(|()| s)
                .map_err(|e| BackupError::io("fsync", plain.path().to_path_buf(), e))
        });
        let _ = tx.send(Copied::Finished);
        drop(tx);
        let snap = match snap {
            Ok(snap) => snap,
            Err(e) => {
                // The hasher sees the end of the channel and stops; its result does not matter.
                drop(following.map(|h| h.join()));
                return Err(e);
            }
        };
        let digest = following.unwrap_or_else(|| {
            s.spawn(move || match zst {
                Some(z) => compress(plain.path(), z, opts.compression_level),
                None => hash_plain(None),
            })
        });
        let integrity = check_integrity(plain.path(), opts.quick_check);
        let digest = digest.join().unwrap_or_else(|_| Err(thread_panicked(plain.path())));
        // A full disk while compressing is the clearer report; otherwise the integrity failure comes first.
        match (integrity, digest) {
            (_, Err(e @ BackupError::DiskFull { .. })) | (Err(e), _) | (Ok(_), Err(e)) => Err(e),
            (Ok(integrity), Ok((sha256, size))) => Ok(Checked {
                snap,
                integrity,
                sha256,
                size,
            }),
        }
    })
}

/// What the caller says about the backup, recorded in its manifest.
struct Labels {
    reason: Reason,
    version_before: u64,
    target_version: u64,
}

/// Renames the copy into place under a fresh id and writes its manifest; a backup without a manifest is removed
/// again, since list, restore and retention would never see it.
fn persist(
    stored: Stored,
    source: PathBuf,
    copy: Checked,
    opts: &BackupOptions,
    labels: Labels,
) -> Result<BackupInfo, BackupError> {
    let Stored { dir, stem, file } = stored;
    let Labels {
        reason,
        version_before,
        target_version,
    } = labels;
    let (created_at, file_time) = manifest::timestamps(crate::clock::Instant::now());
    let (id, path) = persist_unique(file, &dir, &stem, &file_time, version_before, opts.compress)?;
    let info = BackupInfo {
        format: FORMAT,
        file: manifest::file_name(&id, opts.compress),
        id,
        source,
        created_at,
        version_before,
        target_version,
        reason,
        size: copy.size,
        db_size: copy.snap.db_size,
        sha256: copy.sha256.to_hex(),
        compressed: opts.compress,
        sqlite_version: rusqlite::version().to_owned(),
        check: if opts.quick_check {
            "quick_check"
        } else {
            "integrity_check"
        }
        .to_owned(),
        integrity: copy.integrity,
        method: copy.snap.method.to_owned(),
        path,
    };
    if let Err(e) = manifest::write_manifest(&dir, &info).and_then(|()| sync_dir(&dir)) {
        let _ = fs::remove_file(&info.path);
        let _ = fs::remove_file(info.manifest_path());
        return Err(e);
    }
    Ok(info)
}

/// A temporary file in the backup directory (same filesystem, so the final rename is atomic). Dropped on error,
/// which deletes it: a failed backup leaves nothing behind.
/// Locked while open, so a later backup can tell it from one a killed backup left ([`remove_stale_temps`]).
fn temp_in(dir: &Path, stem: &str) -> Result<TempFile, BackupError> {
    locked_temp(dir, stem)
}

/// Renames the finished temp file to its final name without ever replacing an existing file: two backups in the same
/// millisecond get `-1`, `-2`, … after the time.
fn persist_unique(
    mut tmp: TempFile,
    dir: &Path,
    stem: &str,
    file_time: &str,
    version_before: u64,
    compressed: bool,
) -> Result<(String, PathBuf), BackupError> {
    for n in 0u32..1000 {
        let time = if n == 0 {
            file_time.to_owned()
        } else {
            format!("{file_time}-{n}")
        };
        let id = format!("{stem}.{time}.v{version_before}");
        let path = dir.join(manifest::file_name(&id, compressed));
        // A manifest without its file (an interrupted prune) still claims the name.
        if fs::symlink_metadata(path.with_file_name(format!("{}.json", manifest::file_name(&id, compressed)))).is_ok() {
            continue;
        }
        match tmp.persist_noclobber(&path) {
            Ok(()) => return Ok((id, path)),
            Err(e) if e.error.kind() == io::ErrorKind::AlreadyExists => tmp = e.file,
            Err(e) => return Err(BackupError::io("rename into place", &path, e.error)),
        }
    }
    Err(BackupError::io(
        "find a free name in",
        dir,
        io::Error::new(io::ErrorKind::AlreadyExists, "1000 backups with the same millisecond"),
    ))
}

/// Streams the plain snapshot through zstd into `out`, hashing the compressed bytes as they are written.
#[cfg(feature = "compression")]
fn compress(plain: &Path, out: &TempFile, level: i32) -> Result<(Checksum, u64), BackupError> {
    let opath = out.path().to_path_buf();
    let input = File::open(plain).map_err(|e| BackupError::io("open", plain, e))?;
    let file = out
        .as_file()
        .try_clone()
        .map_err(|e| BackupError::io("open", &opath, e))?;
    let writer = HashingWriter::new(io::BufWriter::with_capacity(1 << 20, file));
    let mut enc =
        zstd::stream::write::Encoder::new(writer, level).map_err(|e| BackupError::io("compress", &opath, e))?;
    io::copy(&mut BufReader::with_capacity(1 << 20, input), &mut enc)
        .map_err(|e| BackupError::io("compress into", &opath, e))?;
    let writer = enc.finish().map_err(|e| BackupError::io("compress into", &opath, e))?;
    let (buf, sha, len) = writer.finish();
    let file = buf
        .into_inner()
        .map_err(|e| BackupError::io("write", &opath, e.into_error()))?;
    file.sync_all().map_err(|e| BackupError::io("fsync", &opath, e))?;
    Ok((sha, len))
}

/// Without the `compression` feature no compressed staging file exists (see [`Staging::new`]), so this is never
/// reached; it keeps the pipeline's shape the same in both builds.
#[cfg(not(feature = "compression"))]
fn compress(_plain: &Path, out: &TempFile, _level: i32) -> Result<(Checksum, u64), BackupError> {
    Err(BackupError::io("compress into", out.path(), compression_unavailable()))
}

/// The error of a build without zstd asked to write or read a compressed backup.
#[cfg(not(feature = "compression"))]
pub(crate) fn compression_unavailable() -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        "zstd compression is not compiled in (enable the `compression` feature)",
    )
}

pub(crate) struct Snapshot {
    pub(crate) method: &'static str,
    pub(crate) db_size: u64,
}

/// Copies a consistent snapshot of `conn`'s main database into `dst` (an existing, empty file). `progress` hears of
/// each part of `dst` as it becomes final (see [`hash_following`]); the caller sends [`Copied::Finished`].
pub(crate) fn snapshot(
    conn: &Connection,
    src: &Path,
    dst: &Path,
    method: SnapshotMethod,
    progress: Option<&Sender<Copied>>,
) -> Result<Snapshot, BackupError> {
    if method == SnapshotMethod::Auto
        && let Some(s) = file_copy(conn, src, dst, progress)?
    {
        return Ok(s);
    }
    if let Some(p) = progress {
        // The fast path may have copied part of the file before giving up.
        let _ = p.send(Copied::Restart);
    }
    backup_api(conn, src, dst)?;
    let db_size = fs::metadata(dst).map_err(|e| BackupError::io("stat", dst, e))?.len();
    Ok(Snapshot {
        method: "backup-api",
        db_size,
    })
}

/// The online backup API, all pages in one step: the step holds a read transaction on the source, so the copy is one
/// committed state even while other connections write (WAL) or wait (rollback journal).
pub(crate) fn backup_api(conn: &Connection, src: &Path, dst: &Path) -> Result<(), BackupError> {
    let mut out = Connection::open(dst).map_err(|e| BackupError::sqlite("open", dst, e))?;
    // The temp file is discarded on failure and fsynced by the caller: no journal, no syncs of its own.
    out.execute_batch("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;")
        .map_err(|e| BackupError::sqlite("prepare", dst, e))?;
    {
        let b = Backup::new(conn, &mut out).map_err(|e| BackupError::sqlite("start a backup of", src, e))?;
        step_to_done(&b, src)?;
    }
    out.close().map_err(|(_, e)| BackupError::sqlite("close", dst, e))?;
    Ok(())
}

/// Runs a backup to completion in one step, retrying while the source or target is busy.
pub(crate) fn step_to_done(b: &Backup<'_, '_>, path: &Path) -> Result<(), BackupError> {
    let start = Instant::now();
    let mut waited = false;
    loop {
        match b.step(-1) {
            Ok(StepResult::Done) => return Ok(()),
            Ok(StepResult::More) => continue,
            Ok(StepResult::Busy | StepResult::Locked) => {
                if !waited {
                    crate::trace::busy(path);
                    waited = true;
                }
                if start.elapsed() > BUSY_WAIT {
                    return Err(BackupError::Busy {
                        path: path.to_path_buf(),
                    });
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            Ok(_) => {
                return Err(BackupError::Busy {
                    path: path.to_path_buf(),
                });
            }
            Err(e) => return Err(BackupError::sqlite("copy", path, e)),
        }
    }
}

/// The fast path: a plain file copy (copy_file_range on Linux) of the main database file, taken while `conn` holds
/// the write lock and the WAL is fully checkpointed. Returns `Ok(None)` when those conditions cannot be established
/// (the caller then uses the backup API); errors only for failures of the copy itself.
///
/// Why the copy is consistent:
/// - `BEGIN IMMEDIATE` takes the write lock (RESERVED in rollback-journal mode, the WAL write lock in WAL mode). No
///   other connection can commit while it is held. In rollback mode taking the lock also rolls back a hot journal,
///   so the main file holds exactly the last committed state, and only a committing writer changes it.
/// - In WAL mode the main file alone is the committed state only when every WAL frame has been written back.
///   A checkpoint cannot run on a connection inside a transaction, so a second connection runs a PASSIVE checkpoint
///   (it needs no write lock) and we require `checkpointed == log frames`. With the write lock held no frame can be
///   added, and with nothing left to backfill no checkpoint writes to the main file, so it stays fixed until we
///   release the lock. If old readers keep frames from being backfilled, we fall back.
fn file_copy(
    conn: &Connection,
    src: &Path,
    dst: &Path,
    progress: Option<&Sender<Copied>>,
) -> Result<Option<Snapshot>, BackupError> {
    if !conn.is_autocommit() || conn.is_readonly(rusqlite::MAIN_DB).unwrap_or(true) {
        return Ok(None);
    }
    if !fs::metadata(src).map(|m| m.is_file()).unwrap_or(false) {
        return Ok(None);
    }
    if conn.execute_batch("BEGIN IMMEDIATE").is_err() {
        return Ok(None);
    }
    let result = locked_copy(conn, src, dst, progress);
    // Nothing was written; ending the transaction only releases the lock.
    let _ = conn.execute_batch("ROLLBACK");
    result
}

fn locked_copy(
    conn: &Connection,
    src: &Path,
    dst: &Path,
    progress: Option<&Sender<Copied>>,
) -> Result<Option<Snapshot>, BackupError> {
    let mode: String = match conn.query_row("PRAGMA main.journal_mode", [], |r| r.get(0)) {
        Ok(m) => m,
        Err(_) => return Ok(None),
    };
    if mode.eq_ignore_ascii_case("wal") && !wal_fully_checkpointed(src) {
        return Ok(None);
    }
    let db_size = fs::metadata(src).map_err(|e| BackupError::io("stat", src, e))?.len();
    // std's File-to-File copy is copy_file_range on Linux (in-kernel, reflinks where the filesystem can); the lock is
    // held for the copy only. In chunks, so a hasher can follow the copy instead of waiting for it.
    let copied = copy_chunks(src, dst, progress).map_err(|e| BackupError::io("copy into", dst, e))?;
    if copied != db_size {
        // The file changed size under the lock: something outside SQLite's locking wrote it. Do not trust the copy.
        return Ok(None);
    }
    Ok(Some(Snapshot {
        method: "file-copy",
        db_size,
    }))
}

/// Copies `src` into `dst` (emptied first), reporting each finished chunk; returns the bytes copied.
fn copy_chunks(src: &Path, dst: &Path, progress: Option<&Sender<Copied>>) -> io::Result<u64> {
    const CHUNK: u64 = 16 << 20;
    let input = File::open(src)?;
    // Not O_TRUNC: ext4 (auto_da_alloc) starts writing back a file truncated to zero when it is closed, which doubled
    // the time of the copy (measured: 0.5 s instead of 0.25 s for 512 MiB). `dst` is normally a new, empty file.
    let mut out = fs::OpenOptions::new().write(true).open(dst)?;
    if out.metadata()?.len() > 0 {
        out.set_len(0)?;
    }
    let mut done = 0u64;
    loop {
        let n = io::copy(&mut (&input).take(CHUNK), &mut out)?;
        if n == 0 {
            return Ok(done);
        }
        if let Some(p) = progress {
            let _ = p.send(Copied::Range(done, done + n));
        }
        done += n;
    }
}

fn thread_panicked(path: &Path) -> BackupError {
    BackupError::io("hash", path, io::Error::other("a worker thread panicked"))
}

/// Runs a PASSIVE checkpoint from a second connection and reports whether the whole WAL is now in the main file.
fn wal_fully_checkpointed(src: &Path) -> bool {
    let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let Ok(aux) = Connection::open_with_flags(src, flags) else {
        return false;
    };
    let row: Result<(i64, i64, i64), _> = aux.query_row("PRAGMA main.wal_checkpoint(PASSIVE)", [], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
    });
    matches!(row, Ok((0, log, done)) if log >= 0 && log == done)
}

/// The snapshot step alone, into `dst` (created or truncated): the copy, then optionally SHA-256 and fsync; no check,
/// no manifest. For the benchmark's breakdown (see [`super::bench`]); not a stable API.
#[cfg(feature = "bench-internals")]
pub fn snapshot_only(
    conn: &Connection,
    dst: &Path,
    method: SnapshotMethod,
    hash_and_fsync: bool,
) -> Result<&'static str, BackupError> {
    let src = db_file(conn).ok_or_else(|| BackupError::NotFound {
        id: "main".into(),
        dir: dst.to_path_buf(),
    })?;
    File::create(dst).map_err(|e| BackupError::io("create", dst, e))?;
    if !hash_and_fsync {
        return Ok(snapshot(conn, &src, dst, method, None)?.method);
    }
    // As `create` does it: the hash follows the copy on a second thread.
    let snap = std::thread::scope(|s| {
        let (tx, rx) = std::sync::mpsc::channel();
        let hashing = s.spawn(move || hash_following(dst, &rx));
        let (snap, synced) = match File::open(dst) {
            Ok(f) => with_early_sync(&f, || snapshot(conn, &src, dst, method, Some(&tx))),
            Err(e) => (Err(BackupError::io("open", dst, e)), Ok(())),
        };
        let snap = snap.and_then(|s| synced.map(|()| s).map_err(|e| BackupError::io("fsync", dst, e)));
        let _ = tx.send(Copied::Finished);
        drop(tx);
        let hashed = hashing.join().unwrap_or_else(|_| Err(thread_panicked(dst)));
        let snap = snap?;
        hashed?;
        Ok::<_, BackupError>(snap)
    })?;
    File::open(dst)
        .and_then(|f| f.sync_all())
        .map_err(|e| BackupError::io("fsync", dst, e))?;
    Ok(snap.method)
}
