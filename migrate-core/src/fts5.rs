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
//! fires the update trigger. The runtime's `migrate::fts::sync_check` detects the damage and `rebuild` repairs it.
//!
//! ```
//! use migrate_core::fts5::Fts5Index;
//! let idx = Fts5Index::external("knowledge_fts", "knowledge_entries")
//!     .rowid("id")
//!     .columns(["title", "content"])
//!     .tokenize("porter unicode61");
//! let sql = idx.up_sql().unwrap();
//! assert!(sql.starts_with("CREATE VIRTUAL TABLE \"knowledge_fts\" USING fts5("));
//! assert!(sql.contains("'delete'"));
//! assert!(idx.drop_sql().unwrap().contains("DROP TABLE \"knowledge_fts\";"));
//! ```

use crate::directive::split_args;
use crate::expand::Introspect;
use crate::sql::{is_plain_ident, quote_ident as qi, quote_str as qs};
use std::fmt::Write as _;

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
    Introspect(String),
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
    /// use migrate_core::fts5::Fts5Index;
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

    /// `CREATE VIRTUAL TABLE … USING fts5(…)`.
    pub fn create_sql(&self) -> Result<String, Fts5Error> {
        self.validate()?;
        let mut args: Vec<String> = self
            .columns
            .iter()
            .map(|c| {
                if self.unindexed.iter().any(|u| u.eq_ignore_ascii_case(c)) {
                    format!("{} UNINDEXED", qi(c))
                } else {
                    qi(c)
                }
            })
            .collect();
        match self.kind {
            Kind::External => {
                // validate() proved both are set for an external index.
                if let (Some(t), Some(r)) = (&self.table, &self.rowid) {
                    args.push(format!("content={}", qs(t)));
                    args.push(format!("content_rowid={}", qs(r)));
                }
            }
            Kind::ContentlessDelete => args.push("content='', contentless_delete=1".into()),
            Kind::Standalone => {}
        }
        if let Some(t) = &self.tokenize {
            args.push(format!("tokenize={}", qs(t)));
        }
        if !self.prefix.is_empty() {
            let p: Vec<String> = self.prefix.iter().map(u16::to_string).collect();
            args.push(format!("prefix={}", qs(&p.join(" "))));
        }
        if let Some(d) = self.detail {
            args.push(format!("detail={}", d.as_str()));
        }
        Ok(format!(
            "CREATE VIRTUAL TABLE {} USING fts5({});\n",
            qi(&self.name),
            args.join(", ")
        ))
    }

    /// The three sync triggers (empty for a contentless-delete index without [`sync_from`](Self::sync_from)).
    pub fn triggers_sql(&self) -> Result<String, Fts5Error> {
        self.validate()?;
        let (Some(table), Some(rowid)) = (&self.table, &self.rowid) else {
            return Ok(String::new());
        };
        let idx = qi(&self.name);
        let cols: Vec<String> = self.columns.iter().map(|c| qi(c)).collect();
        let cols = cols.join(", ");
        let values = |row: &str| {
            let mut v = vec![format!("{row}.{}", qi(rowid))];
            v.extend(self.columns.iter().map(|c| format!("{row}.{}", qi(c))));
            v.join(", ")
        };
        let insert = format!("  INSERT INTO {idx}(rowid, {cols}) VALUES ({});\n", values("new"));
        let delete = match self.kind {
            Kind::External => format!(
                "  INSERT INTO {idx}({idx}, rowid, {cols}) VALUES ('delete', {});\n",
                values("old")
            ),
            Kind::ContentlessDelete | Kind::Standalone => {
                format!("  DELETE FROM {idx} WHERE rowid = old.{};\n", qi(rowid))
            }
        };
        let [ai, ad, au] = self.trigger_names().map(|n| qi(&n));
        let table = qi(table);
        Ok(format!(
            "CREATE TRIGGER {ai} AFTER INSERT ON {table} BEGIN\n{insert}END;\n\
             CREATE TRIGGER {ad} AFTER DELETE ON {table} BEGIN\n{delete}END;\n\
             CREATE TRIGGER {au} AFTER UPDATE ON {table} BEGIN\n{delete}{insert}END;\n"
        ))
    }

    /// Indexes the rows that already exist: the `'rebuild'` command for an external-content index, an
    /// `INSERT … SELECT` from the source table for a synced contentless-delete index (empty otherwise).
    pub fn rebuild_sql(&self) -> Result<String, Fts5Error> {
        self.validate()?;
        let idx = qi(&self.name);
        Ok(match (self.kind, &self.table, &self.rowid) {
            (Kind::External, _, _) => format!("INSERT INTO {idx}({idx}) VALUES ('rebuild');\n"),
            (Kind::ContentlessDelete, Some(t), Some(r)) => {
                let cols: Vec<String> = self.columns.iter().map(|c| qi(c)).collect();
                let cols = cols.join(", ");
                format!(
                    "INSERT INTO {idx}(rowid, {cols}) SELECT {}, {cols} FROM {};\n",
                    qi(r),
                    qi(t)
                )
            }
            (Kind::ContentlessDelete | Kind::Standalone, _, _) => String::new(),
        })
    }

    /// Everything an up migration runs: create, triggers, then index the existing rows.
    pub fn up_sql(&self) -> Result<String, Fts5Error> {
        Ok(self.create_sql()? + &self.triggers_sql()? + &self.rebuild_sql()?)
    }

    /// Drops the sync triggers (`IF EXISTS`: a table rebuild or a hand edit may have removed them already).
    pub fn drop_triggers_sql(&self) -> Result<String, Fts5Error> {
        self.validate()?;
        let mut out = String::new();
        for t in self.trigger_names().iter().rev() {
            let _ = writeln!(out, "DROP TRIGGER IF EXISTS {};", qi(t));
        }
        Ok(out)
    }

    /// The reverse of [`up_sql`](Self::up_sql): drop the triggers, then the index.
    pub fn drop_sql(&self) -> Result<String, Fts5Error> {
        self.validate()?;
        let mut out = String::new();
        if self.table.is_some() {
            for t in self.trigger_names().iter().rev() {
                let _ = writeln!(out, "DROP TRIGGER {};", qi(t));
            }
        }
        let _ = writeln!(out, "DROP TABLE {};", qi(&self.name));
        Ok(out)
    }

    /// Drops and recreates the sync triggers, then re-indexes every row: repairs an index whose triggers refer to
    /// columns that no longer exist or were lost with a rebuilt content table.
    pub fn resync_sql(&self) -> Result<String, Fts5Error> {
        let refill = match self.kind {
            Kind::External => self.rebuild_sql()?,
            Kind::ContentlessDelete if self.table.is_some() => {
                let idx = qi(&self.name);
                format!(
                    "INSERT INTO {idx}({idx}) VALUES ('delete-all');\n{}",
                    self.rebuild_sql()?
                )
            }
            Kind::ContentlessDelete | Kind::Standalone => String::new(),
        };
        Ok(self.drop_triggers_sql()? + &self.triggers_sql()? + &refill)
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

    /// Parses the arguments of `-- migrate:fts5` (everything after the directive name).
    ///
    /// ```
    /// use migrate_core::fts5::Fts5Index;
    /// let idx = Fts5Index::from_directive_args(
    ///     "knowledge_fts content=knowledge_entries content_rowid=id columns=title,content tokenize='porter unicode61'",
    /// ).unwrap();
    /// assert_eq!(idx.column_names(), ["title", "content"]);
    /// assert!(Fts5Index::from_directive_args("idx content=t content_rowid=id").is_err());
    /// ```
    pub fn from_directive_args(args: &str) -> Result<Fts5Index, String> {
        let args = split_args(args)?;
        let mut it = args.into_iter();
        let name = match it.next() {
            Some(a) if a.key.is_none() => a.value,
            _ => {
                return Err("expected the index name first: `fts5 <index> content=<table> …`".into());
            }
        };
        let mut opts: Vec<(String, String)> = Vec::new();
        for a in it {
            let Some(key) = a.key else {
                return Err(format!(
                    "unexpected `{}`; options are key=value ({})",
                    a.value,
                    OPTIONS.join(", ")
                ));
            };
            if !OPTIONS.contains(&key.as_str()) {
                return Err(format!("unknown option `{key}`; known options: {}", OPTIONS.join(", ")));
            }
            if opts.iter().any(|(k, _)| *k == key) {
                return Err(format!("option `{key}` is given twice"));
            }
            opts.push((key, a.value));
        }
        let get = |k: &str| opts.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
        let list = |v: &str| -> Vec<String> { v.split(',').map(|s| s.trim().to_owned()).collect() };
        let contentless = match get("contentless_delete") {
            None | Some("0") => false,
            Some("1") => true,
            Some(v) => return Err(format!("contentless_delete must be 1 (or 0), not `{v}`")),
        };
        let mut idx = if contentless {
            if get("content").is_some() || get("content_rowid").is_some() {
                return Err(
                    "contentless_delete=1 stores no content: use source=<table> source_rowid=<column> \
                            to sync it from a table, not content=/content_rowid="
                        .into(),
                );
            }
            let mut idx = Fts5Index::contentless_delete(name);
            match (get("source"), get("source_rowid")) {
                (Some(t), Some(r)) => idx = idx.sync_from(t, r),
                (None, None) => {}
                _ => return Err("source= and source_rowid= go together".into()),
            }
            idx
        } else {
            if get("source").is_some() || get("source_rowid").is_some() {
                return Err(
                    "source=/source_rowid= are for contentless_delete=1 indexes; use content=/content_rowid=".into(),
                );
            }
            let Some(table) = get("content") else {
                return Err("needs content=<table> (or contentless_delete=1)".into());
            };
            let mut idx = Fts5Index::external(name, table);
            if let Some(r) = get("content_rowid") {
                idx = idx.rowid(r);
            }
            idx
        };
        let Some(columns) = get("columns") else {
            return Err("needs columns=<a,b,…>".into());
        };
        idx = idx.columns(list(columns));
        if let Some(u) = get("unindexed") {
            idx = idx.unindexed(list(u));
        }
        if let Some(t) = get("tokenize") {
            idx = idx.tokenize(t);
        }
        if let Some(p) = get("prefix") {
            let lens = p
                .split([',', ' '])
                .filter(|s| !s.is_empty())
                .map(|s| s.parse::<u16>().map_err(|_| format!("prefix: `{s}` is not a length")))
                .collect::<Result<Vec<_>, _>>()?;
            idx = idx.prefix(lens);
        }
        if let Some(d) = get("detail") {
            idx = idx.detail(match d {
                "full" => Detail::Full,
                "column" => Detail::Column,
                "none" => Detail::None,
                _ => return Err(format!("detail must be full, column or none, not `{d}`")),
            });
        }
        idx.validate().map_err(|e| e.to_string())?;
        Ok(idx)
    }

    /// Reconstructs the declaration of an existing index from its `CREATE VIRTUAL TABLE` statement (as stored in
    /// `sqlite_schema`), for resyncing and for runtime maintenance. `None` when `sql` is not an FTS5 table.
    ///
    /// ```
    /// use migrate_core::fts5::{Fts5Index, Kind};
    /// let idx = Fts5Index::from_create_sql(
    ///     "CREATE VIRTUAL TABLE docs_fts USING fts5(title, body UNINDEXED, content=docs, content_rowid='id')",
    /// ).unwrap();
    /// assert_eq!((idx.kind(), idx.table()), (Kind::External, Some("docs")));
    /// assert_eq!(idx.column_names(), ["title", "body"]);
    /// ```
    pub fn from_create_sql(sql: &str) -> Option<Fts5Index> {
        let decl = Declaration::parse(sql)?;
        if !decl.module.eq_ignore_ascii_case("fts5") {
            return None;
        }
        let opt = |k: &str| {
            decl.options
                .iter()
                .rev()
                .find(|(key, _)| key.eq_ignore_ascii_case(k))
                .map(|(_, v)| v)
        };
        let mut idx = match opt("content").map(String::as_str) {
            Some("") if opt("contentless_delete").map(String::as_str) == Some("1") => {
                Fts5Index::contentless_delete(decl.name)
            }
            Some(t) if !t.is_empty() => {
                let idx = Fts5Index::external(decl.name, t);
                // FTS5's default content_rowid is the content table's rowid.
                idx.rowid(opt("content_rowid").map_or("rowid", String::as_str))
            }
            // A regular (content-storing) or plain contentless index: nothing to keep in sync.
            _ => Fts5Index::new(decl.name, Kind::Standalone, None),
        };
        idx.unindexed = decl
            .columns
            .iter()
            .filter(|(_, u)| *u)
            .map(|(c, _)| c.clone())
            .collect();
        idx.columns = decl.columns.into_iter().map(|(c, _)| c).collect();
        if let Some(t) = opt("tokenize") {
            idx.tokenize = Some(t.clone());
        }
        Some(idx)
    }
}

/// A `CREATE VIRTUAL TABLE` statement, taken apart.
struct Declaration {
    name: String,
    module: String,
    /// `(name, unindexed)`.
    columns: Vec<(String, bool)>,
    /// `(key, value)`, values unquoted.
    options: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    /// A quoted token, unquoted; FTS5 treats every quote style alike.
    Quoted(String),
    Punct(char),
}

fn lex(sql: &str) -> Vec<Tok> {
    let mut out = Vec::new();
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {}
            '\'' | '"' | '`' | '[' => {
                let close = if c == '[' { ']' } else { c };
                let mut text = String::new();
                while let Some(c) = chars.next() {
                    if c == close {
                        if close != ']' && chars.next_if_eq(&close).is_some() {
                            text.push(c);
                            continue;
                        }
                        break;
                    }
                    text.push(c);
                }
                out.push(Tok::Quoted(text));
            }
            c if c.is_alphanumeric() || c == '_' => {
                let mut text = String::from(c);
                while let Some(c) = chars.next_if(|c| c.is_alphanumeric() || *c == '_' || *c == '$') {
                    text.push(c);
                }
                out.push(Tok::Word(text));
            }
            c => out.push(Tok::Punct(c)),
        }
    }
    out
}

impl Declaration {
    fn parse(sql: &str) -> Option<Declaration> {
        let toks = lex(sql);
        let word = |i: usize, w: &str| matches!(toks.get(i), Some(Tok::Word(t)) if t.eq_ignore_ascii_case(w));
        let text = |i: usize| match toks.get(i) {
            Some(Tok::Word(t) | Tok::Quoted(t)) => Some(t.clone()),
            _ => None,
        };
        if !(word(0, "CREATE") && word(1, "VIRTUAL") && word(2, "TABLE")) {
            return None;
        }
        let mut i = 3;
        if word(i, "IF") && word(i + 1, "NOT") && word(i + 2, "EXISTS") {
            i += 3;
        }
        let mut name = text(i)?;
        i += 1;
        if toks.get(i) == Some(&Tok::Punct('.')) {
            name = text(i + 1)?;
            i += 2;
        }
        if !word(i, "USING") {
            return None;
        }
        let module = text(i + 1)?;
        i += 2;
        let mut decl = Declaration {
            name,
            module,
            columns: Vec::new(),
            options: Vec::new(),
        };
        if toks.get(i) != Some(&Tok::Punct('(')) {
            return Some(decl);
        }
        let mut depth = 0usize;
        let mut arg: Vec<Tok> = Vec::new();
        for t in &toks[i + 1..] {
            match t {
                Tok::Punct('(') => depth += 1,
                Tok::Punct(')') if depth == 0 => {
                    decl.push_arg(std::mem::take(&mut arg));
                    break;
                }
                Tok::Punct(')') => depth -= 1,
                Tok::Punct(',') if depth == 0 => {
                    decl.push_arg(std::mem::take(&mut arg));
                    continue;
                }
                _ => {}
            }
            arg.push(t.clone());
        }
        Some(decl)
    }

    fn push_arg(&mut self, arg: Vec<Tok>) {
        let text = |t: &Tok| match t {
            Tok::Word(s) | Tok::Quoted(s) => s.clone(),
            Tok::Punct(c) => c.to_string(),
        };
        if let Some(eq) = arg.iter().position(|t| *t == Tok::Punct('=')) {
            let key: String = arg[..eq].iter().map(text).collect();
            let value: Vec<String> = arg[eq + 1..].iter().map(text).collect();
            self.options.push((key, value.join(" ")));
        } else if let Some(first) = arg.first() {
            let unindexed = arg[1..]
                .iter()
                .any(|t| matches!(t, Tok::Word(w) if w.eq_ignore_ascii_case("UNINDEXED")));
            self.columns.push((text(first), unindexed));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expand::ColumnInfo;

    fn knowledge() -> Fts5Index {
        Fts5Index::external("knowledge_fts", "knowledge_entries")
            .rowid("id")
            .columns(["title", "content"])
            .tokenize("porter unicode61")
    }

    // Pinned text, backed by the behavioural tests in tests/fts5_behaviour.rs that run it.
    #[test]
    fn external_sql_text() {
        let idx = knowledge();
        assert_eq!(
            idx.create_sql().unwrap(),
            "CREATE VIRTUAL TABLE \"knowledge_fts\" USING fts5(\"title\", \"content\", content='knowledge_entries', \
             content_rowid='id', tokenize='porter unicode61');\n"
        );
        assert_eq!(
            idx.triggers_sql().unwrap(),
            "CREATE TRIGGER \"knowledge_fts_ai\" AFTER INSERT ON \"knowledge_entries\" BEGIN\n  \
             INSERT INTO \"knowledge_fts\"(rowid, \"title\", \"content\") VALUES (new.\"id\", new.\"title\", new.\"content\");\nEND;\n\
             CREATE TRIGGER \"knowledge_fts_ad\" AFTER DELETE ON \"knowledge_entries\" BEGIN\n  \
             INSERT INTO \"knowledge_fts\"(\"knowledge_fts\", rowid, \"title\", \"content\") VALUES ('delete', old.\"id\", old.\"title\", old.\"content\");\nEND;\n\
             CREATE TRIGGER \"knowledge_fts_au\" AFTER UPDATE ON \"knowledge_entries\" BEGIN\n  \
             INSERT INTO \"knowledge_fts\"(\"knowledge_fts\", rowid, \"title\", \"content\") VALUES ('delete', old.\"id\", old.\"title\", old.\"content\");\n  \
             INSERT INTO \"knowledge_fts\"(rowid, \"title\", \"content\") VALUES (new.\"id\", new.\"title\", new.\"content\");\nEND;\n"
        );
        assert_eq!(
            idx.rebuild_sql().unwrap(),
            "INSERT INTO \"knowledge_fts\"(\"knowledge_fts\") VALUES ('rebuild');\n"
        );
        assert_eq!(
            idx.drop_sql().unwrap(),
            "DROP TRIGGER \"knowledge_fts_au\";\nDROP TRIGGER \"knowledge_fts_ad\";\nDROP TRIGGER \"knowledge_fts_ai\";\n\
             DROP TABLE \"knowledge_fts\";\n"
        );
    }

    #[test]
    fn options_text() {
        let sql = Fts5Index::external("f", "t")
            .rowid("id")
            .columns(["a", "b"])
            .unindexed(["b"])
            .prefix([2, 3])
            .detail(Detail::Column)
            .tokenize("unicode61 tokenchars '-'")
            .create_sql()
            .unwrap();
        assert!(sql.contains("\"b\" UNINDEXED"), "{sql}");
        assert!(sql.contains("prefix='2 3'") && sql.contains("detail=column"), "{sql}");
        assert!(sql.contains("tokenize='unicode61 tokenchars ''-'''"), "{sql}");
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

    #[test]
    fn directive_args() {
        let parse = Fts5Index::from_directive_args;
        assert_eq!(
            parse("knowledge_fts content=knowledge_entries content_rowid=id columns=title,content tokenize='porter unicode61'")
                .unwrap(),
            knowledge()
        );
        let err = |s: &str| parse(s).unwrap_err();
        assert!(err("").contains("index name first"));
        assert!(err("content=t").contains("index name first"));
        assert!(err("f content=t content_rowid=id columns=a colour=red").contains("unknown option `colour`"));
        assert!(err("f content=t content_rowid=id").contains("columns="));
        assert!(err("f content_rowid=id columns=a").contains("content=<table>"));
        assert!(err("f content=t columns=a").contains("content_rowid"));
        assert!(err("f content=t content=u content_rowid=id columns=a").contains("twice"));
        assert!(err("f content=t content_rowid=id columns=a extra").contains("unexpected `extra`"));
        assert!(err("f content=t content_rowid='id; DROP TABLE t' columns=a").contains("plain identifier"));
        assert!(err("f content=t content_rowid=id columns=a prefix=x").contains("prefix"));
        assert!(err("f content=t content_rowid=id columns=a detail=most").contains("detail"));
        assert!(err("f contentless_delete=1 content=t columns=a").contains("source="));
        assert!(err("f contentless_delete=1 source=t columns=a").contains("together"));
        assert!(err("f contentless_delete=2 columns=a").contains("contentless_delete"));
        assert!(err("f content=t content_rowid=id columns=a source=u").contains("contentless"));
        let c = parse("f contentless_delete=1 columns=a,b source=t source_rowid=id prefix=2,3").unwrap();
        assert_eq!(
            c,
            Fts5Index::contentless_delete("f")
                .columns(["a", "b"])
                .sync_from("t", "id")
                .prefix([2, 3])
        );
    }

    struct Fake(Vec<ColumnInfo>);
    impl Introspect for Fake {
        fn table_columns(&self, table: &str) -> Result<Option<Vec<ColumnInfo>>, String> {
            Ok((table == "t").then(|| self.0.clone()))
        }
        fn table_dependents(&self, _: &str) -> Result<Vec<(String, String, String)>, String> {
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

    #[test]
    fn odd_declarations_do_not_panic() {
        for sql in [
            "",
            "CREATE VIRTUAL TABLE",
            "CREATE VIRTUAL TABLE x USING fts5(",
            "CREATE VIRTUAL TABLE x USING fts5('open",
            "CREATE VIRTUAL TABLE \"é\" USING fts5(ü, content=\"ß\", [x, y)",
            "CREATE VIRTUAL TABLE x USING fts5(a, =, content=)",
            "CREATE VIRTUAL TABLE x USING fts5(a)) extra)",
        ] {
            let _ = Fts5Index::from_create_sql(sql);
        }
        let e = Fts5Index::from_create_sql("CREATE VIRTUAL TABLE \"é\" USING fts5(ü, content='ß')").unwrap();
        assert_eq!((e.name(), e.table()), ("é", Some("ß")));
    }

    #[test]
    fn reads_declarations() {
        let idx = knowledge();
        let back = Fts5Index::from_create_sql(idx.create_sql().unwrap().trim_end_matches([';', '\n'])).unwrap();
        assert_eq!(back, idx);
        let odd = Fts5Index::external("we\"ird", "ta'ble")
            .rowid("id")
            .columns(["c,1", "x"]);
        let back = Fts5Index::from_create_sql(&odd.create_sql().unwrap()).unwrap();
        assert_eq!(back, odd);
        let c =
            Fts5Index::from_create_sql("CREATE VIRTUAL TABLE main.x USING fts5(a, content='', contentless_delete=1)");
        assert_eq!(c.unwrap(), Fts5Index::contentless_delete("x").columns(["a"]));
        let plain = Fts5Index::from_create_sql("create virtual table if not exists x using FTS5(a, b)").unwrap();
        assert_eq!((plain.table(), plain.column_names().len()), (None, 2));
        assert!(Fts5Index::from_create_sql("CREATE VIRTUAL TABLE x USING rtree(a, b, c)").is_none());
        assert!(Fts5Index::from_create_sql("CREATE TABLE x(a)").is_none());
        let d = Fts5Index::from_create_sql("CREATE VIRTUAL TABLE x USING fts5(a, content=t)").unwrap();
        assert_eq!(d, Fts5Index::external("x", "t").rowid("rowid").columns(["a"]));
    }
}
