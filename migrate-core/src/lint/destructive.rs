//! Data loss: `drop-table`, `drop-column` (by `ALTER TABLE … DROP COLUMN`), `add-column-not-null`.

use super::facts::{Alter, alter_action, read_table};
use super::{Context, Finding};

pub(super) fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    for (table, line) in ctx.dropped_tables() {
        // A table created by this migration held nothing yet; one that exists again afterwards was rebuilt
        // (see `rebuild`).
        let Some(before) = ctx.before.get(&table) else {
            continue;
        };
        if read_table(ctx.conn, &table).is_some() {
            continue;
        }
        out.push(ctx.finding(
            "drop-table",
            line,
            format!(
                "drops table \"{}\" and every row in it; an app version still running reads it. If the data is \
                 meant to go, say so; otherwise keep the table (or copy its rows elsewhere first)",
                before.name
            ),
        ));
    }
    for s in &ctx.statements {
        let Some((table, action)) = alter_action(&s.toks) else {
            continue;
        };
        match action {
            Alter::DropColumn { column } => out.push(ctx.finding(
                "drop-column",
                s.line,
                format!(
                    "drops column \"{column}\" of \"{table}\" and its data (and needs SQLite 3.35); an app version \
                     still running that names it fails. Stop using the column first, drop it in a later release"
                ),
            )),
            Alter::AddColumn {
                column,
                not_null: true,
                default: false,
            } if ctx.before.get(&table).is_some() => out.push(ctx.finding(
                "add-column-not-null",
                s.line,
                format!(
                    "adds NOT NULL column \"{column}\" to \"{table}\" without a DEFAULT: SQLite refuses it on a \
                     table with rows. Give it a DEFAULT, or add it nullable, backfill, then tighten with a rebuild"
                ),
            )),
            _ => {}
        }
    }
}
