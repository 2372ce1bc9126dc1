//! `status`, `verify`, `history` and `baseline`: where the database stands against the set, and adopting one.

use super::commands::{CmdResult, Open, load, migrator, open};
use super::output::{
    EXIT_CHECK, GREEN, Outcome, Problem, paint, problems_summary, render_history, render_status, render_verification,
};
use super::{GlobalArgs, PolicyArgs, Source};
use crate::error::{Error, ErrorKind};
use crate::status::State;
use serde_json::json;

pub(super) fn status(source: Source<'_>, g: &GlobalArgs, check: bool) -> CmdResult {
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

pub(super) fn verify(source: Source<'_>, g: &GlobalArgs) -> CmdResult {
    let m = load(source, g)?;
    let conn = open(g, Open::ReadOnly)?;
    let mig = migrator(&m, g, PolicyArgs::default());
    match mig.verify(&conn) {
        Ok(v) => Ok(Outcome::new(&v, render_verification(&v))),
        Err(e) if is_check_kind(e.kind()) => {
            // A check that ran and failed reports what it found as `data` alongside the `error`, as every check
            // does; the status is read leniently, so it shows the divergent or missing entries themselves.
            let status = mig.status(&conn).ok();
            let (schema_missing, schema_unexpected) = match &e {
                Error::SchemaDrift {
                    schema_diff: Some(d), ..
                } => (Some(d.missing.clone()), Some(d.unexpected.clone())),
                _ => (None, None),
            };
            let integrity = match &e {
                Error::Integrity { messages } => Some(messages.clone()),
                _ => None,
            };
            let data = json!({
                "status": status,
                "failed_check": e.kind().as_str(),
                "schema_missing": schema_missing,
                "schema_unexpected": schema_unexpected,
                "integrity_messages": integrity,
            });
            let human = status.as_ref().map(render_status).unwrap_or_default();
            let mut outcome = Outcome::new(data, human);
            outcome.problem = Some(Problem::runtime(e).exit(EXIT_CHECK));
            Ok(outcome)
        }
        Err(e) => Err(Problem::runtime(e)),
    }
}

pub(super) fn history(source: Source<'_>, g: &GlobalArgs) -> CmdResult {
    let m = load(source, g)?;
    let conn = open(g, Open::ReadOnly)?;
    let mig = migrator(&m, g, PolicyArgs::default());
    let st = mig.status(&conn).map_err(Problem::runtime)?;
    // The table name was validated by `status`.
    let fails = mig
        .table()
        .and_then(|t| t.failures(&conn, &st.set_name))
        .map_err(Problem::runtime)?;
    let applied: Vec<_> = st.entries.iter().filter(|e| e.applied_at.is_some()).collect();
    let s = render_history(&st, &applied, &fails);
    let data = json!({
        "set_name": st.set_name,
        "history_table": st.history_table,
        "applied": applied,
        "failures": fails,
    });
    Ok(Outcome::new(data, s))
}

pub(super) fn baseline(source: Source<'_>, g: &GlobalArgs, version: u64) -> CmdResult {
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
