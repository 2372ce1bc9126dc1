//! Retention: which old backups to delete. Only backups with a manifest (made by this library) of the same source
//! database are candidates, and never the one just taken.

use super::manifest::{BackupInfo, by_id, id_prefix, list, list_prefixed, sort_newest_first};
use super::{BackupError, fsutil::sync_dir};
use std::fs;
use std::io;
use std::path::Path;
use std::time::Duration;

/// What to keep. A backup is deleted when it is outside the `keep_last` newest **or** older than `max_age`; with both
/// `None` nothing is deleted.
///
/// ```
/// use litemigrate_runtime::backup::Retention;
/// use std::time::Duration;
/// let r = Retention::default();
/// assert_eq!(r.keep_last, None);
/// assert_eq!(r.max_age, Some(Duration::from_secs(30 * 86_400)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Keep at most this many backups of the database (counting the newest).
    pub keep_last: Option<usize>,
    /// Delete backups older than this.
    pub max_age: Option<Duration>,
}

impl Default for Retention {
    /// 30 days, what the tools this library learns from keep.
    fn default() -> Self {
        Retention {
            keep_last: None,
            max_age: Some(Duration::from_secs(30 * 86_400)),
        }
    }
}

impl Retention {
    /// Keeps everything.
    pub const KEEP_ALL: Retention = Retention {
        keep_last: None,
        max_age: None,
    };
}

/// Deletes the backups of the same database as `keep` that `retention` does not keep, never `keep` itself and never a
/// file without a manifest. Returns what was deleted, newest first.
///
/// ```no_run
/// use litemigrate_runtime::backup::{self, BackupOptions, Reason, Retention};
/// # fn main() -> Result<(), litemigrate_runtime::backup::BackupError> {
/// let conn = rusqlite::Connection::open("app.db").unwrap();
/// let opts = BackupOptions::default();
/// if let Some(info) = backup::create(&conn, &opts, Reason::Manual, 1, 1)? {
///     let dir = info.path.parent().unwrap();
///     let gone = backup::apply_retention(dir, &Retention { keep_last: Some(3), max_age: None }, &info.id)?;
///     println!("deleted {} old backups", gone.len());
/// }
/// # Ok(())
/// # }
/// ```
pub fn apply_retention(dir: &Path, retention: &Retention, keep: &str) -> Result<Vec<BackupInfo>, BackupError> {
    let Some(kept) = by_id(dir, keep) else {
        return Err(BackupError::NotFound {
            id: keep.to_owned(),
            dir: dir.to_path_buf(),
        });
    };
    // Only the manifests named like this database's backups are read (a fleet's shared directory holds thousands
    // of other databases'); the source recorded in each is what decides, since `a.db` and `a.b.db` share `a.`.
    // A kept backup not named after its source (renamed by hand) falls back to reading every manifest.
    let prefix = id_prefix(&kept.source);
    let candidates = if kept.id.starts_with(&prefix) {
        list_prefixed(dir, &prefix)?
    } else {
        list(dir)?
    };
    let source = kept.source;
    let mut same: Vec<BackupInfo> = candidates.into_iter().filter(|b| b.source == source).collect();
    sort_newest_first(&mut same);
    let now = crate::clock::Instant::now().as_millis();
    let mut deleted = Vec::new();
    for (i, b) in same.into_iter().enumerate() {
        if b.id == keep {
            continue;
        }
        let too_many = retention.keep_last.is_some_and(|n| i >= n);
        let too_old = match (retention.max_age, b.created_at_millis()) {
            (Some(max), Some(at)) => u128::try_from(now.saturating_sub(at)).unwrap_or(0) > max.as_millis(),
            _ => false,
        };
        if too_many || too_old {
            // The file first: if we stop in between, the manifest still names the (missing) file, so the name stays
            // taken and the leftover is visible, rather than an unmanaged file nothing will ever delete.
            remove(&b.path)?;
            remove(&b.manifest_path())?;
            deleted.push(b);
        }
    }
    if !deleted.is_empty() {
        sync_dir(dir)?;
    }
    Ok(deleted)
}

/// Deletes a backup this process has just taken and found to be of no use (file, then manifest, as retention does).
pub(crate) fn discard(b: &BackupInfo) -> Result<(), BackupError> {
    remove(&b.path)?;
    remove(&b.manifest_path())?;
    sync_dir(b.path.parent().unwrap_or_else(|| Path::new(".")))
}

fn remove(path: &Path) -> Result<(), BackupError> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(BackupError::io("delete", path, e)),
    }
}
