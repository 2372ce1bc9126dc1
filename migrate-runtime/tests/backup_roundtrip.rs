//! Backups round-trip row for row, plain and compressed, through both snapshot methods; in-memory and empty
//! databases are skipped; names never collide.

#[path = "backup_support/mod.rs"]
mod support;

use litemigrate_runtime::backup::{self, BackupOptions, Reason, SnapshotMethod};
use support::*;

fn opts(dir: &std::path::Path, compress: bool, method: SnapshotMethod) -> BackupOptions {
    BackupOptions {
        dir: Some(dir.to_path_buf()),
        compress,
        method,
        ..BackupOptions::default()
    }
}

fn round_trip(wal: bool, compress: bool, method: SnapshotMethod) {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("app.db");
    let mut conn = make_db(&db, wal, 2_000);
    let original = dump(&conn);
    let dir = tmp.path().join("bk");
    let o = opts(&dir, compress, method);

    let info = backup::create(&conn, &o, Reason::PreMigrate, 3, 4)
        .unwrap()
        .expect("a file db with tables");
    assert_eq!(info.reason, Reason::PreMigrate);
    assert_eq!((info.version_before, info.target_version), (3, 4));
    assert_eq!(info.compressed, compress);
    assert_eq!(info.integrity, "ok");
    assert!(info.file.starts_with("app.") && info.file.ends_with(if compress { ".v3.bak.zst" } else { ".v3.bak" }));
    assert_eq!(info.source, std::fs::canonicalize(&db).unwrap());
    let expected_method = if method == SnapshotMethod::BackupApi {
        "backup-api"
    } else {
        "file-copy"
    };
    assert_eq!(info.method, expected_method);
    // The manifest describes the file on disk.
    let bytes = std::fs::read(&info.path).unwrap();
    assert_eq!(info.size, bytes.len() as u64);
    assert_eq!(info.sha256, litemigrate_core::checksum::sha256(&bytes).to_hex());
    assert_eq!(backup::inspect(&dir, &info.id).unwrap(), info);
    assert_eq!(backup::list(&dir).unwrap(), vec![info.clone()]);
    // Only the backup and its manifest remain: no temp files, no -wal/-shm/-journal.
    assert_eq!(
        dir_entries(&dir),
        vec![info.file.clone(), format!("{}.json", info.file)]
    );
    if !compress {
        assert_eq!(dump_file(&info.path), original);
        std::fs::remove_file(dir.join(format!("{}-shm", info.file))).ok();
        std::fs::remove_file(dir.join(format!("{}-wal", info.file))).ok();
    } else {
        let plain = zstd::decode_all(&bytes[..]).unwrap();
        assert_eq!(info.db_size, plain.len() as u64);
        let p = tmp.path().join("decompressed.db");
        std::fs::write(&p, plain).unwrap();
        assert_eq!(dump_file(&p), original);
    }
    assert_eq!(backup::verify(&dir, &info.id, &o).unwrap(), info);

    // Change the database, then get the backup back.
    conn.execute_batch(
        "DELETE FROM items WHERE id % 3 = 0; DELETE FROM \"odd \"\"name\" WHERE v > 100; DROP INDEX items_grp;
         CREATE TABLE extra(x); INSERT INTO extra VALUES (1);",
    )
    .unwrap();
    insert_rows(&conn, 10_000, 10);
    let changed = dump(&conn);
    assert_ne!(changed, original);
    let report = backup::restore(&mut conn, &dir, &info.id, 4, &o).unwrap();
    assert_eq!(report.restored, info);
    assert_eq!(dump(&conn), original);
    // A second connection sees the restored database too.
    let other = rusqlite::Connection::open(&db).unwrap();
    assert_eq!(dump(&other), original);
    // The pre-restore backup holds the state the restore replaced.
    let pre = report.pre_restore.expect("pre-restore backup");
    assert_eq!(pre.reason, Reason::PreRestore);
    assert_eq!((pre.version_before, pre.target_version), (4, 3));
    backup::restore(&mut conn, &dir, &pre.id, 3, &o).unwrap();
    assert_eq!(dump(&conn), changed);
    let ids: Vec<String> = backup::list(&dir).unwrap().into_iter().map(|b| b.id).collect();
    assert_eq!(ids.len(), 3, "{ids:?}");
}

#[test]
fn round_trip_rollback_journal_fast_path() {
    round_trip(false, false, SnapshotMethod::Auto);
}

#[test]
fn round_trip_wal_fast_path() {
    round_trip(true, false, SnapshotMethod::Auto);
}

#[test]
fn round_trip_backup_api() {
    round_trip(false, false, SnapshotMethod::BackupApi);
    round_trip(true, false, SnapshotMethod::BackupApi);
}

#[test]
fn round_trip_compressed() {
    round_trip(false, true, SnapshotMethod::Auto);
    round_trip(true, true, SnapshotMethod::BackupApi);
}

#[test]
fn fast_path_equals_backup_api() {
    for wal in [false, true] {
        let tmp = tempfile::tempdir().unwrap();
        let db = tmp.path().join("app.db");
        let conn = make_db(&db, wal, 3_000);
        let fast = backup::create(
            &conn,
            &opts(&tmp.path().join("a"), false, SnapshotMethod::Auto),
            Reason::Manual,
            1,
            1,
        )
        .unwrap()
        .unwrap();
        let api = backup::create(
            &conn,
            &opts(&tmp.path().join("b"), false, SnapshotMethod::BackupApi),
            Reason::Manual,
            1,
            1,
        )
        .unwrap()
        .unwrap();
        assert_eq!((fast.method.as_str(), api.method.as_str()), ("file-copy", "backup-api"));
        assert_eq!(dump_file(&fast.path), dump_file(&api.path));
        assert_eq!(dump_file(&fast.path), dump(&conn));
    }
}

#[test]
fn compression_shrinks_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let conn = make_db(&tmp.path().join("app.db"), false, 5_000);
    let info = backup::create(
        &conn,
        &opts(&tmp.path().join("bk"), true, SnapshotMethod::Auto),
        Reason::Manual,
        0,
        0,
    )
    .unwrap()
    .unwrap();
    assert!(info.size < info.db_size, "{} !< {}", info.size, info.db_size);
}

#[test]
fn in_memory_and_empty_databases_are_skipped() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("bk");
    let o = opts(&dir, false, SnapshotMethod::Auto);
    let mem = rusqlite::Connection::open_in_memory().unwrap();
    mem.execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (1);")
        .unwrap();
    assert_eq!(backup::create(&mem, &o, Reason::PreMigrate, 0, 1).unwrap(), None);
    let empty = rusqlite::Connection::open(tmp.path().join("empty.db")).unwrap();
    assert_eq!(backup::create(&empty, &o, Reason::PreMigrate, 0, 1).unwrap(), None);
    assert!(!dir.exists());
    // The default directory is `backups/` next to the database.
    let conn = make_db(&tmp.path().join("real.db"), false, 10);
    let info = backup::create(&conn, &BackupOptions::default(), Reason::PreMigrate, 0, 1)
        .unwrap()
        .unwrap();
    assert_eq!(
        info.path.parent().unwrap(),
        std::fs::canonicalize(tmp.path()).unwrap().join("backups")
    );
}

#[test]
fn backups_in_the_same_millisecond_do_not_collide() {
    let tmp = tempfile::tempdir().unwrap();
    let conn = make_db(&tmp.path().join("app.db"), false, 10);
    let dir = tmp.path().join("bk");
    let o = opts(&dir, false, SnapshotMethod::Auto);
    let infos: Vec<_> = (0..8)
        .map(|_| backup::create(&conn, &o, Reason::Manual, 2, 2).unwrap().unwrap())
        .collect();
    let mut ids: Vec<&str> = infos.iter().map(|i| i.id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 8);
    assert_eq!(backup::list(&dir).unwrap().len(), 8);
    for i in &infos {
        backup::verify(&dir, &i.id, &o).unwrap();
    }
}
