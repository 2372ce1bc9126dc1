//! Quoting for SQL the crates generate: every identifier and string literal that comes from a user (a migration
//! file, a builder argument) goes through one of these, never into SQL text as written.

use crate::lex;
use std::borrow::Cow;

/// Quotes an identifier for SQLite: wrapped in `"`, with any `"` inside doubled, so no name can end the identifier
/// early and inject SQL.
///
/// ```
/// use litemigrate_core::sql::quote_ident;
/// assert_eq!(quote_ident("users"), "\"users\"");
/// assert_eq!(quote_ident("a\"; DROP TABLE t; --"), "\"a\"\"; DROP TABLE t; --\"");
/// ```
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Quotes a string literal for SQLite: wrapped in `'`, with any `'` inside doubled.
///
/// ```
/// use litemigrate_core::sql::quote_str;
/// assert_eq!(quote_str("it's"), "'it''s'");
/// ```
pub fn quote_str(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// Whether `name` is a plain identifier (`[A-Za-z_][A-Za-z0-9_]*`), safe where SQLite itself pastes a name unquoted.
///
/// ```
/// use litemigrate_core::sql::is_plain_ident;
/// assert!(is_plain_ident("content_id"));
/// assert!(!is_plain_ident("id; DROP TABLE t"));
/// ```
pub fn is_plain_ident(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The identifier-like tokens of an SQL text (bare words and `"…"`, `` `…` ``, `[…]` names, unquoted), skipping
/// string literals and comments. Used to tell whether stored SQL mentions a name.
///
/// ```
/// use litemigrate_core::sql::ident_tokens;
/// assert_eq!(ident_tokens("SELECT \"a b\", [c] FROM t -- d\nWHERE x = 'e'"), ["SELECT", "a b", "c", "FROM", "t", "WHERE", "x"]);
/// ```
pub fn ident_tokens(sql: &str) -> Vec<String> {
    lex::significant(sql)
        .filter_map(|t| t.ident().map(Cow::into_owned))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens() {
        assert_eq!(ident_tokens("a.b"), ["a", "b"]);
        assert_eq!(ident_tokens("\"x\"\"y\" 'p''q' `z`"), ["x\"y", "z"]);
        assert_eq!(ident_tokens("/* hidden */ shown /* unterminated"), ["shown"]);
        assert_eq!(ident_tokens("12 x1 é"), ["x1", "é"]);
        for s in ["'open", "\"open", "[open", "-", "/"] {
            let _ = ident_tokens(s);
        }
    }

    #[test]
    fn plain() {
        assert!(is_plain_ident("_a1"));
        assert!(!is_plain_ident(""));
        assert!(!is_plain_ident("1a"));
        assert!(!is_plain_ident("a-b"));
        assert!(!is_plain_ident("a\"b"));
    }
}
