//! What the lints compare: facts about the tables a migration names, read from the validation database before it
//! runs and again after, and the shapes of the statements that name them (read with the lexer).

use crate::lex::{Keyword, Token};
use rusqlite::Connection;
use std::collections::HashMap;

/// One column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Column {
    pub(crate) name: String,
    pub(crate) decl_type: String,
    pub(crate) pk: bool,
}

/// A table as the lints see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TableFacts {
    pub(crate) name: String,
    pub(crate) columns: Vec<Column>,
    pub(crate) autoincrement: bool,
    /// Explicit indexes (`CREATE INDEX`) and triggers on the table.
    pub(crate) indexes: Vec<String>,
    pub(crate) triggers: Vec<String>,
    /// Views and triggers (on any table) whose SQL names the table.
    pub(crate) used_by: Vec<(String, String)>,
}

impl TableFacts {
    /// The column that aliases the rowid (`INTEGER PRIMARY KEY`), if any.
    pub(crate) fn rowid_alias(&self) -> Option<&str> {
        let pk: Vec<&Column> = self.columns.iter().filter(|c| c.pk).collect();
        match pk.as_slice() {
            [c] if c.decl_type.eq_ignore_ascii_case("INTEGER") => Some(&c.name),
            _ => None,
        }
    }
}

/// The facts of the tables a migration names, read before it runs.
#[derive(Debug, Default)]
pub(crate) struct Before {
    pub(crate) tables: HashMap<String, TableFacts>,
}

impl Before {
    /// Reads the tables that the `DROP TABLE` and `ALTER TABLE` statements of a migration name.
    pub(crate) fn capture(conn: &Connection, statements: &[super::Statement<'_>]) -> Before {
        let mut tables = HashMap::new();
        for s in statements {
            let named = drop_table_name(&s.toks).or_else(|| alter_table_name(&s.toks));
            if let Some(name) = named {
                let key = name.to_ascii_lowercase();
                if !tables.contains_key(&key)
                    && let Some(f) = read_table(conn, &name)
                {
                    tables.insert(key, f);
                }
            }
        }
        Before { tables }
    }

    pub(crate) fn get(&self, name: &str) -> Option<&TableFacts> {
        self.tables.get(&name.to_ascii_lowercase())
    }
}

/// Reads one table's facts; `None` when it does not exist (or is not a plain table).
pub(crate) fn read_table(conn: &Connection, name: &str) -> Option<TableFacts> {
    let (real, sql): (String, String) = conn
        .query_row(
            "SELECT name, sql FROM main.sqlite_master WHERE type = 'table' AND name = ?1 COLLATE NOCASE",
            [name],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .ok()?;
    let autoincrement = crate::lex::significant(&sql).any(|t| t.is_keyword(Keyword::Autoincrement));
    let mut st = conn
        .prepare("SELECT name, type, pk FROM pragma_table_xinfo(?1) WHERE hidden IN (0, 2, 3)")
        .ok()?;
    let columns = st
        .query_map([&real], |r| {
            Ok(Column {
                name: r.get(0)?,
                decl_type: r.get(1)?,
                pk: r.get::<_, i64>(2)? > 0,
            })
        })
        .ok()?
        .filter_map(Result::ok)
        .collect();
    let mut objects = conn
        .prepare("SELECT type, name, tbl_name, sql FROM main.sqlite_master WHERE type IN ('index', 'trigger', 'view') AND sql IS NOT NULL")
        .ok()?;
    let rows: Vec<(String, String, String, String)> = objects
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .ok()?
        .filter_map(Result::ok)
        .collect();
    let mut facts = TableFacts {
        name: real.clone(),
        columns,
        autoincrement,
        indexes: Vec::new(),
        triggers: Vec::new(),
        used_by: Vec::new(),
    };
    for (kind, obj, tbl, sql) in rows {
        let on_table = tbl.eq_ignore_ascii_case(&real);
        match kind.as_str() {
            "index" if on_table => facts.indexes.push(obj),
            "trigger" if on_table => facts.triggers.push(obj),
            "view" | "trigger" if names_table(&sql, &real) => facts.used_by.push((kind, obj)),
            _ => {}
        }
    }
    Some(facts)
}

/// Whether an object's SQL names `table` (as an identifier or a string used as one).
pub(crate) fn names_table(sql: &str, table: &str) -> bool {
    crate::lex::significant(sql)
        .skip(3)
        .any(|t| t.ident().is_some_and(|n| n.eq_ignore_ascii_case(table)))
}

/// Whether a schema object of that name exists after the migration.
pub(crate) fn object_exists(conn: &Connection, name: &str) -> bool {
    conn.query_row(
        "SELECT 1 FROM main.sqlite_master WHERE name = ?1 COLLATE NOCASE",
        [name],
        |_| Ok(()),
    )
    .is_ok()
}

/// The position after an optional `schema.` prefix at `i`.
fn skip_schema(toks: &[Token<'_>], i: usize) -> usize {
    if toks.get(i + 1).is_some_and(|t| t.is_op(".")) {
        i + 2
    } else {
        i
    }
}

/// `DROP TABLE [IF EXISTS] [schema.]name` → name.
pub(crate) fn drop_table_name(toks: &[Token<'_>]) -> Option<String> {
    if !(toks.first()?.is_keyword(Keyword::Drop) && toks.get(1)?.is_keyword(Keyword::Table)) {
        return None;
    }
    let mut i = 2;
    if toks.get(i).is_some_and(|t| t.is_keyword(Keyword::If)) {
        i += 2;
    }
    let i = skip_schema(toks, i);
    toks.get(i)?.name().map(|n| n.into_owned())
}

/// `ALTER TABLE [schema.]name …` → name.
pub(crate) fn alter_table_name(toks: &[Token<'_>]) -> Option<String> {
    if !(toks.first()?.is_keyword(Keyword::Alter) && toks.get(1)?.is_keyword(Keyword::Table)) {
        return None;
    }
    let i = skip_schema(toks, 2);
    toks.get(i)?.name().map(|n| n.into_owned())
}

/// What an `ALTER TABLE` does.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Alter {
    RenameTable {
        to: String,
    },
    RenameColumn {
        from: String,
        to: String,
    },
    DropColumn {
        column: String,
    },
    /// `ADD [COLUMN] def`: the column's name and the definition's tokens after it.
    AddColumn {
        column: String,
        not_null: bool,
        default: bool,
    },
}

/// Reads an `ALTER TABLE` statement's action.
pub(crate) fn alter_action(toks: &[Token<'_>]) -> Option<(String, Alter)> {
    let table = alter_table_name(toks)?;
    let mut i = skip_schema(toks, 2) + 1;
    let word = |i: usize| toks.get(i).and_then(|t| t.name()).map(|n| n.into_owned());
    let kw = |i: usize, k: Keyword| toks.get(i).is_some_and(|t| t.is_keyword(k));
    let action = if kw(i, Keyword::Rename) {
        i += 1;
        if kw(i, Keyword::To) {
            Alter::RenameTable { to: word(i + 1)? }
        } else {
            if kw(i, Keyword::Column) {
                i += 1;
            }
            Alter::RenameColumn {
                from: word(i)?,
                to: word(i + 2)?,
            }
        }
    } else if kw(i, Keyword::Drop) {
        i += 1;
        if kw(i, Keyword::Column) {
            i += 1;
        }
        Alter::DropColumn { column: word(i)? }
    } else if kw(i, Keyword::Add) {
        i += 1;
        if kw(i, Keyword::Column) {
            i += 1;
        }
        let column = word(i)?;
        let rest = &toks[i + 1..];
        let not_null = rest
            .windows(2)
            .any(|w| w[0].is_keyword(Keyword::Not) && w[1].is_keyword(Keyword::Null));
        let default = rest.iter().any(|t| t.is_keyword(Keyword::Default));
        Alter::AddColumn {
            column,
            not_null,
            default,
        }
    } else {
        return None;
    };
    Some((table, action))
}

/// A column definition of a `CREATE TABLE`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct ColumnDef {
    pub(crate) name: String,
    /// The type's words, as written.
    pub(crate) type_words: Vec<String>,
    /// `PRIMARY KEY` in the column's own constraints.
    pub(crate) primary_key: bool,
}

/// A `CREATE TABLE name (…)`: its name, columns, table-level single-column primary key, and whether it is
/// `WITHOUT ROWID`. `None` for other statements and `CREATE TABLE … AS SELECT`.
pub(crate) fn create_table(toks: &[Token<'_>]) -> Option<(String, Vec<ColumnDef>, Vec<String>, bool)> {
    if !toks.first()?.is_keyword(Keyword::Create) {
        return None;
    }
    let mut i = 1;
    while toks
        .get(i)
        .is_some_and(|t| t.is_keyword(Keyword::Temp) || t.is_keyword(Keyword::Temporary))
    {
        i += 1;
    }
    if !toks.get(i)?.is_keyword(Keyword::Table) {
        return None;
    }
    i += 1;
    if toks.get(i).is_some_and(|t| t.is_keyword(Keyword::If)) {
        i += 3;
    }
    let i = skip_schema(toks, i);
    let name = toks.get(i)?.name()?.into_owned();
    if !toks.get(i + 1)?.is_op("(") {
        return None;
    }
    // The parenthesized body, split at top-level commas.
    let mut parts: Vec<&[Token<'_>]> = Vec::new();
    let (mut depth, mut start, mut end) = (0usize, i + 2, None);
    for (j, t) in toks.iter().enumerate().skip(i + 1) {
        if t.is_op("(") {
            depth += 1;
        } else if t.is_op(")") {
            depth -= 1;
            if depth == 0 {
                parts.push(&toks[start..j]);
                end = Some(j);
                break;
            }
        } else if depth == 1 && t.is_op(",") {
            parts.push(&toks[start..j]);
            start = j + 1;
        }
    }
    let end = end?;
    let without_rowid = toks[end..].iter().any(|t| t.is_keyword(Keyword::Without));
    let mut columns = Vec::new();
    let mut table_pk = Vec::new();
    for part in parts {
        let first = part.first()?;
        let constraint = [
            Keyword::Constraint,
            Keyword::Primary,
            Keyword::Unique,
            Keyword::Check,
            Keyword::Foreign,
        ]
        .iter()
        .any(|k| first.is_keyword(*k));
        if constraint {
            if let Some(p) = part.iter().position(|t| t.is_keyword(Keyword::Primary)) {
                let inner: Vec<String> = part[p..]
                    .iter()
                    .skip_while(|t| !t.is_op("("))
                    .skip(1)
                    .take_while(|t| !t.is_op(")"))
                    .filter_map(|t| t.name().map(|n| n.into_owned()))
                    .filter(|n| {
                        !n.eq_ignore_ascii_case("ASC")
                            && !n.eq_ignore_ascii_case("DESC")
                            && !n.eq_ignore_ascii_case("COLLATE")
                    })
                    .collect();
                table_pk = inner;
            }
            continue;
        }
        let name = first.name()?.into_owned();
        // The type is the words before the first constraint keyword or parenthesis.
        let stops = [
            Keyword::Constraint,
            Keyword::Primary,
            Keyword::Not,
            Keyword::Null,
            Keyword::Unique,
            Keyword::Check,
            Keyword::Default,
            Keyword::Collate,
            Keyword::References,
            Keyword::Generated,
            Keyword::As,
        ];
        let type_words = part[1..]
            .iter()
            .take_while(|t| !t.is_op("(") && !stops.iter().any(|k| t.is_keyword(*k)))
            .map(|t| t.text.to_owned())
            .collect();
        let primary_key = part.iter().any(|t| t.is_keyword(Keyword::Primary));
        columns.push(ColumnDef {
            name,
            type_words,
            primary_key,
        });
    }
    Some((name, columns, table_pk, without_rowid))
}
