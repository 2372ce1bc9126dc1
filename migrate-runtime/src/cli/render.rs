//! The human text of the commands whose output is more than a line (the JSON envelope and the prompts are in
//! `output`).

use super::output::{BOLD, DIM, GREEN, RED, YELLOW, paint, size};
use crate::backup::BackupInfo;
use crate::history::Failure;
use crate::migrator::Report;
use crate::status::{Entry, Paint, State, Status, TableOptions, applied_width, ms};
use crate::verify::Verification;
use std::fmt::Write as _;
use std::path::Path;

/// The CLI's colours in the status table.
struct Colour;

impl Paint for Colour {
    fn heading(&self, text: String) -> String {
        paint(BOLD, text)
    }
    fn state(&self, state: State, text: String) -> String {
        paint(state_style(state), text)
    }
    fn file(&self, text: String) -> String {
        paint(DIM, text)
    }
}

/// The colour of a state in tables.
fn state_style(s: State) -> anstyle::Style {
    match s {
        State::Applied | State::Baseline => GREEN,
        State::Pending => YELLOW,
        _ => RED,
    }
}

pub(crate) fn render_status(st: &Status) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} set `{}`: database at version {}, migrations up to {}",
        paint(BOLD, "status"),
        st.set_name,
        st.current_version,
        st.latest_version
    );
    let _ = st.write_table(
        &mut s,
        &TableOptions {
            paint: &Colour,
            took: true,
            applied_width: None,
            last_heading: "migration",
        },
    );
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
    // The JSON carries both versions; a person comparing a build with a deployment needs them as much.
    let _ = writeln!(s, "  {}", paint(DIM, format!("sqlite: {}", st.sqlite)));
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

pub(crate) fn problems_summary(st: &Status) -> Option<String> {
    let parts: Vec<String> = [State::Divergent, State::Missing, State::Ahead, State::OutOfOrder]
        .into_iter()
        .filter_map(|state| {
            let n = st.in_state(state).count();
            (n > 0).then(|| format!("{n} {}", state.to_string().to_lowercase()))
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

pub(crate) fn render_report(r: &Report) -> String {
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

/// The `history` text: applied migrations with times and durations, then the recorded failures.
pub(crate) fn render_history(st: &Status, applied: &[&Entry], fails: &[Failure]) -> String {
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
    for e in applied {
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
        for f in fails {
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
    s
}

/// The `verify` text: the status table, then what was checked.
pub(crate) fn render_verification(v: &Verification) -> String {
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
    s
}

/// The `backups` text: one line per backup, oldest first; `foreign` ones (taken from another database file) are
/// marked, and `hidden` says how many of those were left out.
pub(crate) fn render_backups(dir: &Path, list: &[(&BackupInfo, bool)], hidden: usize) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} {} backup(s) in {}",
        paint(BOLD, "backups"),
        list.len(),
        dir.display()
    );
    if hidden > 0 {
        let _ = writeln!(
            s,
            "  {}",
            paint(
                DIM,
                format!(
                    "{hidden} backup(s) of other databases in this directory not shown (`backups --all` lists them)"
                )
            )
        );
    }
    if !list.is_empty() {
        let w = list.iter().map(|(b, _)| b.id.len()).max().unwrap_or(2).max(2);
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
        for (b, foreign) in list {
            let _ = writeln!(
                s,
                "  {:<w$}  {:<24}  {:<12}  {:>9}  {:>10}{}{}",
                b.id,
                b.created_at,
                b.reason.to_string(),
                format!("{}→{}", b.version_before, b.target_version),
                size(b.size),
                if b.compressed { " zstd" } else { "" },
                if *foreign {
                    paint(YELLOW, format!(" foreign (from {})", b.source.display()))
                } else {
                    String::new()
                }
            );
        }
    }
    s
}
