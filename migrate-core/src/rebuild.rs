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
//!
//! This module generates the SQL from a [`Rebuild`] and the schema ([`Introspect`]); how a migration file's body
//! maps onto one (its first statement, the optional mapping, the rest) is [`crate::expand`]'s business.

use crate::catalog::{AppliedError, ColumnInfo, Introspect, IntrospectError, ObjectKind, SchemaObject};
use crate::lex::{self, Keyword, Token};
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
    Introspect(#[from] IntrospectError),
}

/// A table rebuild: the table, its new `CREATE TABLE`, and optionally a mapping `SELECT`.
///
/// ```
/// # #[cfg(feature = "sqlite")] {
/// use litemigrate_core::rebuild::Rebuild;
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
    /// Dependents not recreated (listed in `drop=`).
    pub not_recreated: Vec<SchemaObject>,
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
            .table_columns(table)?
            .ok_or_else(|| RebuildError::Schema(format!("there is no table `{table}` to rebuild at this point")))?;
        let objects = db.schema_objects()?;
        if objects.iter().any(|o| o.name.eq_ignore_ascii_case(&tmp)) {
            return Err(RebuildError::Schema(format!(
                "`{tmp}`, the rebuild's temporary name, is already taken"
            )));
        }
        let new_cols = new_columns(db, &create, table, &tmp)?;
        let copy = self.copy_sql(&tmp, &old_cols, &new_cols)?;
        let deps = dependents(&objects, table);
        self.check_drop_list(&deps)?;
        let removed: Vec<&str> = old_cols
            .iter()
            .filter(|c| !has_column(&new_cols, &c.name))
            .map(|c| c.name.as_str())
            .collect();
        let (swap, not_recreated) = self.swap_sql(&tmp, &deps, &removed)?;
        Ok(RebuildPlan {
            create: format!("{create};\n"),
            copy,
            swap,
            not_recreated,
        })
    }

    /// Step 2: fill the new table from the mapping, or from the columns both tables have.
    fn copy_sql(&self, tmp: &str, old_cols: &[ColumnInfo], new_cols: &[ColumnInfo]) -> Result<String, RebuildError> {
        let new_names: Vec<String> = new_cols.iter().map(|c| qi(&c.name)).collect();
        if let Some(select) = &self.mapping {
            return Ok(format!(
                "INSERT INTO {} ({}) {};\n",
                qi(tmp),
                new_names.join(", "),
                statement_body(select)
            ));
        }
        let common: Vec<String> = new_cols
            .iter()
            .filter(|c| has_column(old_cols, &c.name))
            .map(|c| qi(&c.name))
            .collect();
        if common.is_empty() {
            return Err(RebuildError::Spec(format!(
                "the old and new `{}` have no column in common; give a mapping SELECT after the CREATE TABLE",
                self.table
            )));
        }
        let common = common.join(", ");
        Ok(format!(
            "INSERT INTO {} ({common}) SELECT {common} FROM {};\n",
            qi(tmp),
            qi(&self.table)
        ))
    }

    /// Every name in `drop=` must be a dependent: a typo would otherwise recreate what the file means to replace.
    fn check_drop_list(&self, deps: &[(&SchemaObject, bool)]) -> Result<(), RebuildError> {
        match self
            .drop
            .iter()
            .find(|n| !deps.iter().any(|(o, _)| o.name.eq_ignore_ascii_case(n)))
        {
            Some(unknown) => Err(RebuildError::Spec(format!(
                "drop=`{unknown}` is not an index, trigger or view that depends on `{}`",
                self.table
            ))),
            None => Ok(()),
        }
    }

    fn is_dropped(&self, o: &SchemaObject) -> bool {
        self.drop.iter().any(|n| n.eq_ignore_ascii_case(&o.name))
    }

    /// Steps 3 to 6: drop what must go, swap the tables, recreate the dependents that do not use a `removed` column
    /// and are not in `drop=`. Also returns the ones not recreated.
    fn swap_sql(
        &self,
        tmp: &str,
        deps: &[(&SchemaObject, bool)],
        removed: &[&str],
    ) -> Result<(String, Vec<SchemaObject>), RebuildError> {
        let table = &self.table;
        let mut swap = String::new();
        for (o, _) in deps.iter().filter(|(_, explicit)| *explicit) {
            let kind = if o.kind == ObjectKind::View { "VIEW" } else { "TRIGGER" };
            swap.push_str(&format!("DROP {kind} {};\n", qi(&o.name)));
        }
        swap.push_str(&format!("DROP TABLE {};\n", qi(table)));
        swap.push_str(&format!("ALTER TABLE {} RENAME TO {};\n", qi(tmp), qi(table)));
        let mut blocked = Vec::new();
        let mut not_recreated = Vec::new();
        for (o, _) in deps {
            if self.is_dropped(o) {
                not_recreated.push((*o).clone());
                continue;
            }
            let sql = o.sql.as_deref().unwrap_or_default();
            let uses = uses_columns(sql, removed);
            if !uses.is_empty() {
                blocked.push(format!("{} `{}` (uses {})", o.kind.keyword(), o.name, uses.join(", ")));
                continue;
            }
            swap.push_str(statement_body(sql));
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
        for o in &not_recreated {
            swap.push_str(&format!(
                "-- not recreated (drop=): {} {}\n",
                o.kind.keyword(),
                qi(&o.name)
            ));
        }
        Ok((swap, not_recreated))
    }
}

fn has_column(cols: &[ColumnInfo], name: &str) -> bool {
    cols.iter().any(|c| c.name.eq_ignore_ascii_case(name))
}

/// The `removed` columns `sql` mentions by name.
fn uses_columns<'r>(sql: &str, removed: &[&'r str]) -> Vec<&'r str> {
    let tokens = ident_tokens(sql);
    removed
        .iter()
        .copied()
        .filter(|r| tokens.iter().any(|t| t.eq_ignore_ascii_case(r)))
        .collect()
}

/// Step 1, tried: the new table's columns, read from the schema after `create` (already renamed to `tmp`) ran.
fn new_columns(db: &dyn Introspect, create: &str, table: &str, tmp: &str) -> Result<Vec<ColumnInfo>, RebuildError> {
    let mut new_cols = None;
    db.with_applied(create, &mut |after| new_cols = Some(after.table_columns(tmp)))
        .map_err(|e| match e {
            AppliedError::Mechanism(e) => RebuildError::Introspect(e),
            AppliedError::Sql(message) => RebuildError::Create(message),
        })?;
    match new_cols {
        Some(Ok(Some(cols))) => Ok(cols),
        Some(Err(e)) => Err(RebuildError::Introspect(e)),
        _ => Err(RebuildError::Create(format!("it does not create `{table}`"))),
    }
}

/// The objects a rebuild of `table` must carry over, in creation order, each with whether it must be dropped
/// explicitly (views and other tables' triggers that mention the table or such a view) rather than going with the
/// table (its own indexes and triggers).
fn dependents<'a>(objects: &'a [SchemaObject], table: &str) -> Vec<(&'a SchemaObject, bool)> {
    let own = |o: &SchemaObject| {
        matches!(o.kind, ObjectKind::Index | ObjectKind::Trigger)
            && o.table.eq_ignore_ascii_case(table)
            && o.sql.is_some()
    };
    let mut names = vec![table.to_lowercase()];
    let mut explicit: Vec<&SchemaObject> = Vec::new();
    // Views can read views: repeat until no new view joins, then pick up the triggers that mention any of them.
    loop {
        let before = explicit.len();
        for o in objects {
            let candidate = o.kind == ObjectKind::View || (o.kind == ObjectKind::Trigger && !own(o));
            if !candidate || explicit.iter().any(|e| std::ptr::eq(*e, o)) {
                continue;
            }
            let mentions = o
                .sql
                .as_deref()
                .is_some_and(|sql| ident_tokens(sql).iter().any(|t| names.contains(&t.to_lowercase())));
            if mentions {
                if o.kind == ObjectKind::View {
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

/// `sql` from its first token to its last one that is not a `;`: a statement that more SQL can be built around.
/// Trimming text instead would keep a trailing `-- comment`, which swallows the `;` put after it.
fn statement_body(sql: &str) -> &str {
    statement_span(sql).map_or("", |(start, end)| &sql[start..end])
}

/// The byte range [`statement_body`] returns.
fn statement_span(sql: &str) -> Option<(usize, usize)> {
    let mut span: Option<(usize, usize)> = None;
    for t in lex::significant(sql).filter(|t| !t.is_op(";")) {
        let end = t.offset + t.text.len();
        span = Some(span.map_or((t.offset, end), |(start, _)| (start, end)));
    }
    span
}

/// `create` with its table name replaced by `tmp`, after checking it is `CREATE TABLE <table>`.
fn rename_create(create: &str, table: &str, tmp: &str) -> Result<String, RebuildError> {
    let toks: Vec<Token<'_>> = lex::significant(create).take(5).collect();
    let kw = |i: usize, k: Keyword| toks.get(i).is_some_and(|t| t.is_keyword(k));
    let spec = |m: String| Err(RebuildError::Spec(m));
    let not_create_table = || format!("a rebuild of `{table}` starts with the new `CREATE TABLE {table} (…)`");
    if !kw(0, Keyword::Create) {
        return spec(not_create_table());
    }
    if kw(1, Keyword::Temp) || kw(1, Keyword::Temporary) {
        return spec("a rebuild cannot create a TEMP table".into());
    }
    if !kw(1, Keyword::Table) {
        return spec(not_create_table());
    }
    if kw(2, Keyword::If) {
        return spec("a rebuild's CREATE TABLE cannot say IF NOT EXISTS: the table exists".into());
    }
    // `[schema.]name`: the whole of it is replaced, the name is the last part.
    let (first, name) = match (toks.get(2), toks.get(3).filter(|t| t.is_op("."))) {
        (Some(first), None) => (first, first),
        (Some(first), Some(_)) => match toks.get(4) {
            Some(name) => (first, name),
            None => return spec("CREATE TABLE without a table name".into()),
        },
        (None, _) => return spec("CREATE TABLE without a table name".into()),
    };
    let written = name.name().unwrap_or(std::borrow::Cow::Borrowed(name.text));
    if !written.eq_ignore_ascii_case(table) {
        return spec(format!("`rebuild {table}` but the CREATE TABLE is for `{written}`"));
    }
    let name_end = name.offset + name.text.len();
    let body_end = statement_span(create).map_or(name_end, |(_, end)| end);
    Ok(format!(
        "{}{}{}",
        &create[..first.offset],
        qi(tmp),
        &create[name_end..body_end.max(name_end)]
    ))
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

    #[test]
    fn a_trailing_comment_cannot_swallow_the_semicolon() {
        assert_eq!(
            rename_create("CREATE TABLE t(x) -- the new t\n;", "t", "_tmp").unwrap(),
            "CREATE TABLE \"_tmp\"(x)"
        );
        assert_eq!(
            statement_body("  SELECT a FROM t /* why */ ; -- done\n"),
            "SELECT a FROM t"
        );
        assert_eq!(
            statement_body("CREATE TRIGGER x AFTER INSERT ON t BEGIN SELECT 1; END;"),
            "CREATE TRIGGER x AFTER INSERT ON t BEGIN SELECT 1; END"
        );
        assert_eq!(statement_body("-- only a comment"), "");
    }

    #[cfg(feature = "sqlite")]
    #[test]
    fn a_mapping_that_ends_in_a_comment_still_runs() {
        let db = rusqlite::Connection::open_in_memory().unwrap();
        db.execute_batch("CREATE TABLE t(id INTEGER PRIMARY KEY, a TEXT); INSERT INTO t VALUES (1, 'x');")
            .unwrap();
        let plan = Rebuild::new("t", "CREATE TABLE t(id INTEGER PRIMARY KEY, b TEXT) -- renamed a to b")
            .mapping("SELECT id, upper(a) FROM t -- shout")
            .plan(&db)
            .unwrap();
        db.execute_batch(&format!("BEGIN; {} COMMIT;", plan.sql())).unwrap();
        let b: String = db.query_row("SELECT b FROM t", [], |r| r.get(0)).unwrap();
        assert_eq!(b, "X");
    }
}
