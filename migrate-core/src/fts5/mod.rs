//! FTS5 full-text indexes kept in sync with a table by triggers: the one generator behind the `-- migrate:fts5` and
//! `-- migrate:fts5-resync` directives, also usable from Rust (code migrations, tools).
//!
//! An *external-content* index (`content=`, sqlite.org fts5 §4.4.3) stores no text of its own: FTS5 reads the
//! content table by rowid, and three triggers keep the index in step with it. The trigger bodies follow sqlite.org
//! exactly: the insert trigger adds the new row; the delete trigger issues the special `'delete'` command with the
//! *old* values, which must be exactly what was indexed; the update trigger is a delete followed by an insert. A
//! trigger does nothing for rows that already exist, so creation ends with the `'rebuild'` command.
//!
//! A *contentless-delete* index (`content='', contentless_delete=1`, SQLite 3.43) stores no text and needs no old
//! values to delete a row; it can be filled by the application or kept in sync from a source table by triggers
//! (then `DELETE … WHERE rowid = old.…` replaces the `'delete'` command, which such tables do not support).
//!
//! `INSERT OR REPLACE` (or `REPLACE`) on the content table deletes the conflicting row *without* firing delete
//! triggers unless `PRAGMA recursive_triggers=ON`, which leaves the old row's terms in the index. Either turn that
//! pragma on for connections that use REPLACE, or write upserts as `INSERT … ON CONFLICT(id) DO UPDATE SET …`, which
//! fires the update trigger. The runtime's `litemigrate::fts::sync_check` detects the damage and `rebuild` repairs it.
//!
//! This file holds the declaration, its builder and its checks (on its own and against a schema); `sql.rs` the SQL
//! it generates; `parse.rs` reading it from directive arguments or back from a stored `CREATE VIRTUAL TABLE`.
//!
//! ```
//! use litemigrate_core::fts5::Fts5Index;
//! let idx = Fts5Index::external("knowledge_fts", "knowledge_entries")
//!     .rowid("id")
//!     .columns(["title", "content"])
//!     .tokenize("porter unicode61");
//! let sql = idx.up_sql().unwrap();
//! assert!(sql.starts_with("CREATE VIRTUAL TABLE \"knowledge_fts\" USING fts5("));
//! assert!(sql.contains("'delete'"));
//! assert!(idx.drop_sql().unwrap().contains("DROP TABLE \"knowledge_fts\";"));
//! ```

use crate::catalog::{Introspect, IntrospectError};
use crate::sql::is_plain_ident;

mod parse;
mod sql;

/// An FTS5 declaration or check that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Fts5Error {
    /// The declaration itself is wrong (missing columns, unknown option, bad value).
    #[error("{0}")]
    Spec(String),
    /// The declaration does not fit the schema at the point it runs.
    #[error("{0}")]
    Schema(String),
    /// The schema could not be read.
    #[error("cannot read the schema: {0}")]
    Introspect(#[from] IntrospectError),
}

/// How the index gets its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `content=<table>`: FTS5 reads the text from the content table; triggers keep the index in sync.
    External,
    /// `content='', contentless_delete=1`: no text stored, rows deletable by rowid.
    ContentlessDelete,
    /// An index that stores its own text, or a plain contentless one: nothing to keep in sync. Only
    /// [`Fts5Index::from_create_sql`] produces it.
    Standalone,
}

/// FTS5's `detail=` option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    /// Positions and columns (the default).
    Full,
    /// Columns, no positions.
    Column,
    /// Neither: smallest index, no phrase queries.
    None,
}

impl Detail {
    fn as_str(self) -> &'static str {
        match self {
            Detail::Full => "full",
            Detail::Column => "column",
            Detail::None => "none",
        }
    }
}

/// An FTS5 index declaration; its methods generate the SQL. Setters never fail: the SQL methods validate and return
/// [`Fts5Error::Spec`] for a declaration that cannot work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fts5Index {
    name: String,
    kind: Kind,
    /// The content table (external) or the table triggers sync from (contentless-delete).
    table: Option<String>,
    rowid: Option<String>,
    columns: Vec<String>,
    unindexed: Vec<String>,
    tokenize: Option<String>,
    prefix: Vec<u16>,
    detail: Option<Detail>,
}

/// Options a `-- migrate:fts5` directive accepts.
pub const OPTIONS: &[&str] = &[
    "content",
    "content_rowid",
    "columns",
    "unindexed",
    "tokenize",
    "prefix",
    "detail",
    "contentless_delete",
    "source",
    "source_rowid",
];

impl Fts5Index {
    /// An external-content index `name` over `content_table`. Set [`rowid`](Self::rowid) (its INTEGER PRIMARY KEY)
    /// and [`columns`](Self::columns).
    pub fn external(name: impl Into<String>, content_table: impl Into<String>) -> Self {
        Self::new(name.into(), Kind::External, Some(content_table.into()))
    }

    /// A contentless-delete index `name`; add [`sync_from`](Self::sync_from) to keep it in sync with a table.
    ///
    /// ```
    /// use litemigrate_core::fts5::Fts5Index;
    /// let sql = Fts5Index::contentless_delete("notes_fts").columns(["body"]).create_sql().unwrap();
    /// assert!(sql.contains("content='', contentless_delete=1"));
    /// ```
    pub fn contentless_delete(name: impl Into<String>) -> Self {
        Self::new(name.into(), Kind::ContentlessDelete, None)
    }

    fn new(name: String, kind: Kind, table: Option<String>) -> Self {
        Fts5Index {
            name,
            kind,
            table,
            rowid: None,
            columns: Vec::new(),
            unindexed: Vec::new(),
            tokenize: None,
            prefix: Vec::new(),
            detail: None,
        }
    }

    /// The content table's INTEGER PRIMARY KEY column (FTS5's `content_rowid`).
    pub fn rowid(mut self, column: impl Into<String>) -> Self {
        self.rowid = Some(column.into());
        self
    }

    /// For a contentless-delete index: generate triggers that index `table`'s rows, keyed by its INTEGER PRIMARY KEY
    /// `rowid_column`.
    pub fn sync_from(mut self, table: impl Into<String>, rowid_column: impl Into<String>) -> Self {
        self.table = Some(table.into());
        self.rowid = Some(rowid_column.into());
        self
    }

    /// The indexed columns, named as in the content table.
    pub fn columns<I: IntoIterator<Item = S>, S: Into<String>>(mut self, columns: I) -> Self {
        self.columns = columns.into_iter().map(Into::into).collect();
        self
    }

    /// Columns (among [`columns`](Self::columns)) stored but not indexed (`UNINDEXED`).
    pub fn unindexed<I: IntoIterator<Item = S>, S: Into<String>>(mut self, columns: I) -> Self {
        self.unindexed = columns.into_iter().map(Into::into).collect();
        self
    }

    /// The `tokenize=` option, e.g. `porter unicode61`.
    pub fn tokenize(mut self, tokenizer: impl Into<String>) -> Self {
        self.tokenize = Some(tokenizer.into());
        self
    }

    /// Prefix index lengths (`prefix=`), each 1 to 999.
    pub fn prefix(mut self, lengths: impl IntoIterator<Item = u16>) -> Self {
        self.prefix = lengths.into_iter().collect();
        self
    }

    /// The `detail=` option.
    pub fn detail(mut self, detail: Detail) -> Self {
        self.detail = Some(detail);
        self
    }

    /// The index name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What kind of index.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The content table (external) or sync source (contentless-delete), if any.
    pub fn table(&self) -> Option<&str> {
        self.table.as_deref()
    }

    /// The `content_rowid` (external) or `source_rowid` column, if declared.
    pub fn rowid_column(&self) -> Option<&str> {
        self.rowid.as_deref()
    }

    /// The indexed columns.
    pub fn column_names(&self) -> &[String] {
        &self.columns
    }

    /// The names of the three sync triggers: after insert, after delete, after update.
    pub fn trigger_names(&self) -> [String; 3] {
        ["ai", "ad", "au"].map(|s| format!("{}_{s}", self.name))
    }

    /// Checks the declaration on its own (no schema).
    pub fn validate(&self) -> Result<(), Fts5Error> {
        let spec = |m: String| Err(Fts5Error::Spec(m));
        if self.name.is_empty() {
            return spec("the index needs a name".into());
        }
        if self.columns.is_empty() {
            return spec(format!("index `{}` needs at least one column (columns=a,b)", self.name));
        }
        for (i, c) in self.columns.iter().enumerate() {
            if c.is_empty() {
                return spec(format!("index `{}`: empty column name", self.name));
            }
            if self.columns[..i].iter().any(|p| p.eq_ignore_ascii_case(c)) {
                return spec(format!("index `{}`: column `{c}` is listed twice", self.name));
            }
        }
        if let Some(u) = self
            .unindexed
            .iter()
            .find(|u| !self.columns.iter().any(|c| c.eq_ignore_ascii_case(u)))
        {
            return spec(format!(
                "index `{}`: unindexed column `{u}` is not one of its columns",
                self.name
            ));
        }
        if let Some(p) = self.prefix.iter().find(|p| !(1..=999).contains(*p)) {
            return spec(format!("index `{}`: prefix length {p} is outside 1..=999", self.name));
        }
        if self.table.as_deref() == Some("") {
            return spec(format!("index `{}`: empty table name", self.name));
        }
        match (self.kind, &self.table, &self.rowid) {
            (Kind::External, None, _) => spec(format!("index `{}` needs content=<table>", self.name)),
            (Kind::External, Some(_), None) => spec(format!(
                "index `{}` needs content_rowid=<column>: the content table's INTEGER PRIMARY KEY (implicit rowids \
                 may be renumbered by VACUUM)",
                self.name
            )),
            (Kind::ContentlessDelete | Kind::Standalone, None, Some(_)) => spec(format!(
                "index `{}`: a sync rowid column needs a source table",
                self.name
            )),
            // FTS5 pastes content_rowid into its own SQL without quoting, so only plain names are safe there.
            (_, _, Some(r)) if !is_plain_ident(r) => spec(format!(
                "index `{}`: rowid column `{r}` must be a plain identifier ([A-Za-z_][A-Za-z0-9_]*), because FTS5 \
                 uses it in SQL unquoted",
                self.name
            )),
            _ => Ok(()),
        }
    }

    /// Checks the declaration against the schema it will run on: the content (or source) table exists, has every
    /// column, and the rowid column is its INTEGER PRIMARY KEY.
    pub fn check(&self, db: &dyn Introspect) -> Result<(), Fts5Error> {
        self.validate()?;
        let (Some(table), Some(rowid)) = (&self.table, &self.rowid) else {
            return Ok(());
        };
        let role = match self.kind {
            Kind::External => "content table",
            Kind::ContentlessDelete | Kind::Standalone => "source table",
        };
        let cols = db.table_columns(table).map_err(Fts5Error::Introspect)?.ok_or_else(|| {
            Fts5Error::Schema(format!(
                "index `{}`: {role} `{table}` does not exist at this point; create it in an earlier migration or \
                 earlier in this file",
                self.name
            ))
        })?;
        let have: Vec<&str> = cols.iter().map(|c| c.name.as_str()).collect();
        for c in &self.columns {
            if !cols.iter().any(|k| k.name.eq_ignore_ascii_case(c)) {
                return Err(Fts5Error::Schema(format!(
                    "index `{}`: {role} `{table}` has no column `{c}` (it has: {})",
                    self.name,
                    have.join(", ")
                )));
            }
        }
        let pk_cols = cols.iter().filter(|c| c.pk > 0).count();
        let is_ipk = cols.iter().any(|c| {
            c.name.eq_ignore_ascii_case(rowid)
                && c.pk == 1
                && pk_cols == 1
                && c.decl_type.eq_ignore_ascii_case("INTEGER")
        });
        if !is_ipk {
            return Err(Fts5Error::Schema(format!(
                "index `{}`: `{rowid}` is not the INTEGER PRIMARY KEY of {role} `{table}`; without one, VACUUM may \
                 renumber rowids and the index would silently point at the wrong rows. Declare a column \
                 `{rowid} INTEGER PRIMARY KEY` and name it here",
                self.name
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::catalog::{ColumnInfo, Dependent, IntrospectError};

    /// The index the unit tests of the FTS5 modules share.
    pub(crate) fn knowledge() -> Fts5Index {
        Fts5Index::external("knowledge_fts", "knowledge_entries")
            .rowid("id")
            .columns(["title", "content"])
            .tokenize("porter unicode61")
    }

    #[test]
    fn spec_errors() {
        let err = |i: Fts5Index| i.create_sql().unwrap_err().to_string();
        assert!(err(Fts5Index::external("f", "t").rowid("id")).contains("at least one column"));
        assert!(err(Fts5Index::external("f", "t").columns(["a"])).contains("content_rowid"));
        assert!(err(Fts5Index::external("f", "t").rowid("id").columns(["a", "A"])).contains("twice"));
        assert!(
            err(Fts5Index::external("f", "t")
                .rowid("id")
                .columns(["a"])
                .unindexed(["b"]))
            .contains("`b`")
        );
        assert!(err(Fts5Index::external("f", "t").rowid("id").columns(["a"]).prefix([0])).contains("prefix"));
        assert!(err(Fts5Index::external("f", "t").rowid("id x").columns(["a"])).contains("plain identifier"));
        assert!(err(Fts5Index::external("", "t").rowid("id").columns(["a"])).contains("name"));
    }

    struct Fake(Vec<ColumnInfo>);
    impl Introspect for Fake {
        fn table_columns(&self, table: &str) -> Result<Option<Vec<ColumnInfo>>, IntrospectError> {
            Ok((table == "t").then(|| self.0.clone()))
        }
        fn table_dependents(&self, _: &str) -> Result<Vec<Dependent>, IntrospectError> {
            Ok(Vec::new())
        }
    }
    fn col(name: &str, ty: &str, pk: u32) -> ColumnInfo {
        ColumnInfo {
            name: name.into(),
            decl_type: ty.into(),
            not_null: false,
            pk,
        }
    }

    #[test]
    fn schema_checks() {
        let good = Fake(vec![col("id", "INTEGER", 1), col("a", "TEXT", 0)]);
        let idx = Fts5Index::external("f", "t").rowid("id").columns(["a"]);
        idx.check(&good).unwrap();
        idx.clone().columns(["A"]).check(&good).unwrap();
        let msg = |i: &Fts5Index, db: &Fake| i.check(db).unwrap_err().to_string();
        assert!(msg(&Fts5Index::external("f", "u").rowid("id").columns(["a"]), &good).contains("`u` does not exist"));
        assert!(msg(&idx.clone().columns(["a", "b"]), &good).contains("has no column `b` (it has: id, a)"));
        for bad in [
            Fake(vec![col("id", "INT", 1), col("a", "TEXT", 0)]),
            Fake(vec![col("id", "INTEGER", 0), col("a", "TEXT", 0)]),
            Fake(vec![col("id", "INTEGER", 1), col("a", "TEXT", 2)]),
        ] {
            assert!(
                msg(&idx, &bad).contains("VACUUM may renumber rowids"),
                "{}",
                msg(&idx, &bad)
            );
        }
        assert!(msg(&idx.clone().rowid("a"), &good).contains("not the INTEGER PRIMARY KEY"));
    }
}
