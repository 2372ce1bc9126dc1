//! Each rule fires on its case, names the file and line, and is silenced by its allow directive; the set-level
//! allow and deny work; common safe migrations stay quiet.

// This file is the parent module's `#[cfg(test)] mod …;`: test code only.
#[cfg(test)]
use super::*;
use crate::compile::{Analysis, CompileOptions, compile_with};
use crate::load::load_in_memory;

fn findings_with(files: &[(&str, &str)], lint: LintOptions) -> Vec<Finding> {
    let analysis = Analysis {
        lint,
        ..Default::default()
    };
    match compile_with(
        load_in_memory("migrations", files).unwrap(),
        &CompileOptions::default(),
        &analysis,
    ) {
        Ok(c) => c.findings,
        Err(e) => panic!("{e}"),
    }
}

fn findings(files: &[(&str, &str)]) -> Vec<Finding> {
    findings_with(files, LintOptions::default())
}

fn ids(f: &[Finding]) -> Vec<(&str, &str, usize)> {
    f.iter().map(|f| (f.id, f.file.as_str(), f.line)).collect()
}

const BASE: (&str, &str) = (
    "0001_init.sql",
    "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT NOT NULL, name TEXT, bio TEXT);\n\
     CREATE INDEX users_email ON users(email);\n\
     CREATE TABLE logs(id INTEGER PRIMARY KEY AUTOINCREMENT, msg TEXT);\n\
     CREATE VIEW named AS SELECT id, name FROM users WHERE name IS NOT NULL;\n\
     CREATE TRIGGER users_log AFTER INSERT ON users BEGIN INSERT INTO logs(msg) VALUES (new.email); END;",
);

/// Asserts that `sql` as migration 2 gives exactly `expected` (id, line), and nothing once the file allows them.
fn fires(sql: &str, expected: &[(&str, usize)]) {
    let got = findings(&[BASE, ("0002_x.sql", sql)]);
    let want: Vec<(&str, &str, usize)> = expected
        .iter()
        .map(|(id, l)| (*id, "migrations/0002_x.sql", *l))
        .collect();
    assert_eq!(ids(&got), want, "{sql}\n{got:#?}");
    let mut allow: Vec<&str> = expected.iter().map(|(id, _)| *id).collect();
    allow.dedup();
    if allow.is_empty() {
        return;
    }
    let allowed = format!("-- migrate:allow {}\n{sql}", allow.join(","));
    let got = findings(&[BASE, ("0002_x.sql", &allowed)]);
    assert!(got.is_empty(), "{allowed}\n{got:#?}");
}

#[test]
fn drop_table_and_column() {
    fires("DROP VIEW named;\nDROP TABLE logs;", &[("drop-table", 2)]);
    fires("ALTER TABLE users DROP COLUMN bio;", &[("drop-column", 1)]);
    // A table created and dropped in one file held nothing.
    assert!(findings(&[BASE, ("0002_x.sql", "CREATE TABLE tmp(x);\nDROP TABLE tmp;")]).is_empty());
}

#[test]
fn add_not_null_column_without_default() {
    // With rows the build fails anyway (see `compile::rows`); without them the lint still says why.
    let analysis = Analysis {
        generate: false,
        ..Default::default()
    };
    let c = compile_with(
        load_in_memory(
            "migrations",
            &[
                BASE,
                ("0002_x.sql", "ALTER TABLE users ADD COLUMN age INTEGER NOT NULL;"),
            ],
        )
        .unwrap(),
        &CompileOptions::default(),
        &analysis,
    )
    .unwrap();
    assert_eq!(ids(&c.findings), [("add-column-not-null", "migrations/0002_x.sql", 1)]);
    fires("ALTER TABLE users ADD COLUMN age INTEGER NOT NULL DEFAULT 0;", &[]);
}

#[test]
fn a_rebuild_that_loses_objects_columns_types_or_autoincrement() {
    let by_hand = "CREATE TABLE users_new(id INTEGER PRIMARY KEY, email BLOB NOT NULL);\n\
                   INSERT INTO users_new(id, email) SELECT id, email FROM users;\n\
                   DROP VIEW named;\n\
                   DROP TABLE users;\n\
                   ALTER TABLE users_new RENAME TO users;";
    let got = findings(&[BASE, ("0002_x.sql", by_hand)]);
    assert_eq!(
        ids(&got),
        [
            ("rebuild-lost-object", "migrations/0002_x.sql", 4),
            ("column-type-change", "migrations/0002_x.sql", 4),
            ("drop-column", "migrations/0002_x.sql", 4),
            ("drop-column", "migrations/0002_x.sql", 4),
        ],
        "{got:#?}"
    );
    let msg = got[0].to_string();
    assert!(
        msg.contains("index \"users_email\"")
            && msg.contains("trigger \"users_log\"")
            && msg.contains("view \"named\""),
        "{msg}"
    );
    assert!(msg.contains("-- migrate:allow rebuild-lost-object"), "{msg}");
    // The directive recreates what the old table had: nothing to say.
    fires(
        "-- migrate:rebuild users\nCREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT NOT NULL, name TEXT, bio TEXT, age INT);",
        &[],
    );
    // AUTOINCREMENT dropped in a rebuild.
    fires(
        "-- migrate:rebuild logs\nCREATE TABLE logs(id INTEGER PRIMARY KEY, msg TEXT);",
        &[("autoincrement-change", 1)],
    );
}

#[test]
fn int_primary_key_is_not_a_rowid_alias() {
    fires(
        "CREATE TABLE tags(id INT PRIMARY KEY, name TEXT);",
        &[("int-primary-key", 1)],
    );
    fires(
        "CREATE TABLE tags(id BIGINT, name TEXT, PRIMARY KEY (id));",
        &[("int-primary-key", 1)],
    );
    fires("CREATE TABLE tags(id INTEGER PRIMARY KEY, name TEXT);", &[]);
    fires("CREATE TABLE tags(id INT PRIMARY KEY, name TEXT) WITHOUT ROWID;", &[]);
}

#[test]
fn renames() {
    fires("ALTER TABLE users RENAME TO people;", &[("rename-table", 1)]);
    fires(
        "ALTER TABLE users RENAME COLUMN name TO full_name;",
        &[("rename-column", 1)],
    );
    let got = findings(&[BASE, ("0002_x.sql", "ALTER TABLE users RENAME TO people;")]);
    assert!(got[0].message.contains("view \"named\""), "{}", got[0]);
}

#[test]
fn fts5_external_content() {
    let docs = "CREATE TABLE docs(id INTEGER PRIMARY KEY, body TEXT);\n";
    fires(
        &format!("{docs}CREATE VIRTUAL TABLE docs_fts USING fts5(body, content=docs, content_rowid=id);"),
        &[("fts5-sync-triggers", 2)],
    );
    fires(
        "CREATE TABLE notes(body TEXT);\nCREATE VIRTUAL TABLE notes_fts USING fts5(body, content=notes);\n\
         CREATE TRIGGER notes_ai AFTER INSERT ON notes BEGIN INSERT INTO notes_fts(rowid, body) VALUES (new.rowid, new.body); END;\n\
         CREATE TRIGGER notes_ad AFTER DELETE ON notes BEGIN INSERT INTO notes_fts(notes_fts, rowid, body) VALUES ('delete', old.rowid, old.body); END;\n\
         CREATE TRIGGER notes_au AFTER UPDATE ON notes BEGIN INSERT INTO notes_fts(notes_fts, rowid, body) VALUES ('delete', old.rowid, old.body); INSERT INTO notes_fts(rowid, body) VALUES (new.rowid, new.body); END;",
        &[("fts5-content-rowid", 2)],
    );
    // The directive creates the triggers, over the INTEGER PRIMARY KEY.
    fires(
        &format!("-- migrate:fts5 docs_fts content=docs content_rowid=id columns=body\n{docs}"),
        &[],
    );
}

#[test]
fn rerunnable_migrations() {
    fires(
        "-- migrate:no-transaction\nCREATE INDEX users_name ON users(name);\nCREATE INDEX IF NOT EXISTS u2 ON users(email, name);\n\
         UPDATE users SET name = 'x' || random() WHERE name IS NULL;\nUPDATE users SET email = lower(email);",
        &[("rerun-not-idempotent", 2), ("nondeterministic-rerun", 4)],
    );
    // In a transaction a failure rolls everything back: nothing to say.
    fires(
        "UPDATE users SET name = datetime('now');\nCREATE INDEX users_name ON users(name);",
        &[],
    );
}

#[test]
fn min_sqlite() {
    let lint = LintOptions {
        min_sqlite: SqliteVersion::parse("3.31"),
        ..Default::default()
    };
    let sql = "ALTER TABLE users DROP COLUMN bio;\nCREATE TABLE s(a INTEGER) STRICT;\n\
               UPDATE users SET email = concat(email, '') RETURNING id;\nSELECT '{}' ->> '$.a', unixepoch();";
    let got = findings_with(
        &[BASE, ("0002_x.sql", &format!("-- migrate:allow drop-column\n{sql}"))],
        lint.clone(),
    );
    let what: Vec<(usize, bool)> = got.iter().map(|f| (f.line, f.id == "min-sqlite")).collect();
    assert_eq!(
        what,
        [(2, true), (3, true), (4, true), (4, true), (5, true), (5, true)],
        "{got:#?}"
    );
    assert!(
        got[0].message.contains("needs SQLite 3.35.0") && got[0].message.contains("3.31.0"),
        "{}",
        got[0]
    );
    // Declared new enough: quiet; not declared: the rule does not run.
    let new = LintOptions {
        min_sqlite: SqliteVersion::parse("3.45"),
        ..Default::default()
    };
    let allowed = format!("-- migrate:allow drop-column\n{sql}");
    assert!(findings_with(&[BASE, ("0002_x.sql", &allowed)], new).is_empty());
    assert!(findings(&[BASE, ("0002_x.sql", &allowed)]).is_empty());
    assert_eq!(SqliteVersion::parse("3.35.5"), Some(SqliteVersion(3, 35, 5)));
    assert_eq!(SqliteVersion::parse("three"), None);
}

#[test]
fn set_level_allow_and_deny() {
    let files = [
        BASE,
        (
            "0002_x.sql",
            "DROP TRIGGER users_log;\nDROP TABLE logs;\nALTER TABLE users RENAME COLUMN name TO n;",
        ),
    ];
    let got = findings_with(
        &files,
        LintOptions {
            allow: vec!["drop-table".into()],
            deny: vec!["rename-column".into()],
            ..Default::default()
        },
    );
    assert_eq!(ids(&got), [("rename-column", "migrations/0002_x.sql", 3)]);
    assert!(got[0].denied);
    let opts = LintOptions {
        allow: vec!["drop-tabel".into()],
        ..Default::default()
    };
    assert_eq!(opts.unknown_ids(), ["drop-tabel"]);
    // An unknown id in a file is a directive error.
    let err = load_in_memory(
        "migrations",
        &[("0001_x.sql", "-- migrate:allow drop-tabel\nSELECT 1;")],
    )
    .unwrap_err();
    assert!(err.to_string().contains("unknown id `drop-tabel`"), "{err}");
}
