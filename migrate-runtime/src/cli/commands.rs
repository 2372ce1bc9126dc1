//! What every command shares: the dispatch from [`Command`] to the command's file, loading the set, opening the
//! database, and the migrator and backup settings from the global options. The commands themselves live one group
//! per file (`inspect`, `apply`, `backups`, `fts`, `schema`, `new`); their text is drawn in `output`.

use super::output::{EXIT_FAILED, Outcome, Problem};
use super::{Cli, Command, GlobalArgs, PolicyArgs, Source, apply, backups, fts, inspect, schema};
use crate::backup::{BackupInfo, BackupOptions};
use crate::history::HistoryTable;
use crate::migrator::Migrator;
use crate::table::Migrations;
use litemigrate_core::compile::CompileOptions;
use rusqlite::{Connection, OpenFlags};
use serde::Serialize;
use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub(super) type CmdResult = Result<Outcome, Problem>;

pub(crate) fn dispatch(source: Source<'_>, cli: &Cli, out: &super::output::Output) -> CmdResult {
    let g = &cli.global;
    if let (Source::Embedded(m), Some(dir)) = (source, &g.dir) {
        return Err(Problem::usage(format!(
            "--dir {} is for the standalone `migrate` binary; this program carries its migrations compiled in \
             (set `{}`, {} migration(s), newest {})",
            dir.display(),
            m.set_name(),
            m.len(),
            m.latest_version()
        ))
        .hint("drop --dir (and unset MIGRATE_DIR)"));
    }
    if let (Source::Embedded(_), Some(_)) = (source, g.validation_steps) {
        return Err(Problem::usage(
            "--validation-steps bounds the validation of --dir; this program's migrations were validated when it was built",
        )
        .hint("drop --validation-steps (the build's bound is `validation_steps = N` in embed_migrations!)"));
    }
    let json = out.json;
    match &cli.command {
        Command::New {
            name,
            reversible,
            timestamp,
        } => match source {
            Source::Dir => super::new::new(&migrations_dir(g), name, *reversible, *timestamp),
            Source::Embedded(_) => Err(Problem::usage(
                "`new` writes files into the source tree; this program carries its migrations compiled in",
            )
            .hint("run the standalone binary in the crate: `migrate --dir migrations new <name>`")),
        },
        Command::Status { check } => inspect::status(source, g, *check),
        Command::Up {
            to,
            dry_run,
            per_migration,
            policy,
        } => apply::up(source, g, *to, *dry_run, *per_migration, *policy, json),
        Command::Down {
            to,
            steps,
            dry_run,
            policy,
        } => apply::down(source, g, *to, *steps, *dry_run, *policy, json),
        Command::Verify => inspect::verify(source, g),
        Command::History => inspect::history(source, g),
        Command::Baseline { version } => inspect::baseline(source, g, *version),
        Command::Backup { compress } => backups::backup_now(source, g, *compress, json),
        Command::Backups => backups::backups(g),
        Command::Restore { id, dry_run } => backups::restore(source, g, id, *dry_run, json),
        Command::Fts(cmd) => fts::fts_command(g, cmd),
        Command::Schema { live, embedded, diff } => schema::schema(source, g, *live, *embedded, *diff),
        Command::Fleet(args) => super::fleet::fleet(source, g, args, json),
        Command::Wait(args) => super::wait::wait(source, g, args),
    }
}

pub(super) fn migrations_dir(g: &GlobalArgs) -> PathBuf {
    g.dir.clone().unwrap_or_else(|| PathBuf::from("migrations"))
}

/// The set: compiled in, or `--dir` loaded and compiled with the macro's rules.
pub(super) fn load<'a>(source: Source<'a>, g: &GlobalArgs) -> Result<Cow<'a, Migrations>, Problem> {
    match source {
        Source::Embedded(m) => match &g.set {
            Some(s) if s != m.set_name() => Err(Problem::usage(format!(
                "--set {s}: this program's compiled-in set is `{}`",
                m.set_name()
            ))),
            _ => Ok(Cow::Borrowed(m)),
        },
        Source::Dir => {
            let dir = migrations_dir(g);
            if !dir.is_dir() {
                let what = if dir.exists() {
                    "is not a directory"
                } else {
                    "does not exist"
                };
                return Err(Problem::new(
                    "bad_directory",
                    format!("migrations directory {} {what}", dir.display()),
                    EXIT_FAILED,
                )
                .hint("pass --dir with the directory that holds the .sql files (or set MIGRATE_DIR)"));
            }
            let mut opts = CompileOptions::default();
            if let Some(steps) = g.validation_steps {
                opts.max_steps = steps;
            }
            let m = Migrations::from_dir(&dir, &opts).map_err(Problem::runtime)?;
            Ok(Cow::Owned(match &g.set {
                Some(s) => m.with_set_name(s),
                None => m,
            }))
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Open {
    ReadOnly,
    ReadWrite,
    /// Create the file if it does not exist (`up`, `restore`).
    Create,
}

pub(super) fn db_path(g: &GlobalArgs) -> Result<&Path, Problem> {
    g.db.as_deref()
        .ok_or_else(|| Problem::usage("no database given").hint("pass --db <file> (or set MIGRATE_DB)"))
}

pub(super) fn open(g: &GlobalArgs, mode: Open) -> Result<Connection, Problem> {
    let path = db_path(g)?;
    if mode != Open::Create && !path.exists() {
        return Err(Problem::new(
            "database_not_found",
            format!("database {} does not exist", path.display()),
            EXIT_FAILED,
        )
        .hint("check --db; `up` creates a new database, `restore` recreates one from a backup"));
    }
    // SQLite would call a half-restored file "not a database"; only `restore` (which opens with `Create`) can finish
    // it, so every other command says so first.
    if mode != Open::Create && crate::backup::inplace::is_torn(path).unwrap_or(false) {
        return Err(Problem::backup(crate::backup::inplace::interrupted(
            path,
            "found when opening it".into(),
        )));
    }
    let flags = match mode {
        Open::ReadOnly => OpenFlags::SQLITE_OPEN_READ_ONLY,
        Open::ReadWrite => OpenFlags::SQLITE_OPEN_READ_WRITE,
        Open::Create => OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE,
    } | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(|e| {
        Problem::new(
            "database",
            format!("cannot open database {}: {e}", path.display()),
            EXIT_FAILED,
        )
    })?;
    // Wait for a running application's write lock instead of failing at once.
    conn.busy_timeout(Duration::from_secs(5))
        .map_err(|e| Problem::new("database", format!("setting the busy timeout: {e}"), EXIT_FAILED))?;
    if mode == Open::ReadOnly {
        check_readable(&conn, path)?;
    }
    Ok(conn)
}

/// One read of the schema, so a read-only command explains a database it cannot read instead of failing later with
/// SQLite's bare "attempt to write a readonly database".
fn check_readable(conn: &Connection, path: &Path) -> Result<(), Problem> {
    match conn.query_row("PRAGMA schema_version", [], |r| r.get::<_, i64>(0)) {
        Ok(_) => Ok(()),
        // A writer was killed mid-transaction and left a hot rollback journal: the first connection that may write
        // rolls it back, which a read-only one may not do.
        Err(rusqlite::Error::SqliteFailure(e, _)) if e.extended_code == rusqlite::ffi::SQLITE_READONLY_ROLLBACK => {
            Err(Problem::new(
                "hot_journal",
                format!(
                    "database {} has an unfinished transaction: a writer was interrupted and left its rollback \
                     journal ({}-journal), which must be rolled back before anything can read the database",
                    path.display(),
                    path.display()
                ),
                EXIT_FAILED,
            )
            .hint(
                "open the database read-write once, which rolls the transaction back: any read-write connection's \
                 first read does (`migrate up` does, and then applies what is pending); do not delete the -journal \
                 file, that would corrupt the database",
            ))
        }
        // Anything else the command itself reports, as it always has.
        Err(_) => Ok(()),
    }
}

pub(super) fn migrator<'m>(m: &'m Migrations, g: &GlobalArgs, policy: PolicyArgs) -> Migrator<'m> {
    m.migrator()
        .history_table(g.history_table.clone())
        .allow_out_of_order(policy.allow_out_of_order)
        .allow_missing(policy.allow_missing)
        .allow_unknown_rollback(policy.allow_unknown_rollback)
}

pub(super) fn backup_options(g: &GlobalArgs) -> BackupOptions {
    BackupOptions {
        dir: g.backup_dir.clone(),
        ..BackupOptions::default()
    }
}

pub(super) fn backup_dir(g: &GlobalArgs) -> Result<PathBuf, Problem> {
    match (&g.backup_dir, &g.db) {
        (Some(d), _) => Ok(d.clone()),
        (None, Some(db)) => Ok(backup_options(g).dir_for(db)),
        (None, None) => Err(Problem::usage("no backup directory")
            .hint("pass --db <file> (backups live in backups/ next to it) or --backup-dir <dir>")),
    }
}

/// A [`BackupInfo`] with its path (which the manifest itself does not store).
#[derive(Serialize)]
pub(super) struct BackupView<'a> {
    #[serde(flatten)]
    info: &'a BackupInfo,
    path: &'a Path,
}

pub(super) fn view(info: &BackupInfo) -> BackupView<'_> {
    BackupView { info, path: &info.path }
}

pub(super) fn current_version(m: &Migrations, g: &GlobalArgs, conn: &Connection) -> u64 {
    // A database this set cannot read the history of can still be backed up or restored over.
    migrator(m, g, PolicyArgs::default())
        .status(conn)
        .map_or(0, |s| s.current_version)
}

/// The set name without loading the set (`--set`, the compiled-in name, or `default`).
pub(super) fn set_name<'a>(source: Source<'a>, g: &'a GlobalArgs) -> &'a str {
    match (source, &g.set) {
        (Source::Embedded(m), _) => m.set_name(),
        (Source::Dir, Some(s)) => s,
        (Source::Dir, None) => crate::dynamic::DEFAULT_SET,
    }
}

/// The newest version the history records, read leniently (`HistoryTable::max_version`): backups and restores must
/// work when the migrations directory does not load (a disaster is no time to fix a file first). 0 when there is no
/// readable history.
pub(super) fn recorded_version(conn: &Connection, g: &GlobalArgs, set: &str) -> u64 {
    HistoryTable::new(&g.history_table)
        .and_then(|t| t.max_version(conn, set))
        .ok()
        .flatten()
        .unwrap_or(0)
}
