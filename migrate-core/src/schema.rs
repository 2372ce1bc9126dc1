//! The structural schema of a connection: what the tables, indexes, triggers, views and virtual tables of the `main`
//! database *are*, independent of how their `CREATE` statements happen to be spelled.
//!
//! The macro embeds a hash of this (and its text) for every version; the runtime reads a live database the same way
//! to detect drift. Both go through [`Schema::read`] (or the incremental path in [`crate::compile`], which describes
//! each object with the very same function), so the two agree by construction.
//!
//! Tables are described from `PRAGMA table_xinfo`, `foreign_key_list` and `index_list` rather than from their SQL,
//! because SQLite rewrites a table's stored `CREATE TABLE` on `ALTER TABLE … ADD/RENAME/DROP COLUMN`: a table that
//! gained and lost a column is the same table again even though its text differs. What the pragmas do not report
//! (CHECK constraints, column collations, generation expressions) is taken from the stored SQL, normalized. Indexes,
//! triggers, views and virtual tables are described by their normalized SQL (see [`normalize_sql`]), which removes
//! comments, whitespace differences, identifier quoting and ASCII case — exactly the differences SQLite's own
//! rewriting of dependent objects introduces on renames.
//!
//! The schema is a set of *facts*, one per line of [`Schema::to_text`], each belonging to one object. Every string in
//! a fact (identifiers, types, SQL) is written in double quotes with `\"`, `\\`, `\n`, `\r`, `\t` and `\u{…}`
//! escapes, so any name round-trips through [`Schema::from_text`].

use crate::catalog::is_virtual_table_sql;
use crate::checksum::{self, Checksum};
use crate::sql::quote_ident;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

pub use crate::catalog::ObjectKind;

/// The kind a fact line belongs to, from the line's first word.
fn kind_of_line_keyword(word: &str) -> Option<ObjectKind> {
    Some(match word {
        "table" | "column" | "foreign-key" | "unique" | "check" => ObjectKind::Table,
        "virtual-table" => ObjectKind::VirtualTable,
        "index" => ObjectKind::Index,
        "view" => ObjectKind::View,
        "trigger" => ObjectKind::Trigger,
        _ => return None,
    })
}

/// One schema object and the facts that describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    kind: ObjectKind,
    name: String,
    /// Sorted fact lines.
    lines: Vec<String>,
}

impl Object {
    fn new(kind: ObjectKind, name: String, mut lines: Vec<String>) -> Object {
        lines.sort();
        Object { kind, name, lines }
    }

    /// Its kind.
    pub fn kind(&self) -> ObjectKind {
        self.kind
    }

    /// Its name as stored in `sqlite_schema`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its facts, sorted; each is one line of [`Schema::to_text`].
    pub fn lines(&self) -> &[String] {
        &self.lines
    }

    /// SHA-256 of its fact lines, each followed by `\n`.
    pub fn hash(&self) -> Checksum {
        let mut text = String::new();
        for l in &self.lines {
            text.push_str(l);
            text.push('\n');
        }
        checksum::sha256(text.as_bytes())
    }
}

/// The structural schema of a database: a set of objects, each a set of facts.
///
/// ```no_run
/// # #[cfg(feature = "sqlite")] {
/// use migrate_core::schema::Schema;
/// let conn = rusqlite::Connection::open("app.db").unwrap();
/// let live = Schema::read_ignoring(&conn, &["_migrations"]).unwrap();
/// let expected = Schema::from_text("table \"users\"\n").unwrap();
/// let diff = live.diff(&expected);
/// if !diff.is_empty() {
///     eprintln!("schema drift:\n{diff}");
/// }
/// # }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Schema {
    objects: BTreeMap<(ObjectKind, String), Object>,
}

/// A line of schema text that is not a fact [`Schema::to_text`] writes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("schema text line {line}: {message}: {text:?}")]
pub struct SchemaTextError {
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub message: &'static str,
    /// The line.
    pub text: String,
}

impl Schema {
    /// Reads the structural schema of the connection's `main` database. Internal objects (`sqlite_%`), indexes
    /// SQLite creates for constraints and virtual tables' shadow tables are left out.
    pub fn read(conn: &rusqlite::Connection) -> rusqlite::Result<Schema> {
        Self::read_ignoring(conn, &[])
    }

    /// Like [`Schema::read`], leaving out the named tables (compared ignoring ASCII case) and the indexes and
    /// triggers on them, e.g. the migration history table.
    pub fn read_ignoring(conn: &rusqlite::Connection, ignore: &[&str]) -> rusqlite::Result<Schema> {
        let shadows: Vec<String> = {
            let mut stmt =
                conn.prepare("SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'shadow'")?;
            stmt.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?
        };
        let mut schema = Schema::default();
        for row in read_rows(conn, i64::MIN, i64::MAX)? {
            if ignore
                .iter()
                .any(|i| i.eq_ignore_ascii_case(&row.tbl_name) || i.eq_ignore_ascii_case(&row.name))
            {
                continue;
            }
            let shadow = row.kind == "table" && shadows.contains(&row.name);
            if let Some(obj) = describe(&row, shadow) {
                schema.insert(obj);
            }
        }
        Ok(schema)
    }

    pub(crate) fn insert(&mut self, obj: Object) {
        self.objects.insert((obj.kind, obj.name.clone()), obj);
    }

    /// The objects, ordered by kind and name.
    pub fn objects(&self) -> impl Iterator<Item = &Object> {
        self.objects.values()
    }

    /// The object of this kind and name (exact, case-sensitive name as stored).
    pub fn get(&self, kind: ObjectKind, name: &str) -> Option<&Object> {
        self.objects.get(&(kind, name.to_owned()))
    }

    /// Whether there are no objects.
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    /// The number of objects.
    pub fn len(&self) -> usize {
        self.objects.len()
    }

    /// All fact lines, sorted, each followed by `\n`. Deterministic: equal schemas give equal text.
    pub fn to_text(&self) -> String {
        let mut lines: Vec<&str> = self
            .objects
            .values()
            .flat_map(|o| o.lines.iter().map(String::as_str))
            .collect();
        lines.sort_unstable();
        let mut out = String::with_capacity(lines.iter().map(|l| l.len() + 1).sum());
        for l in lines {
            out.push_str(l);
            out.push('\n');
        }
        out
    }

    /// Parses what [`Schema::to_text`] wrote. Empty lines are ignored; `Schema::from_text(&s.to_text()) == s`.
    pub fn from_text(text: &str) -> Result<Schema, SchemaTextError> {
        let mut groups: BTreeMap<(ObjectKind, String), Vec<String>> = BTreeMap::new();
        for (i, line) in text.lines().enumerate() {
            if line.is_empty() {
                continue;
            }
            let err = |message| SchemaTextError {
                line: i + 1,
                message,
                text: line.to_owned(),
            };
            let (word, rest) = line
                .split_once(' ')
                .ok_or_else(|| err("expected a kind and a quoted name"))?;
            let kind = kind_of_line_keyword(word).ok_or_else(|| err("unknown fact kind"))?;
            let (name, _) = unquote(rest).ok_or_else(|| err("expected a quoted name"))?;
            groups.entry((kind, name)).or_default().push(line.to_owned());
        }
        let mut schema = Schema::default();
        for ((kind, name), lines) in groups {
            schema.insert(Object::new(kind, name, lines));
        }
        Ok(schema)
    }

    /// The schema hash: an order-independent combination of the objects' hashes (see [`Object::hash`]), so it
    /// can be maintained incrementally as objects change. Equal schemas have equal hashes.
    ///
    /// Definition: `SHA-256("migrate-schema-v1\n" ‖ object count as 8 big-endian bytes ‖ Σ object hashes mod
    /// 2²⁵⁶ as 32 big-endian bytes)`. The sum is not collision resistant against someone crafting schemas on
    /// purpose; it is meant to detect drift, not forgery.
    pub fn hash(&self) -> Checksum {
        let mut sum = HashSum::default();
        for o in self.objects.values() {
            sum.add(&o.hash());
        }
        sum.finish()
    }

    /// What differs from `expected`: facts `expected` has and `self` lacks are missing, facts only `self` has are
    /// unexpected.
    pub fn diff(&self, expected: &Schema) -> SchemaDiff {
        let mine: BTreeSet<&str> = self
            .objects
            .values()
            .flat_map(|o| o.lines.iter().map(String::as_str))
            .collect();
        let theirs: BTreeSet<&str> = expected
            .objects
            .values()
            .flat_map(|o| o.lines.iter().map(String::as_str))
            .collect();
        SchemaDiff {
            missing: theirs.difference(&mine).map(|s| (*s).to_owned()).collect(),
            unexpected: mine.difference(&theirs).map(|s| (*s).to_owned()).collect(),
        }
    }
}

/// The difference between two schemas, as fact lines of [`Schema::to_text`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SchemaDiff {
    /// Facts the expected schema has and the actual one lacks.
    pub missing: Vec<String>,
    /// Facts the actual schema has and the expected one lacks.
    pub unexpected: Vec<String>,
}

impl SchemaDiff {
    /// Whether the schemas are structurally equal.
    pub fn is_empty(&self) -> bool {
        self.missing.is_empty() && self.unexpected.is_empty()
    }
}

impl fmt::Display for SchemaDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (label, lines) in [("missing", &self.missing), ("unexpected", &self.unexpected)] {
            for l in lines {
                if !first {
                    f.write_str("\n")?;
                }
                first = false;
                write!(f, "{label}: {l}")?;
            }
        }
        Ok(())
    }
}

/// An order-independent accumulator of object hashes: a sum modulo 2²⁵⁶ and a count, so objects can be added and
/// removed in any order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct HashSum {
    sum: [u8; 32],
    count: u64,
}

impl HashSum {
    pub(crate) fn add(&mut self, h: &Checksum) {
        let mut carry = 0u16;
        for i in (0..32).rev() {
            let s = u16::from(self.sum[i]) + u16::from(h.0[i]) + carry;
            self.sum[i] = s as u8; // truncation is the modular arithmetic
            carry = s >> 8;
        }
        self.count = self.count.wrapping_add(1);
    }

    pub(crate) fn remove(&mut self, h: &Checksum) {
        let mut borrow = 0i16;
        for i in (0..32).rev() {
            let mut d = i16::from(self.sum[i]) - i16::from(h.0[i]) - borrow;
            borrow = 0;
            if d < 0 {
                d += 256;
                borrow = 1;
            }
            self.sum[i] = d as u8; // 0 <= d < 256 here
        }
        self.count = self.count.wrapping_sub(1);
    }

    pub(crate) fn finish(&self) -> Checksum {
        let mut bytes = Vec::with_capacity(18 + 8 + 32);
        bytes.extend_from_slice(b"migrate-schema-v1\n");
        bytes.extend_from_slice(&self.count.to_be_bytes());
        bytes.extend_from_slice(&self.sum);
        checksum::sha256(&bytes)
    }
}

/// Quotes a string for schema text: double quotes; `"`, `\` and control characters escaped.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Reads a string [`quote`] wrote at the start of `s`; returns it and the rest of `s`.
fn unquote(s: &str) -> Option<(String, &str)> {
    let body = s.strip_prefix('"')?;
    let mut out = String::new();
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, &body[i + 1..])),
            '\\' => match chars.next()?.1 {
                'n' => out.push('\n'),
                'r' => out.push('\r'),
                't' => out.push('\t'),
                'u' => {
                    if chars.next()?.1 != '{' {
                        return None;
                    }
                    let mut hex = String::new();
                    loop {
                        match chars.next()?.1 {
                            '}' => break,
                            h => hex.push(h),
                        }
                    }
                    out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
                }
                other => out.push(other),
            },
            c => out.push(c),
        }
    }
    None
}

// ---------------------------------------------------------------------------------------------------------------
// SQL normalization

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TokKind {
    /// A bare word: keyword or unquoted identifier.
    Word,
    /// A quoted identifier (`"x"`, `[x]`, `` `x` ``); text is the raw token.
    Quoted,
    /// A string literal, kept verbatim.
    Str,
    /// A number.
    Num,
    /// An operator or punctuation.
    Punct,
}

#[derive(Debug, Clone, Copy)]
struct Tok<'a> {
    kind: TokKind,
    text: &'a str,
}

impl Tok<'_> {
    fn is_word(&self, w: &str) -> bool {
        self.kind == TokKind::Word && self.text.eq_ignore_ascii_case(w)
    }

    fn is(&self, p: &str) -> bool {
        self.kind == TokKind::Punct && self.text == p
    }

    /// The canonical text: identifiers and keywords lower-cased ASCII, unquoted when they are plain words.
    fn canonical(&self) -> String {
        match self.kind {
            TokKind::Word => canonical_ident(self.text),
            TokKind::Quoted => {
                let open = self.text.as_bytes().first().copied().unwrap_or(b'"');
                let close = if open == b'[' { b']' } else { open };
                let body = self.text.get(1..).unwrap_or("");
                // An unterminated quote (only in broken SQL) runs to the end of the text.
                let inner = if body.as_bytes().last() == Some(&close) {
                    &body[..body.len() - 1]
                } else {
                    body
                };
                let unescaped = match open {
                    b'"' => inner.replace("\"\"", "\""),
                    b'`' => inner.replace("``", "`"),
                    _ => inner.to_owned(),
                };
                canonical_ident(&unescaped)
            }
            TokKind::Num => self.text.to_ascii_lowercase(),
            TokKind::Str | TokKind::Punct => self.text.to_owned(),
        }
    }
}

/// An identifier in canonical form: ASCII lower case; bare when it is a plain word, else double-quoted.
fn canonical_ident(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    let plain = lower
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_lowercase() || b == b'_')
        && lower
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'$');
    if plain { lower } else { quote_ident(&lower) }
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

/// Length of a quoted token starting at `bytes[0]`, closed by `close`; a doubled `close` is an escape unless
/// `close` is `]`.
fn quoted_len(bytes: &[u8], close: u8) -> usize {
    let mut j = 1;
    while j < bytes.len() {
        if bytes[j] == close {
            if close != b']' && bytes.get(j + 1) == Some(&close) {
                j += 2;
                continue;
            }
            return j + 1;
        }
        j += 1;
    }
    bytes.len()
}

fn tokens(sql: &str) -> Vec<Tok<'_>> {
    let bytes = sql.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let rest = &bytes[i..];
        let (kind, len) = match b {
            b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' => {
                i += 1;
                continue;
            }
            b'-' if rest.get(1) == Some(&b'-') => {
                i += rest.iter().position(|c| *c == b'\n').unwrap_or(rest.len());
                continue;
            }
            b'/' if rest.get(1) == Some(&b'*') => {
                i += sql[i + 2..].find("*/").map_or(rest.len(), |n| n + 4);
                continue;
            }
            b'\'' => (TokKind::Str, quoted_len(rest, b'\'')),
            b'"' => (TokKind::Quoted, quoted_len(rest, b'"')),
            b'`' => (TokKind::Quoted, quoted_len(rest, b'`')),
            b'[' => (TokKind::Quoted, quoted_len(rest, b']')),
            b'0'..=b'9' => (TokKind::Num, number_len(rest)),
            b'.' if rest.get(1).is_some_and(u8::is_ascii_digit) => (TokKind::Num, number_len(rest)),
            _ if is_word_byte(b) => (TokKind::Word, rest.iter().take_while(|c| is_word_byte(**c)).count()),
            _ => {
                let len = if rest.starts_with(b"->>") {
                    3
                } else if [b"||", b"<=", b">=", b"==", b"!=", b"<>", b"<<", b">>", b"->"]
                    .iter()
                    .any(|op| rest.starts_with(*op))
                {
                    2
                } else {
                    1
                };
                (TokKind::Punct, len)
            }
        };
        // Token boundaries fall on ASCII bytes or the end, so slicing stays on char boundaries; `get` keeps a
        // surprise from becoming a panic.
        if let Some(text) = sql.get(i..i + len) {
            out.push(Tok { kind, text });
        }
        i += len.max(1);
    }
    out
}

fn number_len(bytes: &[u8]) -> usize {
    let mut j = 0;
    while j < bytes.len() {
        let c = bytes[j];
        if c.is_ascii_alphanumeric() || c == b'.' || c == b'_' {
            j += 1;
            if (c == b'e' || c == b'E')
                && matches!(bytes.get(j), Some(b'+' | b'-'))
                && bytes.get(j + 1).is_some_and(u8::is_ascii_digit)
                && !bytes[..j].starts_with(b"0x")
                && !bytes[..j].starts_with(b"0X")
            {
                j += 1;
            }
        } else {
            break;
        }
    }
    j
}

fn render(toks: &[Tok<'_>]) -> String {
    let mut out = String::new();
    let mut prev: Option<&Tok<'_>> = None;
    for t in toks {
        if let Some(p) = prev {
            let no_space = t.is(",")
                || t.is(")")
                || t.is(";")
                || t.is(".")
                || p.is("(")
                || p.is(".")
                || (t.is("(") && matches!(p.kind, TokKind::Word | TokKind::Quoted));
            if !no_space {
                out.push(' ');
            }
        }
        out.push_str(&t.canonical());
        prev = Some(t);
    }
    out
}

/// Normalizes SQL text for structural comparison: comments dropped, whitespace canonical, keywords and identifiers
/// ASCII lower case and unquoted where quoting is not needed. String literals are kept as written.
///
/// ```
/// # #[cfg(feature = "sqlite")] {
/// use migrate_core::schema::normalize_sql;
/// assert_eq!(
///     normalize_sql("CREATE  VIEW \"V\" AS SELECT [a],b FROM t -- note\n WHERE x='A'"),
///     normalize_sql("create view v as select a, B from T where X = 'A'"),
/// );
/// # }
/// ```
pub fn normalize_sql(sql: &str) -> String {
    render(&tokens(sql))
}

/// Whether an `ALTER TABLE` statement only rewrites the altered table's own `sqlite_schema` row (`ADD` and `DROP
/// COLUMN`), unlike renames, which also rewrite the SQL of indexes, triggers and views that refer to it.
pub(crate) fn alter_changes_only_its_table(sql: &str) -> bool {
    let toks = tokens(sql);
    let mut i = 2; // after ALTER TABLE
    if toks.get(i + 1).is_some_and(|t| t.is(".")) {
        i += 2;
    }
    toks.first().is_some_and(|t| t.is_word("alter"))
        && toks.get(1).is_some_and(|t| t.is_word("table"))
        && toks.get(i + 1).is_some_and(|t| t.is_word("add") || t.is_word("drop"))
}

/// Index of the `)` matching the `(` at `open`, or `None` when unbalanced.
fn matching_paren(toks: &[Tok<'_>], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, t) in toks.iter().enumerate().skip(open) {
        if t.is("(") {
            depth += 1;
        } else if t.is(")") {
            depth = depth.saturating_sub(1);
            if depth == 0 {
                return Some(i);
            }
        }
    }
    None
}

/// Splits `toks` at commas outside parentheses.
fn split_commas<'t, 'a>(toks: &'t [Tok<'a>]) -> Vec<&'t [Tok<'a>]> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, t) in toks.iter().enumerate() {
        if t.is("(") {
            depth += 1;
        } else if t.is(")") {
            depth = depth.saturating_sub(1);
        } else if t.is(",") && depth == 0 {
            out.push(&toks[start..i]);
            start = i + 1;
        }
    }
    out.push(&toks[start..]);
    out
}

/// The parenthesized list starting at the first `(` of `toks`: its items and what follows the `)`.
fn first_paren_list<'t, 'a>(toks: &'t [Tok<'a>]) -> Option<(Vec<&'t [Tok<'a>]>, &'t [Tok<'a>])> {
    let open = toks.iter().position(|t| t.is("("))?;
    let close = matching_paren(toks, open)?;
    Some((split_commas(&toks[open + 1..close]), &toks[close + 1..]))
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
        virtual_table: toks.get(1).is_some_and(|t| t.is_word("virtual")),
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
            let paren_after = item.get(i + 1).is_some_and(|n| n.is("("));
            if t.is("(") {
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
                collate = item.get(i + 1).map(Tok::canonical);
                i += 2;
                continue;
            }
            i += 1;
        }
        if !is_constraint && (collate.is_some() || generated.is_some()) {
            extras.columns.insert(first.canonical(), (collate, generated));
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

// ---------------------------------------------------------------------------------------------------------------
// Describing objects

/// Whether a name is reserved for SQLite's own objects (`sqlite_%`).
pub(crate) fn is_internal(name: &str) -> bool {
    name.get(..7).is_some_and(|p| p.eq_ignore_ascii_case("sqlite_"))
}

/// The virtual table that would own `name` as a shadow table: SQLite splits a shadow table's name at its last `_`
/// (`docs_data` belongs to `docs`). Only a name whose owner exists as a virtual table can be a shadow table.
pub(crate) fn shadow_owner(name: &str) -> Option<&str> {
    name.rfind('_').map(|i| &name[..i])
}

/// Whether a `CREATE TABLE` statement creates a virtual table.
/// One `sqlite_schema` row of `main` with what the pragmas report about it.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub(crate) rowid: i64,
    pub(crate) kind: String,
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
        Ok(Row {
            rowid: r.get(0)?,
            kind: r.get(1)?,
            name: r.get(2)?,
            tbl_name: r.get(3)?,
            sql: r.get(4)?,
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
        match self.kind.as_str() {
            "table" if described && !self.sql.as_deref().is_some_and(is_virtual_table_sql) => {
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
            "index" if described => {
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
    let (kind, line) = match row.kind.as_str() {
        "table" => {
            return Some(describe_table(name, sql, row.facts.as_deref().unwrap_or(&[])));
        }
        "index" => {
            return Some(describe_index(
                name,
                &row.tbl_name,
                sql,
                row.facts.as_deref().unwrap_or(&[]),
            ));
        }
        "view" => (
            ObjectKind::View,
            format!("view {} sql={}", quote(name), quote(&normalize_sql(sql))),
        ),
        "trigger" => (
            ObjectKind::Trigger,
            format!(
                "trigger {} on {} sql={}",
                quote(name),
                quote(&row.tbl_name),
                quote(&normalize_sql(sql))
            ),
        ),
        _ => return None,
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
    let mut lines = Vec::new();
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
    lines.push(head);
    for check in &extras.checks {
        lines.push(format!("check {qname} {}", quote(check)));
    }
    // Foreign key id → (parent, child columns, parent columns, actions); facts come ordered by id and seq.
    let mut fks: BTreeMap<i64, ForeignKeyLine<'_>> = BTreeMap::new();
    let mut uniques: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for fact in facts {
        match fact {
            Fact::Column {
                cid,
                name: col,
                ty,
                notnull,
                default,
                pk,
                hidden,
            } => {
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
                lines.push(line);
            }
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

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::Connection;

    fn db(sql: &str) -> Connection {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch(sql).unwrap();
        c
    }

    fn schema(sql: &str) -> Schema {
        Schema::read(&db(sql)).unwrap()
    }

    /// Asserts the schemas differ, that the difference shows in the diff, and in the hash.
    fn assert_differs(a: &str, b: &str, expect_in_diff: &str) {
        let (sa, sb) = (schema(a), schema(b));
        let d = sa.diff(&sb);
        assert!(!d.is_empty(), "{a} vs {b}");
        assert_ne!(sa.hash(), sb.hash());
        assert!(d.to_string().contains(expect_in_diff), "diff of {a} vs {b}:\n{d}");
    }

    #[test]
    fn describes_tables_columns_and_indexes() {
        let s = schema(
            "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT NOT NULL DEFAULT 'x' UNIQUE, deleted_at TEXT);
             CREATE INDEX users_live ON users(email DESC) WHERE deleted_at IS NULL;",
        );
        let text = s.to_text();
        assert_eq!(
            text,
            "column \"users\".\"deleted_at\" pos=2 type=\"TEXT\" pk=0\n\
             column \"users\".\"email\" pos=1 type=\"TEXT\" notnull default=\"'x'\" pk=0\n\
             column \"users\".\"id\" pos=0 type=\"INTEGER\" pk=1\n\
             index \"users_live\" on \"users\"(\"email\" desc) where=\"deleted_at is null\"\n\
             table \"users\"\n\
             unique \"users\"(\"email\")\n"
        );
        assert_eq!(s.len(), 2);
        assert_eq!(s.get(ObjectKind::Table, "users").unwrap().lines().len(), 5);
    }

    #[test]
    fn add_then_drop_column_is_the_same_table() {
        let before = "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT NOT NULL);
                      CREATE INDEX t_name ON t(name);
                      CREATE TRIGGER t_ai AFTER INSERT ON t BEGIN UPDATE t SET name = name WHERE id = new.id; END;";
        let c = db(before);
        let original = Schema::read(&c).unwrap();
        c.execute_batch("ALTER TABLE t ADD COLUMN tmp INTEGER DEFAULT 3")
            .unwrap();
        let added = Schema::read(&c).unwrap();
        let d = added.diff(&original);
        assert_eq!(d.missing, Vec::<String>::new());
        assert_eq!(
            d.unexpected,
            ["column \"t\".\"tmp\" pos=2 type=\"INTEGER\" default=\"3\" pk=0"]
        );
        c.execute_batch("ALTER TABLE t DROP COLUMN tmp").unwrap();
        let sql: String = c
            .query_row("SELECT sql FROM sqlite_master WHERE name = 't'", [], |r| r.get(0))
            .unwrap();
        let after = Schema::read(&c).unwrap();
        assert!(after.diff(&original).is_empty(), "{}", after.diff(&original));
        assert_eq!(after.hash(), original.hash());
        // Renames rewrite the stored SQL of dependents; renaming back compares equal again.
        c.execute_batch("ALTER TABLE t RENAME COLUMN name TO n2; ALTER TABLE t RENAME COLUMN n2 TO name;")
            .unwrap();
        c.execute_batch("ALTER TABLE t RENAME TO t2; ALTER TABLE t2 RENAME TO t;")
            .unwrap();
        let sql2: String = c
            .query_row("SELECT sql FROM sqlite_master WHERE name = 't'", [], |r| r.get(0))
            .unwrap();
        assert_ne!(
            sql, sql2,
            "SQLite did not rewrite the table, so this test shows nothing"
        );
        let renamed = Schema::read(&c).unwrap();
        assert!(renamed.diff(&original).is_empty(), "{}", renamed.diff(&original));
        assert_eq!(renamed.hash(), original.hash());
    }

    #[test]
    fn detects_each_structural_difference() {
        assert_differs(
            "CREATE TABLE t(a TEXT)",
            "CREATE TABLE t(a INTEGER)",
            "type=\"INTEGER\"",
        );
        assert_differs("CREATE TABLE t(a TEXT)", "CREATE TABLE t(a TEXT NOT NULL)", "notnull");
        assert_differs(
            "CREATE TABLE t(a TEXT DEFAULT 'x')",
            "CREATE TABLE t(a TEXT DEFAULT 'y')",
            "'y'",
        );
        assert_differs(
            "CREATE TABLE t(a TEXT)",
            "CREATE TABLE t(a TEXT DEFAULT NULL)",
            "default=\"null\"",
        );
        assert_differs(
            "CREATE TABLE t(a INT, b INT)",
            "CREATE TABLE t(a INT PRIMARY KEY, b INT)",
            "pk=1",
        );
        assert_differs(
            "CREATE TABLE t(a INT, b INT, PRIMARY KEY(a, b))",
            "CREATE TABLE t(a INT, b INT, PRIMARY KEY(b, a))",
            "pk=2",
        );
        assert_differs(
            "CREATE TABLE t(a INT); CREATE INDEX i ON t(a)",
            "CREATE TABLE t(a INT); CREATE UNIQUE INDEX i ON t(a)",
            "unique",
        );
        assert_differs(
            "CREATE TABLE t(a INT); CREATE INDEX i ON t(a) WHERE a > 0",
            "CREATE TABLE t(a INT); CREATE INDEX i ON t(a) WHERE a > 1",
            "where=\"a > 1\"",
        );
        assert_differs(
            "CREATE TABLE t(a INT); CREATE INDEX i ON t(a)",
            "CREATE TABLE t(a INT); CREATE INDEX i ON t(a) WHERE a > 1",
            "where",
        );
        assert_differs(
            "CREATE TABLE t(a INT, b INT); CREATE INDEX i ON t(a, b)",
            "CREATE TABLE t(a INT, b INT); CREATE INDEX i ON t(b, a)",
            "(\"b\", \"a\")",
        );
        assert_differs(
            "CREATE TABLE t(a INT)",
            "CREATE TABLE t(a INT UNIQUE)",
            "unique \"t\"(\"a\")",
        );
        assert_differs(
            "CREATE TABLE t(a INT CHECK (a > 0))",
            "CREATE TABLE t(a INT CHECK (a > 1))",
            "check \"t\" \"a > 1\"",
        );
        assert_differs(
            "CREATE TABLE t(a TEXT)",
            "CREATE TABLE t(a TEXT COLLATE NOCASE)",
            "collate=\"nocase\"",
        );
        assert_differs("CREATE TABLE t(a INT) STRICT", "CREATE TABLE t(a INT)", "table \"t\"");
        assert_differs(
            "CREATE TABLE t(a INTEGER PRIMARY KEY)",
            "CREATE TABLE t(a INTEGER PRIMARY KEY AUTOINCREMENT)",
            "table \"t\" autoincrement",
        );
        assert_differs(
            "CREATE TABLE p(id INTEGER PRIMARY KEY); CREATE TABLE c(p INT REFERENCES p(id))",
            "CREATE TABLE p(id INTEGER PRIMARY KEY); CREATE TABLE c(p INT REFERENCES p(id) ON DELETE CASCADE)",
            "on-delete=\"CASCADE\"",
        );
        assert_differs(
            "CREATE VIEW v AS SELECT 1 AS x",
            "CREATE VIEW v AS SELECT 2 AS x",
            "select 2 as x",
        );
        assert_differs(
            "CREATE TABLE t(a INT)",
            "CREATE TABLE t(a INT, b AS (a + 1))",
            "as=\"a + 1\"",
        );
    }

    #[test]
    fn spelling_does_not_matter() {
        let a = schema(
            "CREATE TABLE t(a INT, b TEXT); CREATE INDEX i ON t(a) WHERE b IS NULL;
             CREATE VIEW v AS SELECT a FROM t WHERE b = 'X';
             CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; END;",
        );
        let b = schema(
            "create table \"t\" ( \"a\"   INT ,[b] TEXT ) ; create index I on T(A) where B is null;
             CREATE VIEW \"v\" AS /* c */ SELECT \"a\" FROM t WHERE b='X';
             CREATE TRIGGER tr AFTER INSERT ON t BEGIN\n  SELECT 1;\nEND;",
        );
        // Names keep their stored spelling: only the index name differs in case.
        let d = a.diff(&b);
        assert_eq!(d.missing, ["index \"I\" on \"t\"(\"a\") where=\"b is null\""]);
        assert_eq!(d.unexpected, ["index \"i\" on \"t\"(\"a\") where=\"b is null\""]);
        // String literals keep their case.
        assert_differs(
            "CREATE VIEW v AS SELECT 'a' AS x",
            "CREATE VIEW v AS SELECT 'A' AS x",
            "'A'",
        );
    }

    #[test]
    fn odd_schemas_do_not_break_it() {
        let s = schema(
            "CREATE TABLE \"we\"\"ird \n name\"(\"col \"\"q\"\"\" TEXT, [x y] INT, id INT PRIMARY KEY) WITHOUT ROWID;
             CREATE TABLE g(a INT, b INT GENERATED ALWAYS AS (a * 2) STORED, c AS (a || 'x'));
             CREATE INDEX gi ON g(a + b, lower(c) COLLATE NOCASE DESC, a);
             CREATE VIEW broken AS SELECT * FROM missing_table;
             CREATE TABLE weird_types(a, b VARCHAR(10), c \"custom type\");",
        );
        let text = s.to_text();
        assert!(text.contains("table \"we\\\"ird \\n name\" without-rowid\n"), "{text}");
        assert!(
            text.contains("column \"we\\\"ird \\n name\".\"col \\\"q\\\"\" pos=0"),
            "{text}"
        );
        assert!(
            text.contains("column \"g\".\"b\" pos=1 type=\"INT\" pk=0 generated=stored as=\"a * 2\""),
            "{text}"
        );
        assert!(
            text.contains("column \"g\".\"c\" pos=2 type=\"\" pk=0 generated=virtual as=\"a || 'x'\""),
            "{text}"
        );
        assert!(
            text.contains("index \"gi\" on \"g\"(expr=\"a + b\", expr=\"lower(c)\" desc collate=\"nocase\", \"a\")"),
            "{text}"
        );
        assert!(
            text.contains("view \"broken\" sql=\"create view broken as select * from missing_table\""),
            "{text}"
        );
        let back = Schema::from_text(&text).unwrap();
        assert_eq!(back, s);
        assert_eq!(back.to_text(), text);
        assert_eq!(back.hash(), s.hash());
    }

    #[test]
    fn internal_and_shadow_objects_are_excluded() {
        let s = schema(
            "CREATE VIRTUAL TABLE docs USING fts5(title, body);
             CREATE TABLE seq(id INTEGER PRIMARY KEY AUTOINCREMENT, u TEXT UNIQUE);
             INSERT INTO seq(u) VALUES ('a');
             ANALYZE;",
        );
        let names: Vec<&str> = s.objects().map(Object::name).collect();
        assert_eq!(names, ["seq", "docs"]);
        assert_eq!(s.objects().nth(1).unwrap().kind(), ObjectKind::VirtualTable);
        // The shadow tables exist, they are just not part of the schema.
        let c = db("CREATE VIRTUAL TABLE docs USING fts5(title, body);");
        let n: i64 = c
            .query_row("SELECT count(*) FROM sqlite_master WHERE name LIKE 'docs_%'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert!(n >= 3);
    }

    #[test]
    fn ignoring_a_table_ignores_its_indexes_and_triggers() {
        let c = db("CREATE TABLE _migrations(v INT); CREATE INDEX _m_v ON _migrations(v);
                    CREATE TRIGGER _m_t AFTER INSERT ON _migrations BEGIN SELECT 1; END;
                    CREATE TABLE app(x INT);");
        let s = Schema::read_ignoring(&c, &["_MIGRATIONS"]).unwrap();
        assert_eq!(s.objects().map(Object::name).collect::<Vec<_>>(), ["app"]);
        assert_eq!(Schema::read(&c).unwrap().len(), 4);
    }

    #[test]
    fn text_round_trip_and_errors() {
        let s = schema(
            "CREATE TABLE \"a\\b\"(\"tab\tcol\" TEXT DEFAULT 'é\u{1}'); CREATE TRIGGER \"x y\" AFTER DELETE ON \"a\\b\" BEGIN SELECT 1; END;",
        );
        let text = s.to_text();
        assert!(text.contains("\"tab\\tcol\""), "{text}");
        assert!(text.contains("\\u{1}"), "{text}");
        assert_eq!(Schema::from_text(&text).unwrap(), s);
        assert_eq!(Schema::from_text("").unwrap(), Schema::default());
        let e = Schema::from_text("table \"a\"\nbogus \"x\"\n").unwrap_err();
        assert_eq!((e.line, e.message), (2, "unknown fact kind"));
        assert_eq!(
            Schema::from_text("table a").unwrap_err().message,
            "expected a quoted name"
        );
        assert_eq!(
            Schema::from_text("table \"a").unwrap_err().message,
            "expected a quoted name"
        );
        assert_eq!(
            Schema::from_text("table").unwrap_err().message,
            "expected a kind and a quoted name"
        );
    }

    #[test]
    fn diff_display() {
        let a = schema("CREATE TABLE t(a INT, tmp INT)");
        let b = schema("CREATE TABLE t(a INT); CREATE INDEX i ON t(a)");
        assert_eq!(
            a.diff(&b).to_string(),
            "missing: index \"i\" on \"t\"(\"a\")\nunexpected: column \"t\".\"tmp\" pos=1 type=\"INT\" pk=0"
        );
    }

    #[test]
    fn hash_sum_is_order_independent_and_reversible() {
        let hs: Vec<Checksum> = (0..5u8).map(|i| checksum::sha256(&[i])).collect();
        let mut a = HashSum::default();
        let mut b = HashSum::default();
        for h in &hs {
            a.add(h);
        }
        for h in hs.iter().rev() {
            b.add(h);
        }
        assert_eq!(a.finish(), b.finish());
        b.remove(&hs[2]);
        assert_ne!(a.finish(), b.finish());
        b.add(&hs[2]);
        assert_eq!(a, b);
        for h in &hs {
            b.remove(h);
        }
        assert_eq!(b, HashSum::default());
        // Carries: ff…ff + 1 wraps to zero.
        let mut c = HashSum::default();
        c.add(&Checksum([0xff; 32]));
        let mut one = [0u8; 32];
        one[31] = 1;
        c.add(&Checksum(one));
        assert_eq!(c.sum, [0u8; 32]);
        assert_eq!(Schema::default().hash(), HashSum::default().finish());
    }

    #[test]
    fn normalization() {
        assert_eq!(
            normalize_sql("SELECT  a,b FROM \"T\" -- x\n WHERE c>=1e+5"),
            "select a, b from t where c >= 1e+5"
        );
        assert_eq!(normalize_sql("f( x )"), "f(x)");
        assert_eq!(normalize_sql("\"a b\" . [C]"), "\"a b\".c");
        assert_eq!(normalize_sql("x'AB' || 'It''s'"), "x 'AB' || 'It''s'");
        for s in ["'unterminated", "\"x", "[x", "/* x", "é", "((", "))"] {
            let _ = normalize_sql(s);
        }
    }
}
