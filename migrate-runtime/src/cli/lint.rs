//! `lint`: the build-time analysis of `embed_migrations!` over a directory — every migration run against generated
//! rows (and `--fixtures`), and the lints, with the same ids and messages as the macro's warnings. Exit 3 when a
//! finding is denied (`--deny <id>`), 1 when validation fails (a row check, a statement), 0 otherwise.

use super::output::{BOLD, EXIT_CHECK, EXIT_FAILED, EXIT_USAGE, Outcome, Problem, YELLOW, paint};
use litemigrate_core::compile::{Analysis, CompileOptions, compile_with};
use litemigrate_core::lint::{LintOptions, RULES, SqliteVersion};
use serde_json::json;
use std::fmt::Write as _;
use std::path::Path;

/// The options of `migrate lint`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct LintArgs {
    /// A rule id to silence for every file (repeatable), like `allow = [...]` in embed_migrations!.
    #[arg(long, value_name = "ID")]
    pub allow: Vec<String>,
    /// A rule id that fails the check (repeatable; exit 3), like `deny = [...]`.
    #[arg(long, value_name = "ID")]
    pub deny: Vec<String>,
    /// The oldest SQLite the application runs on (`3.35`), like `min_sqlite`.
    #[arg(long, value_name = "VERSION")]
    pub min_sqlite: Option<String>,
    /// A fixtures directory (`<version>_<name>.sql` seeded after that version), like `fixtures = "dir"`.
    #[arg(long, value_name = "DIR")]
    pub fixtures: Option<std::path::PathBuf>,
    /// Validate on empty tables, like `rows = false`.
    #[arg(long)]
    pub no_rows: bool,
}

pub(crate) fn lint(dir: &Path, args: &LintArgs, max_steps: Option<u64>) -> Result<Outcome, Problem> {
    let unknown: Vec<&String> = args
        .allow
        .iter()
        .chain(&args.deny)
        .filter(|id| !RULES.iter().any(|r| r.id == id.as_str()))
        .collect();
    if let Some(id) = unknown.first() {
        let known: Vec<&str> = RULES.iter().map(|r| r.id).collect();
        return Err(Problem::new("usage", format!("unknown lint id `{id}`"), EXIT_USAGE)
            .hint(format!("known ids: {}", known.join(", "))));
    }
    let min_sqlite = match &args.min_sqlite {
        Some(v) => Some(SqliteVersion::parse(v).ok_or_else(|| {
            Problem::usage(format!(
                "--min-sqlite {v}: expected a SQLite version such as 3.35 or 3.35.5"
            ))
        })?),
        None => None,
    };
    let fixtures = match &args.fixtures {
        Some(f) => litemigrate_core::compile::rows::read_fixtures(f, &f.display().to_string())
            .map_err(|m| Problem::new("bad_directory", m, EXIT_FAILED))?
            .into_iter()
            .map(|(f, _)| f)
            .collect(),
        None => Vec::new(),
    };
    let sources =
        litemigrate_core::load::load_dir(dir).map_err(|e| Problem::new("load", e.to_string(), EXIT_FAILED))?;
    let mut opts = CompileOptions::default();
    if let Some(steps) = max_steps {
        opts.max_steps = steps;
    }
    let analysis = Analysis {
        generate: !args.no_rows,
        fixtures,
        lint: LintOptions {
            allow: args.allow.clone(),
            deny: args.deny.clone(),
            min_sqlite,
        },
        stubs: Vec::new(),
    };
    let compiled = compile_with(sources, &opts, &analysis).map_err(|e| {
        Problem::new("validation", e.to_string(), EXIT_FAILED)
            .hint("fix the migration, or opt the file out of the row checks with `-- migrate:allow rows`")
    })?;
    let findings = &compiled.findings;
    let data = json!({
        "migrations": compiled.migrations.len(),
        "findings": findings.iter().map(|f| json!({
            "id": f.id,
            "file": f.file,
            "line": f.line,
            "message": f.message,
            "denied": f.denied,
        })).collect::<Vec<_>>(),
    });
    let mut human = String::new();
    for f in findings {
        let level = if f.denied {
            paint(super::output::RED, "denied")
        } else {
            paint(YELLOW, "warning")
        };
        let _ = writeln!(
            human,
            "{level}: {}:{}: [{}] {}",
            f.file,
            f.line,
            paint(BOLD, f.id),
            f.message
        );
    }
    let _ = writeln!(
        human,
        "{} migration(s), {} finding(s); silence one with `-- migrate:allow <id>` in its file",
        compiled.migrations.len(),
        findings.len()
    );
    let mut outcome = Outcome::new(data, human);
    let denied = findings.iter().filter(|f| f.denied).count();
    if denied > 0 {
        outcome.problem = Some(
            Problem::new("check_failed", format!("{denied} denied finding(s)"), EXIT_CHECK)
                .hint("fix them, or drop the id from --deny"),
        );
    }
    Ok(outcome)
}
