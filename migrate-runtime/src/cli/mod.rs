//! The `migrate` command line, in two forms with one implementation:
//!
//! - the standalone binary `migrate` (`cargo install --path litemigrate-runtime --features bundled`), which loads a
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
//!     Migrate(litemigrate_runtime::cli::Cli),
//! }
//!
//! fn main() -> std::process::ExitCode {
//!     match App::parse() {
//!         App::Serve => std::process::ExitCode::SUCCESS,
//!         App::Migrate(cli) => litemigrate_runtime::cli::run(litemigrate_runtime::cli::Source::Embedded(&MIGRATIONS), cli),
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
//! | `verify` | checksums, schema drift, `PRAGMA integrity_check` |
//! | `history` | applied migrations with times and durations, and recorded failures with their errors |
//! | `baseline <V>` | adopts an existing database at version V without running anything |
//! | `backup [--compress]` | a verified backup now |
//! | `backups` | lists the backups |
//! | `restore <id> [--dry-run]` | restores a backup (the current state is backed up first; asks for confirmation) |
//! | `fts rebuild\|optimize\|check <index>` | FTS5 maintenance |
//! | `schema [--live\|--embedded\|--diff]` | the live or embedded structural schema, or the difference |
//! | `fleet <pattern>... [--jobs N] [--canary N] [--continue-on-error] [--journal FILE [--retry-failed]]` | migrates every database the patterns match ([`crate::fleet`]); `--json`: one line per database, then the envelope |
//! | `wait [--timeout 60s] [--interval 100ms]` | blocks until `--db` carries the set's stamp (a LiteFS replica waiting for its primary) |
//!
//! Global options (before or after the command): `--db <file>` (env `MIGRATE_DB`), `--dir <dir>` (env
//! `MIGRATE_DIR`, standalone only, default `migrations`), `--set <name>`, `--history-table <name>`, `--json`,
//! `--backup-dir <dir>` (default `backups/` next to the database), `--no-backup`, `--yes`, `--validation-steps <N>`
//! (standalone only: the bound on one statement's SQLite steps while `--dir` is validated, the macro's
//! `validation_steps`; 0 removes it).
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
//! - `verify`: [`Verification`](crate::Verification);
//! - `history`: `{set_name, history_table, applied: [Entry], failures: [Failure]}`;
//! - `backup`: [`BackupInfo`](crate::BackupInfo) plus `path`, or `null` when there was nothing to back up;
//! - `backups`: `{dir, backups: [BackupInfo + path]}`;
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
//! after the largest version). `error.migration` is present when the error is about one migration. Usage errors found by clap itself are printed by clap, not as JSON.

mod apply;
mod backups;
mod commands;
mod fleet;
mod fts;
mod inspect;
mod new;
mod output;
mod schema;
mod wait;

use crate::table::Migrations;
use clap::{Args, Parser, Subcommand};
pub use fleet::FleetArgs;
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;
pub use wait::WaitArgs;

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
#[derive(Debug, Clone, Parser)]
#[command(
    name = "migrate",
    version,
    about = "SQLite schema migrations: status, up, down, verify, history, backups, FTS5 maintenance",
    after_help = "Exit codes: 0 ok, 1 failed, 2 usage, 3 a check found a problem, 4 confirmation needed or declined."
)]
pub struct Cli {
    /// Options shared by every command.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Options shared by every command (accepted before or after it).
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// The SQLite database file.
    #[arg(long, global = true, env = "MIGRATE_DB", value_name = "FILE")]
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
    /// Where backups are written and looked up (default: `backups/` next to the database).
    #[arg(long, global = true, value_name = "DIR")]
    pub backup_dir: Option<PathBuf>,
    /// Do not back up before `up` or `down`.
    #[arg(long, global = true)]
    pub no_backup: bool,
    /// Confirm commands that lose data (`down`, `restore`) without asking.
    #[arg(long, short = 'y', global = true)]
    pub yes: bool,
    /// The most SQLite steps one statement may take while --dir is validated (0: no bound; default 100000000).
    ///
    /// Used by every command that loads the migrations directory (standalone binary only): a statement that does
    /// not finish within it (an unbounded recursive CTE) fails with its file and line instead of hanging.
    #[arg(long, global = true, value_name = "N")]
    pub validation_steps: Option<u64>,
}

/// Policies beyond the default (everything unusual is an error).
#[derive(Debug, Clone, Copy, Default, Args)]
pub struct PolicyArgs {
    /// Apply migrations below the newest applied version.
    #[arg(long)]
    pub allow_out_of_order: bool,
    /// Ignore applied migrations whose files are gone.
    #[arg(long)]
    pub allow_missing: bool,
    /// Roll back migrations this set does not know, with the down SQL the history recorded.
    #[arg(long)]
    pub allow_unknown_rollback: bool,
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
        policy: PolicyArgs,
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
        policy: PolicyArgs,
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
    /// Take a verified backup now.
    Backup {
        /// Compress with zstd.
        #[arg(long)]
        compress: bool,
    },
    /// List the backups.
    Backups,
    /// Restore a backup (the current database is backed up first; asks for confirmation).
    Restore {
        /// The backup id (see `backups`), or its file name.
        id: String,
        /// Verify the backup and say what would happen; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// FTS5 index maintenance.
    #[command(subcommand)]
    Fts(FtsCommand),
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
            Command::Verify => "verify",
            Command::History => "history",
            Command::Baseline { .. } => "baseline",
            Command::Backup { .. } => "backup",
            Command::Backups => "backups",
            Command::Restore { .. } => "restore",
            Command::Fts(_) => "fts",
            Command::Schema { .. } => "schema",
            Command::Fleet(_) => "fleet",
            Command::Wait(_) => "wait",
        }
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
pub fn run_code(source: Source<'_>, cli: Cli) -> u8 {
    let out = output::Output::new(cli.global.json, cli.command.name());
    let result = commands::dispatch(source, &cli, &out);
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
