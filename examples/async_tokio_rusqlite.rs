//! An async app on tokio-rusqlite: the migrations run once, on the connection's own thread through `call`, before
//! the app serves anything. `migrate()` is blocking work (file I/O, a backup, SQLite), which is exactly what `call`
//! is for: it never runs on the async executor's threads.
//!
//! ```text
//! cargo run --example async_tokio_rusqlite -- /tmp/async.db
//! ```
//!
//! `cargo test --example async_tokio_rusqlite` (and `cargo test -p litemigrate`) runs the test at the bottom.

use std::error::Error;

static MIGRATIONS: litemigrate::Migrations = litemigrate::embed_migrations!("examples/todo/migrations");

/// Opens the database, migrates it, then serves (here: one insert and one count). Returns the migration report and
/// the number of todos.
async fn run(path: &std::path::Path) -> Result<(String, i64), Box<dyn Error + Send + Sync>> {
    let conn = tokio_rusqlite::Connection::open(path).await?;
    // The one place the schema changes: before any request can reach the connection.
    // Boxed: `litemigrate::Error` is large, and `call` moves the result across a channel.
    let report = conn
        .call(|c| MIGRATIONS.migrate(c).map(|r| r.to_string()).map_err(Box::new))
        .await?;
    println!("{}: {report}", path.display());

    // Serving: every later call sees the current schema.
    conn.call(|c| c.execute("INSERT INTO todos (title) VALUES (?1)", ["from an async task"]))
        .await?;
    let n = conn
        .call(|c| c.query_row("SELECT count(*) FROM todos", [], |r| r.get::<_, i64>(0)))
        .await?;
    Ok((report, n))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn Error + Send + Sync>> {
    let path = std::env::args().nth(1).unwrap_or_else(|| "async.db".to_owned());
    let (_, n) = run(path.as_ref()).await?;
    println!("{n} todo(s)");
    Ok(())
}

#[cfg(test)]
mod tests {
    #[tokio::test(flavor = "current_thread")]
    async fn migrates_once_before_serving() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("app.db");
        let (report, n) = super::run(&db).await.unwrap();
        assert!(report.contains("migrated from version 0 to 3"), "{report}");
        assert_eq!(n, 1);
        // A second launch finds nothing pending and keeps the data.
        let (report, n) = super::run(&db).await.unwrap();
        assert!(report.contains("up to date at version 3"), "{report}");
        assert_eq!(n, 2);
    }
}
