//! The fleet journal: an append-only file of JSON lines, one per event, so an operator (or a rerun) knows which
//! databases were done, failed or skipped.
//!
//! Each run appends a `start` line, one `file` line per database as it finishes, and an `end` line with the summary.
//! `file` lines are written in groups (group commit): the runner writes what it has recorded after each batch of
//! results it hands to the callback (one `write`, so at most every 20 ms, and after each database with one job),
//! and `fsync`s with a group when the last sync is at least [`SYNC_EVERY`] old. The `start` and `end` lines are
//! synced at once. A `kill -9` of the runner loses only the lines of the batch it was handling (what was written
//! survives in the page cache); a power loss, the lines written since the last sync. Neither loses work: a rerun does not need the journal to resume
//! (a migrated database's own transaction committed, and an already current one costs one launch check), and it
//! records every database again, so the journal ends complete. Syncing every line instead doubled the fsyncs of a
//! fleet migration (one for the database, one for its line). A line cut short by a crash is ignored when reading,
//! and the next run starts on a fresh line. [`failed_paths`] gives the files to retry.
//!
//! A database that was already current gets a full `file` line too (status `done`, `applied` 0): the journal says
//! what happened to every file. It costs the caller's thread one JSON line and no `fsync` of its own.

use super::FleetError;
use super::result::{FileResult, FileStatus, Line as FileLine, Summary};
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How often, at most, a group of journal lines is `fsync`ed (a group written later than this after the last sync
/// is synced with it).
pub const SYNC_EVERY: Duration = Duration::from_millis(200);

/// An open journal, appending.
#[derive(Debug)]
pub struct Journal {
    file: File,
    path: PathBuf,
    /// Lines recorded and not yet written.
    pending: Vec<u8>,
    /// Lines written since the last `fsync`.
    unsynced: bool,
    last_sync: Instant,
}

impl Journal {
    /// Opens (creating it if needed) the journal at `path` for appending, and writes the run's `start` line.
    pub fn open(path: &Path) -> Result<Journal, FleetError> {
        let io = |source| FleetError::Journal {
            path: path.to_owned(),
            source,
        };
        let file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        let mut journal = Journal {
            file,
            path: path.to_owned(),
            pending: Vec::new(),
            unsynced: false,
            last_sync: Instant::now(),
        };
        if len > 0 {
            let mut last = [0u8; 1];
            journal.file.seek(SeekFrom::Start(len - 1)).map_err(io)?;
            journal.file.read_exact(&mut last).map_err(io)?;
            if last[0] != b'\n' {
                // A torn line from a killed run: end it so the next record parses on its own.
                journal.file.write_all(b"\n").map_err(io)?;
            }
        }
        let at = crate::clock::Instant::now().rfc3339_micros();
        journal.push(&serde_json::json!({"event": "start", "at": at}));
        journal.write(true)?;
        Ok(journal)
    }

    /// Records one database's result; it reaches the file with the next [`Journal::flush`].
    pub fn record(&mut self, r: &FileResult) {
        let line = FileLine {
            event: Some("file"),
            result: r,
        };
        // Into a Vec nothing fails, and `Line` writes only what JSON holds; a line that did fail would be left out
        // whole (the rerun records the database again).
        let at = self.pending.len();
        if serde_json::to_writer(&mut self.pending, &line).is_ok() {
            self.pending.push(b'\n');
        } else {
            self.pending.truncate(at);
        }
    }

    /// Writes the recorded lines (one `write`), and `fsync`s if the last sync is [`SYNC_EVERY`] old.
    pub fn flush(&mut self) -> Result<(), FleetError> {
        let sync = self.last_sync.elapsed() >= SYNC_EVERY;
        self.write(sync)
    }

    /// Appends the `end` line with the run's summary; everything is on disk when this returns.
    pub fn finish(&mut self, summary: &Summary) -> Result<(), FleetError> {
        self.push(&serde_json::json!({"event": "end", "summary": summary}));
        self.write(true)
    }

    fn push(&mut self, value: &serde_json::Value) {
        // A `Value`'s Display cannot fail (its map keys are strings), and writing into a Vec cannot either.
        let _ = writeln!(self.pending, "{value}");
    }

    fn write(&mut self, sync: bool) -> Result<(), FleetError> {
        let io = |source| FleetError::Journal {
            path: self.path.clone(),
            source,
        };
        if !self.pending.is_empty() {
            self.file.write_all(&self.pending).map_err(io)?;
            self.pending.clear();
            self.unsynced = true;
        }
        if sync && self.unsynced {
            self.file.sync_data().map_err(io)?;
            self.unsynced = false;
            self.last_sync = Instant::now();
        }
        Ok(())
    }
}

/// What a journal says, across every run it records.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JournalState {
    /// Each database's latest status.
    pub files: HashMap<PathBuf, FileStatus>,
    /// Runs started (`start` lines).
    pub runs: u64,
    /// Runs that reached their `end` line.
    pub finished_runs: u64,
    /// Lines that did not parse (a line cut short by a crash).
    pub torn_lines: u64,
}

#[derive(serde::Deserialize)]
struct Line {
    event: String,
    #[serde(default)]
    path: Option<PathBuf>,
    #[serde(default)]
    status: Option<FileStatus>,
}

/// Reads a journal: every database's latest status, and how many runs started and finished.
pub fn read(path: &Path) -> Result<JournalState, FleetError> {
    let io = |source| FleetError::Journal {
        path: path.to_owned(),
        source,
    };
    let file = File::open(path).map_err(io)?;
    let mut state = JournalState::default();
    for line in BufReader::new(file).split(b'\n') {
        let line = line.map_err(io)?;
        if line.is_empty() {
            continue;
        }
        match serde_json::from_slice::<Line>(&line) {
            Ok(l) => match (l.event.as_str(), l.path, l.status) {
                ("start", ..) => state.runs += 1,
                ("end", ..) => state.finished_runs += 1,
                ("file", Some(p), Some(s)) => {
                    state.files.insert(p, s);
                }
                _ => state.torn_lines += 1,
            },
            Err(_) => state.torn_lines += 1,
        }
    }
    Ok(state)
}

/// The databases whose latest record in the journal is `failed`, sorted: what `migrate fleet --retry-failed`
/// runs again.
pub fn failed_paths(path: &Path) -> Result<Vec<PathBuf>, FleetError> {
    let mut failed: Vec<PathBuf> = read(path)?
        .files
        .into_iter()
        .filter(|(_, s)| *s == FileStatus::Failed)
        .map(|(p, _)| p)
        .collect();
    failed.sort();
    Ok(failed)
}
