//! Several sets sharing one database file in a catalog: an add-on's set after the core set it builds on, ordered by
//! `-- migrate:requires core@3`, each with its own set name in the one history table, backed up and restored as one
//! file.

use litemigrate::backup::BackupPolicy;
use litemigrate::catalog::CatalogError;
use litemigrate::rusqlite::Connection;
use litemigrate::{Databases, Target};

/// `addon` sorts before `core`, so without its `requires` the runner would visit it first.
static SHARED: Databases =
    litemigrate::embed_databases!("tests/fixtures/catalog_shared", addon(file = "core.db", set = "addon"));

fn rows(conn: &Connection, sql: &str) -> Vec<String> {
    let mut st = conn.prepare(sql).unwrap();
    st.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
}

#[test]
fn the_addon_runs_after_core_reaches_the_version_it_requires_in_the_same_file() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    assert_eq!(SHARED.get("addon").unwrap().file(), "core.db");
    // An older release left core at version 2 (no `tags` yet).
    let core = SHARED.get("core").unwrap();
    let mut conn = Connection::open(core.path_in(dir)).unwrap();
    core.migrations()
        .migrator()
        .target(Target::Version(2))
        .backup(BackupPolicy::Off)
        .run(&mut conn)
        .unwrap();
    conn.execute_batch("INSERT INTO items(name, price) VALUES ('lamp', 30);")
        .unwrap();
    drop(conn);

    let report = SHARED.migrate_all(dir).unwrap();
    // One file in the data directory, one backup of it in the run.
    let files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".db"))
        .collect();
    assert_eq!(files, ["core.db"]);
    let run = litemigrate::catalog::find_run(dir, report.backup_run.as_deref().unwrap()).unwrap();
    assert_eq!(run.files.len(), 1, "{:?}", run.files);

    let conn = Connection::open(dir.join("core.db")).unwrap();
    // The add-on's seed read core's `tags`: core's version 3 ran first.
    assert_eq!(
        rows(&conn, "SELECT tag FROM addon_tag_counts ORDER BY tag"),
        ["new", "sale"]
    );
    assert_eq!(rows(&conn, "SELECT name FROM items"), ["lamp"]);
    // Each set keys its own rows of the one history table.
    assert_eq!(core.migrations().status(&conn).unwrap().current_version, 3);
    let addon = SHARED.get("addon").unwrap();
    assert_eq!(addon.migrations().set_name(), "addon");
    assert_eq!(addon.migrations().status(&conn).unwrap().current_version, 1);
    drop(conn);

    // The second launch finds both sets current.
    let again = SHARED.migrate_all(dir).unwrap();
    assert!(again.is_noop(), "{again}");
}

#[test]
fn a_failure_in_the_addon_restores_the_shared_file_once_from_the_run() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let core = SHARED.get("core").unwrap();
    let mut conn = Connection::open(core.path_in(dir)).unwrap();
    core.migrations()
        .migrator()
        .target(Target::Version(2))
        .backup(BackupPolicy::Off)
        .run(&mut conn)
        .unwrap();
    conn.execute_batch("INSERT INTO items(name) VALUES ('lamp');").unwrap();
    // A table of the add-on's name already there (written by hand): its first migration fails after core's 3 ran.
    conn.execute_batch("CREATE TABLE addon_tag_counts(x);").unwrap();
    drop(conn);

    let err = SHARED.migrate_all(dir).unwrap_err();
    let CatalogError::Failed {
        database,
        restored,
        kept,
        ..
    } = &err
    else {
        panic!("{err}")
    };
    assert_eq!(database, "addon");
    assert!(!kept);
    assert_eq!(restored, &[dir.join("core.db")]);
    let conn = Connection::open(dir.join("core.db")).unwrap();
    // Core's version 3 (same file, earlier step of this run) is undone with it.
    assert_eq!(core.migrations().status(&conn).unwrap().current_version, 2);
    assert_eq!(rows(&conn, "SELECT name FROM items"), ["lamp"]);
}
