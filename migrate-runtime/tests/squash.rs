//! Squash: a generated migration replacing versions up to V. A fresh database applies it and continues; a
//! database that ran the old files to V or beyond continues with the next version; one stopped below V is told
//! which release to use first. Both paths end at the same schema, rows and launch stamp.

mod common;

use common::{history, schema};
use litemigrate_core::compile::{CompileOptions, compile};
use litemigrate_core::load::load_in_memory;
use litemigrate_core::squash::generate::squash;
use litemigrate_runtime::{ErrorKind, Migrations, State, Target};
use rusqlite::Connection;

/// Ten migrations with what a squash must carry: reference rows, a foreign key to a table rebuilt later (so the
/// parent is created after its child), an index, a view, a trigger, an external-content FTS5 index with its sync
/// triggers, an FTS5 table storing its own text, and a rename.
fn old_files() -> Vec<(String, String)> {
    let files = [
        (
            "0001_kinds.sql",
            "CREATE TABLE kinds(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);\n\
             INSERT INTO kinds(name) VALUES ('note'), ('task'), ('it''s');\n",
        ),
        (
            "0002_docs.sql",
            "CREATE TABLE docs(id INTEGER PRIMARY KEY, kind INTEGER NOT NULL REFERENCES kinds(id), title TEXT, \
             body TEXT, score REAL, raw BLOB);\n\
             INSERT INTO docs VALUES (1, 1, 'hello', 'first body', 0.1, X'00ff'), (2, 2, 'world', NULL, 1e300, NULL);\n",
        ),
        (
            "0003_docs_fts.sql",
            "-- migrate:fts5 docs_fts content=docs content_rowid=id columns=title,body\n",
        ),
        ("0004_idx.sql", "CREATE INDEX docs_title ON docs(title);\n"),
        (
            "0005_view.sql",
            "CREATE VIEW doc_kinds AS SELECT docs.id, kinds.name FROM docs JOIN kinds ON kinds.id = docs.kind;\n",
        ),
        (
            "0006_audit.sql",
            "CREATE TABLE audit(id INTEGER PRIMARY KEY AUTOINCREMENT, doc INTEGER);\n\
             CREATE TRIGGER docs_audit AFTER INSERT ON docs BEGIN INSERT INTO audit(doc) VALUES (new.id); END;\n",
        ),
        (
            "0007_kinds_rebuild.sql",
            "-- migrate:rebuild kinds\n\
             CREATE TABLE kinds(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, rank INTEGER NOT NULL DEFAULT 0);\n",
        ),
        (
            "0008_words.sql",
            "CREATE VIRTUAL TABLE words USING fts5(word);\nINSERT INTO words VALUES ('apple'), ('banana');\n\
             ALTER TABLE audit RENAME TO audit_log;\n",
        ),
        (
            "0009_tags.sql",
            "CREATE TABLE tags(name TEXT PRIMARY KEY) WITHOUT ROWID;\n",
        ),
        ("0010_more.sql", "INSERT INTO tags VALUES ('b'), ('a');\n"),
    ];
    files.iter().map(|(n, s)| (n.to_string(), s.to_string())).collect()
}

fn compiled_set(files: &[(String, String)]) -> Migrations {
    let pairs: Vec<(&str, &str)> = files.iter().map(|(n, s)| (n.as_str(), s.as_str())).collect();
    let sources = load_in_memory("migrations", &pairs).unwrap();
    Migrations::from_compiled("default", compile(sources, &CompileOptions::default()).unwrap())
}

/// The set after squashing `old` at `v`: the squash file, then the files above `v`.
fn squashed(old: &[(String, String)], v: u64) -> Vec<(String, String)> {
    let pairs: Vec<(&str, &str)> = old.iter().map(|(n, s)| (n.as_str(), s.as_str())).collect();
    let compiled = compile(
        load_in_memory("migrations", &pairs).unwrap(),
        &CompileOptions::default(),
    )
    .unwrap();
    let s = squash(&compiled, v).unwrap();
    assert_eq!(s.replaced.len(), v as usize);
    let mut files = vec![(s.file_name.clone(), s.text.clone())];
    files.extend(old.iter().skip(v as usize).cloned());
    files
}

fn rows(conn: &Connection, sql: &str) -> Vec<String> {
    let mut stmt = conn.prepare(sql).unwrap();
    let n = stmt.column_count();
    stmt.query_map([], |r| {
        Ok((0..n)
            .map(|i| format!("{:?}", r.get_ref(i).unwrap()))
            .collect::<Vec<_>>()
            .join("|"))
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

fn user_version(conn: &Connection) -> i32 {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap()
}

const DATA: &[&str] = &[
    "SELECT rowid, * FROM kinds ORDER BY id",
    "SELECT * FROM docs ORDER BY id",
    "SELECT * FROM doc_kinds ORDER BY id",
    "SELECT * FROM audit_log ORDER BY id",
    "SELECT rowid, word FROM words ORDER BY rowid",
    "SELECT * FROM tags ORDER BY name",
    "SELECT rowid FROM docs_fts WHERE docs_fts MATCH 'hello'",
];

#[test]
fn a_fresh_database_gets_the_schema_and_rows_of_the_unsquashed_path() {
    let old = old_files();
    let new = squashed(&old, 8);
    assert_eq!(new[0].0, "0008_squashed.sql");
    let mut a = Connection::open_in_memory().unwrap();
    compiled_set(&old).migrate(&mut a).unwrap();
    let mut b = Connection::open_in_memory().unwrap();
    let report = compiled_set(&new).migrate(&mut b).unwrap();
    assert_eq!(report.applied.iter().map(|x| x.version).collect::<Vec<_>>(), [8, 9, 10]);
    assert_eq!(schema(&a), schema(&b));
    for q in DATA {
        assert_eq!(rows(&a, q), rows(&b, q), "{q}");
    }
    assert_eq!(
        rows(&b, DATA[6]),
        ["Integer(1)"],
        "the external-content index was rebuilt"
    );
    // The triggers came last and work: a new document is audited and indexed on both paths alike.
    for c in [&a, &b] {
        c.execute_batch("INSERT INTO docs(id, kind, title) VALUES (3, 1, 'later');")
            .unwrap();
    }
    for q in DATA {
        assert_eq!(rows(&a, q), rows(&b, q), "{q}");
    }
    // The chain continues alike, so the launch stamp is the same.
    assert_eq!(user_version(&a), user_version(&b));
    assert_ne!(user_version(&b), 0);
}

#[test]
fn a_database_past_the_squash_continues_with_the_next_version() {
    let old = old_files();
    let new_set = compiled_set(&squashed(&old, 8));
    let mut conn = Connection::open_in_memory().unwrap();
    compiled_set(&old)
        .migrator()
        .target(Target::Version(9))
        .run(&mut conn)
        .unwrap();
    let status = new_set.status(&conn).unwrap();
    let states: Vec<(u64, State)> = status.entries.iter().map(|e| (e.version, e.state)).collect();
    let mut expected: Vec<(u64, State)> = (1..=7).map(|v| (v, State::Squashed)).collect();
    expected.extend([(8, State::Applied), (9, State::Applied), (10, State::Pending)]);
    assert_eq!(states, expected);

    let report = new_set.migrate(&mut conn).unwrap();
    assert_eq!(report.applied.iter().map(|x| x.version).collect::<Vec<_>>(), [10]);
    assert_eq!(history(&conn, "default"), (1..=10).collect::<Vec<_>>());
    assert!(new_set.status(&conn).unwrap().is_up_to_date());

    // Same schema, rows and stamp as a fresh database that ran the squash.
    let mut fresh = Connection::open_in_memory().unwrap();
    new_set.migrate(&mut fresh).unwrap();
    assert_eq!(schema(&conn), schema(&fresh));
    for q in DATA {
        assert_eq!(rows(&conn, q), rows(&fresh, q), "{q}");
    }
    assert_eq!(user_version(&conn), user_version(&fresh));
    // Both verify clean against the squashed set: the schema hash at 10 is the same on both paths.
    new_set.verify(&conn).unwrap();
    new_set.verify(&fresh).unwrap();
    // And the next launch has nothing to do.
    assert!(new_set.migrate(&mut conn).unwrap().applied.is_empty());
}

#[test]
fn a_database_at_the_squashed_version_exactly_is_up_to_date_there() {
    let old = old_files();
    let new_set = compiled_set(&squashed(&old, 8));
    let mut conn = Connection::open_in_memory().unwrap();
    compiled_set(&old)
        .migrator()
        .target(Target::Version(8))
        .run(&mut conn)
        .unwrap();
    let stamp = user_version(&conn);
    // Nothing runs at version 8: the squash counts as applied, and the stamp the old files wrote stays.
    new_set.migrator().target(Target::Version(8)).run(&mut conn).unwrap();
    assert_eq!(user_version(&conn), stamp);
    let report = new_set.migrate(&mut conn).unwrap();
    assert_eq!(report.applied.iter().map(|x| x.version).collect::<Vec<_>>(), [9, 10]);
}

#[test]
fn a_database_below_the_squash_is_told_to_migrate_with_an_older_release_first() {
    let old = old_files();
    let new_set = compiled_set(&squashed(&old, 8));
    let mut conn = Connection::open_in_memory().unwrap();
    compiled_set(&old)
        .migrator()
        .target(Target::Version(5))
        .run(&mut conn)
        .unwrap();
    let before = schema(&conn);
    let err = new_set.migrate(&mut conn).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::SquashedBelow);
    let msg = err.to_string();
    assert!(
        msg.contains("0008_squashed.sql") && msg.contains("up to 8") && msg.contains("version 5"),
        "{msg}"
    );
    assert_eq!(err.migration().map(|a| a.version), Some(8));
    // Nothing ran, even with every policy relaxed.
    let relaxed = new_set
        .migrator()
        .allow_missing(true)
        .allow_out_of_order(true)
        .run(&mut conn)
        .unwrap_err();
    assert_eq!(relaxed.kind(), ErrorKind::SquashedBelow);
    assert_eq!(schema(&conn), before);
    assert_eq!(history(&conn, "default"), [1, 2, 3, 4, 5]);
}

#[test]
fn a_database_whose_history_differs_at_the_squashed_version_is_divergent() {
    let old = old_files();
    let new_set = compiled_set(&squashed(&old, 8));
    let mut edited = old.clone();
    edited[7].1.push_str("-- edited after it ran\n");
    let mut conn = Connection::open_in_memory().unwrap();
    compiled_set(&edited)
        .migrator()
        .target(Target::Version(8))
        .run(&mut conn)
        .unwrap();
    let err = new_set.migrate(&mut conn).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Divergent, "{err}");
}
