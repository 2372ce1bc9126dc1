//! SQL normalization for structural comparison: the text of indexes, triggers, views, defaults and CHECK
//! constraints compared without the differences SQLite's own rewriting introduces (comments, whitespace,
//! identifier quoting, ASCII case). Reads SQL through [`crate::lex`] only.

// The list helpers serve the structural schema (feature `sqlite`) today; they need no SQLite themselves.
#![cfg_attr(not(feature = "sqlite"), allow(dead_code))]

use crate::lex::{self, Token, TokenKind};
use crate::sql::quote_ident;

/// The canonical text of a token: identifiers and keywords lower-cased ASCII, unquoted when they are plain words;
/// numbers lower-cased; everything else (strings, blobs, operators) as written.
pub(crate) fn canonical(t: &Token<'_>) -> String {
    match t.kind {
        TokenKind::Word => canonical_ident(t.text),
        TokenKind::Quoted(_) => canonical_ident(&t.ident().unwrap_or_default()),
        TokenKind::Number => t.text.to_ascii_lowercase(),
        // `x 'AB'`: the form earlier versions of this crate wrote (a word and a string), kept so that schema hashes
        // and schema text do not change between versions.
        TokenKind::Blob => format!("x {}", &t.text[1..]),
        _ => t.text.to_owned(),
    }
}

/// The significant tokens of `sql` (no whitespace, no comments).
pub(crate) fn tokens(sql: &str) -> Vec<Token<'_>> {
    lex::significant(sql).collect()
}

/// An identifier in canonical form: ASCII lower case; bare when it is a plain word, else double-quoted.
pub(crate) fn canonical_ident(name: &str) -> String {
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

pub(crate) fn render(toks: &[Token<'_>]) -> String {
    let mut out = String::new();
    let mut prev: Option<&Token<'_>> = None;
    for t in toks {
        if let Some(p) = prev {
            let no_space = t.is_op(",")
                || t.is_op(")")
                || t.is_op(";")
                || t.is_op(".")
                || p.is_op("(")
                || p.is_op(".")
                || (t.is_op("(") && matches!(p.kind, TokenKind::Word | TokenKind::Quoted(_)));
            if !no_space {
                out.push(' ');
            }
        }
        out.push_str(&canonical(t));
        prev = Some(t);
    }
    out
}

/// Normalizes SQL text for structural comparison: comments dropped, whitespace canonical, keywords and identifiers
/// ASCII lower case and unquoted where quoting is not needed. String literals are kept as written.
///
/// ```
/// use litemigrate_core::normalize::normalize_sql;
/// assert_eq!(
///     normalize_sql("CREATE  VIEW \"V\" AS SELECT [a],b FROM t -- note\n WHERE x='A'"),
///     normalize_sql("create view v as select a, B from T where X = 'A'"),
/// );
/// ```
pub fn normalize_sql(sql: &str) -> String {
    render(&tokens(sql))
}

/// Whether an `ALTER TABLE` statement only rewrites the altered table's own `sqlite_schema` row (`ADD` and `DROP
/// COLUMN`), unlike renames, which also rewrite the SQL of indexes, triggers and views that refer to it.
pub(crate) fn alter_changes_only_its_table(sql: &str) -> bool {
    let toks = tokens(sql);
    let mut i = 2; // after ALTER TABLE
    if toks.get(i + 1).is_some_and(|t| t.is_op(".")) {
        i += 2;
    }
    toks.first().is_some_and(|t| t.is_word("alter"))
        && toks.get(1).is_some_and(|t| t.is_word("table"))
        && toks.get(i + 1).is_some_and(|t| t.is_word("add") || t.is_word("drop"))
}

/// Index of the `)` matching the `(` at `open`, or `None` when unbalanced.
pub(crate) fn matching_paren(toks: &[Token<'_>], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, t) in toks.iter().enumerate().skip(open) {
        if t.is_op("(") {
            depth += 1;
        } else if t.is_op(")") {
            depth = depth.saturating_sub(1);
            if depth == 0 {
                return Some(i);
            }
        }
    }
    None
}

/// Splits `toks` at commas outside parentheses.
pub(crate) fn split_commas<'t, 'a>(toks: &'t [Token<'a>]) -> Vec<&'t [Token<'a>]> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, t) in toks.iter().enumerate() {
        if t.is_op("(") {
            depth += 1;
        } else if t.is_op(")") {
            depth = depth.saturating_sub(1);
        } else if t.is_op(",") && depth == 0 {
            out.push(&toks[start..i]);
            start = i + 1;
        }
    }
    out.push(&toks[start..]);
    out
}

/// The parenthesized list starting at the first `(` of `toks`: its items and what follows the `)`.
pub(crate) fn first_paren_list<'t, 'a>(toks: &'t [Token<'a>]) -> Option<(Vec<&'t [Token<'a>]>, &'t [Token<'a>])> {
    let open = toks.iter().position(|t| t.is_op("("))?;
    let close = matching_paren(toks, open)?;
    Some((split_commas(&toks[open + 1..close]), &toks[close + 1..]))
}
