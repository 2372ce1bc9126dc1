//! `-- migrate:rebuild` against a real SQLite, applied the way the runtime applies a `foreign-keys=off` migration:
//! foreign keys off outside the transaction, `PRAGMA foreign_key_check` before commit, back on afterwards.
#![cfg(feature = "sqlite")]

use litemigrate_core::directive;
use litemigrate_core::expand::{ExpandError, expand_up, join};
use litemigrate_core::load::Script;
use rusqlite::Connection;

fn script(sql: &str) -> Script {
    Script {
        path: "m/5_rebuild.sql".into(),
        sql: sql.into(),
        directives: directive::parse(sql).unwrap(),
    }
}

/// A foreign-key violation: (table, rowid, parent).
type Violation = (String, i64, String);

/// What the runtime does for a migration whose directives say `foreign_keys_off()`.
fn apply(db: &Connection, sql: &str) -> Result<(), Vec<Violation>> {
    let s = script(sql);
    assert!(s.directives.foreign_keys_off(), "a rebuild implies foreign-keys=off");
    let generated = join(&expand_up(&s, Some(db)).unwrap());
    assert!(!generated.to_lowercase().contains("pragma foreign_keys"), "{generated}");
    db.execute_batch("PRAGMA foreign_keys = OFF; BEGIN;").unwrap();
    db.execute_batch(&generated).unwrap();
    let violations: Vec<Violation> = {
        let mut stmt = db
            .prepare("SELECT \"table\", rowid, parent FROM pragma_foreign_key_check")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    let end = if violations.is_empty() { "COMMIT" } else { "ROLLBACK" };
    db.execute_batch(&format!("{end}; PRAGMA foreign_keys = ON;")).unwrap();
    if violations.is_empty() { Ok(()) } else { Err(violations) }
}

fn expand_err(db: &Connection, sql: &str) -> ExpandError {
    expand_up(&script(sql), Some(db)).unwrap_err()
}

fn count(db: &Connection, sql: &str) -> i64 {
    db.query_row(sql, [], |r| r.get(0)).unwrap()
}

fn names(db: &Connection, kind: &str) -> Vec<String> {
    let mut stmt = db
        .prepare("SELECT name FROM sqlite_schema WHERE type = ?1 ORDER BY name")
        .unwrap();
    stmt.query_map([kind], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

const SCHEMA: &str = "
    PRAGMA foreign_keys = ON;
    CREATE TABLE authors (id INTEGER PRIMARY KEY, name TEXT, legacy TEXT, books INTEGER NOT NULL DEFAULT 0);
    CREATE TABLE books (id INTEGER PRIMARY KEY, author_id INTEGER NOT NULL REFERENCES authors(id) ON DELETE CASCADE, title TEXT);
    CREATE INDEX authors_name ON authors(name);
    CREATE TRIGGER authors_name_trim AFTER UPDATE OF name ON authors BEGIN
        UPDATE authors SET name = trim(new.name) WHERE id = new.id AND name <> trim(new.name);
    END;
    CREATE TRIGGER books_count AFTER INSERT ON books BEGIN
        UPDATE authors SET books = books + 1 WHERE id = new.author_id;
    END;
    CREATE VIEW author_names AS SELECT id, name FROM authors;
    CREATE VIEW author_names_upper AS SELECT upper(name) AS name FROM author_names;
    INSERT INTO authors (id, name, legacy) VALUES (1, 'Ursula', 'x'), (2, 'Terry', 'y');
    INSERT INTO books (id, author_id, title) VALUES (10, 1, 'Earthsea'), (11, 1, 'Dispossessed'), (12, 2, 'Mort');
";

const REBUILD: &str = "-- migrate:rebuild authors
-- drop `legacy`, make name NOT NULL with a CHECK
CREATE TABLE authors (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL CHECK (name <> ''),
    books INTEGER NOT NULL DEFAULT 0
);
";

fn db() -> Connection {
    let db = Connection::open_in_memory().unwrap();
    db.execute_batch(SCHEMA).unwrap();
    db
}

#[test]
fn cascade_children_survive_and_still_cascade() {
    let db = db();
    apply(&db, REBUILD).unwrap();
    assert_eq!(count(&db, "SELECT count(*) FROM books"), 3);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM pragma_table_info('authors') WHERE name = 'legacy'"
        ),
        0
    );
    // Rows were copied as they were (the counter the books trigger maintained included).
    assert_eq!(count(&db, "SELECT books FROM authors WHERE id = 1"), 2);
    // The children's foreign key now points at the new table: deleting a parent still cascades.
    db.execute("DELETE FROM authors WHERE id = 1", []).unwrap();
    assert_eq!(count(&db, "SELECT count(*) FROM books"), 1);
    // And the new constraints hold.
    assert!(db.execute("INSERT INTO authors (id, name) VALUES (3, '')", []).is_err());
}

#[test]
fn without_foreign_keys_off_the_children_would_be_lost() {
    // The control for the test above: the same SQL with foreign keys left on (as a PRAGMA inside the transaction
    // would leave them) cascades the DROP TABLE into the children.
    let db = db();
    let generated = join(&expand_up(&script(REBUILD), Some(&db)).unwrap());
    db.execute_batch(&format!("BEGIN; PRAGMA foreign_keys = OFF; {generated} COMMIT;"))
        .unwrap();
    assert_eq!(count(&db, "SELECT count(*) FROM books"), 0);
}

#[test]
fn views_indexes_and_triggers_keep_working() {
    let db = db();
    apply(&db, REBUILD).unwrap();
    assert_eq!(names(&db, "index"), ["authors_name"]);
    assert_eq!(names(&db, "trigger"), ["authors_name_trim", "books_count"]);
    assert_eq!(names(&db, "view"), ["author_names", "author_names_upper"]);
    assert_eq!(names(&db, "table"), ["authors", "books"]);
    // Views, including a view of a view.
    assert_eq!(count(&db, "SELECT count(*) FROM author_names"), 2);
    let upper: String = db
        .query_row("SELECT name FROM author_names_upper ORDER BY name LIMIT 1", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(upper, "TERRY");
    // The table's own trigger and another table's trigger that writes to it.
    db.execute("UPDATE authors SET name = '  Pratchett ' WHERE id = 2", [])
        .unwrap();
    let name: String = db
        .query_row("SELECT name FROM authors WHERE id = 2", [], |r| r.get(0))
        .unwrap();
    assert_eq!(name, "Pratchett");
    db.execute("INSERT INTO books (id, author_id, title) VALUES (13, 2, 'Guards')", [])
        .unwrap();
    assert_eq!(count(&db, "SELECT books FROM authors WHERE id = 2"), 2);
    // The index is used by name lookups again.
    let plan: String = db
        .query_row("EXPLAIN QUERY PLAN SELECT id FROM authors WHERE name = 'x'", [], |r| {
            r.get(3)
        })
        .unwrap();
    assert!(plan.contains("authors_name"), "{plan}");
}

#[test]
fn a_violation_rolls_back_and_names_the_rows() {
    let db = db();
    let before: Vec<String> = names(&db, "table");
    let err = apply(
        &db,
        "-- migrate:rebuild authors\n\
         CREATE TABLE authors (id INTEGER PRIMARY KEY, name TEXT NOT NULL, books INTEGER NOT NULL DEFAULT 0);\n\
         SELECT id + 100, name, books FROM authors;\n",
    )
    .unwrap_err();
    assert_eq!(
        err,
        [
            ("books".to_string(), 10, "authors".to_string()),
            ("books".into(), 11, "authors".into()),
            ("books".into(), 12, "authors".into())
        ]
    );
    assert_eq!(names(&db, "table"), before);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM authors WHERE id IN (1, 2) AND legacy IS NOT NULL"
        ),
        2
    );
}

#[test]
fn mapping_select_and_statements_after_it() {
    let db = db();
    let sql = "-- migrate:rebuild authors drop=authors_name\n\
               CREATE TABLE authors (id INTEGER PRIMARY KEY, display TEXT NOT NULL, books INTEGER NOT NULL DEFAULT 0);\n\
               SELECT id, name || ' (' || legacy || ')', books FROM authors;\n\
               CREATE INDEX authors_display ON authors(display);\n";
    // `name` is gone, so the views and the trigger that read it cannot come back: they must be listed too.
    let e = expand_err(&db, sql);
    assert!(e.message.contains("view `author_names` (uses name)"), "{e}");
    assert!(e.message.contains("trigger `authors_name_trim` (uses name)"), "{e}");
    let sql = sql.replace(
        "drop=authors_name",
        "drop=authors_name,author_names,author_names_upper,authors_name_trim",
    );
    let chunks = expand_up(&script(&sql), Some(&db)).unwrap();
    // The rewritten CREATE points at its own line, the copy at the mapping, the rest is the file's text.
    assert_eq!(
        chunks.iter().map(|c| (c.line, c.generated)).collect::<Vec<_>>(),
        [(1, false), (2, true), (3, true), (1, true), (3, false)]
    );
    // The rest starts right after the mapping's `;`, so its statement lands on file line 3 + 1.
    assert!(chunks[4].sql.starts_with("\nCREATE INDEX authors_display"));
    assert!(
        chunks[3]
            .sql
            .contains("-- not recreated (drop=): index \"authors_name\"")
    );
    apply(&db, &sql).unwrap();
    let shown: String = db
        .query_row("SELECT display FROM authors WHERE id = 1", [], |r| r.get(0))
        .unwrap();
    assert_eq!(shown, "Ursula (x)");
    assert_eq!(names(&db, "index"), ["authors_display"]);
    assert_eq!(names(&db, "view"), Vec::<String>::new());
}

#[test]
fn dependents_on_removed_columns_are_an_error_naming_them() {
    let db = Connection::open_in_memory().unwrap();
    db.execute_batch(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b TEXT); CREATE INDEX t_b ON t(b); CREATE INDEX t_a ON t(a);",
    )
    .unwrap();
    let e = expand_err(
        &db,
        "-- migrate:rebuild t\nCREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT);",
    );
    assert_eq!(e.line, 1);
    assert!(
        e.message.contains("removes column(s) `b`") && e.message.contains("index `t_b` (uses b)"),
        "{e}"
    );
    assert!(!e.message.contains("t_a"), "{e}");
    apply(
        &db,
        "-- migrate:rebuild t drop=t_b\nCREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT);",
    )
    .unwrap();
    assert_eq!(names(&db, "index"), ["t_a"]);
}

#[test]
fn request_errors() {
    let db = db();
    let e = expand_err(&db, "-- migrate:rebuild nope\nCREATE TABLE nope (x);");
    assert!(e.message.contains("no table `nope`"), "{e}");
    let e = expand_err(&db, "-- migrate:rebuild authors\nCREATE TABLE writers (x);");
    assert!(e.message.contains("is for `writers`"), "{e}");
    let e = expand_err(&db, "-- migrate:rebuild authors\n");
    assert!(e.message.contains("needs the new `CREATE TABLE authors"), "{e}");
    let e = expand_err(
        &db,
        "-- migrate:rebuild authors\n\n\nCREATE TABLE authors (id INTEGER PRIMARY KEY, name TEXT,);",
    );
    assert_eq!(e.line, 4, "{e}");
    assert!(e.message.contains("the new CREATE TABLE fails"), "{e}");
    let e = expand_err(
        &db,
        "-- migrate:rebuild authors drop=ghost\nCREATE TABLE authors (id INTEGER PRIMARY KEY, name TEXT, legacy TEXT, books INTEGER);",
    );
    assert!(e.message.contains("drop=`ghost`"), "{e}");
    let e = expand_err(&db, "-- migrate:rebuild authors\nCREATE TABLE authors (other TEXT);");
    assert!(e.message.contains("no column in common"), "{e}");
    let e = expand_err(
        &db,
        "-- migrate:rebuild authors\n-- migrate:no-transaction\nCREATE TABLE authors (id INTEGER PRIMARY KEY);",
    );
    assert!(e.message.contains("no-transaction"), "{e}");
    // Without SQL validation there is no schema to read.
    let e = expand_up(&script(REBUILD), None).unwrap_err();
    assert!(e.message.contains("needs the build to execute SQL"), "{e}");
    // Planning left no trace.
    assert_eq!(names(&db, "table"), ["authors", "books"]);
}

#[test]
fn an_fts5_content_table_can_be_rebuilt() {
    let db = Connection::open_in_memory().unwrap();
    db.execute_batch(
        "CREATE TABLE docs (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO docs VALUES (1, 'alpha beta');",
    )
    .unwrap();
    let fts = "-- migrate:fts5 docs_fts content=docs content_rowid=id columns=body\n";
    db.execute_batch(&join(&expand_up(&script(fts), Some(&db)).unwrap()))
        .unwrap();
    apply(
        &db,
        "-- migrate:rebuild docs\nCREATE TABLE docs (id INTEGER PRIMARY KEY, body TEXT NOT NULL, lang TEXT);",
    )
    .unwrap();
    // The sync triggers came back with the table, so writes keep the index exact.
    db.execute("INSERT INTO docs (id, body) VALUES (2, 'gamma alpha')", [])
        .unwrap();
    db.execute("UPDATE docs SET body = 'delta' WHERE id = 1", []).unwrap();
    let mut stmt = db
        .prepare("SELECT rowid FROM docs_fts WHERE docs_fts MATCH 'alpha' ORDER BY rowid")
        .unwrap();
    let hits: Vec<i64> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(hits, [2]);
    db.execute("INSERT INTO docs_fts(docs_fts, rank) VALUES ('integrity-check', 1)", [])
        .unwrap();
}

#[test]
fn fts5_checks_run_after_a_rebuild_in_the_same_file() {
    // Foreign keys are on and books reference authors: the trial run of the rebuild must not trip over them, or the
    // FTS5 checks would silently be skipped.
    let db = db();
    db.execute_batch(
        "CREATE TABLE reviews (id INTEGER PRIMARY KEY, author_id INTEGER REFERENCES authors(id));
         INSERT INTO reviews VALUES (1, 1);",
    )
    .unwrap();
    let rebuild = "-- migrate:rebuild authors\n\
                   -- migrate:fts5 authors_fts content=authors content_rowid=id columns=name,bio\n\
                   CREATE TABLE authors (id INTEGER PRIMARY KEY, name TEXT NOT NULL, books INTEGER NOT NULL DEFAULT 0);\n";
    let e = expand_err(&db, rebuild);
    assert_eq!(e.line, 2);
    assert!(e.message.contains("has no column `bio`"), "{e}");
    assert_eq!(
        count(&db, "PRAGMA foreign_keys"),
        1,
        "the trial run restores foreign key enforcement"
    );

    apply(&db, &rebuild.replace(",bio", "")).unwrap();
    let hits: i64 = db
        .query_row(
            "SELECT count(*) FROM authors_fts WHERE authors_fts MATCH 'ursula'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(hits, 1);
    assert_eq!(count(&db, "SELECT count(*) FROM books"), 3);
}

#[test]
fn a_rebuild_in_a_down_file_needs_foreign_keys_off_in_the_up_file() {
    use litemigrate_core::expand::expand_down;
    let db = db();
    let down = Script {
        path: "m/5_x.down.sql".into(),
        ..script(
            "-- note\n-- migrate:rebuild authors\nCREATE TABLE authors (id INTEGER PRIMARY KEY, name TEXT, legacy TEXT, books INTEGER);",
        )
    };
    let plain_up = script("ALTER TABLE authors ADD COLUMN extra TEXT;");
    let e = expand_down(&plain_up, Some(&down), Some(&db)).unwrap_err();
    assert_eq!((e.file.as_str(), e.line), ("m/5_x.down.sql", 2));
    assert!(e.message.contains("-- migrate:foreign-keys=off"), "{e}");
    let fk_up = script("-- migrate:foreign-keys=off\nALTER TABLE authors ADD COLUMN extra TEXT;");
    let chunks = expand_down(&fk_up, Some(&down), Some(&db)).unwrap().unwrap();
    assert!(join(&chunks).contains("ALTER TABLE \"_migrate_rebuild_authors\" RENAME TO \"authors\""));
}
