//! `fts rebuild|optimize|check <index>`: FTS5 maintenance over [`crate::fts`].

use super::commands::{CmdResult, Open, open};
use super::output::{BOLD, EXIT_CHECK, GREEN, Outcome, Problem, RED, paint, with_spinner};
use super::{FtsCommand, GlobalArgs};
use crate::fts;
use serde_json::json;
use std::fmt::Write as _;

pub(super) fn fts_command(g: &GlobalArgs, cmd: &FtsCommand) -> CmdResult {
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
