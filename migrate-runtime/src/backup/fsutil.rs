//! File helpers shared by create, verify and restore: streaming SHA-256, durable directory entries, opening a backup
//! file read-only without side files, and the integrity check.

use super::BackupError;
use super::temp::TempFile;
use litemigrate_core::Checksum;
use rusqlite::{Connection, OpenFlags};
use sha2::{Digest, Sha256};
use std::fs::File;
#[cfg(feature = "compression")]
use std::io::Write;
use std::io::{self, Read};
use std::path::Path;
use std::time::Duration;

const BUF: usize = 1 << 20;

/// SHA-256 and length of a file, streamed (backups can be larger than memory).
pub(crate) fn sha256_file(path: &Path) -> Result<(Checksum, u64), BackupError> {
    let mut f = File::open(path).map_err(|e| BackupError::io("open", path, e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; BUF];
    let mut len = 0u64;
    loop {
        let n = match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(BackupError::io("read", path, e)),
        };
        h.update(&buf[..n]);
        len += n as u64;
    }
    Ok((Checksum(h.finalize().into()), len))
}

/// What the snapshot copier tells the thread hashing its output ([`hash_following`]).
pub(crate) enum Copied {
    /// These bytes of the file are final.
    Range(u64, u64),
    /// Everything so far is void (the fast path gave up; the backup API rewrites the file).
    Restart,
    /// The file is complete: hash whatever has not been hashed yet.
    Finished,
}

/// SHA-256 and length of `path` while another thread writes it: each [`Copied::Range`] is hashed as soon as it is
/// written (from the page cache, so the copy and the hash overlap on two cores instead of running one after the
/// other), and [`Copied::Finished`] hashes the rest. Ranges must arrive in order and contiguous. If the sender goes
/// away without `Finished`, the snapshot failed and the result is an error nobody reports.
pub(crate) fn hash_following(
    path: &Path,
    rx: &std::sync::mpsc::Receiver<Copied>,
) -> Result<(Checksum, u64), BackupError> {
    let f = File::open(path).map_err(|e| BackupError::io("open", path, e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; BUF];
    let mut pos = 0u64;
    // Hashes [pos, end) (to the end of the file for `None`).
    let mut hash_to = |h: &mut Sha256, pos: &mut u64, end: Option<u64>| -> Result<(), BackupError> {
        loop {
            let want = match end {
                Some(e) if *pos >= e => return Ok(()),
                Some(e) => (e - *pos).min(BUF as u64) as usize,
                None => BUF,
            };
            let n = match read_at(&f, &mut buf[..want], *pos) {
                Ok(0) if end.is_none() => return Ok(()),
                Ok(0) => {
                    return Err(BackupError::io(
                        "read",
                        path,
                        io::Error::new(io::ErrorKind::UnexpectedEof, "the copy is shorter than reported"),
                    ));
                }
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(BackupError::io("read", path, e)),
            };
            h.update(&buf[..n]);
            *pos += n as u64;
        }
    };
    loop {
        match rx.recv() {
            Ok(Copied::Range(start, end)) if start == pos => hash_to(&mut h, &mut pos, Some(end))?,
            Ok(Copied::Range(start, _)) => {
                return Err(BackupError::io(
                    "hash",
                    path,
                    io::Error::other(format!("copied ranges out of order: {start} after {pos}")),
                ));
            }
            Ok(Copied::Restart) => {
                h = Sha256::new();
                pos = 0;
            }
            Ok(Copied::Finished) => {
                hash_to(&mut h, &mut pos, None)?;
                return Ok((Checksum(h.finalize().into()), pos));
            }
            Err(_) => {
                return Err(BackupError::io(
                    "hash",
                    path,
                    io::Error::other("the snapshot was abandoned"),
                ));
            }
        }
    }
}

#[cfg(unix)]
fn read_at(f: &File, buf: &mut [u8], pos: u64) -> io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(f, buf, pos)
}

#[cfg(windows)]
fn read_at(f: &File, buf: &mut [u8], pos: u64) -> io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(f, buf, pos)
}

#[cfg(not(any(unix, windows)))]
fn read_at(mut f: &File, buf: &mut [u8], pos: u64) -> io::Result<usize> {
    use std::io::Seek;
    f.seek(io::SeekFrom::Start(pos))?;
    f.read(buf)
}

/// A writer that hashes and counts what passes through it (the compressed stream, so the manifest hash is that of
/// the file on disk without reading it back).
#[cfg(feature = "compression")]
pub(crate) struct HashingWriter<W> {
    pub(crate) inner: W,
    hasher: Sha256,
    pub(crate) len: u64,
}

#[cfg(feature = "compression")]
impl<W: Write> HashingWriter<W> {
    pub(crate) fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hasher: Sha256::new(),
            len: 0,
        }
    }

    pub(crate) fn finish(self) -> (W, Checksum, u64) {
        (self.inner, Checksum(self.hasher.finalize().into()), self.len)
    }
}

#[cfg(feature = "compression")]
impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Runs `work` (which writes `file`) while a second thread writes the file's dirty pages to disk, so that the disk
/// works during the copy instead of after it and the final fsync finds little left to write (measured at 1 GiB: a
/// restore that rewrites every page spent 0.75 s in its final fsync).
///
/// Returns `work`'s result and the first error the syncs met: a failed write-back is reported by only one of the
/// fsyncs on an open file, so the caller must treat it like its own final fsync failing. The thread borrows `file`
/// instead of duplicating the descriptor: closing any descriptor of a database file would drop the process's POSIX
/// locks on it, SQLite's included.
pub(crate) fn with_early_sync<R>(file: &File, work: impl FnOnce() -> R) -> (R, io::Result<()>) {
    use std::sync::atomic::{AtomicBool, Ordering};
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        let syncing = s.spawn(|| {
            while !stop.load(Ordering::Relaxed) {
                file.sync_data()?;
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            Ok(())
        });
        let r = work();
        stop.store(true, Ordering::Relaxed);
        let synced = syncing
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the write-back thread panicked")));
        (r, synced)
    })
}

/// Makes a rename or unlink in `dir` durable. A no-op where directories cannot be opened (Windows).
pub(crate) fn sync_dir(dir: &Path) -> Result<(), BackupError> {
    #[cfg(unix)]
    {
        let d = File::open(dir).map_err(|e| BackupError::io("open directory", dir, e))?;
        d.sync_all().map_err(|e| BackupError::io("fsync directory", dir, e))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// A hidden temporary file `.{prefix}.<unique>.tmp` in `dir` (same filesystem as the final name, so the rename is
/// atomic), deleted when dropped. On unix it carries an exclusive `flock` for as long as it is open, released by the
/// kernel when the process dies however it dies: that is how [`remove_stale_temps`] tells the temp file of a killed
/// backup from one being written. (Not on other systems, where such a lock would also bar reading the file.)
pub(crate) fn locked_temp(dir: &Path, prefix: &str) -> Result<TempFile, BackupError> {
    let tmp = TempFile::new_in(dir, &format!(".{prefix}."), TEMP_SUFFIX)
        .map_err(|e| BackupError::io("create a temporary file in", dir, e))?;
    #[cfg(unix)]
    tmp.as_file()
        .try_lock()
        .map_err(|e| BackupError::io("lock", tmp.path().to_path_buf(), io::Error::other(e.to_string())))?;
    Ok(tmp)
}

const TEMP_SUFFIX: &str = ".tmp";

/// How long an unlocked temp file must have been left alone before it counts as stale. The lock is taken a moment
/// after the file is created; this covers that moment (and clocks that write coarse modification times).
const STALE_AFTER: Duration = Duration::from_secs(10);

/// Removes the temp files ([`locked_temp`]) that killed backups and restores left in `dir`: hidden `*.tmp` files
/// whose lock nobody holds and that nobody has modified for [`STALE_AFTER`]. A database-sized file a crash left
/// behind would otherwise stay forever, listed nowhere. Best effort: a file that cannot be checked or removed is left
/// as it is. Returns the number removed. Unix only (see [`locked_temp`]).
pub(crate) fn remove_stale_temps(dir: &Path) -> usize {
    #[cfg(unix)]
    {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return 0;
        };
        let now = std::time::SystemTime::now();
        let mut removed = 0;
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if !(name.starts_with('.') && name.ends_with(TEMP_SUFFIX)) {
                continue;
            }
            let path = entry.path();
            // Not following symlinks: only a regular file this directory holds is ours to remove.
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            let old = meta
                .modified()
                .ok()
                .and_then(|m| now.duration_since(m).ok())
                .is_some_and(|age| age >= STALE_AFTER);
            if !meta.is_file() || !old {
                continue;
            }
            let Ok(f) = std::fs::OpenOptions::new().read(true).write(true).open(&path) else {
                continue;
            };
            // Held: a live backup or restore is writing or reading it.
            if f.try_lock().is_err() {
                continue;
            }
            if std::fs::remove_file(&path).is_ok() {
                removed += 1;
            }
        }
        if removed > 0 {
            let _ = sync_dir(dir);
        }
        removed
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        0
    }
}

/// A `file:` URI for `path` with `immutable=1`: SQLite then takes no locks and creates no `-wal`/`-shm`/journal,
/// which is right for a backup file that nothing else writes (and keeps the backup directory free of side files).
fn immutable_uri(path: &Path) -> String {
    let s = path.to_string_lossy();
    let mut out = String::from("file:");
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => out.push(b as char),
            #[cfg(windows)]
            b'\\' => out.push('/'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    #[cfg(windows)]
    if !out.starts_with("file:/") {
        out.insert(5, '/');
    }
    out.push_str("?immutable=1");
    out
}

/// Opens a backup file read-only, without locks or side files.
pub(crate) fn open_backup_file(path: &Path) -> Result<Connection, BackupError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn =
        Connection::open_with_flags(immutable_uri(path), flags).map_err(|e| BackupError::sqlite("open", path, e))?;
    // The integrity check visits pages many times (each index against its table): a page cache of up to 128 MiB
    // (allocated only as pages are read) instead of the default 2 MiB halves its time on large databases. Memory
    // mapping would be faster still, but a file truncated while mapped kills the process with SIGBUS. Best effort: a
    // SQLite that refuses keeps its default.
    let _ = conn.execute_batch("PRAGMA cache_size = -131072;");
    Ok(conn)
}

/// Runs `PRAGMA integrity_check` (or `quick_check`) on a plain (uncompressed) backup file. Corruption SQLite reports
/// as an error rather than as rows (not a database, malformed image) is an integrity failure too, and so is a file
/// with no schema at all: only databases holding tables are backed up, so an empty one is a truncated one.
pub(crate) fn check_integrity(path: &Path, quick: bool) -> Result<String, BackupError> {
    let fail = |message: String| BackupError::IntegrityFailed {
        path: path.to_path_buf(),
        message,
    };
    let conn = open_backup_file(path)?;
    let pragma = if quick {
        "PRAGMA quick_check"
    } else {
        "PRAGMA integrity_check"
    };
    let rows: Result<Vec<String>, rusqlite::Error> = conn
        .prepare(pragma)
        .and_then(|mut st| st.query_map([], |r| r.get::<_, String>(0))?.collect());
    let rows = match rows {
        Ok(rows) => rows,
        Err(e) => return Err(classify_check_error(path, e)),
    };
    if rows.len() != 1 || rows[0] != "ok" {
        return Err(fail(rows.join("; ")));
    }
    let tables: Result<i64, rusqlite::Error> =
        conn.query_row("SELECT count(*) FROM sqlite_master WHERE type = 'table'", [], |r| {
            r.get(0)
        });
    match tables {
        Ok(0) => Err(fail("the file holds no tables (empty or truncated)".into())),
        Ok(_) => Ok("ok".into()),
        Err(e) => Err(classify_check_error(path, e)),
    }
}

fn classify_check_error(path: &Path, e: rusqlite::Error) -> BackupError {
    use rusqlite::ErrorCode::{DatabaseCorrupt, NotADatabase};
    match e.sqlite_error_code() {
        Some(DatabaseCorrupt | NotADatabase) => BackupError::IntegrityFailed {
            path: path.to_path_buf(),
            message: e.to_string(),
        },
        _ => BackupError::sqlite("check", path, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_follows_ranges_and_restarts() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let (tx, rx) = std::sync::mpsc::channel();
        std::fs::write(&path, b"0123456789abcdef").unwrap();
        tx.send(Copied::Range(0, 4)).unwrap();
        tx.send(Copied::Range(4, 10)).unwrap();
        // The fast path gave up; the file is rewritten from scratch and only `Finished` follows.
        tx.send(Copied::Restart).unwrap();
        std::fs::write(&path, b"something else entirely").unwrap();
        tx.send(Copied::Finished).unwrap();
        let (sum, len) = hash_following(&path, &rx).unwrap();
        assert_eq!(len, 23);
        assert_eq!(sum, litemigrate_core::checksum::sha256(b"something else entirely"));
        // Ranges that skip bytes are refused, not silently hashed with a hole.
        let (tx, rx) = std::sync::mpsc::channel();
        tx.send(Copied::Range(0, 4)).unwrap();
        tx.send(Copied::Range(8, 10)).unwrap();
        assert!(hash_following(&path, &rx).is_err());
        // A sender that goes away means the snapshot failed.
        let (tx, rx) = std::sync::mpsc::channel::<Copied>();
        drop(tx);
        assert!(hash_following(&path, &rx).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn a_temp_file_is_swept_only_once_nobody_holds_it() {
        let dir = tempfile::tempdir().unwrap();
        let tmp = locked_temp(dir.path(), "app").unwrap();
        let path = tmp.path().to_path_buf();
        let old = std::time::SystemTime::now() - Duration::from_secs(3600);
        tmp.as_file().set_modified(old).unwrap();
        // Old enough, but a live writer holds it.
        assert_eq!(remove_stale_temps(dir.path()), 0);
        assert!(path.exists());
        // The writer dies without cleaning up (its descriptor closes, the file stays).
        let (file, kept) = tmp.keep();
        drop(file);
        assert_eq!(kept, path);
        assert_eq!(remove_stale_temps(dir.path()), 1);
        assert!(!path.exists());
    }

    #[test]
    fn uri_escapes_query_characters() {
        let u = immutable_uri(Path::new("/tmp/a b?c#d%e/x.bak"));
        assert_eq!(u, "file:/tmp/a%20b%3Fc%23d%25e/x.bak?immutable=1");
    }
}
