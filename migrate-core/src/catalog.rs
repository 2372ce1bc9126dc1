//! The vocabulary shared by every module that talks about schema objects: what kinds there are, how a row of
//! `sqlite_schema` maps to one, and [`Introspect`], the read access to a schema that the directive expanders
//! ([`crate::fts5`], [`crate::rebuild`], [`crate::expand`]) generate SQL against. It sits at the bottom of the crate
//! (next to [`crate::lex`]) so the structural schema, the compiler and the expanders use one enum instead of
//! comparing `type` strings, and none of them imports another for these types.

use crate::lex::{self, Keyword};

/// What kind of object a schema entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ObjectKind {
    /// An ordinary table (rowid, `WITHOUT ROWID` or `STRICT`).
    Table,
    /// A virtual table (its shadow tables are ordinary tables SQLite creates for it).
    VirtualTable,
    /// An index, explicit (`CREATE INDEX`) or one SQLite creates for `UNIQUE`/`PRIMARY KEY` (no SQL).
    Index,
    /// A view.
    View,
    /// A trigger.
    Trigger,
}

impl ObjectKind {
    /// The word the structural schema's text writes for it (`table`, `virtual-table`, …).
    pub fn keyword(self) -> &'static str {
        match self {
            ObjectKind::Table => "table",
            ObjectKind::VirtualTable => "virtual-table",
            ObjectKind::Index => "index",
            ObjectKind::View => "view",
            ObjectKind::Trigger => "trigger",
        }
    }

    /// The kind of a `sqlite_schema` row from its `type` column and its SQL (a `table` row whose SQL is
    /// `CREATE VIRTUAL TABLE …` is a virtual table). `None` for a type SQLite does not write.
    ///
    /// ```
    /// use litemigrate_core::catalog::ObjectKind;
    /// assert_eq!(ObjectKind::of_schema_row("table", Some("create virtual table f using fts5(x)")), Some(ObjectKind::VirtualTable));
    /// assert_eq!(ObjectKind::of_schema_row("index", None), Some(ObjectKind::Index));
    /// assert_eq!(ObjectKind::of_schema_row("sequence", None), None);
    /// ```
    pub fn of_schema_row(type_: &str, sql: Option<&str>) -> Option<ObjectKind> {
        Some(match type_ {
            "table" if sql.is_some_and(is_virtual_table_sql) => ObjectKind::VirtualTable,
            "table" => ObjectKind::Table,
            "index" => ObjectKind::Index,
            "view" => ObjectKind::View,
            "trigger" => ObjectKind::Trigger,
            _ => return None,
        })
    }

    /// Whether it is a table of either kind.
    pub fn is_table(self) -> bool {
        matches!(self, ObjectKind::Table | ObjectKind::VirtualTable)
    }
}

/// Whether `sql` starts with `CREATE VIRTUAL TABLE`.
pub fn is_virtual_table_sql(sql: &str) -> bool {
    let mut toks = lex::significant(sql);
    [Keyword::Create, Keyword::Virtual, Keyword::Table]
        .iter()
        .all(|kw| toks.next().is_some_and(|t| t.is_keyword(*kw)))
}

/// A column as `PRAGMA table_info` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnInfo {
    /// Column name.
    pub name: String,
    /// Declared type, as written (may be empty).
    pub decl_type: String,
    /// NOT NULL.
    pub not_null: bool,
    /// Position in the primary key (0 when not part of it).
    pub pk: u32,
}

/// One row of `sqlite_schema`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaObject {
    /// What it is.
    pub kind: ObjectKind,
    /// Its name.
    pub name: String,
    /// The table it belongs to (itself for tables and views).
    pub table: String,
    /// The statement that created it; `None` for automatic indexes.
    pub sql: Option<String>,
}

/// An index or trigger attached to a table, with the SQL that created it (automatic indexes have none and are not
/// listed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependent {
    /// [`ObjectKind::Index`] or [`ObjectKind::Trigger`].
    pub kind: ObjectKind,
    /// Its name.
    pub name: String,
    /// Its `CREATE` statement.
    pub sql: String,
}

/// Reading the schema failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IntrospectError {
    /// The schema source does not offer this operation (a source that keeps [`Introspect`]'s default method).
    #[error("this schema source cannot {0}")]
    Unsupported(&'static str),
    /// A statement against the schema failed.
    #[error("{what}: {message}")]
    Query {
        /// What was being done (`reading the columns of a table`, …).
        what: &'static str,
        /// The database's message.
        message: String,
    },
    /// `sqlite_schema` holds a row of a type SQLite does not write.
    #[error("`sqlite_schema` entry `{name}` has the unknown type `{type_}`")]
    UnknownType {
        /// The entry's name.
        name: String,
        /// Its `type` column.
        type_: String,
    },
    /// A trial run (see [`Introspect::with_applied`]) could not be rolled back.
    #[error("cannot undo the trial run: {0}")]
    Undo(String),
}

/// Why [`Introspect::with_applied`] did not inspect the schema: the mechanism failed, or the SQL did.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppliedError {
    /// The trial run itself failed (the savepoint, the pragma around it, undoing it), or the source cannot do it.
    #[error(transparent)]
    Mechanism(#[from] IntrospectError),
    /// The SQL failed, with the database's message; the schema was not inspected.
    #[error("{0}")]
    Sql(String),
}

/// Read access to the schema at the point a migration runs.
pub trait Introspect {
    /// The columns of `table`, or `None` when there is no such table.
    fn table_columns(&self, table: &str) -> Result<Option<Vec<ColumnInfo>>, IntrospectError>;

    /// The indexes and triggers attached to `table`, in creation order, automatic indexes excluded.
    fn table_dependents(&self, table: &str) -> Result<Vec<Dependent>, IntrospectError>;

    /// Every entry of `sqlite_schema`, in creation (rowid) order. Schema sources that cannot list it keep the
    /// default, which makes the directives that need it (`rebuild`, `fts5-resync`) an error.
    fn schema_objects(&self) -> Result<Vec<SchemaObject>, IntrospectError> {
        Err(IntrospectError::Unsupported("list schema objects"))
    }

    /// Runs `sql` in a savepoint, calls `inspect` with the schema as `sql` left it, then rolls the savepoint back so
    /// nothing changes. When `sql` fails, `inspect` is not called and the error is [`AppliedError::Sql`].
    fn with_applied(&self, sql: &str, inspect: &mut dyn FnMut(&dyn Introspect)) -> Result<(), AppliedError> {
        let _ = (sql, inspect);
        Err(IntrospectError::Unsupported("apply SQL").into())
    }
}

#[cfg(feature = "sqlite")]
mod connection {
    use super::{AppliedError, ColumnInfo, Dependent, Introspect, IntrospectError, ObjectKind, SchemaObject};
    use rusqlite::Connection;

    fn query(what: &'static str) -> impl FnOnce(rusqlite::Error) -> IntrospectError {
        move |e| IntrospectError::Query {
            what,
            message: e.to_string(),
        }
    }

    fn kind(type_: String, name: &str, sql: Option<&str>) -> Result<ObjectKind, IntrospectError> {
        ObjectKind::of_schema_row(&type_, sql).ok_or_else(|| IntrospectError::UnknownType {
            name: name.to_owned(),
            type_,
        })
    }

    impl Introspect for Connection {
        fn table_columns(&self, table: &str) -> Result<Option<Vec<ColumnInfo>>, IntrospectError> {
            const WHAT: &str = "reading the columns of a table";
            let mut stmt = self
                .prepare("SELECT name, type, \"notnull\", pk FROM pragma_table_info(?1)")
                .map_err(query(WHAT))?;
            let cols = stmt
                .query_map([table], |r| {
                    Ok(ColumnInfo {
                        name: r.get(0)?,
                        decl_type: r.get(1)?,
                        not_null: r.get(2)?,
                        pk: r.get(3)?,
                    })
                })
                .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
                .map_err(query(WHAT))?;
            Ok(if cols.is_empty() { None } else { Some(cols) })
        }

        fn table_dependents(&self, table: &str) -> Result<Vec<Dependent>, IntrospectError> {
            const WHAT: &str = "reading the indexes and triggers of a table";
            let mut stmt = self
                .prepare(
                    "SELECT type, name, sql FROM sqlite_schema \
                     WHERE tbl_name = ?1 AND type IN ('index', 'trigger') AND sql IS NOT NULL ORDER BY rowid",
                )
                .map_err(query(WHAT))?;
            let rows = stmt
                .query_map([table], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get(2)?))
                })
                .and_then(|rows| rows.collect::<Result<Vec<(String, String, String)>, _>>())
                .map_err(query(WHAT))?;
            rows.into_iter()
                .map(|(type_, name, sql)| {
                    Ok(Dependent {
                        kind: kind(type_, &name, Some(&sql))?,
                        name,
                        sql,
                    })
                })
                .collect()
        }

        fn schema_objects(&self) -> Result<Vec<SchemaObject>, IntrospectError> {
            const WHAT: &str = "reading sqlite_schema";
            let mut stmt = self
                .prepare("SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY rowid")
                .map_err(query(WHAT))?;
            let rows = stmt
                .query_map([], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get(2)?,
                        r.get::<_, Option<String>>(3)?,
                    ))
                })
                .and_then(|rows| rows.collect::<Result<Vec<(String, String, String, Option<String>)>, _>>())
                .map_err(query(WHAT))?;
            rows.into_iter()
                .map(|(type_, name, table, sql)| {
                    Ok(SchemaObject {
                        kind: kind(type_, &name, sql.as_deref())?,
                        name,
                        table,
                        sql,
                    })
                })
                .collect()
        }

        fn with_applied(&self, sql: &str, inspect: &mut dyn FnMut(&dyn Introspect)) -> Result<(), AppliedError> {
            const PRAGMA: &str = "switching foreign key enforcement for the trial run";
            // A trial run is about the schema: foreign key enforcement would make e.g. a rebuild's DROP TABLE fail
            // (the runtime runs it with enforcement off). The pragma only takes effect outside a transaction.
            let fk_was_on = self.is_autocommit()
                && self
                    .query_row("PRAGMA foreign_keys", [], |r| r.get::<_, bool>(0))
                    .map_err(query(PRAGMA))?;
            if fk_was_on {
                self.execute_batch("PRAGMA foreign_keys = OFF").map_err(query(PRAGMA))?;
            }
            let result = trial(self, sql, inspect);
            if fk_was_on {
                self.execute_batch("PRAGMA foreign_keys = ON").map_err(query(PRAGMA))?;
            }
            result
        }
    }

    /// The savepoint part of [`Introspect::with_applied`]: a savepoint nests inside whatever transaction the caller
    /// holds and opens one when there is none.
    fn trial(conn: &Connection, sql: &str, inspect: &mut dyn FnMut(&dyn Introspect)) -> Result<(), AppliedError> {
        conn.execute_batch("SAVEPOINT migrate_expand")
            .map_err(query("opening the trial savepoint"))?;
        let applied = conn.execute_batch(sql).map_err(|e| AppliedError::Sql(e.to_string()));
        if applied.is_ok() {
            inspect(conn);
        }
        conn.execute_batch("ROLLBACK TO migrate_expand; RELEASE migrate_expand")
            .map_err(|e| IntrospectError::Undo(e.to_string()))?;
        applied
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn introspects_a_connection() {
            let db = Connection::open_in_memory().unwrap();
            db.execute_batch(
                "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
                 CREATE INDEX t_name ON t(name);
                 CREATE TRIGGER t_ai AFTER INSERT ON t BEGIN SELECT 1; END;",
            )
            .unwrap();
            let cols = db.table_columns("t").unwrap().unwrap();
            assert_eq!(
                cols[0],
                ColumnInfo {
                    name: "id".into(),
                    decl_type: "INTEGER".into(),
                    not_null: false,
                    pk: 1
                }
            );
            assert!(cols[1].not_null);
            assert_eq!(db.table_columns("missing").unwrap(), None);
            let deps: Vec<String> = db.table_dependents("t").unwrap().into_iter().map(|d| d.name).collect();
            assert_eq!(deps, ["t_name", "t_ai"]);
        }

        #[test]
        fn dependents_and_objects_are_typed() {
            let db = Connection::open_in_memory().unwrap();
            db.execute_batch(
                "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT UNIQUE);
                 CREATE INDEX t_name ON t(name);
                 CREATE TRIGGER t_ai AFTER INSERT ON t BEGIN SELECT 1; END;
                 CREATE VIEW v AS SELECT name FROM t;
                 CREATE VIRTUAL TABLE f USING fts5(x);",
            )
            .unwrap();
            let deps: Vec<(ObjectKind, String)> = db
                .table_dependents("t")
                .unwrap()
                .into_iter()
                .map(|d| (d.kind, d.name))
                .collect();
            assert_eq!(
                deps,
                [
                    (ObjectKind::Index, "t_name".into()),
                    (ObjectKind::Trigger, "t_ai".into())
                ]
            );
            let kinds: Vec<(ObjectKind, String)> = db
                .schema_objects()
                .unwrap()
                .into_iter()
                .filter(|o| !o.name.starts_with("f_"))
                .map(|o| (o.kind, o.name))
                .collect();
            assert_eq!(
                kinds,
                [
                    (ObjectKind::Table, "t".into()),
                    (ObjectKind::Index, "sqlite_autoindex_t_1".into()),
                    (ObjectKind::Index, "t_name".into()),
                    (ObjectKind::Trigger, "t_ai".into()),
                    (ObjectKind::View, "v".into()),
                    (ObjectKind::VirtualTable, "f".into()),
                ]
            );
        }

        #[test]
        fn with_applied_tells_the_sql_failing_from_the_mechanism() {
            let db = Connection::open_in_memory().unwrap();
            let mut seen = None;
            db.with_applied("CREATE TABLE t(a, b)", &mut |after| {
                seen = Some(after.table_columns("t").map(|c| c.map(|c| c.len())));
            })
            .unwrap();
            assert_eq!(seen, Some(Ok(Some(2))));
            // Nothing stays behind.
            assert_eq!(db.table_columns("t").unwrap(), None);

            let mut called = false;
            let e = db.with_applied("CREATE TABLE (", &mut |_| called = true).unwrap_err();
            assert!(
                matches!(&e, AppliedError::Sql(m) if m.contains("syntax error")),
                "{e:?}"
            );
            assert!(!called);
        }

        struct Nothing;
        impl Introspect for Nothing {
            fn table_columns(&self, _: &str) -> Result<Option<Vec<ColumnInfo>>, IntrospectError> {
                Ok(None)
            }
            fn table_dependents(&self, _: &str) -> Result<Vec<Dependent>, IntrospectError> {
                Ok(Vec::new())
            }
        }

        #[test]
        fn default_methods_say_what_the_source_cannot_do() {
            assert_eq!(
                Nothing.schema_objects().unwrap_err(),
                IntrospectError::Unsupported("list schema objects")
            );
            assert_eq!(
                Nothing.with_applied("SELECT 1", &mut |_| {}).unwrap_err(),
                AppliedError::Mechanism(IntrospectError::Unsupported("apply SQL"))
            );
        }
    }
}
