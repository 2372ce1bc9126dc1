//! Running the fleet: the entry points, the run on the caller's thread alone (one job) or with workers
//! ([`super::pool`]), and the sink that counts, journals and hands each result to the callback.

use super::journal::Journal;
use super::result::{FileResult, FileStatus, SkipReason, Stopped, Summary};
use super::{FailPolicy, Fleet, FleetError};
use crate::error::{Error, ErrorKind};
use crate::migrator::Migrator;
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Instant;

/// A database to migrate.
pub(super) struct Job {
    pub(super) path: PathBuf,
    pub(super) canary: bool,
}

/// Whether the run has stopped starting databases, and why; raised by whichever thread sees the failure first and
/// read by every worker before it starts a database.
pub(super) struct Halt(AtomicU8);

impl Halt {
    const RUNNING: u8 = 0;
    const CANARY: u8 = 1;
    const FIRST_FAILURE: u8 = 2;
    /// The run's own failure (the journal) or a panic: stop, with no [`Stopped`] reason to report.
    const ABORT: u8 = 3;

    fn new() -> Halt {
        Halt(AtomicU8::new(Halt::RUNNING))
    }

    /// Stops the run; the first reason given is the one reported.
    pub(super) fn stop(&self, why: Option<Stopped>) {
        let code = match why {
            Some(Stopped::CanaryFailed) => Halt::CANARY,
            Some(Stopped::FirstFailure) => Halt::FIRST_FAILURE,
            None => Halt::ABORT,
        };
        let _ = self
            .0
            .compare_exchange(Halt::RUNNING, code, Ordering::SeqCst, Ordering::SeqCst);
    }

    pub(super) fn is_set(&self) -> bool {
        self.0.load(Ordering::SeqCst) != Halt::RUNNING
    }

    fn reason(&self) -> Option<Stopped> {
        match self.0.load(Ordering::SeqCst) {
            Halt::CANARY => Some(Stopped::CanaryFailed),
            Halt::FIRST_FAILURE => Some(Stopped::FirstFailure),
            _ => None,
        }
    }
}

/// Whether this result stops the run: a failed canary always, any failure under [`FailPolicy::Stop`].
pub(super) fn halts(fail: FailPolicy, r: &FileResult) -> Option<Stopped> {
    if r.status != FileStatus::Failed {
        None
    } else if r.canary {
        Some(Stopped::CanaryFailed)
    } else if fail == FailPolicy::Stop {
        Some(Stopped::FirstFailure)
    } else {
        None
    }
}

/// Everything a finished database goes through, on the caller's thread.
pub(super) struct Sink<'a, F> {
    summary: Summary,
    journal: Option<Journal>,
    on_result: F,
    pub(super) halt: &'a Halt,
    /// The run's own failure (the journal, the listing): the run stops feeding and returns it.
    pub(super) fatal: Option<FleetError>,
    fail: FailPolicy,
}

impl<F: FnMut(&FileResult)> Sink<'_, F> {
    pub(super) fn take(&mut self, r: FileResult) {
        // Workers raise the halt themselves before reporting; this covers the caller's own databases.
        if let Some(why) = halts(self.fail, &r) {
            self.halt.stop(Some(why));
        }
        self.summary.count(&r);
        if let Some(j) = &mut self.journal
            && self.fatal.is_none()
        {
            j.record(&r);
        }
        (self.on_result)(&r);
    }

    /// A database the run did not start because it stopped first.
    pub(super) fn not_run(&mut self, job: Job) {
        let reason = match self.halt.reason() {
            Some(Stopped::CanaryFailed) => SkipReason::CanaryFailed,
            _ => SkipReason::StoppedAfterFailure,
        };
        self.take(FileResult::skipped(job.path, reason, job.canary));
    }

    /// Writes the journal lines recorded so far (group commit: see [`Journal::flush`]).
    pub(super) fn flush(&mut self) {
        if let Some(j) = &mut self.journal
            && self.fatal.is_none()
            && let Err(e) = j.flush()
        {
            self.fatal = Some(e);
            self.halt.stop(None);
        }
    }
}

impl Fleet<'_> {
    /// Migrates every database `paths` yields; `on_result` gets each one's result as it finishes (on the calling
    /// thread, in completion order; with more than one job, within 20 ms of the database finishing, plus the
    /// callback's own time for the results ahead of it). Returns the counts, or the run's own failure (the journal).
    pub fn run<I, P, F>(&self, paths: I, on_result: F) -> Result<Summary, FleetError>
    where
        I: IntoIterator<Item = P>,
        P: Into<PathBuf>,
        F: FnMut(&FileResult),
    {
        self.run_listing(paths.into_iter().map(|p| Ok(p.into())), on_result)
    }

    /// [`Fleet::run`] over the files a glob pattern matches (`tenants/*.db`, `data/**/tenant.db`): see
    /// [`glob_paths`].
    pub fn run_glob<F>(&self, pattern: &str, on_result: F) -> Result<Summary, FleetError>
    where
        F: FnMut(&FileResult),
    {
        self.run_listing(glob_paths(pattern)?, on_result)
    }

    /// [`Fleet::run`] over a listing that may fail midway (a directory that cannot be read): the run stops there,
    /// finishes the databases in flight and returns the listing's error.
    pub fn run_listing<I, F>(&self, paths: I, on_result: F) -> Result<Summary, FleetError>
    where
        I: Iterator<Item = Result<PathBuf, FleetError>>,
        F: FnMut(&FileResult),
    {
        let started = Instant::now();
        let journal = self.journal.as_deref().map(Journal::open).transpose()?;
        let halt = Halt::new();
        let mut sink = Sink {
            summary: Summary::default(),
            journal,
            on_result,
            halt: &halt,
            fatal: None,
            fail: self.fail,
        };
        let mut paths = paths;
        if self.jobs == 1 {
            self.run_inline(&mut paths, &mut sink);
        } else {
            self.run_pool(&mut paths, &mut sink);
        }
        // Stopped early: every database not started is reported (and journaled) as skipped, without opening it.
        if halt.reason().is_some() && sink.fatal.is_none() {
            for (i, p) in paths.enumerate() {
                // The journal's buffer stays small however many files are left.
                if i % 256 == 255 {
                    sink.flush();
                }
                match p {
                    Ok(path) => sink.not_run(Job { path, canary: false }),
                    Err(e) => {
                        sink.fatal.get_or_insert(e);
                        break;
                    }
                }
            }
        }
        sink.flush();
        sink.summary.stopped = halt.reason();
        sink.summary.elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        if let Some(e) = sink.fatal {
            return Err(e);
        }
        if let Some(j) = &mut sink.journal {
            j.finish(&sink.summary)?;
        }
        Ok(sink.summary)
    }

    /// One job: the caller's thread does everything, in the listing's order (no handoff per database).
    fn run_inline<I, F>(&self, paths: &mut I, sink: &mut Sink<'_, F>)
    where
        I: Iterator<Item = Result<PathBuf, FleetError>>,
        F: FnMut(&FileResult),
    {
        let mig = self.migrator();
        let mut started = 0usize;
        while !sink.halt.is_set() && sink.fatal.is_none() {
            match paths.next() {
                Some(Ok(path)) => {
                    let canary = started < self.canary;
                    started += 1;
                    sink.take(self.migrate_one(&mig, path, canary));
                    sink.flush();
                }
                Some(Err(e)) => {
                    sink.fatal.get_or_insert(e);
                }
                None => break,
            }
        }
    }

    /// One database: open (never create), the migrator's run, and on failure the version it stayed at.
    pub(super) fn migrate_one(&self, mig: &Migrator<'_>, path: PathBuf, canary: bool) -> FileResult {
        let start = Instant::now();
        let mut r = FileResult::new(path, FileStatus::Failed, canary);
        match self.open(&r.path) {
            Err(e) => r.error = Some(e),
            Ok(mut conn) => match mig.run(&mut conn) {
                Ok(report) => {
                    r.status = FileStatus::Done;
                    r.from_version = Some(report.from_version);
                    r.to_version = Some(report.to_version);
                    r.applied = report.applied.len();
                    r.backup = report.backup;
                }
                Err(e) => {
                    let now = mig.status(&conn).ok().map(|s| s.current_version);
                    r.from_version = now;
                    r.to_version = now;
                    if e.kind() == ErrorKind::Replica {
                        r.status = FileStatus::Skipped;
                        r.skipped = Some(SkipReason::Replica);
                    }
                    r.error = Some(e);
                }
            },
        }
        r.duration = start.elapsed();
        r
    }

    fn open(&self, path: &Path) -> Result<Connection, Error> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags)
            .map_err(|e| Error::db(format!("opening {}", path.display()), None, e))?;
        conn.busy_timeout(self.busy_timeout)
            .map_err(|e| Error::db("setting the busy timeout", None, e))?;
        Ok(conn)
    }
}

/// The files a glob pattern matches, listed lazily in the `glob` crate's order (sorted within each directory); an
/// entry that cannot be read is a [`FleetError::Listing`].
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// std::fs::write(dir.path().join("a.db"), b"").unwrap();
/// let pattern = format!("{}/*.db", dir.path().display());
/// let found: Vec<_> = litemigrate_runtime::fleet::glob_paths(&pattern).unwrap().collect();
/// assert_eq!(found.len(), 1);
/// ```
pub fn glob_paths(pattern: &str) -> Result<impl Iterator<Item = Result<PathBuf, FleetError>> + use<>, FleetError> {
    let paths = glob::glob(pattern).map_err(|source| FleetError::Pattern {
        pattern: pattern.to_owned(),
        source,
    })?;
    Ok(paths.map(|p| {
        p.map_err(|e| FleetError::Listing {
            path: e.path().to_owned(),
            source: std::io::Error::new(e.error().kind(), e.error().to_string()),
        })
    }))
}
