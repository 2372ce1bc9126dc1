//! `fleet`: the set applied to every database a pattern matches ([`crate::fleet::Fleet`]). `--json` prints one line
//! per database as it finishes, then the envelope with the summary; on a terminal, a progress line on stderr.

use super::commands::{CmdResult, backup_options, load};
use super::output::{BOLD, EXIT_FAILED, GREEN, Outcome, Problem, RED, YELLOW, paint};
use super::{GlobalArgs, PolicyArgs, Source};
use crate::backup::BackupPolicy;
use crate::fleet::{self, FailPolicy, FileResult, FileStatus, Fleet, FleetError, Summary};
use crate::migrator::{Mode, Policy};
use clap::Args;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

/// The options of `migrate fleet`.
#[derive(Debug, Clone, Args)]
pub struct FleetArgs {
    /// Glob patterns (quote them: `'tenants/*.db'`) or files; each match is one database.
    #[arg(required_unless_present = "retry_failed", value_name = "PATTERN")]
    pub patterns: Vec<String>,
    /// Databases migrated at once (default: the number of cores).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub jobs: Option<u64>,
    /// Migrate the first N databases first; if any fails, touch no other.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub canary: u64,
    /// Go on after a failure and report every one (default: start no further database).
    #[arg(long)]
    pub continue_on_error: bool,
    /// Append a record of the run (one JSON line per database: done, failed or skipped) to FILE.
    #[arg(long, value_name = "FILE")]
    pub journal: Option<PathBuf>,
    /// Run only the databases whose latest record in --journal is `failed` (no patterns needed).
    #[arg(long, requires = "journal")]
    pub retry_failed: bool,
    /// One transaction per migration instead of one for the batch.
    #[arg(long)]
    pub per_migration: bool,
    /// How long one database waits for another process's write lock, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 5000)]
    pub busy_timeout_ms: u64,
    /// Policies.
    #[command(flatten)]
    pub policy: PolicyArgs,
}

fn fleet_problem(e: FleetError) -> Problem {
    let hint = match &e {
        FleetError::Pattern { .. } => Some("quote the pattern so the shell passes it as is: 'tenants/*.db'"),
        FleetError::Journal { .. } => Some("pass a --journal path in a writable directory"),
        FleetError::Listing { .. } => None,
    };
    let p = Problem::new(&format!("fleet_{}", e.kind()), e.to_string(), EXIT_FAILED);
    match hint {
        Some(h) => p.hint(h),
        None => p,
    }
}

pub(super) fn fleet(source: Source<'_>, g: &GlobalArgs, a: &FleetArgs, json: bool) -> CmdResult {
    let m = load(source, g)?;
    let policy = Policy {
        allow_out_of_order: a.policy.allow_out_of_order,
        allow_missing: a.policy.allow_missing,
        allow_unknown_rollback: a.policy.allow_unknown_rollback,
    };
    let mut runner = Fleet::new(&m)
        .history_table(g.history_table.clone())
        .policy(policy)
        .mode(if a.per_migration {
            Mode::PerMigration
        } else {
            Mode::Batch
        })
        .backup(if g.no_backup {
            BackupPolicy::Off
        } else {
            BackupPolicy::Required
        })
        .backup_options(backup_options(g))
        .busy_timeout(std::time::Duration::from_millis(a.busy_timeout_ms))
        .canary(usize::try_from(a.canary).unwrap_or(usize::MAX))
        .fail_policy(if a.continue_on_error {
            FailPolicy::Continue
        } else {
            FailPolicy::Stop
        });
    if let Some(j) = a.jobs {
        runner = runner.jobs(usize::try_from(j).unwrap_or(usize::MAX));
    }
    // Read before this run appends its own records.
    let retry = match (&a.journal, a.retry_failed) {
        (Some(j), true) => Some(fleet::journal::failed_paths(j).map_err(fleet_problem)?),
        _ => None,
    };
    if let Some(j) = &a.journal {
        runner = runner.journal(j.clone());
    }
    let mut listings = Vec::new();
    for p in &a.patterns {
        listings.push(fleet::glob_paths(p).map_err(fleet_problem)?);
    }
    let bar = progress(json);
    let on_result = |r: &FileResult| report_one(r, json, bar.as_ref());
    let summary = match retry {
        Some(paths) => runner.run(paths, on_result),
        None => runner.run_listing(listings.into_iter().flatten(), on_result),
    };
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let summary = summary.map_err(fleet_problem)?;
    let human = render_summary(&summary);
    let mut outcome = Outcome::new(&summary, human);
    if !summary.is_ok() {
        let what = match summary.stopped {
            Some(fleet::Stopped::CanaryFailed) => "a canary failed: no database outside the canary was touched",
            Some(fleet::Stopped::FirstFailure) => "a database failed: no further database was started",
            None => "some databases failed",
        };
        outcome.problem = Some(
            Problem::new(
                "fleet_failed",
                format!("{what} ({} failed, {} skipped)", summary.failed, summary.skipped),
                EXIT_FAILED,
            )
            .hint("failed databases stay at their previous version; fix the cause and rerun (--journal FILE --retry-failed reruns only those)"),
        );
    }
    Ok(outcome)
}

fn progress(json: bool) -> Option<indicatif::ProgressBar> {
    if json || !std::io::stderr().is_terminal() {
        return None;
    }
    let style = indicatif::ProgressStyle::with_template("{spinner} {pos} database(s) {per_sec} {elapsed} {msg}")
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner());
    let bar = indicatif::ProgressBar::new_spinner().with_style(style);
    bar.enable_steady_tick(std::time::Duration::from_millis(100));
    Some(bar)
}

/// One database: a JSON line on stdout, or (people) a line for each failure and replica, and the progress.
fn report_one(r: &FileResult, json: bool, bar: Option<&indicatif::ProgressBar>) {
    if json {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{}", r.to_json());
        return;
    }
    if let Some(b) = bar {
        b.inc(1);
        b.set_message(r.path.display().to_string());
    }
    let line = match (r.status, &r.error) {
        (FileStatus::Failed, Some(e)) => format!("{} {}: {e}", paint(RED, "failed"), r.path.display()),
        (FileStatus::Skipped, Some(e)) => format!("{} {}: {e}", paint(YELLOW, "skipped"), r.path.display()),
        _ => return,
    };
    match bar {
        Some(b) => b.println(line),
        None => {
            let _ = writeln!(anstream::stderr().lock(), "{line}");
        }
    }
}

fn render_summary(s: &Summary) -> String {
    format!(
        "{} {} database(s) in {:.1} s: {} migrated, {} already current, {} failed, {} skipped\n",
        paint(if s.is_ok() { GREEN } else { BOLD }, "fleet:"),
        s.files,
        s.elapsed_ms as f64 / 1000.0,
        s.migrated,
        s.current,
        s.failed,
        s.skipped
    )
}
