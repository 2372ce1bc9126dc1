//! Lazy mode for apps that open tenants on demand: one r2d2 pool per tenant database, created the first time the
//! tenant is used, and every connection the pool opens runs `MIGRATIONS.migrate` in r2d2's
//! `CustomizeConnection::on_acquire` hook. A tenant last touched by an older release is migrated by its first
//! connection; every later connection pays the launch check only (one `PRAGMA user_version` read, nothing written),
//! which is what makes migrating on every new connection affordable. Tenants nobody opens are never touched, so a
//! deploy does not wait for a fleet run (`migrate fleet` can still catch up the idle ones in the background).
//!
//! ```text
//! cargo run --example pool_lazy_tenants -- /tmp/tenants acme globex
//! ```
//!
//! `cargo test --example pool_lazy_tenants` (and `cargo test -p litemigrate`) runs the tests at the bottom.

use r2d2::CustomizeConnection;
use r2d2_sqlite::SqliteConnectionManager;
use std::collections::HashMap;
use std::error::Error;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

static MIGRATIONS: litemigrate::Migrations = litemigrate::embed_migrations!("examples/todo/migrations");

type Pool = r2d2::Pool<SqliteConnectionManager>;

/// The hook: migrate every connection the pool opens. Counts the runs that applied something, for the tests.
#[derive(Debug, Default)]
struct MigrateOnAcquire {
    migrated: Arc<AtomicUsize>,
}

impl CustomizeConnection<rusqlite::Connection, rusqlite::Error> for MigrateOnAcquire {
    fn on_acquire(&self, conn: &mut rusqlite::Connection) -> Result<(), rusqlite::Error> {
        // Tenant databases are small and numerous: no pre-migrate backup each (choose per app; the default is on).
        let report = MIGRATIONS
            .migrator()
            .backup(litemigrate::backup::BackupPolicy::Off)
            .run(conn)
            // r2d2's manager speaks rusqlite::Error; keep the migration's message (kind and file) in it.
            .map_err(|e| {
                rusqlite::Error::SqliteFailure(
                    rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ERROR),
                    Some(format!("migrating on first open: {e}")),
                )
            })?;
        if !report.applied.is_empty() {
            self.migrated.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }
}

/// Pools by tenant, opened on first use.
struct Tenants {
    dir: PathBuf,
    pools: Mutex<HashMap<String, Pool>>,
    migrated: Arc<AtomicUsize>,
}

impl Tenants {
    fn new(dir: impl Into<PathBuf>) -> Tenants {
        Tenants {
            dir: dir.into(),
            pools: Mutex::new(HashMap::new()),
            migrated: Arc::default(),
        }
    }

    /// The tenant's pool; the first call opens (and, through the hook, migrates) its database.
    fn pool(&self, tenant: &str) -> Result<Pool, Box<dyn Error>> {
        let mut pools = self
            .pools
            .lock()
            .map_err(|_| "a thread panicked while holding the tenant map")?;
        if let Some(p) = pools.get(tenant) {
            return Ok(p.clone());
        }
        let manager = SqliteConnectionManager::file(self.dir.join(format!("{tenant}.db")));
        let pool = r2d2::Pool::builder()
            .max_size(4)
            // Open lazily: no connection (and no migration) until a request needs one.
            .min_idle(Some(0))
            .connection_customizer(Box::new(MigrateOnAcquire {
                migrated: Arc::clone(&self.migrated),
            }))
            .build(manager)?;
        pools.insert(tenant.to_owned(), pool.clone());
        Ok(pool)
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let dir = args.next().unwrap_or_else(|| "tenants".to_owned());
    std::fs::create_dir_all(&dir)?;
    let tenants = Tenants::new(&dir);
    for t in args {
        let conn = tenants.pool(&t)?.get()?;
        conn.execute("INSERT INTO todos (title) VALUES (?1)", [format!("hello from {t}")])?;
        let n: i64 = conn.query_row("SELECT count(*) FROM todos", [], |r| r.get(0))?;
        println!("{t}: {n} todo(s)");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use litemigrate::Target;

    fn version(path: &std::path::Path) -> u64 {
        let conn = rusqlite::Connection::open(path).unwrap();
        MIGRATIONS.status(&conn).unwrap().current_version
    }

    #[test]
    fn a_tenant_is_migrated_by_its_first_connection_and_later_ones_write_nothing() {
        let dir = tempfile::tempdir().unwrap();
        // `old` was last opened by a release that had the first migration only; `idle` is never opened.
        for (name, v) in [("old", 1), ("idle", 1)] {
            let mut conn = rusqlite::Connection::open(dir.path().join(format!("{name}.db"))).unwrap();
            MIGRATIONS.migrator().target(Target::Version(v)).run(&mut conn).unwrap();
        }
        let idle_before = std::fs::read(dir.path().join("idle.db")).unwrap();
        let tenants = Tenants::new(dir.path());

        let pool = tenants.pool("old").unwrap();
        let conn = pool.get().unwrap();
        assert_eq!(version(&dir.path().join("old.db")), 3);
        conn.execute("INSERT INTO todos (title) VALUES ('x')", []).unwrap();
        assert_eq!(tenants.migrated.load(Ordering::Relaxed), 1);

        // More connections side by side: each one runs the hook, none applies anything or writes the file.
        let file_before = std::fs::read(dir.path().join("old.db")).unwrap();
        drop(conn);
        let more: Vec<_> = (0..4).map(|_| pool.get().unwrap()).collect();
        assert_eq!(pool.state().connections, 4);
        assert_eq!(tenants.migrated.load(Ordering::Relaxed), 1);
        assert_eq!(std::fs::read(dir.path().join("old.db")).unwrap(), file_before);
        drop(more);

        // A tenant that did not exist is created at the latest version on first use.
        let fresh = tenants.pool("fresh").unwrap();
        let n: i64 = fresh
            .get()
            .unwrap()
            .query_row("SELECT count(*) FROM todos", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 0);
        assert_eq!(version(&dir.path().join("fresh.db")), 3);
        assert_eq!(tenants.migrated.load(Ordering::Relaxed), 2);

        // Nobody asked for `idle`: not opened, not migrated.
        assert_eq!(std::fs::read(dir.path().join("idle.db")).unwrap(), idle_before);
    }

    #[test]
    fn a_failing_migration_keeps_the_pool_from_handing_out_the_connection() {
        let dir = tempfile::tempdir().unwrap();
        // A table the second migration creates already exists: migrating this tenant fails.
        let mut conn = rusqlite::Connection::open(dir.path().join("broken.db")).unwrap();
        MIGRATIONS.migrator().target(Target::Version(1)).run(&mut conn).unwrap();
        conn.execute_batch(&std::fs::read_to_string("examples/todo/migrations/0002_add_tags.up.sql").unwrap())
            .unwrap();
        drop(conn);
        let pool = r2d2::Pool::builder()
            .max_size(1)
            .connection_timeout(std::time::Duration::from_millis(300))
            .connection_customizer(Box::new(MigrateOnAcquire::default()))
            .build_unchecked(SqliteConnectionManager::file(dir.path().join("broken.db")));
        let err = pool.get().unwrap_err().to_string();
        assert!(
            err.contains("migrating on first open") && err.contains("0002_add_tags"),
            "{err}"
        );
        assert_eq!(version(&dir.path().join("broken.db")), 1);
    }
}
