//! What a command hands back, and how it reaches the user: human text (colour only where `anstream` decides the
//! stream is a terminal and `NO_COLOR` is unset) or one JSON envelope on stdout; prompts and progress on stderr.
//! The text of each command's result is drawn in `render`.

use crate::backup::{BackupError, BackupErrorKind};
use crate::error::{At, Error, ErrorKind};
use crate::fts::FtsError;
use anstyle::{AnsiColor, Style};
use serde::Serialize;
use std::io::{IsTerminal, Write};

// The commands' text lives in `render`; re-exported so a command file imports what it prints from one place.
pub(crate) use super::render::{
    problems_summary, render_backups, render_history, render_report, render_status, render_verification,
};

pub(crate) const EXIT_OK: u8 = 0;
pub(crate) const EXIT_FAILED: u8 = 1;
pub(crate) const EXIT_USAGE: u8 = 2;
pub(crate) const EXIT_CHECK: u8 = 3;
pub(crate) const EXIT_REFUSED: u8 = 4;

pub(crate) const GREEN: Style = AnsiColor::Green.on_default();
pub(crate) const YELLOW: Style = AnsiColor::Yellow.on_default();
pub(crate) const RED: Style = AnsiColor::Red.on_default().bold();
pub(crate) const BOLD: Style = Style::new().bold();
pub(crate) const DIM: Style = Style::new().dimmed();

/// `text` in `style`; the escape codes are removed on output when colour is off.
pub(crate) fn paint(style: Style, text: impl std::fmt::Display) -> String {
    format!("{style}{text}{style:#}")
}

/// A command's result.
pub(crate) struct Outcome {
    /// The `data` of the JSON envelope.
    pub data: serde_json::Value,
    /// What a person reads (may contain colour codes).
    pub human: String,
    /// A check that ran and found a problem (exit 3), reported alongside the data.
    pub problem: Option<Problem>,
}

impl Outcome {
    pub fn new(data: impl Serialize, human: String) -> Outcome {
        Outcome {
            data: to_value(data),
            human,
            problem: None,
        }
    }
}

pub(crate) fn to_value(data: impl Serialize) -> serde_json::Value {
    // invariant: the values serialized here are plain structs of strings, numbers and vectors; serde_json only fails
    // on maps with non-string keys and on failing Serialize impls, neither of which they have.
    serde_json::to_value(data).unwrap_or(serde_json::Value::Null)
}

/// A failure: what went wrong, what to do next, and the exit code.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Problem {
    pub kind: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub migration: Option<At>,
    #[serde(skip)]
    pub exit: u8,
}

/// The next step after a restore was interrupted, whichever command found it.
const RESTORE_INTERRUPTED: &str =
    "finish the interrupted restore with `restore <id>` (the backup named above), or restore the pre-restore backup";

impl Problem {
    pub fn new(kind: &str, message: impl Into<String>, exit: u8) -> Problem {
        Problem {
            kind: kind.to_owned(),
            message: message.into(),
            hint: None,
            migration: None,
            exit,
        }
    }

    pub fn usage(message: impl Into<String>) -> Problem {
        Problem::new("usage", message, EXIT_USAGE)
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Problem {
        self.hint = Some(hint.into());
        self
    }

    pub fn exit(mut self, exit: u8) -> Problem {
        self.exit = exit;
        self
    }

    /// A runtime error, with the next step for the errors that have an obvious one.
    pub fn runtime(e: Error) -> Problem {
        let kind = e.kind().as_str().to_owned();
        let hint = match e.kind() {
            ErrorKind::Divergent => Some(
                "restore the file as it was when applied (e.g. from version control) and put the change in a new \
                 migration"
                    .to_owned(),
            ),
            ErrorKind::Missing => {
                Some("restore the deleted or renumbered file, or pass --allow-missing to ignore it".to_owned())
            }
            ErrorKind::DatabaseAhead => Some(
                "use the newer release's migrations, or roll back with `down --to <V> --allow-unknown-rollback`"
                    .to_owned(),
            ),
            ErrorKind::OutOfOrder => {
                Some("renumber the file above the newest applied version, or pass --allow-out-of-order".to_owned())
            }
            ErrorKind::UnknownTarget => {
                Some("`status` lists the versions; 0 means before the first migration".to_owned())
            }
            ErrorKind::Irreversible => Some("restore a backup instead (`backups`, then `restore <id>`)".to_owned()),
            ErrorKind::Busy => Some("another process holds the database; retry when it is done".to_owned()),
            ErrorKind::SchemaDrift => Some(
                "someone changed the schema outside the migrations: `schema --diff` shows it; undo it, or capture it \
                 in a new migration"
                    .to_owned(),
            ),
            ErrorKind::Load | ErrorKind::Compile => {
                Some("fix the file named above; `embed_migrations!` would reject it the same way".to_owned())
            }
            ErrorKind::Backup if matches!(&e, Error::Backup(b) if b.kind() == BackupErrorKind::RestoreInterrupted) => {
                Some(RESTORE_INTERRUPTED.to_owned())
            }
            ErrorKind::Backup => Some(
                "nothing was changed; fix the backup problem, pass --backup-dir, or accept the risk with --no-backup"
                    .to_owned(),
            ),
            ErrorKind::ForeignHistory => Some(
                "run `migrate adopt` once (add `--from <tool>` if it cannot tell); it checks the other tool's history \
                 and the schema, and records them"
                    .to_owned(),
            ),
            ErrorKind::HistoryNotEmpty => {
                Some("baseline is only for a database without history; use `status` and `up`".to_owned())
            }
            ErrorKind::MigrationFailed | ErrorKind::CodeFailed | ErrorKind::ForeignKeyViolation => Some(
                "the failed unit was rolled back; fix the migration and run `up` again (`history` lists failures)"
                    .to_owned(),
            ),
            _ => None,
        };
        Problem {
            kind,
            message: e.to_string(),
            hint,
            migration: e.migration().cloned(),
            exit: EXIT_FAILED,
        }
    }

    pub fn backup(e: BackupError) -> Problem {
        let hint = match e.kind() {
            BackupErrorKind::NotFound => Some("`backups` lists the backup ids".to_owned()),
            BackupErrorKind::HashMismatch | BackupErrorKind::IntegrityFailed => {
                Some("this backup is damaged; pick another one from `backups`".to_owned())
            }
            BackupErrorKind::DiskFull => Some("free space or pass --backup-dir on another disk".to_owned()),
            BackupErrorKind::Busy => Some("another process holds the database; retry when it is done".to_owned()),
            BackupErrorKind::RestoreInterrupted => Some(RESTORE_INTERRUPTED.to_owned()),
            _ => None,
        };
        Problem {
            kind: format!("backup_{}", snake(&format!("{:?}", e.kind()))),
            message: e.to_string(),
            hint,
            migration: None,
            exit: EXIT_FAILED,
        }
    }

    pub fn fts(e: FtsError) -> Problem {
        let (kind, hint) = match &e {
            FtsError::NoSuchIndex(_) => ("fts_no_such_index", Some("`schema --live` lists the tables")),
            FtsError::NotFts5(_) => ("fts_not_fts5", None),
            FtsError::NoContentTable { .. } => ("fts_no_content_table", None),
            FtsError::Integrity { .. } => ("fts_integrity", Some("repair it with `fts rebuild <index>`")),
            FtsError::Sqlite { .. } => ("fts_sqlite", None),
        };
        Problem {
            kind: kind.to_owned(),
            message: e.to_string(),
            hint: hint.map(str::to_owned),
            migration: None,
            exit: EXIT_FAILED,
        }
    }
}

/// `SchemaDrift` → `schema_drift`.
fn snake(camel: &str) -> String {
    let mut s = String::with_capacity(camel.len() + 4);
    for (i, c) in camel.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                s.push('_');
            }
            s.push(c.to_ascii_lowercase());
        } else {
            s.push(c);
        }
    }
    s
}

#[derive(Serialize)]
struct Envelope<'a> {
    command: &'a str,
    ok: bool,
    exit_code: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<&'a serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a Problem>,
}

/// Where results go.
pub(crate) struct Output {
    pub json: bool,
    command: &'static str,
}

impl Output {
    pub fn new(json: bool, command: &'static str) -> Output {
        Output { json, command }
    }

    /// Prints the result and returns the exit code.
    pub fn finish(&self, result: Result<Outcome, Problem>) -> u8 {
        let (data, problem) = match &result {
            Ok(o) => (Some(&o.data), o.problem.as_ref()),
            Err(p) => (None, Some(p)),
        };
        let exit = problem.map_or(EXIT_OK, |p| p.exit);
        if self.json {
            let env = Envelope {
                command: self.command,
                ok: exit == EXIT_OK,
                exit_code: exit,
                data,
                error: problem,
            };
            let mut out = std::io::stdout().lock();
            // A closed stdout (`| head`) is not worth a second error.
            let _ = serde_json::to_writer(&mut out, &env);
            let _ = writeln!(out);
            return exit;
        }
        if let Ok(o) = &result {
            let mut out = anstream::stdout().lock();
            let _ = write!(out, "{}", o.human);
        }
        if let Some(p) = problem {
            let mut err = anstream::stderr().lock();
            let label = if p.exit == EXIT_CHECK { "check failed" } else { "error" };
            let _ = writeln!(err, "{}: {}", paint(RED, label), p.message);
            if let Some(h) = &p.hint {
                let _ = writeln!(err, "  {}: {h}", paint(BOLD, "hint"));
            }
        }
        exit
    }
}

/// Asks on the terminal, or refuses when stdin is not one. `what` says what the command is about to do; `question`
/// is the short prompt after it. `Ok(())` means go ahead.
pub(crate) fn confirm(yes: bool, what: &str, question: &str) -> Result<(), Problem> {
    if yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err(Problem::new(
            "confirmation_required",
            format!("{what}; it needs confirmation and stdin is not a terminal"),
            EXIT_REFUSED,
        )
        .hint("pass --yes to confirm"));
    }
    {
        let mut err = anstream::stderr().lock();
        let _ = write!(err, "{what}.\n{} {question} [y/N] ", paint(YELLOW, "?"));
        let _ = err.flush();
    }
    let mut line = String::new();
    if std::io::stdin().read_line(&mut line).is_err() {
        line.clear();
    }
    if matches!(line.trim(), "y" | "Y" | "yes" | "YES" | "Yes") {
        Ok(())
    } else {
        Err(Problem::new(
            "declined",
            "not confirmed; nothing was changed",
            EXIT_REFUSED,
        ))
    }
}

/// A spinner on stderr while `f` runs, only on a terminal (indicatif hides itself elsewhere).
pub(crate) fn with_spinner<T>(json: bool, message: String, f: impl FnOnce() -> T) -> T {
    if json || !std::io::stderr().is_terminal() {
        return f();
    }
    let style = indicatif::ProgressStyle::with_template("{spinner} {msg} {elapsed}")
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner());
    let bar = indicatif::ProgressBar::new_spinner()
        .with_style(style)
        .with_message(message);
    bar.enable_steady_tick(std::time::Duration::from_millis(100));
    let r = f();
    bar.finish_and_clear();
    r
}

/// A progress bar on stderr for the steps of a run, only on a terminal and never with `--json`.
pub(crate) struct Progress(Option<indicatif::ProgressBar>);

impl Progress {
    pub fn new(json: bool, steps: usize, first: &str) -> Progress {
        if json || !std::io::stderr().is_terminal() {
            return Progress(None);
        }
        let style = indicatif::ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} {elapsed} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> ");
        let bar = indicatif::ProgressBar::new(u64::try_from(steps).unwrap_or(u64::MAX))
            .with_style(style)
            .with_message(first.to_owned());
        bar.enable_steady_tick(std::time::Duration::from_millis(100));
        Progress(Some(bar))
    }

    pub fn step(&self, a: &crate::Applied) {
        if let Some(bar) = &self.0 {
            bar.inc(1);
            bar.set_message(format!("{} {} {}", a.direction, a.version, a.name));
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

/// Bytes for people.
pub(crate) fn size(bytes: u64) -> String {
    indicatif::HumanBytes(bytes).to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn snake_case_kinds() {
        assert_eq!(super::snake("SchemaDrift"), "schema_drift");
        assert_eq!(super::snake("Io"), "io");
        assert_eq!(super::snake("NotFound"), "not_found");
    }
}
