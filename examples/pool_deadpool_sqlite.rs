//! A pooled async app on deadpool-sqlite: the first connection out of the pool migrates the database through
//! `interact` (blocking work on a thread of its own, off the executor) before the app hands the pool to anything
//! that serves. Connections the pool opens later see the new schema (SQLite re-reads it when it changes).
//!
//! ```text
//! cargo run --example pool_deadpool_sqlite -- /tmp/pool.db
//! ```
//!
//! `cargo test --example pool_deadpool_sqlite` (and `cargo test -p litemigrate`) runs the test at the bottom.

use deadpool_sqlite::{Config, Pool, Runtime};
use std::error::Error;

static MIGRATIONS: litemigrate::Migrations = litemigrate::embed_migrations!("examples/todo/migrations");

type BoxError = Box<dyn Error + Send + Sync>;

/// Builds the pool and migrates through it; only then is the pool returned to serve. Also returns the report.
async fn open_pool(path: &std::path::Path) -> Result<(Pool, String), BoxError> {
    let pool = Config::new(path).create_pool(Runtime::Tokio1)?;
    let conn = pool.get().await?;
    // `interact` errors when the closure panicked or was aborted; the migration's own error is the inner Result.
    let report = conn
        .interact(|c| MIGRATIONS.migrate(c).map(|r| r.to_string()).map_err(BoxError::from))
        .await
        .map_err(|e| e.to_string())??;
    Ok((pool, report))
}

/// What a request does: an insert and a count on whichever pooled connection it gets.
async fn serve(pool: &Pool, title: &'static str) -> Result<i64, BoxError> {
    let conn = pool.get().await?;
    let n = conn
        .interact(move |c| {
            c.execute("INSERT INTO todos (title) VALUES (?1)", [title])?;
            c.query_row("SELECT count(*) FROM todos", [], |r| r.get::<_, i64>(0))
        })
        .await
        .map_err(|e| e.to_string())??;
    Ok(n)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), BoxError> {
    let path = std::env::args().nth(1).unwrap_or_else(|| "pool.db".to_owned());
    let (pool, report) = open_pool(path.as_ref()).await?;
    println!("{path}: {report}");
    println!("{} todo(s)", serve(&pool, "from the pool").await?);
    Ok(())
}

#[cfg(test)]
mod tests {
    #[tokio::test(flavor = "current_thread")]
    async fn migrates_once_before_the_pool_serves() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("app.db");
        let (pool, report) = super::open_pool(&db).await.unwrap();
        assert!(report.contains("migrated from version 0 to 3"), "{report}");
        // Two connections checked out at once: the second is a fresh one, and it sees the migrated schema too.
        let first = pool.get().await.unwrap();
        assert_eq!(super::serve(&pool, "a").await.unwrap(), 1);
        drop(first);
        assert_eq!(super::serve(&pool, "b").await.unwrap(), 2);
        drop(pool);
        // The next launch finds nothing pending.
        let (_pool, report) = super::open_pool(&db).await.unwrap();
        assert!(report.contains("up to date at version 3"), "{report}");
    }
}
