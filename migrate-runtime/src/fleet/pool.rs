//! The threaded run: `jobs` worker threads and the caller's thread around one small lock-protected state (a queue of
//! paths, a vector of finished results), with no handoff per database.
//!
//! Workers pop the next path and push their result under the same short lock, and wake the caller's thread only
//! when it has something to do: the queue is half empty (refill it from the listing, which stays on the caller's
//! thread), [`BATCH`] results are waiting, or the last worker is leaving. The caller's thread also wakes on its own
//! every [`MAX_DELAY`], so a result waits at most that long (plus the callback's time for the results before it)
//! before the callback sees it, however slowly or quickly databases finish. A plain loop's threads never sleep; a
//! channel per result put two wake-ups on every database (a quarter of a 40 µs no-op check), which this avoids.
//!
//! A worker that sees a failure which stops the run (a canary, or any under [`FailPolicy::Stop`]) raises the
//! [`Halt`] itself before it reports, and every worker checks it before starting a database: after a failure no
//! database is started, without waiting for the caller's thread to hear of it. The paths still queued are reported
//! skipped by the caller's thread. Canaries go in waves of `jobs`, each wave started together and followed by a
//! barrier: a wave always runs whole (with one job, a wave is one database), so which canaries run does not depend
//! on which worker the scheduler happened to run first.
//!
//! [`FailPolicy::Stop`]: super::FailPolicy::Stop

use super::result::FileResult;
use super::runner::{Halt, Job, Sink, halts};
use super::{Fleet, FleetError};
use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Paths queued per worker: enough that workers never wait for the caller's thread while it runs the callback or
/// syncs the journal (256 no-op checks are ~10 ms), few enough to keep memory flat (a path each).
const QUEUE_PER_JOB: usize = 256;

/// Results that make a worker wake the caller's thread before [`MAX_DELAY`] is up.
const BATCH: usize = 128;

/// The longest a finished database's result waits before the caller's thread hands it to the callback (not counting
/// the callback's own time for the results ahead of it).
const MAX_DELAY: Duration = Duration::from_millis(20);

struct State {
    queue: VecDeque<Job>,
    results: Vec<FileResult>,
    /// No more paths will be queued: a worker finding the queue empty leaves.
    closed: bool,
    /// Workers that have not left yet.
    workers: usize,
    /// Workers waiting for paths.
    idle: usize,
    /// The caller's thread is waiting and nobody has woken it yet (so at most one wake-up is sent per wait).
    caller_asleep: bool,
}

struct Shared<'h> {
    state: Mutex<State>,
    caller: Condvar,
    workers: Condvar,
    halt: &'h Halt,
    low_water: usize,
}

impl Shared<'_> {
    fn lock(&self) -> Option<MutexGuard<'_, State>> {
        // A poisoned lock means a worker panicked; the thread scope re-raises that panic.
        self.state.lock().ok()
    }

    fn wake_caller(&self, st: &mut State) {
        if st.caller_asleep {
            st.caller_asleep = false;
            self.caller.notify_one();
        }
    }
}

/// Closes the queue when the caller's thread leaves [`Fleet::feed`], however it leaves.
struct Release<'a, 'h>(&'a Shared<'h>);

impl Drop for Release<'_, '_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.halt.stop(None);
        }
        if let Some(mut st) = self.0.lock() {
            st.closed = true;
            self.0.workers.notify_all();
        }
    }
}

impl Fleet<'_> {
    /// `jobs` workers; the caller's thread feeds them from `paths`, runs the callback and writes the journal.
    pub(super) fn run_pool<I, F>(&self, paths: &mut I, sink: &mut Sink<'_, F>)
    where
        I: Iterator<Item = Result<PathBuf, FleetError>>,
        F: FnMut(&FileResult),
    {
        let capacity = QUEUE_PER_JOB * self.jobs;
        let shared = Shared {
            state: Mutex::new(State {
                queue: VecDeque::with_capacity(capacity),
                results: Vec::with_capacity(BATCH),
                closed: false,
                workers: self.jobs,
                idle: 0,
                caller_asleep: false,
            }),
            caller: Condvar::new(),
            workers: Condvar::new(),
            halt: sink.halt,
            low_water: capacity / 2,
        };
        let unqueued = std::thread::scope(|s| {
            for _ in 0..self.jobs {
                let shared = &shared;
                s.spawn(move || self.work(shared));
            }
            // If the listing or the callback panics, the workers must still leave, or the scope would wait forever.
            let _release = Release(&shared);
            self.feed(&shared, paths, sink, capacity)
        });
        // Every worker has left: the canaries of waves never queued, then what is still queued, were never started.
        let left: Vec<Job> = shared
            .lock()
            .map(|mut st| st.queue.drain(..).collect())
            .unwrap_or_default();
        for job in unqueued.into_iter().chain(left) {
            sink.not_run(job);
        }
    }

    /// The caller's thread: the canaries in waves of `jobs`, each wave followed by a barrier until it has finished,
    /// then the rest; results go to the sink in batches. Returns once every worker has left, with the canaries it
    /// did not queue because the run stopped.
    fn feed<I, F>(&self, shared: &Shared<'_>, paths: &mut I, sink: &mut Sink<'_, F>, capacity: usize) -> VecDeque<Job>
    where
        I: Iterator<Item = Result<PathBuf, FleetError>>,
        F: FnMut(&FileResult),
    {
        let mut listing_done = false;
        // The canaries, pulled at once (there are few): a run that stops reports the unstarted ones as canaries.
        let mut canaries = VecDeque::new();
        while canaries.len() < self.canary && !listing_done {
            match paths.next() {
                Some(Ok(path)) => canaries.push_back(Job { path, canary: true }),
                Some(Err(e)) => {
                    sink.fatal.get_or_insert(e);
                    listing_done = true;
                }
                None => listing_done = true,
            }
        }
        let mut fresh = Vec::with_capacity(capacity);
        let mut batch = Vec::with_capacity(BATCH);
        // Canaries of the current wave not yet reported.
        let mut canaries_out = 0usize;
        let mut queued = 0usize;
        let mut last_drain = Instant::now();
        loop {
            let stopping = sink.halt.is_set() || sink.fatal.is_some();
            if canaries_out == 0 && !stopping && !canaries.is_empty() {
                let wave = canaries.len().min(self.jobs);
                fresh.extend(canaries.drain(..wave));
                canaries_out = wave;
            } else if canaries_out == 0
                && canaries.is_empty()
                && !listing_done
                && !stopping
                && queued <= shared.low_water
            {
                // Pulled outside the lock: reading a directory must not hold up the workers.
                for _ in 0..capacity - queued {
                    match paths.next() {
                        Some(Ok(path)) => fresh.push(Job { path, canary: false }),
                        Some(Err(e)) => {
                            sink.fatal.get_or_insert(e);
                            listing_done = true;
                            break;
                        }
                        None => {
                            listing_done = true;
                            break;
                        }
                    }
                }
            }
            let Some(mut st) = shared.lock() else { return canaries };
            let added = !fresh.is_empty();
            st.queue.extend(fresh.drain(..));
            // Nothing more will be queued: workers leave once the queue is empty (at once when halted, but for a
            // canary wave, which runs whole).
            let closing = sink.halt.is_set() || sink.fatal.is_some() || (listing_done && canaries.is_empty());
            if closing && !st.closed {
                st.closed = true;
                shared.workers.notify_all();
            } else if added && st.idle > 0 {
                shared.workers.notify_all();
            }
            loop {
                let now = Instant::now();
                let due = last_drain + MAX_DELAY;
                let refill = !st.closed && canaries_out == 0 && st.queue.len() <= shared.low_water;
                let ready = st.results.len() >= BATCH || (!st.results.is_empty() && now >= due);
                if ready || refill || st.workers == 0 {
                    break;
                }
                st.caller_asleep = true;
                let wait = if now < due { due - now } else { MAX_DELAY };
                st = match shared.caller.wait_timeout(st, wait) {
                    Ok((st, _)) => st,
                    Err(_) => return canaries,
                };
                st.caller_asleep = false;
            }
            std::mem::swap(&mut batch, &mut st.results);
            queued = st.queue.len();
            let gone = st.workers == 0;
            drop(st);
            last_drain = Instant::now();
            for r in batch.drain(..) {
                if r.canary {
                    canaries_out = canaries_out.saturating_sub(1);
                }
                sink.take(r);
            }
            sink.flush();
            if gone {
                return canaries;
            }
        }
    }

    /// A worker: pops a path, migrates it, pushes the result, until the queue is closed and empty or the run halts.
    fn work(&self, shared: &Shared<'_>) {
        // Built once per worker: a database's own work is the migrator's run, nothing else.
        let mig = self.migrator();
        let Some(mut st) = shared.lock() else { return };
        loop {
            // A canary wave runs whole: its databases count as started together.
            if shared.halt.is_set() && !st.queue.front().is_some_and(|j| j.canary) {
                break;
            }
            let Some(job) = st.queue.pop_front() else {
                if st.closed {
                    break;
                }
                st.idle += 1;
                shared.wake_caller(&mut st);
                st = match shared.workers.wait(st) {
                    Ok(st) => st,
                    Err(_) => return,
                };
                st.idle -= 1;
                continue;
            };
            if st.queue.len() == shared.low_water && !st.closed {
                shared.wake_caller(&mut st);
            }
            drop(st);
            let r = self.migrate_one(&mig, job.path, job.canary);
            if let Some(why) = halts(self.fail, &r) {
                shared.halt.stop(Some(why));
            }
            st = match shared.lock() {
                Some(st) => st,
                None => return,
            };
            st.results.push(r);
            if st.results.len() >= BATCH {
                shared.wake_caller(&mut st);
            }
        }
        st.workers -= 1;
        if st.workers == 0 {
            shared.wake_caller(&mut st);
        }
    }
}
