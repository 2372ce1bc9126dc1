//! Table rebuilds (a `DROP TABLE t` after which `t` exists again, by hand or through `-- migrate:rebuild`):
//! `rebuild-lost-object`, `drop-column` (a column the new table lacks), `column-type-change`,
//! `autoincrement-change`; and `int-primary-key` for every `CREATE TABLE`.

use super::facts::{create_table, object_exists, read_table};
use super::{Context, Finding};
use crate::directive::Directive;

pub(super) fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let kept: Vec<String> = ctx
        .source
        .up
        .directives
        .list
        .iter()
        .filter_map(|(_, d)| match d {
            Directive::Rebuild { drop, .. } => Some(drop.clone()),
            _ => None,
        })
        .flatten()
        .map(|n| n.to_ascii_lowercase())
        .collect();
    for (table, line) in ctx.dropped_tables() {
        let (Some(old), Some(new)) = (ctx.before.get(&table), read_table(ctx.conn, &table)) else {
            continue;
        };
        let name = &old.name;
        let lost: Vec<String> = old
            .indexes
            .iter()
            .map(|i| format!("index \"{i}\""))
            .zip(old.indexes.iter())
            .chain(
                old.triggers
                    .iter()
                    .map(|t| format!("trigger \"{t}\""))
                    .zip(old.triggers.iter()),
            )
            .chain(
                old.used_by
                    .iter()
                    .filter(|(k, _)| k == "view")
                    .map(|(_, v)| format!("view \"{v}\""))
                    .zip(old.used_by.iter().filter(|(k, _)| k == "view").map(|(_, v)| v)),
            )
            .filter(|(_, n)| !kept.contains(&n.to_ascii_lowercase()) && !object_exists(ctx.conn, n))
            .map(|(d, _)| d)
            .collect();
        if !lost.is_empty() {
            out.push(ctx.finding(
                "rebuild-lost-object",
                line,
                format!(
                    "rebuilds \"{name}\" without recreating {}: DROP TABLE removed them with the old table. Recreate \
                     them after the rename (`-- migrate:rebuild` does it for you), or list them in `drop=` if they \
                     are meant to go",
                    lost.join(", ")
                ),
            ));
        }
        for c in &old.columns {
            match new.columns.iter().find(|n| n.name.eq_ignore_ascii_case(&c.name)) {
                None => out.push(ctx.finding(
                    "drop-column",
                    line,
                    format!(
                        "the rebuilt \"{name}\" has no column \"{}\": its data is gone and an app version still \
                         running that names it fails",
                        c.name
                    ),
                )),
                Some(n) if !n.decl_type.eq_ignore_ascii_case(&c.decl_type) => out.push(ctx.finding(
                    "column-type-change",
                    line,
                    format!(
                        "the rebuild changes the type of \"{name}\".\"{}\" from `{}` to `{}`: the copied values keep \
                         their old storage class unless converted (CAST in the copy), and the affinity of new \
                         writes changes",
                        c.name, c.decl_type, n.decl_type
                    ),
                )),
                _ => {}
            }
        }
        if old.autoincrement != new.autoincrement {
            let (did, effect) = if new.autoincrement {
                ("adds", "rowids of deleted rows are no longer reused from now on")
            } else {
                (
                    "drops",
                    "rowids of deleted rows may be reused, so an id kept elsewhere can name a new row",
                )
            };
            out.push(ctx.finding(
                "autoincrement-change",
                line,
                format!("the rebuild of \"{name}\" {did} AUTOINCREMENT: {effect}"),
            ));
        }
        if old.rowid_alias().is_some() && new.rowid_alias().is_none() {
            out.push(ctx.finding(
                "int-primary-key",
                line,
                format!(
                    "the rebuilt \"{name}\" no longer has an INTEGER PRIMARY KEY: its key stops being the rowid, \
                     which VACUUM may renumber"
                ),
            ));
        }
    }
    for s in &ctx.statements {
        let Some((table, columns, table_pk, without_rowid)) = create_table(&s.toks) else {
            continue;
        };
        if without_rowid {
            continue;
        }
        let pk: Vec<_> = columns
            .iter()
            .filter(|c| c.primary_key || (table_pk.len() == 1 && c.name.eq_ignore_ascii_case(&table_pk[0])))
            .collect();
        if let [c] = pk.as_slice() {
            let t = c.type_words.join(" ");
            if t.to_ascii_uppercase().contains("INT") && !t.eq_ignore_ascii_case("INTEGER") {
                out.push(ctx.finding(
                    "int-primary-key",
                    s.line,
                    format!(
                        "\"{table}\".\"{}\" is `{t} PRIMARY KEY`, which is not an alias of the rowid (only \
                         `INTEGER PRIMARY KEY` is): the table keeps a separate rowid that VACUUM may renumber and \
                         an extra index. Write `INTEGER PRIMARY KEY`",
                        c.name
                    ),
                ));
            }
        }
    }
}
