//! A backup taken while another connection writes is one committed state: in WAL mode (writers keep going during the
//! backup API's read transaction; the fast path makes them wait) and in rollback-journal mode, and when an old
//! reader forces the fallback to the backup API.

#[path = "backup_support/mod.rs"]
mod support;

use litemigrate_runtime::backup::{self, BackupOptions, Reason, SnapshotMethod};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use support::*;

/// Writes transactions that each insert rows and bump the counter, until told to stop.
fn writer(path: std::path::PathBuf, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<i64> {
    std::thread::spawn(move || {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.busy_timeout(std::time::Duration::from_secs(30)).unwrap();
        let mut next = 1_000_000;
        let mut commits = 0;
        while !stop.load(Ordering::Relaxed) {
            insert_rows(&conn, next, 7);
            next += 7;
            commits += 1;
            // A pause between transactions, as an application has: without it a rollback-journal writer re-takes
            // the lock at once and starves everyone else (SQLite's busy handler sleeps), which only slows the test.
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        commits
    })
}

fn concurrent(wal: bool, method: SnapshotMethod, old_reader: bool) -> BTreeSet<String> {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("app.db");
    let conn = make_db(&db, wal, 2_000);
    conn.busy_timeout(std::time::Duration::from_secs(30)).unwrap();
    let dir = tmp.path().join("bk");
    let opts = BackupOptions {
        dir: Some(dir.clone()),
        method,
        quick_check: true,
        ..BackupOptions::default()
    };
    let stop = Arc::new(AtomicBool::new(false));
    let w = writer(db.clone(), stop.clone());
    // A reader that holds an old snapshot keeps the WAL from being fully checkpointed.
    let reader = old_reader.then(|| {
        let r = rusqlite::Connection::open(&db).unwrap();
        r.execute_batch("BEGIN").unwrap();
        let _: i64 = r.query_row("SELECT count(*) FROM items", [], |x| x.get(0)).unwrap();
        insert_rows(&conn, 500_000, 3); // a frame the reader's snapshot does not include
        r
    });
    let mut counts = BTreeSet::new();
    let mut methods = BTreeSet::new();
    let mut taken = 0;
    while taken < 60 && (counts.len() < 3 || taken < 8) {
        let info = backup::create(&conn, &opts, Reason::Manual, 0, 0).unwrap().unwrap();
        let (items, total) = consistent(&rusqlite::Connection::open(&info.path).unwrap());
        assert_eq!(items, total, "backup {} is not a committed state", info.id);
        assert_eq!(
            (items - 2_000) % 7,
            if old_reader { 3 } else { 0 } % 7,
            "a transaction was split"
        );
        counts.insert(items);
        methods.insert(info.method.clone());
        std::fs::remove_file(&info.path).unwrap();
        std::fs::remove_file(info.manifest_path()).unwrap();
        for side in ["-wal", "-shm"] {
            std::fs::remove_file(dir.join(format!("{}{side}", info.file))).ok();
        }
        taken += 1;
    }
    stop.store(true, Ordering::Relaxed);
    let commits = w.join().unwrap();
    drop(reader);
    assert!(commits > 0);
    // The writer really ran during the backups: they saw different committed states.
    assert!(counts.len() >= 2, "all {taken} backups saw the same state: {counts:?}");
    let (items, total) = consistent(&conn);
    assert_eq!(items, total);
    methods
}

#[test]
fn wal_fast_path_during_writes() {
    let methods = concurrent(true, SnapshotMethod::Auto, false);
    assert!(methods.contains("file-copy"), "{methods:?}");
}

#[test]
fn wal_backup_api_during_writes() {
    assert_eq!(
        concurrent(true, SnapshotMethod::BackupApi, false),
        BTreeSet::from(["backup-api".to_owned()])
    );
}

#[test]
fn wal_with_an_old_reader_falls_back_to_the_backup_api() {
    assert_eq!(
        concurrent(true, SnapshotMethod::Auto, true),
        BTreeSet::from(["backup-api".to_owned()])
    );
}

#[test]
fn rollback_journal_during_writes() {
    let methods = concurrent(false, SnapshotMethod::Auto, false);
    assert_eq!(methods, BTreeSet::from(["file-copy".to_owned()]));
    concurrent(false, SnapshotMethod::BackupApi, false);
}
