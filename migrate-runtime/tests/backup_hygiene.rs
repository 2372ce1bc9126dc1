//! What the backup directory may contain and what a restore may read: a backup file that is a symlink must stay in
//! the directory (the manifest's rule), and the temporary files a killed backup leaves are removed by the next
//! backup or listing, never while a live one is writing them.

#[path = "backup_support/mod.rs"]
mod support;

use litemigrate_runtime::backup::{self, BackupErrorKind, BackupOptions, Reason};
use std::path::Path;
use std::time::{Duration, SystemTime};
use support::*;

fn opts(dir: &Path) -> BackupOptions {
    BackupOptions {
        dir: Some(dir.to_path_buf()),
        quick_check: true,
        ..BackupOptions::default()
    }
}

#[cfg(unix)]
#[test]
fn a_backup_file_symlinked_out_of_the_directory_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("app.db");
    let dir = tmp.path().join("bk");
    let mut conn = make_db(&db, false, 50);
    let info = backup::create(&conn, &opts(&dir), Reason::Manual, 1, 1)
        .unwrap()
        .unwrap();
    let before = dump(&conn);

    // Another database elsewhere, put where the manifest's file should be.
    let elsewhere = tmp.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    let outside = elsewhere.join(info.path.file_name().unwrap());
    std::fs::rename(&info.path, &outside).unwrap();
    std::os::unix::fs::symlink(&outside, &info.path).unwrap();
    conn.execute_batch("INSERT INTO items (id, name) VALUES (999999, 'after');")
        .unwrap();
    let after = dump(&conn);

    for err in [
        backup::inspect(&dir, &info.id).unwrap_err(),
        backup::verify(&dir, &info.id, &opts(&dir)).unwrap_err(),
        backup::restore(&mut conn, &dir, &info.id, 1, &opts(&dir)).unwrap_err(),
    ] {
        assert_eq!(err.kind(), BackupErrorKind::OutsideDir, "{err}");
        assert!(err.to_string().contains("outside the backup directory"), "{err}");
    }
    assert_eq!(dump(&conn), after, "nothing was restored");
    assert!(backup::list(&dir).unwrap().iter().all(|b| b.id != info.id));

    // A symlink to a file inside the directory is the backup's own file under another name: allowed, as for the
    // manifest.
    let inside = dir.join("moved-here");
    std::fs::rename(&outside, &inside).unwrap();
    std::fs::remove_file(&info.path).unwrap();
    std::os::unix::fs::symlink(&inside, &info.path).unwrap();
    backup::restore(&mut conn, &dir, &info.id, 1, &opts(&dir)).unwrap();
    assert_eq!(dump(&conn), before);
}

/// A temp file as a backup killed midway leaves it: hidden, database-sized, nobody holding it, not touched since.
#[cfg(unix)]
fn leave_stale_temp(dir: &Path, name: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, vec![7u8; 64 * 1024]).unwrap();
    let f = std::fs::File::options().write(true).open(&path).unwrap();
    f.set_modified(SystemTime::now() - Duration::from_secs(3600)).unwrap();
    path
}

#[cfg(unix)]
#[test]
fn temp_files_left_by_killed_backups_are_removed_by_the_next_backup_and_listing() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("app.db");
    let dir = tmp.path().join("bk");
    let conn = make_db(&db, false, 50);
    std::fs::create_dir(&dir).unwrap();

    let stale = leave_stale_temp(&dir, ".app.AbC123.tmp");
    let manifest_tmp = leave_stale_temp(&dir, ".manifest.XyZ789.tmp");
    // Held by a live process (this one): a backup in progress elsewhere.
    let held = leave_stale_temp(&dir, ".app.Live00.tmp");
    let lock = std::fs::File::options().read(true).write(true).open(&held).unwrap();
    lock.try_lock().unwrap();
    // Recent and unlocked: may be a backup that has just created it and not locked it yet.
    let fresh = dir.join(".app.Fresh0.tmp");
    std::fs::write(&fresh, b"x").unwrap();
    // Not a temp file: never touched.
    let other = leave_stale_temp(&dir, "notes.tmp");

    let info = backup::create(&conn, &opts(&dir), Reason::Manual, 1, 1)
        .unwrap()
        .unwrap();
    assert!(!stale.exists() && !manifest_tmp.exists(), "{:?}", dir_entries(&dir));
    assert!(
        held.exists() && fresh.exists() && other.exists(),
        "{:?}",
        dir_entries(&dir)
    );
    assert!(info.path.exists());

    // Once its process lets go, the next listing removes it.
    drop(lock);
    let list = backup::list(&dir).unwrap();
    assert_eq!(list.len(), 1);
    assert!(!held.exists(), "{:?}", dir_entries(&dir));
    assert!(fresh.exists() && other.exists());
}

#[cfg(unix)]
#[test]
fn concurrent_backups_into_one_directory_never_remove_each_others_temp_files() {
    // Every backup sweeps the directory while the others are writing theirs (the lock itself is proven in
    // backup/fsutil.rs's unit tests, with a temp file old enough to be swept if it were not held).
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("bk");
    let threads: Vec<_> = (0..4)
        .map(|i| {
            let db = tmp.path().join(format!("db{i}.db"));
            let dir = dir.clone();
            std::thread::spawn(move || {
                let conn = make_db(&db, i % 2 == 0, 2_000);
                for _ in 0..3 {
                    backup::create(&conn, &opts(&dir), Reason::Manual, 1, 1)
                        .unwrap()
                        .unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(backup::list(&dir).unwrap().len(), 12);
    for b in backup::list(&dir).unwrap() {
        backup::verify(&dir, &b.id, &opts(&dir)).unwrap();
    }
}
