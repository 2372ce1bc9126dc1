//! The migrator backs up a file database with tables before changing it (up or down), skips empty and in-memory
//! databases, follows the policy, reports the backup, and restores it when a `no-transaction` migration fails midway.

#[path = "backup_support/mod.rs"]
mod support;

use litemigrate_core::load::{MigrationSource, load_in_memory};
use litemigrate_runtime::backup::{self, BackupErrorKind, BackupOptions, BackupPolicy, Reason};
use litemigrate_runtime::{Error, ErrorKind, Migrations, Target};
use support::dump;

fn sources(files: &[(&str, &str)]) -> Vec<MigrationSource> {
    load_in_memory("migrations", files).unwrap()
}

fn set(files: &[(&str, &str)]) -> Migrations {
    Migrations::from_sources("default", sources(files))
}

const V1: (&str, &str) = (
    "0001_users.up.sql",
    "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);\n",
);
const V1_DOWN: (&str, &str) = ("0001_users.down.sql", "DROP TABLE users;\n");
const V2: (&str, &str) = ("0002_email.up.sql", "ALTER TABLE users ADD COLUMN email TEXT;\n");
const V2_DOWN: (&str, &str) = ("0002_email.down.sql", "ALTER TABLE users DROP COLUMN email;\n");

/// A file database migrated to version 1 with one user in it.
fn at_v1_with_a_row() -> (tempfile::TempDir, std::path::PathBuf, rusqlite::Connection) {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("app.db");
    let mut conn = rusqlite::Connection::open(&db).unwrap();
    set(&[V1]).migrate(&mut conn).unwrap();
    conn.execute("INSERT INTO users (name) VALUES ('ada')", []).unwrap();
    (tmp, db, conn)
}

/// The dump without the failures table, and that table's rows.
fn split_failures(d: support::Dump) -> (support::Dump, Vec<Vec<rusqlite::types::Value>>) {
    let (failures, rest): (Vec<_>, Vec<_>) = d.into_iter().partition(|(name, _, _)| name == "_migrations_failures");
    (rest, failures.into_iter().flat_map(|(_, _, rows)| rows).collect())
}

fn backups_dir(db: &std::path::Path) -> std::path::PathBuf {
    db.parent().unwrap().join("backups")
}

#[test]
fn migrate_backs_up_a_file_db_with_tables_and_skips_empty_and_in_memory() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("app.db");
    let mut conn = rusqlite::Connection::open(&db).unwrap();

    // An empty file: nothing to protect, no backup, no directory.
    let one = set(&[V1, V1_DOWN]);
    let report = one.migrate(&mut conn).unwrap();
    assert_eq!(report.backup, None);
    assert!(!backups_dir(&db).exists());
    conn.execute("INSERT INTO users (name) VALUES ('ada'), ('grace')", [])
        .unwrap();
    let before = dump(&conn);

    // Tables present: backed up before the change, reported, listed.
    let two = set(&[V1, V1_DOWN, V2, V2_DOWN]);
    let report = two.migrate(&mut conn).unwrap();
    let b = report.backup.clone().expect("a backup of a file database with tables");
    assert_eq!(b.reason, Reason::PreMigrate);
    assert_eq!((b.version_before, b.target_version), (1, 2));
    assert!(report.to_string().contains(&b.path.display().to_string()));
    assert_eq!(
        b.path.parent().unwrap(),
        std::fs::canonicalize(backups_dir(&db)).unwrap()
    );
    assert_eq!(backup::list(&backups_dir(&db)).unwrap(), vec![b.clone()]);
    // It holds the database as it was before the migration.
    assert_eq!(support::dump_file(&b.path), before);

    // Nothing pending: no backup.
    assert_eq!(two.migrate(&mut conn).unwrap().backup, None);

    // Down: a pre-rollback backup.
    let report = two.migrator().target(Target::Version(1)).run(&mut conn).unwrap();
    let down = report.backup.expect("pre-rollback backup");
    assert_eq!(down.reason, Reason::PreRollback);
    assert_eq!((down.version_before, down.target_version), (2, 1));
    assert_eq!(backup::list(&backups_dir(&db)).unwrap().len(), 2);

    // Policy off: no backup.
    let report = two.migrator().backup(BackupPolicy::Off).run(&mut conn).unwrap();
    assert_eq!(report.backup, None);
    assert_eq!(backup::list(&backups_dir(&db)).unwrap().len(), 2);

    // In-memory: migrated, never backed up.
    let mut mem = rusqlite::Connection::open_in_memory().unwrap();
    one.migrate(&mut mem).unwrap();
    mem.execute("INSERT INTO users (name) VALUES ('x')", []).unwrap();
    assert_eq!(two.migrate(&mut mem).unwrap().backup, None);
}

#[test]
fn a_failed_backup_stops_the_migration_unless_best_effort() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("app.db");
    let mut conn = rusqlite::Connection::open(&db).unwrap();
    set(&[V1]).migrate(&mut conn).unwrap();
    // The backup directory cannot be created: a file is in the way.
    let blocked = tmp.path().join("blocked");
    std::fs::write(&blocked, b"a file, not a directory").unwrap();
    let opts = BackupOptions {
        dir: Some(blocked.join("sub")),
        ..BackupOptions::default()
    };
    let two = set(&[V1, V2]);
    let before = dump(&conn);
    let err = two.migrator().backup_options(opts.clone()).run(&mut conn).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Backup, "{err}");
    match &err {
        Error::Backup(e) => assert_eq!(e.kind(), BackupErrorKind::Io),
        other => panic!("{other}"),
    }
    assert_eq!(dump(&conn), before, "nothing was migrated");
    // Best effort: warned in the report, migrated anyway.
    let report = two
        .migrator()
        .backup(BackupPolicy::BestEffort)
        .backup_options(opts)
        .run(&mut conn)
        .unwrap();
    assert_eq!(report.backup, None);
    assert_eq!(report.backup_warnings.len(), 1, "{:?}", report.backup_warnings);
    assert_eq!(report.to_version, 2);
    assert_ne!(dump(&conn), before);
}

#[test]
fn failed_no_transaction_migration_restores_the_pre_migrate_backup() {
    let (_tmp, db, mut conn) = at_v1_with_a_row();
    let before = dump(&conn);
    // Statements outside a transaction commit one by one; the third fails after two have changed the database.
    let bad = (
        "0003_half.up.sql",
        "-- migrate:no-transaction\nCREATE TABLE half (x);\nDELETE FROM users;\nINSERT INTO nowhere VALUES (1);\n",
    );
    let err = set(&[V1, V2, bad]).migrate(&mut conn).unwrap_err();
    let backup = match &err {
        Error::RestoredFromBackup { backup, .. } => backup.clone(),
        other => panic!("expected an automatic restore, got {other}"),
    };
    assert_eq!(err.kind(), ErrorKind::MigrationFailed, "{err}");
    assert_eq!(err.migration().unwrap().version, 3);
    assert!(err.to_string().contains("restored automatically"), "{err}");
    assert!(err.to_string().contains(&backup.id), "{err}");
    // Back to exactly the state before the run (v2's committed change is undone too), except for the record of
    // this failure, which is written again after the restore (issue 12, item 3: the failure record survives).
    let (now, failures) = split_failures(dump(&conn));
    assert_eq!(now, before);
    assert_eq!(failures.len(), 1, "{failures:?}");
    let other = rusqlite::Connection::open(&db).unwrap();
    assert_eq!(split_failures(dump(&other)).0, before);
    // The half-migrated state was itself kept, as a pre-restore backup.
    let kinds: Vec<Reason> = backup::list(&backups_dir(&db))
        .unwrap()
        .iter()
        .map(|b| b.reason)
        .collect();
    assert!(
        kinds.contains(&Reason::PreMigrate) && kinds.contains(&Reason::PreRestore),
        "{kinds:?}"
    );

    // A failing migration inside a transaction needs no restore: the transaction undoes it.
    let tx_bad = (
        "0003_bad.up.sql",
        "CREATE TABLE t3 (x);\nINSERT INTO nowhere VALUES (1);\n",
    );
    let err = set(&[V1, V2, tx_bad]).migrate(&mut conn).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::MigrationFailed);
    assert!(!matches!(err, Error::RestoredFromBackup { .. }), "{err}");
}

static SLOW_STARTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// A migration that holds the write lock for a while, so a second launcher plans while it runs.
fn slow_email(tx: &rusqlite::Transaction<'_>) -> Result<(), litemigrate_runtime::CodeError> {
    tx.execute("ALTER TABLE users ADD COLUMN email TEXT", [])?;
    SLOW_STARTED.store(true, std::sync::atomic::Ordering::SeqCst);
    std::thread::sleep(std::time::Duration::from_millis(1500));
    Ok(())
}

/// Two launchers: B plans while A's migration holds the lock, so B's snapshot (which waits for the lock) copies the
/// migrated database. Kept, it would be a "pre-migrate backup of version 1" holding version 2, and retention could
/// drop A's real one in its favour; B must find its plan gone, discard the copy and report nothing to do.
#[test]
fn a_backup_taken_after_another_launcher_migrated_is_discarded() {
    use litemigrate_core::load::{CodeMigration, add_code_migrations};
    let (_tmp, db, conn) = at_v1_with_a_row();
    let before = dump(&conn);
    drop(conn);

    let mut sources = sources(&[V1]);
    add_code_migrations(
        &mut sources,
        &[CodeMigration {
            version: 2,
            name: "email".into(),
            path: "app::slow_email".into(),
            reversible: false,
        }],
    )
    .unwrap();
    let mut two = Migrations::from_sources("default", sources);
    assert!(two.set_code(2, slow_email, None));
    let two = &two;

    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| {
            let mut conn = rusqlite::Connection::open(&db).unwrap();
            two.migrate(&mut conn).unwrap()
        });
        while !SLOW_STARTED.load(std::sync::atomic::Ordering::SeqCst) {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let mut conn = rusqlite::Connection::open(&db).unwrap();
        conn.busy_timeout(std::time::Duration::from_secs(20)).unwrap();
        let b = two.migrate(&mut conn).unwrap();
        (a.join().unwrap(), b)
    });
    assert_eq!(a.applied.len(), 1);
    let kept = a.backup.expect("A backed up before migrating");
    assert_eq!((kept.version_before, kept.target_version), (1, 2));
    assert!(b.applied.is_empty(), "{b}");
    assert_eq!(b.backup, None, "B's copy of the migrated database is not kept");
    // The one backup in the directory is A's, and it holds version 1.
    assert_eq!(backup::list(&backups_dir(&db)).unwrap(), vec![kept.clone()]);
    assert_eq!(support::dump_file(&kept.path), before);
    assert_eq!(
        support::dir_entries(&backups_dir(&db)).len(),
        2,
        "the backup and its manifest, nothing else"
    );
}
