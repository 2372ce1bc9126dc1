//! Damage is caught: a flipped byte by the hash, a truncated copy by the integrity check; restore refuses damaged
//! backups and anything outside the backup directory, and leaves the database as it was.

#[path = "backup_support/mod.rs"]
mod support;

use litemigrate_runtime::backup::{self, BackupErrorKind, BackupInfo, BackupOptions, Reason};
use std::path::{Path, PathBuf};
use support::*;

struct Fixture {
    _tmp: tempfile::TempDir,
    conn: rusqlite::Connection,
    dir: PathBuf,
    opts: BackupOptions,
    info: BackupInfo,
}

fn fixture(compress: bool) -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let conn = make_db(&tmp.path().join("app.db"), true, 3_000);
    let dir = tmp.path().join("bk");
    let opts = BackupOptions {
        dir: Some(dir.clone()),
        compress,
        ..BackupOptions::default()
    };
    let info = backup::create(&conn, &opts, Reason::Manual, 1, 1).unwrap().unwrap();
    Fixture {
        _tmp: tmp,
        conn,
        dir,
        opts,
        info,
    }
}

/// Rewrites the manifest's hash and size to match the file as it is now, as if the damage happened before hashing.
fn rehash(info: &BackupInfo) {
    let bytes = std::fs::read(&info.path).unwrap();
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(info.manifest_path()).unwrap()).unwrap();
    v["sha256"] = litemigrate_core::checksum::sha256(&bytes).to_hex().into();
    v["size"] = (bytes.len() as u64).into();
    std::fs::write(info.manifest_path(), serde_json::to_vec(&v).unwrap()).unwrap();
}

fn assert_restore_refused(f: &mut Fixture, id: &str, kind: BackupErrorKind) {
    let before = dump(&f.conn);
    let listed = backup::list(&f.dir).unwrap().len();
    let err = backup::restore(&mut f.conn, &f.dir, id, 1, &f.opts).unwrap_err();
    assert_eq!(err.kind(), kind, "{err}");
    assert_eq!(dump(&f.conn), before);
    // Refused before the pre-restore backup: nothing new in the directory.
    assert_eq!(backup::list(&f.dir).unwrap().len(), listed);
    assert!(
        dir_entries(&f.dir).iter().all(|n| !n.ends_with(".tmp")),
        "{:?}",
        dir_entries(&f.dir)
    );
}

#[test]
fn flipped_byte_is_caught_by_the_hash() {
    for compress in [false, true] {
        let mut f = fixture(compress);
        let mut bytes = std::fs::read(&f.info.path).unwrap();
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0x01;
        std::fs::write(&f.info.path, &bytes).unwrap();
        let err = backup::verify(&f.dir, &f.info.id, &f.opts).unwrap_err();
        assert_eq!(err.kind(), BackupErrorKind::HashMismatch, "{err}");
        match &err {
            litemigrate_runtime::backup::BackupError::HashMismatch { expected, actual, .. } => {
                assert_eq!(expected.to_hex(), f.info.sha256);
                assert_eq!(*actual, litemigrate_core::checksum::sha256(&bytes));
            }
            other => panic!("{other}"),
        }
        let id = f.info.id.clone();
        assert_restore_refused(&mut f, &id, BackupErrorKind::HashMismatch);
    }
}

#[test]
fn truncated_backup_is_caught_by_integrity() {
    for compress in [false, true] {
        let mut f = fixture(compress);
        let len = std::fs::metadata(&f.info.path).unwrap().len();
        let file = std::fs::OpenOptions::new().write(true).open(&f.info.path).unwrap();
        file.set_len(len / 2).unwrap();
        drop(file);
        // As written: the hash catches it first.
        let err = backup::verify(&f.dir, &f.info.id, &f.opts).unwrap_err();
        assert_eq!(err.kind(), BackupErrorKind::HashMismatch, "{err}");
        // Truncated before it was hashed: the integrity check catches it.
        rehash(&f.info);
        let err = backup::verify(&f.dir, &f.info.id, &f.opts).unwrap_err();
        assert_eq!(err.kind(), BackupErrorKind::IntegrityFailed, "{err}");
        let quick = BackupOptions {
            quick_check: true,
            ..f.opts.clone()
        };
        assert_eq!(
            backup::verify(&f.dir, &f.info.id, &quick).unwrap_err().kind(),
            BackupErrorKind::IntegrityFailed
        );
        let id = f.info.id.clone();
        assert_restore_refused(&mut f, &id, BackupErrorKind::IntegrityFailed);
        // Truncated to nothing: an empty file is a valid empty database to SQLite, but not a backup.
        std::fs::write(&f.info.path, b"").unwrap();
        rehash(&f.info);
        assert_eq!(
            backup::verify(&f.dir, &f.info.id, &f.opts).unwrap_err().kind(),
            BackupErrorKind::IntegrityFailed
        );
    }
}

#[test]
fn garbage_file_is_an_integrity_failure_not_a_panic() {
    let mut f = fixture(false);
    std::fs::write(&f.info.path, vec![0xAB; 8192]).unwrap();
    rehash(&f.info);
    assert_eq!(
        backup::verify(&f.dir, &f.info.id, &f.opts).unwrap_err().kind(),
        BackupErrorKind::IntegrityFailed
    );
    let id = f.info.id.clone();
    assert_restore_refused(&mut f, &id, BackupErrorKind::IntegrityFailed);
}

#[test]
fn corrupt_manifests_are_reported_not_trusted() {
    let f = fixture(false);
    let m = f.info.manifest_path();
    std::fs::write(&m, b"{ not json").unwrap();
    assert_eq!(
        backup::inspect(&f.dir, &f.info.id).unwrap_err().kind(),
        BackupErrorKind::ManifestCorrupt
    );
    assert_eq!(backup::list(&f.dir).unwrap(), vec![]);
    // A manifest that names another file (e.g. `../app.db`) is refused.
    let mut v = serde_json::to_value(&f.info).unwrap();
    v["file"] = "../app.db".into();
    std::fs::write(&m, serde_json::to_vec(&v).unwrap()).unwrap();
    assert_eq!(
        backup::inspect(&f.dir, &f.info.id).unwrap_err().kind(),
        BackupErrorKind::ManifestCorrupt
    );
    v["file"] = f.info.file.clone().into();
    v["sha256"] = "abc".into();
    std::fs::write(&m, serde_json::to_vec(&v).unwrap()).unwrap();
    assert_eq!(
        backup::inspect(&f.dir, &f.info.id).unwrap_err().kind(),
        BackupErrorKind::ManifestCorrupt
    );
}

/// Manifests are read without serde's derive (src/json.rs): one written the way earlier releases wrote it (fields
/// in declaration order) plus a field a newer release might add is still read as the same backup, and a damaged one
/// names the field that is wrong.
#[test]
fn manifests_of_earlier_releases_are_read_and_damage_names_the_field() {
    let f = fixture(false);
    let i = &f.info;
    let old = format!(
        r#"{{
  "format": 1, "id": "{}", "file": "{}", "source": "{}", "created_at": "{}",
  "version_before": {}, "target_version": {}, "reason": "{}", "size": {}, "db_size": {},
  "sha256": "{}", "compressed": false, "sqlite_version": "{}", "check": "{}", "integrity": "ok",
  "method": "{}", "added_by_a_later_release": {{"x": [1, 2]}}
}}"#,
        i.id,
        i.file,
        i.source.display(),
        i.created_at,
        i.version_before,
        i.target_version,
        i.reason,
        i.size,
        i.db_size,
        i.sha256,
        i.sqlite_version,
        i.check,
        i.method
    );
    let m = i.manifest_path();
    std::fs::write(&m, &old).unwrap();
    assert_eq!(i.reason, Reason::Manual);
    assert_eq!(&backup::inspect(&f.dir, &i.id).unwrap(), i);
    for (damage, says) in [
        (old.replace(r#""size""#, r#""sighs""#), r#"missing field "size""#),
        (
            old.replace(r#""compressed": false"#, r#""compressed": "no""#),
            r#"field "compressed": expected true or false"#,
        ),
        (
            old.replace(r#""reason": "manual""#, r#""reason": "whim""#),
            r#"unknown reason "whim""#,
        ),
    ] {
        std::fs::write(&m, damage).unwrap();
        let e = backup::inspect(&f.dir, &i.id).unwrap_err();
        assert_eq!(e.kind(), BackupErrorKind::ManifestCorrupt);
        assert!(e.to_string().contains(says), "{e}");
    }
}

#[test]
fn restore_refuses_paths_outside_the_directory() {
    let mut f = fixture(false);
    // A genuine backup with a manifest, but in another directory.
    let elsewhere = f._tmp.path().join("elsewhere");
    let other_opts = BackupOptions {
        dir: Some(elsewhere.clone()),
        ..BackupOptions::default()
    };
    let other = backup::create(&f.conn, &other_opts, Reason::Manual, 1, 1)
        .unwrap()
        .unwrap();
    let outside_ids = [
        other.path.to_string_lossy().into_owned(),
        other.manifest_path().to_string_lossy().into_owned(),
        format!("../elsewhere/{}", other.file),
        format!("../elsewhere/{}", other.id),
        "..".to_owned(),
        "../app.db".to_owned(),
        "/etc/passwd".to_owned(),
        f.dir
            .join("..")
            .join("elsewhere")
            .join(&other.file)
            .to_string_lossy()
            .into_owned(),
    ];
    for id in &outside_ids {
        assert_restore_refused(&mut f, id, BackupErrorKind::OutsideDir);
        assert_eq!(
            backup::verify(&f.dir, id, &f.opts).unwrap_err().kind(),
            BackupErrorKind::OutsideDir,
            "{id}"
        );
    }
    // Symlinks inside the directory that point outside are refused too.
    #[cfg(unix)]
    {
        let link = f.dir.join(format!("{}.json", other.file));
        std::os::unix::fs::symlink(other.manifest_path(), &link).unwrap();
        let id = other.id.clone();
        assert_restore_refused(&mut f, &id, BackupErrorKind::OutsideDir);
        std::fs::remove_file(&link).unwrap();
    }
    // Unknown names inside the directory are simply not found.
    assert_restore_refused(&mut f, "app.20000101T000000.000Z.v1", BackupErrorKind::NotFound);
    // The backup's own path, its file name and its id all resolve.
    for id in [
        f.info.path.to_string_lossy().into_owned(),
        f.info.file.clone(),
        f.info.id.clone(),
    ] {
        assert_eq!(backup::inspect(&f.dir, &id).unwrap(), f.info);
    }
    let via_path = Path::new(&f.info.path).to_path_buf();
    let report = backup::restore(&mut f.conn, &f.dir, via_path.to_str().unwrap(), 1, &f.opts).unwrap();
    assert_eq!(report.restored.id, f.info.id);
}
