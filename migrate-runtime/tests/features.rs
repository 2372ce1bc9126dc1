//! What a build without the optional features does. CI runs this file with `--no-default-features` (see
//! `.ci/run`): there zstd is not compiled in, so a compressed backup is refused up front, with `Unsupported`, before
//! any file is written, and plain backups work as before. With the default features it checks that compression is
//! available (the round trips themselves are in `backup_roundtrip.rs`).

use litemigrate_runtime::backup::{self, BackupOptions, Reason};
use rusqlite::Connection;

fn file_db(dir: &std::path::Path) -> Connection {
    let conn = Connection::open(dir.join("app.db")).unwrap();
    conn.execute_batch("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1), (2);")
        .unwrap();
    conn
}

fn opts(dir: &std::path::Path, compress: bool) -> BackupOptions {
    BackupOptions {
        dir: Some(dir.join("bk")),
        compress,
        ..BackupOptions::default()
    }
}

#[test]
fn plain_backups_need_no_optional_feature() {
    let tmp = tempfile::tempdir().unwrap();
    let conn = file_db(tmp.path());
    let info = backup::create(&conn, &opts(tmp.path(), false), Reason::Manual, 0, 1)
        .unwrap()
        .expect("a file database with a table");
    assert!(!info.compressed);
    assert_eq!(
        backup::verify(&tmp.path().join("bk"), &info.id, &opts(tmp.path(), false)).unwrap(),
        info
    );
}

#[cfg(not(feature = "compression"))]
#[test]
fn compressed_backup_is_refused_without_the_compression_feature() {
    let tmp = tempfile::tempdir().unwrap();
    let conn = file_db(tmp.path());
    let err = backup::create(&conn, &opts(tmp.path(), true), Reason::Manual, 0, 1).unwrap_err();
    assert_eq!(err.kind(), backup::BackupErrorKind::Io);
    match &err {
        backup::BackupError::Io { source, .. } => assert_eq!(source.kind(), std::io::ErrorKind::Unsupported),
        other => panic!("expected an Io error, got {other:?}"),
    }
    assert!(err.to_string().contains("`compression` feature"), "{err}");
    // Refused before the snapshot: nothing was left in the backup directory, not even a temp file.
    let left: Vec<_> = std::fs::read_dir(tmp.path().join("bk"))
        .map(|d| d.map(|e| e.unwrap().file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "{left:?}");
}

#[cfg(feature = "compression")]
#[test]
fn compressed_backup_is_written_with_the_compression_feature() {
    let tmp = tempfile::tempdir().unwrap();
    let conn = file_db(tmp.path());
    let info = backup::create(&conn, &opts(tmp.path(), true), Reason::Manual, 0, 1)
        .unwrap()
        .expect("a file database with a table");
    assert!(info.compressed && info.file.ends_with(".bak.zst"), "{info:?}");
}
