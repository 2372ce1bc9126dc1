//! Splits a script into statements the way SQLite's `sqlite3_complete` sees them, so errors can name the line of
//! the statement that failed and "only comments" can be told apart from SQL without a database.
//!
//! The lexer understands quoted strings and identifiers (`'…'`, `"…"`, `` `…` ``, `[…]`), both comment styles, and
//! `CREATE [TEMP] TRIGGER … BEGIN … END;`, whose body contains semicolons that do not end the statement.

/// One statement of a script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Statement<'a> {
    /// The statement text from its first token up to and including its `;` (if it has one).
    pub sql: &'a str,
    /// 1-based line of the statement's first token.
    pub line: usize,
    /// Byte offset of the statement's first token in the script.
    pub offset: usize,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tok {
    Semi,
    Ws,
    Other,
    Explain,
    Create,
    Temp,
    Trigger,
    End,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    /// Between statements: nothing but whitespace and comments since the last `;`.
    Idle,
    Normal,
    Explain,
    Create,
    /// Inside a trigger definition.
    Trigger,
    /// Just after a `;` inside a trigger body.
    TriggerSemi,
    /// `END` right after a `;` inside a trigger body.
    TriggerEnd,
}

fn step(state: State, tok: Tok) -> State {
    use State::*;
    match (state, tok) {
        (_, Tok::Ws) => state,
        (Idle | Normal | Explain | Create | TriggerEnd, Tok::Semi) => Idle,
        (Idle, Tok::Explain) => Explain,
        (Idle | Explain, Tok::Create) => Create,
        (Explain, Tok::Other) => Explain,
        (Create, Tok::Temp) => Create,
        (Create, Tok::Trigger) => Trigger,
        (Idle | Normal | Explain | Create, _) => Normal,
        (Trigger | TriggerSemi, Tok::Semi) => TriggerSemi,
        (TriggerSemi, Tok::End) => TriggerEnd,
        (Trigger | TriggerSemi | TriggerEnd, _) => Trigger,
    }
}

/// Splits `script` into statements. Text after the last `;` that is not only whitespace or comments is returned as a
/// final statement without a `;`.
///
/// ```
/// use migrate_core::split::statements;
/// let s = statements("-- header\nCREATE TABLE a(x);\n\nCREATE TRIGGER t AFTER INSERT ON a BEGIN\n  SELECT 1;\nEND;\n");
/// assert_eq!(s.len(), 2);
/// assert_eq!((s[0].line, s[1].line), (2, 4));
/// assert!(s[1].sql.ends_with("END;"));
/// ```
pub fn statements(script: &str) -> Vec<Statement<'_>> {
    let bytes = script.as_bytes();
    let mut out = Vec::new();
    let mut state = State::Idle;
    let mut start: Option<usize> = None;
    let mut line = 1usize;
    let mut start_line = 1usize;
    let mut i = 0usize;
    while i < bytes.len() {
        let b = bytes[i];
        let (tok, len) = match b {
            b';' => (Tok::Semi, 1),
            b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' => (Tok::Ws, 1),
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                let end = script[i..].find('\n').map_or(bytes.len(), |n| i + n);
                (Tok::Ws, end - i)
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                let end = script[i + 2..].find("*/").map_or(bytes.len(), |n| i + 2 + n + 2);
                (Tok::Ws, end - i)
            }
            b'\'' | b'"' | b'`' => (Tok::Other, quoted_len(&bytes[i..], b)),
            b'[' => {
                let end = script[i..].find(']').map_or(bytes.len(), |n| i + n + 1);
                (Tok::Other, end - i)
            }
            _ if b.is_ascii_alphabetic() || b == b'_' || b >= 0x80 => {
                let len = bytes[i..]
                    .iter()
                    .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_' || **c == b'$' || **c >= 0x80)
                    .count();
                (keyword(&script[i..i + len]), len)
            }
            _ => (Tok::Other, 1),
        };
        // A lone `;` between statements is an empty statement, which SQLite skips too.
        if tok != Tok::Ws && start.is_none() && !(tok == Tok::Semi && state == State::Idle) {
            start = Some(i);
            start_line = line;
        }
        state = step(state, tok);
        line += bytes[i..i + len].iter().filter(|c| **c == b'\n').count();
        i += len;
        if tok == Tok::Semi
            && state == State::Idle
            && let Some(s) = start.take()
        {
            out.push(Statement {
                sql: &script[s..i],
                line: start_line,
                offset: s,
            });
        }
    }
    if let Some(s) = start {
        out.push(Statement {
            sql: script[s..].trim_end(),
            line: start_line,
            offset: s,
        });
    }
    out
}

/// Length of a quoted token starting at `bytes[0] == quote`; a doubled quote is an escaped quote.
fn quoted_len(bytes: &[u8], quote: u8) -> usize {
    let mut j = 1;
    while j < bytes.len() {
        if bytes[j] == quote {
            if bytes.get(j + 1) == Some(&quote) {
                j += 2;
                continue;
            }
            return j + 1;
        }
        j += 1;
    }
    bytes.len()
}

fn keyword(word: &str) -> Tok {
    const KEYWORDS: [(&str, Tok); 6] = [
        ("EXPLAIN", Tok::Explain),
        ("CREATE", Tok::Create),
        ("TEMP", Tok::Temp),
        ("TEMPORARY", Tok::Temp),
        ("TRIGGER", Tok::Trigger),
        ("END", Tok::End),
    ];
    KEYWORDS
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(word))
        .map_or(Tok::Other, |(_, t)| *t)
}

/// Whether a script holds at least one statement (not just whitespace, comments and empty `;`). Stops at the
/// first token, so the loader's "empty file" rule costs nothing on real files.
pub fn has_statements(script: &str) -> bool {
    let mut rest = script;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_ascii_whitespace() || c == ';');
        if let Some(comment) = rest.strip_prefix("--") {
            rest = comment.find('\n').map_or("", |n| &comment[n..]);
        } else if let Some(comment) = rest.strip_prefix("/*") {
            rest = comment.find("*/").map_or("", |n| &comment[n + 2..]);
        } else {
            return !rest.is_empty();
        }
    }
}

/// The 1-based line that byte `offset` of `script` sits on.
pub fn line_of(script: &str, offset: usize) -> usize {
    let end = offset.min(script.len());
    1 + script.as_bytes()[..end].iter().filter(|c| **c == b'\n').count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sqls(s: &str) -> Vec<&str> {
        statements(s).into_iter().map(|s| s.sql).collect()
    }

    #[test]
    fn basic() {
        assert_eq!(sqls("a; b;\nc"), ["a;", "b;", "c"]);
        assert_eq!(sqls(""), Vec::<&str>::new());
        assert_eq!(sqls("  -- only\n/* comments */\n"), Vec::<&str>::new());
        assert_eq!(sqls(";;"), Vec::<&str>::new());
    }

    #[test]
    fn quotes_and_comments_hide_semicolons() {
        assert_eq!(
            sqls("INSERT INTO t VALUES ('a;b', \"c;d\", `e;f`, [g;h]); -- x;y\n/* ; */ SELECT 'it''s;';"),
            [
                "INSERT INTO t VALUES ('a;b', \"c;d\", `e;f`, [g;h]);",
                "SELECT 'it''s;';"
            ]
        );
    }

    #[test]
    fn trigger_bodies() {
        let s = "CREATE TEMP TRIGGER tr AFTER UPDATE ON t BEGIN\n UPDATE u SET x = CASE WHEN 1 THEN 2 END;\n DELETE FROM v;\nEND;\nSELECT 1;";
        let st = statements(s);
        assert_eq!(st.len(), 2);
        assert!(st[0].sql.ends_with("END;"));
        assert_eq!(
            st[1],
            Statement {
                sql: "SELECT 1;",
                line: 5,
                offset: s.find("SELECT 1").unwrap()
            }
        );
        // A table named like a keyword does not confuse it.
        assert_eq!(sqls("CREATE TABLE \"trigger\"(x); CREATE TABLE end_(y);").len(), 2);
        assert_eq!(
            sqls("explain create trigger x after insert on t begin select 1; end; select 2;").len(),
            2
        );
    }

    #[test]
    fn lines() {
        let s = "\n\n-- c\nCREATE TABLE a(\n x\n);\n\n  INSERT INTO a VALUES ('\n');\nSELECT 1;";
        let l: Vec<usize> = statements(s).iter().map(|s| s.line).collect();
        assert_eq!(l, [4, 8, 10]);
        assert_eq!(line_of(s, 0), 1);
        assert_eq!(line_of(s, s.len() + 5), 10);
    }

    #[test]
    fn unterminated_tokens_do_not_panic() {
        for s in ["'abc", "\"x", "[x", "/* x", "-- x", "CREATE TRIGGER t BEGIN x;", "é;ü"] {
            let _ = statements(s);
        }
        for s in ["x", "  ;; -- c\n/* d */ SELECT 1", "/**/x", "--\nx", ";x"] {
            assert!(has_statements(s), "{s:?}");
            assert_eq!(has_statements(s), !statements(s).is_empty(), "{s:?}");
        }
        for s in [
            "",
            " \n\t",
            "-- x",
            "-- x\n",
            "/* x",
            "/* a */ -- b\n ; ;",
            "/* unterminated -- x\ny",
        ] {
            assert!(!has_statements(s), "{s:?}");
            assert_eq!(has_statements(s), !statements(s).is_empty(), "{s:?}");
        }
    }
}
