//! Retention keeps exactly what it promises: the newest N and/or those younger than the age limit, always the backup
//! just taken, only backups of the same database, and never a file without a manifest.

#[path = "backup_support/mod.rs"]
mod support;

use litemigrate_runtime::backup::{self, BackupInfo, BackupOptions, Reason, Retention};
use std::time::Duration;
use support::*;

fn set_created_at(info: &BackupInfo, days_ago: i64) {
    let t = jiff::Timestamp::now().as_millisecond() - days_ago * 86_400_000;
    let t = jiff::Timestamp::from_millisecond(t).unwrap();
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(info.manifest_path()).unwrap()).unwrap();
    v["created_at"] = format!("{t:.3}").into();
    std::fs::write(info.manifest_path(), serde_json::to_vec(&v).unwrap()).unwrap();
}

#[test]
fn retention() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("bk");
    let opts = BackupOptions {
        dir: Some(dir.clone()),
        ..BackupOptions::default()
    };
    let a = make_db(&tmp.path().join("a.db"), false, 20);
    let b = make_db(&tmp.path().join("b.db"), false, 20);
    // Six backups of a, aged 60, 50, 40, 20, 10 and 0 days; one of b, aged 90 days.
    let ages = [60, 50, 40, 20, 10, 0];
    let a_backups: Vec<BackupInfo> = ages
        .iter()
        .enumerate()
        .map(|(v, &age)| {
            let i = backup::create(&a, &opts, Reason::PreMigrate, v as u64, v as u64 + 1)
                .unwrap()
                .unwrap();
            set_created_at(&i, age);
            i
        })
        .collect();
    let b_old = backup::create(&b, &opts, Reason::Manual, 0, 0).unwrap().unwrap();
    set_created_at(&b_old, 90);
    // Files this library did not write: never deleted, whatever their name.
    std::fs::write(dir.join("a.20000101T000000.000Z.v0.bak"), b"not ours").unwrap();
    std::fs::write(dir.join("notes.txt"), b"keep me").unwrap();
    let ids = |v: &[BackupInfo]| v.iter().map(|i| i.id.clone()).collect::<Vec<_>>();
    let listed = ids(&backup::list(&dir).unwrap());
    let mut expected: Vec<String> = a_backups.iter().rev().map(|i| i.id.clone()).collect();
    expected.push(b_old.id.clone());
    assert_eq!(listed, expected, "newest first");

    let newest = &a_backups[5];
    // Keep-all deletes nothing.
    assert!(
        backup::apply_retention(&dir, &Retention::KEEP_ALL, &newest.id)
            .unwrap()
            .is_empty()
    );
    // Keep the last 4: the two oldest of a go.
    let gone = backup::apply_retention(
        &dir,
        &Retention {
            keep_last: Some(4),
            max_age: None,
        },
        &newest.id,
    )
    .unwrap();
    assert_eq!(ids(&gone), vec![a_backups[1].id.clone(), a_backups[0].id.clone()]);
    // Older than 30 days: the 40-day one goes, the 20-day one stays.
    let thirty = Retention {
        keep_last: None,
        max_age: Some(Duration::from_secs(30 * 86_400)),
    };
    let gone = backup::apply_retention(&dir, &thirty, &newest.id).unwrap();
    assert_eq!(ids(&gone), vec![a_backups[2].id.clone()]);
    // Both rules: keep at most 2 of those younger than 15 days.
    let both = Retention {
        keep_last: Some(2),
        max_age: Some(Duration::from_secs(15 * 86_400)),
    };
    let gone = backup::apply_retention(&dir, &both, &newest.id).unwrap();
    assert_eq!(ids(&gone), vec![a_backups[3].id.clone()]);
    // The backup being kept survives even when it is itself too old and beyond the count.
    set_created_at(&a_backups[4], 100);
    let zero = Retention {
        keep_last: Some(0),
        max_age: Some(Duration::from_secs(1)),
    };
    let gone = backup::apply_retention(&dir, &zero, &a_backups[4].id).unwrap();
    assert_eq!(ids(&gone), vec![newest.id.clone()]);

    let mut left = dir_entries(&dir);
    left.sort();
    let mut want = vec![
        a_backups[4].file.clone(),
        format!("{}.json", a_backups[4].file),
        b_old.file.clone(),
        format!("{}.json", b_old.file),
        "a.20000101T000000.000Z.v0.bak".to_owned(),
        "notes.txt".to_owned(),
    ];
    want.sort();
    assert_eq!(left, want);
    // The survivor is intact.
    backup::verify(&dir, &a_backups[4].id, &opts).unwrap();
    // Retention for an unknown backup is an error, and deletes nothing.
    assert!(backup::apply_retention(&dir, &zero, "nope").is_err());
    assert_eq!(dir_entries(&dir).len(), 6);
}

/// A backup directory shared by a fleet: retention for one database reads and deletes only that database's backups,
/// including next to databases whose names share its prefix (`a.db` and `a.b.db` both name backups `a.…`) or its
/// file name in another directory (`other/a.db`).
#[test]
fn retention_in_a_shared_directory_touches_only_its_own_database() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("bk");
    let opts = BackupOptions {
        dir: Some(dir.clone()),
        ..BackupOptions::default()
    };
    std::fs::create_dir(tmp.path().join("other")).unwrap();
    let dbs = ["a.db", "a.b.db", "other/a.db", "b.db"].map(|n| make_db(&tmp.path().join(n), false, 5));
    // Three backups of each, 3, 2 and 1 days old; then the backup being kept, of `a.db`.
    let mut others = Vec::new();
    let mut a_old = Vec::new();
    for (age, v) in [(3, 0), (2, 1), (1, 2)] {
        for (i, conn) in dbs.iter().enumerate() {
            let b = backup::create(conn, &opts, Reason::PreMigrate, v, v + 1)
                .unwrap()
                .unwrap();
            set_created_at(&b, age);
            if i == 0 { a_old.push(b) } else { others.push(b) }
        }
    }
    let kept = backup::create(&dbs[0], &opts, Reason::PreMigrate, 3, 4)
        .unwrap()
        .unwrap();
    let before: Vec<(String, Vec<u8>)> = others
        .iter()
        .flat_map(|b| [b.path.clone(), b.manifest_path()])
        .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
        .collect();

    let gone = backup::apply_retention(
        &dir,
        &Retention {
            keep_last: Some(2),
            max_age: None,
        },
        &kept.id,
    )
    .unwrap();
    // `a.db`'s own: the newest two stay (the kept one and the 1-day-old one), the two older go, newest first.
    let ids = |v: &[BackupInfo]| v.iter().map(|i| i.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&gone), vec![a_old[1].id.clone(), a_old[0].id.clone()]);
    assert!(kept.path.exists() && a_old[2].path.exists());
    // Every other database's backups and manifests are byte for byte what they were.
    for (path, bytes) in before {
        assert_eq!(std::fs::read(&path).unwrap(), bytes, "{path} changed");
    }
    let listed = backup::list(&dir).unwrap();
    assert_eq!(listed.len(), others.len() + 2, "{:?}", ids(&listed));
}
