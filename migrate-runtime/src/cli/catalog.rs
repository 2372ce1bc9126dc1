//! The commands over a catalog (`--data-dir DIR`): a directory of subdirectories loaded at run time
//! (`Databases::from_dir`) or an application's compiled-in [`Databases`].
//!
//! Catalog-wide: `status [--check]`, `up`, `verify`, `history`, `backup`, `backups`, `restore <run>`.
//! `--database NAME` runs any command on that one database through the single-database implementation (its file
//! in the data directory as `--db`), except `up` on a database whose migrations require another (the catalog
//! orders those; run `up` without `--database`), and `down --to V`, which goes through
//! [`Databases::rollback_all`]: refused when another database's applied migration requires `NAME` at a higher
//! version, one backup run first. `down --steps`/`--dry-run`/policy flags keep the single-database path, except on
//! a database another one requires (they could not check that).

use super::commands::{self, CmdResult};
use super::output::{EXIT_CHECK, EXIT_FAILED, Outcome, Output, Problem, confirm};
use super::{Cli, Command, GlobalArgs, Source};
use crate::backup::BackupPolicy;
use crate::catalog::{CatalogError, CatalogOptions, Databases, list_runs, restore_run};
use litemigrate_core::compile::CompileOptions;
use std::borrow::Cow;
use std::fmt::Write;
use std::path::Path;

/// Where the catalog comes from.
#[derive(Debug, Clone, Copy)]
pub enum CatalogSource<'a> {
    /// Load `--dir` (one subdirectory per database) with the rules of `embed_databases!`.
    Dir,
    /// The application's compiled-in catalog.
    Embedded(&'a Databases),
}

fn problem(e: CatalogError) -> Problem {
    let kind = format!("catalog_{}", e.as_str());
    let hint = match &e {
        CatalogError::NeedsBaseline { database, .. } => Some(format!(
            "`migrate --data-dir … --database {database} baseline <version>`"
        )),
        CatalogError::RollbackBlocked { needed_by, version, .. } => Some(format!(
            "roll `{needed_by}` back below {version} first: `migrate --data-dir … --database {needed_by} down --to <V>`"
        )),
        CatalogError::Failed { .. } | CatalogError::NotRestored { .. } => {
            Some("`backups` lists the backup runs; `restore <run>` puts every file of one back".to_owned())
        }
        _ => None,
    };
    let p = Problem::new(&kind, e.to_string(), EXIT_FAILED);
    match hint {
        Some(h) => p.hint(h),
        None => p,
    }
}

fn load<'a>(source: CatalogSource<'a>, g: &GlobalArgs) -> Result<Cow<'a, Databases>, Problem> {
    match source {
        CatalogSource::Embedded(d) => Ok(Cow::Borrowed(d)),
        CatalogSource::Dir => {
            let dir = commands::migrations_dir(g);
            let mut opts = CompileOptions::default();
            if let Some(steps) = g.validation_steps {
                opts.max_steps = steps;
            }
            Databases::from_dir(&dir, &opts).map(Cow::Owned).map_err(problem)
        }
    }
}

/// Runs a command over the catalog.
pub(crate) fn dispatch(source: CatalogSource<'_>, cli: &Cli, out: &Output, data_dir: &Path) -> CmdResult {
    let g = &cli.global;
    if g.db.is_some() {
        return Err(
            Problem::usage("--db names one file; with --data-dir the files are the catalog's")
                .hint("name one database with --database NAME"),
        );
    }
    if let (CatalogSource::Embedded(_), Some(dir)) = (source, &g.dir) {
        return Err(Problem::usage(format!(
            "--dir {} is for the standalone `migrate` binary; this program carries its catalog compiled in",
            dir.display()
        )));
    }
    let cat = load(source, g)?;
    if let Some(name) = &g.database {
        return one_database(&cat, cli, out, data_dir, name);
    }
    let opts = CatalogOptions {
        backup: if g.no_backup {
            BackupPolicy::Off
        } else {
            BackupPolicy::Required
        },
        ..CatalogOptions::default()
    };
    match &cli.command {
        Command::Status { check } => {
            let st = cat.status_all(data_dir).map_err(problem)?;
            let mut o = Outcome::new(&st, st.to_string());
            if *check && !st.is_up_to_date() {
                o.problem = Some(
                    Problem::new("check_failed", "the catalog is not up to date", EXIT_CHECK)
                        .hint("run `up` to bring every database to its newest version"),
                );
            }
            Ok(o)
        }
        Command::Up {
            to: None,
            dry_run: false,
            per_migration: false,
            ..
        } => {
            let report = cat.migrate_all_with(data_dir, &opts).map_err(problem)?;
            Ok(Outcome::new(&report, report.to_string()))
        }
        Command::Up { .. } => Err(
            Problem::usage("--to, --dry-run and --per-migration apply to one database")
                .hint("name it with --database NAME"),
        ),
        Command::History => {
            let st = cat.status_all(data_dir).map_err(problem)?;
            let mut text = String::new();
            for d in &st.databases {
                for e in d
                    .status
                    .iter()
                    .flat_map(|s| s.entries.iter())
                    .filter(|e| e.applied_at.is_some())
                {
                    // `write!` into a String cannot fail.
                    let _ = writeln!(
                        text,
                        "{:<12} {:>6}  {:<32} {}  {:.3} ms",
                        d.database,
                        e.version,
                        e.name,
                        e.applied_at.as_deref().unwrap_or(""),
                        e.duration_us.unwrap_or(0) as f64 / 1000.0
                    );
                }
            }
            Ok(Outcome::new(&st, text))
        }
        Command::Verify => verify(&cat, data_dir),
        Command::Backup { compress, .. } => {
            let mut opts = opts;
            opts.backup_options.compress = *compress;
            let run = cat.backup_all(data_dir, &opts).map_err(problem)?;
            let text = format!(
                "backup run {} ({} file(s)) in {}\n",
                run.id,
                run.files.len(),
                run.dir.display()
            );
            Ok(Outcome::new(&run, text))
        }
        Command::Backups { .. } => {
            let runs = list_runs(data_dir).map_err(problem)?;
            let mut text = String::new();
            for r in &runs {
                let files: Vec<String> = r
                    .files
                    .iter()
                    .map(|f| format!("{} v{}->v{}", f.database, f.version_before, f.version_after))
                    .collect();
                let _ = writeln!(text, "{}  {}  {}  {}", r.id, r.created_at, r.reason, files.join(", "));
            }
            if runs.is_empty() {
                text.push_str("no backup runs\n");
            }
            Ok(Outcome::new(serde_json::json!({ "runs": runs }), text))
        }
        Command::Restore { id, dry_run, .. } => {
            let run = crate::catalog::find_run(data_dir, id).map_err(problem)?;
            if *dry_run {
                let text = format!(
                    "would restore {} file(s) and {} extra path(s) from {}\n",
                    run.files.len(),
                    run.extras.len(),
                    run.id
                );
                return Ok(Outcome::new(&run, text));
            }
            confirm(
                g.yes,
                &format!(
                    "restoring backup run {} replaces {} database file(s)",
                    run.id,
                    run.files.len()
                ),
                "restore?",
            )?;
            let done = restore_run(data_dir, id, &Default::default()).map_err(problem)?;
            let text = done.iter().map(|p| format!("restored {}\n", p.display())).collect();
            Ok(Outcome::new(
                serde_json::json!({ "run": run.id, "restored": done }),
                text,
            ))
        }
        other => Err(
            Problem::usage(format!("`{}` works on one database of a catalog", other.name()))
                .hint("name it with --database NAME"),
        ),
    }
}

fn verify(cat: &Databases, data_dir: &Path) -> CmdResult {
    let mut results = Vec::new();
    let mut text = String::new();
    let mut failed = Vec::new();
    for d in cat.databases() {
        let path = d.path_in(data_dir);
        if !path.exists() {
            failed.push(format!("{}: {} does not exist", d.name(), path.display()));
            continue;
        }
        let conn = rusqlite::Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(|e| Problem::new("database", format!("{}: {e}", path.display()), EXIT_FAILED))?;
        match d.migrations().verify(&conn) {
            Ok(v) => {
                let _ = writeln!(
                    text,
                    "{}: ok (integrity {}, schema checked: {})",
                    d.name(),
                    v.integrity,
                    v.schema_checked
                );
                results.push(serde_json::json!({ "database": d.name(), "verification": v }));
            }
            Err(e) => failed.push(format!("{}: {e}", d.name())),
        }
    }
    let mut o = Outcome::new(serde_json::json!({ "databases": results }), text);
    if !failed.is_empty() {
        o.problem = Some(Problem::new("check_failed", failed.join("; "), EXIT_CHECK));
    }
    Ok(o)
}

fn one_database(cat: &Databases, cli: &Cli, out: &Output, data_dir: &Path, name: &str) -> CmdResult {
    let d = cat.get(name).ok_or_else(|| {
        let known: Vec<&str> = cat.databases().iter().map(|d| d.name()).collect();
        problem(CatalogError::UnknownDatabase {
            name: name.to_owned(),
            known: known.join(", "),
        })
    })?;
    if matches!(cli.command, Command::Up { .. }) && cat.requirements().iter().any(|r| r.database() == name) {
        return Err(Problem::usage(format!(
            "`{name}` has migrations that require other databases; the catalog orders them"
        ))
        .hint("run `up` without --database"));
    }
    if let Command::Down {
        to,
        steps,
        dry_run,
        policy,
        ..
    } = &cli.command
    {
        let plain = !*dry_run && steps.is_none() && !policy.allow_missing && !policy.allow_unknown_rollback;
        if let (Some(v), true) = (to, plain) {
            return down_across(cat, &cli.global, data_dir, name, *v);
        }
        if cat.requirements().iter().any(|r| r.needs() == name) {
            return Err(Problem::usage(format!(
                "other databases' migrations require `{name}`: roll it back with plain `down --to <V>`, which checks \
                 them"
            )));
        }
    }
    let mut sub = cli.clone();
    sub.global.db = Some(d.path_in(data_dir));
    sub.global.dir = None;
    sub.global.data_dir = None;
    sub.global.database = None;
    sub.global.validation_steps = None;
    commands::dispatch(Source::Embedded(d.migrations()), &sub, out)
}

/// `--database NAME down --to V` over a catalog: [`Databases::rollback_all`] of that one database.
fn down_across(cat: &Databases, g: &GlobalArgs, data_dir: &Path, name: &str, to: u64) -> CmdResult {
    confirm(
        g.yes,
        &format!("`down` rolls database `{name}` back to version {to}, and down scripts can drop data"),
        "roll back?",
    )?;
    let opts = CatalogOptions {
        backup: if g.no_backup {
            BackupPolicy::Off
        } else {
            BackupPolicy::Required
        },
        ..CatalogOptions::default()
    };
    let report = cat.rollback_all_with(data_dir, &[(name, to)], &opts).map_err(problem)?;
    Ok(Outcome::new(&report, report.to_string()))
}
