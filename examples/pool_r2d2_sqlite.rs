//! A pooled (threaded) app on r2d2_sqlite: the first connection out of the pool migrates the database before the
//! pool is handed to the threads that serve. A pooled connection dereferences (mutably) to `rusqlite::Connection`,
//! so `migrate(&mut conn)` takes it as it is.
//!
//! ```text
//! cargo run --example pool_r2d2_sqlite -- /tmp/r2d2.db
//! ```
//!
//! `cargo test --example pool_r2d2_sqlite` (and `cargo test -p litemigrate`) runs the test at the bottom.

use r2d2_sqlite::SqliteConnectionManager;
use std::error::Error;

static MIGRATIONS: litemigrate::Migrations = litemigrate::embed_migrations!("examples/todo/migrations");

type Pool = r2d2::Pool<SqliteConnectionManager>;

/// Builds the pool and migrates through it; only then is the pool returned to serve. Also returns the report.
fn open_pool(path: &std::path::Path) -> Result<(Pool, String), Box<dyn Error>> {
    let pool = r2d2::Pool::builder()
        .max_size(4)
        .build(SqliteConnectionManager::file(path))?;
    let mut conn = pool.get()?;
    let report = MIGRATIONS.migrate(&mut conn)?.to_string();
    Ok((pool, report))
}

fn main() -> Result<(), Box<dyn Error>> {
    let path = std::env::args().nth(1).unwrap_or_else(|| "r2d2.db".to_owned());
    let (pool, report) = open_pool(path.as_ref())?;
    println!("{path}: {report}");
    // Serving: worker threads share the pool.
    let workers: Vec<_> = (0..4)
        .map(|i| {
            let pool = pool.clone();
            std::thread::spawn(move || -> rusqlite::Result<usize> {
                // invariant: the pool was just built and checked out a connection; a timeout here is a broken host
                let conn = pool.get().expect("a pooled connection");
                conn.execute("INSERT INTO todos (title) VALUES (?1)", [format!("worker {i}")])
            })
        })
        .collect();
    for w in workers {
        w.join().map_err(|_| "a worker panicked")??;
    }
    let n: i64 = pool.get()?.query_row("SELECT count(*) FROM todos", [], |r| r.get(0))?;
    println!("{n} todo(s)");
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn migrates_once_before_the_pool_serves() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("app.db");
        let (pool, report) = super::open_pool(&db).unwrap();
        assert!(report.contains("migrated from version 0 to 3"), "{report}");
        // Connections checked out side by side (each its own SQLite connection) all see the migrated schema.
        let conns: Vec<_> = (0..4).map(|_| pool.get().unwrap()).collect();
        for (i, c) in conns.iter().enumerate() {
            c.execute("INSERT INTO todos (title) VALUES (?1)", [format!("t{i}")])
                .unwrap();
        }
        drop(conns);
        drop(pool);
        let (pool, report) = super::open_pool(&db).unwrap();
        assert!(report.contains("up to date at version 3"), "{report}");
        let n: i64 = pool
            .get()
            .unwrap()
            .query_row("SELECT count(*) FROM todos", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 4);
    }
}
