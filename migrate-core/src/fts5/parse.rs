//! Reading an FTS5 declaration back: from the arguments of a `-- migrate:fts5` directive, and from the
//! `CREATE VIRTUAL TABLE … USING fts5(…)` statement SQLite stores in `sqlite_schema` (for `fts5-resync` and the
//! runtime's maintenance commands). The statement is read through [`crate::lex`], so comments between the
//! arguments, quoted names and string values mean what they mean to SQLite.

use super::{Detail, Fts5Index, Kind, OPTIONS};
use crate::args::split_args;
use crate::lex::{self, Keyword, Token};
use crate::normalize::{matching_paren, split_commas};
use std::borrow::Cow;

impl Fts5Index {
    /// Parses the arguments of `-- migrate:fts5` (everything after the directive name).
    ///
    /// ```
    /// use litemigrate_core::fts5::Fts5Index;
    /// let idx = Fts5Index::from_directive_args(
    ///     "knowledge_fts content=knowledge_entries content_rowid=id columns=title,content tokenize='porter unicode61'",
    /// ).unwrap();
    /// assert_eq!(idx.column_names(), ["title", "content"]);
    /// assert!(Fts5Index::from_directive_args("idx content=t content_rowid=id").is_err());
    /// ```
    pub fn from_directive_args(args: &str) -> Result<Fts5Index, String> {
        let (name, opts) = DirectiveOptions::parse(args)?;
        let idx = opts.index_kind(name)?;
        let idx = opts.apply_column_options(idx)?;
        idx.validate().map_err(|e| e.to_string())?;
        Ok(idx)
    }

    /// Reconstructs the declaration of an existing index from its `CREATE VIRTUAL TABLE` statement (as stored in
    /// `sqlite_schema`), for resyncing and for runtime maintenance. `None` when `sql` is not an FTS5 table.
    ///
    /// ```
    /// use litemigrate_core::fts5::{Fts5Index, Kind};
    /// let idx = Fts5Index::from_create_sql(
    ///     "CREATE VIRTUAL TABLE docs_fts USING fts5(title, -- shown in results\n body UNINDEXED, content=docs, content_rowid='id')",
    /// ).unwrap();
    /// assert_eq!((idx.kind(), idx.table()), (Kind::External, Some("docs")));
    /// assert_eq!(idx.column_names(), ["title", "body"]);
    /// ```
    pub fn from_create_sql(sql: &str) -> Option<Fts5Index> {
        let decl = Declaration::parse(sql)?;
        if !decl.module.eq_ignore_ascii_case("fts5") {
            return None;
        }
        let mut idx = decl.index_kind();
        idx.unindexed = decl
            .columns
            .iter()
            .filter(|(_, u)| *u)
            .map(|(c, _)| c.clone())
            .collect();
        idx.tokenize = decl.option("tokenize").map(str::to_owned);
        idx.prefix = decl.prefix();
        idx.detail = decl.option("detail").and_then(parse_detail);
        idx.columns = decl.columns.into_iter().map(|(c, _)| c).collect();
        Some(idx)
    }
}

fn parse_detail(value: &str) -> Option<Detail> {
    match value.to_ascii_lowercase().as_str() {
        "full" => Some(Detail::Full),
        "column" => Some(Detail::Column),
        "none" => Some(Detail::None),
        _ => None,
    }
}

/// The `key=value` options of a `-- migrate:fts5` directive, each known and given once.
struct DirectiveOptions(Vec<(String, String)>);

impl DirectiveOptions {
    /// The index name (the first, bare argument) and the options after it.
    fn parse(args: &str) -> Result<(String, DirectiveOptions), String> {
        let mut it = split_args(args)?.into_iter();
        let name = match it.next() {
            Some(a) if a.key.is_none() => a.value,
            _ => return Err("expected the index name first: `fts5 <index> content=<table> …`".into()),
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
        Ok((name, DirectiveOptions(opts)))
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// An external-content or a contentless-delete index, from the options that choose between them.
    fn index_kind(&self, name: String) -> Result<Fts5Index, String> {
        let contentless = match self.get("contentless_delete") {
            None | Some("0") => false,
            Some("1") => true,
            Some(v) => return Err(format!("contentless_delete must be 1 (or 0), not `{v}`")),
        };
        if contentless {
            if self.get("content").is_some() || self.get("content_rowid").is_some() {
                return Err(
                    "contentless_delete=1 stores no content: use source=<table> source_rowid=<column> to \
                            sync it from a table, not content=/content_rowid="
                        .into(),
                );
            }
            let idx = Fts5Index::contentless_delete(name);
            return match (self.get("source"), self.get("source_rowid")) {
                (Some(t), Some(r)) => Ok(idx.sync_from(t, r)),
                (None, None) => Ok(idx),
                _ => Err("source= and source_rowid= go together".into()),
            };
        }
        if self.get("source").is_some() || self.get("source_rowid").is_some() {
            return Err(
                "source=/source_rowid= are for contentless_delete=1 indexes; use content=/content_rowid=".into(),
            );
        }
        let Some(table) = self.get("content") else {
            return Err("needs content=<table> (or contentless_delete=1)".into());
        };
        let idx = Fts5Index::external(name, table);
        Ok(match self.get("content_rowid") {
            Some(r) => idx.rowid(r),
            None => idx,
        })
    }

    /// The options every kind takes: columns, unindexed, tokenize, prefix, detail.
    fn apply_column_options(&self, mut idx: Fts5Index) -> Result<Fts5Index, String> {
        let list = |v: &str| -> Vec<String> { v.split(',').map(|s| s.trim().to_owned()).collect() };
        let Some(columns) = self.get("columns") else {
            return Err("needs columns=<a,b,…>".into());
        };
        idx = idx.columns(list(columns));
        if let Some(u) = self.get("unindexed") {
            idx = idx.unindexed(list(u));
        }
        if let Some(t) = self.get("tokenize") {
            idx = idx.tokenize(t);
        }
        if let Some(p) = self.get("prefix") {
            let lens = p
                .split([',', ' '])
                .filter(|s| !s.is_empty())
                .map(|s| s.parse::<u16>().map_err(|_| format!("prefix: `{s}` is not a length")))
                .collect::<Result<Vec<_>, _>>()?;
            idx = idx.prefix(lens);
        }
        if let Some(d) = self.get("detail") {
            idx = idx.detail(match d {
                "full" => Detail::Full,
                "column" => Detail::Column,
                "none" => Detail::None,
                _ => return Err(format!("detail must be full, column or none, not `{d}`")),
            });
        }
        Ok(idx)
    }
}

/// A `CREATE VIRTUAL TABLE` statement, taken apart.
struct Declaration {
    name: String,
    module: String,
    /// `(name, unindexed)`.
    columns: Vec<(String, bool)>,
    /// `(key, value)`, values unquoted, in the order written.
    options: Vec<(String, String)>,
}

/// The name a token spells where FTS5 accepts any quoting, or its text for anything else.
fn word<'a>(t: &Token<'a>) -> Cow<'a, str> {
    t.name().unwrap_or(Cow::Borrowed(t.text))
}

impl Declaration {
    fn parse(sql: &str) -> Option<Declaration> {
        let toks: Vec<Token<'_>> = lex::significant(sql).collect();
        let kw = |i: usize, k: Keyword| toks.get(i).is_some_and(|t| t.is_keyword(k));
        let name_at = |i: usize| toks.get(i).and_then(|t| t.name()).map(Cow::into_owned);
        if !(kw(0, Keyword::Create) && kw(1, Keyword::Virtual) && kw(2, Keyword::Table)) {
            return None;
        }
        let mut i = 3;
        if kw(i, Keyword::If) && kw(i + 1, Keyword::Not) && kw(i + 2, Keyword::Exists) {
            i += 3;
        }
        let mut name = name_at(i)?;
        i += 1;
        if toks.get(i).is_some_and(|t| t.is_op(".")) {
            name = name_at(i + 1)?;
            i += 2;
        }
        if !kw(i, Keyword::Using) {
            return None;
        }
        let module = name_at(i + 1)?;
        let mut decl = Declaration {
            name,
            module,
            columns: Vec::new(),
            options: Vec::new(),
        };
        if toks.get(i + 2).is_some_and(|t| t.is_op("(")) {
            // The module arguments: up to the matching `)`, or to the end when it is missing.
            let close = matching_paren(&toks, i + 2).unwrap_or(toks.len());
            // invariant: toks[i + 2] exists and close > i + 2, so the range is in bounds.
            for arg in split_commas(&toks[i + 3..close]) {
                decl.push_arg(arg);
            }
        }
        Some(decl)
    }

    /// One module argument: `key = value` is an option, anything else a column (`name [UNINDEXED]`).
    fn push_arg(&mut self, arg: &[Token<'_>]) {
        if let Some(eq) = arg.iter().position(|t| t.is_op("=")) {
            let key: String = arg[..eq].iter().map(word).collect();
            let value: Vec<Cow<'_, str>> = arg[eq + 1..].iter().map(word).collect();
            self.options.push((key, value.join(" ")));
        } else if let Some((first, rest)) = arg.split_first() {
            let unindexed = rest.iter().any(|t| t.is_word("UNINDEXED"));
            self.columns.push((word(first).into_owned(), unindexed));
        }
    }

    /// The last value given for option `key` (FTS5 lets a later one override an earlier one).
    fn option(&self, key: &str) -> Option<&str> {
        self.options
            .iter()
            .rev()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }

    /// Every `prefix=` length: FTS5 accepts the option more than once, each a list separated by spaces or commas.
    fn prefix(&self) -> Vec<u16> {
        self.options
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("prefix"))
            .flat_map(|(_, v)| v.split([' ', ',']).filter_map(|s| s.parse().ok()))
            .collect()
    }

    /// What kind of index the content options make it.
    fn index_kind(&self) -> Fts5Index {
        let name = self.name.clone();
        match self.option("content") {
            Some("") if self.option("contentless_delete") == Some("1") => Fts5Index::contentless_delete(name),
            // FTS5's default content_rowid is the content table's rowid.
            Some(t) if !t.is_empty() => {
                Fts5Index::external(name, t).rowid(self.option("content_rowid").unwrap_or("rowid"))
            }
            // A regular (content-storing) or plain contentless index: nothing to keep in sync.
            _ => Fts5Index::new(name, Kind::Standalone, None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::fts5::tests::knowledge;

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

    /// Comments where SQLite accepts them in a declaration: between arguments and after an argument's last token
    /// (FTS5 rejects one between the tokens of an argument, so such SQL never reaches `sqlite_schema`).
    const COMMENTED: &str = "CREATE VIRTUAL TABLE docs_fts USING fts5(
        title, -- shown in results
        /* the searchable text */ body,
        tag UNINDEXED /* kept, not searched */,
        content=docs, /* rows live in docs */ content_rowid=id -- the docs key
    )";

    #[test]
    fn comments_in_the_declaration_are_not_columns() {
        let idx = Fts5Index::from_create_sql(COMMENTED).unwrap();
        assert_eq!(
            idx,
            Fts5Index::external("docs_fts", "docs")
                .rowid("id")
                .columns(["title", "body", "tag"])
                .unindexed(["tag"])
        );
        // The example of the bug report, and comments everywhere else a token may stand.
        let idx = Fts5Index::from_create_sql(
            "CREATE VIRTUAL TABLE docs_fts USING fts5(title, -- shown in results\n body, content=docs, content_rowid=id)",
        )
        .unwrap();
        assert_eq!(idx.column_names(), ["title", "body"]);
        let idx = Fts5Index::from_create_sql(
            "/* lead */ CREATE -- a\n VIRTUAL /* b */ TABLE main /* c */ . \"f\" USING -- d\n fts5 /* e */ (\n\
             a /* , fake */, -- b,\n c, /* f */ tokenize = 'porter unicode61' -- g\n)",
        )
        .unwrap();
        assert_eq!(
            (idx.name(), idx.column_names()),
            ("f", &["a".to_owned(), "c".to_owned()][..])
        );
        assert_eq!(idx.kind(), Kind::Standalone);
        assert_eq!(idx.tokenize.as_deref(), Some("porter unicode61"));
    }

    #[test]
    fn prefix_and_detail_are_read_back() {
        let idx = Fts5Index::external("f", "t")
            .rowid("id")
            .columns(["a"])
            .prefix([2, 3])
            .detail(Detail::Column);
        assert_eq!(Fts5Index::from_create_sql(&idx.create_sql().unwrap()), Some(idx));
        // FTS5 accepts prefix= more than once and commas between lengths.
        let idx =
            Fts5Index::from_create_sql("CREATE VIRTUAL TABLE f USING fts5(a, prefix=2, prefix='3,4', detail=NONE)")
                .unwrap();
        assert_eq!(
            (idx.prefix.as_slice(), idx.detail),
            (&[2, 3, 4][..], Some(Detail::None))
        );
    }

    #[cfg(feature = "sqlite")]
    #[test]
    fn sqlite_accepts_the_commented_declaration_and_it_reads_back_the_same() {
        let db = rusqlite::Connection::open_in_memory().unwrap();
        db.execute_batch("CREATE TABLE docs(id INTEGER PRIMARY KEY, title TEXT, body TEXT, tag TEXT);")
            .unwrap();
        db.execute_batch(COMMENTED).unwrap();
        let stored: String = db
            .query_row("SELECT sql FROM sqlite_schema WHERE name = 'docs_fts'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert!(stored.contains("/* rows live in docs */"), "{stored}");
        assert_eq!(
            Fts5Index::from_create_sql(&stored),
            Fts5Index::from_create_sql(COMMENTED)
        );
    }
}
