//! The launch check's `PRAGMA user_version` stamp: written with the history, answered from the header, and never
//! taken from an application that uses `user_version` itself.

mod common;

use common::{history, set};
use litemigrate_runtime::{Migrations, Mode, Target};
use rusqlite::Connection;

const M1: (&str, &str) = (
    "0001_users.sql",
    "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT);\n",
);
const M2: (&str, &str) = (
    "0002_posts.up.sql",
    "CREATE TABLE posts(id INTEGER PRIMARY KEY, body TEXT);\n",
);
const M2D: (&str, &str) = ("0002_posts.down.sql", "DROP TABLE posts;\n");
const M3: (&str, &str) = ("0003_tags.up.sql", "CREATE TABLE tags(name TEXT PRIMARY KEY);\n");
const M3D: (&str, &str) = ("0003_tags.down.sql", "DROP TABLE tags;\n");
const M4: (&str, &str) = ("0004_more.sql", "CREATE TABLE more(x);\n");

fn three() -> Migrations {
    set(&[M1, M2, M2D, M3, M3D])
}

fn user_version(conn: &Connection) -> i32 {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap()
}

/// Whether a default launch is answered by the header alone: with the history table out of the way, only a
/// matching stamp can make it return "up to date" (reading the history would find none and re-run everything,
/// which fails on the existing tables).
fn answered_from_header(m: &Migrations, conn: &mut Connection) -> bool {
    conn.execute_batch("ALTER TABLE _migrations RENAME TO hidden").unwrap();
    let answered = matches!(m.migrate(conn), Ok(r) if r.applied.is_empty());
    conn.execute_batch("ALTER TABLE hidden RENAME TO _migrations").unwrap();
    answered
}

#[test]
fn the_stamp_is_written_with_the_history_and_answers_the_next_launch() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = Connection::open(dir.path().join("app.db")).unwrap();
    assert_eq!(three().migrate(&mut conn).unwrap().applied.len(), 3);
    assert_ne!(user_version(&conn), 0);
    assert!(answered_from_header(&three(), &mut conn));
    // Without the stamp the same launch reads the history, finds none, and fails on the existing tables.
    conn.execute_batch("ALTER TABLE _migrations RENAME TO hidden").unwrap();
    assert!(three().migrator().header_stamp(false).run(&mut conn).is_err());
    conn.execute_batch("ALTER TABLE hidden RENAME TO _migrations").unwrap();
    // A new migration changes the embedded chain: the stamp no longer matches, and it is applied.
    let four = set(&[M1, M2, M2D, M3, M3D, M4]);
    assert_eq!(four.migrate(&mut conn).unwrap().applied.len(), 1);
    assert_eq!(history(&conn, "default"), [1, 2, 3, 4]);
    assert!(answered_from_header(&four, &mut conn));
    // Another set name or history table has another stamp.
    assert!(!answered_from_header(&four.clone().with_set_name("other"), &mut conn));
}

#[test]
fn an_application_owned_user_version_is_left_alone() {
    let mut conn = Connection::open_in_memory().unwrap();
    conn.execute_batch("PRAGMA user_version = 7").unwrap();
    three().migrate(&mut conn).unwrap();
    assert_eq!(user_version(&conn), 7);
    assert!(three().migrate(&mut conn).unwrap().applied.is_empty());
    let four = set(&[M1, M2, M2D, M3, M3D, M4]);
    assert_eq!(four.migrate(&mut conn).unwrap().applied.len(), 1);
    assert_eq!(user_version(&conn), 7);
    four.migrator().target(Target::Version(3)).run(&mut conn).unwrap_err(); // 0004 is irreversible
    four.migrator().target(Target::Version(4)).run(&mut conn).unwrap();
    assert_eq!(user_version(&conn), 7);
    // An application that changes it later takes it back too.
    conn.execute_batch("PRAGMA user_version = 9").unwrap();
    assert!(four.migrate(&mut conn).unwrap().applied.is_empty());
    assert_eq!(user_version(&conn), 9);
}

#[test]
fn header_stamp_off_never_writes_or_trusts_the_header() {
    let mut conn = Connection::open_in_memory().unwrap();
    three().migrator().header_stamp(false).run(&mut conn).unwrap();
    assert_eq!(user_version(&conn), 0);
    // A stamp written by a default launch is ignored by a launch with the stamp off.
    let mut other = Connection::open_in_memory().unwrap();
    three().migrate(&mut other).unwrap();
    other.execute_batch("ALTER TABLE _migrations RENAME TO hidden").unwrap();
    assert!(three().migrator().header_stamp(false).run(&mut other).is_err());
}

#[test]
fn rollbacks_keep_the_stamp_current_and_clear_it_at_zero() {
    let mut conn = Connection::open_in_memory().unwrap();
    three().migrate(&mut conn).unwrap();
    let at3 = user_version(&conn);
    three().migrator().target(Target::Version(1)).run(&mut conn).unwrap();
    assert_eq!(history(&conn, "default"), [1]);
    assert!(![0, at3].contains(&user_version(&conn)));
    let at1 = set(&[M1]);
    assert!(answered_from_header(&at1, &mut conn));
    // The stamp for version 1 does not answer for the latest: the launch applies 2 and 3.
    assert_eq!(three().migrate(&mut conn).unwrap().applied.len(), 2);
    assert_eq!(user_version(&conn), at3);
    let reversible = set(&[M2, M2D, M3, M3D]);
    let mut fresh = Connection::open_in_memory().unwrap();
    reversible.migrate(&mut fresh).unwrap();
    reversible
        .migrator()
        .target(Target::Version(0))
        .run(&mut fresh)
        .unwrap();
    assert_eq!(user_version(&fresh), 0);
}

#[test]
fn every_kind_of_commit_stamps() {
    // Per-migration mode, and a no-transaction migration (its history row has its own transaction).
    let dir = tempfile::tempdir().unwrap();
    let mut conn = Connection::open(dir.path().join("app.db")).unwrap();
    let m = set(&[
        M1,
        (
            "0002_wal.sql",
            "-- migrate:no-transaction\nPRAGMA journal_mode = WAL;\n",
        ),
        M3,
        M3D,
    ]);
    m.migrator().mode(Mode::PerMigration).run(&mut conn).unwrap();
    assert!(answered_from_header(&m, &mut conn));
    let m = set(&[
        M1,
        M2,
        M2D,
        M3,
        M3D,
        ("0004_wal.sql", "-- migrate:no-transaction\nVACUUM;\n"),
    ]);
    let mut conn = Connection::open(dir.path().join("other.db")).unwrap();
    m.migrate(&mut conn).unwrap();
    assert!(answered_from_header(&m, &mut conn));
    // Baseline records history without running anything, and stamps like a migration.
    let mut adopted = Connection::open_in_memory().unwrap();
    adopted.execute_batch(M1.1).unwrap();
    adopted.execute_batch(M2.1).unwrap();
    three().baseline(&mut adopted, 2).unwrap();
    assert!(answered_from_header(&set(&[M1, M2, M2D]), &mut adopted));
}

#[test]
fn an_out_of_order_migration_keeps_the_stamp_of_the_newest_row() {
    // The unit that inserts version 2 under version 3 must stamp the newest row (3), not the row it just wrote.
    let mut conn = Connection::open_in_memory().unwrap();
    set(&[M1, M3, M3D]).migrate(&mut conn).unwrap();
    let at3 = user_version(&conn);
    assert_ne!(at3, 0);
    let all = set(&[M1, M2, M2D, M3, M3D]);
    let report = all.migrator().allow_out_of_order(true).run(&mut conn).unwrap();
    assert_eq!(report.applied.iter().map(|a| a.version).collect::<Vec<_>>(), [2]);
    assert_eq!(history(&conn, "default"), [1, 2, 3]);
    assert_eq!(user_version(&conn), at3);
}

#[test]
fn a_migration_that_sets_user_version_keeps_its_value_after_a_planned_run() {
    // The second run plans with the history table present (the unit reuses what the planning read saw); the
    // migration's own `PRAGMA user_version` still wins over the stamp.
    let mut conn = Connection::open_in_memory().unwrap();
    three().migrate(&mut conn).unwrap();
    let four = set(&[
        M1,
        M2,
        M2D,
        M3,
        M3D,
        ("0004_app_version.sql", "PRAGMA user_version = 42;\n"),
    ]);
    assert_eq!(four.migrate(&mut conn).unwrap().applied.len(), 1);
    assert_eq!(user_version(&conn), 42);
    assert_eq!(history(&conn, "default"), [1, 2, 3, 4]);
}
