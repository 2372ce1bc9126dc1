//! Restore writes the backup in place where no other connection can see it half-done, and through the backup API
//! otherwise: both give the same rows; connections that are open during the restore see the restored database (or
//! the restore falls back), never stale pages; a restore killed at any moment leaves the old database, the new one,
//! or a file SQLite refuses and the library reports and finishes.

#[path = "backup_support/mod.rs"]
mod support;

use litemigrate_runtime::backup::{
    self, BackupErrorKind, BackupInfo, BackupOptions, Reason, RestoreMethod, SnapshotMethod,
};
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use support::*;

fn opts(dir: &Path, method: SnapshotMethod) -> BackupOptions {
    BackupOptions {
        dir: Some(dir.to_path_buf()),
        method,
        quick_check: true,
        ..BackupOptions::default()
    }
}

fn journal_mode(conn: &Connection) -> String {
    conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap()
}

fn integrity(conn: &Connection) -> String {
    conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap()
}

/// Header fields: (file change counter, schema cookie).
fn header(db: &Path) -> (u32, u32) {
    let b = std::fs::read(db).unwrap();
    let be = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    (be(24), be(40))
}

/// A database, a backup of it (`new`), then changes (`old`, what the restore replaces).
struct Setup {
    _tmp: tempfile::TempDir,
    db: PathBuf,
    dir: PathBuf,
    conn: Connection,
    backup: BackupInfo,
    new: Dump,
    old: Dump,
}

fn setup(wal: bool, rows: i64) -> Setup {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("app.db");
    let dir = tmp.path().join("bk");
    let conn = make_db(&db, wal, rows);
    let backup = backup::create(&conn, &opts(&dir, SnapshotMethod::Auto), Reason::Manual, 1, 1)
        .unwrap()
        .unwrap();
    let new = dump(&conn);
    conn.execute_batch("DELETE FROM items WHERE id % 2 = 0; CREATE TABLE later(x); INSERT INTO later VALUES (1);")
        .unwrap();
    insert_rows(&conn, 1_000_000, 50);
    let old = dump(&conn);
    assert_ne!(old, new);
    Setup {
        _tmp: tmp,
        db,
        dir,
        conn,
        backup,
        new,
        old,
    }
}

#[test]
fn both_methods_restore_the_same_rows_and_keep_the_journal_mode() {
    for wal in [false, true] {
        for (method, expected) in [
            (SnapshotMethod::Auto, RestoreMethod::InPlace),
            (SnapshotMethod::BackupApi, RestoreMethod::BackupApi),
        ] {
            let mut s = setup(wal, 3_000);
            let before = header(&s.db);
            let report = backup::restore_info(&mut s.conn, &s.backup, 2, &opts(&s.dir, method)).unwrap();
            assert_eq!(report.method, expected, "wal {wal}");
            assert!(!report.finished_interrupted);
            let pre = report.pre_restore.expect("a pre-restore backup");
            assert_eq!(dump_file(&pre.path), s.old);
            // The caller's connection, a new one, and the file itself hold the backup's rows.
            assert_eq!(dump(&s.conn), s.new, "wal {wal} {expected:?}");
            assert_eq!(integrity(&s.conn), "ok");
            assert_eq!(journal_mode(&s.conn), if wal { "wal" } else { "delete" });
            let other = Connection::open(&s.db).unwrap();
            assert_eq!(dump(&other), s.new);
            assert_eq!(journal_mode(&other), if wal { "wal" } else { "delete" });
            drop(other);
            // Nothing is left beside the database but its own files.
            assert!(!s.db.with_file_name("app.db-restore").exists());
            // The connection keeps working: a write after the restore sticks.
            insert_rows(&s.conn, 2_000_000, 3);
            drop(s.conn);
            let (items, total) = consistent(&Connection::open(&s.db).unwrap());
            assert_eq!(items, total);
            if expected == RestoreMethod::InPlace {
                let after = header(&s.db);
                assert!(after.0 > before.0, "change counter {before:?} -> {after:?}");
            }
        }
    }
}

/// Two databases written by the same number of transactions have the same change counter and schema cookie: a
/// connection that cached the old pages would trust them if the restored header kept the backup's counter.
#[test]
fn an_open_rollback_journal_connection_sees_the_restored_rows_not_its_cache() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a.db");
    let b = tmp.path().join("b.db");
    let mut conn = make_db(&a, false, 500);
    insert_rows(&conn, 10_000, 5);
    let other_db = make_db(&b, false, 500);
    insert_rows(&other_db, 20_000, 9);
    assert_eq!(header(&a), header(&b), "equal counters make the test meaningful");
    let dir = tmp.path().join("bk");
    let info = backup::create(&other_db, &opts(&dir, SnapshotMethod::Auto), Reason::Manual, 1, 1)
        .unwrap()
        .unwrap();
    assert_eq!(header(&info.path), header(&a));
    let restored = dump(&other_db);

    // One connection read everything (its cache holds a.db's pages), one was opened and never used.
    let reader = Connection::open(&a).unwrap();
    let before = dump(&reader);
    assert_ne!(before, restored);
    let idle = Connection::open(&a).unwrap();
    let report = backup::restore_info(&mut conn, &info, 1, &opts(&dir, SnapshotMethod::Auto)).unwrap();
    assert_eq!(report.method, RestoreMethod::InPlace);
    assert_eq!(dump(&reader), restored);
    assert_eq!(dump(&idle), restored);
    assert_eq!(dump(&conn), restored);
    assert_eq!(integrity(&reader), "ok");
}

#[test]
fn an_open_wal_connection_forces_the_backup_api_and_sees_the_restored_rows() {
    let mut s = setup(true, 2_000);
    let reader = Connection::open(&s.db).unwrap();
    assert_eq!(dump(&reader), s.old);
    let report = backup::restore_info(&mut s.conn, &s.backup, 2, &opts(&s.dir, SnapshotMethod::Auto)).unwrap();
    assert_eq!(report.method, RestoreMethod::BackupApi);
    assert_eq!(dump(&reader), s.new);
    assert_eq!(dump(&s.conn), s.new);
    assert_eq!(journal_mode(&s.conn), "wal");
    // With the reader closed, the next restore can write in place.
    drop(reader);
    let pre = report.pre_restore.unwrap();
    let again = backup::restore_info(&mut s.conn, &pre, 1, &opts(&s.dir, SnapshotMethod::Auto)).unwrap();
    assert_eq!(again.method, RestoreMethod::InPlace);
    assert_eq!(dump(&s.conn), s.old);
}

#[test]
fn a_wal_connection_opened_but_never_used_reads_the_restored_file() {
    let mut s = setup(true, 2_000);
    let idle = Connection::open(&s.db).unwrap();
    let report = backup::restore_info(&mut s.conn, &s.backup, 2, &opts(&s.dir, SnapshotMethod::Auto)).unwrap();
    assert_eq!(report.method, RestoreMethod::InPlace);
    assert_eq!(dump(&idle), s.new);
    assert_eq!(journal_mode(&idle), "wal");
    // Both connections write on: the WAL is shared again.
    insert_rows(&idle, 3_000_000, 4);
    insert_rows(&s.conn, 4_000_000, 4);
    let (items, total) = consistent(&s.conn);
    assert_eq!(items, total);
    assert_eq!(integrity(&idle), "ok");
}

#[test]
fn a_connection_inside_a_transaction_or_in_exclusive_locking_mode_uses_the_backup_api() {
    let mut s = setup(false, 500);
    s.conn.execute_batch("PRAGMA locking_mode = EXCLUSIVE").unwrap();
    let report = backup::restore_info(&mut s.conn, &s.backup, 2, &opts(&s.dir, SnapshotMethod::Auto)).unwrap();
    assert_eq!(report.method, RestoreMethod::BackupApi);
    assert_eq!(dump(&s.conn), s.new);
}

#[test]
fn a_restore_into_a_new_empty_database_file_writes_in_place() {
    let s = setup(false, 500);
    drop(s.conn);
    std::fs::remove_file(&s.db).unwrap();
    // Opening a missing path and reading creates an empty file: an empty database.
    let mut conn = Connection::open(&s.db).unwrap();
    assert_eq!(dump(&conn), Vec::new());
    let report = backup::restore_info(&mut conn, &s.backup, 0, &opts(&s.dir, SnapshotMethod::Auto)).unwrap();
    assert_eq!(report.method, RestoreMethod::InPlace);
    assert_eq!(report.pre_restore, None);
    assert_eq!(dump(&conn), s.new);
    assert_eq!(integrity(&conn), "ok");
}

/// Pages 2.. of a database file, and its length: what an in-place restore must make equal to the backup's (page 1
/// differs on purpose, in the change counter and schema cookie).
fn pages_after_the_first(path: &Path) -> (usize, Vec<u8>) {
    let b = std::fs::read(path).unwrap();
    let page = usize::from(u16::from_be_bytes([b[16], b[17]]));
    (b.len(), b[page..].to_vec())
}

#[test]
fn an_in_place_restore_writes_only_the_pages_that_differ_and_leaves_the_backups_bytes() {
    for wal in [false, true] {
        let tmp = tempfile::tempdir().unwrap();
        let db = tmp.path().join("app.db");
        let dir = tmp.path().join("bk");
        // Over 2 MiB, so both halves of the comparison (one thread each) have a changed page.
        let mut conn = make_db(&db, wal, 20_000);
        let info = backup::create(&conn, &opts(&dir, SnapshotMethod::Auto), Reason::Manual, 1, 1)
            .unwrap()
            .unwrap();
        let new = dump(&conn);
        let total_pages = std::fs::metadata(&info.path).unwrap().len() / 4096;
        assert!(total_pages > 1000, "{total_pages} pages");
        // A migration that changes little: two rows far apart, one new (empty) table.
        conn.execute_batch("UPDATE items SET name = 'renamed' WHERE id IN (1000, 19000); CREATE TABLE added(x);")
            .unwrap();
        assert_ne!(dump(&conn), new);
        let report = backup::restore_info(&mut conn, &info, 2, &opts(&dir, SnapshotMethod::Auto)).unwrap();
        assert_eq!(report.method, RestoreMethod::InPlace);
        let written = report.pages_written.expect("in place");
        // Page 1 (the header and the schema, which gained a table) and the two leaves holding the rows; the new
        // table's root page is past the end of the backup and goes with the truncation.
        assert_eq!(written, 3, "wrote {written} of {total_pages} pages");
        assert_eq!(dump(&conn), new, "wal {wal}");
        assert_eq!(integrity(&conn), "ok");
        drop(conn);
        assert_eq!(
            pages_after_the_first(&db),
            pages_after_the_first(&info.path),
            "wal {wal}"
        );

        // Nothing changed since the backup: page 1 alone is written (for its new change counter).
        let mut conn = Connection::open(&db).unwrap();
        let report = backup::restore_info(&mut conn, &info, 1, &opts(&dir, SnapshotMethod::Auto)).unwrap();
        assert_eq!(report.pages_written, Some(1));
        assert_eq!(dump(&conn), new);
    }
}

#[test]
fn an_in_place_restore_truncates_a_grown_database_and_extends_a_shrunk_one() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("app.db");
    let dir = tmp.path().join("bk");
    let mut conn = make_db(&db, false, 3_000);
    let o = opts(&dir, SnapshotMethod::Auto);
    let info = backup::create(&conn, &o, Reason::Manual, 1, 1).unwrap().unwrap();
    let new = dump(&conn);
    let backup_len = std::fs::metadata(&info.path).unwrap().len();

    insert_rows(&conn, 100_000, 20_000);
    assert!(std::fs::metadata(&db).unwrap().len() > 3 * backup_len);
    let report = backup::restore_info(&mut conn, &info, 2, &o).unwrap();
    assert_eq!(report.method, RestoreMethod::InPlace);
    assert_eq!(dump(&conn), new);
    assert_eq!(std::fs::metadata(&db).unwrap().len(), backup_len);
    assert_eq!(integrity(&conn), "ok");

    conn.execute_batch("DELETE FROM items WHERE id > 100; VACUUM;").unwrap();
    assert!(std::fs::metadata(&db).unwrap().len() < backup_len / 3);
    let report = backup::restore_info(&mut conn, &info, 2, &o).unwrap();
    // The pages past the shrunk file's end are all new to it.
    assert!(report.pages_written.unwrap() > backup_len / 4096 * 2 / 3);
    assert_eq!(dump(&conn), new);
    assert_eq!(integrity(&conn), "ok");
    drop(conn);
    assert_eq!(pages_after_the_first(&db), pages_after_the_first(&info.path));
}

/// Marks a database as an interrupted restore leaves it (the header's magic replaced).
fn tear(db: &Path) {
    use std::io::{Seek, Write};
    let mut f = std::fs::OpenOptions::new().write(true).open(db).unwrap();
    f.seek(std::io::SeekFrom::Start(0)).unwrap();
    f.write_all(b"migrate-restore\0").unwrap();
}

#[test]
fn a_half_written_database_is_refused_reported_and_finished_by_the_next_restore() {
    let s = setup(false, 1_000);
    drop(s.conn);
    tear(&s.db);
    let mut conn = Connection::open(&s.db).unwrap();
    let err = conn
        .query_row("SELECT count(*) FROM items", [], |r| r.get::<_, i64>(0))
        .unwrap_err();
    assert_eq!(err.sqlite_error_code(), Some(rusqlite::ErrorCode::NotADatabase));
    let o = opts(&s.dir, SnapshotMethod::Auto);
    let err = backup::create(&conn, &o, Reason::PreMigrate, 2, 3).unwrap_err();
    assert_eq!(err.kind(), BackupErrorKind::RestoreInterrupted, "{err}");
    // Any restore finishes it, whatever method was asked for.
    let report = backup::restore_info(&mut conn, &s.backup, 2, &opts(&s.dir, SnapshotMethod::BackupApi)).unwrap();
    assert!(report.finished_interrupted);
    assert_eq!(report.method, RestoreMethod::InPlace);
    assert_eq!(dump(&conn), s.new);
    assert_eq!(integrity(&conn), "ok");
    assert!(backup::create(&conn, &o, Reason::Manual, 1, 1).unwrap().is_some());
}

#[test]
fn a_launch_on_a_half_written_database_names_the_interrupted_restore_whatever_the_backup_policy() {
    use litemigrate_core::load::{Entry, SourceFile, load_files};
    let s = setup(false, 100);
    drop(s.conn);
    tear(&s.db);
    let file = SourceFile {
        file_name: "1_more.sql".into(),
        display: "migrations/1_more.sql".into(),
        contents: Entry::File(b"CREATE TABLE more(x);".to_vec()),
    };
    let set = litemigrate_runtime::Migrations::from_sources("default", load_files(vec![file]).unwrap());
    for policy in [backup::BackupPolicy::Off, backup::BackupPolicy::BestEffort] {
        let mut conn = Connection::open(&s.db).unwrap();
        let err = set.migrator().backup(policy).run(&mut conn).unwrap_err();
        assert_eq!(err.kind(), litemigrate_runtime::ErrorKind::Backup, "{err}");
        assert!(
            matches!(&err, litemigrate_runtime::Error::Backup(e) if e.kind() == BackupErrorKind::RestoreInterrupted),
            "{err:?}"
        );
        assert!(err.to_string().contains("was interrupted"), "{err}");
    }
}

// --- SIGKILL during restore -------------------------------------------------------------------------------------

const CHILD_ENV: &str = "MIGRATE_BACKUP_KILL_CHILD";

/// The child: restore the backup named in the environment into the database, then exit.
fn child(spec: &str) {
    let (db, manifest_dir, id) = {
        let mut it = spec.split('\n');
        (it.next().unwrap(), it.next().unwrap(), it.next().unwrap())
    };
    let mut conn = Connection::open(db).unwrap();
    let dir = Path::new(manifest_dir);
    backup::restore(&mut conn, dir, id, 2, &opts(dir, SnapshotMethod::Auto)).unwrap();
    std::process::exit(0);
}

struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

#[derive(Debug, Default)]
struct Outcomes {
    old: u32,
    new: u32,
    torn: u32,
}

#[cfg(unix)]
#[test]
fn a_restore_killed_at_any_moment_leaves_old_new_or_a_reported_half_that_the_next_restore_finishes() {
    if let Ok(spec) = std::env::var(CHILD_ENV) {
        child(&spec);
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let test_name = "a_restore_killed_at_any_moment_leaves_old_new_or_a_reported_half_that_the_next_restore_finishes";
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let mut seen = Outcomes::default();
    for wal in [false, true] {
        let s = setup(wal, 20_000);
        let template = s.db.parent().unwrap().to_path_buf();
        drop(s.conn);
        let (old, new) = (s.old.clone(), s.new.clone());
        let work = tempfile::tempdir().unwrap();
        let spawn = |root: &Path| {
            let spec = format!(
                "{}\n{}\n{}",
                root.join("app.db").display(),
                root.join("bk").display(),
                s.backup.id
            );
            std::process::Command::new(&exe)
                .args(["--exact", test_name, "--nocapture", "--test-threads=1"])
                .env(CHILD_ENV, spec)
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        };
        // One undisturbed run gives the time a whole restore takes.
        let root = work.path().join("full");
        copy_dir(&template, &root);
        let t = Instant::now();
        assert!(spawn(&root).wait().unwrap().success());
        let full = t.elapsed();
        assert_eq!(dump_file(&root.join("app.db")), new);
        for i in 0..16 {
            let root = work.path().join(format!("run{i}"));
            copy_dir(&template, &root);
            let db = root.join("app.db");
            let marker = root.join("app.db-restore");
            let mut child = spawn(&root);
            if i % 2 == 0 {
                // Anywhere in the whole restore.
                std::thread::sleep(Duration::from_micros(rng.below(full.as_micros() as u64)));
            } else {
                // Inside the copy: the marker names the backup just before the first page is overwritten (a WAL
                // database's marker records only its mode before that).
                let start = Instant::now();
                let names_backup = || std::fs::read_to_string(&marker).is_ok_and(|t| t.contains(s.backup.id.as_str()));
                while !names_backup() && start.elapsed() < full * 3 {
                    std::thread::sleep(Duration::from_micros(200));
                }
                std::thread::sleep(Duration::from_micros(rng.below(20_000)));
            }
            child.kill().unwrap();
            child.wait().unwrap();

            let mut conn = Connection::open(&db).unwrap();
            let head = std::fs::read(&db).unwrap();
            if head.starts_with(b"migrate-restore\0") {
                seen.torn += 1;
                // SQLite refuses the file: nobody reads half of each state.
                let e = conn
                    .query_row("SELECT count(*) FROM items", [], |r| r.get::<_, i64>(0))
                    .unwrap_err();
                assert_eq!(e.sqlite_error_code(), Some(rusqlite::ErrorCode::NotADatabase));
                // The library says what happened and which backups finish it.
                let o = opts(&root.join("bk"), SnapshotMethod::Auto);
                let e = backup::create(&conn, &o, Reason::PreMigrate, 2, 3).unwrap_err();
                assert_eq!(e.kind(), BackupErrorKind::RestoreInterrupted);
                let backup::BackupError::RestoreInterrupted {
                    backup, pre_restore, ..
                } = &e
                else {
                    unreachable!()
                };
                assert_eq!(backup.as_deref(), Some(s.backup.id.as_str()));
                // The state before the interrupted restore is a verified backup.
                let pre = backup::verify(&root.join("bk"), pre_restore.as_deref().unwrap(), &o).unwrap();
                assert_eq!(dump_file(&pre.path), old);
                let report = backup::restore(&mut conn, &root.join("bk"), &s.backup.id, 2, &o).unwrap();
                assert!(report.finished_interrupted);
                assert_eq!(report.pre_restore.unwrap().id, pre.id);
                assert_eq!(dump(&conn), new);
            } else {
                assert_eq!(integrity(&conn), "ok", "run {i}");
                let d = dump(&conn);
                if d == old {
                    seen.old += 1;
                } else {
                    assert_eq!(d, new, "run {i}: neither the old nor the restored rows");
                    seen.new += 1;
                }
                // Whatever the child left beside it, the next restore works.
                let o = opts(&root.join("bk"), SnapshotMethod::Auto);
                backup::restore(&mut conn, &root.join("bk"), &s.backup.id, 2, &o).unwrap();
                assert_eq!(dump(&conn), new);
            }
            assert_eq!(integrity(&conn), "ok");
            drop(conn);
            // Whenever the child was killed, the journal mode is the database's own once a restore has finished.
            let mode = journal_mode(&Connection::open(&db).unwrap());
            assert_eq!(mode, if wal { "wal" } else { "delete" }, "run {i}");
            std::fs::remove_dir_all(&root).unwrap();
        }
    }
    eprintln!("outcomes: {seen:?}");
}
