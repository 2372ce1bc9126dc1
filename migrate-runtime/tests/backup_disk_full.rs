//! A full disk while backing up: a clear `DiskFull` error, no partial file left in the backup directory, and the
//! database untouched. The full disk is a tiny tmpfs, which needs root (mount); elsewhere the test says it skipped.

#[path = "backup_support/mod.rs"]
mod support;

use litemigrate_runtime::backup::{self, BackupErrorKind, BackupOptions, Reason, SnapshotMethod};
use std::path::{Path, PathBuf};
use std::process::Command;
use support::*;

struct Mount(PathBuf);

impl Mount {
    fn tmpfs(at: &Path, size: &str) -> Option<Mount> {
        std::fs::create_dir_all(at).unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Mount(at.to_path_buf()))
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn full_disk_leaves_nothing_and_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(mount) = Mount::tmpfs(&tmp.path().join("small"), "256k") else {
        eprintln!("SKIPPED: cannot mount a tmpfs here (needs root)");
        return;
    };
    let db = tmp.path().join("app.db");
    let mut conn = make_db(&db, true, 20_000);
    let before = dump(&conn);
    let db_len = std::fs::metadata(&db).unwrap().len();
    assert!(db_len > 1 << 20, "the database must not fit: {db_len}");
    let cases = [
        (SnapshotMethod::Auto, false),
        (SnapshotMethod::BackupApi, false),
        (SnapshotMethod::Auto, true),
    ];
    for (method, compress) in cases {
        let opts = BackupOptions {
            dir: Some(mount.0.clone()),
            method,
            compress,
            ..BackupOptions::default()
        };
        let err = backup::create(&conn, &opts, Reason::PreMigrate, 1, 2).unwrap_err();
        assert_eq!(
            err.kind(),
            BackupErrorKind::DiskFull,
            "{method:?} compress={compress}: {err}"
        );
        assert!(err.to_string().contains("no space left"), "{err}");
        assert_eq!(
            dir_entries(&mount.0),
            Vec::<String>::new(),
            "{method:?} compress={compress}"
        );
        assert_eq!(dump(&conn), before);
    }
    // The database still works and nothing was written to it.
    let check: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(check, "ok");
    insert_rows(&conn, 100_000, 1);
    // A restore whose pre-restore backup cannot be written fails the same way, before touching the database.
    let good_dir = tmp.path().join("bk");
    let good = BackupOptions {
        dir: Some(good_dir.clone()),
        ..BackupOptions::default()
    };
    let info = backup::create(&conn, &good, Reason::Manual, 1, 1).unwrap().unwrap();
    insert_rows(&conn, 200_000, 5);
    let now = dump(&conn);
    let full = BackupOptions {
        dir: Some(mount.0.clone()),
        ..BackupOptions::default()
    };
    let err = backup::restore_info(&mut conn, &info, 1, &full).unwrap_err();
    assert_eq!(err.kind(), BackupErrorKind::DiskFull, "{err}");
    assert_eq!(dump(&conn), now);
    assert_eq!(dir_entries(&mount.0), Vec::<String>::new());
}
