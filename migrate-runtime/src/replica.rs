//! Replicated SQLite (LiteFS): telling a replica from the primary, and waiting on a replica until the primary has
//! migrated.
//!
//! LiteFS lets only the node holding the lease write; on every other node the mount directory (the database's
//! directory) holds a file named `.primary` whose content is the primary's host name, and writes fail. The migrator
//! looks for that file only once it knows there is work to do, so the launch check of a current database (on a
//! primary or a replica) stays one `PRAGMA user_version` read; with migrations pending on a replica it refuses with
//! [`Error::Replica`] before taking a backup or a lock. An application instance that starts on a replica calls
//! [`Migrator::wait`] instead of [`Migrator::run`]: it polls the same launch check until the replicated file carries
//! the embedded set's stamp.

use crate::error::Error;
use crate::history::Newest;
use crate::migrator::Migrator;
use rusqlite::Connection;
use std::path::Path;
use std::time::{Duration, Instant};

/// The file LiteFS puts in the mount directory of a replica.
pub const PRIMARY_FILE: &str = ".primary";

/// The primary's host when `db` is a LiteFS replica (a `.primary` file in its directory), `None` on the primary or
/// on a plain file system. An unreadable `.primary` counts as a replica whose primary is unknown: writing there
/// would fail or, worse, fork the cluster's history.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let db = dir.path().join("app.db");
/// assert_eq!(litemigrate_runtime::replica::primary_of(&db), None);
/// std::fs::write(dir.path().join(".primary"), "node-a.internal\n").unwrap();
/// assert_eq!(litemigrate_runtime::replica::primary_of(&db).as_deref(), Some("node-a.internal"));
/// ```
pub fn primary_of(db: &Path) -> Option<String> {
    let dir = match db.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let marker = dir.join(PRIMARY_FILE);
    match std::fs::read(&marker) {
        Ok(bytes) => {
            let host = String::from_utf8_lossy(&bytes).trim().to_owned();
            Some(if host.is_empty() { "unknown".to_owned() } else { host })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(_) if marker.exists() => Some("unknown (.primary is unreadable)".to_owned()),
        Err(_) => None,
    }
}

/// [`Error::Replica`] when the connection's file is a replica; called by the migrator only when there is work.
pub(crate) fn refuse_on_replica(conn: &Connection) -> Result<(), Error> {
    let Some(path) = crate::backup::db_file(conn) else {
        return Ok(());
    };
    match primary_of(&path) {
        Some(primary) => Err(Error::Replica { primary, path }),
        None => Ok(()),
    }
}

/// How often [`Migrator::wait`] polls unless told otherwise.
pub const DEFAULT_POLL: Duration = Duration::from_millis(100);

impl Migrator<'_> {
    /// Blocks until the database is at the migrator's target with the embedded chain (the launch check of
    /// [`Migrator::run`], polled every `poll`), and returns that version; writes nothing. For application
    /// instances on a read-only replica (LiteFS) whose primary runs the migrations: start serving once the
    /// replicated file has caught up. Fails with [`Error::WaitTimeout`] (naming the version it saw) after
    /// `timeout`, and at once with the launch check's error if the database cannot be read. It waits for exactly
    /// this set: a database a newer release already migrated further never matches, and the wait times out.
    ///
    /// ```no_run
    /// # static MIGRATIONS: litemigrate_runtime::Migrations = litemigrate_runtime::Migrations::empty();
    /// use std::time::Duration;
    /// let conn = rusqlite::Connection::open("/litefs/app.db").unwrap();
    /// if litemigrate_runtime::replica::primary_of("/litefs/app.db".as_ref()).is_some() {
    ///     MIGRATIONS.migrator().wait(&conn, Duration::from_secs(60), Duration::from_millis(100)).unwrap();
    /// }
    /// ```
    pub fn wait(&self, conn: &Connection, timeout: Duration, poll: Duration) -> Result<u64, Error> {
        let table = self.table()?;
        let target = self.resolved_target()?;
        let start = Instant::now();
        loop {
            if let Some(v) = self.fast_check(conn, &table, target)? {
                return Ok(v);
            }
            let waited = start.elapsed();
            if waited >= timeout {
                let current = match table.newest(conn, self.set_name())? {
                    Newest::Row(v, _) => u64::try_from(v).unwrap_or(0),
                    _ => 0,
                };
                return Err(Error::WaitTimeout {
                    target,
                    current,
                    waited,
                });
            }
            std::thread::sleep(poll.min(timeout - waited));
        }
    }
}
