//! Spans and events through `tracing` (feature `tracing`), all under the target `litemigrate`.
//!
//! Every function here is the one place a span or event is named and given its fields, so the README's list
//! ("Logs (tracing)") and the tests have one source. Without the feature the bodies are empty, the types are empty
//! structs, and `tracing` is not a dependency: the call sites stay unconditional and compile to nothing.
//!
//! The launch check with nothing pending emits one `debug` event (a callsite-interest check when no subscriber is
//! installed); everything else happens only when there is work to do.

use crate::error::Error;
use crate::plan::Action;
#[cfg(feature = "tracing")]
use std::time::Instant;
use std::{path::Path, time::Duration};

/// The target of every span and event, for filters such as `RUST_LOG=litemigrate=debug`.
#[cfg(feature = "tracing")]
const TARGET: &str = "litemigrate";

/// The launch check found the database at the target with the embedded chain: nothing to do.
#[inline]
pub(crate) fn up_to_date(set: &str, version: u64) {
    #[cfg(feature = "tracing")]
    tracing::debug!(target: TARGET, set, version, "launch check: up to date");
    #[cfg(not(feature = "tracing"))]
    let _ = (set, version);
}

/// The launch check fell through and the plan has `pending` steps from `current` to `target`.
pub(crate) fn pending(set: &str, current: u64, target: u64, pending: usize) {
    #[cfg(feature = "tracing")]
    tracing::info!(target: TARGET, set, current, target, pending, "launch check: pending");
    #[cfg(not(feature = "tracing"))]
    let _ = (set, current, target, pending);
}

/// The span of one run that changes the database: `migrate` (only ups) or `rollback` (any down), entered from the
/// moment the plan is known until the run returns. Failures are reported inside it ([`RunSpan::failed`]).
#[derive(Default)]
pub(crate) struct RunSpan {
    #[cfg(feature = "tracing")]
    span: Option<tracing::span::EnteredSpan>,
}

impl RunSpan {
    /// Opens and enters the span (once: a re-plan keeps the first one).
    pub(crate) fn enter(&mut self, set: &str, actions: &[Action<'_>], from: u64, to: u64, dry_run: bool) {
        #[cfg(feature = "tracing")]
        if self.span.is_none() {
            let rollback = actions.iter().any(|a| a.direction() == crate::plan::Direction::Down);
            let steps = actions.len();
            let span = if rollback {
                tracing::info_span!(target: TARGET, "rollback", set, from, to, steps, dry_run)
            } else {
                tracing::info_span!(target: TARGET, "migrate", set, from, to, steps, dry_run)
            };
            self.span = Some(span.entered());
        }
        #[cfg(not(feature = "tracing"))]
        let _ = (set, actions, from, to, dry_run);
    }

    /// The run failed with `e` (inside the run's span when one was opened).
    pub(crate) fn failed(&self, e: &Error) {
        #[cfg(feature = "tracing")]
        {
            let at = e.migration();
            tracing::error!(
                target: TARGET,
                kind = e.kind().as_str(),
                version = at.map(|a| a.version),
                file = at.map(|a| a.file.as_str()),
                error = %e,
                "migration run failed"
            );
        }
        #[cfg(not(feature = "tracing"))]
        let _ = e;
    }
}

/// The span of one migration step (`migration`: set, version, name, direction). `duration_us` is recorded when
/// the step ends: by [`StepSpan::done`] with the step's own duration, or on drop (a failed step) with the time
/// since the span opened, then with `ok = false`.
pub(crate) struct StepSpan {
    #[cfg(feature = "tracing")]
    span: tracing::span::EnteredSpan,
    #[cfg(feature = "tracing")]
    start: Instant,
    #[cfg(feature = "tracing")]
    recorded: bool,
}

/// Opens and enters the span of one step.
pub(crate) fn step(set: &str, a: &Action<'_>) -> StepSpan {
    #[cfg(feature = "tracing")]
    {
        let name = match a {
            Action::Up(m) | Action::Down(m) => m.name(),
            Action::DownUnknown { at, .. } => at.name.as_str(),
        };
        let span = tracing::info_span!(
            target: TARGET,
            "migration",
            set,
            version = version_of(a),
            name,
            direction = a.direction().as_str(),
            duration_us = tracing::field::Empty,
            ok = tracing::field::Empty,
        );
        StepSpan {
            span: span.entered(),
            start: Instant::now(),
            recorded: false,
        }
    }
    #[cfg(not(feature = "tracing"))]
    {
        let _ = (set, a);
        StepSpan {}
    }
}

impl StepSpan {
    /// The step succeeded and its SQL (or code) took `duration_us`.
    pub(crate) fn done(mut self, duration_us: u64) {
        #[cfg(feature = "tracing")]
        {
            self.span.record("duration_us", duration_us);
            self.span.record("ok", true);
            self.recorded = true;
        }
        #[cfg(not(feature = "tracing"))]
        let _ = (&mut self, duration_us);
    }
}

#[cfg(feature = "tracing")]
impl Drop for StepSpan {
    fn drop(&mut self) {
        if !self.recorded {
            let us = u64::try_from(self.start.elapsed().as_micros()).unwrap_or(u64::MAX);
            self.span.record("duration_us", us);
            self.span.record("ok", false);
        }
    }
}

/// A unit took SQLite's write lock (`BEGIN IMMEDIATE`) after `waited`: SQLite's busy handler waits inside that
/// call, so this is where lock waits behind other connections show.
pub(crate) fn write_lock(first: &Action<'_>, waited: Duration) {
    #[cfg(feature = "tracing")]
    tracing::debug!(
        target: TARGET,
        version = version_of(first),
        waited_us = u64::try_from(waited.as_micros()).unwrap_or(u64::MAX),
        "write lock taken"
    );
    #[cfg(not(feature = "tracing"))]
    let _ = (first, waited);
}

/// The version an action runs (without building its `At`, which allocates).
#[cfg(feature = "tracing")]
fn version_of(a: &Action<'_>) -> u64 {
    match a {
        Action::Up(m) | Action::Down(m) => m.version,
        Action::DownUnknown { at, .. } => at.version,
    }
}

/// Work is done again because another connection changed the database: `reason` says which, `attempt` counts from 1.
pub(crate) fn retry(reason: &'static str, attempt: u32) {
    #[cfg(feature = "tracing")]
    tracing::info!(target: TARGET, reason, attempt, "retry");
    #[cfg(not(feature = "tracing"))]
    let _ = (reason, attempt);
}

/// A backup copy found `path` busy or locked by another connection and starts waiting (reported once per copy).
pub(crate) fn busy(path: &Path) {
    #[cfg(feature = "tracing")]
    tracing::info!(target: TARGET, path = %path.display(), "backup: database busy, waiting");
    #[cfg(not(feature = "tracing"))]
    let _ = path;
}

/// The backup before the first write was taken and verified.
pub(crate) fn backup_taken(info: &crate::BackupInfo, took: Duration) {
    #[cfg(feature = "tracing")]
    tracing::info!(
        target: TARGET,
        path = %info.path.display(),
        bytes = info.size,
        db_bytes = info.db_size,
        compressed = info.compressed,
        method = info.method.as_str(),
        duration_ms = u64::try_from(took.as_millis()).unwrap_or(u64::MAX),
        "backup taken"
    );
    #[cfg(not(feature = "tracing"))]
    let _ = (info, took);
}

/// The backup failed and the best-effort policy migrates anyway.
pub(crate) fn backup_skipped(e: &crate::backup::BackupError) {
    #[cfg(feature = "tracing")]
    tracing::warn!(target: TARGET, kind = ?e.kind(), error = %e, "backup failed, migrating anyway (best effort)");
    #[cfg(not(feature = "tracing"))]
    let _ = e;
}
