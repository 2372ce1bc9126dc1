//! `-- migrate:` directives: comment lines at the top of a migration file that change how it runs.
//!
//! Adding a directive means one variant of [`Directive`], one arm in [`parse_one`] and its name in [`KNOWN`]; the
//! header scanning (through [`crate::lex`]), argument splitting ([`crate::args`]) and error reporting are shared.

pub use crate::args::{Arg, split_args};
use crate::fts5::Fts5Index;
use crate::lex::{self, TokenKind};
use std::fmt;

/// Every directive name the parser accepts, for the "unknown directive" message.
pub const KNOWN: &[&str] = &[
    "no-transaction",
    "foreign-keys=off",
    "fts5",
    "fts5-resync",
    "rebuild",
    "requires",
    "attach",
];

/// One parsed directive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Directive {
    /// Run outside any transaction (VACUUM, `PRAGMA journal_mode`); the batch is split around it.
    NoTransaction,
    /// `PRAGMA foreign_keys=OFF` around the transaction, `PRAGMA foreign_key_check` before commit.
    ForeignKeysOff,
    /// `fts5 <index> content=<table> content_rowid=<col> columns=a,b [tokenize=…] [prefix=…] [detail=…]
    /// [unindexed=…]` or `fts5 <index> contentless_delete=1 columns=… [source=<table> source_rowid=<col>]`: after the
    /// file body, create the index, its sync triggers, and index the existing rows. A reversible migration's down
    /// drops them first. See [`crate::fts5`].
    Fts5(Box<Fts5Index>),
    /// `fts5-resync <index>`: after the file body, drop and recreate the sync triggers of an existing
    /// external-content index (read from its declaration) and rebuild it.
    Fts5Resync {
        /// The index.
        index: String,
    },
    /// `rebuild <table> [drop=<name>,…]`: the file's first statement is the table's new `CREATE TABLE`; the
    /// migration becomes SQLite's 12-step table rebuild. Implies `foreign-keys=off`. See [`crate::rebuild`].
    Rebuild {
        /// The table.
        table: String,
        /// Indexes, triggers and views not to recreate.
        drop: Vec<String>,
    },
    /// `requires <database>@<version>`: in a catalog of databases (`embed_databases!`), the other database must be
    /// at that version or later before this migration runs. The build checks that both exist and that the
    /// requirements form no cycle; the runtime orders the work across files by them (see [`crate::databases`]).
    /// A plain `embed_migrations!` set, which has no other database, does not act on it.
    Requires {
        /// The other database (a subdirectory name of the catalog).
        database: String,
        /// Its version.
        version: u64,
    },
    /// `attach <database>`: the migration runs with the other database of the catalog attached under its name, so
    /// it can read and write it (`INSERT INTO tasks.notes SELECT … FROM notes`). Validated at build time with the
    /// other database at the version its `requires` names.
    Attach {
        /// The other database.
        database: String,
    },
}

impl Directive {
    /// Whether the directive generates SQL, so a file whose only content is the directive is not empty.
    pub fn generates_sql(&self) -> bool {
        matches!(
            self,
            Directive::Fts5(_) | Directive::Fts5Resync { .. } | Directive::Rebuild { .. }
        )
    }

    /// What makes two directives the same for the "appears twice" rule: at most one rebuild per file, each index
    /// once.
    fn key(&self) -> String {
        match self {
            Directive::Rebuild { .. } => "rebuild".into(),
            Directive::Fts5(i) => format!("fts5 {}", i.name().to_lowercase()),
            Directive::Fts5Resync { index } => format!("fts5-resync {}", index.to_lowercase()),
            Directive::Requires { database, .. } => format!("requires {database}"),
            d => d.to_string(),
        }
    }
}

impl fmt::Display for Directive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Directive::NoTransaction => f.write_str("no-transaction"),
            Directive::ForeignKeysOff => f.write_str("foreign-keys=off"),
            Directive::Fts5(i) => write!(f, "fts5 {}", i.name()),
            Directive::Fts5Resync { index } => write!(f, "fts5-resync {index}"),
            Directive::Rebuild { table, .. } => write!(f, "rebuild {table}"),
            Directive::Requires { database, version } => write!(f, "requires {database}@{version}"),
            Directive::Attach { database } => write!(f, "attach {database}"),
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

    /// `-- migrate:foreign-keys=off` is present, or implied by `-- migrate:rebuild`: the runtime turns
    /// `PRAGMA foreign_keys` off outside the transaction and runs `PRAGMA foreign_key_check` before commit.
    pub fn foreign_keys_off(&self) -> bool {
        self.list
            .iter()
            .any(|(_, d)| matches!(d, Directive::ForeignKeysOff | Directive::Rebuild { .. }))
    }

    /// Some directive generates SQL (see [`Directive::generates_sql`]).
    pub fn generates_sql(&self) -> bool {
        self.list.iter().any(|(_, d)| d.generates_sql())
    }

    /// The `requires <database>@<version>` directives: `(line, database, version)`.
    pub fn requires(&self) -> impl Iterator<Item = (usize, &str, u64)> {
        self.list.iter().filter_map(|(line, d)| match d {
            Directive::Requires { database, version } => Some((*line, database.as_str(), *version)),
            _ => None,
        })
    }

    /// The `attach <database>` directives: `(line, database)`.
    pub fn attaches(&self) -> impl Iterator<Item = (usize, &str)> {
        self.list.iter().filter_map(|(line, d)| match d {
            Directive::Attach { database } => Some((*line, database.as_str())),
            _ => None,
        })
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
/// use litemigrate_core::directive::{parse, Directive};
/// let d = parse("-- migrate:no-transaction\n-- a note\nVACUUM;\n").unwrap();
/// assert!(d.no_transaction());
/// assert!(parse("-- migrate:no-transactoin\nVACUUM;").is_err());
/// ```
pub fn parse(script: &str) -> Result<Directives, DirectiveError> {
    let mut out = Directives::default();
    let mut in_header = true;
    // Read through the lexer: a `-- migrate:` inside a string or a block comment is not a directive, and one after
    // SQL on the same line is below the first statement.
    for token in lex::tokens(script) {
        match token.kind {
            TokenKind::Whitespace | TokenKind::BlockComment => continue,
            TokenKind::LineComment => {}
            _ if in_header => {
                in_header = false;
                // Below the header only a misplaced directive matters; a file whose remaining text never says
                // `migrate:` has none, and the rest of it need not be read (this runs for every file in the
                // unoptimized proc macro).
                if !script[token.offset..].contains("migrate:") {
                    break;
                }
                continue;
            }
            _ => continue,
        }
        let line = token.line;
        let comment = token.text.strip_prefix("--").unwrap_or(token.text);
        let Some(body) = comment.trim_start().strip_prefix("migrate:") else {
            continue;
        };
        if !in_header {
            return Err(DirectiveError {
                line,
                kind: DirectiveErrorKind::AfterStatements,
            });
        }
        let body = body.trim();
        let (name, args) = body.split_once(char::is_whitespace).unwrap_or((body, ""));
        let directive = parse_one(name, args.trim()).map_err(|kind| DirectiveError { line, kind })?;
        if out.list.iter().any(|(_, d)| d.key() == directive.key()) {
            return Err(DirectiveError {
                line,
                kind: DirectiveErrorKind::Duplicate(directive.key()),
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
            Err(DirectiveErrorKind::UnexpectedArgs {
                name: name.to_owned(),
                args: args.to_owned(),
            })
        }
    };
    let bad = |message: String| DirectiveErrorKind::BadArgs {
        name: name.to_owned(),
        message,
    };
    match name {
        "no-transaction" => no_args(Directive::NoTransaction),
        "foreign-keys=off" => no_args(Directive::ForeignKeysOff),
        "fts5" => Fts5Index::from_directive_args(args)
            .map(|i| Directive::Fts5(Box::new(i)))
            .map_err(bad),
        "fts5-resync" => match split_args(args).map_err(bad)?.as_slice() {
            [Arg { key: None, value }] if !value.is_empty() => Ok(Directive::Fts5Resync { index: value.clone() }),
            _ => Err(bad("expected exactly the index name: `fts5-resync <index>`".into())),
        },
        "rebuild" => parse_rebuild(args).map_err(bad),
        "requires" => parse_requires(args).map_err(bad),
        "attach" => match split_args(args).map_err(bad)?.as_slice() {
            [Arg { key: None, value }] if is_database_name(value) => Ok(Directive::Attach {
                database: value.clone(),
            }),
            _ => Err(bad("expected exactly a database name: `attach <database>`".into())),
        },
        _ => Err(DirectiveErrorKind::Unknown { name: name.to_owned() }),
    }
}

/// A catalog's database name: a subdirectory name that is also a plain SQL identifier, since an attached database
/// is named by it in SQL.
pub fn is_database_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn parse_requires(args: &str) -> Result<Directive, String> {
    const USAGE: &str = "expected `requires <database>@<version>`";
    let parts = split_args(args)?;
    let [Arg { key: None, value }] = parts.as_slice() else {
        return Err(USAGE.into());
    };
    let Some((database, version)) = value.split_once('@') else {
        return Err(USAGE.into());
    };
    if !is_database_name(database) {
        return Err(format!(
            "{USAGE}; `{database}` is not a database name (letters, digits, `_`)"
        ));
    }
    let version = version
        .parse::<u64>()
        .ok()
        .filter(|v| *v > 0 && *v <= crate::name::MAX_VERSION)
        .ok_or_else(|| format!("{USAGE}; `{version}` is not a version"))?;
    Ok(Directive::Requires {
        database: database.to_owned(),
        version,
    })
}

fn parse_rebuild(args: &str) -> Result<Directive, String> {
    let mut it = split_args(args)?.into_iter();
    let table = match it.next() {
        Some(Arg { key: None, value }) if !value.is_empty() => value,
        _ => return Err("expected the table name first: `rebuild <table> [drop=<name>,…]`".into()),
    };
    let mut drop = Vec::new();
    for a in it {
        match a.key.as_deref() {
            Some("drop") if drop.is_empty() => {
                drop = a.value.split(',').map(|s| s.trim().to_owned()).collect();
                if drop.iter().any(String::is_empty) {
                    return Err("drop= lists names separated by commas".into());
                }
            }
            Some("drop") => return Err("option `drop` is given twice".into()),
            _ => {
                return Err(format!("unexpected `{}`; the only option is drop=<name>,…", a.value));
            }
        }
    }
    Ok(Directive::Rebuild { table, drop })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_known() {
        let d = parse("-- migrate:no-transaction\n--migrate:foreign-keys=off\n\nVACUUM;").unwrap();
        assert_eq!(
            d.list,
            vec![(1, Directive::NoTransaction), (2, Directive::ForeignKeysOff)]
        );
        assert!(d.no_transaction() && d.foreign_keys_off());
        let d = parse("  --   migrate:  no-transaction  \nSELECT 1;").unwrap();
        assert!(d.no_transaction());
        assert!(parse("CREATE TABLE t(x);").unwrap().is_empty());
        // Ordinary comments in the header are fine; so is mentioning the word elsewhere.
        assert!(
            parse("-- this migrates: users\nSELECT 'migrate:x';")
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn errors_name_the_line() {
        assert_eq!(
            parse("-- ok\n-- migrate:no-transactoin\n").unwrap_err(),
            DirectiveError {
                line: 2,
                kind: DirectiveErrorKind::Unknown {
                    name: "no-transactoin".into()
                }
            }
        );
        assert_eq!(
            parse("-- migrate:no-transaction now\n").unwrap_err().kind,
            DirectiveErrorKind::UnexpectedArgs {
                name: "no-transaction".into(),
                args: "now".into()
            }
        );
        assert_eq!(
            parse("-- migrate:no-transaction\n-- migrate:no-transaction\n").unwrap_err(),
            DirectiveError {
                line: 2,
                kind: DirectiveErrorKind::Duplicate("no-transaction".into())
            }
        );
        assert_eq!(
            parse("SELECT 1;\n-- migrate:no-transaction\n").unwrap_err(),
            DirectiveError {
                line: 2,
                kind: DirectiveErrorKind::AfterStatements
            }
        );
        assert!(parse("-- migrate:foreign-keys=on\n").is_err());
        let msg = parse("-- migrate:nope\n").unwrap_err().to_string();
        assert!(
            msg.contains("line 1") && msg.contains("no-transaction, foreign-keys=off"),
            "{msg}"
        );
    }

    #[test]
    fn generating_directives() {
        let d = parse(
            "-- migrate:fts5 f content=t content_rowid=id columns=a\n-- migrate:fts5-resync g\n\
             -- migrate:rebuild t drop=t_a,v\nCREATE TABLE t(id INTEGER PRIMARY KEY);",
        )
        .unwrap();
        assert!(d.generates_sql() && d.foreign_keys_off() && !d.no_transaction());
        assert_eq!(d.list[1], (2, Directive::Fts5Resync { index: "g".into() }));
        assert_eq!(
            d.list[2],
            (
                3,
                Directive::Rebuild {
                    table: "t".into(),
                    drop: vec!["t_a".into(), "v".into()]
                }
            )
        );
        assert!(matches!(&d.list[0].1, Directive::Fts5(i) if i.name() == "f"));
        assert!(!parse("-- migrate:no-transaction\n").unwrap().generates_sql());

        let kind = |s: &str| parse(s).unwrap_err().kind;
        let bad = |s: &str| match kind(s) {
            DirectiveErrorKind::BadArgs { message, .. } => message,
            k => panic!("{k:?}"),
        };
        assert!(bad("-- migrate:fts5 f content=t content_rowid=id").contains("columns="));
        assert!(
            bad("-- migrate:fts5 f content=t content_rowid=id columns=a bogus=1").contains("unknown option `bogus`")
        );
        assert!(bad("-- migrate:fts5-resync").contains("index name"));
        assert!(bad("-- migrate:fts5-resync a b").contains("index name"));
        assert!(bad("-- migrate:rebuild").contains("table name"));
        assert!(bad("-- migrate:rebuild t keep=x").contains("drop="));
        assert!(bad("-- migrate:rebuild t drop=a,,b").contains("commas"));
        assert_eq!(
            kind("-- migrate:rebuild a\n-- migrate:rebuild b\n"),
            DirectiveErrorKind::Duplicate("rebuild".into())
        );
        assert_eq!(
            kind(
                "-- migrate:fts5 f content=t content_rowid=id columns=a\n-- migrate:fts5 F content=u content_rowid=id columns=b\n"
            ),
            DirectiveErrorKind::Duplicate("fts5 f".into())
        );
        let msg = parse("-- migrate:fts5 f content=t columns=a\n")
            .unwrap_err()
            .to_string();
        assert!(
            msg.starts_with("line 1: directive `fts5`: ") && msg.contains("content_rowid"),
            "{msg}"
        );
    }

    #[test]
    fn catalog_directives() {
        let d = parse(
            "-- migrate:requires knowledge@2\n-- migrate:requires tasks@10\n-- migrate:attach knowledge\nSELECT 1;",
        )
        .unwrap();
        assert_eq!(
            d.requires().collect::<Vec<_>>(),
            vec![(1, "knowledge", 2), (2, "tasks", 10)]
        );
        assert_eq!(d.attaches().collect::<Vec<_>>(), vec![(3, "knowledge")]);
        assert!(!d.generates_sql() && !d.no_transaction());
        let kind = |s: &str| parse(s).unwrap_err().kind;
        assert_eq!(
            kind("-- migrate:requires a@1\n-- migrate:requires a@2\n"),
            DirectiveErrorKind::Duplicate("requires a".into())
        );
        for bad in [
            "-- migrate:requires a",
            "-- migrate:requires a@0",
            "-- migrate:requires a@x",
            "-- migrate:requires 1a@2",
            "-- migrate:requires a@1 b@2",
            "-- migrate:attach",
            "-- migrate:attach a-b",
        ] {
            assert!(matches!(kind(bad), DirectiveErrorKind::BadArgs { .. }), "{bad}");
        }
    }

    #[test]
    fn the_header_is_read_as_sql() {
        // A block comment is a comment: directives may follow it.
        let d = parse("/* why this runs outside a transaction */\n-- migrate:no-transaction\nVACUUM;").unwrap();
        assert_eq!(d.list, vec![(2, Directive::NoTransaction)]);
        // Inside a string or a block comment it is text, not a directive.
        assert!(parse("SELECT '\n-- migrate:no-transaction\n';").unwrap().is_empty());
        assert!(
            parse("/*\n-- migrate:no-transaction\n*/\nSELECT 1;")
                .unwrap()
                .is_empty()
        );
        // After SQL on the same line it would be ignored, so it is an error like one on a later line.
        assert_eq!(
            parse("SELECT 1; -- migrate:no-transaction\n").unwrap_err(),
            DirectiveError {
                line: 1,
                kind: DirectiveErrorKind::AfterStatements
            }
        );
    }
}
