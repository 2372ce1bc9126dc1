//! dbmate and goose: one file per migration, its up and down in sections marked by comments (`-- migrate:up` /
//! `-- migrate:down`; `-- +goose Up` / `-- +goose Down`). Markers are line-comment tokens of the one lexer, so a
//! marker inside a string or a block comment is text, not a marker.
//!
//! A section keeps the file's line numbers: the up section is the file up to the down marker, the down section
//! starts with as many blank lines as precede its marker, and the marker comments themselves are blanked (dbmate's
//! `-- migrate:up` would otherwise read as one of this library's `-- migrate:` directives). The checksum is the
//! SHA-256 of the up section so built. A down section with no statements is the tools' idiom for irreversible.

use super::{Layout, Part, Unit, numbered};
use crate::lex::{self, Token, TokenKind};
use crate::load::{Entry, LoadError, SourceFile, decode};
use crate::name::{self, FileKind};
use crate::split;
use std::collections::BTreeMap;

/// The pattern the errors show.
pub const EXPECTED: &str = "`{version}_{name}.sql`, one file holding both sections";

/// What a marker comment says.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Marker {
    Up {
        no_transaction: bool,
    },
    Down,
    /// goose's `StatementBegin`/`StatementEnd`: the lexer already finds statement ends, so they only need blanking.
    Statement,
    /// goose's `NO TRANSACTION`.
    NoTransaction,
}

/// The comment text after `--`, trimmed.
fn body<'a>(token: &Token<'a>) -> &'a str {
    token.text.strip_prefix("--").unwrap_or(token.text).trim()
}

/// Which section tool a file's leading comments name (`Some(Dbmate)`, `Some(Goose)`), read before its first SQL.
pub fn marker_tool(text: &str) -> Option<Layout> {
    for token in lex::tokens(text) {
        match token.kind {
            TokenKind::Whitespace | TokenKind::BlockComment => {}
            TokenKind::LineComment => {
                let b = body(&token);
                if b == "migrate:up" || b.starts_with("migrate:up ") || b == "migrate:down" {
                    return Some(Layout::Dbmate);
                }
                if b.starts_with("+goose") {
                    return Some(Layout::Goose);
                }
            }
            _ => return None,
        }
    }
    None
}

fn marker(layout: Layout, token: &Token<'_>) -> Result<Option<Marker>, String> {
    let b = body(token);
    match layout {
        Layout::Dbmate => {
            let Some(rest) = b.strip_prefix("migrate:") else {
                return Ok(None);
            };
            let (word, options) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
            let no_transaction = match options.trim() {
                "" | "transaction:true" => false,
                "transaction:false" => true,
                other => {
                    return Err(format!(
                        "unknown dbmate option `{other}`; dbmate knows `transaction:false`"
                    ));
                }
            };
            Ok(match word {
                "up" => Some(Marker::Up { no_transaction }),
                "down" => Some(Marker::Down),
                // This library's own directives may sit in a section.
                _ => None,
            })
        }
        _ => {
            let Some(rest) = b.strip_prefix("+goose") else {
                return Ok(None);
            };
            Ok(Some(match rest.trim().to_ascii_lowercase().as_str() {
                "up" => Marker::Up { no_transaction: false },
                "down" => Marker::Down,
                "statementbegin" | "statementend" => Marker::Statement,
                "no transaction" => Marker::NoTransaction,
                other => return Err(format!("goose annotation `{other}` is not supported")),
            }))
        }
    }
}

/// Splits one normalized file into its (up, down) sections.
fn split_sections(layout: Layout, path: &str, text: &str) -> Result<(Part, Option<Part>), LoadError> {
    let section_err = |line: usize, message: String| LoadError::Section {
        file: path.to_owned(),
        line,
        message,
    };
    let mut up: Option<(usize, bool)> = None;
    let mut down: Option<(usize, usize)> = None; // (offset, line)
    let mut no_transaction: Option<usize> = None;
    let mut blank: Vec<(usize, usize)> = Vec::new();
    for token in lex::tokens(text) {
        if token.kind != TokenKind::LineComment {
            continue;
        }
        let Some(m) = marker(layout, &token).map_err(|msg| section_err(token.line, msg))? else {
            continue;
        };
        blank.push((token.offset, token.offset + token.text.len()));
        match m {
            Marker::Up { no_transaction: nt } => {
                if up.is_some() || down.is_some() {
                    return Err(section_err(
                        token.line,
                        "a second up marker, or one after the down marker".into(),
                    ));
                }
                up = Some((token.offset, nt));
                if nt {
                    no_transaction = Some(token.line);
                }
            }
            Marker::Down => {
                if up.is_none() || down.is_some() {
                    return Err(section_err(
                        token.line,
                        "a down marker before the up marker, or a second one".into(),
                    ));
                }
                down = Some((token.offset, token.line));
            }
            Marker::Statement => {}
            Marker::NoTransaction => no_transaction = Some(token.line),
        }
    }
    if up.is_none() {
        let expected = match layout {
            Layout::Dbmate => "-- migrate:up",
            _ => "-- +goose Up",
        };
        return Err(section_err(1, format!("no `{expected}` marker")));
    }
    // Marker comments become empty text, keeping their line ends.
    let blanked = |from: usize, to: usize| -> String {
        let mut out = String::with_capacity(to - from);
        let mut at = from;
        for &(s, e) in blank.iter().filter(|(s, _)| *s >= from && *s < to) {
            out.push_str(&text[at..s]);
            at = e;
        }
        out.push_str(&text[at..to]);
        out
    };
    let down_start = down.map_or(text.len(), |(offset, _)| offset);
    let up_part = Part {
        path: path.to_owned(),
        sql: blanked(0, down_start),
        no_transaction,
    };
    let down_part = down.and_then(|(offset, line)| {
        let sql = "\n".repeat(line - 1) + &blanked(offset, text.len());
        split::has_statements(&sql).then(|| Part {
            path: path.to_owned(),
            sql,
            no_transaction,
        })
    });
    Ok((up_part, down_part))
}

pub(crate) fn read(layout: Layout, mut files: Vec<SourceFile>) -> Result<Vec<Unit>, LoadError> {
    files.sort_by(|a, b| a.file_name.cmp(&b.file_name));
    let mut by_version: BTreeMap<u64, Vec<(String, String, SourceFile)>> = BTreeMap::new();
    let bad = |file: String, reason: String| LoadError::NotInLayout {
        file,
        layout: layout.as_str().to_owned(),
        reason,
        expected: EXPECTED.to_owned(),
    };
    for file in files {
        if name::is_ignored(&file.file_name) {
            continue;
        }
        if matches!(file.contents, Entry::Dir) || file.file_name.contains('/') {
            return Err(LoadError::Subdirectory { file: file.display });
        }
        let (version_text, desc) = match numbered::parts(&file.file_name) {
            Ok((v, d, FileKind::Simple)) => (v.to_owned(), d.to_owned()),
            Ok(_) => {
                return Err(bad(
                    file.display,
                    "`.up.sql`/`.down.sql`: both sections sit in one file".into(),
                ));
            }
            Err(reason) => return Err(bad(file.display, reason.to_string())),
        };
        let version = name::parse_version(&version_text).map_err(|r| bad(file.display.clone(), r.to_string()))?;
        by_version.entry(version).or_default().push((version_text, desc, file));
    }
    let mut units: Vec<Unit> = Vec::with_capacity(by_version.len());
    for (version, mut group) in by_version {
        if group.len() > 1 {
            return Err(LoadError::DuplicateVersion {
                version,
                files: group.into_iter().map(|(.., f)| f.display).collect(),
            });
        }
        let Some((version_text, name, file)) = group.pop() else {
            continue;
        };
        // dbmate applies files in file-name order: a set whose numeric order differs would run in another order.
        if let Some(prev) = units.last()
            && layout == Layout::Dbmate
            && prev.version_text.as_str() > version_text.as_str()
        {
            return Err(LoadError::OrderDiffers {
                layout: layout.as_str().to_owned(),
                earlier: prev.up.path.clone(),
                later: file.display,
            });
        }
        let (path, text) = decode(file)?;
        let (up, down) = split_sections(layout, &path, &text)?;
        units.push(Unit {
            version,
            version_text,
            name,
            up,
            down,
            empty_up_ok: false,
        });
    }
    Ok(units)
}
