//! Rolling a catalog back across files (`Databases::rollback_all`): a database cannot go below the version another
//! database's applied migration requires (refused before anything changes, naming both); a rollback of both goes
//! in reverse `requires` order after one backup run, and a failed step puts every file back.

use litemigrate::Databases;
use litemigrate::backup::Reason;
use litemigrate::catalog::{CatalogError, list_runs};
use litemigrate::rusqlite::Connection;
use std::path::Path;

/// `b`'s migration 2 requires (and attaches) `a@2`.
static CAT: Databases = litemigrate::embed_databases!("tests/fixtures/catalog_down");

fn at_version(dir: &Path, name: &str) -> u64 {
    let d = CAT.get(name).unwrap();
    let conn = Connection::open(d.path_in(dir)).unwrap();
    d.migrations().status(&conn).unwrap().current_version
}

fn column(conn: &Connection, sql: &str) -> Vec<String> {
    let mut st = conn.prepare(sql).unwrap();
    st.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
}

fn migrated(dir: &Path) {
    CAT.migrate_all(dir).unwrap();
    let a = Connection::open(dir.join("a.db")).unwrap();
    a.execute_batch("INSERT INTO items(name, price) VALUES ('lamp', 30), ('desk', 120);")
        .unwrap();
    let b = Connection::open(dir.join("b.db")).unwrap();
    b.execute_batch("INSERT INTO log(line) VALUES ('kept'); INSERT INTO prices VALUES (1, 30), (2, 120);")
        .unwrap();
}

#[test]
fn a_database_cannot_go_below_what_another_database_requires() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    migrated(dir);
    let runs = list_runs(dir).unwrap().len();
    let err = CAT.rollback_all(dir, &[("a", 1)]).unwrap_err();
    let CatalogError::RollbackBlocked {
        database,
        to,
        needed_by,
        version,
        needs_version,
    } = &err
    else {
        panic!("{err}")
    };
    assert_eq!(
        (database.as_str(), *to, needed_by.as_str(), *version, *needs_version),
        ("a", 1, "b", 2, 2)
    );
    assert!(err.to_string().contains("roll `b` back below 2"), "{err}");
    // Refused before anything changed: no backup run, both files where they were.
    assert_eq!(list_runs(dir).unwrap().len(), runs);
    assert_eq!((at_version(dir, "a"), at_version(dir, "b")), (2, 2));
    // Targets the catalog does not have are refused by name.
    assert!(matches!(
        CAT.rollback_all(dir, &[("c", 0)]),
        Err(CatalogError::UnknownDatabase { .. })
    ));
    assert!(matches!(
        CAT.rollback_all(dir, &[("a", 7)]),
        Err(CatalogError::BadRollbackTarget { version: 7, .. })
    ));
}

#[test]
fn both_files_roll_back_in_reverse_requires_order_after_one_backup_run() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    migrated(dir);
    let report = CAT.rollback_all(dir, &[("a", 1), ("b", 1)]).unwrap();
    assert_eq!((at_version(dir, "a"), at_version(dir, "b")), (1, 1));
    let a = Connection::open(dir.join("a.db")).unwrap();
    // a's rows survive the dropped column; b's own table keeps its row, the copy of a's prices is gone.
    assert_eq!(column(&a, "SELECT name FROM items ORDER BY id"), ["lamp", "desk"]);
    assert!(a.prepare("SELECT price FROM items").is_err());
    let b = Connection::open(dir.join("b.db")).unwrap();
    assert_eq!(column(&b, "SELECT line FROM log"), ["kept"]);
    assert!(b.prepare("SELECT * FROM prices").is_err());
    let by_db: Vec<(&str, u64, u64)> = report
        .databases
        .iter()
        .map(|d| (d.database.as_str(), d.from_version, d.to_version))
        .collect();
    assert_eq!(by_db, [("a", 2, 1), ("b", 2, 1)]);
    let run = litemigrate::catalog::find_run(dir, report.backup_run.as_deref().unwrap()).unwrap();
    assert_eq!(run.reason, Reason::PreRollback);
    let mut files: Vec<(&str, u64, u64)> = run
        .files
        .iter()
        .map(|f| (f.database.as_str(), f.version_before, f.version_after))
        .collect();
    files.sort();
    assert_eq!(files, [("a", 2, 1), ("b", 2, 1)]);
}

#[test]
fn a_failed_down_puts_every_file_back() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    migrated(dir);
    // An index on the column a's down drops: that down fails, after b's rollback (it runs first) committed.
    let a = Connection::open(dir.join("a.db")).unwrap();
    a.execute_batch("CREATE INDEX items_price ON items(price);").unwrap();
    drop(a);
    let err = CAT.rollback_all(dir, &[("a", 1), ("b", 1)]).unwrap_err();
    let CatalogError::Failed { database, restored, .. } = &err else {
        panic!("{err}")
    };
    assert_eq!(database, "a");
    assert!(restored.contains(&dir.join("b.db")), "{err}");
    assert_eq!((at_version(dir, "a"), at_version(dir, "b")), (2, 2));
    let b = Connection::open(dir.join("b.db")).unwrap();
    assert_eq!(
        column(&b, "SELECT CAST(price AS TEXT) FROM prices ORDER BY item_id"),
        ["30", "120"]
    );
}
