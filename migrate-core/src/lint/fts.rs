//! External-content FTS5 tables: `fts5-sync-triggers` (insert, delete and update triggers on the content table that
//! write the index) and `fts5-content-rowid` (the index's rowid must be the content table's INTEGER PRIMARY KEY,
//! which VACUUM does not renumber).

use super::facts::read_table;
use super::{Context, Finding};
use crate::fts5::{Fts5Index, Kind};
use crate::lex::Keyword;

pub(super) fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    for s in &ctx.statements {
        let starts = s.toks.first().is_some_and(|t| t.is_keyword(Keyword::Create))
            && s.toks.get(1).is_some_and(|t| t.is_keyword(Keyword::Virtual));
        if !starts {
            continue;
        }
        let Some(index) = Fts5Index::from_create_sql(s.sql) else {
            continue;
        };
        let (Kind::External, Some(content)) = (index.kind(), index.table()) else {
            continue;
        };
        let Some(table) = read_table(ctx.conn, content) else {
            continue;
        };
        let name = index.name();
        let mut events: Vec<Keyword> = Vec::new();
        for trigger in &table.triggers {
            let Ok(sql) = ctx.conn.query_row(
                "SELECT sql FROM main.sqlite_master WHERE type = 'trigger' AND name = ?1",
                [trigger],
                |r| r.get::<_, String>(0),
            ) else {
                continue;
            };
            if !super::facts::names_table(&sql, name) {
                continue;
            }
            if let Some(e) = crate::lex::significant(&sql)
                .filter_map(|t| t.keyword())
                .find(|k| matches!(k, Keyword::Insert | Keyword::Delete | Keyword::Update))
            {
                events.push(e);
            }
        }
        let missing: Vec<&str> = [
            (Keyword::Insert, "INSERT"),
            (Keyword::Delete, "DELETE"),
            (Keyword::Update, "UPDATE"),
        ]
        .iter()
        .filter(|(k, _)| !events.contains(k))
        .map(|(_, n)| *n)
        .collect();
        if !missing.is_empty() {
            out.push(ctx.finding(
                "fts5-sync-triggers",
                s.line,
                format!(
                    "external-content FTS5 table \"{name}\" has no {} trigger on \"{content}\" that writes it: the \
                     index drifts from its content and queries return wrong or missing rows. Use `-- migrate:fts5`, \
                     which creates the triggers",
                    missing.join("/")
                ),
            ));
        }
        let rowid = index.rowid_column().unwrap_or("rowid");
        let good = match table.rowid_alias() {
            Some(alias) => rowid.eq_ignore_ascii_case(alias) || rowid.eq_ignore_ascii_case("rowid"),
            None => false,
        };
        if !good {
            out.push(ctx.finding(
                "fts5-content-rowid",
                s.line,
                format!(
                    "FTS5 table \"{name}\" uses content_rowid `{rowid}`, which is not an INTEGER PRIMARY KEY of \
                     \"{content}\": VACUUM may renumber it, and the index then points at other rows. Give \
                     \"{content}\" an INTEGER PRIMARY KEY and name it in content_rowid="
                ),
            ));
        }
    }
}
