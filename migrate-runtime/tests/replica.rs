//! Replicated SQLite (LiteFS), with the `.primary` file simulated: a replica with pending migrations is never
//! written (by `migrate` or a fleet), a current replica launches as usual, and `wait` returns when the primary's
//! migration arrives (here: another thread migrates the file while the waiter polls), or times out.

mod common;

use litemigrate_runtime::backup::BackupPolicy;
use litemigrate_runtime::fleet::{FileStatus, Fleet, SkipReason};
use litemigrate_runtime::{Error, ErrorKind, Migrations, replica};
use rusqlite::Connection;
use std::path::Path;
use std::time::{Duration, Instant};

const V1: (&str, &str) = ("0001_t.sql", "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);\n");
const V2: (&str, &str) = (
    "0002_w.sql",
    "ALTER TABLE t ADD COLUMN w TEXT;\nCREATE INDEX t_w ON t(w);\n",
);

fn at_v1(path: &Path) {
    common::set(&[V1])
        .migrate(&mut Connection::open(path).unwrap())
        .unwrap();
}

fn v2() -> Migrations {
    common::set(&[V1, V2])
}

#[test]
fn a_replica_with_pending_migrations_is_not_written() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("app.db");
    at_v1(&db);
    std::fs::write(dir.path().join(replica::PRIMARY_FILE), "node-a.internal\n").unwrap();
    let before = std::fs::read(&db).unwrap();

    let set = v2();
    let err = set.migrate(&mut Connection::open(&db).unwrap()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Replica);
    assert!(
        err.to_string().starts_with("replica: primary is node-a.internal"),
        "{err}"
    );
    assert!(matches!(&err, Error::Replica { primary, path } if primary == "node-a.internal" && *path == db));
    // A dry run writes nothing and is allowed: it says what the primary will do.
    let plan = set
        .migrator()
        .dry_run(true)
        .run(&mut Connection::open(&db).unwrap())
        .unwrap();
    assert_eq!(plan.plan.steps.len(), 1);

    let mut got = Vec::new();
    let summary = Fleet::new(&set)
        .run([db.clone()], |r| {
            got.push((r.status, r.skipped, r.error.as_ref().map(|e| e.to_string())))
        })
        .unwrap();
    assert_eq!((summary.skipped, summary.failed), (1, 0));
    assert!(summary.is_ok(), "a replica is not a failure: its primary migrates it");
    assert_eq!(got[0].0, FileStatus::Skipped);
    assert_eq!(got[0].1, Some(SkipReason::Replica));
    assert!(
        got[0]
            .2
            .as_deref()
            .unwrap()
            .starts_with("replica: primary is node-a.internal")
    );

    assert_eq!(std::fs::read(&db).unwrap(), before, "the replica was written");
    assert!(!dir.path().join("backups").exists(), "a backup was taken on a replica");
}

#[test]
fn a_current_replica_launches_as_a_primary_does() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("app.db");
    let set = v2();
    set.migrate(&mut Connection::open(&db).unwrap()).unwrap();
    std::fs::write(dir.path().join(replica::PRIMARY_FILE), "node-a").unwrap();
    let report = set.migrate(&mut Connection::open(&db).unwrap()).unwrap();
    assert!(report.is_noop());
    assert_eq!(report.to_version, 2);
}

#[test]
fn wait_returns_when_the_primary_has_migrated() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("app.db");
    at_v1(&db);
    let set = v2();
    let waiter = {
        let db = db.clone();
        std::thread::spawn(move || {
            let set = v2();
            let conn = Connection::open(&db).unwrap();
            let start = Instant::now();
            let v = set
                .migrator()
                .wait(&conn, Duration::from_secs(30), Duration::from_millis(20));
            (v, start.elapsed())
        })
    };
    std::thread::sleep(Duration::from_millis(300));
    // The waiter is still waiting: the database is at version 1, and it only returns once the stamp matches.
    assert!(!waiter.is_finished(), "wait returned before the migration");
    let migrated_at = Instant::now();
    set.migrator()
        .backup(BackupPolicy::Off)
        .run(&mut Connection::open(&db).unwrap())
        .unwrap();
    let (v, waited) = waiter.join().unwrap();
    assert_eq!(v.unwrap(), 2);
    assert!(waited >= Duration::from_millis(300), "{waited:?}");
    assert!(migrated_at.elapsed() < Duration::from_secs(10));
}

#[test]
fn wait_times_out_and_names_the_version_it_saw() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("app.db");
    at_v1(&db);
    let conn = Connection::open(&db).unwrap();
    let start = Instant::now();
    let err = v2()
        .migrator()
        .wait(&conn, Duration::from_millis(200), Duration::from_millis(50))
        .unwrap_err();
    assert!(start.elapsed() >= Duration::from_millis(200));
    assert_eq!(err.kind(), ErrorKind::WaitTimeout);
    assert!(
        matches!(
            err,
            Error::WaitTimeout {
                target: 2,
                current: 1,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(common::history(&conn, "default"), [1], "wait wrote something");
}

/// Under LiteFS write forwarding (`litefs run -with-halt-lock-on`) a replica's writes reach the primary: the caller
/// turns the refusal off and the migration runs.
#[test]
fn the_refusal_can_be_turned_off_for_write_forwarding() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("app.db");
    at_v1(&db);
    std::fs::write(dir.path().join(replica::PRIMARY_FILE), "node-a\n").unwrap();
    let mut conn = Connection::open(&db).unwrap();
    let report = v2()
        .migrator()
        .backup(BackupPolicy::Off)
        .refuse_on_replica(false)
        .run(&mut conn)
        .unwrap();
    assert_eq!(report.applied.len(), 1);
    assert_eq!(common::history(&conn, "default"), [1, 2]);
}
