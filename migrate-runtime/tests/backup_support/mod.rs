//! Shared by the backup_*.rs tests: databases with known content and a row-level dump to compare them.
#![allow(dead_code)]

use rusqlite::types::Value;
use rusqlite::{Connection, OpenFlags};
use std::path::Path;

/// Every user table's schema and rows (by rowid), so two databases compare equal only if their data is equal.
pub type Dump = Vec<(String, String, Vec<Vec<Value>>)>;

pub fn dump(conn: &Connection) -> Dump {
    let mut tables: Vec<(String, String)> = conn
        .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    tables.sort();
    tables
        .into_iter()
        .map(|(name, sql)| {
            let quoted = name.replace('"', "\"\"");
            let n = conn
                .prepare(&format!("SELECT * FROM \"{quoted}\""))
                .unwrap()
                .column_count();
            // Every column in order: works for WITHOUT ROWID tables too, and equal rows are interchangeable.
            let order: Vec<String> = (1..=n).map(|i| i.to_string()).collect();
            let mut st = conn
                .prepare(&format!("SELECT * FROM \"{quoted}\" ORDER BY {}", order.join(", ")))
                .unwrap();
            let rows = st
                .query_map([], |r| {
                    (0..n).map(|i| r.get::<_, Value>(i)).collect::<Result<Vec<_>, _>>()
                })
                .unwrap()
                .collect::<Result<Vec<_>, _>>()
                .unwrap();
            (name, sql, rows)
        })
        .collect()
}

pub fn dump_file(path: &Path) -> Dump {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    dump(&conn)
}

/// A database with two related tables, an index and `rows` rows of varied types.
pub fn make_db(path: &Path, wal: bool, rows: i64) -> Connection {
    let conn = Connection::open(path).unwrap();
    if wal {
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)).unwrap();
        assert_eq!(mode, "wal");
    }
    conn.execute_batch(
        "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, payload BLOB, score REAL, grp INTEGER);
         CREATE INDEX items_grp ON items(grp);
         CREATE TABLE \"odd \"\"name\" (k TEXT PRIMARY KEY, v) WITHOUT ROWID;
         CREATE TABLE counter (id INTEGER PRIMARY KEY CHECK (id = 1), total INTEGER NOT NULL);
         INSERT INTO counter VALUES (1, 0);",
    )
    .unwrap();
    insert_rows(&conn, 0, rows);
    conn
}

pub fn insert_rows(conn: &Connection, from: i64, n: i64) {
    conn.execute_batch("BEGIN").unwrap();
    {
        let mut ins = conn
            .prepare("INSERT INTO items (id, name, payload, score, grp) VALUES (?1, ?2, ?3, ?4, ?5)")
            .unwrap();
        let mut odd = conn.prepare("INSERT INTO \"odd \"\"name\" VALUES (?1, ?2)").unwrap();
        for i in from..from + n {
            let payload: Vec<u8> = (0..(i % 300) as usize).map(|j| (i as usize * 31 + j) as u8).collect();
            let name = format!("item {i} {}", "x".repeat((i % 40) as usize));
            let score = if i % 7 == 0 { None } else { Some(i as f64 / 3.0) };
            ins.execute(rusqlite::params![i, name, payload, score, i % 13]).unwrap();
            if i % 5 == 0 {
                odd.execute(rusqlite::params![format!("k{i}"), i * 2]).unwrap();
            }
        }
    }
    conn.execute("UPDATE counter SET total = total + ?1", [n]).unwrap();
    conn.execute_batch("COMMIT").unwrap();
}

/// The invariant every committed state satisfies: the counter equals the number of items.
pub fn consistent(conn: &Connection) -> (i64, i64) {
    let items: i64 = conn.query_row("SELECT count(*) FROM items", [], |r| r.get(0)).unwrap();
    let total: i64 = conn.query_row("SELECT total FROM counter", [], |r| r.get(0)).unwrap();
    (items, total)
}

/// Names of everything in a directory, sorted.
pub fn dir_entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    };
    v.sort();
    v
}
