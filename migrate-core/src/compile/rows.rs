//! Rows at build time: before each migration every table of the validation database holds rows, so the failures
//! that an empty schema hides show up in `cargo build` — a rebuild whose `DROP TABLE` cascades into child rows, an
//! `ADD COLUMN … REFERENCES … DEFAULT 1` or a `NOT NULL` column without a default (both refused by SQLite only when
//! the table has rows), a unique index over duplicate values, a `NOT NULL` tightened by a rebuild over `NULL`s.
//!
//! # Which rows
//!
//! A table gets its rows once, before the first migration that runs after it was created (a table is empty in the
//! migration that creates it, as in production). Three generated rows, typed from the declared columns (SQLite's
//! affinity rules): the first leaves columns with a default to it and nullable columns `NULL`; the other two fill
//! every column, distinct in primary-key and unique columns and equal everywhere else, as real data repeats itself.
//! Foreign keys take a parent's key (tables are filled in rounds, parents first). A row that SQLite refuses (a
//! `CHECK` the generator cannot guess, a trigger) is tried in simpler forms and otherwise left out: a table the
//! generator cannot fill is validated empty, never reported. Values come from a counter, never from randomness, so
//! the same files give the same build. Application fixtures (`fixtures = "dir"`: `NNNN_name.sql`, run after
//! version `NNNN`) add realistic rows.
//!
//! # Cost
//!
//! Row counts are kept per table and only re-read for tables a migration wrote rows of: the authorizer reports every
//! table a statement inserts into, updates or deletes from, including through triggers and foreign-key actions,
//! which are the only ways rows disappear. A migration that only creates objects costs one seeding of its new
//! tables.

use super::tracked::Tracked;
use super::{CompileError, shorten};
use crate::lex::{self, Keyword};
use crate::sql::quote_ident;
use rusqlite::types::Value;
use std::collections::{HashMap, HashSet};

/// The allow id that opts a file out of row checks (`-- migrate:allow rows`): it runs against empty tables.
pub const ALLOW_ROWS: &str = "rows";

/// Application rows to seed at a version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fixture {
    /// The version after which it runs.
    pub version: u64,
    /// How errors name it.
    pub path: String,
    /// Its SQL.
    pub sql: String,
}

/// What validation checks beyond running the SQL: the rows it puts in the tables and the lints. `Default`
/// generates rows, has no fixtures and runs every lint as a warning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Analysis {
    /// Generate rows and check what migrations do to them (`rows = false` in the macro turns it off for a set).
    pub generate: bool,
    /// Application fixtures, in any order.
    pub fixtures: Vec<Fixture>,
    /// Which lints are allowed or denied (see [`crate::lint`]).
    pub lint: crate::lint::LintOptions,
    /// Functions that exist at run time (an extension's), stubbed during validation (`validate_functions`).
    pub stubs: Vec<super::FunctionStub>,
}

impl Default for Analysis {
    fn default() -> Self {
        Analysis {
            generate: true,
            fixtures: Vec::new(),
            lint: crate::lint::LintOptions::default(),
            stubs: Vec::new(),
        }
    }
}

/// The rows the validation database holds, by table.
#[derive(Debug, Default)]
pub(super) struct Rows {
    /// Lower-cased table name → rows it holds (tables already seeded, or given up on with 0).
    counts: HashMap<String, i64>,
    /// The next generated value: every generated value is distinct across tables and seedings.
    next: i64,
}

/// A column as the generator sees it.
struct Column {
    name: String,
    decl_type: String,
    not_null: bool,
    has_default: bool,
    /// Part of the primary key or of a unique index: values must differ between rows.
    unique: bool,
    /// `INTEGER PRIMARY KEY` or another primary key column.
    pk: bool,
}

/// A foreign key: child columns → parent table and columns (`None`: the parent's primary key).
struct ForeignKey {
    parent: String,
    from: Vec<String>,
    to: Vec<Option<String>>,
}

impl Rows {
    /// Gives every table not seeded yet its generated rows, parents before children.
    pub(super) fn seed(&mut self, db: &mut Tracked) {
        let mut pending: Vec<String> = db
            .take_new_tables()
            .into_iter()
            .filter(|t| db.has_table(t) && !self.counts.contains_key(&t.to_ascii_lowercase()))
            .collect();
        pending.dedup();
        // A round fills every table whose parents have rows; a child waits for a later round.
        while !pending.is_empty() {
            let before = pending.len();
            let mut waiting = Vec::new();
            for table in pending {
                match self.fill(db, &table) {
                    Some(n) => {
                        self.counts.insert(table.to_ascii_lowercase(), n);
                    }
                    None => waiting.push(table),
                }
            }
            if waiting.len() == before {
                // Parents that cannot be filled: these tables stay empty (and are not tried again).
                for t in waiting {
                    self.counts.insert(t.to_ascii_lowercase(), 0);
                }
                break;
            }
            pending = waiting;
        }
    }

    /// Whether the table was seeded (it existed before the running migration, or an earlier fixture filled it).
    pub(super) fn knew(&self, lower: &str) -> bool {
        self.counts.contains_key(lower)
    }

    /// The rows a table holds now, read from the database.
    fn count(db: &Tracked, table: &str) -> Option<i64> {
        db.conn
            .query_row(&format!("SELECT count(*) FROM main.{}", quote_ident(table)), [], |r| {
                r.get(0)
            })
            .ok()
    }

    /// Empties every table (foreign keys off, as the runtime never does it): a file that says
    /// `-- migrate:allow rows` runs against empty tables, which are seeded again before the next migration.
    ///
    /// Best effort: a table that cannot be emptied (a trigger refusing deletes) keeps its rows, which only makes
    /// the opted-out file run against more data than it asked for.
    pub(super) fn clear(&mut self, db: &mut Tracked) {
        let _ = db.conn.execute_batch("PRAGMA foreign_keys = OFF");
        for t in db.tables() {
            if self.counts.get(&t.to_ascii_lowercase()).is_some_and(|n| *n > 0) {
                let _ = db.conn.execute_batch(&format!("DELETE FROM main.{}", quote_ident(&t)));
            }
        }
        let _ = db.conn.execute_batch("PRAGMA foreign_keys = ON");
        self.counts.clear();
        // Every table is seeded again before the next migration.
        let tables = db.tables();
        db.take_new_tables();
        db.requeue_tables(tables);
    }

    /// After a script ran: re-reads the counts of the tables it wrote rows of and reports the first table that
    /// survived with fewer rows although the script neither deleted from nor dropped it. Returns the counts from
    /// before, of the tables whose count changed, for the round-trip check.
    pub(super) fn after_script(
        &mut self,
        db: &Tracked,
        sql: &str,
        what: &str,
    ) -> Result<Vec<(String, i64)>, CompileError> {
        // Read only when some count went down: most migrations lose no rows, and this lexes the whole script.
        let mut named: Option<HashSet<String>> = None;
        let mut changed = Vec::new();
        for w in &db.written {
            let (table, file, line) = (&w.table, &w.file, &w.line);
            let Some(&before) = self.counts.get(table) else {
                continue;
            };
            if !db.has_table(table) {
                self.counts.remove(table);
                continue;
            }
            let Some(now) = Self::count(db, table) else {
                continue;
            };
            if now < before && !w.by_dml && !named.get_or_insert_with(|| deleted_or_dropped(sql)).contains(table) {
                return Err(CompileError::RowsVanished {
                    file: file.clone(),
                    line: *line,
                    table: display_name(db, table),
                    before,
                    after: now,
                    what: what.to_owned(),
                });
            }
            if now != before {
                changed.push((table.clone(), before));
                self.counts.insert(table.clone(), now);
            }
        }
        Ok(changed)
    }

    /// After up and down of a reversible migration: every table the down wrote (other than by a DELETE, UPDATE or
    /// INSERT, which say what they remove, such as the rows the up inserted) that existed before the up must hold
    /// at least the rows it held before the up (`up_changed`: the counts the up replaced).
    pub(super) fn check_round_trip(
        &mut self,
        db: &Tracked,
        up_changed: &[(String, i64)],
        down_file: &str,
        up_file: &str,
    ) -> Result<(), CompileError> {
        for w in db.written.iter().filter(|w| !w.by_dml) {
            let (table, file, line) = (&w.table, &w.file, &w.line);
            let before = up_changed
                .iter()
                .find(|(t, _)| t == table)
                .map(|(_, n)| *n)
                .or_else(|| self.counts.get(table).copied());
            let (Some(before), Some(now)) = (before, Self::count(db, table)) else {
                continue;
            };
            if now < before {
                return Err(CompileError::RowsNotRestored {
                    file: file.clone(),
                    line: *line,
                    up_file: up_file.to_owned(),
                    down_file: down_file.to_owned(),
                    table: display_name(db, table),
                    before,
                    after: now,
                });
            }
        }
        Ok(())
    }

    /// Counts after fixtures ran: every table they wrote.
    pub(super) fn recount_written(&mut self, db: &Tracked) {
        for w in &db.written {
            let table = &w.table;
            if let Some(n) = Self::count(db, table) {
                self.counts.insert(table.clone(), n);
            }
        }
    }

    /// Inserts a table's generated rows; `None` while a parent has no rows yet.
    fn fill(&mut self, db: &Tracked, table: &str) -> Option<i64> {
        let columns = columns(db, table).ok()?;
        let fks = foreign_keys(db, table).unwrap_or_default();
        // A parent key per foreign key (self-references are left NULL when they may be).
        let mut parent_keys: Vec<Vec<Value>> = Vec::with_capacity(fks.len());
        for fk in &fks {
            if fk.parent.eq_ignore_ascii_case(table) {
                parent_keys.push(Vec::new());
                continue;
            }
            match parent_key(db, fk) {
                Some(k) => parent_keys.push(k),
                None => {
                    let parent_known = self.counts.contains_key(&fk.parent.to_ascii_lowercase());
                    let parent_exists = db.has_table(&fk.parent);
                    if parent_known || !parent_exists {
                        // The parent stays empty (or does not exist): only NULL keys can be inserted.
                        parent_keys.push(Vec::new());
                    } else {
                        return None;
                    }
                }
            }
        }
        let fk_value = |col: &str| -> Option<Option<Value>> {
            for (fk, keys) in fks.iter().zip(&parent_keys) {
                if let Some(i) = fk.from.iter().position(|f| f.eq_ignore_ascii_case(col)) {
                    return Some(keys.get(i).cloned());
                }
            }
            None
        };
        let mut inserted = 0;
        let base = self.bump();
        for row in 0..3 {
            let distinct = self.bump();
            // Forms tried in order: as planned, then everything given, then everything left to defaults.
            for form in 0..3 {
                let mut names = Vec::new();
                let mut values = Vec::new();
                for c in &columns {
                    let sparse = (row == 0 && form == 0) || form == 2;
                    if sparse && (c.has_default || (!c.not_null && !c.pk)) {
                        continue;
                    }
                    let v = match fk_value(&c.name) {
                        Some(Some(v)) => v,
                        Some(None) => Value::Null,
                        None => typed(&c.decl_type, if c.unique { distinct } else { base }, &c.name),
                    };
                    names.push(quote_ident(&c.name));
                    values.push(v);
                }
                let sql = if names.is_empty() {
                    format!("INSERT INTO main.{} DEFAULT VALUES", quote_ident(table))
                } else {
                    let marks: Vec<String> = (1..=values.len()).map(|i| format!("?{i}")).collect();
                    format!(
                        "INSERT INTO main.{}({}) VALUES ({})",
                        quote_ident(table),
                        names.join(", "),
                        marks.join(", ")
                    )
                };
                if db.conn.execute(&sql, rusqlite::params_from_iter(values.iter())).is_ok() {
                    inserted += 1;
                    break;
                }
            }
        }
        Some(inserted)
    }

    fn bump(&mut self) -> i64 {
        self.next += 1;
        self.next
    }
}

/// A value of the column's affinity (SQLite's rules, in their order: INT, then CHAR/CLOB/TEXT, BLOB or none, then
/// REAL/FLOA/DOUB, else NUMERIC) built from `n`.
fn typed(decl_type: &str, n: i64, column: &str) -> Value {
    let t = decl_type.to_ascii_uppercase();
    if t.contains("INT") {
        Value::Integer(n)
    } else if t.contains("CHAR") || t.contains("CLOB") || t.contains("TEXT") {
        Value::Text(format!("{column} {n}"))
    } else if t.contains("BLOB") {
        Value::Blob(n.to_le_bytes().to_vec())
    } else if t.contains("REAL") || t.contains("FLOA") || t.contains("DOUB") {
        Value::Real(n as f64 + 0.5)
    } else {
        Value::Integer(n)
    }
}

fn columns(db: &Tracked, table: &str) -> rusqlite::Result<Vec<Column>> {
    let mut unique: HashSet<String> = HashSet::new();
    {
        let mut st = db
            .conn
            .prepare("SELECT name FROM pragma_index_list(?1) WHERE \"unique\" = 1")?;
        let indexes: Vec<String> = st.query_map([table], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        let mut cols = db.conn.prepare("SELECT name FROM pragma_index_info(?1)")?;
        for index in indexes {
            for name in cols.query_map([&index], |r| r.get::<_, Option<String>>(0))? {
                if let Some(name) = name? {
                    unique.insert(name.to_ascii_lowercase());
                }
            }
        }
    }
    let mut st = db.conn.prepare(
        "SELECT name, type, \"notnull\", dflt_value IS NOT NULL, pk FROM pragma_table_xinfo(?1) WHERE hidden = 0",
    )?;
    let rows = st.query_map([table], |r| {
        let name: String = r.get(0)?;
        let pk = r.get::<_, i64>(4)? > 0;
        Ok(Column {
            unique: pk || unique.contains(&name.to_ascii_lowercase()),
            name,
            decl_type: r.get(1)?,
            not_null: r.get(2)?,
            has_default: r.get(3)?,
            pk,
        })
    })?;
    rows.collect()
}

fn foreign_keys(db: &Tracked, table: &str) -> rusqlite::Result<Vec<ForeignKey>> {
    let mut st = db
        .conn
        .prepare("SELECT id, \"table\", \"from\", \"to\" FROM pragma_foreign_key_list(?1) ORDER BY id, seq")?;
    let mut out: Vec<(i64, ForeignKey)> = Vec::new();
    let rows = st.query_map([table], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, Option<String>>(3)?,
        ))
    })?;
    for row in rows {
        let (id, parent, from, to) = row?;
        match out.last_mut() {
            Some((last, fk)) if *last == id => {
                fk.from.push(from);
                fk.to.push(to);
            }
            _ => out.push((
                id,
                ForeignKey {
                    parent,
                    from: vec![from],
                    to: vec![to],
                },
            )),
        }
    }
    Ok(out.into_iter().map(|(_, fk)| fk).collect())
}

/// The key of one parent row for a foreign key, `None` when the parent has no rows.
fn parent_key(db: &Tracked, fk: &ForeignKey) -> Option<Vec<Value>> {
    let cols: Vec<String> = if fk.to.iter().all(Option::is_some) {
        fk.to.iter().flatten().map(|c| quote_ident(c)).collect()
    } else {
        // `REFERENCES parent` without columns: the parent's primary key.
        let mut st = db
            .conn
            .prepare("SELECT name FROM pragma_table_info(?1) WHERE pk > 0 ORDER BY pk")
            .ok()?;
        let pk: Vec<String> = st
            .query_map([&fk.parent], |r| r.get::<_, String>(0))
            .ok()?
            .filter_map(Result::ok)
            .map(|c| quote_ident(&c))
            .collect();
        if pk.is_empty() { vec!["rowid".to_owned()] } else { pk }
    };
    let sql = format!(
        "SELECT {} FROM main.{} ORDER BY rowid DESC LIMIT 1",
        cols.join(", "),
        quote_ident(&fk.parent)
    );
    db.conn
        .query_row(&sql, [], |r| (0..cols.len()).map(|i| r.get::<_, Value>(i)).collect())
        .ok()
}

/// Lower-cased names of the tables a script deletes from or drops (`DELETE FROM t`, `DROP TABLE t`), read with the
/// lexer: losing their rows is what the script says it does.
fn deleted_or_dropped(sql: &str) -> HashSet<String> {
    let mut out = HashSet::new();
    for st in crate::split::statements(sql) {
        let toks: Vec<_> = lex::significant(st.sql).collect();
        let mut i = match (
            toks.first().and_then(|t| t.keyword()),
            toks.get(1).and_then(|t| t.keyword()),
        ) {
            (Some(Keyword::Delete), Some(Keyword::From)) => 2,
            (Some(Keyword::Drop), Some(Keyword::Table)) => 2,
            _ => continue,
        };
        if toks.get(i).is_some_and(|t| t.is_keyword(Keyword::If)) {
            i += 2;
        }
        // `schema.table`: the name is after the dot.
        if toks.get(i + 1).is_some_and(|t| t.is_op(".")) {
            i += 2;
        }
        if let Some(name) = toks.get(i).and_then(|t| t.name()) {
            out.insert(name.to_ascii_lowercase());
        }
    }
    out
}

/// The table a failing statement is about, read from its text with the lexer: `ALTER TABLE t`, `CREATE … INDEX … ON
/// t`, `INSERT INTO t`, `UPDATE t`.
pub(super) fn statement_table(sql: &str) -> Option<String> {
    let toks: Vec<_> = lex::significant(sql).collect();
    let after = |kw: Keyword| -> Option<String> {
        let i = toks.iter().position(|t| t.is_keyword(kw))?;
        let mut j = i + 1;
        if toks.get(j + 1).is_some_and(|t| t.is_op(".")) {
            j += 2;
        }
        toks.get(j).and_then(|t| t.name()).map(|n| n.into_owned())
    };
    match toks.first().and_then(|t| t.keyword())? {
        Keyword::Alter => after(Keyword::Table),
        Keyword::Create => after(Keyword::On),
        Keyword::Insert | Keyword::Replace => after(Keyword::Into),
        Keyword::Update => {
            let mut j = 1;
            if toks.get(j).is_some_and(|t| t.is_keyword(Keyword::Or)) {
                j += 2;
            }
            toks.get(j).and_then(|t| t.name()).map(|n| n.into_owned())
        }
        _ => None,
    }
}

/// The table's name as the schema spells it.
fn display_name(db: &Tracked, lower: &str) -> String {
    db.tables()
        .into_iter()
        .find(|t| t.eq_ignore_ascii_case(lower))
        .unwrap_or_else(|| lower.to_owned())
}

/// Reads a fixtures directory: every `<version>_<name>.sql` (other files are ignored), named `{display_dir}/<file>`
/// in errors. Returns each fixture with its path on disk (the macro tracks them for rebuilds).
pub fn read_fixtures(dir: &std::path::Path, display_dir: &str) -> Result<Vec<(Fixture, std::path::PathBuf)>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        format!(
            "{display_dir}: cannot read the fixtures directory ({}): {e}",
            dir.display()
        )
    })?;
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("{display_dir}: {e}"))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(stem) = name.strip_suffix(".sql") else {
            continue;
        };
        let version = stem.split_once('_').map_or(stem, |(v, _)| v).parse::<u64>().map_err(|_| {
            format!("{display_dir}/{name}: a fixture is named `<version>_<name>.sql` (it runs after that migration version)")
        })?;
        let sql = std::fs::read_to_string(entry.path()).map_err(|e| format!("{display_dir}/{name}: {e}"))?;
        out.push((
            Fixture {
                version,
                path: format!("{display_dir}/{name}"),
                sql,
            },
            entry.path(),
        ));
    }
    out.sort_by(|a, b| a.0.path.cmp(&b.0.path));
    Ok(out)
}

/// A fixture file's statements, run one by one so an error names its line.
pub(super) fn run_fixture(db: &mut Tracked, f: &Fixture) -> Result<(), CompileError> {
    db.written.clear();
    for st in crate::split::statements(&f.sql) {
        db.conn.execute_batch(st.sql).map_err(|e| CompileError::Fixture {
            file: f.path.clone(),
            line: st.line,
            statement: shorten(st.sql),
            message: super::sqlite_message(&e, st.sql),
        })?;
        db.note_written(&f.path, st.line, true);
    }
    Ok(())
}

#[cfg(test)]
#[path = "rows_tests.rs"]
mod tests;
