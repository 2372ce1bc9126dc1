//! `up` and `down`: a dry run first (to refuse the wrong direction and to ask before a rollback), then the real run
//! with a backup and a progress bar.

use super::commands::{CmdResult, Open, backup_options, db_path, load, migrator, open};
use super::output::{BOLD, EXIT_FAILED, Outcome, Problem, Progress, confirm, paint, render_report};
use super::{GlobalArgs, PolicyArgs, Source};
use crate::backup::BackupPolicy;
use crate::migrator::{Migrator, Mode, Report, Target};
use crate::status::Status;
use rusqlite::Connection;

/// The migrator's backup settings from the global options: a verified backup before the first write (the
/// runtime's default) unless `--no-backup`.
fn with_backup<'m>(mig: Migrator<'m>, g: &GlobalArgs) -> Migrator<'m> {
    let policy = if g.no_backup {
        BackupPolicy::Off
    } else {
        BackupPolicy::Required
    };
    mig.backup(policy).backup_options(backup_options(g))
}

/// Runs for real with the backup settings, a progress bar on a terminal.
pub(super) fn run_with_progress(
    mig: Migrator<'_>,
    g: &GlobalArgs,
    conn: &mut Connection,
    plan: &Report,
    json: bool,
) -> Result<Report, Problem> {
    let first = if g.no_backup { "" } else { "backing up" };
    let progress = Progress::new(json, plan.plan.steps.len(), first);
    let hook = |a: &crate::Applied| progress.step(a);
    let result = with_backup(mig, g).on_step(&hook).run(conn);
    progress.finish();
    result.map_err(Problem::runtime)
}

#[allow(clippy::too_many_arguments)]
pub(super) fn up(
    source: Source<'_>,
    g: &GlobalArgs,
    to: Option<u64>,
    dry_run: bool,
    per_migration: bool,
    policy: PolicyArgs,
    json: bool,
) -> CmdResult {
    let m = load(source, g)?;
    // A database that does not exist yet is planned against an empty in-memory one, and the file is created only
    // when there is work to do: a dry run or a refused plan leaves nothing behind.
    let missing = !db_path(g)?.exists();
    let mut conn = if missing {
        Connection::open_in_memory().map_err(|e| Problem::new("database", e.to_string(), EXIT_FAILED))?
    } else {
        open(g, Open::Create)?
    };
    let mode = if per_migration { Mode::PerMigration } else { Mode::Batch };
    let target = to.map_or(Target::Latest, Target::Version);
    let mig = migrator(&m, g, policy).target(target).mode(mode);
    let plan = mig.clone().dry_run(true).run(&mut conn).map_err(Problem::runtime)?;
    if plan.to_version < plan.from_version {
        return Err(Problem::usage(format!(
            "`up --to {}` would roll back from version {}",
            plan.to_version, plan.from_version
        ))
        .hint(format!("use `down --to {}`", plan.to_version)));
    }
    if dry_run || plan.is_noop() {
        return Ok(Outcome::new(&plan, render_report(&plan)));
    }
    if missing {
        conn = open(g, Open::Create)?;
    }
    let report = run_with_progress(mig, g, &mut conn, &plan, json)?;
    Ok(Outcome::new(&report, render_report(&report)))
}

/// The version `steps` applied migrations below the newest applied one.
pub(super) fn steps_target(st: &Status, steps: u64) -> u64 {
    let mut applied: Vec<u64> = st
        .entries
        .iter()
        .filter(|e| e.applied_at.is_some())
        .map(|e| e.version)
        .collect();
    applied.sort_unstable();
    let keep = applied
        .len()
        .saturating_sub(usize::try_from(steps).unwrap_or(usize::MAX));
    keep.checked_sub(1).map_or(0, |i| applied[i])
}

#[allow(clippy::too_many_arguments)]
pub(super) fn down(
    source: Source<'_>,
    g: &GlobalArgs,
    to: Option<u64>,
    steps: Option<u64>,
    dry_run: bool,
    policy: PolicyArgs,
    json: bool,
) -> CmdResult {
    let m = load(source, g)?;
    let mut conn = open(g, Open::ReadWrite)?;
    let base = migrator(&m, g, policy);
    let target = match (to, steps) {
        (Some(v), _) => v,
        (None, Some(n)) => steps_target(&base.status(&conn).map_err(Problem::runtime)?, n),
        // invariant: clap requires --to unless --steps is present.
        (None, None) => return Err(Problem::usage("pass --to <V> or --steps <N>")),
    };
    let mig = base.target(Target::Version(target));
    let plan = mig.clone().dry_run(true).run(&mut conn).map_err(Problem::runtime)?;
    if plan.to_version > plan.from_version {
        return Err(Problem::usage(format!(
            "`down --to {target}` would apply migrations: the database is at version {}",
            plan.from_version
        ))
        .hint(format!("use `up --to {target}`")));
    }
    if dry_run || plan.is_noop() {
        return Ok(Outcome::new(&plan, render_report(&plan)));
    }
    let db = db_path(g)?.display().to_string();
    let what = format!(
        "`down` rolls back {} migration(s) of {db}, from version {} to {}, and down scripts can drop data",
        plan.plan.steps.len(),
        plan.from_version,
        plan.to_version
    );
    if !g.yes && !json {
        // Show what would run before asking (or refusing).
        let mut err = anstream::stderr();
        let text = format!("{}\n{}", paint(BOLD, "plan:"), plan.plan);
        let _ = std::io::Write::write_all(&mut err, text.as_bytes());
    }
    confirm(g.yes, &what, "roll back?")?;
    let report = run_with_progress(mig, g, &mut conn, &plan, json)?;
    Ok(Outcome::new(&report, render_report(&report)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::State;

    fn entry(version: u64, applied: bool) -> crate::status::Entry {
        crate::status::Entry {
            version,
            name: format!("m{version}"),
            file: format!("migrations/{version}_m.sql"),
            state: if applied { State::Applied } else { State::Pending },
            checksum: None,
            applied_checksum: None,
            applied_at: applied.then(|| "2026-01-01T00:00:00Z".to_owned()),
            duration_us: None,
        }
    }

    #[test]
    fn steps_count_applied_migrations_only() {
        let st = Status {
            set_name: "default".into(),
            history_table: "_migrations".into(),
            history_exists: true,
            current_version: 30,
            latest_version: 40,
            entries: vec![entry(10, true), entry(20, true), entry(30, true), entry(40, false)],
            last_failure: None,
            sqlite: crate::SqliteVersions::new(None),
        };
        assert_eq!(steps_target(&st, 1), 20);
        assert_eq!(steps_target(&st, 2), 10);
        assert_eq!(steps_target(&st, 3), 0);
        assert_eq!(steps_target(&st, 99), 0);
    }
}
