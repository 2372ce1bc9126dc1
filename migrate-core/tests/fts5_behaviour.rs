//! The FTS5 directives against a real SQLite: the generated SQL is applied the way the runtime applies a migration
//! (in a transaction), then MATCH queries must return exactly the expected rowids.
#![cfg(feature = "sqlite")]

use litemigrate_core::checksum;
use litemigrate_core::directive;
use litemigrate_core::expand::{self, expand_down, expand_up, join};
use litemigrate_core::load::{self, Script, SourceFile};
use rusqlite::Connection;

fn script(path: &str, sql: &str) -> Script {
    Script {
        path: path.into(),
        sql: sql.into(),
        directives: directive::parse(sql).unwrap(),
    }
}

fn run(db: &Connection, chunks: &[expand::Chunk]) {
    db.execute_batch(&format!("BEGIN;\n{}\nCOMMIT;", join(chunks))).unwrap();
}

fn up(db: &Connection, sql: &str) {
    let chunks = expand_up(&script("m/up.sql", sql), Some(db)).unwrap();
    run(db, &chunks);
}

fn hits(db: &Connection, index: &str, query: &str) -> Vec<i64> {
    let sql = format!("SELECT rowid FROM \"{index}\" WHERE \"{index}\" MATCH ?1 ORDER BY rowid");
    let mut stmt = db.prepare(&sql).unwrap();
    stmt.query_map([query], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// FTS5's own comparison of the index against the content table.
fn consistent(db: &Connection, index: &str) -> bool {
    db.execute(
        &format!("INSERT INTO \"{index}\"(\"{index}\", rank) VALUES ('integrity-check', 1)"),
        [],
    )
    .is_ok()
}

fn objects(db: &Connection) -> Vec<String> {
    let mut stmt = db
        .prepare("SELECT type || ' ' || name FROM sqlite_schema ORDER BY name")
        .unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

const CONTENT: &str = "CREATE TABLE knowledge_entries (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    content TEXT NOT NULL,
    tag TEXT
);";

const FTS: &str = "-- migrate:fts5 knowledge_fts content=knowledge_entries content_rowid=id columns=title,content tokenize='porter unicode61'\n";

fn seeded() -> Connection {
    let db = Connection::open_in_memory().unwrap();
    db.execute_batch(CONTENT).unwrap();
    db.execute_batch(
        "INSERT INTO knowledge_entries VALUES (1, 'Rust ownership', 'borrowing rules explained', 'lang');
         INSERT INTO knowledge_entries VALUES (2, 'SQLite pragmas', 'foreign keys and journal modes', 'db');",
    )
    .unwrap();
    db
}

#[test]
fn existing_rows_are_indexed_and_triggers_follow_every_write() {
    let db = seeded();
    up(&db, FTS);
    // Rows that were there before the migration are found (the 'rebuild' ran), with porter stemming.
    assert_eq!(hits(&db, "knowledge_fts", "borrow"), [1]);
    assert_eq!(hits(&db, "knowledge_fts", "journal"), [2]);
    assert!(consistent(&db, "knowledge_fts"));

    db.execute(
        "INSERT INTO knowledge_entries VALUES (3, 'Borrow checker', 'lifetimes', NULL)",
        [],
    )
    .unwrap();
    assert_eq!(hits(&db, "knowledge_fts", "borrow"), [1, 3]);

    db.execute(
        "UPDATE knowledge_entries SET content = 'ownership moves' WHERE id = 1",
        [],
    )
    .unwrap();
    assert_eq!(hits(&db, "knowledge_fts", "borrow"), [3]);
    assert_eq!(hits(&db, "knowledge_fts", "moves"), [1]);
    // An update of a column that is not indexed still leaves the index consistent.
    db.execute("UPDATE knowledge_entries SET tag = 'x' WHERE id = 2", [])
        .unwrap();
    assert_eq!(hits(&db, "knowledge_fts", "journal"), [2]);
    // Changing the rowid moves the entry.
    db.execute("UPDATE knowledge_entries SET id = 20 WHERE id = 2", [])
        .unwrap();
    assert_eq!(hits(&db, "knowledge_fts", "journal"), [20]);

    db.execute("DELETE FROM knowledge_entries WHERE id = 3", []).unwrap();
    assert_eq!(hits(&db, "knowledge_fts", "borrow"), Vec::<i64>::new());
    assert_eq!(hits(&db, "knowledge_fts", "lifetimes"), Vec::<i64>::new());

    // Upsert: the conflict path fires the update trigger.
    db.execute(
        "INSERT INTO knowledge_entries VALUES (1, 'Rust traits', 'generics', NULL)
         ON CONFLICT(id) DO UPDATE SET title = excluded.title, content = excluded.content",
        [],
    )
    .unwrap();
    assert_eq!(hits(&db, "knowledge_fts", "ownership"), Vec::<i64>::new());
    assert_eq!(hits(&db, "knowledge_fts", "generics"), [1]);
    db.execute(
        "INSERT INTO knowledge_entries VALUES (4, 'New', 'fresh insert via upsert', NULL)
         ON CONFLICT(id) DO UPDATE SET content = excluded.content",
        [],
    )
    .unwrap();
    assert_eq!(hits(&db, "knowledge_fts", "fresh"), [4]);
    assert!(consistent(&db, "knowledge_fts"));
}

#[test]
fn insert_or_replace_needs_recursive_triggers() {
    // Without recursive_triggers, REPLACE removes the old row without firing the delete trigger: its terms stay
    // in the index and the index no longer matches the content table.
    let db = seeded();
    up(&db, FTS);
    db.execute(
        "INSERT OR REPLACE INTO knowledge_entries VALUES (1, 'Replaced', 'new words', NULL)",
        [],
    )
    .unwrap();
    assert_eq!(hits(&db, "knowledge_fts", "words"), [1]);
    assert_eq!(
        hits(&db, "knowledge_fts", "ownership"),
        [1],
        "stale terms of the replaced row still match"
    );
    assert!(!consistent(&db, "knowledge_fts"));

    // With it on, the delete trigger fires and the index stays exact.
    let db = seeded();
    up(&db, FTS);
    db.execute_batch("PRAGMA recursive_triggers = ON").unwrap();
    db.execute(
        "INSERT OR REPLACE INTO knowledge_entries VALUES (1, 'Replaced', 'new words', NULL)",
        [],
    )
    .unwrap();
    assert_eq!(hits(&db, "knowledge_fts", "words"), [1]);
    assert_eq!(hits(&db, "knowledge_fts", "ownership"), Vec::<i64>::new());
    assert!(consistent(&db, "knowledge_fts"));
}

#[test]
fn down_removes_index_and_triggers() {
    let db = seeded();
    let before = objects(&db);
    let up_script = script("m/2_fts.up.sql", FTS);
    run(&db, &expand_up(&up_script, Some(&db)).unwrap());
    assert!(objects(&db).contains(&"trigger knowledge_fts_au".to_string()));
    let down_script = script("m/2_fts.down.sql", "-- nothing by hand\n");
    let down = expand_down(&up_script, Some(&down_script), Some(&db)).unwrap().unwrap();
    assert!(down[0].generated && down[0].line == 1);
    run(&db, &down);
    assert_eq!(objects(&db), before);
    // The content table and its rows are untouched, and writes no longer hit missing triggers.
    db.execute("INSERT INTO knowledge_entries VALUES (5, 'a', 'b', NULL)", [])
        .unwrap();
    // No down file, no down.
    assert_eq!(expand_down(&up_script, None, Some(&db)).unwrap(), None);
}

#[test]
fn content_table_in_the_same_file_and_checks_at_that_point() {
    let db = Connection::open_in_memory().unwrap();
    up(
        &db,
        &format!("{FTS}{CONTENT}\nINSERT INTO knowledge_entries VALUES (7, 'seed', 'seeded row', NULL);\n"),
    );
    assert_eq!(hits(&db, "knowledge_fts", "seeded"), [7]);
}

fn expand_err(db: &Connection, sql: &str) -> expand::ExpandError {
    expand_up(&script("m/3_x.sql", sql), Some(db)).unwrap_err()
}

#[test]
fn build_time_checks_name_the_directive() {
    let db = Connection::open_in_memory().unwrap();
    let e = expand_err(&db, &format!("-- header\n{FTS}"));
    assert_eq!((e.file.as_str(), e.line), ("m/3_x.sql", 2));
    assert!(e.message.contains("`knowledge_entries` does not exist"), "{e}");

    db.execute_batch("CREATE TABLE knowledge_entries(id INTEGER PRIMARY KEY, title TEXT)")
        .unwrap();
    let e = expand_err(&db, FTS);
    assert!(e.message.contains("has no column `content`"), "{e}");

    for table in [
        "CREATE TABLE knowledge_entries(id INT PRIMARY KEY, title TEXT, content TEXT)",
        "CREATE TABLE knowledge_entries(id TEXT PRIMARY KEY, title TEXT, content TEXT)",
        "CREATE TABLE knowledge_entries(id INTEGER, title TEXT, content TEXT)",
        "CREATE TABLE knowledge_entries(id INTEGER, title TEXT, content TEXT, PRIMARY KEY (id, title))",
    ] {
        let db = Connection::open_in_memory().unwrap();
        db.execute_batch(table).unwrap();
        let e = expand_err(&db, FTS);
        assert!(e.message.contains("VACUUM may renumber rowids"), "{table}: {e}");
        assert!(e.to_string().starts_with("m/3_x.sql: line 1: "), "{e}");
    }
    // The same check when the body creates the table wrongly.
    let db = Connection::open_in_memory().unwrap();
    let e = expand_err(
        &db,
        &format!("{FTS}CREATE TABLE knowledge_entries(id, title, content);"),
    );
    assert!(e.message.contains("INTEGER PRIMARY KEY"), "{e}");
    // Checking left no trace in the schema.
    assert!(objects(&db).is_empty());
}

#[test]
fn without_sql_validation_fts5_expands_unchecked() {
    let s = script("m/4.sql", FTS);
    let chunks = expand_up(&s, None).unwrap();
    assert_eq!(chunks.len(), 2);
    assert!(chunks[1].sql.contains("'rebuild'"));
    let e = expand_up(&script("m/5.sql", "-- migrate:fts5-resync knowledge_fts\n"), None).unwrap_err();
    assert!(e.message.contains("needs the build to execute SQL"), "{e}");
}

#[test]
fn hostile_names_cannot_inject() {
    let db = Connection::open_in_memory().unwrap();
    db.execute_batch(
        "CREATE TABLE victims(x); INSERT INTO victims VALUES (1);
         CREATE TABLE \"no\"\"te; DROP TABLE victims; --\" (id INTEGER PRIMARY KEY, \"bo'dy;\" TEXT);
         INSERT INTO \"no\"\"te; DROP TABLE victims; --\" VALUES (1, 'hello world');",
    )
    .unwrap();
    up(
        &db,
        "-- migrate:fts5 'i\"dx; DROP TABLE victims; --' content='no\"te; DROP TABLE victims; --' content_rowid=id columns='bo''dy;'\n",
    );
    let idx = "i\"dx; DROP TABLE victims; --".replace('"', "\"\"");
    assert_eq!(hits(&db, &idx, "hello"), [1]);
    db.execute(
        "INSERT INTO \"no\"\"te; DROP TABLE victims; --\" VALUES (2, 'hello again')",
        [],
    )
    .unwrap();
    assert_eq!(hits(&db, &idx, "again"), [2]);
    let n: i64 = db.query_row("SELECT count(*) FROM victims", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 1);
}

#[test]
fn resync_recreates_lost_triggers_and_rebuilds() {
    let db = seeded();
    up(&db, FTS);
    // Triggers lost (dropped by hand, or with a rebuilt table) while writes went on.
    db.execute_batch("DROP TRIGGER knowledge_fts_ai; DROP TRIGGER knowledge_fts_au;")
        .unwrap();
    db.execute(
        "INSERT INTO knowledge_entries VALUES (3, 'unindexed', 'missed by the index', NULL)",
        [],
    )
    .unwrap();
    assert_eq!(hits(&db, "knowledge_fts", "missed"), Vec::<i64>::new());

    up(&db, "-- migrate:fts5-resync knowledge_fts\n");
    assert_eq!(hits(&db, "knowledge_fts", "missed"), [3]);
    db.execute("UPDATE knowledge_entries SET content = 'caught' WHERE id = 3", [])
        .unwrap();
    assert_eq!(hits(&db, "knowledge_fts", "caught"), [3]);
    assert_eq!(hits(&db, "knowledge_fts", "missed"), Vec::<i64>::new());
    assert!(consistent(&db, "knowledge_fts"));

    let e = expand_err(&db, "-- migrate:fts5-resync nope\n");
    assert!(e.message.contains("no index `nope`"), "{e}");
    let e = expand_err(&db, "-- migrate:fts5-resync knowledge_entries\n");
    assert!(e.message.contains("not an FTS5 table"), "{e}");
    db.execute_batch("CREATE VIRTUAL TABLE plain USING fts5(a)").unwrap();
    let e = expand_err(&db, "-- migrate:fts5-resync plain\n");
    assert!(e.message.contains("not an external-content index"), "{e}");
}

#[test]
fn contentless_delete_index_synced_from_a_table() {
    let db = seeded();
    let sql = "-- migrate:fts5 notes_fts contentless_delete=1 source=knowledge_entries source_rowid=id columns=title,content\n";
    let up_script = script("m/6.up.sql", sql);
    run(&db, &expand_up(&up_script, Some(&db)).unwrap());
    assert_eq!(hits(&db, "notes_fts", "borrowing"), [1]);
    db.execute(
        "INSERT INTO knowledge_entries VALUES (3, 'x', 'borrowing again', NULL)",
        [],
    )
    .unwrap();
    db.execute("UPDATE knowledge_entries SET content = 'nothing' WHERE id = 1", [])
        .unwrap();
    assert_eq!(hits(&db, "notes_fts", "borrowing"), [3]);
    db.execute("DELETE FROM knowledge_entries WHERE id = 3", []).unwrap();
    assert_eq!(hits(&db, "notes_fts", "borrowing"), Vec::<i64>::new());
    let down = expand_down(&up_script, Some(&script("m/6.down.sql", "")), Some(&db))
        .unwrap()
        .unwrap();
    run(&db, &down);
    assert!(!objects(&db).iter().any(|o| o.contains("notes_fts")));

    // Without a source it is just the table, for the application to fill.
    let db = Connection::open_in_memory().unwrap();
    up(&db, "-- migrate:fts5 free contentless_delete=1 columns=body\n");
    db.execute("INSERT INTO free(rowid, body) VALUES (9, 'hello')", [])
        .unwrap();
    db.execute("DELETE FROM free WHERE rowid = 9", []).unwrap();
    assert_eq!(hits(&db, "free", "hello"), Vec::<i64>::new());
}

fn file(name: &str, sql: &str) -> SourceFile {
    SourceFile::in_memory("m", name, sql)
}

#[test]
fn a_directive_alone_is_a_migration_and_the_checksum_covers_the_file() {
    let set = load::load_files(vec![file("0001_a.sql", CONTENT), file("0002_fts.sql", FTS)]).unwrap();
    assert_eq!(set.len(), 2);
    // The checksum is of the file as written, so improving the generator never makes it look edited.
    assert_eq!(set[1].checksum, checksum::checksum(FTS));
    let expanded = join(&expand_up(&set[1].up, None).unwrap());
    assert_ne!(checksum::checksum(&expanded), set[1].checksum);
    // Changing the directive is editing the migration.
    let other = FTS.replace("porter unicode61", "unicode61");
    let set2 = load::load_files(vec![file("0001_a.sql", CONTENT), file("0002_fts.sql", &other)]).unwrap();
    assert_ne!(set2[1].checksum, set[1].checksum);
    // Still: a file with only an ordinary comment is empty.
    assert!(matches!(
        load::load_files(vec![file("0003_x.sql", "-- migrate:no-transaction\n-- nothing\n")]),
        Err(load::LoadError::EmptyUp { .. })
    ));
}
