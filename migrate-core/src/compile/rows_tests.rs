//! Rows at build time: each failure an empty schema hides is caught, names its file, line and table, and can be
//! opted out of; what works on rows keeps working.

// This file is the parent module's `#[cfg(test)] mod …;`: test code only.
#[cfg(test)]
use super::super::tracked::Tracked;
use super::*;
use crate::compile::{CompileOptions, Compiled, compile, compile_with};
use crate::load::{MigrationSource, load_in_memory};

fn set(files: &[(&str, &str)]) -> Vec<MigrationSource> {
    load_in_memory("migrations", files).unwrap()
}

fn run(files: &[(&str, &str)]) -> Result<Compiled, CompileError> {
    compile(set(files), &CompileOptions::default())
}

fn with_fixtures(files: &[(&str, &str)], fixtures: Vec<Fixture>) -> Result<Compiled, CompileError> {
    compile_with(
        set(files),
        &CompileOptions::default(),
        &Analysis {
            fixtures,
            ..Default::default()
        },
    )
}

const PARENT_CHILD: (&str, &str) = (
    "0001_init.sql",
    "CREATE TABLE authors(id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n\
     CREATE TABLE books(id INTEGER PRIMARY KEY, author_id INTEGER NOT NULL REFERENCES authors(id) ON DELETE CASCADE, \
     title TEXT NOT NULL);",
);

/// SQLite's documented rebuild, written by hand, with foreign keys left on: the DROP deletes every book.
const HAND_REBUILD: &str = "CREATE TABLE authors_new(id INTEGER PRIMARY KEY, name TEXT NOT NULL, bio TEXT);\n\
     INSERT INTO authors_new(id, name) SELECT id, name FROM authors;\n\
     DROP TABLE authors;\n\
     ALTER TABLE authors_new RENAME TO authors;";

#[test]
fn a_rebuild_with_foreign_keys_on_that_cascades_names_the_child_table() {
    let err = run(&[PARENT_CHILD, ("0002_bio.sql", HAND_REBUILD)]).unwrap_err();
    match &err {
        CompileError::RowsVanished {
            file,
            line,
            table,
            before,
            after,
            ..
        } => {
            assert_eq!(file, "migrations/0002_bio.sql");
            assert_eq!(*line, 3, "the DROP TABLE");
            assert_eq!(table, "books");
            assert_eq!((*before, *after), (3, 0));
        }
        e => panic!("{e}"),
    }
    let msg = err.to_string();
    assert!(
        msg.starts_with("migrations/0002_bio.sql:3: 3 of the 3 rows of table \"books\" vanished"),
        "{msg}"
    );
    assert!(
        msg.contains("ON DELETE CASCADE") && msg.contains("-- migrate:allow rows"),
        "{msg}"
    );
}

#[test]
fn the_same_rebuild_keeps_the_rows_with_foreign_keys_off_or_the_directive() {
    let off = format!("-- migrate:foreign-keys=off\n{HAND_REBUILD}");
    run(&[PARENT_CHILD, ("0002_bio.sql", &off)]).unwrap();
    run(&[
        PARENT_CHILD,
        (
            "0002_bio.sql",
            "-- migrate:rebuild authors\nCREATE TABLE authors(id INTEGER PRIMARY KEY, name TEXT NOT NULL, bio TEXT);",
        ),
    ])
    .unwrap();
    // Deleting the parents on purpose says what happens to their children.
    run(&[PARENT_CHILD, ("0002_purge.sql", "DELETE FROM authors;")]).unwrap();
}

#[test]
fn a_references_column_with_a_default_fails_only_because_of_rows() {
    let err = run(&[
        PARENT_CHILD,
        (
            "0002_editor.sql",
            "-- a comment\nALTER TABLE books ADD COLUMN editor_id INTEGER REFERENCES authors(id) DEFAULT 1;",
        ),
    ])
    .unwrap_err();
    match &err {
        CompileError::RowsRequired { file, line, table, .. } => {
            assert_eq!((file.as_str(), *line), ("migrations/0002_editor.sql", 2));
            assert_eq!(table.as_deref(), Some("books"));
        }
        e => panic!("{e}"),
    }
    let msg = err.to_string();
    assert!(
        msg.contains("Cannot add a REFERENCES column with non-NULL default value"),
        "{msg}"
    );
    assert!(msg.contains("fails only because table \"books\" holds rows"), "{msg}");
    // In the migration that creates the table there are no rows yet, as in production.
    run(&[(
        "0001_init.sql",
        "CREATE TABLE a(id INTEGER PRIMARY KEY);\nCREATE TABLE b(id INTEGER PRIMARY KEY);\n\
         ALTER TABLE b ADD COLUMN a_id INTEGER REFERENCES a(id) DEFAULT 1;",
    )])
    .unwrap();
}

#[test]
fn a_not_null_column_without_default_fails_only_because_of_rows() {
    let err = run(&[
        PARENT_CHILD,
        ("0002_isbn.sql", "ALTER TABLE books ADD COLUMN isbn TEXT NOT NULL;"),
    ])
    .unwrap_err();
    assert!(
        matches!(&err, CompileError::RowsRequired { table: Some(t), line: 1, .. } if t == "books"),
        "{err}"
    );
}

#[test]
fn a_unique_index_over_duplicate_generated_rows_fails() {
    let err = run(&[
        PARENT_CHILD,
        ("0002_unique.sql", "CREATE UNIQUE INDEX books_title ON books(title);"),
    ])
    .unwrap_err();
    match &err {
        CompileError::RowsRequired {
            file,
            line,
            table,
            message,
            ..
        } => {
            assert_eq!((file.as_str(), *line), ("migrations/0002_unique.sql", 1));
            assert_eq!(table.as_deref(), Some("books"));
            assert!(message.contains("UNIQUE constraint failed: books.title"), "{message}");
        }
        e => panic!("{e}"),
    }
    // Declared unique columns get distinct values, so an index over them builds.
    run(&[
        (
            "0001_init.sql",
            "CREATE TABLE u(id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, nick TEXT UNIQUE);",
        ),
        (
            "0002_idx.sql",
            "CREATE UNIQUE INDEX u_email ON u(email);\nCREATE UNIQUE INDEX u_nick ON u(nick);",
        ),
    ])
    .unwrap();
}

#[test]
fn a_unique_index_over_duplicate_fixture_rows_fails_and_fixtures_are_checked() {
    let files = [
        (
            "0001_users.sql",
            "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT UNIQUE);",
        ),
        (
            "0002_unique.sql",
            "CREATE UNIQUE INDEX users_email ON users(lower(email));",
        ),
    ];
    // Generated values of a unique column are distinct, in any case: the index builds…
    run(&files).unwrap();
    // …but the application's own data has duplicates.
    let fixture = |sql: &str| Fixture {
        version: 1,
        path: "fixtures/0001_users.sql".into(),
        sql: sql.into(),
    };
    let err = with_fixtures(
        &files,
        vec![fixture(
            "INSERT INTO users(email) VALUES ('a@x');\nINSERT INTO users(email) VALUES ('A@x');",
        )],
    )
    .unwrap_err();
    assert!(
        matches!(&err, CompileError::RowsRequired { file, table: Some(t), .. }
            if file == "migrations/0002_unique.sql" && t == "users"),
        "{err}"
    );
    // A broken fixture names its own file and line.
    let err = with_fixtures(
        &files,
        vec![fixture(
            "INSERT INTO users(email) VALUES ('a');\nINSERT INTO nope VALUES (1);",
        )],
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("fixtures/0001_users.sql:2: INSERT INTO nope VALUES (1): no such table: nope"),
        "{err}"
    );
}

#[test]
fn a_not_null_tightened_by_a_rebuild_fails_only_because_of_rows() {
    let err = run(&[
        (
            "0001_init.sql",
            "CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT);",
        ),
        (
            "0002_strict.sql",
            "-- migrate:rebuild notes\nCREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT NOT NULL);",
        ),
    ])
    .unwrap_err();
    assert!(
        matches!(&err, CompileError::RowsRequired { file, message, .. }
            if file == "migrations/0002_strict.sql" && message.contains("NOT NULL constraint failed")),
        "{err}"
    );
}

#[test]
fn a_down_that_does_not_keep_rows_fails_the_round_trip() {
    let up = "CREATE TABLE notes_new(id INTEGER PRIMARY KEY, body TEXT, pinned INTEGER NOT NULL DEFAULT 0);\n\
              INSERT INTO notes_new(id, body) SELECT id, body FROM notes;\n\
              DROP TABLE notes;\n\
              ALTER TABLE notes_new RENAME TO notes;";
    let lossy_down = "DROP TABLE notes;\nCREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT);";
    let files = [
        (
            "0001_init.up.sql",
            "CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT);",
        ),
        ("0001_init.down.sql", "DROP TABLE notes;"),
        ("0002_pin.up.sql", up),
        ("0002_pin.down.sql", lossy_down),
    ];
    let err = run(&files).unwrap_err();
    match &err {
        CompileError::RowsNotRestored {
            file,
            line,
            up_file,
            table,
            before,
            after,
            ..
        } => {
            assert_eq!((file.as_str(), *line), ("migrations/0002_pin.down.sql", 1));
            assert_eq!(up_file, "migrations/0002_pin.up.sql");
            assert_eq!(table, "notes");
            assert_eq!((*before, *after), (3, 0));
        }
        e => panic!("{e}"),
    }
    assert!(err.to_string().contains("up → down → up"), "{err}");
    // A down that copies the rows back passes.
    let good_down = "CREATE TABLE notes_old(id INTEGER PRIMARY KEY, body TEXT);\n\
                     INSERT INTO notes_old SELECT id, body FROM notes;\nDROP TABLE notes;\n\
                     ALTER TABLE notes_old RENAME TO notes;";
    let mut good = files;
    good[3].1 = good_down;
    run(&good).unwrap();
}

#[test]
fn an_up_that_cannot_run_again_on_what_its_down_left_fails() {
    // The down leaves the rows the up inserted; the up's INSERT then hits the primary key.
    let err = run(&[
        (
            "0001_init.sql",
            "CREATE TABLE roles(id INTEGER PRIMARY KEY, name TEXT);",
        ),
        (
            "0002_admin.up.sql",
            "INSERT INTO roles(id, name) VALUES (1000, 'admin');",
        ),
        ("0002_admin.down.sql", "SELECT 1;"),
    ])
    .unwrap_err();
    assert!(
        matches!(&err, CompileError::Statement { file, message, .. }
            if file == "migrations/0002_admin.up.sql" && message.contains("up → down → up")),
        "{err}"
    );
}

#[test]
fn allow_rows_and_rows_false_opt_out() {
    let unique = "CREATE UNIQUE INDEX books_title ON books(title);";
    let allowed = format!("-- migrate:allow rows\n{unique}");
    run(&[PARENT_CHILD, ("0002_unique.sql", &allowed)]).unwrap();
    let allowed = format!("-- migrate:allow rows\n{HAND_REBUILD}");
    run(&[PARENT_CHILD, ("0002_bio.sql", &allowed)]).unwrap();
    let off = Analysis {
        generate: false,
        ..Default::default()
    };
    compile_with(
        set(&[PARENT_CHILD, ("0002_unique.sql", unique)]),
        &CompileOptions::default(),
        &off,
    )
    .unwrap();
    // Tables are seeded again after an opted-out file: the next one is checked.
    let err = run(&[
        PARENT_CHILD,
        ("0002_unique.sql", &format!("-- migrate:allow rows\n{unique}")),
        ("0003_bio.sql", HAND_REBUILD),
    ])
    .unwrap_err();
    assert!(matches!(err, CompileError::RowsVanished { .. }), "{err}");
}

#[test]
fn generated_rows_are_typed_satisfy_constraints_and_are_deterministic() {
    let schema = "CREATE TABLE kinds(id INTEGER PRIMARY KEY, code TEXT NOT NULL UNIQUE);\n\
                  CREATE TABLE items(id INTEGER PRIMARY KEY, kind_id INTEGER NOT NULL REFERENCES kinds(id), \
                  price REAL NOT NULL CHECK (price > 0), qty INT NOT NULL DEFAULT 1, data BLOB, \
                  parent_id INTEGER REFERENCES items(id), slug TEXT GENERATED ALWAYS AS (lower(code)) VIRTUAL, \
                  code TEXT);\n\
                  CREATE TABLE s(a INTEGER, b TEXT, c ANY) STRICT;";
    let dump = || {
        let mut db = Tracked::open(0, Vec::new().into()).unwrap();
        db.execute(schema).unwrap();
        let mut rows = Rows::default();
        rows.seed(&mut db);
        let mut out = Vec::new();
        for t in ["kinds", "items", "s"] {
            let n: i64 = db
                .conn
                .query_row(&format!("SELECT count(*) FROM {t}"), [], |r| r.get(0))
                .unwrap();
            out.push(format!("{t}: {n}"));
        }
        let mut st = db
            .conn
            .prepare("SELECT kind_id, typeof(price), typeof(data), parent_id FROM items")
            .unwrap();
        let items: Vec<String> = st
            .query_map([], |r| {
                Ok(format!(
                    "{:?} {} {} {:?}",
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<i64>>(3)?
                ))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        out.extend(items);
        let fk: i64 = db
            .conn
            .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(fk, 0, "generated rows satisfy the foreign keys");
        out
    };
    let first = dump();
    assert_eq!(first[..3], ["kinds: 3", "items: 3", "s: 3"]);
    assert!(first[3..].iter().all(|r| r.contains(" real ")), "{first:?}");
    assert_eq!(first, dump(), "same schema, same rows");
}

/// Cost of the rows at 2000 migrations: `compile` with and without generated rows, side by side, in the test
/// profile (unoptimized, like the proc macro). Run with `cargo test -p litemigrate-core --features bundled --lib
/// rows_cost_2000 -- --ignored --nocapture`.
#[test]
#[ignore]
fn rows_cost_2000() {
    let mut files = Vec::new();
    for i in 1..=std::env::var("ROWS_N")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2000)
    {
        files.push((
            format!("{i:05}_t{i}.up.sql"),
            format!(
                "CREATE TABLE t_{i}(id INTEGER PRIMARY KEY, name TEXT NOT NULL, created_at TEXT);\n\
                 CREATE INDEX t_{i}_name ON t_{i}(name);\n"
            ),
        ));
        files.push((format!("{i:05}_t{i}.down.sql"), format!("DROP TABLE t_{i};\n")));
    }
    let refs: Vec<(&str, &str)> = files.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let cpu = || {
        std::fs::read_to_string("/proc/thread-self/schedstat")
            .ok()
            .and_then(|s| s.split_whitespace().next().and_then(|n| n.parse::<u64>().ok()))
            .map(std::time::Duration::from_nanos)
    };
    let mut table = Vec::new();
    for (name, generate, check_down) in [
        ("no rows", false, true),
        ("rows", true, true),
        ("no rows, no down proof", false, false),
        ("rows, no down proof", true, false),
    ] {
        let s = set(&refs);
        let opts = Analysis {
            generate,
            ..Default::default()
        };
        let (t, c0) = (std::time::Instant::now(), cpu());
        let compile_opts = CompileOptions {
            check_down,
            ..CompileOptions::default()
        };
        compile_with(s, &compile_opts, &opts).unwrap();
        table.push((name, t.elapsed(), cpu().zip(c0).map(|(b, a)| b - a)));
    }
    for (name, wall, cpu) in table {
        eprintln!("{name:24} wall {wall:>10.2?}  cpu {cpu:>10.2?}");
    }
}
