//! Running the fleet: a feeding loop on the caller's thread, `jobs` worker threads, and the sink that counts,
//! journals and hands each result to the callback.
//!
//! Paths go to the workers through a channel bounded at `jobs`, so the iterator is pulled only as fast as databases
//! finish; results come back unbounded (at most the jobs in flight wait there) and are dropped after the callback.

use super::journal::Journal;
use super::result::{FileResult, FileStatus, SkipReason, Stopped, Summary};
use super::{FailPolicy, Fleet, FleetError};
use crate::error::{Error, ErrorKind};
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::time::Instant;

/// Paths queued per worker: enough that a worker rarely waits for the feeding thread to be scheduled (on a loaded
/// machine that wait, once per database, cost more than the database), few enough to keep memory flat.
const QUEUE_PER_JOB: usize = 16;

struct Job {
    path: PathBuf,
    canary: bool,
}

/// What a worker sends back: a result, or a job it did not start because the run is stopping.
enum Msg {
    // Boxed: the result carries the backup manifest and an error inline, and only the jobs in flight wait here.
    Ran(Box<FileResult>),
    NotRun(Job),
}

/// Everything a finished database goes through, on the caller's thread.
struct Sink<'a, F> {
    summary: Summary,
    journal: Option<Journal>,
    on_result: F,
    fail: FailPolicy,
    /// Set once the run stops starting databases; read by the workers.
    stop: &'a AtomicBool,
    stopped: Option<Stopped>,
    /// A journal write failed: the run stops and returns it.
    fatal: Option<FleetError>,
}

impl<F: FnMut(&FileResult)> Sink<'_, F> {
    fn take(&mut self, msg: Msg) {
        let r = match msg {
            Msg::Ran(r) => *r,
            Msg::NotRun(job) => FileResult::skipped(job.path, self.skip_reason(), job.canary),
        };
        if r.status == FileStatus::Failed && (r.canary || self.fail == FailPolicy::Stop) {
            self.halt(if r.canary {
                Stopped::CanaryFailed
            } else {
                Stopped::FirstFailure
            });
        }
        self.summary.count(&r);
        if let Some(j) = &mut self.journal
            && self.fatal.is_none()
            && let Err(e) = j.record(&r, r.skipped.is_none_or(|s| s == SkipReason::Replica))
        {
            self.fatal = Some(e);
            self.stop.store(true, Ordering::SeqCst);
        }
        (self.on_result)(&r);
    }

    fn halt(&mut self, why: Stopped) {
        self.stopped.get_or_insert(why);
        self.stop.store(true, Ordering::SeqCst);
    }

    fn skip_reason(&self) -> SkipReason {
        match self.stopped {
            Some(Stopped::CanaryFailed) => SkipReason::CanaryFailed,
            _ => SkipReason::StoppedAfterFailure,
        }
    }

    fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }
}

impl Fleet<'_> {
    /// Migrates every database `paths` yields; `on_result` gets each one's result as it finishes (on the calling
    /// thread, in completion order). Returns the counts, or the run's own failure (the journal).
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
        let stop = AtomicBool::new(false);
        let mut sink = Sink {
            summary: Summary::default(),
            journal,
            on_result,
            fail: self.fail,
            stop: &stop,
            stopped: None,
            fatal: None,
        };
        let mut paths = paths;
        if self.jobs == 1 {
            self.run_inline(&mut paths, &mut sink);
        } else {
            self.run_threads(&mut paths, &mut sink);
        }
        // Stopped early: every database not started is reported (and journaled) as skipped, without opening it.
        if sink.stopped.is_some() && sink.fatal.is_none() {
            for p in paths {
                match p {
                    Ok(path) => sink.take(Msg::NotRun(Job { path, canary: false })),
                    Err(e) => {
                        sink.fatal.get_or_insert(e);
                        break;
                    }
                }
            }
        }
        sink.summary.stopped = sink.stopped;
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
        let mut started = 0usize;
        while !sink.stopping() && sink.fatal.is_none() {
            match paths.next() {
                Some(Ok(path)) => {
                    let canary = started < self.canary;
                    started += 1;
                    sink.take(Msg::Ran(Box::new(self.migrate_one(path, canary))));
                }
                Some(Err(e)) => {
                    sink.fatal.get_or_insert(e);
                }
                None => break,
            }
        }
    }

    /// `jobs` workers fed through a bounded channel; results come back to the caller's thread.
    fn run_threads<I, F>(&self, paths: &mut I, sink: &mut Sink<'_, F>)
    where
        I: Iterator<Item = Result<PathBuf, FleetError>>,
        F: FnMut(&FileResult),
    {
        let stop = sink.stop;
        let (job_tx, job_rx) = mpsc::sync_channel::<Job>(QUEUE_PER_JOB * self.jobs);
        let job_rx = Mutex::new(job_rx);
        std::thread::scope(|s| {
            let (res_tx, res_rx) = mpsc::channel::<Msg>();
            for _ in 0..self.jobs {
                let res_tx = res_tx.clone();
                let (job_rx, stop) = (&job_rx, &stop);
                s.spawn(move || self.work(job_rx, stop, &res_tx));
            }
            drop(res_tx);
            let mut in_flight = 0usize;
            let send = |job: Job, sink: &mut Sink<'_, F>, in_flight: &mut usize| {
                if job_tx.send(job).is_ok() {
                    *in_flight += 1;
                }
                while let Ok(m) = res_rx.try_recv() {
                    *in_flight -= 1;
                    sink.take(m);
                }
            };
            // The canaries, then a barrier: nothing else starts before every canary has finished.
            for _ in 0..self.canary {
                match paths.next() {
                    Some(Ok(path)) => send(Job { path, canary: true }, sink, &mut in_flight),
                    Some(Err(e)) => {
                        sink.fatal.get_or_insert(e);
                        break;
                    }
                    None => break,
                }
            }
            drain(&res_rx, sink, &mut in_flight);
            while !sink.stopping() && sink.fatal.is_none() {
                match paths.next() {
                    Some(Ok(path)) => send(Job { path, canary: false }, sink, &mut in_flight),
                    Some(Err(e)) => {
                        sink.fatal.get_or_insert(e);
                    }
                    None => break,
                }
            }
            drop(job_tx);
            drain(&res_rx, sink, &mut in_flight);
        });
    }

    /// A worker: takes jobs until the channel closes; once the run is stopping, hands them back unstarted.
    fn work(&self, jobs: &Mutex<Receiver<Job>>, stop: &AtomicBool, results: &mpsc::Sender<Msg>) {
        loop {
            // A poisoned lock means another worker panicked; the scope re-raises that panic.
            let job = match jobs.lock() {
                Ok(rx) => rx.recv(),
                Err(_) => return,
            };
            let Ok(job) = job else { return };
            let msg = if stop.load(Ordering::SeqCst) {
                Msg::NotRun(job)
            } else {
                Msg::Ran(Box::new(self.migrate_one(job.path, job.canary)))
            };
            if results.send(msg).is_err() {
                return;
            }
        }
    }

    /// One database: open (never create), the migrator's run, and on failure the version it stayed at.
    fn migrate_one(&self, path: PathBuf, canary: bool) -> FileResult {
        let start = Instant::now();
        let mut r = FileResult::new(path, FileStatus::Failed, canary);
        match self.open(&r.path) {
            Err(e) => r.error = Some(e),
            Ok(mut conn) => {
                let mig = self.migrator();
                match mig.run(&mut conn) {
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
                }
            }
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

/// Waits for every job in flight.
fn drain<F: FnMut(&FileResult)>(rx: &Receiver<Msg>, sink: &mut Sink<'_, F>, in_flight: &mut usize) {
    while *in_flight > 0 {
        match rx.recv() {
            Ok(m) => {
                *in_flight -= 1;
                sink.take(m);
            }
            // Every worker is gone (one panicked); the scope re-raises the panic.
            Err(_) => return,
        }
    }
}
