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
//! A worker that sees a failure which stops the run (a canary, or any under [`FailPolicy::Stop`](super::FailPolicy::Stop)) raises the [`Halt`] itself before it
//! reports, and every worker checks it before starting a database: after a failure no database is started, without
//! waiting for the caller's thread to hear of it. The paths still queued are reported skipped by the caller's thread.

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
pub(crate) const MAX_DELAY: Duration = Duration::from_millis(20);

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
        std::thread::scope(|s| {
            for _ in 0..self.jobs {
                let shared = &shared;
                s.spawn(move || self.work(shared));
            }
            // If the listing or the callback panics, the workers must still leave, or the scope would wait forever.
            let _release = Release(&shared);
            self.feed(&shared, paths, sink, capacity);
        });
        // Every worker has left: what is still queued was never started.
        if let Some(mut st) = shared.lock() {
            let left: Vec<Job> = st.queue.drain(..).collect();
            drop(st);
            for job in left {
                sink.not_run(job);
            }
        }
    }

    /// The caller's thread: the canaries, a barrier until they have all finished, then the rest; results go to the
    /// sink in batches. Returns once every worker has left.
    fn feed<I, F>(&self, shared: &Shared<'_>, paths: &mut I, sink: &mut Sink<'_, F>, capacity: usize)
    where
        I: Iterator<Item = Result<PathBuf, FleetError>>,
        F: FnMut(&FileResult),
    {
        let mut fresh = Vec::with_capacity(capacity);
        let mut batch = Vec::with_capacity(BATCH);
        // Canaries still to be pulled from the listing, and canaries started but not yet reported.
        let mut canaries_left = self.canary;
        let mut canaries_out = 0usize;
        let mut listing_done = false;
        let mut queued = 0usize;
        let mut last_drain = Instant::now();
        loop {
            let barrier = canaries_out > 0;
            let feeding = !listing_done && !barrier && !sink.halt.is_set() && sink.fatal.is_none();
            // Pulled outside the lock: reading a directory must not hold up the workers.
            if feeding && queued <= shared.low_water {
                let canary = canaries_left > 0;
                let want = if canary { canaries_left } else { capacity - queued };
                for _ in 0..want {
                    match paths.next() {
                        Some(Ok(path)) => fresh.push(Job { path, canary }),
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
                if canary {
                    canaries_left = 0;
                    canaries_out = fresh.len();
                }
            }
            let Some(mut st) = shared.lock() else { return };
            let added = !fresh.is_empty();
            st.queue.extend(fresh.drain(..));
            // The listing is over, failed, or the run stops: workers leave once the queue is empty (or at once,
            // when halted). A canary barrier keeps them waiting instead.
            let closing = canaries_out == 0 && (listing_done || sink.halt.is_set() || sink.fatal.is_some());
            if closing && !st.closed {
                st.closed = true;
                shared.workers.notify_all();
            } else if added && st.idle > 0 {
                shared.workers.notify_all();
            }
            loop {
                let now = Instant::now();
                let due = last_drain + MAX_DELAY;
                let refill = !listing_done
                    && canaries_out == 0
                    && canaries_left == 0
                    && !st.closed
                    && st.queue.len() <= shared.low_water;
                let ready = st.results.len() >= BATCH || (!st.results.is_empty() && now >= due);
                if ready || refill || st.workers == 0 {
                    break;
                }
                st.caller_asleep = true;
                let wait = if now < due { due - now } else { MAX_DELAY };
                st = match shared.caller.wait_timeout(st, wait) {
                    Ok((st, _)) => st,
                    Err(_) => return,
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
                return;
            }
        }
    }

    /// A worker: pops a path, migrates it, pushes the result, until the queue is closed and empty or the run halts.
    fn work(&self, shared: &Shared<'_>) {
        // Built once per worker: a database's own work is the migrator's run, nothing else.
        let mig = self.migrator();
        let Some(mut st) = shared.lock() else { return };
        loop {
            if shared.halt.is_set() {
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
