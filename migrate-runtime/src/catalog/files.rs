//! The catalog's files: opening a database of the data directory, the checks made on it before a run, the
//! catalog lock, and the errors that name a file.

use super::CatalogError;
use crate::error::Error;
use rusqlite::{Connection, OpenFlags};
use std::fmt;
use std::fs;
use std::path::Path;
use std::time::Duration;

pub(super) fn data_version(conn: Option<&Connection>) -> Option<i64> {
    conn.and_then(|c| crate::migrator::data_version(c).ok())
}

pub(super) fn closed(database: &str, path: &Path) -> CatalogError {
    CatalogError::Io {
        path: path.to_path_buf(),
        message: format!("database `{database}`: the catalog closed this connection"),
    }
}

pub(super) fn open(database: &str, path: &Path, flags: OpenFlags, busy: Duration) -> Result<Connection, CatalogError> {
    let conn = Connection::open_with_flags(path, flags | OpenFlags::SQLITE_OPEN_NO_MUTEX).map_err(|source| {
        CatalogError::Open {
            database: database.to_owned(),
            file: path.to_path_buf(),
            source,
        }
    })?;
    conn.busy_timeout(busy).map_err(|source| CatalogError::Open {
        database: database.to_owned(),
        file: path.to_path_buf(),
        source,
    })?;
    Ok(conn)
}

/// A file with tables of its own but no history table would have its first migration run over them.
pub(super) fn needs_no_baseline(database: &str, path: &Path, conn: &Connection) -> Result<(), CatalogError> {
    let (tables, history): (bool, bool) = conn
        .query_row(
            "SELECT EXISTS(SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'),
                    EXISTS(SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?1)",
            [crate::history::DEFAULT_TABLE],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .map_err(|source| CatalogError::Open {
            database: database.to_owned(),
            file: path.to_path_buf(),
            source,
        })?;
    if tables && !history {
        return Err(CatalogError::NeedsBaseline {
            database: database.to_owned(),
            file: path.to_path_buf(),
        });
    }
    Ok(())
}

pub(super) fn db_err(database: &str, path: &Path, e: Error) -> CatalogError {
    CatalogError::Database {
        database: database.to_owned(),
        file: path.to_path_buf(),
        source: Box::new(e),
    }
}

pub(super) fn io_err(path: &Path, e: impl fmt::Display) -> CatalogError {
    CatalogError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// The catalog's lock: an OS advisory lock on `<data dir>/.litemigrate-catalog.lock`, held from the first read of
/// the files to the end of the run, so two processes launching at once run every migration once (the second one
/// finds the work done). Never deleted (deleting a lock file races with its users).
pub(super) struct CatalogLock(fs::File);

impl CatalogLock {
    pub(super) fn acquire(dir: &Path) -> Result<CatalogLock, CatalogError> {
        let path = dir.join(".litemigrate-catalog.lock");
        let f = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| io_err(&path, e))?;
        f.lock().map_err(|e| io_err(&path, e))?;
        Ok(CatalogLock(f))
    }
}

impl Drop for CatalogLock {
    fn drop(&mut self) {
        // Closing the file releases the lock too; unlocking first just makes it immediate.
        let _ = self.0.unlock();
    }
}
