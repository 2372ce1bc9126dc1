//! `verify`, `baseline` and sets compiled from a directory at run time.

mod common;

use litemigrate_core::compile::CompileOptions;
use litemigrate_runtime::{ErrorKind, Migrations, State};
use rusqlite::{Connection, OpenFlags};

fn dir_set(files: &[(&str, &str)]) -> (tempfile::TempDir, Migrations) {
    let dir = tempfile::tempdir().unwrap();
    for (n, sql) in files {
        std::fs::write(dir.path().join(n), sql).unwrap();
    }
    let m = Migrations::from_dir(dir.path(), &CompileOptions::default()).unwrap();
    (dir, m)
}

const FILES: &[(&str, &str)] = &[
    (
        "0001_users.sql",
        "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n",
    ),
    (
        "0002_email.up.sql",
        "ALTER TABLE users ADD COLUMN email TEXT;\nCREATE INDEX users_email ON users(email);\n",
    ),
    (
        "0002_email.down.sql",
        "DROP INDEX users_email;\nALTER TABLE users DROP COLUMN email;\n",
    ),
    (
        "0003_posts.sql",
        "CREATE TABLE posts(id INTEGER PRIMARY KEY, body TEXT);\n",
    ),
];

#[test]
fn compiled_set_has_schema_hashes_and_verifies() {
    let (_d, m) = dir_set(FILES);
    assert!(m.iter().all(|x| x.schema_hash().is_some()));
    assert!(m.final_schema().is_some());
    let mut conn = Connection::open_in_memory().unwrap();
    m.migrate(&mut conn).unwrap();
    let v = m.verify(&conn).unwrap();
    assert!(v.schema_checked);
    assert_eq!((v.version, v.integrity.as_str()), (3, "ok"));
}

#[test]
fn verify_reports_drift_with_the_differences() {
    let (_d, m) = dir_set(FILES);
    let mut conn = Connection::open_in_memory().unwrap();
    m.migrate(&mut conn).unwrap();
    conn.execute_batch("CREATE TABLE hotfix(x); DROP INDEX users_email;")
        .unwrap();
    let err = m.verify(&conn).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::SchemaDrift);
    let text = err.to_string();
    assert!(text.contains("hotfix") && text.contains("users_email"), "{text}");
    assert!(matches!(
        err,
        litemigrate_runtime::Error::SchemaDrift { version: 3, .. }
    ));
}

#[test]
fn verify_at_an_intermediate_version_names_the_difference() {
    let (_d, m) = dir_set(FILES);
    let mut conn = Connection::open_in_memory().unwrap();
    m.migrator()
        .target(litemigrate_runtime::Target::Version(2))
        .run(&mut conn)
        .unwrap();
    assert!(m.verify(&conn).unwrap().schema_checked);
    conn.execute_batch("DROP INDEX users_email;").unwrap();
    let err = m.verify(&conn).unwrap_err();
    assert_eq!(err.migration().unwrap().version, 2);
    assert!(err.to_string().contains("users_email"), "{err}");
}

#[test]
fn verify_is_read_only_and_checks_history() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.db");
    let (_d, m) = dir_set(FILES);
    m.migrate(&mut Connection::open(&path).unwrap()).unwrap();
    let ro = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    assert!(m.verify(&ro).unwrap().schema_checked);
    let mut edited = FILES.to_vec();
    edited[3] = (
        "0003_posts.sql",
        "CREATE TABLE posts(id INTEGER PRIMARY KEY, body TEXT, at TEXT);\n",
    );
    let (_d2, m2) = dir_set(&edited);
    assert_eq!(m2.verify(&ro).unwrap_err().kind(), ErrorKind::Divergent);
}

#[test]
fn baseline_adopts_a_matching_database() {
    let (_d, m) = dir_set(FILES);
    let mut conn = Connection::open_in_memory().unwrap();
    // A database built by hand (or another tool) to the schema of version 2.
    conn.execute_batch(
        "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT);
         CREATE INDEX users_email ON users(email);
         INSERT INTO users(name) VALUES ('kept');",
    )
    .unwrap();
    let st = m.baseline(&mut conn, 2).unwrap();
    assert_eq!(
        st.in_state(State::Baseline).map(|e| e.version).collect::<Vec<_>>(),
        [1, 2]
    );
    assert_eq!(st.pending().map(|e| e.version).collect::<Vec<_>>(), [3]);
    let r = m.migrate(&mut conn).unwrap();
    assert_eq!(r.applied.iter().map(|a| a.version).collect::<Vec<_>>(), [3]);
    let name: String = conn.query_row("SELECT name FROM users", [], |r| r.get(0)).unwrap();
    assert_eq!(name, "kept");
    assert!(m.verify(&conn).is_ok());
    // Only once.
    assert_eq!(m.baseline(&mut conn, 2).unwrap_err().kind(), ErrorKind::HistoryNotEmpty);
}

#[test]
fn baseline_refuses_a_different_schema_and_says_how() {
    let (_d, m) = dir_set(FILES);
    let mut conn = Connection::open_in_memory().unwrap();
    conn.execute_batch("CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT NOT NULL);")
        .unwrap();
    let err = m.baseline(&mut conn, 2).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::SchemaDrift);
    assert!(err.to_string().contains("users_email"), "{err}");
    assert_eq!(common::tables(&conn), ["users"]);
    assert_eq!(m.baseline(&mut conn, 9).unwrap_err().kind(), ErrorKind::UnknownTarget);
}

#[test]
fn bad_directory_is_a_load_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("1_a.sql"), "SELECT 1;").unwrap();
    std::fs::write(dir.path().join("01_b.sql"), "SELECT 1;").unwrap();
    let err = Migrations::from_dir(dir.path(), &CompileOptions::default()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Load);
    std::fs::remove_file(dir.path().join("01_b.sql")).unwrap();
    std::fs::write(dir.path().join("2_b.sql"), "CREATE TABLE (;").unwrap();
    let err = Migrations::from_dir(dir.path(), &CompileOptions::default()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Compile);
    assert!(err.to_string().contains("2_b.sql"), "{err}");
}

#[test]
fn drift_below_the_newest_version_is_named_after_replaying_directives_as_the_build_did() {
    // Version 2 rebuilds a parent table that has child rows (foreign keys off while it runs) and version 3 is a
    // no-transaction VACUUM: the expected schema at 2 comes from replaying both kinds the way the build ran them.
    let files: &[(&str, &str)] = &[
        (
            "0001_authors.sql",
            "CREATE TABLE authors (id INTEGER PRIMARY KEY, name TEXT, legacy TEXT);\n\
             CREATE TABLE books (id INTEGER PRIMARY KEY, author_id INTEGER REFERENCES authors(id), t TEXT);\n\
             INSERT INTO authors VALUES (1, 'a', 'x');\nINSERT INTO books VALUES (1, 1, 'b');\n",
        ),
        (
            "0002_rebuild.sql",
            "-- migrate:rebuild authors\nCREATE TABLE authors (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n",
        ),
        ("0003_vacuum.sql", "-- migrate:no-transaction\nVACUUM;\n"),
        ("0004_idx.sql", "CREATE INDEX books_t ON books(t);\n"),
    ];
    let (_d, m) = dir_set(files);
    let mut conn = Connection::open_in_memory().unwrap();
    conn.execute_batch("PRAGMA foreign_keys = ON").unwrap();
    m.migrator()
        .target(litemigrate_runtime::Target::Version(3))
        .run(&mut conn)
        .unwrap();
    assert!(m.verify(&conn).unwrap().schema_checked);
    conn.execute_batch("CREATE INDEX hotfix ON authors(name);").unwrap();
    let err = m.verify(&conn).unwrap_err();
    assert!(
        matches!(err, litemigrate_runtime::Error::SchemaDrift { version: 3, .. }),
        "{err}"
    );
    let text = err.to_string();
    assert!(text.contains("hotfix"), "{text}");
    assert!(!text.contains("cannot be computed"), "{text}");
}
