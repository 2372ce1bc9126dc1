//! What a fleet run reports: one [`FileResult`] per database, streamed as each finishes, and a [`Summary`] at the end.

use crate::backup::BackupInfo;
use crate::error::{Error, ErrorKind};
use std::path::PathBuf;
use std::time::Duration;

/// What happened to one database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileStatus {
    /// At the target now: migrated by this run, or already current (one launch check).
    Done,
    /// The run failed; the database stays at its previous version (its transaction rolled back). `error` says why.
    Failed,
    /// Not written: the runner stopped before reaching it (canary or first-failure policy), or it is a read-only
    /// replica whose primary migrates it (`error` is then [`ErrorKind::Replica`]).
    Skipped,
}

impl FileStatus {
    /// The status's name in the journal and the JSON lines: `done`, `failed`, `skipped`.
    pub const fn as_str(self) -> &'static str {
        match self {
            FileStatus::Done => "done",
            FileStatus::Failed => "failed",
            FileStatus::Skipped => "skipped",
        }
    }
}

/// Why a file was skipped without being opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// A canary failed: nothing outside the canary is touched.
    CanaryFailed,
    /// A file failed under [`FailPolicy::Stop`](super::FailPolicy::Stop).
    StoppedAfterFailure,
    /// The database is a LiteFS replica (`.primary` beside it); its primary migrates it.
    Replica,
}

/// One database's result.
#[derive(Debug)]
pub struct FileResult {
    /// The database file.
    pub path: PathBuf,
    /// Done, failed or skipped.
    pub status: FileStatus,
    /// Why it was skipped, when it was.
    pub skipped: Option<SkipReason>,
    /// Whether it was one of the canaries.
    pub canary: bool,
    /// The version before the run (`None` when the file was not read, or could not be).
    pub from_version: Option<u64>,
    /// The version after the run (`None` when the file was not read, or could not be).
    pub to_version: Option<u64>,
    /// Migration steps this run applied to it (0: it was current, or nothing committed).
    pub applied: usize,
    /// Wall time spent on this file (open, check, backup, migration).
    pub duration: Duration,
    /// The backup taken before its first write, if any.
    pub backup: Option<BackupInfo>,
    /// Why it failed (or, for a replica, whose primary it is).
    pub error: Option<Error>,
}

impl FileResult {
    pub(crate) fn skipped(path: PathBuf, reason: SkipReason, canary: bool) -> FileResult {
        FileResult {
            skipped: Some(reason),
            ..FileResult::new(path, FileStatus::Skipped, canary)
        }
    }

    /// A result with nothing read or done yet.
    pub(crate) fn new(path: PathBuf, status: FileStatus, canary: bool) -> FileResult {
        FileResult {
            path,
            status,
            skipped: None,
            canary,
            from_version: None,
            to_version: None,
            applied: 0,
            duration: Duration::ZERO,
            backup: None,
            error: None,
        }
    }

    /// The error's stable kind name, when there is an error.
    pub fn error_kind(&self) -> Option<ErrorKind> {
        self.error.as_ref().map(Error::kind)
    }

    /// The result as one JSON object: what the journal stores and `migrate fleet --json` prints per file. A path
    /// that is not UTF-8 is written lossily (U+FFFD for what does not decode).
    pub fn to_json(&self) -> serde_json::Value {
        // `Line` writes only strings, numbers, booleans, nulls and string-keyed maps, which always convert: the
        // fallback is never taken.
        serde_json::to_value(Line {
            event: None,
            result: self,
        })
        .unwrap_or(serde_json::Value::Null)
    }
}

/// A result's JSON object, written field by field: the journal writes one per database, straight into its buffer
/// without building a [`serde_json::Value`] first, and [`FileResult::to_json`] is the same fields as a value.
pub(crate) struct Line<'a> {
    /// The journal's `event` field, first in its lines.
    pub(crate) event: Option<&'static str>,
    pub(crate) result: &'a FileResult,
}

impl serde::Serialize for Line<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let r = self.result;
        let mut m = s.serialize_map(None)?;
        if let Some(event) = self.event {
            m.serialize_entry("event", event)?;
        }
        m.serialize_entry("path", &r.path.to_string_lossy())?;
        m.serialize_entry("status", &r.status)?;
        m.serialize_entry("skipped", &r.skipped)?;
        m.serialize_entry("canary", &r.canary)?;
        m.serialize_entry("from_version", &r.from_version)?;
        m.serialize_entry("to_version", &r.to_version)?;
        m.serialize_entry("applied", &r.applied)?;
        m.serialize_entry(
            "duration_us",
            &u64::try_from(r.duration.as_micros()).unwrap_or(u64::MAX),
        )?;
        m.serialize_entry("backup", &r.backup.as_ref().map(|b| b.path.to_string_lossy()))?;
        m.serialize_entry("error", &r.error.as_ref().map(ErrorLine))?;
        m.end()
    }
}

/// An error in a result's JSON object: kind, message, the migration it is about.
struct ErrorLine<'a>(&'a Error);

impl serde::Serialize for ErrorLine<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(3))?;
        m.serialize_entry("kind", &self.0.kind())?;
        m.serialize_entry("message", &self.0.to_string())?;
        m.serialize_entry("migration", &self.0.migration())?;
        m.end()
    }
}

/// Why a run stopped before reaching every file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stopped {
    /// A canary failed.
    CanaryFailed,
    /// A file failed under [`FailPolicy::Stop`](super::FailPolicy::Stop).
    FirstFailure,
}

/// Counts over the whole run.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    /// Files seen.
    pub files: u64,
    /// Files done (migrated + current).
    pub done: u64,
    /// Of those, files this run migrated.
    pub migrated: u64,
    /// Of those, files that were already current.
    pub current: u64,
    /// Files that failed.
    pub failed: u64,
    /// Files skipped (stopped before them, or replicas).
    pub skipped: u64,
    /// Why the run stopped early, if it did.
    pub stopped: Option<Stopped>,
    /// Wall time of the run, in milliseconds.
    pub elapsed_ms: u64,
}

impl Summary {
    /// Whether every file is done or a replica (nothing failed, nothing was left out by a stop).
    pub fn is_ok(&self) -> bool {
        self.failed == 0 && self.stopped.is_none()
    }

    pub(crate) fn count(&mut self, r: &FileResult) {
        self.files += 1;
        match r.status {
            FileStatus::Done if r.applied > 0 => {
                self.done += 1;
                self.migrated += 1;
            }
            FileStatus::Done => {
                self.done += 1;
                self.current += 1;
            }
            FileStatus::Failed => self.failed += 1,
            FileStatus::Skipped => self.skipped += 1,
        }
    }
}
