//! SQLite's 12-step table rebuild (sqlite.org, "Making Other Kinds Of Table Schema Changes"), generated: the
//! generator behind `-- migrate:rebuild`, also usable from Rust.
//!
//! A migration file that redefines a table looks like this:
//!
//! ```sql
//! -- migrate:rebuild users
//! CREATE TABLE users (
//!     id INTEGER PRIMARY KEY,
//!     email TEXT NOT NULL UNIQUE,
//!     name TEXT NOT NULL DEFAULT ''
//! );
//! -- Optional mapping: the statement right after the CREATE TABLE, if it is a SELECT (or WITH/VALUES), gives the
//! -- values of every column of the new table, in order, read from the old table.
//! SELECT id, lower(email), coalesce(full_name, '') FROM users;
//! -- Anything after that runs once the rebuild is done (same transaction).
//! CREATE INDEX users_name ON users(name);
//! ```
//!
//! and runs as:
//!
//! 1. `CREATE TABLE "_migrate_rebuild_users" (…)`: the new definition under a temporary name;
//! 2. `INSERT INTO "_migrate_rebuild_users" (…) SELECT …`: the mapping, or the columns both tables have;
//! 3. `DROP VIEW`/`DROP TRIGGER` for the views that read the table and the triggers of *other* tables that mention
//!    it (SQLite re-checks those on the rename below and would fail while the old table is gone), transitively;
//! 4. `DROP TABLE "users"` (its own indexes and triggers go with it);
//! 5. `ALTER TABLE "_migrate_rebuild_users" RENAME TO "users"`. This order, not "rename the old table away first":
//!    since SQLite 3.26 renaming a table rewrites the references to it in other tables' foreign keys, triggers and
//!    views, which would leave them pointing at the old, dropped table;
//! 6. the indexes, triggers and views from 3 and 4 again, from their stored SQL, in their original order.
//!
//! **Which dependents are recreated:** those whose SQL mentions no column that the new definition removes (a
//! column of the old table the new one lacks). One that mentions a removed column is an error naming it, unless
//! it is listed in `drop=` (`-- migrate:rebuild users drop=users_full_name,v_names`): listed objects are never
//! recreated, so the rest of the file can create a new version of them. The mention test is by name, so a view that
//! uses a same-named column of another table counts too; list it in `drop=` and recreate it.
//!
//! **Foreign keys:** the directive implies `-- migrate:foreign-keys=off`: the runtime turns `PRAGMA foreign_keys`
//! off outside the transaction (inside one it is a no-op, so the generated SQL does not contain it) and runs
//! `PRAGMA foreign_key_check` before commit; a violation rolls the migration back and names the rows. With foreign
//! keys off, dropping the old table does not cascade to child rows, which keep pointing at the same keys.
//!
//! Rowids that are not an INTEGER PRIMARY KEY are not carried over (give the table one if anything keys on them).

use crate::expand::{Chunk, ExpandError, Introspect, SchemaObject};
use crate::load::Script;
use crate::split;
use crate::sql::{ident_tokens, quote_ident as qi};

/// A table rebuild that cannot be generated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RebuildError {
    /// The request itself is wrong (not a CREATE TABLE, a different table name).
    #[error("{0}")]
    Spec(String),
    /// It does not fit the schema (no such table, dependents that use removed columns).
    #[error("{0}")]
    Schema(String),
    /// The new CREATE TABLE fails.
    #[error("the new CREATE TABLE fails: {0}")]
    Create(String),
    /// The schema could not be read.
    #[error("cannot read the schema: {0}")]
    Introspect(String),
}

/// A table rebuild: the table, its new `CREATE TABLE`, and optionally a mapping `SELECT`.
///
/// ```
/// # #[cfg(feature = "sqlite")] {
/// use migrate_core::rebuild::Rebuild;
/// let db = rusqlite::Connection::open_in_memory().unwrap();
/// db.execute_batch("CREATE TABLE t(id INTEGER PRIMARY KEY, a TEXT, b TEXT); CREATE INDEX t_a ON t(a);").unwrap();
/// let plan = Rebuild::new("t", "CREATE TABLE t(id INTEGER PRIMARY KEY, a TEXT NOT NULL)").plan(&db).unwrap();
/// assert!(plan.copy.contains("SELECT \"id\", \"a\" FROM \"t\""));
/// db.execute_batch(&format!("BEGIN; {} COMMIT;", plan.sql())).unwrap();
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rebuild {
    table: String,
    create: String,
    mapping: Option<String>,
    drop: Vec<String>,
}

/// The generated SQL of a rebuild, in the order it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RebuildPlan {
    /// The new table under its temporary name.
    pub create: String,
    /// Copies the rows.
    pub copy: String,
    /// Drops the dependents that must go, the old table, renames the new one, recreates the dependents.
    pub swap: String,
    /// Dependents not recreated (listed in `drop=`), as `(type, name)`.
    pub not_recreated: Vec<(String, String)>,
}

impl RebuildPlan {
    /// All of it.
    pub fn sql(&self) -> String {
        format!("{}{}{}", self.create, self.copy, self.swap)
    }
}

/// The temporary name the new table is created under.
pub fn temp_name(table: &str) -> String {
    format!("_migrate_rebuild_{table}")
}

impl Rebuild {
    /// Rebuilds `table` as `create_table` defines it (a `CREATE TABLE` statement naming `table`).
    pub fn new(table: impl Into<String>, create_table: impl Into<String>) -> Self {
        Rebuild {
            table: table.into(),
            create: create_table.into(),
            mapping: None,
            drop: Vec::new(),
        }
    }

    /// Fills the new table from this `SELECT` (one result column per column of the new table, in order) instead
    /// of copying the columns both tables have.
    pub fn mapping(mut self, select: impl Into<String>) -> Self {
        self.mapping = Some(select.into());
        self
    }

    /// Indexes, triggers and views not to recreate.
    pub fn drop<I: IntoIterator<Item = S>, S: Into<String>>(mut self, names: I) -> Self {
        self.drop = names.into_iter().map(Into::into).collect();
        self
    }

    /// Generates the SQL against the schema as it is before the rebuild.
    pub fn plan(&self, db: &dyn Introspect) -> Result<RebuildPlan, RebuildError> {
        let table = &self.table;
        let tmp = temp_name(table);
        let create = rename_create(&self.create, table, &tmp)?;
        let old_cols = db
            .table_columns(table)
            .map_err(RebuildError::Introspect)?
            .ok_or_else(|| RebuildError::Schema(format!("there is no table `{table}` to rebuild at this point")))?;
        let objects = db.schema_objects().map_err(RebuildError::Introspect)?;
        if objects.iter().any(|o| o.name.eq_ignore_ascii_case(&tmp)) {
            return Err(RebuildError::Schema(format!(
                "`{tmp}`, the rebuild's temporary name, is already taken"
            )));
        }
        let mut new_cols = None;
        db.with_applied(&create, &mut |after| new_cols = Some(after.table_columns(&tmp)))
            .map_err(RebuildError::Introspect)?
            .map_err(RebuildError::Create)?;
        let new_cols = match new_cols {
            Some(Ok(Some(cols))) => cols,
            Some(Err(e)) => return Err(RebuildError::Introspect(e)),
            _ => {
                return Err(RebuildError::Create(format!("it does not create `{table}`")));
            }
        };
        let has = |cols: &[crate::expand::ColumnInfo], n: &str| cols.iter().any(|c| c.name.eq_ignore_ascii_case(n));
        let removed: Vec<&str> = old_cols
            .iter()
            .filter(|c| !has(&new_cols, &c.name))
            .map(|c| c.name.as_str())
            .collect();

        let new_names: Vec<String> = new_cols.iter().map(|c| qi(&c.name)).collect();
        let copy = match &self.mapping {
            Some(select) => format!(
                "INSERT INTO {} ({}) {};\n",
                qi(&tmp),
                new_names.join(", "),
                select.trim().trim_end_matches(';').trim_end()
            ),
            None => {
                let common: Vec<String> = new_cols
                    .iter()
                    .filter(|c| has(&old_cols, &c.name))
                    .map(|c| qi(&c.name))
                    .collect();
                if common.is_empty() {
                    return Err(RebuildError::Spec(format!(
                        "the old and new `{table}` have no column in common; give a mapping SELECT after the CREATE \
                         TABLE"
                    )));
                }
                let common = common.join(", ");
                format!(
                    "INSERT INTO {} ({common}) SELECT {common} FROM {};\n",
                    qi(&tmp),
                    qi(table)
                )
            }
        };

        let deps = dependents(&objects, table);
        if let Some(unknown) = self
            .drop
            .iter()
            .find(|n| !deps.iter().any(|(o, _)| o.name.eq_ignore_ascii_case(n)))
        {
            return Err(RebuildError::Spec(format!(
                "drop=`{unknown}` is not an index, trigger or view that depends on `{table}`"
            )));
        }
        let mut blocked = Vec::new();
        let mut swap = String::new();
        for (o, _) in deps.iter().filter(|(_, explicit)| *explicit) {
            let kind = if o.kind == "view" { "VIEW" } else { "TRIGGER" };
            swap.push_str(&format!("DROP {kind} {};\n", qi(&o.name)));
        }
        swap.push_str(&format!("DROP TABLE {};\n", qi(table)));
        swap.push_str(&format!("ALTER TABLE {} RENAME TO {};\n", qi(&tmp), qi(table)));
        let mut not_recreated = Vec::new();
        for (o, _) in &deps {
            let sql = o.sql.as_deref().unwrap_or_default();
            if self.drop.iter().any(|n| n.eq_ignore_ascii_case(&o.name)) {
                not_recreated.push((o.kind.clone(), o.name.clone()));
                continue;
            }
            let tokens = ident_tokens(sql);
            let uses: Vec<&str> = removed
                .iter()
                .copied()
                .filter(|r| tokens.iter().any(|t| t.eq_ignore_ascii_case(r)))
                .collect();
            if !uses.is_empty() {
                blocked.push(format!("{} `{}` (uses {})", o.kind, o.name, uses.join(", ")));
                continue;
            }
            swap.push_str(sql.trim_end().trim_end_matches(';'));
            swap.push_str(";\n");
        }
        if !blocked.is_empty() {
            return Err(RebuildError::Schema(format!(
                "the new `{table}` removes column(s) {} that these still use: {}. List them in `drop=` (and create \
                 what you still need after the CREATE TABLE in this file) or keep the columns",
                removed.iter().map(|r| format!("`{r}`")).collect::<Vec<_>>().join(", "),
                blocked.join(", ")
            )));
        }
        for (kind, name) in &not_recreated {
            swap.push_str(&format!("-- not recreated (drop=): {kind} {}\n", qi(name)));
        }
        Ok(RebuildPlan {
            create: format!("{create};\n"),
            copy,
            swap,
            not_recreated,
        })
    }
}

/// The objects a rebuild of `table` must carry over, in creation order, each with whether it must be dropped
/// explicitly (views and other tables' triggers that mention the table or such a view) rather than going with the
/// table (its own indexes and triggers).
fn dependents<'a>(objects: &'a [SchemaObject], table: &str) -> Vec<(&'a SchemaObject, bool)> {
    let own = |o: &SchemaObject| {
        (o.kind == "index" || o.kind == "trigger") && o.table.eq_ignore_ascii_case(table) && o.sql.is_some()
    };
    let mut names = vec![table.to_lowercase()];
    let mut explicit: Vec<&SchemaObject> = Vec::new();
    // Views can read views: repeat until no new view joins, then pick up the triggers that mention any of them.
    loop {
        let before = explicit.len();
        for o in objects {
            let candidate = o.kind == "view" || (o.kind == "trigger" && !own(o));
            if !candidate || explicit.iter().any(|e| std::ptr::eq(*e, o)) {
                continue;
            }
            let mentions = o
                .sql
                .as_deref()
                .is_some_and(|sql| ident_tokens(sql).iter().any(|t| names.contains(&t.to_lowercase())));
            if mentions {
                if o.kind == "view" {
                    names.push(o.name.to_lowercase());
                }
                explicit.push(o);
            }
        }
        if explicit.len() == before {
            break;
        }
    }
    objects
        .iter()
        .filter_map(|o| {
            if own(o) {
                Some((o, false))
            } else if explicit.iter().any(|e| std::ptr::eq(*e, o)) {
                Some((o, true))
            } else {
                None
            }
        })
        .collect()
}

/// A token of a CREATE TABLE header, with its byte span.
fn header_tokens(sql: &str, limit: usize) -> Vec<(usize, usize, String, bool)> {
    let bytes = sql.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() && out.len() < limit {
        let b = bytes[i];
        if b.is_ascii_whitespace() {
            i += 1;
        } else if sql[i..].starts_with("--") {
            i = sql[i..].find('\n').map_or(bytes.len(), |n| i + n);
        } else if sql[i..].starts_with("/*") {
            i = sql[i + 2..].find("*/").map_or(bytes.len(), |n| i + 2 + n + 2);
        } else if matches!(b, b'"' | b'`' | b'[') {
            let close = if b == b'[' { b']' } else { b };
            let mut j = i + 1;
            let mut text = Vec::new();
            while j < bytes.len() {
                if bytes[j] == close {
                    if close != b']' && bytes.get(j + 1) == Some(&close) {
                        text.push(close);
                        j += 2;
                        continue;
                    }
                    j += 1;
                    break;
                }
                text.push(bytes[j]);
                j += 1;
            }
            out.push((i, j, String::from_utf8_lossy(&text).into_owned(), true));
            i = j;
        } else if b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80 {
            let len = bytes[i..]
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_' || **c == b'$' || **c >= 0x80)
                .count();
            out.push((i, i + len, sql[i..i + len].to_owned(), false));
            i += len;
        } else {
            out.push((i, i + 1, sql[i..i + 1].to_owned(), false));
            i += 1;
        }
    }
    out
}

/// `create` with its table name replaced by `tmp`, after checking it is `CREATE TABLE <table>`.
fn rename_create(create: &str, table: &str, tmp: &str) -> Result<String, RebuildError> {
    let toks = header_tokens(create, 8);
    let kw = |i: usize, w: &str| toks.get(i).is_some_and(|(_, _, t, q)| !q && t.eq_ignore_ascii_case(w));
    let spec = |m: String| Err(RebuildError::Spec(m));
    if !kw(0, "CREATE") {
        return spec(format!(
            "a rebuild of `{table}` starts with the new `CREATE TABLE {table} (…)`"
        ));
    }
    if kw(1, "TEMP") || kw(1, "TEMPORARY") {
        return spec("a rebuild cannot create a TEMP table".into());
    }
    if !kw(1, "TABLE") {
        return spec(format!(
            "a rebuild of `{table}` starts with the new `CREATE TABLE {table} (…)`"
        ));
    }
    if kw(2, "IF") {
        return spec("a rebuild's CREATE TABLE cannot say IF NOT EXISTS: the table exists".into());
    }
    let (start, mut end, mut name) = match toks.get(2) {
        Some((s, e, n, _)) => (*s, *e, n.clone()),
        None => return spec("CREATE TABLE without a table name".into()),
    };
    if toks.get(3).is_some_and(|(_, _, t, q)| !q && t == ".") {
        match toks.get(4) {
            Some((_, e, n, _)) => {
                end = *e;
                name = n.clone();
            }
            None => return spec("CREATE TABLE without a table name".into()),
        }
    }
    if !name.eq_ignore_ascii_case(table) {
        return spec(format!("`rebuild {table}` but the CREATE TABLE is for `{name}`"));
    }
    Ok(format!(
        "{}{}{}",
        &create[..start],
        qi(tmp),
        create[end..].trim_end().trim_end_matches(';')
    ))
}

/// Expands the body of a `-- migrate:rebuild` file: see the module documentation.
pub(crate) fn expand_body(
    script: &Script,
    line: usize,
    table: &str,
    drop: &[String],
    db: &dyn Introspect,
) -> Result<Vec<Chunk>, ExpandError> {
    let err = |line: usize, message: String| ExpandError {
        file: script.path.clone(),
        line,
        message,
    };
    let stmts = split::statements(&script.sql);
    let Some(create) = stmts.first() else {
        return Err(err(
            line,
            format!("`rebuild {table}` needs the new `CREATE TABLE {table} (…)` in the file"),
        ));
    };
    let mapping = stmts.get(1).filter(|s| {
        let first = ident_tokens(s.sql).into_iter().next().unwrap_or_default();
        ["SELECT", "WITH", "VALUES"]
            .iter()
            .any(|k| first.eq_ignore_ascii_case(k))
    });
    let mut rebuild = Rebuild::new(table, create.sql).drop(drop.iter().cloned());
    if let Some(m) = mapping {
        rebuild = rebuild.mapping(m.sql);
    }
    let plan = rebuild.plan(db).map_err(|e| match e {
        RebuildError::Create(_) => err(create.line, e.to_string()),
        e => err(line, e.to_string()),
    })?;
    let mut chunks = Vec::new();
    let head = &script.sql[..create.offset];
    if !head.trim().is_empty() {
        chunks.push(Chunk {
            sql: head.to_owned(),
            line: 1,
            generated: false,
        });
    }
    // The rewritten CREATE keeps the line of the statement it came from, so an error in it points there.
    chunks.push(Chunk {
        sql: plan.create,
        line: create.line,
        generated: true,
    });
    chunks.push(Chunk {
        sql: plan.copy,
        line: mapping.map_or(line, |m| m.line),
        generated: true,
    });
    chunks.push(Chunk {
        sql: plan.swap,
        line,
        generated: true,
    });
    let last = mapping.unwrap_or(create);
    let rest_at = last.offset + last.sql.len();
    let rest = &script.sql[rest_at..];
    if split::has_statements(rest) {
        chunks.push(Chunk {
            sql: rest.to_owned(),
            line: split::line_of(&script.sql, rest_at),
            generated: false,
        });
    }
    Ok(chunks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renames_the_create() {
        let r = |c: &str| rename_create(c, "t", "_tmp");
        assert_eq!(r("CREATE TABLE t(x);").unwrap(), "CREATE TABLE \"_tmp\"(x)");
        assert_eq!(
            r("create /* c */ table \"T\" (x)").unwrap(),
            "create /* c */ table \"_tmp\" (x)"
        );
        assert_eq!(r("CREATE TABLE main.[t](x)").unwrap(), "CREATE TABLE \"_tmp\"(x)");
        assert!(r("CREATE TABLE u(x)").unwrap_err().to_string().contains("for `u`"));
        assert!(r("CREATE TEMP TABLE t(x)").is_err());
        assert!(r("CREATE TABLE IF NOT EXISTS t(x)").is_err());
        assert!(r("CREATE INDEX i ON t(x)").is_err());
        assert!(r("INSERT INTO t VALUES (1)").is_err());
        assert!(r("CREATE TABLE").is_err());
        assert!(r("CREATE TABLE main.").is_err());
        for odd in [
            "",
            "CREATE TABLE \"t",
            "CREATE TABLE [t",
            "/* open",
            "-- only",
            "CREATE TABLE é(x)",
            "CREATE TABLE t\u{301}(x)",
        ] {
            let _ = r(odd);
        }
        assert_eq!(
            rename_create("CREATE TABLE ünï(x)", "ünï", "_tmp").unwrap(),
            "CREATE TABLE \"_tmp\"(x)"
        );
    }
}
