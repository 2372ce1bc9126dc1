//! A hand-written FTS5 table whose column list holds comments (`--` and `/* */`), resynced by a later
//! `-- migrate:fts5-resync`: the declaration is read back from `sqlite_schema` through the lexer, so the generated
//! triggers name the real columns and the sync check is clean on a migrated database holding rows. Before the FTS5
//! parser read SQL through `litemigrate_core::lex`, the comment after `title,` was read as a column named `-`.

use litemigrate_core::compile::{CompileOptions, compile};
use litemigrate_core::fts5::Fts5Index;
use litemigrate_core::load::load_in_memory;
use litemigrate_runtime::{Migrations, Target, fts};
use rusqlite::Connection;

const DOCS: &str = "CREATE TABLE docs (id INTEGER PRIMARY KEY, title TEXT NOT NULL, body TEXT NOT NULL, tag TEXT);\n";

/// Written by hand, without triggers: the index does not follow writes until the resync below.
const SEARCH: &str = "CREATE VIRTUAL TABLE docs_fts USING fts5(
    title, -- shown in results
    /* the searchable text */ body,
    content=docs, /* rows live in docs */ content_rowid=id -- the docs key
);
";

const RESYNC: &str = "-- migrate:fts5-resync docs_fts\n";

fn compiled(files: &[(&str, &str)]) -> Migrations {
    let set = compile(load_in_memory("migrations", files).unwrap(), &CompileOptions::default()).unwrap();
    Migrations::from_compiled("default", set)
}

fn set() -> Migrations {
    compiled(&[
        ("0001_docs.sql", DOCS),
        ("0002_search.sql", SEARCH),
        ("0003_resync.sql", RESYNC),
    ])
}

fn hits(db: &Connection, q: &str) -> Vec<i64> {
    let mut stmt = db
        .prepare("SELECT rowid FROM docs_fts WHERE docs_fts MATCH ?1 ORDER BY rowid")
        .unwrap();
    stmt.query_map([q], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn the_declaration_is_read_without_its_comments() {
    let db = Connection::open_in_memory().unwrap();
    db.execute_batch(DOCS).unwrap();
    db.execute_batch(SEARCH).unwrap();
    // What `fts5-resync` and the runtime read: the statement as SQLite stored it, comments and all.
    let stored: String = db
        .query_row("SELECT sql FROM sqlite_schema WHERE name = 'docs_fts'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(stored.contains("-- shown in results") && stored.contains("/* the searchable text */"));
    let idx = Fts5Index::from_create_sql(&stored).unwrap();
    assert_eq!(
        idx,
        Fts5Index::external("docs_fts", "docs")
            .rowid("id")
            .columns(["title", "body"])
    );
}

#[test]
fn resync_names_the_real_columns_and_the_sync_check_is_clean() {
    let set = set();
    let resync_sql = set.get(3).unwrap().up_sql().unwrap();
    assert!(
        resync_sql.contains(
            "INSERT INTO \"docs_fts\"(rowid, \"title\", \"body\") VALUES (new.\"id\", new.\"title\", new.\"body\");"
        ),
        "{resync_sql}"
    );
    assert!(
        resync_sql.contains("VALUES ('delete', old.\"id\", old.\"title\", old.\"body\");"),
        "{resync_sql}"
    );
    assert!(!resync_sql.contains("\"-\""), "{resync_sql}");

    let mut db = Connection::open_in_memory().unwrap();
    set.migrator().target(Target::Version(2)).run(&mut db).unwrap();
    // Rows written while the index has no triggers: the index misses them.
    db.execute_batch(
        "INSERT INTO docs VALUES (1, 'Ownership', 'borrowing rules explained', 'rust');
         INSERT INTO docs VALUES (2, 'Pragmas', 'journal modes and foreign keys', 'sqlite');",
    )
    .unwrap();
    assert_eq!(hits(&db, "borrowing"), Vec::<i64>::new());
    let report = fts::sync_check(&db, "docs_fts").unwrap();
    assert!(!report.in_sync(), "{report:?}");

    set.migrate(&mut db).unwrap();
    let report = fts::sync_check(&db, "docs_fts").unwrap();
    assert!(report.in_sync(), "{report:?}");
    assert_eq!(hits(&db, "borrowing"), [1]);
    assert_eq!(hits(&db, "title:pragmas"), [2]);

    // Every kind of write is followed from now on, and the index still matches its content table.
    db.execute_batch(
        "INSERT INTO docs VALUES (3, 'Lexers', 'comments are trivia', NULL);
         UPDATE docs SET body = 'journal modes only' WHERE id = 2;
         DELETE FROM docs WHERE id = 1;",
    )
    .unwrap();
    assert_eq!(hits(&db, "trivia"), [3]);
    assert_eq!(hits(&db, "foreign"), Vec::<i64>::new());
    assert_eq!(hits(&db, "borrowing"), Vec::<i64>::new());
    let report = fts::sync_check(&db, "docs_fts").unwrap();
    assert!(report.in_sync(), "{report:?}");
    fts::integrity_check(&db, "docs_fts").unwrap();
}

#[test]
fn introspection_is_reachable_through_the_runtime_and_typed() {
    use litemigrate_runtime::expand::{Introspect, ObjectKind};
    let mut db = Connection::open_in_memory().unwrap();
    set().migrate(&mut db).unwrap();
    let objects = db.schema_objects().unwrap();
    let kind = |name: &str| objects.iter().find(|o| o.name == name).map(|o| o.kind);
    assert_eq!(kind("docs"), Some(ObjectKind::Table));
    assert_eq!(kind("docs_fts"), Some(ObjectKind::VirtualTable));
    assert_eq!(kind("docs_fts_ai"), Some(ObjectKind::Trigger));
    let triggers: Vec<String> = db
        .table_dependents("docs")
        .unwrap()
        .into_iter()
        .filter(|d| d.kind == ObjectKind::Trigger)
        .map(|d| d.name)
        .collect();
    assert_eq!(triggers, ["docs_fts_ai", "docs_fts_ad", "docs_fts_au"]);
}
