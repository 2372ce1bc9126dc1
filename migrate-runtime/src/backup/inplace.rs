//! Restoring by writing the verified backup over the database file in place, once, instead of through SQLite's
//! backup API (which writes every page twice: to the WAL or journal, then to the database). Pages that already hold
//! the backup's bytes are not written at all: a restore usually undoes one migration, and the fsync that makes it
//! durable then costs what the migration changed, not the size of the database.
//!
//! Why it is safe for other connections (each point was probed against SQLite, see the tests in
//! `tests/backup_restore_paths.rs`):
//! - A WAL database is first switched to `journal_mode=DELETE`. That needs an exclusive lock on the database file,
//!   which every other connection that has the WAL open blocks with the shared lock it holds for as long as it is open
//!   (even idle): success proves that no other connection has pages of this database cached under the WAL's rules.
//!   Otherwise the caller falls back to the backup API.
//! - The copy runs inside `BEGIN EXCLUSIVE` on the caller's connection: no other connection, in this process or
//!   another, can read or write the file while it changes. The file keeps its inode, so connections that are open
//!   (even ones that never read) see the restored file, not a renamed-away one.
//! - Rollback-journal connections keep their page cache between transactions and trust it while bytes 24..40 of the
//!   header are unchanged; the restored header gets a change counter above the old one (and a schema cookie above the
//!   old one, as the backup API does), so every cache and cached schema is dropped.
//! - SQLite's unix locks are POSIX `fcntl` locks, which closing *any* descriptor of the file releases for the whole
//!   process. Our descriptor is closed only after the last byte is written and synced, while the lock still covers
//!   the write: releasing it a moment early exposes only the finished file.
//!
//! Crash safety (the copy is not atomic): before the first page is overwritten, a marker file `<db>-restore` is
//! written and synced, naming the backup and the pre-restore backup, and the header's magic string is replaced by
//! `migrate-restore\0` (with a new change counter, so no connection keeps a cached page). From then until page 1 is
//! written last, SQLite refuses the file ("file is not a database") instead of serving half of each version, and
//! [`super::create`] reports [`BackupError::RestoreInterrupted`]; the next restore into the database finishes the
//! job (it writes the backup it is given over the half-written file; the state before is the pre-restore backup).
//! A process killed before the magic is replaced leaves the old database, one killed after page 1 is written leaves
//! the new one.

use super::BackupError;
use super::fsutil::{sync_dir, with_early_sync};
use crate::json::{self, Fields, Value};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// What a database file starts with while a restore is overwriting it: not SQLite's magic, so SQLite refuses it.
pub(crate) const RESTORE_MAGIC: &[u8; 16] = b"migrate-restore\0";
const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// What the marker file next to the database records about the restore in progress.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Marker {
    /// Id of the backup being restored.
    pub(crate) backup: String,
    /// Id of the backup of the database as it was before (none for a database without tables).
    pub(crate) pre_restore: Option<String>,
    /// The backup directory both ids are in.
    pub(crate) dir: PathBuf,
    /// Whether the database was in WAL mode (the restored header keeps that journal mode). Written by [`prepare`]
    /// before it leaves WAL mode, so a restore killed before its copy still tells the next one.
    pub(crate) wal: bool,
}

impl Marker {
    fn to_json(&self) -> Result<Vec<u8>, String> {
        let v = json::object([
            ("backup", self.backup.clone().into()),
            ("pre_restore", self.pre_restore.clone().map_or(Value::Null, Value::from)),
            ("dir", json::path_value(&self.dir)?),
            ("wal", self.wal.into()),
        ]);
        Ok(json::pretty(&v))
    }

    fn from_json(bytes: &[u8]) -> Result<Marker, String> {
        let v = json::parse(bytes)?;
        let f = Fields::of(&v)?;
        Ok(Marker {
            backup: f.str("backup")?,
            pre_restore: f.opt_str("pre_restore")?,
            dir: f.path("dir")?,
            wal: f.bool("wal")?,
        })
    }
}

/// `<db>-restore`, beside the database like SQLite's own `-journal`.
pub(crate) fn marker_path(db: &Path) -> PathBuf {
    let mut name = db.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push("-restore");
    db.with_file_name(name)
}

/// Whether `db` is a database file left half-written by an interrupted restore.
pub(crate) fn is_torn(db: &Path) -> Result<bool, BackupError> {
    let mut head = [0u8; 16];
    let mut f = match File::open(db) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(BackupError::io("open", db, e)),
    };
    match f.read_exact(&mut head) {
        Ok(()) => Ok(&head == RESTORE_MAGIC),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(false),
        Err(e) => Err(BackupError::io("read", db, e)),
    }
}

/// The marker of an interrupted restore, if it is readable.
pub(crate) fn read_marker(db: &Path) -> Option<Marker> {
    let text = fs::read(marker_path(db)).ok()?;
    Marker::from_json(&text).ok()
}

/// The error for a database found half-written.
pub(crate) fn interrupted(db: &Path, detail: String) -> BackupError {
    let m = read_marker(db).unwrap_or_default();
    BackupError::RestoreInterrupted {
        db: db.to_path_buf(),
        backup: (!m.backup.is_empty()).then_some(m.backup),
        pre_restore: m.pre_restore,
        detail,
    }
}

/// An exclusive OS lock (`flock`) on the marker file: one restore per database at a time, including the finishing
/// of an interrupted one, which cannot take SQLite's locks on a file SQLite refuses.
pub(crate) struct MarkerLock {
    file: File,
    path: PathBuf,
}

impl MarkerLock {
    pub(crate) fn acquire(db: &Path) -> Result<MarkerLock, BackupError> {
        let path = marker_path(db);
        loop {
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .map_err(|e| BackupError::io("create", &path, e))?;
            file.lock().map_err(|e| BackupError::io("lock", &path, e))?;
            // The previous holder removes the file before unlocking it: only a lock on the file that is at the path
            // now excludes the next restore.
            if same_file(&file, &path) {
                return Ok(MarkerLock { file, path });
            }
        }
    }

    /// Records the restore about to overwrite the database, durably.
    ///
    /// The new record replaces the old one in a single write at offset 0, padded with spaces (valid after JSON) to
    /// the old length, never truncating first: a restore killed between a truncation and the write left an empty
    /// marker, which lost the `wal` flag of a database [`prepare`] had already taken out of WAL mode (seen by
    /// tests/backup_restore_paths.rs once SQLite ran optimized in tests).
    fn write(&self, m: &Marker) -> Result<(), BackupError> {
        use std::io::{Seek, Write};
        let mut json = m
            .to_json()
            .map_err(|e| BackupError::io("write", &self.path, io::Error::other(e)))?;
        let mut f = &self.file;
        let old_len = f.metadata().map_err(|e| BackupError::io("write", &self.path, e))?.len();
        // A marker is a few hundred bytes; a bigger file is not ours to pad to, only to cut after the write.
        if let Ok(pad) = usize::try_from(old_len)
            && pad > json.len()
            && pad <= 64 * 1024
        {
            json.resize(pad, b' ');
        }
        let new_len = json.len() as u64;
        f.seek(io::SeekFrom::Start(0))
            .and_then(|_| f.write_all(&json))
            .and_then(|()| if old_len > new_len { f.set_len(new_len) } else { Ok(()) })
            .and_then(|()| f.sync_all())
            .map_err(|e| BackupError::io("write", &self.path, e))?;
        sync_dir(self.path.parent().unwrap_or_else(|| Path::new(".")))
    }

    /// Removes the marker (the restore is complete) and releases the lock.
    pub(crate) fn finish(self) -> Result<(), BackupError> {
        let r = fs::remove_file(&self.path).map_err(|e| BackupError::io("remove", &self.path, e));
        let r = r.and_then(|()| sync_dir(self.path.parent().unwrap_or_else(|| Path::new("."))));
        drop(self.file);
        r
    }
}

#[cfg(unix)]
fn same_file(f: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (f.metadata(), fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_: &File, path: &Path) -> bool {
    path.exists()
}

/// What [`restore`] did.
pub(crate) enum InPlace {
    /// The backup is now the database; this many pages were written (the others were already equal).
    Done(u64),
    /// Another connection committed after the pre-restore backup was taken: take it again.
    Changed,
    /// The conditions for writing in place could not be established; nothing was changed. Use the backup API.
    Unsupported,
}

/// A database made ready for an in-place restore: no other connection has its WAL open, and it is in a rollback
/// journal mode until [`Prepared::end`].
#[cfg(unix)]
pub(crate) struct Prepared {
    pub(crate) wal: bool,
}

/// Checks that `conn` can restore in place and leaves WAL mode if need be; `None` (nothing changed) when it cannot.
/// Done before the pre-restore backup, so that backup and the copy see the database in the same journal mode (leaving
/// WAL mode counts as a change for `PRAGMA data_version`).
///
/// The caller holds the [`MarkerLock`]. Before leaving WAL mode the marker records it, durably: a restore killed
/// between here and its copy leaves a database in `delete` mode that was a WAL database, and the marker is what
/// lets the next restore (which finds it, on a database that is not half-written) put WAL mode back.
#[cfg(unix)]
pub(crate) fn prepare(conn: &rusqlite::Connection, db: &Path) -> Option<Prepared> {
    if !conn.is_autocommit() || conn.is_readonly(rusqlite::MAIN_DB).unwrap_or(true) {
        return None;
    }
    if !fs::metadata(db).map(|m| m.is_file()).unwrap_or(false) {
        return None;
    }
    let pragma = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, String>(0));
    // In exclusive locking mode a connection trusts its cache without re-reading the header.
    if !matches!(pragma("PRAGMA main.locking_mode"), Ok(m) if m.eq_ignore_ascii_case("normal")) {
        return None;
    }
    let mode = pragma("PRAGMA main.journal_mode").ok()?;
    let wal = mode.eq_ignore_ascii_case("wal");
    // Left by a restore that was killed after leaving WAL mode (callers finish half-written files before this).
    let was_wal = read_marker(db).is_some_and(|m| m.wal);
    if wal {
        // Without a durable record the mode could be lost; then do not leave it (the backup API keeps it).
        record_wal(db).ok()?;
        if !matches!(pragma("PRAGMA main.journal_mode = DELETE"), Ok(m) if m.eq_ignore_ascii_case("delete")) {
            // Another connection has the WAL open.
            return None;
        }
    }
    Some(Prepared { wal: wal || was_wal })
}

/// Writes a marker that says only "this database is in WAL mode" and syncs it (see [`prepare`]). Through the path:
/// the caller's [`MarkerLock`] is on the same file.
#[cfg(unix)]
fn record_wal(db: &Path) -> Result<(), BackupError> {
    use std::io::Write;
    let path = marker_path(db);
    let m = Marker {
        wal: true,
        ..Marker::default()
    };
    let json = m
        .to_json()
        .map_err(|e| BackupError::io("write", &path, io::Error::other(e)))?;
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)
        .map_err(|e| BackupError::io("create", &path, e))?;
    f.write_all(&json)
        .and_then(|()| f.sync_all())
        .map_err(|e| BackupError::io("write", &path, e))?;
    sync_dir(path.parent().unwrap_or_else(|| Path::new(".")))
}

#[cfg(unix)]
impl Prepared {
    /// Puts a WAL database back in WAL mode. After a restore the header already says WAL (every connection reopens
    /// the WAL on its next read). Best effort: a failure leaves a consistent rollback-journal database.
    pub(crate) fn end(self, conn: &rusqlite::Connection) {
        if self.wal {
            let _ = conn.query_row("PRAGMA main.journal_mode = WAL", [], |r| r.get::<_, String>(0));
        }
    }
}

/// Writes the verified plain backup `src` over `db` in place, inside `BEGIN EXCLUSIVE` on `conn` (see the module
/// docs). `data_version` is `PRAGMA data_version` read before the pre-restore backup: if another connection
/// committed since, nothing is written ([`InPlace::Changed`]).
#[cfg(unix)]
pub(crate) fn write(
    conn: &rusqlite::Connection,
    db: &Path,
    src: &Path,
    lock: &MarkerLock,
    marker: &Marker,
    data_version: i64,
) -> Result<InPlace, BackupError> {
    if conn.execute_batch("BEGIN EXCLUSIVE").is_err() {
        return Ok(InPlace::Unsupported);
    }
    let r = match conn.query_row("PRAGMA data_version", [], |r| r.get::<_, i64>(0)) {
        Ok(v) if v == data_version => write_over(db, src, lock, marker, false).map(InPlace::Done),
        Ok(_) => Ok(InPlace::Changed),
        Err(_) => Ok(InPlace::Unsupported),
    };
    // Nothing was written through `conn`: ending the transaction only releases the lock.
    let _ = conn.execute_batch("ROLLBACK");
    r
}

/// Finishes an interrupted restore: writes `src` over the half-written `db`. SQLite's locks cannot be taken on a
/// file SQLite refuses; none is needed, since no connection can read it until page 1 (written last) is valid again,
/// and the marker lock keeps other restores out.
#[cfg(unix)]
pub(crate) fn finish_interrupted(
    db: &Path,
    src: &Path,
    lock: &MarkerLock,
    marker: &Marker,
) -> Result<u64, BackupError> {
    write_over(db, src, lock, marker, true)
}

#[cfg(unix)]
fn be32(b: &[u8]) -> u32 {
    // invariant: every caller passes a 4-byte range of a 100-byte header array.
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

/// The copy itself; returns the number of pages written. `torn`: `db` is expected to be half-written by an earlier
/// restore (else a SQLite database).
#[cfg(unix)]
fn write_over(db: &Path, src: &Path, lock: &MarkerLock, marker: &Marker, torn: bool) -> Result<u64, BackupError> {
    use std::os::unix::fs::FileExt;

    let bad = |message: String| BackupError::IntegrityFailed {
        path: src.to_path_buf(),
        message,
    };
    let input = File::open(src).map_err(|e| BackupError::io("open", src, e))?;
    let src_len = input.metadata().map_err(|e| BackupError::io("stat", src, e))?.len();
    let mut new_head = [0u8; 100];
    input
        .read_exact_at(&mut new_head, 0)
        .map_err(|e| bad(format!("cannot read the header: {e}")))?;
    if &new_head[..16] != SQLITE_MAGIC {
        return Err(bad("not a SQLite database".into()));
    }
    let page_size = match u16::from_be_bytes([new_head[16], new_head[17]]) {
        1 => 65536u64,
        n => u64::from(n),
    };
    if !page_size.is_power_of_two() || !(512..=65536).contains(&page_size) || src_len < page_size {
        return Err(bad(format!("page size {page_size} for a file of {src_len} bytes")));
    }
    if src_len % page_size != 0 {
        return Err(bad(format!(
            "{src_len} bytes is not a whole number of {page_size}-byte pages"
        )));
    }
    let pages = u32::try_from(src_len / page_size).map_err(|_| bad(format!("{src_len} bytes is too many pages")))?;
    let mut page1 = vec![0u8; page_size as usize];
    input
        .read_exact_at(&mut page1, 0)
        .map_err(|e| bad(format!("cannot read page 1: {e}")))?;

    let out = OpenOptions::new()
        .read(true)
        .write(true)
        .open(db)
        .map_err(|e| BackupError::io("open", db, e))?;
    // An empty file is an empty database (e.g. one created by opening a path that did not exist): its header is
    // all zeros as far as other connections' caches are concerned.
    let mut old = [0u8; 100];
    let old_len = out.metadata().map_err(|e| BackupError::io("stat", db, e))?.len();
    if old_len > 0 {
        out.read_exact_at(&mut old, 0)
            .map_err(|e| BackupError::io("read", db, e))?;
    }
    let expected: &[u8; 16] = if torn { RESTORE_MAGIC } else { SQLITE_MAGIC };
    if (old_len > 0 || torn) && &old[..16] != expected {
        return Err(BackupError::io(
            "overwrite",
            db,
            io::Error::other("the database header changed while locked"),
        ));
    }
    let counter = be32(&old[24..28]);
    let cookie = be32(&old[40..44]);

    lock.write(marker)?;
    // From here on the file is unusable until page 1 is written: any failure leaves it marked, never half-valid.
    let fail = |e: BackupError| interrupted(db, e.to_string());
    let mut head = old;
    head[..16].copy_from_slice(RESTORE_MAGIC);
    head[24..28].copy_from_slice(&counter.wrapping_add(1).to_be_bytes());
    out.write_all_at(&head, 0)
        .and_then(|()| out.sync_data())
        .map_err(|e| fail(BackupError::io("mark", db, e)))?;

    // Every page but the first, where it differs.
    let (written, synced) = with_early_sync(&out, || write_differing(&input, &out, page_size, src_len, old_len));
    let written = written.map_err(|e| fail(BackupError::io("copy into", db, e)))?;
    synced
        .and_then(|()| out.set_len(src_len))
        .and_then(|()| out.sync_all())
        .map_err(|e| fail(BackupError::io("write", db, e)))?;

    // Page 1 last, with the backup's content and a header every open connection sees as changed.
    // invariant: `page1` is at least 512 bytes (checked above), so the header offsets below (< 100) are in range.
    let version = counter.wrapping_add(2).to_be_bytes();
    page1[18] = if marker.wal { 2 } else { 1 };
    page1[19] = page1[18];
    page1[24..28].copy_from_slice(&version);
    page1[28..32].copy_from_slice(&pages.to_be_bytes());
    page1[40..44].copy_from_slice(&cookie.wrapping_add(1).to_be_bytes());
    page1[92..96].copy_from_slice(&version);
    out.write_all_at(&page1, 0)
        .and_then(|()| out.sync_data())
        .map_err(|e| fail(BackupError::io("write", db, e)))?;
    // Closing our descriptor drops this process's POSIX locks on the file (SQLite's lock included): the file is
    // complete and synced, so that exposes nothing half-done.
    drop(out);
    Ok(written + 1)
}

/// Writes pages 2.. of `input` (`src_len` bytes) over `out` (`old_len` bytes), skipping pages whose bytes are already
/// the same; returns the number of pages written. A restore usually undoes one migration, which changed a fraction of
/// the pages: comparing from the page cache costs about a read of both files, and the fsync that makes the restore
/// durable then writes only what changed instead of the whole file. The comparison is copying from the page cache,
/// bound by memory bandwidth per core: two threads each take half the file.
#[cfg(unix)]
fn write_differing(input: &File, out: &File, page_size: u64, src_len: u64, old_len: u64) -> io::Result<u64> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(2)) as u64;
    let span = src_len.saturating_sub(page_size);
    if threads < 2 || span < 2 * CHUNK {
        return write_differing_range(input, out, page_size, page_size, src_len, old_len);
    }
    // invariant: CHUNK is a multiple of every page size, so the split falls on a page boundary.
    let mid = page_size + (span / 2).next_multiple_of(CHUNK);
    std::thread::scope(|s| {
        let second = s.spawn(|| write_differing_range(input, out, page_size, mid, src_len, old_len));
        let first = write_differing_range(input, out, page_size, page_size, mid, old_len);
        let second = second
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("a restore worker thread panicked")));
        Ok(first? + second?)
    })
}

/// A whole number of pages for every page size (512 B ..= 64 KiB).
#[cfg(unix)]
const CHUNK: u64 = 1 << 20;

/// [`write_differing`] for the bytes `[from, to)` of the file (`from` on a page boundary).
#[cfg(unix)]
fn write_differing_range(
    input: &File,
    out: &File,
    page_size: u64,
    from: u64,
    to: u64,
    old_len: u64,
) -> io::Result<u64> {
    use std::os::unix::fs::FileExt;
    let ps = page_size as usize;
    let mut new = vec![0u8; CHUNK as usize];
    let mut cur = vec![0u8; CHUNK as usize];
    let mut written = 0u64;
    let mut pos = from;
    while pos < to {
        let n = (to - pos).min(CHUNK) as usize;
        let new = &mut new[..n];
        input.read_exact_at(new, pos).map_err(|e| {
            if e.kind() == io::ErrorKind::UnexpectedEof {
                io::Error::other("the backup changed size while being copied")
            } else {
                e
            }
        })?;
        // The part of this chunk that exists in the database now; beyond it every page is new.
        let have = old_len.saturating_sub(pos).min(n as u64) as usize;
        let have = have - have % ps;
        let cur = &mut cur[..have];
        out.read_exact_at(cur, pos)?;
        // Runs of differing pages are written with one call each.
        let mut run: Option<usize> = None;
        for start in (0..n).step_by(ps) {
            let same = start + ps <= have && new[start..start + ps] == cur[start..start + ps];
            match (same, run) {
                (false, None) => run = Some(start),
                (true, Some(from)) => {
                    out.write_all_at(&new[from..start], pos + from as u64)?;
                    written += ((start - from) / ps) as u64;
                    run = None;
                }
                _ => {}
            }
        }
        if let Some(from) = run {
            out.write_all_at(&new[from..], pos + from as u64)?;
            written += ((n - from) / ps) as u64;
        }
        pos += n as u64;
    }
    Ok(written)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use crate::backup::{self, BackupOptions, Reason, RestoreMethod};
    use rusqlite::Connection;

    fn journal_mode(conn: &Connection) -> String {
        conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap()
    }

    /// The state a restore killed between leaving WAL mode and its copy (during the pre-restore backup, say)
    /// leaves, produced by the restore's own first steps instead of by timing a kill.
    #[test]
    fn a_restore_killed_before_its_copy_has_the_next_restore_put_wal_mode_back() {
        let tmp = tempfile::tempdir().unwrap();
        let db = tmp.path().join("app.db");
        let conn = Connection::open(&db).unwrap();
        assert_eq!(
            conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0))
                .unwrap(),
            "wal"
        );
        conn.execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (1);")
            .unwrap();
        let opts = BackupOptions {
            dir: Some(tmp.path().join("bk")),
            ..BackupOptions::default()
        };
        let info = backup::create(&conn, &opts, Reason::Manual, 1, 1).unwrap().unwrap();
        conn.execute_batch("INSERT INTO t VALUES (2);").unwrap();

        // The killed restore: it took the lock and left WAL mode, then died (no `end`, no `finish`).
        let lock = MarkerLock::acquire(&db).unwrap();
        let prepared = prepare(&conn, &db).unwrap();
        assert!(prepared.wal);
        assert_eq!(journal_mode(&conn), "delete");
        drop((prepared, lock, conn));
        let mut conn = Connection::open(&db).unwrap();
        assert_eq!(journal_mode(&conn), "delete");
        assert!(read_marker(&db).is_some_and(|m| m.wal));

        let report = backup::restore_info(&mut conn, &info, 1, &opts).unwrap();
        assert_eq!(report.method, RestoreMethod::InPlace);
        assert_eq!(journal_mode(&conn), "wal");
        let fresh = Connection::open(&db).unwrap();
        assert_eq!(journal_mode(&fresh), "wal");
        let rows: i64 = fresh.query_row("SELECT count(*) FROM t", [], |r| r.get(0)).unwrap();
        assert_eq!(rows, 1);
        assert!(!marker_path(&db).exists());
    }

    /// A rollback-journal database's restore leaves no record of a mode it never had.
    #[test]
    fn prepare_records_nothing_for_a_rollback_journal_database() {
        let tmp = tempfile::tempdir().unwrap();
        let db = tmp.path().join("app.db");
        let conn = Connection::open(&db).unwrap();
        conn.execute_batch("CREATE TABLE t(x);").unwrap();
        let lock = MarkerLock::acquire(&db).unwrap();
        let prepared = prepare(&conn, &db).unwrap();
        assert!(!prepared.wal);
        assert!(read_marker(&db).is_none());
        prepared.end(&conn);
        lock.finish().unwrap();
        assert_eq!(journal_mode(&conn), "delete");
    }
}
