//! Renames: `rename-table`, `rename-column`. SQLite rewrites the views and triggers that use the old name, but an
//! app version still running (during a rolling deploy, or a second process) does not.

use super::facts::{Alter, alter_action};
use super::{Context, Finding};

pub(super) fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    for s in &ctx.statements {
        // A rename inside a rebuild (of a table this migration created) is the rebuild's own business.
        if s.generated {
            continue;
        }
        let Some((table, action)) = alter_action(&s.toks) else {
            continue;
        };
        let Some(before) = ctx.before.get(&table) else {
            continue;
        };
        let users = if before.used_by.is_empty() {
            String::new()
        } else {
            let list: Vec<String> = before.used_by.iter().map(|(k, n)| format!("{k} \"{n}\"")).collect();
            format!(" ({} use it and are rewritten by SQLite)", list.join(", "))
        };
        match action {
            Alter::RenameTable { to } => out.push(ctx.finding(
                "rename-table",
                s.line,
                format!(
                    "renames table \"{}\" to \"{to}\"{users}: an app version still running queries the old name. \
                     Ship code that reads both first, or keep a view under the old name",
                    before.name
                ),
            )),
            Alter::RenameColumn { from, to } => out.push(ctx.finding(
                "rename-column",
                s.line,
                format!(
                    "renames column \"{}\".\"{from}\" to \"{to}\"{users}: an app version still running names the old \
                     column. Add the new column and backfill, switch the code, then drop the old one",
                    before.name
                ),
            )),
            _ => {}
        }
    }
}
