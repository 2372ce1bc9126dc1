//! Describing objects: one `sqlite_schema` row plus what the pragmas report about it becomes an [`Object`], a set
//! of facts. The incremental compiler and [`Schema::read`] both describe rows with [`describe`], which is what makes
//! their hashes agree.

#[cfg(doc)]
use super::Schema;
use super::text::quote;
use super::{Object, ObjectKind};
use crate::catalog::is_virtual_table_sql;
use crate::normalize::{canonical, canonical_ident, first_paren_list, matching_paren, normalize_sql, render, tokens};
use crate::sql::quote_ident;
use std::collections::{BTreeMap, HashMap};

/// Whether a name is reserved for SQLite's own objects (`sqlite_%`).
pub(crate) fn is_internal(name: &str) -> bool {
    name.get(..7).is_some_and(|p| p.eq_ignore_ascii_case("sqlite_"))
}

/// The virtual table that would own `name` as a shadow table: SQLite splits a shadow table's name at its last `_`
/// (`docs_data` belongs to `docs`). Only a name whose owner exists as a virtual table can be a shadow table.
pub(crate) fn shadow_owner(name: &str) -> Option<&str> {
    name.rfind('_').map(|i| &name[..i])
}

/// One `sqlite_schema` row of `main` with what the pragmas report about it.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub(crate) rowid: i64,
    pub(crate) kind: ObjectKind,
    pub(crate) name: String,
    pub(crate) tbl_name: String,
    pub(crate) sql: Option<String>,
    /// `None` until [`Row::load_facts`] ran.
    facts: Option<Vec<Fact>>,
}

/// A pragma row about a table or an index.
#[derive(Debug, Clone)]
enum Fact {
    /// `PRAGMA table_xinfo`.
    Column {
        cid: i64,
        name: String,
        ty: String,
        notnull: bool,
        default: Option<String>,
        pk: i64,
        hidden: i64,
    },
    /// `PRAGMA foreign_key_list`.
    ForeignKey {
        id: i64,
        parent: String,
        from: String,
        to: Option<String>,
        on_update: String,
        on_delete: String,
        matching: String,
    },
    /// A key column of an index SQLite made for a `UNIQUE` constraint (`index` numbers the constraint).
    Unique { index: i64, term: Term },
    /// A key column of an explicit index.
    IndexTerm { seq: i64, term: Term },
}

/// A key column as `PRAGMA index_xinfo` reports it.
#[derive(Debug, Clone)]
struct Term {
    cid: i64,
    name: Option<String>,
    desc: bool,
    coll: Option<String>,
}

/// Reads the rows of `sqlite_schema` whose rowid is in `lo..=hi`, in rowid order, without pragma facts.
pub(crate) fn read_bare_rows(conn: &rusqlite::Connection, lo: i64, hi: i64) -> rusqlite::Result<Vec<Row>> {
    let mut st = conn.prepare_cached(
        "SELECT rowid, type, name, tbl_name, sql FROM main.sqlite_master WHERE rowid BETWEEN ?1 AND ?2 ORDER BY rowid",
    )?;
    st.query_map([lo, hi], |r| {
        let sql: Option<String> = r.get(4)?;
        let kind = ObjectKind::of_schema_row(r.get_ref(1)?.as_str()?, sql.as_deref())
            // SQLite writes only these four types; anything else is a damaged schema, not something to skip.
            .ok_or_else(|| rusqlite::Error::InvalidColumnType(1, "type".into(), rusqlite::types::Type::Text))?;
        Ok(Row {
            rowid: r.get(0)?,
            kind,
            name: r.get(2)?,
            tbl_name: r.get(3)?,
            sql,
            facts: None,
        })
    })?
    .collect()
}

/// Reads the rows of `sqlite_schema` whose rowid is in `lo..=hi`, in rowid order, with what the pragmas report.
pub(crate) fn read_rows(conn: &rusqlite::Connection, lo: i64, hi: i64) -> rusqlite::Result<Vec<Row>> {
    let mut rows = read_bare_rows(conn, lo, hi)?;
    for row in &mut rows {
        row.load_facts(conn)?;
    }
    Ok(rows)
}

/// Runs `PRAGMA main.<pragma>("<name>")` and maps its rows. A plain PRAGMA statement rather than the
/// `pragma_…()` table-valued function: it is cheaper to prepare (which every DDL statement would force again for
/// a cached statement), and its rows are generated when it is prepared, so there is nothing to cache anyway.
fn pragma<T>(
    conn: &rusqlite::Connection,
    pragma: &str,
    name: &str,
    f: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<Vec<T>> {
    let mut st = conn.prepare(&format!("PRAGMA main.{pragma}({})", quote_ident(name)))?;
    st.query_map([], f)?.collect()
}

fn index_terms(conn: &rusqlite::Connection, index: &str) -> rusqlite::Result<Vec<(i64, Term)>> {
    // index_xinfo: seqno, cid, name, desc, coll, key.
    let all = pragma(conn, "index_xinfo", index, |r| {
        let key: bool = r.get(5)?;
        Ok((
            key,
            r.get::<_, i64>(0)?,
            Term {
                cid: r.get(1)?,
                name: r.get(2)?,
                desc: r.get(3)?,
                coll: r.get(4)?,
            },
        ))
    })?;
    Ok(all
        .into_iter()
        .filter(|(key, ..)| *key)
        .map(|(_, seq, t)| (seq, t))
        .collect())
}

impl Row {
    /// Asks the pragmas about this row's table or index. Virtual tables are not asked: their module may be
    /// missing on the connection that reads them, and their SQL says all there is.
    pub(crate) fn load_facts(&mut self, conn: &rusqlite::Connection) -> rusqlite::Result<()> {
        let mut facts = Vec::new();
        let described = self.sql.is_some() && !is_internal(&self.name);
        match self.kind {
            ObjectKind::Table if described => {
                // table_xinfo: cid, name, type, notnull, dflt_value, pk, hidden.
                facts.extend(pragma(conn, "table_xinfo", &self.name, |r| {
                    Ok(Fact::Column {
                        cid: r.get(0)?,
                        name: r.get(1)?,
                        ty: r.get::<_, Option<String>>(2)?.unwrap_or_default(),
                        notnull: r.get(3)?,
                        default: r.get(4)?,
                        pk: r.get(5)?,
                        hidden: r.get(6)?,
                    })
                })?);
                // Foreign keys need REFERENCES and constraint indexes need UNIQUE in the table's SQL: without those
                // words the pragmas have nothing to say, and asking them costs a statement each per table.
                let words = self.sql.as_deref().map(tokens).unwrap_or_default();
                let has_word = |w: &str| words.iter().any(|t| t.is_word(w));
                let (references, unique) = (has_word("references"), has_word("unique"));
                // foreign_key_list: id, seq, table, from, to, on_update, on_delete, match.
                let mut fks = if !references {
                    Vec::new()
                } else {
                    pragma(conn, "foreign_key_list", &self.name, |r| {
                        Ok((
                            r.get::<_, i64>(0)?,
                            r.get::<_, i64>(1)?,
                            Fact::ForeignKey {
                                id: r.get(0)?,
                                parent: r.get(2)?,
                                from: r.get(3)?,
                                to: r.get(4)?,
                                on_update: r.get(5)?,
                                on_delete: r.get(6)?,
                                matching: r.get(7)?,
                            },
                        ))
                    })?
                };
                fks.sort_by_key(|(id, seq, _)| (*id, *seq));
                facts.extend(fks.into_iter().map(|(.., f)| f));
                // index_list: seq, name, unique, origin, partial.
                let uniques = if !unique {
                    Vec::new()
                } else {
                    pragma(conn, "index_list", &self.name, |r| {
                        Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(3)?))
                    })?
                };
                for (seq, index, origin) in uniques {
                    if origin == "u" {
                        for (_, term) in index_terms(conn, &index)? {
                            facts.push(Fact::Unique { index: seq, term });
                        }
                    }
                }
            }
            ObjectKind::Index if described => {
                facts.extend(
                    index_terms(conn, &self.name)?
                        .into_iter()
                        .map(|(seq, term)| Fact::IndexTerm { seq, term }),
                );
            }
            _ => {}
        }
        self.facts = Some(facts);
        Ok(())
    }
}

/// Describes one `sqlite_schema` row of the `main` database, or `None` when it is not part of the structural schema
/// (internal objects, constraint indexes, shadow tables). The incremental compiler and [`Schema::read`] both use
/// this on rows from [`read_rows`], which is what makes their hashes agree. `shadow`: whether `PRAGMA table_list`
/// calls this table a virtual table's shadow table; the caller finds out, because that pragma walks every table
/// and callers can ask it once for all rows (or skip it when no virtual table could own the name, see
/// [`shadow_owner`]).
pub(crate) fn describe(row: &Row, shadow: bool) -> Option<Object> {
    if shadow || is_internal(&row.name) {
        return None;
    }
    let sql = row.sql.as_deref()?;
    let name = &row.name;
    let (kind, line) = match row.kind {
        ObjectKind::Table | ObjectKind::VirtualTable => {
            return Some(describe_table(name, sql, row.facts.as_deref().unwrap_or(&[])));
        }
        ObjectKind::Index => {
            return Some(describe_index(
                name,
                &row.tbl_name,
                sql,
                row.facts.as_deref().unwrap_or(&[]),
            ));
        }
        ObjectKind::View => (
            ObjectKind::View,
            format!("view {} sql={}", quote(name), quote(&normalize_sql(sql))),
        ),
        ObjectKind::Trigger => (
            ObjectKind::Trigger,
            format!(
                "trigger {} on {} sql={}",
                quote(name),
                quote(&row.tbl_name),
                quote(&normalize_sql(sql))
            ),
        ),
    };
    Some(Object::new(kind, name.clone(), vec![line]))
}

/// A foreign key being rendered: parent table, child columns, parent columns (empty when the reference names
/// none), actions.
type ForeignKeyLine<'a> = (&'a str, Vec<String>, Vec<String>, String);

fn describe_table(name: &str, sql: &str, facts: &[Fact]) -> Object {
    let extras = table_extras(sql);
    if extras.virtual_table {
        let line = format!("virtual-table {} sql={}", quote(name), quote(&normalize_sql(sql)));
        return Object::new(ObjectKind::VirtualTable, name.to_owned(), vec![line]);
    }
    let qname = quote(name);
    let mut lines = vec![table_head(&qname, &extras)];
    for check in &extras.checks {
        lines.push(format!("check {qname} {}", quote(check)));
    }
    // Foreign key id → (parent, child columns, parent columns, actions); facts come ordered by id and seq.
    let mut fks: BTreeMap<i64, ForeignKeyLine<'_>> = BTreeMap::new();
    let mut uniques: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for fact in facts {
        match fact {
            Fact::Column { .. } => lines.extend(column_line(&qname, fact, &extras)),
            Fact::ForeignKey {
                id,
                parent,
                from,
                to,
                on_update,
                on_delete,
                matching,
            } => {
                let fk = fks.entry(*id).or_default();
                fk.0 = parent;
                fk.1.push(quote(from));
                // `to` is NULL when the reference names no columns (the parent's primary key is meant).
                if let Some(t) = to {
                    fk.2.push(quote(t));
                }
                fk.3 = format!(
                    "on-update={} on-delete={} match={}",
                    quote(on_update),
                    quote(on_delete),
                    quote(matching)
                );
            }
            Fact::Unique { index, term } => uniques.entry(*index).or_default().push(index_term(term, None)),
            Fact::IndexTerm { .. } => {}
        }
    }
    for (parent, from, to, actions) in fks.into_values() {
        let mut line = format!("foreign-key {qname}({}) references {}", from.join(", "), quote(parent));
        if !to.is_empty() {
            line.push_str(&format!("({})", to.join(", ")));
        }
        line.push(' ');
        line.push_str(&actions);
        lines.push(line);
    }
    for terms in uniques.into_values() {
        lines.push(format!("unique {qname}({})", terms.join(", ")));
    }
    Object::new(ObjectKind::Table, name.to_owned(), lines)
}

/// The table's own fact: its name and the options only its SQL states.
fn table_head(qname: &str, extras: &TableExtras) -> String {
    let mut head = format!("table {qname}");
    if extras.without_rowid {
        head.push_str(" without-rowid");
    }
    if extras.strict {
        head.push_str(" strict");
    }
    if extras.autoincrement {
        head.push_str(" autoincrement");
    }
    head
}

/// One column's fact, from `PRAGMA table_xinfo` and what the table's SQL adds (collation, generation expression).
fn column_line(qname: &str, fact: &Fact, extras: &TableExtras) -> Option<String> {
    let Fact::Column {
        cid,
        name: col,
        ty,
        notnull,
        default,
        pk,
        hidden,
    } = fact
    else {
        return None;
    };
    let mut line = format!("column {qname}.{} pos={cid} type={}", quote(col), quote(ty));
    if *notnull {
        line.push_str(" notnull");
    }
    if let Some(d) = default {
        line.push_str(&format!(" default={}", quote(&normalize_sql(d))));
    }
    line.push_str(&format!(" pk={pk}"));
    match hidden {
        2 => line.push_str(" generated=virtual"),
        3 => line.push_str(" generated=stored"),
        _ => {}
    }
    if let Some((collate, generated)) = extras.columns.get(&canonical_ident(col)) {
        if let Some(c) = collate {
            line.push_str(&format!(" collate={}", quote(c)));
        }
        if let Some(g) = generated {
            line.push_str(&format!(" as={}", quote(g)));
        }
    }
    Some(line)
}

/// One key term of an index: a column, `rowid`, or an expression (`expr` is its text from the index's SQL).
fn index_term(t: &Term, expr: Option<&str>) -> String {
    let mut term = match (t.cid, &t.name) {
        (-1, _) => "rowid".to_owned(),
        (cid, Some(c)) if cid >= 0 => quote(c),
        _ => format!("expr={}", quote(expr.unwrap_or("?"))),
    };
    if t.desc {
        term.push_str(" desc");
    }
    if let Some(c) = t.coll.as_deref().filter(|c| !c.eq_ignore_ascii_case("BINARY")) {
        term.push_str(&format!(" collate={}", quote(&c.to_ascii_lowercase())));
    }
    term
}

fn describe_index(name: &str, table: &str, sql: &str, facts: &[Fact]) -> Object {
    let parts = index_parts(sql);
    let terms: Vec<String> = facts
        .iter()
        .filter_map(|f| match f {
            Fact::IndexTerm { seq, term } => {
                let expr = usize::try_from(*seq)
                    .ok()
                    .and_then(|s| parts.terms.get(s))
                    .map(String::as_str);
                Some(index_term(term, expr))
            }
            _ => None,
        })
        .collect();
    let mut line = format!("index {} on {}({})", quote(name), quote(table), terms.join(", "));
    if parts.unique {
        line.push_str(" unique");
    }
    if let Some(w) = parts.where_clause {
        line.push_str(&format!(" where={}", quote(&w)));
    }
    Object::new(ObjectKind::Index, name.to_owned(), vec![line])
}

/// What the pragmas do not say about a table, from its stored SQL.
#[derive(Debug, Default)]
struct TableExtras {
    /// `CREATE VIRTUAL TABLE`.
    virtual_table: bool,
    /// The `WITHOUT ROWID` table option.
    without_rowid: bool,
    /// The `STRICT` table option.
    strict: bool,
    /// A column is `INTEGER PRIMARY KEY AUTOINCREMENT`.
    autoincrement: bool,
    checks: Vec<String>,
    /// Canonical column name → (collation, generation expression).
    columns: HashMap<String, (Option<String>, Option<String>)>,
}

fn table_extras(sql: &str) -> TableExtras {
    let toks = tokens(sql);
    let mut extras = TableExtras {
        virtual_table: is_virtual_table_sql(sql),
        ..TableExtras::default()
    };
    if extras.virtual_table {
        return extras;
    }
    let Some((items, options)) = first_paren_list(&toks) else {
        return extras;
    };
    // Table options follow the column list: `WITHOUT ROWID` and `STRICT`, separated by commas.
    for (i, t) in options.iter().enumerate() {
        if t.is_word("without") && options.get(i + 1).is_some_and(|n| n.is_word("rowid")) {
            extras.without_rowid = true;
        } else if t.is_word("strict") {
            extras.strict = true;
        }
    }
    // AUTOINCREMENT changes how rowids are chosen, and only the SQL says so.
    extras.autoincrement = items
        .iter()
        .flat_map(|item| item.iter())
        .any(|t| t.is_word("autoincrement"));
    for item in items {
        let Some(first) = item.first() else { continue };
        let is_constraint = ["constraint", "primary", "unique", "check", "foreign"]
            .iter()
            .any(|k| first.is_word(k));
        let mut collate = None;
        let mut generated = None;
        let mut i = usize::from(!is_constraint);
        while i < item.len() {
            let t = &item[i];
            let paren_after = item.get(i + 1).is_some_and(|n| n.is_op("("));
            if t.is_op("(") {
                i = matching_paren(item, i).unwrap_or(item.len()) + 1;
                continue;
            }
            if (t.is_word("check") || (t.is_word("as") && !is_constraint)) && paren_after {
                let close = matching_paren(item, i + 1).unwrap_or(item.len());
                let expr = render(item.get(i + 2..close).unwrap_or(&[]));
                if t.is_word("check") {
                    extras.checks.push(expr);
                } else {
                    generated = Some(expr);
                }
                i = close + 1;
                continue;
            }
            if t.is_word("collate") && !is_constraint {
                collate = item.get(i + 1).map(canonical);
                i += 2;
                continue;
            }
            i += 1;
        }
        if !is_constraint && (collate.is_some() || generated.is_some()) {
            extras.columns.insert(canonical(first), (collate, generated));
        }
    }
    extras
}

/// What an index's stored SQL says: its key terms as written (used for expression terms), `UNIQUE`, and its WHERE
/// clause.
struct IndexParts {
    terms: Vec<String>,
    unique: bool,
    where_clause: Option<String>,
}

fn index_parts(sql: &str) -> IndexParts {
    let toks = tokens(sql);
    let unique = toks.get(1).is_some_and(|t| t.is_word("unique"));
    let Some((items, after)) = first_paren_list(&toks) else {
        return IndexParts {
            terms: Vec::new(),
            unique,
            where_clause: None,
        };
    };
    let terms = items
        .into_iter()
        .map(|mut term| {
            if term.last().is_some_and(|t| t.is_word("asc") || t.is_word("desc")) {
                term = &term[..term.len() - 1];
            }
            if term.len() >= 2 && term[term.len() - 2].is_word("collate") {
                term = &term[..term.len() - 2];
            }
            render(term)
        })
        .collect();
    let where_clause = match after.split_first() {
        Some((w, rest)) if w.is_word("where") => Some(render(rest)),
        _ => None,
    };
    IndexParts {
        terms,
        unique,
        where_clause,
    }
}
