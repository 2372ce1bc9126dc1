//! `schema [--live|--embedded|--diff]`: the embedded or live structural schema, or the difference at the current
//! version (the expected schema and the live one come from `verify.rs`, as for `verify`).

use super::commands::{CmdResult, Open, current_version, load, open};
use super::output::{BOLD, DIM, EXIT_CHECK, EXIT_FAILED, GREEN, Outcome, Problem, RED, paint};
use super::{GlobalArgs, Source};
use serde_json::json;
use std::fmt::Write as _;

pub(super) fn schema(source: Source<'_>, g: &GlobalArgs, live: bool, embedded: bool, diff: bool) -> CmdResult {
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
    let live_s = crate::verify::live_schema(&conn, &g.history_table).map_err(Problem::runtime)?;
    if !diff {
        let text = live_s.to_text();
        let data = json!({ "source": "live", "version": current_version(&m, g, &conn), "text": text });
        return Ok(Outcome::new(data, text));
    }
    let version = current_version(&m, g, &conn);
    let expected = m.expected_schema(version).map_err(|e| {
        Problem::new(
            "schema",
            format!("cannot compute the schema at version {version}: {e}"),
            EXIT_FAILED,
        )
    })?;
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
