//! `redo`: roll back the newest applied migration(s) and apply them again, the edit-and-retry loop of development
//! (diesel's `migration redo`). One backup before the rollback; the re-apply needs none, since it only restores what
//! the rollback removed.

use super::apply::{run_with_progress, steps_target};
use super::commands::{CmdResult, Open, load, migrator, open};
use super::output::{BOLD, EXIT_FAILED, Outcome, Problem, confirm, paint, render_report};
use super::{GlobalArgs, PolicyArgs, Source};
use crate::migrator::Target;
use serde_json::json;

pub(super) fn redo(source: Source<'_>, g: &GlobalArgs, count: u64, dry_run: bool, json: bool) -> CmdResult {
    let m = load(source, g)?;
    let mut conn = open(g, Open::ReadWrite)?;
    // The default policy for both halves: a state that would make the re-apply refuse (an out-of-order file) makes
    // the rollback refuse first, so redo never stops half-way for a reason it could have seen.
    let base = migrator(&m, g, PolicyArgs::default());
    let st = base.status(&conn).map_err(Problem::runtime)?;
    let from = st.current_version;
    let target = steps_target(&st, count);
    let down = base.clone().target(Target::Version(target));
    let plan = down.clone().dry_run(true).run(&mut conn).map_err(Problem::runtime)?;
    if plan.is_noop() {
        return Err(Problem::new(
            "nothing_to_redo",
            format!("nothing to redo: set `{}` has no applied migration", st.set_name),
            EXIT_FAILED,
        )
        .hint("`up` applies the pending migrations"));
    }
    if dry_run {
        let human = format!("{}then `up --to {from}` would apply them again\n", render_report(&plan));
        return Ok(Outcome::new(
            json!({ "down": plan, "up": null, "dry_run": true }),
            human,
        ));
    }
    let what = format!(
        "`redo` rolls back {} migration(s), from version {from} to {target}, and applies them again; down scripts \
         can drop data",
        plan.plan.steps.len()
    );
    if !g.yes && !json {
        let mut err = anstream::stderr();
        let text = format!("{}\n{}", paint(BOLD, "rollback:"), plan.plan);
        let _ = std::io::Write::write_all(&mut err, text.as_bytes());
    }
    confirm(g.yes, &what, "redo?")?;
    let rolled = run_with_progress(down, g, &mut conn, &plan, json)?;
    let up = base.target(Target::Version(from));
    let no_backup = GlobalArgs {
        no_backup: true,
        ..g.clone()
    };
    let reapplied = up
        .clone()
        .dry_run(true)
        .run(&mut conn)
        .map_err(Problem::runtime)
        .and_then(|up_plan| run_with_progress(up, &no_backup, &mut conn, &up_plan, json));
    match reapplied {
        Ok(again) => {
            let human = format!("{}{}", render_report(&rolled), render_report(&again));
            Ok(Outcome::new(
                json!({ "down": rolled, "up": again, "dry_run": false }),
                human,
            ))
        }
        Err(mut p) => {
            p.message = format!(
                "rolled back to version {target}, then applying the migrations again failed: {}",
                p.message
            );
            let backup = rolled
                .backup
                .as_ref()
                .map(|b| format!("; the backup taken before the rollback is {}", b.id))
                .unwrap_or_default();
            Err(p.hint(format!(
                "the database is at version {target}: fix the migration and run `up`{backup}"
            )))
        }
    }
}
