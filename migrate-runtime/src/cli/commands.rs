//! What every command shares: the dispatch from [`Command`] to the command's file, loading the set, opening the
//! database, and the migrator and backup settings from the global options. The commands themselves live one group
//! per file (`inspect`, `apply`, `backups`, `fts`, `schema`, `new`); their text is drawn in `output`.

use super::DbMode;
use super::output::{EXIT_FAILED, EXIT_USAGE, Outcome, Problem};
use super::{Cli, Command, GlobalArgs, PolicyArgs, Source, apply, backups, fts, inspect, redo, schema};
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
    if matches!(source, Source::Embedded(_))
        && (g.no_validate_sql || g.no_check_down || g.no_rows || !g.validate_functions.is_empty() || g.layout.is_some())
    {
        return Err(Problem::usage(
            "--no-validate-sql, --no-check-down, --no-rows, --validate-function and --layout choose how --dir is loaded; this \
             program's migrations were loaded and validated when it was built",
        )
        .hint("drop them (the build's options are `validate_sql`, `check_down`, `validate_functions`, `layout`)"));
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
            ..
        } => apply::up(source, g, *to, *dry_run, *per_migration, (*policy).into(), json),
        Command::Down {
            to,
            steps,
            dry_run,
            policy,
            ..
        } => apply::down(source, g, *to, *steps, *dry_run, (*policy).into(), json),
        Command::Redo { count, dry_run, .. } => redo::redo(source, g, *count, *dry_run, json),
        Command::Verify => inspect::verify(source, g),
        Command::History => inspect::history(source, g),
        Command::Baseline { version } => inspect::baseline(source, g, *version),
        Command::Adopt(args) => super::adopt::adopt(source, g, args),
        Command::Backup { compress, .. } => backups::backup_now(source, g, *compress, json),
        Command::Backups { all, .. } => backups::backups(g, *all),
        Command::Restore { id, dry_run, force, .. } => backups::restore(source, g, id, *dry_run, *force, json),
        Command::Fts(cmd) => fts::fts_command(g, cmd),
        Command::Schema { live, embedded, diff } => schema::schema(source, g, *live, *embedded, *diff),
        Command::Completions { shell } => Ok(super::completions::completions(*shell)),
        Command::Squash(a) => super::squash::squash(source, g, a.to, a.out.as_deref(), a.replace),
        Command::Lint(args) => match source {
            Source::Dir => super::lint::lint(&migrations_dir(g), args, g.validation_steps),
            Source::Embedded(_) => Err(Problem::usage(
                "`lint` reads the migration files; this program's migrations were checked when it was built",
            )
            .hint("run the standalone binary in the crate: `migrate --dir migrations lint`")),
        },
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
            opts.run_sql = !g.no_validate_sql;
            opts.check_down = !g.no_check_down;
            let m = {
                let analysis = litemigrate_core::compile::Analysis {
                    generate: !g.no_rows,
                    stubs: g.validate_functions.clone(),
                    ..Default::default()
                };
                Migrations::from_dir_analysed(&dir, g.layout, &opts, &analysis).map_err(Problem::runtime)?
            };
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
        .ok_or_else(|| Problem::usage("no database given").hint("pass --db <file> (or set MIGRATE_DB or DATABASE_URL)"))
}

pub(super) fn open(g: &GlobalArgs, mode: Open) -> Result<Connection, Problem> {
    let path = db_path(g)?;
    let mode = url_mode(g, path, mode)?;
    if g.db_mode == Some(DbMode::Memory) {
        // Nothing on disk to find, tear or create: one private database for this command.
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_MEMORY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        return Connection::open_with_flags(path, flags).map_err(|e| {
            Problem::new(
                "database",
                format!("cannot open an in-memory database: {e}"),
                EXIT_FAILED,
            )
        });
    }
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

/// The open mode once a database URL's `?mode=` is applied: `ro` refuses a command that writes (before SQLite would
/// fail mid-way with "attempt to write a readonly database"), `rw` never creates the file.
fn url_mode(g: &GlobalArgs, path: &Path, mode: Open) -> Result<Open, Problem> {
    match (g.db_mode, mode) {
        (Some(DbMode::ReadOnly), Open::ReadWrite | Open::Create) => Err(Problem::new(
            "read_only_database",
            format!(
                "the database URL opens {} read-only (mode=ro), and this command opens it read-write",
                path.display()
            ),
            EXIT_USAGE,
        )
        .hint("drop `?mode=ro` (or use mode=rw) for a command that changes the database")),
        (Some(DbMode::ReadWrite), Open::Create) => Ok(Open::ReadWrite),
        _ => Ok(mode),
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

/// A [`BackupInfo`] with its path (which the manifest itself does not store) and whether it was taken from another
/// database file than `--db`.
#[derive(Serialize)]
pub(super) struct BackupView<'a> {
    #[serde(flatten)]
    info: &'a BackupInfo,
    path: &'a Path,
    foreign: bool,
}

pub(super) fn view(info: &BackupInfo) -> BackupView<'_> {
    view_marked(info, false)
}

pub(super) fn view_marked(info: &BackupInfo, foreign: bool) -> BackupView<'_> {
    BackupView {
        info,
        path: &info.path,
        foreign,
    }
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
        (Source::Dir, None) => litemigrate_core::layout::DEFAULT_SET,
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
