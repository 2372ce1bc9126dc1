//! `-- migrate:` directives: comment lines at the top of a migration file that change how it runs.
//!
//! Adding a directive means one variant of [`Directive`], one arm in [`parse_one`] and its name in [`KNOWN`]; the
//! header scanning, argument splitting and error reporting are shared.

use std::fmt;

/// Every directive name the parser accepts, for the "unknown directive" message.
pub const KNOWN: &[&str] = &["no-transaction", "foreign-keys=off"];

/// One parsed directive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Directive {
    /// Run outside any transaction (VACUUM, `PRAGMA journal_mode`); the batch is split around it.
    NoTransaction,
    /// `PRAGMA foreign_keys=OFF` around the transaction, `PRAGMA foreign_key_check` before commit.
    ForeignKeysOff,
}

impl fmt::Display for Directive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Directive::NoTransaction => f.write_str("no-transaction"),
            Directive::ForeignKeysOff => f.write_str("foreign-keys=off"),
        }
    }
}

/// The directives of one file, in the order written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Directives {
    /// `(line, directive)` pairs; lines are 1-based.
    pub list: Vec<(usize, Directive)>,
}

impl Directives {
    /// `-- migrate:no-transaction` is present.
    pub fn no_transaction(&self) -> bool {
        self.list.iter().any(|(_, d)| *d == Directive::NoTransaction)
    }

    /// `-- migrate:foreign-keys=off` is present.
    pub fn foreign_keys_off(&self) -> bool {
        self.list.iter().any(|(_, d)| *d == Directive::ForeignKeysOff)
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

/// A directive that could not be parsed; `line` is 1-based in the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {kind}")]
pub struct DirectiveError {
    /// Where in the file.
    pub line: usize,
    /// What is wrong.
    pub kind: DirectiveErrorKind,
}

/// What is wrong with a directive.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DirectiveErrorKind {
    /// A name the parser does not know (a typo must not silently change how a migration runs).
    #[error("unknown directive `-- migrate:{name}`; known directives: {known}", known = KNOWN.join(", "))]
    Unknown {
        /// The name as written.
        name: String,
    },
    /// The directive takes no arguments but has some.
    #[error("directive `{name}` takes no arguments, found `{args}`")]
    UnexpectedArgs {
        /// The directive.
        name: String,
        /// What followed it.
        args: String,
    },
    /// The same directive twice.
    #[error("directive `{0}` appears twice")]
    Duplicate(String),
    /// A directive below the first SQL statement, where it would be ignored.
    #[error("`-- migrate:` directives must come before the first SQL statement")]
    AfterStatements,
    /// Arguments that do not parse.
    #[error("directive `{name}`: {message}")]
    BadArgs {
        /// The directive.
        name: String,
        /// What is wrong.
        message: String,
    },
}

/// Parses the directives of a (normalized) script.
///
/// ```
/// use migrate_core::directive::{parse, Directive};
/// let d = parse("-- migrate:no-transaction\n-- a note\nVACUUM;\n").unwrap();
/// assert!(d.no_transaction());
/// assert!(parse("-- migrate:no-transactoin\nVACUUM;").is_err());
/// ```
pub fn parse(script: &str) -> Result<Directives, DirectiveError> {
    let mut out = Directives::default();
    let mut in_header = true;
    for (idx, raw) in script.lines().enumerate() {
        let line = idx + 1;
        let text = raw.trim();
        let Some(comment) = text.strip_prefix("--") else {
            if !text.is_empty() {
                in_header = false;
            }
            continue;
        };
        let Some(body) = comment.trim_start().strip_prefix("migrate:") else {
            continue;
        };
        if !in_header {
            return Err(DirectiveError { line, kind: DirectiveErrorKind::AfterStatements });
        }
        let body = body.trim();
        let (name, args) = body.split_once(char::is_whitespace).unwrap_or((body, ""));
        let directive = parse_one(name, args.trim()).map_err(|kind| DirectiveError { line, kind })?;
        if out.list.iter().any(|(_, d)| *d == directive) {
            return Err(DirectiveError {
                line,
                kind: DirectiveErrorKind::Duplicate(directive.to_string()),
            });
        }
        out.list.push((line, directive));
    }
    Ok(out)
}

/// Parses one directive from its name and the rest of its line.
pub fn parse_one(name: &str, args: &str) -> Result<Directive, DirectiveErrorKind> {
    let no_args = |d: Directive| {
        if args.is_empty() {
            Ok(d)
        } else {
            Err(DirectiveErrorKind::UnexpectedArgs { name: name.to_owned(), args: args.to_owned() })
        }
    };
    match name {
        "no-transaction" => no_args(Directive::NoTransaction),
        "foreign-keys=off" => no_args(Directive::ForeignKeysOff),
        _ => Err(DirectiveErrorKind::Unknown { name: name.to_owned() }),
    }
}

/// One argument of a directive: `value`, `key=value`, or either with a single-quoted value (`''` escapes a quote).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arg {
    /// The part before `=`, if any.
    pub key: Option<String>,
    /// The value, unquoted.
    pub value: String,
}

/// Splits directive arguments on whitespace, honouring single quotes.
///
/// ```
/// use migrate_core::directive::split_args;
/// let a = split_args("idx content=docs tokenize='porter unicode61'").unwrap();
/// assert_eq!(a[2].key.as_deref(), Some("tokenize"));
/// assert_eq!(a[2].value, "porter unicode61");
/// ```
pub fn split_args(args: &str) -> Result<Vec<Arg>, String> {
    let mut out = Vec::new();
    let mut chars = args.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.peek().is_none() {
            return Ok(out);
        }
        let mut key = None;
        let mut value = String::new();
        let mut quoted = false;
        while let Some(&c) = chars.peek() {
            if c.is_whitespace() {
                break;
            }
            chars.next();
            match c {
                '=' if key.is_none() && !quoted => key = Some(std::mem::take(&mut value)),
                '\'' => {
                    quoted = true;
                    loop {
                        match chars.next() {
                            Some('\'') if chars.peek() == Some(&'\'') => {
                                chars.next();
                                value.push('\'');
                            }
                            Some('\'') => break,
                            Some(c) => value.push(c),
                            None => return Err(format!("unterminated quote in `{args}`")),
                        }
                    }
                }
                c => value.push(c),
            }
        }
        if key.as_deref() == Some("") {
            return Err(format!("`={value}` has no key"));
        }
        out.push(Arg { key, value });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_known() {
        let d = parse("-- migrate:no-transaction\n--migrate:foreign-keys=off\n\nVACUUM;").unwrap();
        assert_eq!(d.list, vec![(1, Directive::NoTransaction), (2, Directive::ForeignKeysOff)]);
        assert!(d.no_transaction() && d.foreign_keys_off());
        let d = parse("  --   migrate:  no-transaction  \nSELECT 1;").unwrap();
        assert!(d.no_transaction());
        assert!(parse("CREATE TABLE t(x);").unwrap().is_empty());
        // Ordinary comments in the header are fine; so is mentioning the word elsewhere.
        assert!(parse("-- this migrates: users\nSELECT 'migrate:x';").unwrap().is_empty());
    }

    #[test]
    fn errors_name_the_line() {
        assert_eq!(
            parse("-- ok\n-- migrate:no-transactoin\n").unwrap_err(),
            DirectiveError { line: 2, kind: DirectiveErrorKind::Unknown { name: "no-transactoin".into() } }
        );
        assert_eq!(
            parse("-- migrate:no-transaction now\n").unwrap_err().kind,
            DirectiveErrorKind::UnexpectedArgs { name: "no-transaction".into(), args: "now".into() }
        );
        assert_eq!(
            parse("-- migrate:no-transaction\n-- migrate:no-transaction\n").unwrap_err(),
            DirectiveError { line: 2, kind: DirectiveErrorKind::Duplicate("no-transaction".into()) }
        );
        assert_eq!(
            parse("SELECT 1;\n-- migrate:no-transaction\n").unwrap_err(),
            DirectiveError { line: 2, kind: DirectiveErrorKind::AfterStatements }
        );
        assert!(parse("-- migrate:foreign-keys=on\n").is_err());
        let msg = parse("-- migrate:nope\n").unwrap_err().to_string();
        assert!(msg.contains("line 1") && msg.contains("no-transaction, foreign-keys=off"), "{msg}");
    }

    #[test]
    fn args() {
        let a = split_args(" a  b=c d='e f' g='it''s' ").unwrap();
        let pairs: Vec<(Option<&str>, &str)> = a.iter().map(|a| (a.key.as_deref(), a.value.as_str())).collect();
        assert_eq!(pairs, [(None, "a"), (Some("b"), "c"), (Some("d"), "e f"), (Some("g"), "it's")]);
        assert_eq!(split_args("").unwrap(), vec![]);
        assert!(split_args("x='open").is_err());
        assert!(split_args("=v").is_err());
        assert_eq!(split_args("k=a=b").unwrap()[0].value, "a=b");
    }
}
