//! Two independent sets on one connection (a library crate's and the application's): a pending migration whose
//! `-- migrate:requires library@2` is not met in this database refuses with its own error kind, before anything
//! is written; once the library's set is there, the application's migrates.

use litemigrate::backup::BackupPolicy;
use litemigrate::rusqlite::Connection;
use litemigrate::{Error, ErrorKind, Migrations, Target};

static LIBRARY: Migrations = litemigrate::embed_migrations!("tests/fixtures/requires_sets/library", set = "library");
static APP: Migrations = litemigrate::embed_migrations!("tests/fixtures/requires_sets/app", set = "app");

fn tables(conn: &Connection) -> Vec<String> {
    let mut st = conn
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
        .unwrap();
    st.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
}

#[test]
fn a_set_refuses_until_the_set_it_requires_is_at_that_version() {
    let tmp = tempfile::tempdir().unwrap();
    let mut conn = Connection::open(tmp.path().join("app.db")).unwrap();

    // Nothing of the library's yet.
    let err = APP.migrate(&mut conn).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RequiresNotMet, "{err}");
    let Error::RequiresNotMet {
        at,
        set,
        version,
        current,
    } = &err
    else {
        panic!("{err}")
    };
    assert_eq!((set.as_str(), *version, *current), ("library", 2, 0));
    assert_eq!(at.file, "tests/fixtures/requires_sets/app/0001_notes.sql");
    assert!(err.to_string().contains("migrate `library` first"), "{err}");
    assert!(!tables(&conn).contains(&"app_notes".to_owned()));

    // The library at version 1 is not enough.
    LIBRARY
        .migrator()
        .target(Target::Version(1))
        .backup(BackupPolicy::Off)
        .run(&mut conn)
        .unwrap();
    let err = APP.migrator().backup(BackupPolicy::Off).run(&mut conn).unwrap_err();
    assert!(matches!(err, Error::RequiresNotMet { current: 1, .. }), "{err}");
    assert!(!tables(&conn).contains(&"app_notes".to_owned()));
    assert_eq!(APP.status(&conn).unwrap().current_version, 0);

    // At version 2 the application's set applies, and its rows point at the library's.
    LIBRARY.migrator().backup(BackupPolicy::Off).run(&mut conn).unwrap();
    APP.migrator().backup(BackupPolicy::Off).run(&mut conn).unwrap();
    conn.execute_batch(
        "PRAGMA foreign_keys = ON; INSERT INTO lib_items(name, owner) VALUES ('lamp', 'ana');
         INSERT INTO app_notes(item_id, body) VALUES (1, 'fragile');",
    )
    .unwrap();
    assert_eq!(APP.status(&conn).unwrap().current_version, 1);
    // The launch after that is the cheap check again: nothing pending, nothing refused.
    assert!(APP.migrate(&mut conn).unwrap().applied.is_empty());
}

static OWN: Migrations = litemigrate::embed_migrations!("tests/fixtures/requires_own", set = "own");

#[test]
fn a_requires_on_the_sets_own_name_does_not_wait_for_itself() {
    let mut conn = Connection::open_in_memory().unwrap();
    // 0002 says `requires own@1`: version 1 applies first in the same run.
    OWN.migrate(&mut conn).unwrap();
    assert_eq!(tables(&conn), ["_migrations", "a", "b"]);
}
