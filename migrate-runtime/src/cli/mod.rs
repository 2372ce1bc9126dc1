//! The `migrate` command line, in two forms with one implementation:
//!
//! - the standalone binary `migrate` (`cargo install --locked --path migrate-runtime --features bundled`), which loads a
//!   migrations directory at run time with exactly the rules and errors of `embed_migrations!`
//!   ([`Migrations::from_dir`]): `migrate --db app.db --dir migrations status`;
//! - embedded in an application's own binary over its compiled-in set, so operators run `myapp migrate status`
//!   without the source tree: [`run_from_args`], or [`Cli`] as a clap subcommand and [`run`].
//!
//! ```no_run
//! // An application whose own command line has a `migrate` subcommand.
//! use clap::Parser;
//!
//! static MIGRATIONS: litemigrate_runtime::Migrations =
//!     litemigrate_runtime::Migrations::empty();
//!
//! #[derive(clap::Parser)]
//! enum App {
//!     Serve,
//!     /// Database migrations: status, up, down, backups, ...
//!     // Boxed: the whole command line is large next to `Serve` (clippy's `large_enum_variant`).
//!     Migrate(Box<litemigrate_runtime::cli::Cli>),
//! }
//!
//! fn main() -> std::process::ExitCode {
//!     match App::parse() {
//!         App::Serve => std::process::ExitCode::SUCCESS,
//!         App::Migrate(cli) => litemigrate_runtime::cli::run(litemigrate_runtime::cli::Source::Embedded(&MIGRATIONS), *cli),
//!     }
//! }
//! ```
//!
//! # Commands
//!
//! | command | what it does |
//! |---|---|
//! | `new <name> [--reversible] [--timestamp]` | creates the next migration file(s) in `--dir` (standalone only) |
//! | `status [--check]` | every migration's state; `--check` exits 3 when anything is pending or wrong |
//! | `up [--to V] [--dry-run] [--per-migration]` | applies pending migrations (backup first) |
//! | `down (--to V \| --steps N) [--dry-run]` | rolls back (backup first; asks for confirmation) |
//! | `redo [--count N] [--dry-run]` | rolls back the newest N (default 1) applied migrations and applies them again (development; backup first; asks) |
//! | `verify` | checksums, schema drift, `PRAGMA integrity_check` |
//! | `history` | applied migrations with times and durations, and recorded failures with their errors |
//! | `baseline <V>` | adopts an existing database at version V without running anything |
//! | `backup [--compress]` | a verified backup now |
//! | `backups [--all]` | lists this database's backups (`--all`: also other databases' in the directory, marked `foreign`) |
//! | `restore <id> [--dry-run] [--force]` | restores a backup (the current state is backed up first; asks for confirmation; a backup of another database file only with `--force`) |
//! | `fts rebuild\|optimize\|check <index>` | FTS5 maintenance |
//! | `schema [--live\|--embedded\|--diff]` | the live or embedded structural schema, or the difference |
//! | `completions bash\|zsh\|fish\|powershell\|elvish` | a shell completion script on stdout |
//! | `squash --to V [--out FILE \| --replace]` | one migration replacing versions up to V (standalone only) |
//! | `lint [--allow ID] [--deny ID] [--min-sqlite V] [--fixtures DIR] [--no-rows]` | the build's row checks and lints over `--dir` (standalone only; exit 3 when a finding is denied) |
//! | `fleet <pattern>... [--jobs N] [--canary N] [--continue-on-error] [--journal FILE [--retry-failed]]` | migrates every database the patterns match ([`crate::fleet`]); `--json`: one line per database, then the envelope |
//! | `wait [--timeout 60s] [--interval 100ms]` | blocks until `--db` carries the set's stamp (a LiteFS replica waiting for its primary) |
//!
//! Global options (before or after the command): `--db <file|url>` (env `MIGRATE_DB`, else `DATABASE_URL`; see
//! below), `--dir <dir>` (env `MIGRATE_DIR`, standalone only, default `migrations`), `--set <name>`,
//! `--history-table <name>`, `--json`, `--validation-steps <N>` (standalone only: the bound on one statement's SQLite
//! steps while `--dir` is validated, the macro's `validation_steps`; 0 removes it).
//!
//! Options of the commands they apply to (each command's `--help` lists only its own): `--backup-dir <dir>`
//! (default `backups/` next to the database: `up`, `down`, `redo`, `backup`, `backups`, `restore`), `--no-backup`
//! (`up`, `down`, `redo`), `--yes` (`down`, `redo`, `restore`). Given before the command they are still accepted, as
//! they were when they were global. `up` takes `--allow-out-of-order` and `--allow-missing`; `down` takes
//! `--allow-missing` and `--allow-unknown-rollback`.
//!
//! # The database: a path or a URL
//!
//! `--db` wins over `MIGRATE_DB`, which wins over `DATABASE_URL` (the variable sqlx-cli and dbmate read). Each takes
//! a plain path or a SQLite URL: `sqlite:app.db`, `sqlite://app.db`, `sqlite:///abs/app.db`, with `?mode=` one of
//! `ro` (read-only: a command that opens it read-write is refused, kind `read_only_database`), `rw` (never creates the file),
//! `rwc` (the default) or `memory` (a private in-memory database for one command, like `sqlite::memory:`). Any other
//! parameter, mode or scheme is refused (kind `bad_database_url`, exit 2).
//!
//! Over a catalog of databases (`embed_databases!`): `--data-dir <dir>` (env `MIGRATE_DATA_DIR`) with `--dir` holding
//! one subdirectory per database (or an application's compiled-in catalog, [`run_catalog`]); `status`, `up`,
//! `verify`, `history`, `backup`, `backups` and `restore <run>` then work on every database, and `--database NAME`
//! runs any command on one of them.
//!
//! Only `up` and `restore` create a missing database file (`up` only once it has work to do); every other command
//! that needs one says it does not exist. `backup`, `backups`, `restore` and `fts` do not load the migrations, so
//! they work while the directory has a broken file.
//!
//! # Exit codes
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success |
//! | 1 | the command failed (the error says why and what to do next) |
//! | 2 | usage: a bad or missing argument (clap's errors, `--dir` given to an embedded CLI, no `--db`) |
//! | 3 | a check found a problem: `status --check`, `verify`, `schema --diff`, `fts check` (see below) |
//! | 4 | refused: `down`/`restore` need confirmation (`--yes` when stdin is not a terminal), or it was declined |
//!
//! Exit 3 means: `status --check` found a pending, divergent, missing, ahead or out-of-order migration; `verify`
//! found one of those (pending aside), schema drift or a failed integrity check; `schema --diff` found a
//! difference; `fts check` found the index out of sync with its content table, corrupt, or not followed by a
//! trigger.
//!
//! # `--json`
//!
//! Every command prints exactly one JSON object on stdout (nothing else on stdout; progress and prompts go to
//! stderr, on a terminal only):
//!
//! ```json
//! {"command": "status", "ok": true, "exit_code": 0, "data": { ... }}
//! {"command": "up", "ok": false, "exit_code": 1,
//!  "error": {"kind": "divergent", "message": "...", "hint": "...",
//!            "migration": {"version": 3, "name": "x", "file": "migrations/0003_x.sql"}}}
//! ```
//!
//! `ok` is `exit_code == 0`. A check that finds a problem (exit 3) carries both `data` and `error` (kind
//! `check_failed`). `data` is the command's result:
//!
//! - `status`, `baseline`: the runtime's [`Status`](crate::Status);
//! - `up`, `down`: [`Report`](crate::Report) (with each step's SQL on `--dry-run`);
//! - `verify`: [`Verification`](crate::Verification); when a check fails (exit 3): `{status, failed_check,
//!   schema_missing, schema_unexpected, integrity_messages}` (the lenient status, the failed check's error kind, the
//!   schema facts that differ for `schema_drift`, SQLite's messages for `integrity`; `null` where they do not apply);
//! - `history`: `{set_name, history_table, applied: [Entry], failures: [Failure]}`;
//! - `backup`: [`BackupInfo`](crate::BackupInfo) plus `path`, or `null` when there was nothing to back up;
//! - `backups`: `{dir, backups: [BackupInfo + path + foreign], foreign_not_shown}` (`foreign`: taken from another
//!   database file than `--db`; listed only with `--all`);
//! - `redo`: `{down: Report, up: Report | null, dry_run}`;
//! - `completions`: `{shell, script}`;
//! - `restore`: `{restored, pre_restore, method, pages_written, dry_run}` (`restored` and `pre_restore` each a
//!   `BackupInfo` + `path`, `pre_restore` may be `null`; `method` `"in-place"` or `"backup-api"`; `pages_written`
//!   the pages an in-place restore wrote, `null` for the backup API);
//! - `fts rebuild`, `fts optimize`: `{index, action, ok}`; `fts check`: `{index, action, ok, matches_content,
//!   unsynced_events, message}`;
//! - `schema`: `{source: "live"|"embedded", version, text}`; `schema --diff`: `{version, missing, unexpected}`;
//! - `new`: `{version, files, build_rs: {path, exists, tracked, line} | null}`.
//! - `fleet`: the [`Summary`](crate::fleet::Summary); the one command that prints more: before the envelope, one
//!   JSON line per database as it finishes ([`FileResult::to_json`](crate::fleet::FileResult::to_json));
//! - `wait`: `{version, waited_ms}`.
//!
//! `error.kind` is a snake_case name: the runtime's [`ErrorKind`](crate::ErrorKind) (`divergent`, `schema_drift`,
//! …), `backup_` + the backup error kind (`backup_not_found`), `fts_` + the FTS error (`fts_no_such_index`), or one
//! of the CLI's own: `usage`, `database_not_found`, `bad_directory`, `database` (cannot open or read it),
//! `hot_journal` (a killed writer's rollback journal, which a read-only command cannot roll back),
//! `schema`, `confirmation_required`, `declined`, `check_failed`, `io`, `bad_name`, `bad_version` (`new`
//! after the largest version), `bad_database_url`, `read_only_database`, `foreign_backup` (`restore` of another
//! database's backup without `--force`), `nothing_to_redo`. `error.migration` is present when the error is about one migration. Usage errors found by clap itself are printed by clap, not as JSON.

mod adopt;
mod apply;
mod args;
mod backups;
mod catalog;
mod commands;
mod completions;
mod dburl;
mod fleet;
mod fts;
mod inspect;
mod lint;
pub use lint::LintArgs;
mod new;
mod output;
mod redo;
mod render;
mod schema;
mod squash;
mod wait;

use crate::table::Migrations;
pub use catalog::CatalogSource;
use clap::{Args, Parser, Subcommand};
pub use fleet::FleetArgs;
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;
pub use wait::WaitArgs;

pub use args::{BackupArgs, BackupDirArg, ConfirmArg, DownPolicy, PolicyArgs, SquashArgs, UpPolicy};
pub use dburl::DbMode;

/// The migrations a CLI run works on.
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    /// Load `--dir` from disk (the standalone binary): same rules and errors as `embed_migrations!`.
    Dir,
    /// The application's compiled-in set; `--dir` is refused and `new` is unavailable.
    Embedded(&'a Migrations),
}

/// The `migrate` command line: global options and one command.
///
/// ```no_run
/// use clap::Parser;
/// let cli = litemigrate_runtime::cli::Cli::parse_from(["migrate", "--db", "app.db", "--dir", "migrations", "status"]);
/// std::process::exit(i32::from(litemigrate_runtime::cli::run_code(litemigrate_runtime::cli::Source::Dir, cli)));
/// ```
// The terminal's help is written here, not taken from the rustdoc above (whose example would print as a code block).
#[derive(Debug, Clone, Parser)]
#[command(
    name = "migrate",
    version,
    about = "SQLite schema migrations: status, up, down, redo, verify, history, backups, FTS5 maintenance",
    long_about = LONG_ABOUT,
    after_help = AFTER_HELP
)]
pub struct Cli {
    /// Options shared by every command.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

const LONG_ABOUT: &str = "SQLite schema migrations: status, up, down, redo, verify, history, backups, FTS5 maintenance.

The standalone binary loads the migrations in --dir (default `migrations`) with the same rules and errors as \
`embed_migrations!`; an application that embeds these commands works on its compiled-in set.

The database is --db, else MIGRATE_DB, else DATABASE_URL: a file path, `sqlite:path`, `sqlite://path`, \
`sqlite://path?mode=ro|rw|rwc|memory` or `sqlite::memory:`.";

const AFTER_HELP: &str = "`migrate <command> --help` shows the options of one command.
Exit codes: 0 ok, 1 failed, 2 usage, 3 a check found a problem, 4 confirmation needed or declined.";

/// Options shared by every command (accepted before or after it), and the old global spellings of per-command ones.
///
/// `backup_dir`, `no_backup` and `yes` are also options of the commands they apply to; before the command they are
/// still accepted (hidden) as they were documented, and [`run`] folds a command's own into them.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// The database: a file, `sqlite:path`, `sqlite://path[?mode=ro|rw|rwc|memory]` (else DATABASE_URL).
    #[arg(long, global = true, env = "MIGRATE_DB", value_name = "FILE|URL")]
    pub db: Option<PathBuf>,
    /// The migrations directory (standalone binary only; default `migrations`).
    #[arg(long, global = true, env = "MIGRATE_DIR", value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// The set name keying this set's rows in the history table (standalone binary; default `default`).
    #[arg(long, global = true, value_name = "NAME", value_parser = clap::builder::NonEmptyStringValueParser::new())]
    pub set: Option<String>,
    /// The history table.
    #[arg(long, global = true, value_name = "NAME", default_value = crate::DEFAULT_TABLE)]
    pub history_table: String,
    /// Print one JSON object on stdout (see the exit codes and shape in the documentation).
    #[arg(long, global = true)]
    pub json: bool,
    /// Where backups are written and looked up (also an option of the commands that use backups).
    #[arg(long, hide = true, value_name = "DIR")]
    pub backup_dir: Option<PathBuf>,
    /// Do not back up before `up`, `down` or `redo` (also an option of those commands).
    #[arg(long, hide = true)]
    pub no_backup: bool,
    /// Confirm `down`, `redo` and `restore` without asking (also an option of those commands).
    #[arg(long, short = 'y', hide = true)]
    pub yes: bool,
    /// The most SQLite steps one statement may take while --dir is validated (0: no bound; default 100000000).
    ///
    /// Used by every command that loads the migrations directory (standalone binary only): a statement that does
    /// not finish within it (an unbounded recursive CTE) fails with its file and line instead of hanging.
    #[arg(long, global = true, value_name = "N")]
    pub validation_steps: Option<u64>,
    /// The open mode a database URL asked for (`?mode=`), set when `--db` / `DATABASE_URL` is resolved.
    #[arg(skip)]
    pub db_mode: Option<DbMode>,
    /// Loading --dir: do not execute the SQL while validating (the macro's `validate_sql = false`).
    #[arg(long, global = true)]
    pub no_validate_sql: bool,
    /// Loading --dir: do not prove that each down restores the schema (the macro's `check_down = false`).
    #[arg(long, global = true)]
    pub no_check_down: bool,
    /// Loading --dir: validate on empty tables instead of generated rows (the macro's `rows = false`).
    #[arg(long, global = true)]
    pub no_rows: bool,
    /// Loading --dir: a function to stub during validation, `NAME/ARITY` or `NAME`; repeatable (the macro's
    /// `validate_functions`).
    #[arg(long = "validate-function", global = true, value_name = "NAME/ARITY")]
    pub validate_functions: Vec<litemigrate_core::compile::FunctionStub>,
    /// Loading --dir: its layout (litemigrate, diesel, sqlx, golang-migrate, refinery, flyway, dbmate, goose)
    /// instead of the detected one (the macro's `layout`).
    #[arg(long, global = true, value_name = "LAYOUT")]
    pub layout: Option<litemigrate_core::layouts::Layout>,
    /// A catalog's data directory: the commands work on every database of the catalog (`--dir` then holds one
    /// subdirectory per database).
    #[arg(long, global = true, env = "MIGRATE_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// With --data-dir: run the command on this database of the catalog only.
    #[arg(long, global = true, value_name = "NAME", requires = "data_dir")]
    pub database: Option<String>,
}

/// One command. Use it through [`Cli`], which carries the global options.
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Create the next migration file in --dir (standalone binary only).
    New {
        /// The name after the version: lowercase ASCII letters, digits and `_`.
        name: String,
        /// Create `.up.sql` and `.down.sql` instead of one `.sql`.
        #[arg(long)]
        reversible: bool,
        /// Use a UTC timestamp (YYYYMMDDHHMMSS) as the version (automatic when the directory already does).
        #[arg(long)]
        timestamp: bool,
    },
    /// Show every migration's state.
    Status {
        /// Exit with 3 when anything is pending, divergent, missing, ahead or out of order.
        #[arg(long)]
        check: bool,
    },
    /// Apply pending migrations (a verified backup first, unless --no-backup).
    Up {
        /// Stop at this version (default: the newest).
        #[arg(long, value_name = "V")]
        to: Option<u64>,
        /// Print the plan with its SQL; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// One transaction per migration instead of one for the batch.
        #[arg(long)]
        per_migration: bool,
        /// Policies.
        #[command(flatten)]
        policy: UpPolicy,
        /// The backup first.
        #[command(flatten)]
        backup: BackupArgs,
    },
    /// Roll back with down scripts (asks for confirmation; --yes when not on a terminal).
    Down {
        /// Roll back to this version (0: everything).
        #[arg(long, value_name = "V", required_unless_present = "steps", conflicts_with = "steps")]
        to: Option<u64>,
        /// Roll back this many applied migrations.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
        steps: Option<u64>,
        /// Print the plan with its SQL; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Policies.
        #[command(flatten)]
        policy: DownPolicy,
        /// The backup first.
        #[command(flatten)]
        backup: BackupArgs,
        /// Confirmation.
        #[command(flatten)]
        confirm: ConfirmArg,
    },
    /// Roll back the newest applied migration(s) and apply them again (for development; asks for confirmation).
    Redo {
        /// How many of the newest applied migrations.
        #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
        count: u64,
        /// Print the rollback's plan with its SQL; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// The backup first.
        #[command(flatten)]
        backup: BackupArgs,
        /// Confirmation.
        #[command(flatten)]
        confirm: ConfirmArg,
    },
    /// Check checksums, schema drift and PRAGMA integrity_check (read-only).
    Verify,
    /// Applied migrations with times and durations, and recorded failures.
    History,
    /// Record migrations up to V as applied on an existing database, without running them.
    Baseline {
        /// The version the database's schema already is at.
        version: u64,
    },
    /// Take over the history of the tool that migrated this database (sqlx, diesel, refinery, Flyway, dbmate,
    /// golang-migrate, goose, rusqlite_migration), after checking it against the migrations and the schema.
    Adopt(adopt::AdoptArgs),
    /// Take a verified backup now.
    Backup {
        /// Compress with zstd.
        #[arg(long)]
        compress: bool,
        /// Where.
        #[command(flatten)]
        dir: BackupDirArg,
    },
    /// List this database's backups.
    Backups {
        /// Also list the backups of other databases in the backup directory (marked `foreign`).
        #[arg(long)]
        all: bool,
        /// Where.
        #[command(flatten)]
        dir: BackupDirArg,
    },
    /// Restore a backup (the current database is backed up first; asks for confirmation).
    Restore {
        /// The backup id (see `backups`), or its file name.
        id: String,
        /// Verify the backup and say what would happen; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Restore a backup that was taken from another database file.
        #[arg(long)]
        force: bool,
        /// Where.
        #[command(flatten)]
        dir: BackupDirArg,
        /// Confirmation.
        #[command(flatten)]
        confirm: ConfirmArg,
    },
    /// FTS5 index maintenance.
    #[command(subcommand)]
    Fts(FtsCommand),
    /// Run the build's row checks and lints over --dir (standalone binary only; exit 3 when a finding is denied).
    Lint(Box<lint::LintArgs>),
    /// Print the live schema, the embedded one, or the difference.
    Schema {
        /// The live database's structural schema (the default when --db is given).
        #[arg(long, group = "which")]
        live: bool,
        /// The schema the migrations produce (after the newest one).
        #[arg(long, group = "which")]
        embedded: bool,
        /// The difference between the live schema and the embedded one at the database's version.
        #[arg(long, group = "which")]
        diff: bool,
    },
    /// Print a shell completion script (e.g. `migrate completions bash > /etc/bash_completion.d/migrate`).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Write one migration that replaces every migration up to --to V (standalone binary only).
    Squash(SquashArgs),
    /// Migrate every database the patterns match (tenants), in parallel.
    Fleet(Box<FleetArgs>),
    /// Wait until --db is at the newest migration (a read-only replica waiting for its primary).
    Wait(WaitArgs),
}

/// `fts` subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum FtsCommand {
    /// Re-index every row from the content table (repairs drift).
    Rebuild {
        /// The FTS5 table.
        index: String,
    },
    /// Merge the index's b-trees into one.
    Optimize {
        /// The FTS5 table.
        index: String,
    },
    /// Integrity check; for an external-content index, also against its content table and its triggers.
    Check {
        /// The FTS5 table.
        index: String,
    },
}

impl Command {
    /// The command's name as the JSON envelope reports it.
    pub fn name(&self) -> &'static str {
        match self {
            Command::New { .. } => "new",
            Command::Status { .. } => "status",
            Command::Up { .. } => "up",
            Command::Down { .. } => "down",
            Command::Redo { .. } => "redo",
            Command::Verify => "verify",
            Command::History => "history",
            Command::Baseline { .. } => "baseline",
            Command::Adopt(_) => "adopt",
            Command::Backup { .. } => "backup",
            Command::Backups { .. } => "backups",
            Command::Restore { .. } => "restore",
            Command::Fts(_) => "fts",
            Command::Schema { .. } => "schema",
            Command::Completions { .. } => "completions",
            Command::Squash(_) => "squash",
            Command::Lint(_) => "lint",
            Command::Fleet(_) => "fleet",
            Command::Wait(_) => "wait",
        }
    }

    /// Folds the command's own `--backup-dir`, `--no-backup` and `--yes` into the global ones, where the commands
    /// read them (given twice, the command's own `--backup-dir` wins).
    fn fold_into(&self, g: &mut GlobalArgs) {
        let (dir, no_backup, yes) = match self {
            Command::Up { backup, .. } => (Some(&backup.dir), backup.no_backup, false),
            Command::Down { backup, confirm, .. } | Command::Redo { backup, confirm, .. } => {
                (Some(&backup.dir), backup.no_backup, confirm.yes)
            }
            Command::Backup { dir, .. } | Command::Backups { dir, .. } => (Some(dir), false, false),
            Command::Restore { dir, confirm, .. } => (Some(dir), false, confirm.yes),
            _ => (None, false, false),
        };
        if let Some(d) = dir.and_then(|d| d.backup_dir.clone()) {
            g.backup_dir = Some(d);
        }
        g.no_backup |= no_backup;
        g.yes |= yes;
    }
}

/// Runs a parsed command line and prints its result; returns the documented exit code.
///
/// ```no_run
/// use clap::Parser;
/// # static MIGRATIONS: litemigrate_runtime::Migrations =
/// #     litemigrate_runtime::Migrations::empty();
/// let cli = litemigrate_runtime::cli::Cli::parse_from(["myapp-migrate", "--db", "app.db", "status"]);
/// let code = litemigrate_runtime::cli::run(litemigrate_runtime::cli::Source::Embedded(&MIGRATIONS), cli);
/// # let _ = code;
/// ```
pub fn run(source: Source<'_>, cli: Cli) -> ExitCode {
    ExitCode::from(run_code(source, cli))
}

/// [`run`], returning the exit code as a number (for tests and wrappers that combine codes).
pub fn run_code(source: Source<'_>, mut cli: Cli) -> u8 {
    let out = output::Output::new(cli.global.json, cli.command.name());
    cli.command.fold_into(&mut cli.global);
    if let Err(p) = dburl::resolve(&mut cli.global, std::env::var_os(dburl::DATABASE_URL)) {
        return out.finish(Err(p));
    }
    let result = match (&cli.global.data_dir, source) {
        (Some(data), Source::Dir) => catalog::dispatch(CatalogSource::Dir, &cli, &out, data),
        (Some(_), Source::Embedded(_)) => Err(output::Problem::usage(
            "--data-dir is for a catalog of databases; this program carries one set of migrations",
        )),
        (None, _) => commands::dispatch(source, &cli, &out),
    };
    out.finish(result)
}

/// [`run_code`] over an application's compiled-in catalog (`embed_databases!`): `--data-dir` names the data
/// directory, `--database NAME` one database of it.
///
/// ```no_run
/// use clap::Parser;
/// # static DATABASES: litemigrate_runtime::Databases = litemigrate_runtime::Databases::empty();
/// let cli = litemigrate_runtime::cli::Cli::parse_from(["myapp-migrate", "--data-dir", "data", "status"]);
/// let code = litemigrate_runtime::cli::run_catalog(&DATABASES, cli);
/// # let _ = code;
/// ```
pub fn run_catalog(databases: &crate::catalog::Databases, mut cli: Cli) -> u8 {
    let out = output::Output::new(cli.global.json, cli.command.name());
    cli.command.fold_into(&mut cli.global);
    let result = match &cli.global.data_dir {
        Some(data) => catalog::dispatch(CatalogSource::Embedded(databases), &cli, &out, data),
        None => Err(output::Problem::usage("no data directory given").hint("pass --data-dir <dir>")),
    };
    out.finish(result)
}

/// Parses `args` (the first item is the program name, as in `std::env::args_os()`) and runs it over a compiled-in
/// set: the one-line way to give an application the commands.
///
/// ```no_run
/// # static MIGRATIONS: litemigrate_runtime::Migrations =
/// #     litemigrate_runtime::Migrations::empty();
/// // `myapp migrate status` → run_from_args(&MIGRATIONS, ["myapp migrate", "status"])
/// let args = std::env::args_os().skip(1); // drop "myapp"; "migrate" stands in for the program name
/// std::process::exit(i32::from(litemigrate_runtime::cli::run_from_args(&MIGRATIONS, args)));
/// ```
pub fn run_from_args<I, T>(migrations: &Migrations, args: I) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    match Cli::try_parse_from(args) {
        Ok(cli) => run_code(Source::Embedded(migrations), cli),
        Err(e) => clap_exit(e),
    }
}

/// The standalone binary's `main`: parses the process arguments and works on `--dir`.
pub fn main_dir() -> ExitCode {
    match Cli::try_parse() {
        Ok(cli) => run(Source::Dir, cli),
        Err(e) => ExitCode::from(clap_exit(e)),
    }
}

/// Prints a clap error (or help/version) the way clap does and returns its exit code (2 for usage errors).
fn clap_exit(e: clap::Error) -> u8 {
    let _ = e.print();
    // invariant: clap's exit codes are 0 (help, version) and 2 (usage).
    u8::try_from(e.exit_code()).unwrap_or(output::EXIT_USAGE)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_command_line_is_well_formed() {
        // clap's own consistency checks (duplicate names, conflicting ids), which otherwise run only when a test
        // happens to parse the command that breaks them.
        <super::Cli as clap::CommandFactory>::command().debug_assert();
    }
}
