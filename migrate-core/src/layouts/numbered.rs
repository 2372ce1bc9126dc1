//! sqlx and golang-migrate: `{digits}_{description}.sql`, or `.up.sql` + `.down.sql`. The description is anything
//! non-empty (sqlx writes `-`, uppercase letters and spaces); versions order as numbers, as both tools do. sqlx's
//! `-- no-transaction` on the first line runs the file outside a transaction.

use super::{Layout, Part, Unit, whole_file};
use crate::lex::{self, TokenKind};
use crate::load::{Entry, LoadError, SourceFile};
use crate::name::{self, FileKind, NameError};
use std::collections::BTreeMap;

/// Splits `{digits}_{description}{.sql|.up.sql|.down.sql}` into (version text, description, kind).
///
/// ```
/// use litemigrate_core::layouts::numbered::split;
/// use litemigrate_core::name::FileKind;
/// assert_eq!(split("20240101_Add users-v2.up.sql"), Some(("20240101", "Add users-v2", FileKind::Up)));
/// assert_eq!(split("1-a.sql"), None);
/// ```
pub fn split(file_name: &str) -> Option<(&str, &str, FileKind)> {
    parts(file_name).ok()
}

pub(crate) fn parts(file_name: &str) -> Result<(&str, &str, FileKind), NameError> {
    let (stem, kind) = if let Some(s) = file_name.strip_suffix(".up.sql") {
        (s, FileKind::Up)
    } else if let Some(s) = file_name.strip_suffix(".down.sql") {
        (s, FileKind::Down)
    } else if let Some(s) = file_name.strip_suffix(".sql") {
        (s, FileKind::Simple)
    } else {
        return Err(NameError::NotSql);
    };
    let (version, desc) = stem.split_once('_').ok_or(NameError::NoSeparator)?;
    if version.is_empty() || !version.bytes().all(|b| b.is_ascii_digit()) {
        return Err(NameError::VersionNotDigits(version.to_owned()));
    }
    if desc.is_empty() {
        return Err(NameError::EmptyName);
    }
    Ok((version, desc, kind))
}

/// Whether the file opens with sqlx's `-- no-transaction` (sqlx reads it only as the very first line).
pub fn starts_no_transaction(text: &str) -> bool {
    lex::tokens(text)
        .next()
        .is_some_and(|t| t.kind == TokenKind::LineComment && t.text.trim_end() == "-- no-transaction")
}

/// The pattern the errors show.
pub const EXPECTED: &str = "`{digits}_{description}.sql`, or `.up.sql` with `.down.sql`";

fn not_in_layout(layout: Layout, file: String, reason: NameError) -> LoadError {
    LoadError::NotInLayout {
        file,
        layout: layout.as_str().to_owned(),
        reason: reason.to_string(),
        expected: EXPECTED.to_owned(),
    }
}

pub(crate) fn read(layout: Layout, mut files: Vec<SourceFile>) -> Result<Vec<Unit>, LoadError> {
    files.sort_by(|a, b| a.file_name.cmp(&b.file_name));
    let mut by_version: BTreeMap<u64, Vec<(String, String, FileKind, SourceFile)>> = BTreeMap::new();
    for file in files {
        if name::is_ignored(&file.file_name) {
            continue;
        }
        if matches!(file.contents, Entry::Dir) || file.file_name.contains('/') {
            return Err(LoadError::Subdirectory { file: file.display });
        }
        let (version_text, desc, kind) = match parts(&file.file_name) {
            Ok((v, d, k)) => (v.to_owned(), d.to_owned(), k),
            Err(reason) => return Err(not_in_layout(layout, file.display, reason)),
        };
        let version =
            name::parse_version(&version_text).map_err(|reason| not_in_layout(layout, file.display.clone(), reason))?;
        by_version
            .entry(version)
            .or_default()
            .push((version_text, desc, kind, file));
    }
    let mut units = Vec::with_capacity(by_version.len());
    for (version, group) in by_version {
        let (v0, d0) = (&group[0].0, &group[0].1);
        if group.iter().any(|(v, d, _, _)| v != v0 || d != d0) {
            return Err(LoadError::DuplicateVersion {
                version,
                files: group.into_iter().map(|(.., f)| f.display).collect(),
            });
        }
        let (version_text, name) = (v0.clone(), d0.clone());
        let (mut simple, mut up, mut down) = (None, None, None);
        for (.., kind, file) in group {
            match kind {
                FileKind::Simple => simple = Some(file),
                FileKind::Up => up = Some(file),
                FileKind::Down => down = Some(file),
            }
        }
        let up = match (simple, up, &down) {
            (Some(s), Some(u), _) => {
                return Err(LoadError::SimpleAndUp {
                    version,
                    simple: s.display,
                    up: u.display,
                });
            }
            (_, Some(u), _) => u,
            (_, None, Some(d)) => {
                return Err(LoadError::DownWithoutUp {
                    expected: format!("{version_text}_{name}.up.sql"),
                    file: d.display.clone(),
                });
            }
            (Some(s), None, None) => s,
            // A version group is never empty; this arm only keeps the match total without a panic.
            (None, None, None) => return Err(LoadError::EmptyUp { file: name }),
        };
        let mut up = whole_file(up)?;
        if layout == Layout::Sqlx && starts_no_transaction(&up.sql) {
            up.no_transaction = Some(1);
        }
        let down: Option<Part> = down.map(whole_file).transpose()?;
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
