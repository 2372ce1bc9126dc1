//! The one SQL lexer of the crates. Statement splitting ([`crate::split`]), normalization
//! ([`crate::schema::normalize_sql`]), the table-rebuild header ([`crate::rebuild`]), FTS5 declarations
//! ([`crate::fts5`]) and identifier scanning ([`crate::sql::ident_tokens`]) all read SQL through it, so they agree on
//! what a word, a quote and a comment are.
//!
//! It follows SQLite's own tokenizer (`tokenize.c`): bare words may hold `$` and any byte ≥ 0x80, identifiers are
//! quoted four ways (`"x"`, `[x]`, `` `x` `` and bare), strings escape `'` by doubling it, `X'…'` is a blob, `?NNN`,
//! `:name`, `@name` and `$name` are parameters. Every byte of the input lands in exactly one token, so concatenating
//! the tokens gives the input back. Input that SQLite would reject does not disappear: an unterminated quote or block
//! comment is a token with [`Token::terminated`] `false` that runs to the end, a NUL byte is a [`TokenKind::Nul`]
//! token (SQLite's `prepare` would stop reading there), and a byte SQLite does not accept is
//! [`TokenKind::Unknown`]. Callers decide what to do with them; none of them is ever silently dropped.
//!
//! ```
//! use litemigrate_core::lex::{tokens, Keyword, TokenKind};
//! let toks: Vec<_> = tokens("SELECT \"a b\" -- why\nFROM t;").collect();
//! assert_eq!(toks[0].keyword(), Some(Keyword::Select));
//! assert_eq!(toks[2].ident().as_deref(), Some("a b"));
//! assert_eq!(toks[4].kind, TokenKind::LineComment);
//! assert_eq!((toks[6].line, toks[6].column), (2, 1));
//! assert_eq!(toks.iter().map(|t| t.text).collect::<String>(), "SELECT \"a b\" -- why\nFROM t;");
//! ```

use std::borrow::Cow;

/// How an identifier is quoted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Quote {
    /// `"x"`, with `""` for a `"` inside.
    Double,
    /// `[x]` (no escape: the first `]` ends it).
    Bracket,
    /// `` `x` ``, with ``` `` ``` for a `` ` `` inside.
    Backtick,
}

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// Spaces, tabs, newlines, form feeds, vertical tabs and carriage returns.
    Whitespace,
    /// `-- …` up to (not including) the newline.
    LineComment,
    /// `/* … */`; unterminated ones run to the end of the input.
    BlockComment,
    /// A bare word: a keyword ([`Token::keyword`]) or an unquoted identifier. SQLite lets most keywords stand as
    /// names, so which one it is depends on where it stands.
    Word,
    /// A quoted identifier.
    Quoted(Quote),
    /// A string literal `'…'`.
    String,
    /// A blob literal `X'…'`.
    Blob,
    /// A numeric literal (integer, real, hex; SQLite's `_` digit separators included).
    Number,
    /// A bound parameter: `?`, `?NNN`, `:name`, `@name`, `$name`.
    Parameter,
    /// An operator or punctuation: `;` `,` `(` `)` `.` `||` `->>` `<=` …
    Operator,
    /// A NUL byte. SQLite stops reading a statement at one, so SQL after it would never run.
    Nul,
    /// A byte SQLite's tokenizer rejects (`#`, `^`, `{`, a control character, …).
    Unknown,
}

/// One token: its kind, its text (a slice of the input) and where it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token<'a> {
    /// What it is.
    pub kind: TokenKind,
    /// Its text, exactly as in the input (quotes and comment markers included).
    pub text: &'a str,
    /// Byte offset of its first byte in the input.
    pub offset: usize,
    /// 1-based line of its first byte.
    pub line: usize,
    /// 1-based column (in characters) of its first character.
    pub column: usize,
    /// `false` for a quote, string, blob or block comment that the input ends inside of.
    pub terminated: bool,
}

impl<'a> Token<'a> {
    /// Whitespace or a comment: what separates tokens and means nothing to SQLite.
    pub fn is_trivia(&self) -> bool {
        matches!(
            self.kind,
            TokenKind::Whitespace | TokenKind::LineComment | TokenKind::BlockComment
        )
    }

    /// The keyword a bare word spells, ASCII case-insensitively (`None` for anything else).
    pub fn keyword(&self) -> Option<Keyword> {
        match self.kind {
            TokenKind::Word => Keyword::from_word(self.text),
            _ => None,
        }
    }

    /// Whether this is the bare word `kw`.
    pub fn is_keyword(&self, kw: Keyword) -> bool {
        self.keyword() == Some(kw)
    }

    /// Whether this is a bare word equal to `word`, ASCII case-insensitively (for words that are not SQLite
    /// keywords, such as `STRICT`, `ROWID` or an FTS5 option name).
    pub fn is_word(&self, word: &str) -> bool {
        self.kind == TokenKind::Word && self.text.eq_ignore_ascii_case(word)
    }

    /// Whether this is the operator `op`.
    pub fn is_op(&self, op: &str) -> bool {
        self.kind == TokenKind::Operator && self.text == op
    }

    /// The identifier this token names: a bare word as written, a quoted identifier unquoted and unescaped.
    /// `None` for every other kind.
    pub fn ident(&self) -> Option<Cow<'a, str>> {
        match self.kind {
            TokenKind::Word => Some(Cow::Borrowed(self.text)),
            TokenKind::Quoted(q) => Some(self.unquoted_body(match q {
                Quote::Double => Some('"'),
                Quote::Backtick => Some('`'),
                Quote::Bracket => None,
            })),
            _ => None,
        }
    }

    /// The value of a string literal, unquoted and unescaped (`None` for other kinds).
    pub fn string_value(&self) -> Option<Cow<'a, str>> {
        (self.kind == TokenKind::String).then(|| self.unquoted_body(Some('\'')))
    }

    /// [`Token::ident`] or [`Token::string_value`]: the name a token spells where SQLite (or a module such as FTS5)
    /// accepts any quoting.
    pub fn name(&self) -> Option<Cow<'a, str>> {
        self.ident().or_else(|| self.string_value())
    }

    /// The text between the quotes, with doubled `escape` characters undone.
    fn unquoted_body(&self, escape: Option<char>) -> Cow<'a, str> {
        // The opening quote is one ASCII byte; the closing one too when the token is terminated.
        let body = &self.text[1..];
        let body = if self.terminated { &body[..body.len() - 1] } else { body };
        match escape {
            Some(q) if body.contains(q) => {
                let doubled: String = [q, q].iter().collect();
                Cow::Owned(body.replace(&doubled, q.encode_utf8(&mut [0; 4])))
            }
            _ => Cow::Borrowed(body),
        }
    }
}

/// The tokens of `sql`, trivia included, in order. Concatenating their texts gives `sql` back.
pub fn tokens(sql: &str) -> Tokens<'_> {
    Tokens {
        sql,
        pos: 0,
        line: 1,
        column: 1,
    }
}

/// The tokens of `sql` that are not whitespace or comments.
///
/// ```
/// use litemigrate_core::lex::significant;
/// let words: Vec<&str> = significant("a /* b */ c -- d").map(|t| t.text).collect();
/// assert_eq!(words, ["a", "c"]);
/// ```
pub fn significant(sql: &str) -> impl Iterator<Item = Token<'_>> {
    tokens(sql).filter(|t| !t.is_trivia())
}

/// The iterator [`tokens`] returns.
#[derive(Debug, Clone)]
pub struct Tokens<'a> {
    sql: &'a str,
    pos: usize,
    line: usize,
    column: usize,
}

impl<'a> Iterator for Tokens<'a> {
    type Item = Token<'a>;

    fn next(&mut self) -> Option<Token<'a>> {
        let rest = &self.sql.as_bytes()[self.pos..];
        let &first = rest.first()?;
        let (kind, len, terminated) = scan(rest, first);
        // Every token ends on an ASCII byte or at the end of the input, or consists only of bytes ≥ 0x80 (whole
        // UTF-8 sequences), so `len` is on a char boundary; `max(1)` guarantees progress.
        let end = (self.pos + len.max(1)).min(self.sql.len());
        let end = (end..=self.sql.len())
            .find(|e| self.sql.is_char_boundary(*e))
            .unwrap_or(self.sql.len());
        let text = &self.sql[self.pos..end];
        let token = Token {
            kind,
            text,
            offset: self.pos,
            line: self.line,
            column: self.column,
            terminated,
        };
        // `rfind` and `chars().count()` are std's optimized routines: this runs inside the proc macro, which is
        // built without optimizations, once per token of every migration file.
        match text.rfind('\n') {
            None => self.column += text.chars().count(),
            Some(last) => {
                self.line += text.matches('\n').count();
                self.column = 1 + text[last + 1..].chars().count();
            }
        }
        self.pos = end;
        Some(token)
    }
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0b' | b'\x0c')
}

/// Bytes that may continue a bare word (SQLite's `IdChar`).
fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

/// Kind, length and whether it is terminated, of the token at the start of `rest` (`first == rest[0]`).
fn scan(rest: &[u8], first: u8) -> (TokenKind, usize, bool) {
    let next = rest.get(1).copied();
    match first {
        _ if is_space(first) => (
            TokenKind::Whitespace,
            rest.iter().take_while(|b| is_space(**b)).count(),
            true,
        ),
        b'-' if next == Some(b'-') => (
            TokenKind::LineComment,
            rest.iter().position(|b| *b == b'\n').unwrap_or(rest.len()),
            true,
        ),
        b'/' if next == Some(b'*') => match rest[2..].windows(2).position(|w| w == b"*/") {
            Some(n) => (TokenKind::BlockComment, n + 4, true),
            None => (TokenKind::BlockComment, rest.len(), false),
        },
        b'\'' => quoted(rest, b'\'', TokenKind::String),
        b'"' => quoted(rest, b'"', TokenKind::Quoted(Quote::Double)),
        b'`' => quoted(rest, b'`', TokenKind::Quoted(Quote::Backtick)),
        b'[' => match rest.iter().position(|b| *b == b']') {
            Some(n) => (TokenKind::Quoted(Quote::Bracket), n + 1, true),
            None => (TokenKind::Quoted(Quote::Bracket), rest.len(), false),
        },
        b'x' | b'X' if next == Some(b'\'') => {
            let (_, len, terminated) = quoted(&rest[1..], b'\'', TokenKind::Blob);
            (TokenKind::Blob, len + 1, terminated)
        }
        b'0'..=b'9' => (TokenKind::Number, number_len(rest), true),
        b'.' if next.is_some_and(|b| b.is_ascii_digit()) => (TokenKind::Number, number_len(rest), true),
        b'?' => (
            TokenKind::Parameter,
            1 + rest[1..].iter().take_while(|b| b.is_ascii_digit()).count(),
            true,
        ),
        b':' | b'@' | b'$' if next.is_some_and(is_word_byte) => (
            TokenKind::Parameter,
            1 + rest[1..].iter().take_while(|b| is_word_byte(**b)).count(),
            true,
        ),
        // `$` continues a word but does not start one (it starts a parameter).
        _ if is_word_byte(first) && first != b'$' => (
            TokenKind::Word,
            rest.iter().take_while(|b| is_word_byte(**b)).count(),
            true,
        ),
        0 => (TokenKind::Nul, 1, true),
        _ => match operator_len(rest) {
            0 => (TokenKind::Unknown, 1, true),
            n => (TokenKind::Operator, n, true),
        },
    }
}

/// A token opened by `quote` at `rest[0]`; a doubled `quote` inside is an escaped one.
fn quoted(rest: &[u8], quote: u8, kind: TokenKind) -> (TokenKind, usize, bool) {
    let mut j = 1;
    while j < rest.len() {
        if rest[j] == quote {
            if rest.get(j + 1) == Some(&quote) {
                j += 2;
                continue;
            }
            return (kind, j + 1, true);
        }
        j += 1;
    }
    (kind, rest.len(), false)
}

/// Length of a numeric literal. Like SQLite's tokenizer it swallows trailing word bytes (`12abc` is one, invalid,
/// token), so a number never runs into a following word.
fn number_len(bytes: &[u8]) -> usize {
    let hex = bytes.len() > 2 && bytes[0] == b'0' && matches!(bytes[1], b'x' | b'X');
    let mut j = 0;
    while j < bytes.len() {
        let c = bytes[j];
        if is_word_byte(c) || c == b'.' {
            j += 1;
            if !hex
                && matches!(c, b'e' | b'E')
                && matches!(bytes.get(j), Some(b'+' | b'-'))
                && bytes.get(j + 1).is_some_and(u8::is_ascii_digit)
            {
                j += 1;
            }
        } else {
            break;
        }
    }
    j
}

fn operator_len(rest: &[u8]) -> usize {
    const LONG: [&[u8]; 10] = [b"->>", b"||", b"<=", b">=", b"==", b"!=", b"<>", b"<<", b">>", b"->"];
    if let Some(op) = LONG.iter().find(|op| rest.starts_with(op)) {
        return op.len();
    }
    match rest[0] {
        b';' | b',' | b'(' | b')' | b'.' | b'+' | b'-' | b'*' | b'/' | b'%' | b'&' | b'|' | b'~' | b'<' | b'>'
        | b'=' | b'!' => 1,
        _ => 0,
    }
}

macro_rules! keywords {
    ($($variant:ident = $text:literal,)*) => {
        /// SQLite's keywords (<https://sqlite.org/lang_keywords.html>).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[allow(missing_docs)]
        pub enum Keyword {
            $($variant,)*
        }

        impl Keyword {
            /// Every keyword, sorted by [`Keyword::as_str`] (byte order).
            pub const ALL: &'static [Keyword] = &[$(Keyword::$variant,)*];

            /// The keyword in upper case.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Keyword::$variant => $text,)*
                }
            }

            /// The keyword `word` spells, ASCII case-insensitively.
            ///
            /// ```
            /// use litemigrate_core::lex::Keyword;
            /// assert_eq!(Keyword::from_word("Trigger"), Some(Keyword::Trigger));
            /// assert_eq!(Keyword::from_word("strict"), None);
            /// ```
            pub fn from_word(word: &str) -> Option<Keyword> {
                let mut buf = [0u8; 17];
                let upper = buf.get_mut(..word.len())?;
                for (u, b) in upper.iter_mut().zip(word.bytes()) {
                    *u = b.to_ascii_uppercase();
                }
                // A binary search over the sorted list: this runs for every word of every migration inside the
                // unoptimized proc macro, where a 147-arm string match is a linear scan.
                Keyword::ALL
                    .binary_search_by(|k| k.as_str().as_bytes().cmp(upper))
                    .ok()
                    .map(|i| Keyword::ALL[i])
            }
        }
    };
}

keywords! {
    Abort = "ABORT", Action = "ACTION", Add = "ADD", After = "AFTER", All = "ALL", Alter = "ALTER", Always = "ALWAYS",
    Analyze = "ANALYZE", And = "AND", As = "AS", Asc = "ASC", Attach = "ATTACH", Autoincrement = "AUTOINCREMENT",
    Before = "BEFORE", Begin = "BEGIN", Between = "BETWEEN", By = "BY", Cascade = "CASCADE", Case = "CASE",
    Cast = "CAST", Check = "CHECK", Collate = "COLLATE", Column = "COLUMN", Commit = "COMMIT", Conflict = "CONFLICT",
    Constraint = "CONSTRAINT", Create = "CREATE", Cross = "CROSS", Current = "CURRENT", CurrentDate = "CURRENT_DATE",
    CurrentTime = "CURRENT_TIME", CurrentTimestamp = "CURRENT_TIMESTAMP", Database = "DATABASE", Default = "DEFAULT",
    Deferrable = "DEFERRABLE", Deferred = "DEFERRED", Delete = "DELETE", Desc = "DESC", Detach = "DETACH",
    Distinct = "DISTINCT", Do = "DO", Drop = "DROP", Each = "EACH", Else = "ELSE", End = "END", Escape = "ESCAPE",
    Except = "EXCEPT", Exclude = "EXCLUDE", Exclusive = "EXCLUSIVE", Exists = "EXISTS", Explain = "EXPLAIN",
    Fail = "FAIL", Filter = "FILTER", First = "FIRST", Following = "FOLLOWING", For = "FOR", Foreign = "FOREIGN",
    From = "FROM", Full = "FULL", Generated = "GENERATED", Glob = "GLOB", Group = "GROUP", Groups = "GROUPS",
    Having = "HAVING", If = "IF", Ignore = "IGNORE", Immediate = "IMMEDIATE", In = "IN", Index = "INDEX",
    Indexed = "INDEXED", Initially = "INITIALLY", Inner = "INNER", Insert = "INSERT", Instead = "INSTEAD",
    Intersect = "INTERSECT", Into = "INTO", Is = "IS", Isnull = "ISNULL", Join = "JOIN", Key = "KEY", Last = "LAST",
    Left = "LEFT", Like = "LIKE", Limit = "LIMIT", Match = "MATCH", Materialized = "MATERIALIZED",
    Natural = "NATURAL", No = "NO", Not = "NOT", Nothing = "NOTHING", Notnull = "NOTNULL", Null = "NULL",
    Nulls = "NULLS", Of = "OF", Offset = "OFFSET", On = "ON", Or = "OR", Order = "ORDER", Others = "OTHERS",
    Outer = "OUTER", Over = "OVER", Partition = "PARTITION", Plan = "PLAN", Pragma = "PRAGMA",
    Preceding = "PRECEDING", Primary = "PRIMARY", Query = "QUERY", Raise = "RAISE", Range = "RANGE",
    Recursive = "RECURSIVE", References = "REFERENCES", Regexp = "REGEXP", Reindex = "REINDEX", Release = "RELEASE",
    Rename = "RENAME", Replace = "REPLACE", Restrict = "RESTRICT", Returning = "RETURNING", Right = "RIGHT",
    Rollback = "ROLLBACK", Row = "ROW", Rows = "ROWS", Savepoint = "SAVEPOINT", Select = "SELECT", Set = "SET",
    Table = "TABLE", Temp = "TEMP", Temporary = "TEMPORARY", Then = "THEN", Ties = "TIES", To = "TO",
    Transaction = "TRANSACTION", Trigger = "TRIGGER", Unbounded = "UNBOUNDED", Union = "UNION", Unique = "UNIQUE",
    Update = "UPDATE", Using = "USING", Vacuum = "VACUUM", Values = "VALUES", View = "VIEW", Virtual = "VIRTUAL",
    When = "WHEN", Where = "WHERE", Window = "WINDOW", With = "WITH", Without = "WITHOUT",
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(sql: &str) -> Vec<(TokenKind, &str)> {
        tokens(sql).map(|t| (t.kind, t.text)).collect()
    }

    #[test]
    fn every_kind() {
        use TokenKind::*;
        assert_eq!(
            kinds("a\"b\"\"c\"[d]`e``f`'g''h'x'0A'1.5e-3 0x1F ?1 :p @q $r;->>-- c\n/* d */#\0"),
            [
                (Word, "a"),
                (Quoted(Quote::Double), "\"b\"\"c\""),
                (Quoted(Quote::Bracket), "[d]"),
                (Quoted(Quote::Backtick), "`e``f`"),
                (String, "'g''h'"),
                (Blob, "x'0A'"),
                (Number, "1.5e-3"),
                (Whitespace, " "),
                (Number, "0x1F"),
                (Whitespace, " "),
                (Parameter, "?1"),
                (Whitespace, " "),
                (Parameter, ":p"),
                (Whitespace, " "),
                (Parameter, "@q"),
                (Whitespace, " "),
                (Parameter, "$r"),
                (Operator, ";"),
                (Operator, "->>"),
                (LineComment, "-- c"),
                (Whitespace, "\n"),
                (BlockComment, "/* d */"),
                (Unknown, "#"),
                (Nul, "\0"),
            ]
        );
    }

    #[test]
    fn identifiers_unquote() {
        let names: Vec<_> = significant("\"a\"\"b\" [c\"d] `e``f` g$1 'h''i'")
            .map(|t| t.name().map(Cow::into_owned))
            .collect();
        assert_eq!(
            names,
            [
                Some("a\"b".into()),
                Some("c\"d".into()),
                Some("e`f".into()),
                Some("g$1".into()),
                Some("h'i".into())
            ]
        );
        assert_eq!(significant("'s'").next().and_then(|t| t.ident()), None);
    }

    #[test]
    fn unterminated_tokens_run_to_the_end_and_say_so() {
        for (sql, kind) in [
            ("'abc", TokenKind::String),
            ("\"ab", TokenKind::Quoted(Quote::Double)),
            ("[ab", TokenKind::Quoted(Quote::Bracket)),
            ("`ab", TokenKind::Quoted(Quote::Backtick)),
            ("/* ab *", TokenKind::BlockComment),
            ("X'ab", TokenKind::Blob),
        ] {
            let toks: Vec<_> = tokens(sql).collect();
            assert_eq!(toks.len(), 1, "{sql}");
            assert_eq!((toks[0].kind, toks[0].text, toks[0].terminated), (kind, sql, false));
        }
        assert_eq!(
            significant("'ab").next().and_then(|t| t.string_value()).as_deref(),
            Some("ab")
        );
    }

    #[test]
    fn positions() {
        let toks: Vec<_> = tokens("é x\n  'a\nb' y").collect();
        let at: Vec<_> = toks.iter().map(|t| (t.text, t.offset, t.line, t.column)).collect();
        assert_eq!(
            at,
            [
                ("é", 0, 1, 1),
                (" ", 2, 1, 2),
                ("x", 3, 1, 3),
                ("\n  ", 4, 1, 4),
                ("'a\nb'", 7, 2, 3),
                (" ", 12, 3, 3),
                ("y", 13, 3, 4),
            ]
        );
    }

    #[test]
    fn keywords() {
        assert_eq!(Keyword::ALL.len(), 147);
        assert!(
            Keyword::ALL.windows(2).all(|w| w[0].as_str() < w[1].as_str()),
            "sorted, for from_word's binary search"
        );
        for kw in Keyword::ALL {
            assert_eq!(Keyword::from_word(kw.as_str()), Some(*kw));
            assert_eq!(Keyword::from_word(&kw.as_str().to_ascii_lowercase()), Some(*kw));
        }
        assert_eq!(Keyword::from_word("current_timestampx"), None);
        assert_eq!(Keyword::from_word(""), None);
        // A quoted keyword is an identifier.
        assert_eq!(significant("\"end\"").next().and_then(|t| t.keyword()), None);
    }

    #[test]
    fn numbers_and_words_do_not_run_together() {
        use TokenKind::*;
        assert_eq!(kinds("1e+5x"), [(Number, "1e+5x")]);
        assert_eq!(kinds("0xE+1"), [(Number, "0xE"), (Operator, "+"), (Number, "1")]);
        assert_eq!(kinds(".5"), [(Number, ".5")]);
        assert_eq!(kinds("a.b"), [(Word, "a"), (Operator, "."), (Word, "b")]);
        assert_eq!(kinds("x1"), [(Word, "x1")]);
        assert_eq!(kinds("X"), [(Word, "X")]);
        assert_eq!(kinds("?"), [(Parameter, "?")]);
        assert_eq!(kinds(":"), [(Unknown, ":")]);
        assert_eq!(kinds("$"), [(Unknown, "$")]);
        assert_eq!(kinds("a$"), [(Word, "a$")]);
    }
}
