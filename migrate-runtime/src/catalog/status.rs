//! Where every database of a catalog stands, read-only (nothing is created), human and JSON.

use super::files::{needs_no_baseline, open};
use super::{CatalogError, Databases};
use crate::status::Status;
use rusqlite::OpenFlags;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The status of every database, in catalog order. `Display` draws one line per database; `serde_json` gives the
/// whole of each set's [`Status`] (entries with `applied_at`: the history across all files).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct CatalogStatus {
    /// One entry per database.
    pub databases: Vec<DatabaseStatus>,
}

/// Where one database stands.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct DatabaseStatus {
    /// The database.
    pub database: String,
    /// Its file.
    pub file: PathBuf,
    /// Whether the file exists (a missing one is created by the next `migrate_all`).
    pub exists: bool,
    /// Whether the application only reads it.
    pub read_only: bool,
    /// The set's status; `None` when the file does not exist.
    pub status: Option<Status>,
    /// The newest embedded version.
    pub latest_version: u64,
}

impl DatabaseStatus {
    /// The newest applied version (0 for a missing file).
    pub fn current_version(&self) -> u64 {
        self.status.as_ref().map_or(0, |s| s.current_version)
    }

    /// Whether nothing is pending and nothing is wrong (a missing file with no migrations counts as up to date).
    pub fn is_up_to_date(&self) -> bool {
        match &self.status {
            Some(s) => s.is_up_to_date(),
            None => self.latest_version == 0,
        }
    }
}

impl CatalogStatus {
    /// Whether every database is up to date.
    pub fn is_up_to_date(&self) -> bool {
        self.databases.iter().all(DatabaseStatus::is_up_to_date)
    }
}

impl fmt::Display for CatalogStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let w = self.databases.iter().map(|d| d.database.len()).max().unwrap_or(0);
        for d in &self.databases {
            let state = match &d.status {
                None => format!("missing (created at the next launch, to version {})", d.latest_version),
                Some(s) if s.is_up_to_date() => format!("up to date at version {}", s.current_version),
                Some(s) => {
                    let pending = s.pending().count();
                    let other = s.entries.len()
                        - pending
                        - s.entries
                            .iter()
                            .filter(|e| {
                                matches!(e.state, crate::status::State::Applied | crate::status::State::Baseline)
                            })
                            .count();
                    let mut text = format!(
                        "version {} of {}, {pending} pending",
                        s.current_version, d.latest_version
                    );
                    if other > 0 {
                        text.push_str(&format!(", {other} need attention (see `--database {}`)", d.database));
                    }
                    text
                }
            };
            let ro = if d.read_only { " (read-only)" } else { "" };
            writeln!(f, "{:<w$}  {}{ro}  {state}", d.database, d.file.display())?;
        }
        Ok(())
    }
}

impl Databases {
    /// Where every database stands in `data_dir` (read-only; creates nothing). A file with tables but no history
    /// is an error saying to baseline it.
    ///
    /// ```no_run
    /// # static DATABASES: litemigrate_runtime::catalog::Databases = litemigrate_runtime::catalog::Databases::empty();
    /// let status = DATABASES.status_all("data").unwrap();
    /// println!("{status}");
    /// println!("{}", serde_json::to_string(&status).unwrap());
    /// ```
    pub fn status_all(&self, data_dir: impl AsRef<Path>) -> Result<CatalogStatus, CatalogError> {
        let dir = data_dir.as_ref();
        let mut databases = Vec::with_capacity(self.databases().len());
        for d in self.databases() {
            let path = d.path_in(dir);
            let exists = path.exists();
            let status = if exists {
                let conn = open(
                    d.name(),
                    &path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY,
                    Duration::from_secs(5),
                )?;
                needs_no_baseline(d.name(), &path, &conn)?;
                Some(d.migrations().status(&conn).map_err(|e| CatalogError::Database {
                    database: d.name().to_owned(),
                    file: path.clone(),
                    source: Box::new(e),
                })?)
            } else {
                None
            };
            databases.push(DatabaseStatus {
                database: d.name().to_owned(),
                file: path,
                exists,
                read_only: d.read_only(),
                status,
                latest_version: d.migrations().latest_version(),
            });
        }
        Ok(CatalogStatus { databases })
    }
}
