//! What the runtime benchmarks share: the migration set, and each tool's launch check and apply, on the same files.
#![allow(dead_code)]

use litemigrate_core::load::{Entry, SourceFile, load_files};
use litemigrate_runtime::{Migrations, Mode};
use rusqlite::Connection;
use std::path::Path;

/// `n` small migrations, each a table with an index and one row: a realistic schema that grows with the count.
pub fn sqls(n: usize) -> Vec<String> {
    (1..=n)
        .map(|i| {
            format!(
                "CREATE TABLE t{i}(id INTEGER PRIMARY KEY, name TEXT NOT NULL, created TEXT);\n\
                 CREATE INDEX t{i}_name ON t{i}(name);\n\
                 INSERT INTO t{i}(name, created) VALUES ('row {i}', '2026-01-01');\n"
            )
        })
        .collect()
}

pub fn ours(sqls: &[String]) -> Migrations {
    let files = sqls
        .iter()
        .enumerate()
        .map(|(i, sql)| SourceFile {
            file_name: format!("{:05}_m{}.sql", i + 1, i + 1),
            display: format!("migrations/{:05}_m{}.sql", i + 1, i + 1),
            contents: Entry::File(sql.clone().into_bytes()),
        })
        .collect();
    Migrations::from_sources("default", load_files(files).unwrap())
}

pub fn rm<'a>(sqls: &'a [String]) -> rusqlite_migration::Migrations<'a> {
    rusqlite_migration::Migrations::new(sqls.iter().map(|s| rusqlite_migration::M::up(s)).collect())
}

pub fn refinery(sqls: &[String]) -> refinery::Runner {
    let ms: Vec<refinery::Migration> = sqls
        .iter()
        .enumerate()
        .map(|(i, s)| refinery::Migration::unapplied(&format!("V{}__m{}", i + 1, i + 1), s).unwrap())
        .collect();
    refinery::Runner::new(&ms)
}

/// Applies with our runtime in a mode.
pub fn apply_ours(m: &Migrations, path: &Path, mode: Mode) {
    let mut conn = Connection::open(path).unwrap();
    let r = m.migrator().mode(mode).run(&mut conn).unwrap();
    assert_eq!(r.applied.len(), m.len());
}

/// The floor for batch mode: every script with `execute_batch` in one transaction, no bookkeeping.
pub fn apply_raw_batch(sqls: &[String], path: &Path) {
    let mut conn = Connection::open(path).unwrap();
    let tx = conn.transaction().unwrap();
    for s in sqls {
        tx.execute_batch(s).unwrap();
    }
    tx.commit().unwrap();
}

/// The floor for per-migration mode: one transaction per script, no bookkeeping.
pub fn apply_raw_each(sqls: &[String], path: &Path) {
    let mut conn = Connection::open(path).unwrap();
    for s in sqls {
        let tx = conn.transaction().unwrap();
        tx.execute_batch(s).unwrap();
        tx.commit().unwrap();
    }
}

pub fn apply_rm(sqls: &[String], path: &Path) {
    let mut conn = Connection::open(path).unwrap();
    rm(sqls).to_latest(&mut conn).unwrap();
}

pub fn apply_refinery(sqls: &[String], path: &Path) {
    let mut conn = Connection::open(path).unwrap();
    refinery(sqls).run(&mut conn).unwrap();
}

/// A launch of each kind, on a database that is up to date.
pub fn launch_user_version(path: &Path) -> i64 {
    let conn = Connection::open(path).unwrap();
    conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap()
}

pub fn launch_ours(m: &Migrations, path: &Path) {
    let mut conn = Connection::open(path).unwrap();
    let r = m.migrate(&mut conn).unwrap();
    debug_assert!(r.is_noop());
}

pub fn launch_rm(m: &rusqlite_migration::Migrations<'_>, path: &Path) {
    let mut conn = Connection::open(path).unwrap();
    m.to_latest(&mut conn).unwrap();
}

pub fn launch_refinery(r: &refinery::Runner, path: &Path) {
    let mut conn = Connection::open(path).unwrap();
    r.run(&mut conn).unwrap();
}

/// The application's own first statement after opening: SQLite parses the schema here whoever runs first.
pub fn first_app_query(conn: &Connection) -> i64 {
    conn.query_row("SELECT count(*) FROM t1", [], |r| r.get(0)).unwrap()
}

/// The CPU cost alone (no fsync, no file system noise): batch apply to an in-memory database.
pub fn apply_ours_memory(m: &Migrations) {
    let mut conn = Connection::open_in_memory().unwrap();
    let r = m.migrate(&mut conn).unwrap();
    assert_eq!(r.applied.len(), m.len());
}

pub fn apply_raw_batch_memory(sqls: &[String]) {
    let mut conn = Connection::open_in_memory().unwrap();
    let tx = conn.transaction().unwrap();
    for s in sqls {
        tx.execute_batch(s).unwrap();
    }
    tx.commit().unwrap();
}
