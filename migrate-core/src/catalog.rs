//! The vocabulary shared by every module that talks about schema objects: what kinds there are and how a row of
//! `sqlite_schema` maps to one. It sits at the bottom of the crate (next to [`crate::lex`]) so the structural
//! schema, the compiler and the directive expanders use one enum instead of comparing `type` strings.

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
    /// use migrate_core::catalog::ObjectKind;
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
