//! The schema's text format: one fact per line, sorted, every string in double quotes with escapes, so any name
//! round-trips. The macro embeds this text; [`Schema::from_text`] reads it back.

use super::{Object, ObjectKind, Schema};
use std::collections::BTreeMap;

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

impl Schema {
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
pub(crate) fn unquote(s: &str) -> Option<(String, &str)> {
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
