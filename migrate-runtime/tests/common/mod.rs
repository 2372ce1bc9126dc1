//! Helpers shared by the integration tests: building sets from in-memory files and reading a database back.
#![allow(dead_code)]

use litemigrate_core::load::load_in_memory;
use litemigrate_runtime::Migrations;
use rusqlite::Connection;

/// A set from `(file name, sql)` pairs, displayed as `migrations/<file>`.
pub fn set(files: &[(&str, &str)]) -> Migrations {
    set_named("default", files)
}

pub fn set_named(name: &str, files: &[(&str, &str)]) -> Migrations {
    Migrations::from_sources(name, load_in_memory("migrations", files).unwrap())
}

/// The user-visible schema (everything but the history tables), as `type name sql` lines.
pub fn schema(conn: &Connection) -> Vec<String> {
    let mut stmt = conn
        .prepare(
            "SELECT type, name, coalesce(sql, '') FROM sqlite_schema \
             WHERE name NOT LIKE '\\_migrations%' ESCAPE '\\' AND name NOT LIKE 'sqlite_%' ORDER BY type, name",
        )
        .unwrap();
    stmt.query_map([], |r| {
        Ok(format!(
            "{} {} {}",
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?
        ))
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

pub fn tables(conn: &Connection) -> Vec<String> {
    let mut stmt = conn
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// Versions recorded in the default history table for a set.
pub fn history(conn: &Connection, set: &str) -> Vec<u64> {
    let mut stmt = conn
        .prepare("SELECT version FROM _migrations WHERE set_name = ?1 ORDER BY version")
        .unwrap();
    stmt.query_map([set], |r| r.get::<_, i64>(0))
        .unwrap()
        .map(|v| v.unwrap() as u64)
        .collect()
}

/// The schema a fresh database has after running the first `n` migrations' SQL directly (the oracle).
pub fn reference_schema(files: &[(&str, &str)], n: usize) -> Vec<String> {
    let conn = Connection::open_in_memory().unwrap();
    let set = set(files);
    for m in set.iter().take(n) {
        conn.execute_batch(m.up_sql().unwrap()).unwrap();
    }
    schema(&conn)
}

/// `n` small migrations: each creates a table and an index and inserts a row.
pub fn many(n: usize) -> Vec<(String, String)> {
    (1..=n)
        .map(|i| {
            (
                format!("{i:05}_t{i}.sql"),
                format!("CREATE TABLE t{i}(id INTEGER PRIMARY KEY, v TEXT);\nCREATE INDEX t{i}_v ON t{i}(v);\nINSERT INTO t{i}(v) VALUES ('x');\n"),
            )
        })
        .collect()
}

pub fn as_refs(v: &[(String, String)]) -> Vec<(&str, &str)> {
    v.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect()
}
