//! The commands: each loads what it needs, calls the runtime's public API, and returns an [`Outcome`] (JSON data and
//! human text) or a [`Problem`].

use super::output::{
    BOLD, DIM, EXIT_CHECK, EXIT_FAILED, GREEN, Outcome, Problem, Progress, RED, YELLOW, confirm, paint, size,
    with_spinner,
};
use super::{Cli, Command, FtsCommand, GlobalArgs, PolicyArgs, Source};
use crate::backup::{self, BackupInfo, BackupOptions, BackupPolicy, Reason};
use crate::error::ErrorKind;
use crate::migrator::{Migrator, Mode, Report, Target};
use crate::status::{State, Status};
use crate::table::Migrations;
use crate::{Failure, fts};
use migrate_core::compile::CompileOptions;
use migrate_core::schema::Schema;
use rusqlite::{Connection, OpenFlags};
use serde::Serialize;
use serde_json::json;
use std::borrow::Cow;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

type CmdResult = Result<Outcome, Problem>;

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
        Command::Status { check } => status(source, g, *check),
        Command::Up {
            to,
            dry_run,
            per_migration,
            policy,
        } => up(source, g, *to, *dry_run, *per_migration, *policy, json),
        Command::Down {
            to,
            steps,
            dry_run,
            policy,
        } => down(source, g, *to, *steps, *dry_run, *policy, json),
        Command::Verify => verify(source, g),
        Command::History => history(source, g),
        Command::Baseline { version } => baseline(source, g, *version),
        Command::Backup { compress } => backup_now(source, g, *compress, json),
        Command::Backups => backups(g),
        Command::Restore { id, dry_run } => restore(source, g, id, *dry_run, json),
        Command::Fts(cmd) => fts_command(g, cmd),
        Command::Schema { live, embedded, diff } => schema(source, g, *live, *embedded, *diff),
    }
}

fn migrations_dir(g: &GlobalArgs) -> PathBuf {
    g.dir.clone().unwrap_or_else(|| PathBuf::from("migrations"))
}

/// The set: compiled in, or `--dir` loaded and compiled with the macro's rules.
fn load<'a>(source: Source<'a>, g: &GlobalArgs) -> Result<Cow<'a, Migrations>, Problem> {
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
            let m = Migrations::from_dir(&dir, &CompileOptions::default()).map_err(Problem::runtime)?;
            Ok(Cow::Owned(match &g.set {
                Some(s) => m.with_set_name(s),
                None => m,
            }))
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Open {
    ReadOnly,
    ReadWrite,
    /// Create the file if it does not exist (`up`, `restore`).
    Create,
}

fn db_path(g: &GlobalArgs) -> Result<&Path, Problem> {
    g.db.as_deref()
        .ok_or_else(|| Problem::usage("no database given").hint("pass --db <file> (or set MIGRATE_DB)"))
}

fn open(g: &GlobalArgs, mode: Open) -> Result<Connection, Problem> {
    let path = db_path(g)?;
    if mode != Open::Create && !path.exists() {
        return Err(Problem::new(
            "database_not_found",
            format!("database {} does not exist", path.display()),
            EXIT_FAILED,
        )
        .hint("check --db; `up` creates a new database, `restore` recreates one from a backup"));
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
    Ok(conn)
}

fn migrator<'m>(m: &'m Migrations, g: &GlobalArgs, policy: PolicyArgs) -> Migrator<'m> {
    m.migrator()
        .history_table(g.history_table.clone())
        .allow_out_of_order(policy.allow_out_of_order)
        .allow_missing(policy.allow_missing)
        .allow_unknown_rollback(policy.allow_unknown_rollback)
}

fn backup_options(g: &GlobalArgs) -> BackupOptions {
    BackupOptions {
        dir: g.backup_dir.clone(),
        ..BackupOptions::default()
    }
}

fn backup_dir(g: &GlobalArgs) -> Result<PathBuf, Problem> {
    match (&g.backup_dir, &g.db) {
        (Some(d), _) => Ok(d.clone()),
        (None, Some(db)) => Ok(backup_options(g).dir_for(db)),
        (None, None) => Err(Problem::usage("no backup directory")
            .hint("pass --db <file> (backups live in backups/ next to it) or --backup-dir <dir>")),
    }
}

/// A [`BackupInfo`] with its path (which the manifest itself does not store).
#[derive(Serialize)]
struct BackupView<'a> {
    #[serde(flatten)]
    info: &'a BackupInfo,
    path: &'a Path,
}

fn view(info: &BackupInfo) -> BackupView<'_> {
    BackupView { info, path: &info.path }
}

// ---------------------------------------------------------------------------------------------------------------
// status, verify, history, baseline

fn state_style(s: State) -> anstyle::Style {
    match s {
        State::Applied | State::Baseline => GREEN,
        State::Pending => YELLOW,
        _ => RED,
    }
}

/// The width of the "applied at" column.
fn applied_width<'a>(entries: impl Iterator<Item = &'a crate::status::Entry>) -> usize {
    entries
        .filter_map(|e| e.applied_at.as_ref().map(String::len))
        .max()
        .unwrap_or(0)
        .max("applied at".len())
}

fn ms(us: u64) -> String {
    format!("{:.1} ms", us as f64 / 1000.0)
}

fn render_status(st: &Status) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} set `{}`: database at version {}, migrations up to {}",
        paint(BOLD, "status"),
        st.set_name,
        st.current_version,
        st.latest_version
    );
    let w = st
        .entries
        .iter()
        .map(|e| e.version.to_string().len())
        .max()
        .unwrap_or(1)
        .max(7);
    let aw = applied_width(st.entries.iter());
    let _ = writeln!(
        s,
        "  {}",
        paint(
            BOLD,
            format!(
                "{:>w$}  {:<12}  {:<aw$}  {:>9}  migration",
                "version", "state", "applied at", "took"
            )
        )
    );
    for e in &st.entries {
        let _ = writeln!(
            s,
            "  {:>w$}  {}  {:<aw$}  {:>9}  {} {}",
            e.version,
            paint(state_style(e.state), format!("{:<12}", e.state.to_string())),
            e.applied_at.as_deref().unwrap_or("-"),
            e.duration_us.map(ms).unwrap_or_else(|| "-".into()),
            e.name,
            paint(DIM, format!("({})", e.file)),
        );
    }
    let count = |state| st.in_state(state).count();
    let _ = writeln!(
        s,
        "  {} applied, {} pending{}",
        count(State::Applied) + count(State::Baseline),
        count(State::Pending),
        problems_summary(st)
            .map(|p| format!(", {}", paint(RED, p)))
            .unwrap_or_default()
    );
    for e in st.in_state(State::Divergent) {
        let _ = writeln!(
            s,
            "  {} {} was edited after it was applied (applied checksum {}, file checksum {}); restore the file \
             and add a new migration for the change",
            paint(RED, "!"),
            e.file,
            e.applied_checksum.map(|c| c.short()).unwrap_or_default(),
            e.checksum.map(|c| c.short()).unwrap_or_default(),
        );
    }
    if let Some(f) = &st.last_failure {
        let _ = writeln!(
            s,
            "  {} {} {} {} at {}: {}",
            paint(RED, "last failure:"),
            f.direction,
            f.migration.version,
            f.migration.name,
            f.failed_at,
            f.error
        );
    }
    s
}

fn problems_summary(st: &Status) -> Option<String> {
    let parts: Vec<String> = [State::Divergent, State::Missing, State::Ahead, State::OutOfOrder]
        .into_iter()
        .filter_map(|state| {
            let n = st.in_state(state).count();
            (n > 0).then(|| format!("{n} {}", state.to_string().to_lowercase()))
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

fn status(source: Source<'_>, g: &GlobalArgs, check: bool) -> CmdResult {
    let m = load(source, g)?;
    let conn = open(g, Open::ReadOnly)?;
    let st = migrator(&m, g, PolicyArgs::default())
        .status(&conn)
        .map_err(Problem::runtime)?;
    let mut outcome = Outcome::new(&st, render_status(&st));
    if check && !st.is_up_to_date() {
        let pending = st.pending().count();
        let mut what = Vec::new();
        if pending > 0 {
            what.push(format!("{pending} pending"));
        }
        what.extend(problems_summary(&st));
        let hint = if problems_summary(&st).is_none() {
            "run `up` to apply the pending migrations"
        } else {
            "see the notes above; `verify` explains each problem"
        };
        outcome.problem = Some(
            Problem::new(
                "check_failed",
                format!("database is not up to date: {}", what.join(", ")),
                EXIT_CHECK,
            )
            .hint(hint),
        );
    }
    Ok(outcome)
}

fn is_check_kind(k: ErrorKind) -> bool {
    matches!(
        k,
        ErrorKind::Divergent
            | ErrorKind::Missing
            | ErrorKind::DatabaseAhead
            | ErrorKind::OutOfOrder
            | ErrorKind::SchemaDrift
            | ErrorKind::Integrity
            | ErrorKind::CorruptHistory
    )
}

fn verify(source: Source<'_>, g: &GlobalArgs) -> CmdResult {
    let m = load(source, g)?;
    let conn = open(g, Open::ReadOnly)?;
    match migrator(&m, g, PolicyArgs::default()).verify(&conn) {
        Ok(v) => {
            let mut s = render_status(&v.status);
            let schema = if v.schema_checked {
                paint(GREEN, format!("matches the embedded schema at version {}", v.version))
            } else {
                paint(
                    YELLOW,
                    format!("not compared (no embedded schema for version {})", v.version),
                )
            };
            let _ = writeln!(s, "  checksums: {}", paint(GREEN, "ok"));
            let _ = writeln!(s, "  schema: {schema}");
            let _ = writeln!(s, "  integrity: {}", paint(GREEN, &v.integrity));
            Ok(Outcome::new(&v, s))
        }
        Err(e) => {
            let check = is_check_kind(e.kind());
            let p = Problem::runtime(e);
            Err(if check { p.exit(EXIT_CHECK) } else { p })
        }
    }
}

/// Every recorded failure of the set, oldest first (the runtime's `last_failure` gives only the newest). Reads the
/// documented `<history table>_failures` layout.
fn failures(conn: &Connection, table: &str, set: &str) -> Result<Vec<Failure>, Problem> {
    let name = format!("{table}_failures");
    let db_err = |e: rusqlite::Error| Problem::new("database", format!("reading {name}: {e}"), EXIT_FAILED);
    let exists = crate::history::table_exists(conn, &name).map_err(Problem::runtime)?;
    if !exists {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT version, name, file, direction, error, failed_at FROM {} WHERE set_name = ?1 ORDER BY rowid",
        crate::history::quote(&name)
    );
    let mut stmt = conn.prepare(&sql).map_err(db_err)?;
    let rows = stmt
        .query_map([set], |r| {
            Ok(Failure {
                migration: crate::error::At {
                    version: u64::try_from(r.get::<_, i64>(0)?).unwrap_or(0),
                    name: r.get(1)?,
                    file: r.get(2)?,
                },
                direction: r.get(3)?,
                error: r.get(4)?,
                failed_at: r.get(5)?,
            })
        })
        .map_err(db_err)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(db_err)
}

fn history(source: Source<'_>, g: &GlobalArgs) -> CmdResult {
    let m = load(source, g)?;
    let conn = open(g, Open::ReadOnly)?;
    let st = migrator(&m, g, PolicyArgs::default())
        .status(&conn)
        .map_err(Problem::runtime)?;
    let fails = failures(&conn, &st.history_table, &st.set_name)?;
    let applied: Vec<_> = st.entries.iter().filter(|e| e.applied_at.is_some()).collect();
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} set `{}` (table {}): {} applied, {} failure(s) recorded",
        paint(BOLD, "history"),
        st.set_name,
        st.history_table,
        applied.len(),
        fails.len()
    );
    let aw = applied_width(applied.iter().copied());
    if !applied.is_empty() {
        let _ = writeln!(
            s,
            "  {}",
            paint(
                BOLD,
                format!(
                    "{:>7}  {:<aw$}  {:>9}  {:<12}  migration",
                    "version", "applied at", "took", "state"
                )
            )
        );
    }
    for e in &applied {
        let _ = writeln!(
            s,
            "  {:>7}  {:<aw$}  {:>9}  {}  {} {}",
            e.version,
            e.applied_at.as_deref().unwrap_or("-"),
            e.duration_us.map(ms).unwrap_or_default(),
            paint(state_style(e.state), format!("{:<12}", e.state.to_string())),
            e.name,
            paint(DIM, format!("({})", e.file))
        );
    }
    if !fails.is_empty() {
        let _ = writeln!(s, "  {}", paint(RED, "failures:"));
        for f in &fails {
            let _ = writeln!(
                s,
                "  {:>7}  {:<aw$}  {:<4} {} {}: {}",
                f.migration.version,
                f.failed_at,
                f.direction,
                f.migration.name,
                paint(DIM, format!("({})", f.migration.file)),
                f.error
            );
        }
    }
    let data = json!({
        "set_name": st.set_name,
        "history_table": st.history_table,
        "applied": applied,
        "failures": fails,
    });
    Ok(Outcome::new(data, s))
}

fn baseline(source: Source<'_>, g: &GlobalArgs, version: u64) -> CmdResult {
    let m = load(source, g)?;
    let mut conn = open(g, Open::ReadWrite)?;
    let st = migrator(&m, g, PolicyArgs::default())
        .baseline(&mut conn, version)
        .map_err(Problem::runtime)?;
    let n = st.in_state(State::Baseline).count();
    let s = format!(
        "{} recorded {n} migration(s) up to version {version} as applied, without running them\n{}",
        paint(GREEN, "baselined:"),
        render_status(&st)
    );
    Ok(Outcome::new(&st, s))
}

// ---------------------------------------------------------------------------------------------------------------
// up, down

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
fn run_with_progress(
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

fn render_report(r: &Report) -> String {
    let mut s = String::new();
    if r.plan.is_empty() {
        let _ = writeln!(
            s,
            "{} set `{}` is at version {}",
            paint(GREEN, "up to date:"),
            r.set_name,
            r.from_version
        );
        return s;
    }
    if r.dry_run {
        let _ = writeln!(
            s,
            "{} would migrate set `{}` from version {} to {} in {} transaction unit(s); nothing was changed",
            paint(YELLOW, "dry run:"),
            r.set_name,
            r.from_version,
            r.to_version,
            r.plan.units()
        );
        let _ = write!(s, "{}", r.plan);
        return s;
    }
    let verb = if r.to_version < r.from_version {
        "rolled back:"
    } else {
        "migrated:"
    };
    let _ = writeln!(
        s,
        "{} set `{}` from version {} to {} ({} step(s))",
        paint(GREEN, verb),
        r.set_name,
        r.from_version,
        r.to_version,
        r.applied.len()
    );
    if let Some(b) = &r.backup {
        let _ = writeln!(s, "  backup {} {}", b.id, paint(DIM, format!("({})", b.path.display())));
    }
    for w in &r.backup_warnings {
        let _ = writeln!(s, "  {} {w}", paint(YELLOW, "warning:"));
    }
    for a in &r.applied {
        let _ = writeln!(
            s,
            "  {:<4} {:>7} {} {}",
            a.direction.to_string(),
            a.version,
            a.name,
            paint(DIM, format!("({})", ms(a.duration_us)))
        );
    }
    s
}

#[allow(clippy::too_many_arguments)]
fn up(
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
fn steps_target(st: &Status, steps: u64) -> u64 {
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
fn down(
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

// ---------------------------------------------------------------------------------------------------------------
// backup, backups, restore

fn current_version(m: &Migrations, g: &GlobalArgs, conn: &Connection) -> u64 {
    // A database this set cannot read the history of can still be backed up or restored over.
    migrator(m, g, PolicyArgs::default())
        .status(conn)
        .map_or(0, |s| s.current_version)
}

/// The set name without loading the set (`--set`, the compiled-in name, or `default`).
fn set_name<'a>(source: Source<'a>, g: &'a GlobalArgs) -> &'a str {
    match (source, &g.set) {
        (Source::Embedded(m), _) => m.set_name(),
        (Source::Dir, Some(s)) => s,
        (Source::Dir, None) => crate::dynamic::DEFAULT_SET,
    }
}

/// The newest version the history records, read directly: backups and restores must work when the migrations
/// directory does not load (a disaster is no time to fix a file first). 0 when there is no readable history.
fn recorded_version(conn: &Connection, g: &GlobalArgs, set: &str) -> u64 {
    let sql = format!(
        "SELECT max(version) FROM {} WHERE set_name = ?1",
        crate::history::quote(&g.history_table)
    );
    conn.query_row(&sql, [set], |r| r.get::<_, Option<i64>>(0))
        .ok()
        .flatten()
        .and_then(|v| u64::try_from(v).ok())
        .unwrap_or(0)
}

fn backup_now(source: Source<'_>, g: &GlobalArgs, compress: bool, json: bool) -> CmdResult {
    if let Source::Embedded(_) = source {
        load(source, g)?; // only to refuse a --set that is not the compiled-in one
    }
    let conn = open(g, Open::ReadWrite)?;
    let v = recorded_version(&conn, g, set_name(source, g));
    let opts = BackupOptions {
        compress,
        ..backup_options(g)
    };
    let info = with_spinner(json, "backing up the database".into(), || {
        backup::create(&conn, &opts, Reason::Manual, v, v)
    })
    .map_err(Problem::backup)?;
    match info {
        Some(b) => {
            let s = format!(
                "{} {} ({}, sha256 {}, integrity {})\n  {}\n",
                paint(GREEN, "backup"),
                b.id,
                size(b.size),
                b.sha256.chars().take(12).collect::<String>(), // a manifest is external data: no byte slicing
                b.integrity,
                paint(DIM, b.path.display())
            );
            Ok(Outcome::new(view(&b), s))
        }
        None => Ok(Outcome::new(
            serde_json::Value::Null,
            "nothing to back up: the database has no tables\n".into(),
        )),
    }
}

fn backups(g: &GlobalArgs) -> CmdResult {
    let dir = backup_dir(g)?;
    let list = backup::list(&dir).map_err(Problem::backup)?;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} {} backup(s) in {}",
        paint(BOLD, "backups"),
        list.len(),
        dir.display()
    );
    if !list.is_empty() {
        let w = list.iter().map(|b| b.id.len()).max().unwrap_or(2).max(2);
        let _ = writeln!(
            s,
            "  {}",
            paint(
                BOLD,
                format!(
                    "{:<w$}  {:<24}  {:<12}  {:>9}  {:>10}",
                    "id", "created at", "reason", "versions", "size"
                )
            )
        );
        for b in &list {
            let _ = writeln!(
                s,
                "  {:<w$}  {:<24}  {:<12}  {:>9}  {:>10}{}",
                b.id,
                b.created_at,
                b.reason.to_string(),
                format!("{}→{}", b.version_before, b.target_version),
                size(b.size),
                if b.compressed { " zstd" } else { "" }
            );
        }
    }
    let views: Vec<_> = list.iter().map(view).collect();
    Ok(Outcome::new(json!({ "dir": dir, "backups": views }), s))
}

fn restore(source: Source<'_>, g: &GlobalArgs, id: &str, dry_run: bool, json: bool) -> CmdResult {
    if let Source::Embedded(_) = source {
        load(source, g)?; // only to refuse a --set that is not the compiled-in one
    }
    let set = set_name(source, g);
    let dir = backup_dir(g)?;
    // An unknown id fails before anything is asked or opened.
    let info = backup::inspect(&dir, id).map_err(Problem::backup)?;
    let db = db_path(g)?.display().to_string();
    if dry_run {
        let info = backup::verify(&dir, id, &backup_options(g)).map_err(Problem::backup)?;
        let s = format!(
            "{} would restore {} (version {}, taken {}) over {db}; the backup is intact; nothing was changed\n",
            paint(YELLOW, "dry run:"),
            info.id,
            info.version_before,
            info.created_at
        );
        return Ok(Outcome::new(
            json!({ "restored": view(&info), "pre_restore": null, "method": null, "pages_written": null, "dry_run": true }),
            s,
        ));
    }
    let what = format!(
        "`restore` replaces {db} with backup {} (version {}, taken {}); the current database is backed up first",
        info.id, info.version_before, info.created_at
    );
    confirm(g.yes, &what, "restore?")?;
    let mut conn = open(g, Open::Create)?;
    let v = recorded_version(&conn, g, set);
    let report = with_spinner(json, format!("restoring {}", info.id), || {
        backup::restore(&mut conn, &dir, id, v, &backup_options(g))
    })
    .map_err(Problem::backup)?;
    let mut s = format!(
        "{} {} into {db} (now at version {})\n",
        paint(GREEN, "restored"),
        report.restored.id,
        recorded_version(&conn, g, set)
    );
    match report.pages_written {
        Some(n) => {
            let _ = writeln!(s, "  written in place: {n} pages differed from the backup");
        }
        None => {
            let _ = writeln!(s, "  written through SQLite's backup API");
        }
    }
    if let Some(pre) = &report.pre_restore {
        let _ = writeln!(s, "  the previous state is backup {}", pre.id);
    }
    let data = json!({
        "restored": view(&report.restored),
        "pre_restore": report.pre_restore.as_ref().map(view),
        "method": report.method.as_str(),
        "pages_written": report.pages_written,
        "dry_run": false,
    });
    Ok(Outcome::new(data, s))
}

// ---------------------------------------------------------------------------------------------------------------
// fts, schema

fn fts_command(g: &GlobalArgs, cmd: &FtsCommand) -> CmdResult {
    match cmd {
        FtsCommand::Rebuild { index } | FtsCommand::Optimize { index } => {
            let conn = open(g, Open::ReadWrite)?;
            let rebuild = matches!(cmd, FtsCommand::Rebuild { .. });
            let action = if rebuild { "rebuild" } else { "optimize" };
            let r = with_spinner(g.json, format!("{action} {index}"), || {
                if rebuild {
                    fts::rebuild(&conn, index)
                } else {
                    fts::optimize(&conn, index)
                }
            });
            r.map_err(Problem::fts)?;
            let data = json!({ "index": index, "action": action, "ok": true });
            Ok(Outcome::new(
                data,
                format!("{} {action} of {index}\n", paint(GREEN, "done:")),
            ))
        }
        FtsCommand::Check { index } => {
            // FTS5's integrity check is an INSERT command: SQLite refuses it on a read-only connection.
            let conn = open(g, Open::ReadWrite)?;
            let (matches, unsynced, message) = match fts::sync_check(&conn, index) {
                Ok(r) => (r.matches_content, r.unsynced_events, r.message),
                // Not an external-content index: FTS5's own integrity check is all there is.
                Err(fts::FtsError::NoContentTable { .. }) => match fts::integrity_check(&conn, index) {
                    Ok(()) => (true, Vec::new(), None),
                    Err(fts::FtsError::Integrity { message, .. }) => (false, Vec::new(), Some(message)),
                    Err(e) => return Err(Problem::fts(e)),
                },
                Err(e) => return Err(Problem::fts(e)),
            };
            let ok = matches && unsynced.is_empty();
            let data = json!({
                "index": index, "action": "check", "ok": ok, "matches_content": matches,
                "unsynced_events": unsynced, "message": message,
            });
            let mut s = String::new();
            let _ = writeln!(
                s,
                "{} {index}: index {}",
                paint(BOLD, "fts"),
                if matches {
                    paint(GREEN, "matches its content")
                } else {
                    paint(RED, "does NOT match its content")
                }
            );
            if !unsynced.is_empty() {
                let _ = writeln!(
                    s,
                    "  {} no trigger keeps it in sync on {}",
                    paint(RED, "!"),
                    unsynced.join(", ")
                );
            }
            let mut outcome = Outcome::new(data, s);
            if !ok {
                let mut why = Vec::new();
                if !matches {
                    why.push(format!(
                        "the index differs from its content ({})",
                        message.unwrap_or_default()
                    ));
                }
                if !unsynced.is_empty() {
                    why.push(format!("{} not followed by a trigger", unsynced.join("/")));
                }
                let hint = if unsynced.is_empty() {
                    format!("repair it with `fts rebuild {index}`")
                } else {
                    "add a migration with `-- migrate:fts5-resync` (recreates the triggers and rebuilds)".to_owned()
                };
                outcome.problem = Some(
                    Problem::new(
                        "check_failed",
                        format!("FTS5 index {index}: {}", why.join("; ")),
                        EXIT_CHECK,
                    )
                    .hint(hint),
                );
            }
            Ok(outcome)
        }
    }
}

/// The schema the migrations produce after `version`: the embedded text for the newest, else the SQL replayed in
/// memory (Rust-code migrations assumed not to change the schema, as the build assumes).
fn expected_schema(m: &Migrations, version: u64) -> Result<Schema, Problem> {
    let fail = |e: String| {
        Problem::new(
            "schema",
            format!("cannot compute the schema at version {version}: {e}"),
            EXIT_FAILED,
        )
    };
    if version == m.latest_version()
        && let Some(text) = m.final_schema()
    {
        return Schema::from_text(text).map_err(|e| fail(e.to_string()));
    }
    let mem = Connection::open_in_memory().map_err(|e| fail(e.to_string()))?;
    for mig in m.iter().take_while(|x| x.version() <= version) {
        if let Some(sql) = mig.up_sql() {
            mem.execute_batch(sql)
                .map_err(|e| fail(format!("{}: {e}", mig.up_file())))?;
        }
    }
    Schema::read(&mem).map_err(|e| fail(e.to_string()))
}

fn live_schema(conn: &Connection, g: &GlobalArgs) -> Result<Schema, Problem> {
    let failures = format!("{}_failures", g.history_table);
    Schema::read_ignoring(conn, &[&g.history_table, &failures])
        .map_err(|e| Problem::new("database", format!("reading the live schema: {e}"), EXIT_FAILED))
}

fn schema(source: Source<'_>, g: &GlobalArgs, live: bool, embedded: bool, diff: bool) -> CmdResult {
    let m = load(source, g)?;
    let embedded = embedded || (!live && !diff && g.db.is_none());
    if embedded {
        let text = m.final_schema().ok_or_else(|| {
            Problem::new(
                "schema",
                "this set carries no schema: it was compiled without running its SQL (validate_sql = false)",
                EXIT_FAILED,
            )
        })?;
        let data = json!({ "source": "embedded", "version": m.latest_version(), "text": text });
        return Ok(Outcome::new(data, text.to_owned()));
    }
    let conn = open(g, Open::ReadOnly)?;
    let live_s = live_schema(&conn, g)?;
    if !diff {
        let text = live_s.to_text();
        let data = json!({ "source": "live", "version": current_version(&m, g, &conn), "text": text });
        return Ok(Outcome::new(data, text));
    }
    let version = current_version(&m, g, &conn);
    let expected = expected_schema(&m, version)?;
    let d = live_s.diff(&expected);
    let data = json!({ "version": version, "missing": d.missing, "unexpected": d.unexpected });
    let mut s = String::new();
    if d.is_empty() {
        let _ = writeln!(
            s,
            "{} the live schema matches the migrations at version {version}",
            paint(GREEN, "no difference:")
        );
        return Ok(Outcome::new(data, s));
    }
    let _ = writeln!(
        s,
        "{} live schema vs the migrations at version {version}",
        paint(BOLD, "schema diff:")
    );
    for l in &d.missing {
        let _ = writeln!(s, "{}", paint(RED, format!("- {l}")));
    }
    for l in &d.unexpected {
        let _ = writeln!(s, "{}", paint(GREEN, format!("+ {l}")));
    }
    let _ = writeln!(
        s,
        "  {}",
        paint(DIM, "- expected by the migrations, missing live; + live only")
    );
    let mut outcome = Outcome::new(data, s);
    outcome.problem = Some(
        Problem::new(
            "check_failed",
            format!(
                "the live schema differs from the migrations at version {version}: {} missing, {} unexpected",
                d.missing.len(),
                d.unexpected.len()
            ),
            EXIT_CHECK,
        )
        .hint("undo the manual change, or capture it in a new migration"),
    );
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        };
        assert_eq!(steps_target(&st, 1), 20);
        assert_eq!(steps_target(&st, 2), 10);
        assert_eq!(steps_target(&st, 3), 0);
        assert_eq!(steps_target(&st, 99), 0);
    }
}
