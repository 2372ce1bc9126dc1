//! `min-sqlite`: SQL that needs a newer SQLite than the oldest one the application declares it runs on
//! (`min_sqlite = "3.35"`). Validation always runs the bundled, newest SQLite, so without this an app linking an
//! older system SQLite learns at launch.

use std::fmt;

/// A SQLite version (`3.35.0`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SqliteVersion(pub u32, pub u32, pub u32);

impl SqliteVersion {
    /// Parses `3.35` or `3.35.5`.
    pub fn parse(s: &str) -> Option<SqliteVersion> {
        let mut it = s.trim().split('.').map(|p| p.parse::<u32>().ok());
        let major = it.next()??;
        let minor = it.next()??;
        let patch = it.next().unwrap_or(Some(0))?;
        it.next().is_none().then_some(SqliteVersion(major, minor, patch))
    }
}

impl fmt::Display for SqliteVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

/// The SQL features the rule knows, each with the SQLite version that introduced it.
pub fn feature_versions() -> &'static [(&'static str, SqliteVersion)] {
    &[
        ("UPSERT (ON CONFLICT … DO)", SqliteVersion(3, 24, 0)),
        ("ALTER TABLE … RENAME COLUMN", SqliteVersion(3, 25, 0)),
        ("window functions (OVER)", SqliteVersion(3, 25, 0)),
        ("NULLS FIRST/LAST", SqliteVersion(3, 30, 0)),
        ("FILTER on aggregates", SqliteVersion(3, 30, 0)),
        ("generated columns", SqliteVersion(3, 31, 0)),
        ("iif()", SqliteVersion(3, 32, 0)),
        ("ALTER TABLE … DROP COLUMN", SqliteVersion(3, 35, 0)),
        ("RETURNING", SqliteVersion(3, 35, 0)),
        ("MATERIALIZED CTEs", SqliteVersion(3, 35, 0)),
        ("STRICT tables", SqliteVersion(3, 37, 0)),
        ("-> and ->> operators", SqliteVersion(3, 38, 0)),
        ("JSON functions built in", SqliteVersion(3, 38, 0)),
        ("unixepoch()", SqliteVersion(3, 38, 0)),
        ("format()", SqliteVersion(3, 38, 0)),
        ("RIGHT and FULL OUTER JOIN", SqliteVersion(3, 39, 0)),
        ("IS [NOT] DISTINCT FROM", SqliteVersion(3, 39, 0)),
        ("unhex()", SqliteVersion(3, 41, 0)),
        ("octet_length()", SqliteVersion(3, 43, 0)),
        ("timediff()", SqliteVersion(3, 43, 0)),
        ("concat() and concat_ws()", SqliteVersion(3, 44, 0)),
        ("string_agg()", SqliteVersion(3, 44, 0)),
        ("jsonb functions", SqliteVersion(3, 45, 0)),
        ("unistr()", SqliteVersion(3, 50, 0)),
    ]
}

#[cfg(feature = "sqlite")]
fn version_of(feature: &str) -> SqliteVersion {
    feature_versions()
        .iter()
        .find(|(f, _)| *f == feature)
        .map_or(SqliteVersion(0, 0, 0), |(_, v)| *v)
}

/// The features a statement's significant tokens use.
#[cfg(feature = "sqlite")]
fn features(toks: &[crate::lex::Token<'_>]) -> Vec<&'static str> {
    use crate::lex::{Keyword, TokenKind};
    let mut out = Vec::new();
    let kw = |i: usize, k: Keyword| toks.get(i).is_some_and(|t| t.is_keyword(k));
    let alter = kw(0, Keyword::Alter);
    let create_table = kw(0, Keyword::Create) && toks.iter().take(4).any(|t| t.is_keyword(Keyword::Table));
    for (i, t) in toks.iter().enumerate() {
        let call = toks.get(i + 1).is_some_and(|n| n.is_op("("));
        let f = match t.keyword() {
            Some(Keyword::Do) if toks[..i].iter().any(|t| t.is_keyword(Keyword::Conflict)) => {
                Some("UPSERT (ON CONFLICT … DO)")
            }
            Some(Keyword::Rename) if alter && !kw(i + 1, Keyword::To) => Some("ALTER TABLE … RENAME COLUMN"),
            Some(Keyword::Drop) if alter && i > 0 => Some("ALTER TABLE … DROP COLUMN"),
            Some(Keyword::Over) => Some("window functions (OVER)"),
            Some(Keyword::Nulls) => Some("NULLS FIRST/LAST"),
            Some(Keyword::Filter) if call => Some("FILTER on aggregates"),
            Some(Keyword::Generated) => Some("generated columns"),
            Some(Keyword::Returning) => Some("RETURNING"),
            Some(Keyword::Materialized) => Some("MATERIALIZED CTEs"),
            Some(Keyword::Right | Keyword::Full) if kw(i + 1, Keyword::Join) || kw(i + 1, Keyword::Outer) => {
                Some("RIGHT and FULL OUTER JOIN")
            }
            Some(Keyword::Distinct) if i > 0 && (kw(i - 1, Keyword::Is) || kw(i - 1, Keyword::Not)) => {
                Some("IS [NOT] DISTINCT FROM")
            }
            _ => None,
        };
        let f = f.or_else(|| {
            if t.is_op("->") || t.is_op("->>") {
                return Some("-> and ->> operators");
            }
            if create_table && t.kind == TokenKind::Word && t.text.eq_ignore_ascii_case("STRICT") {
                return Some("STRICT tables");
            }
            if !(call && t.kind == TokenKind::Word) {
                return None;
            }
            let name = t.text.to_ascii_lowercase();
            Some(match name.as_str() {
                "iif" => "iif()",
                "unixepoch" => "unixepoch()",
                "format" => "format()",
                "unhex" => "unhex()",
                "octet_length" => "octet_length()",
                "timediff" => "timediff()",
                "concat" | "concat_ws" => "concat() and concat_ws()",
                "string_agg" => "string_agg()",
                "unistr" => "unistr()",
                n if n.starts_with("jsonb") => "jsonb functions",
                n if n == "json" || n.starts_with("json_") => "JSON functions built in",
                _ => return None,
            })
        });
        if let Some(f) = f
            && !out.contains(&f)
        {
            out.push(f);
        }
    }
    out
}

#[cfg(feature = "sqlite")]
pub(super) fn check(ctx: &super::Context<'_>, min: SqliteVersion, out: &mut Vec<super::Finding>) {
    for s in &ctx.statements {
        for f in features(&s.toks) {
            let needs = version_of(f);
            if needs > min {
                out.push(ctx.finding(
                    "min-sqlite",
                    s.line,
                    format!(
                        "uses {f}, which needs SQLite {needs}, but `min_sqlite` says the app runs on {min}: the \
                         migration fails at launch there. Raise `min_sqlite` (and the SQLite you ship), or write it \
                         without"
                    ),
                ));
            }
        }
    }
}
