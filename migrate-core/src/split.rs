//! Splits a script into statements the way SQLite's `sqlite3_complete` sees them, so errors can name the line of
//! the statement that failed and "only comments" can be told apart from SQL without a database.
//!
//! It reads the script through [`crate::lex`], so quotes and comments hide semicolons exactly as SQLite sees them,
//! and it knows `CREATE [TEMP] TRIGGER … BEGIN … END;`, whose body contains semicolons that do not end the statement
//! (the trigger's `END` is the one that follows a `;` of its body, never a `CASE … END`).

use crate::lex::{self, Keyword, Token};

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

impl Statement<'_> {
    /// The statement's first keyword (`None` when it starts with something else, e.g. a parenthesis).
    ///
    /// ```
    /// use litemigrate_core::{lex::Keyword, split::statements};
    /// assert_eq!(statements("/* x */ pragma user_version = 3;")[0].keyword(), Some(Keyword::Pragma));
    /// ```
    pub fn keyword(&self) -> Option<Keyword> {
        lex::significant(self.sql).next().and_then(|t| t.keyword())
    }

    /// Whether running the statement could end, or change the nesting of, the transaction it runs in: it starts with
    /// `BEGIN`, `COMMIT`, `END`, `ROLLBACK`, `SAVEPOINT` or `RELEASE`. The runner guards a step with a savepoint only
    /// when one of its statements may (a trigger's body starts with `CREATE`, so its `END` never counts).
    ///
    /// ```
    /// use litemigrate_core::split::statements;
    /// let s = statements("CREATE TABLE t(x); COMMIT; INSERT INTO t VALUES ('BEGIN');");
    /// assert_eq!(s.iter().map(|s| s.controls_transaction()).collect::<Vec<_>>(), [false, true, false]);
    /// ```
    pub fn controls_transaction(&self) -> bool {
        matches!(
            self.keyword(),
            Some(
                Keyword::Begin
                    | Keyword::Commit
                    | Keyword::End
                    | Keyword::Rollback
                    | Keyword::Savepoint
                    | Keyword::Release
            )
        )
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tok {
    Semi,
    Other,
    Explain,
    Create,
    Temp,
    Trigger,
    Case,
    End,
}

impl Tok {
    fn of(t: &Token<'_>) -> Tok {
        if t.is_op(";") {
            return Tok::Semi;
        }
        match t.keyword() {
            Some(Keyword::Explain) => Tok::Explain,
            Some(Keyword::Create) => Tok::Create,
            Some(Keyword::Temp | Keyword::Temporary) => Tok::Temp,
            Some(Keyword::Trigger) => Tok::Trigger,
            Some(Keyword::Case) => Tok::Case,
            Some(Keyword::End) => Tok::End,
            _ => Tok::Other,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    /// Between statements: nothing but whitespace and comments since the last `;`.
    Idle,
    Normal,
    Explain,
    Create,
    /// Inside a trigger definition, with the depth of `CASE … END` expressions open at this point.
    Trigger(u32),
    /// Just after a `;` inside a trigger body.
    TriggerSemi,
    /// `END` right after a `;` inside a trigger body: the next `;` ends the statement.
    TriggerEnd,
}

fn step(state: State, tok: Tok) -> State {
    use State::*;
    match (state, tok) {
        (Idle | Normal | Explain | Create | TriggerEnd, Tok::Semi) => Idle,
        (Idle, Tok::Explain) => Explain,
        (Idle | Explain, Tok::Create) => Create,
        (Explain, Tok::Other) => Explain,
        (Create, Tok::Temp) => Create,
        (Create, Tok::Trigger) => Trigger(0),
        (Idle | Normal | Explain | Create, _) => Normal,
        (Trigger(_) | TriggerSemi, Tok::Semi) => TriggerSemi,
        // The trigger's own END follows a `;` of its body; a CASE's END never does.
        (TriggerSemi, Tok::End) => TriggerEnd,
        (Trigger(depth), Tok::Case) => Trigger(depth + 1),
        (TriggerSemi | TriggerEnd, Tok::Case) => Trigger(1),
        (Trigger(depth), Tok::End) => Trigger(depth.saturating_sub(1)),
        (Trigger(depth), _) => Trigger(depth),
        (TriggerSemi | TriggerEnd, _) => Trigger(0),
    }
}

/// Splits `script` into statements. Text after the last `;` that is not only whitespace or comments is returned as a
/// final statement without a `;`, up to its last token (trailing comments are not part of it).
///
/// ```
/// use litemigrate_core::split::statements;
/// let s = statements("-- header\nCREATE TABLE a(x);\n\nCREATE TRIGGER t AFTER INSERT ON a BEGIN\n  SELECT 1;\nEND;\n");
/// assert_eq!(s.len(), 2);
/// assert_eq!((s[0].line, s[1].line), (2, 4));
/// assert!(s[1].sql.ends_with("END;"));
/// ```
pub fn statements(script: &str) -> Vec<Statement<'_>> {
    let mut out = Vec::new();
    walk(script, |event| {
        if let Event::End(st) = event {
            out.push(st);
        }
    });
    out
}

/// [`statements`], each with its significant tokens (no whitespace, comments or `;`), read in the same single pass
/// over the script.
///
/// ```
/// use litemigrate_core::split::statements_with_tokens;
/// let s = statements_with_tokens("BEGIN; -- x\nSELECT 'a;b';");
/// assert_eq!(s.len(), 2);
/// assert_eq!(s[1].1.iter().map(|t| t.text).collect::<Vec<_>>(), ["SELECT", "'a;b'"]);
/// ```
pub fn statements_with_tokens(script: &str) -> Vec<(Statement<'_>, Vec<Token<'_>>)> {
    let mut out = Vec::new();
    let mut current = Vec::new();
    walk(script, |event| match event {
        Event::Token(t) => current.push(t),
        Event::End(st) => out.push((st, std::mem::take(&mut current))),
    });
    out
}

enum Event<'a> {
    /// A significant token other than `;`, of the statement being read.
    Token(Token<'a>),
    /// A statement ended (after its tokens).
    End(Statement<'a>),
}

fn walk<'a>(script: &'a str, mut on: impl FnMut(Event<'a>)) {
    let mut state = State::Idle;
    let mut start: Option<(usize, usize)> = None;
    // End of the last significant token: a statement without a `;` ends there, not at trailing comments.
    let mut last_end = 0;
    for t in lex::tokens(script) {
        if t.is_trivia() {
            continue;
        }
        last_end = t.offset + t.text.len();
        let tok = Tok::of(&t);
        // A lone `;` between statements is an empty statement, which SQLite skips too.
        if start.is_none() && !(tok == Tok::Semi && state == State::Idle) {
            start = Some((t.offset, t.line));
        }
        state = step(state, tok);
        if tok != Tok::Semi {
            on(Event::Token(t));
        } else if state == State::Idle
            && let Some((s, line)) = start.take()
        {
            on(Event::End(Statement {
                sql: &script[s..t.offset + t.text.len()],
                line,
                offset: s,
            }));
        }
    }
    if let Some((s, line)) = start {
        on(Event::End(Statement {
            sql: &script[s..last_end],
            line,
            offset: s,
        }));
    }
}

/// Whether a script holds at least one statement (not just whitespace, comments and empty `;`). Stops at the
/// first such token, so the loader's "empty file" rule costs nothing on real files.
pub fn has_statements(script: &str) -> bool {
    lex::significant(script).any(|t| !t.is_op(";"))
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
        assert_eq!(
            sqls(
                "CREATE TRIGGER c AFTER INSERT ON t BEGIN SELECT CASE WHEN 1 THEN (CASE 2 WHEN 2 THEN 3 END) END;\n END; SELECT 2;"
            ),
            [
                "CREATE TRIGGER c AFTER INSERT ON t BEGIN SELECT CASE WHEN 1 THEN (CASE 2 WHEN 2 THEN 3 END) END;\n END;",
                "SELECT 2;"
            ]
        );
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
