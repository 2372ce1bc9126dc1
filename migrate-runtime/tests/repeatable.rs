//! Repeatable migrations (`R__<name>.sql`): applied after the versioned ones when their checksum changed (and on the
//! first run), recorded once per application, shown by status, re-applied after a rollback, covered by the launch
//! stamp, and refused at load time when not re-runnable.

use litemigrate_runtime::{ErrorKind, Migrations, RepeatableState, Target};
use rusqlite::Connection;
use std::path::Path;

const DOCS: &str = "CREATE TABLE docs(id INTEGER PRIMARY KEY, title TEXT, body TEXT);\n\
                    INSERT INTO docs VALUES (1, 'a', 'x'), (2, 'b', 'y');\n";
const TAGS_UP: &str = "CREATE TABLE tags(doc INTEGER, tag TEXT);\n";
const TAGS_DOWN: &str = "DROP TABLE tags;\n";
const VIEW_V1: &str = "DROP VIEW IF EXISTS titles;\nCREATE VIEW titles AS SELECT title FROM docs;\n";
const VIEW_V2: &str = "DROP VIEW IF EXISTS titles;\nCREATE VIEW titles AS SELECT upper(title) AS title FROM docs;\n";
const TRIGGER: &str = "DROP TRIGGER IF EXISTS docs_touch;\n\
                       CREATE TRIGGER docs_touch AFTER UPDATE ON docs BEGIN SELECT 1; END;\n";

fn write_dir(dir: &Path, view: &str) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("0001_docs.sql"), DOCS).unwrap();
    std::fs::write(dir.join("0002_tags.up.sql"), TAGS_UP).unwrap();
    std::fs::write(dir.join("0002_tags.down.sql"), TAGS_DOWN).unwrap();
    std::fs::write(dir.join("R__views.sql"), view).unwrap();
    std::fs::write(dir.join("R__a_trigger.sql"), TRIGGER).unwrap();
}

fn load(dir: &Path) -> Migrations {
    Migrations::from_dir(dir, &Default::default()).unwrap()
}

/// (name, checksum) of every repeatable history row, oldest first.
fn repeatable_rows(conn: &Connection) -> Vec<(String, String)> {
    let mut s = conn
        .prepare("SELECT name, checksum FROM _migrations WHERE set_name = 'default#repeatable' AND kind = 'repeatable' ORDER BY version")
        .unwrap();
    s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn titles(conn: &Connection) -> Vec<String> {
    let mut s = conn.prepare("SELECT title FROM titles ORDER BY 1").unwrap();
    s.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn editing_a_view_re_applies_it_once_and_status_shows_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("migrations");
    write_dir(&dir, VIEW_V1);
    let mut conn = Connection::open(tmp.path().join("app.db")).unwrap();

    let set = load(&dir);
    let status = set.status(&conn).unwrap();
    assert_eq!(
        status.repeatables.iter().map(|r| r.state).collect::<Vec<_>>(),
        [RepeatableState::New; 2]
    );
    let report = set
        .migrator()
        .backup(litemigrate_runtime::backup::BackupPolicy::Off)
        .run(&mut conn)
        .unwrap();
    // After the versioned ones, in name order.
    assert_eq!(report.repeatables, ["a_trigger", "views"]);
    assert_eq!(titles(&conn), ["a", "b"]);
    assert_eq!(repeatable_rows(&conn).len(), 2);
    assert!(set.status(&conn).unwrap().is_up_to_date());

    // Nothing changed: nothing runs, and the launch is answered by the stamp.
    assert!(set.migrate(&mut conn).unwrap().repeatables.is_empty());
    assert_eq!(repeatable_rows(&conn).len(), 2);

    // Edit the view.
    write_dir(&dir, VIEW_V2);
    let set = load(&dir);
    let status = set.status(&conn).unwrap();
    let states: Vec<_> = status.repeatables.iter().map(|r| (r.name.as_str(), r.state)).collect();
    assert_eq!(
        states,
        [
            ("a_trigger", RepeatableState::Current),
            ("views", RepeatableState::Changed)
        ]
    );
    assert!(!status.is_up_to_date());
    assert!(status.to_string().contains("repeatable views Changed"), "{status}");

    let report = set
        .migrator()
        .backup(litemigrate_runtime::backup::BackupPolicy::Off)
        .run(&mut conn)
        .unwrap();
    assert_eq!(report.repeatables, ["views"], "only the edited one");
    assert!(report.applied.is_empty());
    assert_eq!(titles(&conn), ["A", "B"]);
    let rows = repeatable_rows(&conn);
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[2].0, "views");
    assert_eq!(rows[2].1, set.repeatables()[1].checksum().to_hex());
    // Once: the next runs apply nothing.
    for _ in 0..2 {
        assert!(set.migrate(&mut conn).unwrap().repeatables.is_empty());
    }
    assert_eq!(repeatable_rows(&conn).len(), 3);
    assert!(set.status(&conn).unwrap().is_up_to_date());
}

#[test]
fn the_launch_stamp_covers_the_repeatables() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("migrations");
    write_dir(&dir, VIEW_V1);
    let mut conn = Connection::open_in_memory().unwrap();
    let v1 = load(&dir);
    v1.migrate(&mut conn).unwrap();
    let stamp_v1: i32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_ne!(stamp_v1, 0);
    // With the history out of the way only a matching stamp can answer "up to date".
    conn.execute_batch("ALTER TABLE _migrations RENAME TO hidden").unwrap();
    assert!(
        v1.migrate(&mut conn).unwrap().applied.is_empty(),
        "answered by the header"
    );
    conn.execute_batch("ALTER TABLE hidden RENAME TO _migrations").unwrap();

    // The same versioned migrations with an edited repeatable: the stamp no longer matches, so the launch reads
    // the history and applies the edit.
    write_dir(&dir, VIEW_V2);
    let v2 = load(&dir);
    assert_eq!(v2.migrate(&mut conn).unwrap().repeatables, ["views"]);
    let stamp_v2: i32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_ne!(stamp_v2, stamp_v1);
    // ...and once it ran, the launch is answered by the header again.
    conn.execute_batch("ALTER TABLE _migrations RENAME TO hidden").unwrap();
    assert!(
        v2.migrate(&mut conn).unwrap().applied.is_empty(),
        "answered by the header"
    );
    conn.execute_batch("ALTER TABLE hidden RENAME TO _migrations").unwrap();
}

#[test]
fn two_launchers_apply_a_repeatable_once() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("migrations");
    write_dir(&dir, VIEW_V1);
    let db = tmp.path().join("app.db");
    let set = load(&dir);
    // Both launchers planned before either wrote: each run re-reads the repeatable rows under BEGIN IMMEDIATE.
    let barrier = std::sync::Barrier::new(2);
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                let mut conn = Connection::open(&db).unwrap();
                conn.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
                barrier.wait();
                set.migrator()
                    .backup(litemigrate_runtime::backup::BackupPolicy::Off)
                    .run(&mut conn)
                    .unwrap();
            });
        }
    });
    let conn = Connection::open(&db).unwrap();
    assert_eq!(repeatable_rows(&conn).len(), 2, "each repeatable recorded once");

    // The branch that matters, made deterministic: a launcher whose versioned part is already done (another
    // process committed) still reads the repeatable rows under the lock and applies nothing.
    let mut late = Connection::open(&db).unwrap();
    late.execute_batch("PRAGMA user_version = 0").unwrap();
    assert!(set.migrate(&mut late).unwrap().repeatables.is_empty());
    assert_eq!(repeatable_rows(&late).len(), 2);
}

#[test]
fn a_rollback_re_applies_every_repeatable_after_the_downs() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("migrations");
    write_dir(&dir, VIEW_V1);
    let mut conn = Connection::open_in_memory().unwrap();
    let set = load(&dir);
    set.migrate(&mut conn).unwrap();
    let report = set.migrator().target(Target::Version(1)).run(&mut conn).unwrap();
    assert_eq!(report.applied.iter().map(|a| a.version).collect::<Vec<_>>(), [2]);
    assert_eq!(
        report.repeatables,
        ["a_trigger", "views"],
        "all of them, after the down"
    );
    assert_eq!(repeatable_rows(&conn).len(), 4);
    assert_eq!(titles(&conn), ["a", "b"]);
}

#[test]
fn a_repeatable_that_is_not_re_runnable_is_refused_when_loading() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("migrations");
    write_dir(
        &dir,
        "-- no DROP first\nCREATE VIEW titles AS SELECT title FROM docs;\n",
    );
    let err = Migrations::from_dir(&dir, &Default::default()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Compile);
    let msg = err.to_string();
    assert!(msg.contains("R__views.sql:2: not re-runnable"), "{msg}");
    assert!(
        msg.contains("put `DROP VIEW IF EXISTS titles;` before this `CREATE VIEW`"),
        "{msg}"
    );

    // Against the final schema: a table no migration creates.
    write_dir(&dir, "DROP VIEW IF EXISTS v;\nINSERT INTO nope VALUES (1);\n");
    let msg = Migrations::from_dir(&dir, &Default::default()).unwrap_err().to_string();
    assert!(msg.contains("R__views.sql:2: ") && msg.contains("nope"), "{msg}");
}

#[test]
fn verify_expects_what_the_repeatables_create() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("migrations");
    write_dir(&dir, VIEW_V1);
    let mut conn = Connection::open_in_memory().unwrap();
    let set = load(&dir);
    set.migrate(&mut conn).unwrap();
    set.verify(&conn).unwrap();
    // A view the repeatable does not create is still drift.
    conn.execute_batch("CREATE VIEW stray AS SELECT 1;").unwrap();
    assert_eq!(set.verify(&conn).unwrap_err().kind(), ErrorKind::SchemaDrift);
}
