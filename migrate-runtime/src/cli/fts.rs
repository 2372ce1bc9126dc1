//! `fts rebuild|optimize|check <index>`: FTS5 maintenance over [`crate::fts`].

use super::commands::{CmdResult, Open, open};
use super::output::{BOLD, EXIT_CHECK, GREEN, Outcome, Problem, RED, paint, with_spinner};
use super::{FtsCommand, GlobalArgs};
use crate::fts;
use serde_json::json;
use std::fmt::Write as _;

pub(super) fn fts_command(g: &GlobalArgs, cmd: &FtsCommand) -> CmdResult {
    match cmd {
        FtsCommand::Rebuild { index } => maintain(g, index, "rebuild"),
        FtsCommand::Optimize { index } => maintain(g, index, "optimize"),
        FtsCommand::Check { index } => check(g, index),
    }
}

/// `fts rebuild` / `fts optimize`.
fn maintain(g: &GlobalArgs, index: &str, action: &'static str) -> CmdResult {
    let conn = open(g, Open::ReadWrite)?;
    let r = with_spinner(g.json, format!("{action} {index}"), || {
        if action == "rebuild" {
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

/// What `fts check` found: whether the index matches its content, the write events no trigger follows, and
/// SQLite's message.
struct Checked {
    matches: bool,
    unsynced: Vec<&'static str>,
    message: Option<String>,
}

/// `fts check`: the sync check of an external-content index, or FTS5's own integrity check for other indexes.
fn check(g: &GlobalArgs, index: &str) -> CmdResult {
    // FTS5's integrity check is an INSERT command: SQLite refuses it on a read-only connection.
    let conn = open(g, Open::ReadWrite)?;
    let found = match fts::sync_check(&conn, index) {
        Ok(r) => Checked {
            matches: r.matches_content,
            unsynced: r.unsynced_events,
            message: r.message,
        },
        // Not an external-content index: FTS5's own integrity check is all there is.
        Err(fts::FtsError::NoContentTable { .. }) => match fts::integrity_check(&conn, index) {
            Ok(()) => Checked {
                matches: true,
                unsynced: Vec::new(),
                message: None,
            },
            Err(fts::FtsError::Integrity { message, .. }) => Checked {
                matches: false,
                unsynced: Vec::new(),
                message: Some(message),
            },
            Err(e) => return Err(Problem::fts(e)),
        },
        Err(e) => return Err(Problem::fts(e)),
    };
    let ok = found.matches && found.unsynced.is_empty();
    let data = json!({
        "index": index, "action": "check", "ok": ok, "matches_content": found.matches,
        "unsynced_events": found.unsynced, "message": found.message,
    });
    let mut outcome = Outcome::new(data, render_check(index, &found));
    if !ok {
        outcome.problem = Some(check_problem(index, found));
    }
    Ok(outcome)
}

fn render_check(index: &str, found: &Checked) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} {index}: index {}",
        paint(BOLD, "fts"),
        if found.matches {
            paint(GREEN, "matches its content")
        } else {
            paint(RED, "does NOT match its content")
        }
    );
    if !found.unsynced.is_empty() {
        let _ = writeln!(
            s,
            "  {} no trigger keeps it in sync on {}",
            paint(RED, "!"),
            found.unsynced.join(", ")
        );
    }
    s
}

/// The failed check as a problem: what is wrong and what repairs it.
fn check_problem(index: &str, found: Checked) -> Problem {
    let mut why = Vec::new();
    if !found.matches {
        why.push(format!(
            "the index differs from its content ({})",
            found.message.unwrap_or_default()
        ));
    }
    if !found.unsynced.is_empty() {
        why.push(format!("{} not followed by a trigger", found.unsynced.join("/")));
    }
    let hint = if found.unsynced.is_empty() {
        format!("repair it with `fts rebuild {index}`")
    } else {
        "add a migration with `-- migrate:fts5-resync` (recreates the triggers and rebuilds)".to_owned()
    };
    Problem::new(
        "check_failed",
        format!("FTS5 index {index}: {}", why.join("; ")),
        EXIT_CHECK,
    )
    .hint(hint)
}
