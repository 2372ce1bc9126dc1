//! The fleet journal: an append-only file of JSON lines, one per event, so an operator (or a rerun) knows which
//! databases were done, failed or skipped.
//!
//! Each run appends a `start` line, one `file` line per database as it finishes (written and `fsync`ed before the
//! next one is recorded, so a `kill -9` loses at most the line being written), and an `end` line with the summary.
//! A line cut short by a crash is ignored when reading, and the next run starts on a fresh line. A rerun does not
//! need the journal to resume (a database already current costs one launch check); the journal is the record, and
//! [`failed_paths`] gives the files to retry.

use super::FleetError;
use super::result::{FileResult, FileStatus, Summary};
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// An open journal, appending.
#[derive(Debug)]
pub struct Journal {
    file: File,
    path: PathBuf,
    /// Lines written since the last `fsync` (skipped files are batched: losing them loses nothing).
    unsynced: bool,
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
            unsynced: false,
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
        journal.write(&serde_json::json!({"event": "start", "at": at}), true)?;
        Ok(journal)
    }

    /// Appends one database's result; `durable` results are on disk when this returns.
    pub fn record(&mut self, r: &FileResult, durable: bool) -> Result<(), FleetError> {
        let mut line = r.to_json();
        if let Some(obj) = line.as_object_mut() {
            obj.insert("event".into(), "file".into());
        }
        self.write(&line, durable)
    }

    /// Appends the `end` line with the run's summary.
    pub fn finish(&mut self, summary: &Summary) -> Result<(), FleetError> {
        let line = serde_json::json!({"event": "end", "summary": summary});
        self.write(&line, true)
    }

    fn write(&mut self, value: &serde_json::Value, durable: bool) -> Result<(), FleetError> {
        let io = |source| FleetError::Journal {
            path: self.path.clone(),
            source,
        };
        let mut bytes = value.to_string().into_bytes();
        bytes.push(b'\n');
        self.file.write_all(&bytes).map_err(io)?;
        if durable || self.unsynced {
            self.file.sync_data().map_err(io)?;
            self.unsynced = false;
        } else {
            self.unsynced = true;
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
