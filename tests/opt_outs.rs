//! `validate_functions`: an extension's function is stubbed during validation only, and everything else in the set
//! is still validated (the FTS5 directive here expands and runs at build time like any other file).

use litemigrate::Migrations;
use rusqlite::Connection;
use rusqlite::functions::FunctionFlags;

static ITEMS: Migrations = litemigrate::embed_migrations!(
    "tests/fixtures/extension_functions",
    validate_functions = ["vec_length/1"]
);

fn dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/extension_functions")
}

/// The application's real function: one byte per dimension, for the test.
fn with_extension(conn: &Connection) {
    conn.create_scalar_function(
        "vec_length",
        1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| Ok(ctx.get_raw(0).as_blob().map_or(0, |b| b.len() as i64)),
    )
    .unwrap();
}

#[test]
fn declared_functions_validate_and_the_real_one_runs_at_launch() {
    assert!(
        ITEMS.latest().unwrap().schema_hash().is_some(),
        "the SQL was executed at build time"
    );
    let mut conn = Connection::open_in_memory().unwrap();
    with_extension(&conn);
    ITEMS.migrate(&mut conn).unwrap();
    conn.execute("INSERT INTO items(title, embedding) VALUES ('a', x'010203')", [])
        .unwrap();
    let err = conn
        .execute("INSERT INTO items(title, embedding) VALUES ('b', x'01')", [])
        .unwrap_err();
    assert!(err.to_string().contains("CHECK constraint failed"), "{err}");
    let hits: i64 = conn
        .query_row("SELECT count(*) FROM items_fts WHERE items_fts MATCH 'a'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(hits, 1);
}

#[test]
fn without_the_declaration_validation_names_the_file() {
    let err = Migrations::from_dir(dir(), &litemigrate::CompileOptions::default()).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("0001_items.sql") && msg.contains("vec_length"), "{msg}");
    let stubs = ["vec_length/1".parse().unwrap()];
    let set = Migrations::from_dir_with(dir(), None, &litemigrate::CompileOptions::default(), &stubs).unwrap();
    assert_eq!(set.len(), 2);
}
