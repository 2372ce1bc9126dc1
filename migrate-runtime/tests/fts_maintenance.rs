//! Runtime FTS5 maintenance against a real SQLite: the sync check sees tampering, rebuild repairs it, and the other
//! commands run on oddly named indexes.

use litemigrate_core::fts5::Fts5Index;
use litemigrate_runtime::fts::{self, FtsError};
use rusqlite::Connection;

fn setup(index: &str) -> (Connection, Fts5Index) {
    let db = Connection::open_in_memory().unwrap();
    db.execute_batch(
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, title TEXT, body TEXT);
         INSERT INTO notes VALUES (1, 'alpha', 'first note'), (2, 'beta', 'second note');",
    )
    .unwrap();
    let idx = Fts5Index::external(index, "notes")
        .rowid("id")
        .columns(["title", "body"]);
    db.execute_batch(&idx.up_sql().unwrap()).unwrap();
    (db, idx)
}

fn hits(db: &Connection, index: &str, q: &str) -> Vec<i64> {
    let i = index.replace('"', "\"\"");
    let mut stmt = db
        .prepare(&format!(
            "SELECT rowid FROM \"{i}\" WHERE \"{i}\" MATCH ?1 ORDER BY rowid"
        ))
        .unwrap();
    stmt.query_map([q], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn tampering_is_detected_and_rebuild_repairs_it() {
    let (db, _) = setup("notes_fts");
    let ok = fts::sync_check(&db, "notes_fts").unwrap();
    assert!(ok.in_sync(), "{ok:?}");
    fts::integrity_check(&db, "notes_fts").unwrap();

    // Remove row 1 from the index behind the content table's back.
    db.execute(
        "INSERT INTO notes_fts(notes_fts, rowid, title, body) VALUES ('delete', 1, 'alpha', 'first note')",
        [],
    )
    .unwrap();
    assert_eq!(hits(&db, "notes_fts", "first"), Vec::<i64>::new());
    let report = fts::sync_check(&db, "notes_fts").unwrap();
    assert!(!report.matches_content && !report.in_sync(), "{report:?}");
    assert!(report.message.is_some());
    assert!(report.unsynced_events.is_empty());
    match fts::integrity_check(&db, "notes_fts") {
        Err(FtsError::Integrity {
            index,
            compared_with_content: true,
            ..
        }) => assert_eq!(index, "notes_fts"),
        other => panic!("{other:?}"),
    }

    fts::rebuild(&db, "notes_fts").unwrap();
    assert_eq!(hits(&db, "notes_fts", "first"), [1]);
    assert!(fts::sync_check(&db, "notes_fts").unwrap().in_sync());
}

#[test]
fn a_missing_trigger_is_reported_and_its_drift_detected() {
    let (db, _) = setup("notes_fts");
    db.execute_batch("DROP TRIGGER notes_fts_au").unwrap();
    let report = fts::sync_check(&db, "notes_fts").unwrap();
    // Still matching now, but updates are not followed.
    assert!(report.matches_content);
    assert_eq!(report.unsynced_events, ["UPDATE"]);
    assert!(!report.in_sync());
    db.execute("UPDATE notes SET body = 'changed' WHERE id = 2", [])
        .unwrap();
    assert!(!fts::sync_check(&db, "notes_fts").unwrap().matches_content);
}

#[test]
fn insert_or_replace_without_recursive_triggers_is_detected() {
    let (db, _) = setup("notes_fts");
    db.execute("INSERT OR REPLACE INTO notes VALUES (1, 'alpha', 'replaced')", [])
        .unwrap();
    assert!(!fts::sync_check(&db, "notes_fts").unwrap().matches_content);
    fts::rebuild(&db, "notes_fts").unwrap();
    assert_eq!(hits(&db, "notes_fts", "first"), Vec::<i64>::new());
    assert_eq!(hits(&db, "notes_fts", "replaced"), [1]);
}

#[test]
fn optimize_and_merge() {
    let name = "odd \"name\"; DROP TABLE notes; --";
    let (db, _) = setup(name);
    let q = name.replace('"', "\"\"");
    // Many small transactions make many segments; automerge off leaves them for `merge` to do.
    db.execute(
        &format!("INSERT INTO \"{q}\"(\"{q}\", rank) VALUES ('automerge', 0)"),
        [],
    )
    .unwrap();
    for i in 10..60 {
        db.execute("INSERT INTO notes VALUES (?1, 'gamma', 'more words')", [i])
            .unwrap();
    }
    assert!(
        fts::merge(&db, name, 10).unwrap(),
        "the first merge step has work to do"
    );
    let mut steps = 1;
    while fts::merge(&db, name, 10).unwrap() {
        steps += 1;
        assert!(steps < 10_000, "merge never finished");
    }
    assert!(!fts::merge(&db, name, 10).unwrap());
    fts::optimize(&db, name).unwrap();
    assert_eq!(hits(&db, name, "gamma").len(), 50);
    assert!(fts::sync_check(&db, name).unwrap().in_sync());
    // The hostile name did nothing but name the index.
    let n: i64 = db.query_row("SELECT count(*) FROM notes", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 52);
}

#[test]
fn errors_say_what_is_wrong() {
    let (db, _) = setup("notes_fts");
    assert!(matches!(fts::rebuild(&db, "missing"), Err(FtsError::NoSuchIndex(n)) if n == "missing"));
    assert!(matches!(fts::sync_check(&db, "notes"), Err(FtsError::NotFts5(n)) if n == "notes"));
    db.execute_batch("CREATE VIRTUAL TABLE own USING fts5(a); CREATE VIRTUAL TABLE cd USING fts5(a, content='', contentless_delete=1);")
        .unwrap();
    // An index that stores its own text has nothing to compare with, but can be checked and optimized.
    assert!(matches!(
        fts::sync_check(&db, "own"),
        Err(FtsError::NoContentTable { .. })
    ));
    fts::integrity_check(&db, "own").unwrap();
    fts::rebuild(&db, "own").unwrap();
    let e = fts::rebuild(&db, "cd").unwrap_err();
    assert!(e.to_string().contains("needs an external-content index"), "{e}");
}
