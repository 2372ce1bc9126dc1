//! refinery and Flyway: `V{n}__{name}.sql`. The two tools disagree on `U{n}__{name}.sql`: refinery runs it as an
//! "unversioned" migration (in version order with the others), Flyway as the undo of `V{n}`. That is why detection
//! never picks either for a directory holding `U` files; the caller names the layout.
//!
//! Versions are integers here (Flyway's dotted `1.1` versions are refused by name, not reordered). `R__` files
//! (repeatable) are recognised and refused until repeatable migrations exist.

use super::{Layout, Unit, whole_file};
use crate::load::{Entry, LoadError, SourceFile};
use crate::name;
use std::collections::BTreeMap;

/// The pattern the errors show.
pub const EXPECTED: &str = "`V{version}__{name}.sql` (and `U{version}__{name}.sql`), version decimal digits";

/// Splits a file stem `V12__add_tags` into (`'V'`, `"12"`, `"add_tags"`); `U` likewise. The version may hold `.`
/// and `_` (Flyway's dotted versions) so such files are recognised, and refused, by name.
///
/// ```
/// use litemigrate_core::layouts::flyway::split_prefixed;
/// assert_eq!(split_prefixed("V12__add_tags"), Some(('V', "12", "add_tags")));
/// assert_eq!(split_prefixed("12_add_tags"), None);
/// ```
pub fn split_prefixed(stem: &str) -> Option<(char, &str, &str)> {
    let prefix = stem.chars().next().filter(|c| matches!(c, 'V' | 'U'))?;
    let (version, name) = stem[1..].split_once("__")?;
    let well_formed = version.starts_with(|c: char| c.is_ascii_digit())
        && version.chars().all(|c| c.is_ascii_digit() || c == '.' || c == '_')
        && !name.is_empty();
    well_formed.then_some((prefix, version, name))
}

pub(crate) fn read(layout: Layout, mut files: Vec<SourceFile>) -> Result<Vec<Unit>, LoadError> {
    files.sort_by(|a, b| a.file_name.cmp(&b.file_name));
    let bad = |file: String, reason: String| LoadError::NotInLayout {
        file,
        layout: layout.as_str().to_owned(),
        reason,
        expected: EXPECTED.to_owned(),
    };
    // version → (version text, name, V file, U file)
    let mut by_version: BTreeMap<u64, Vec<(char, String, String, SourceFile)>> = BTreeMap::new();
    for file in files {
        if name::is_ignored(&file.file_name) {
            continue;
        }
        if matches!(file.contents, Entry::Dir) || file.file_name.contains('/') {
            return Err(LoadError::Subdirectory { file: file.display });
        }
        let Some(stem) = file.file_name.strip_suffix(".sql") else {
            return Err(bad(file.display, "not a `.sql` file".into()));
        };
        if stem.starts_with("R__") {
            return Err(LoadError::Repeatable { file: file.display });
        }
        let Some((prefix, version_text, name)) = split_prefixed(stem) else {
            return Err(bad(file.display, "no `V{version}__` prefix".into()));
        };
        let (prefix, version_text, name) = (prefix, version_text.to_owned(), name.to_owned());
        if !version_text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad(
                file.display,
                format!("version `{version_text}` is dotted; only integer versions are supported"),
            ));
        }
        let version = name::parse_version(&version_text).map_err(|r| bad(file.display.clone(), r.to_string()))?;
        by_version
            .entry(version)
            .or_default()
            .push((prefix, version_text, name, file));
    }
    let mut units = Vec::with_capacity(by_version.len());
    for (version, mut group) in by_version {
        // Flyway pairs `V{n}` with its undo `U{n}`; anything else sharing a version is a duplicate.
        let is_pair = layout == Layout::Flyway
            && group.len() == 2
            && group[0].0 == 'U'
            && group[1].0 == 'V'
            && group[0].1 == group[1].1;
        if group.len() > 1 && !is_pair {
            return Err(LoadError::DuplicateVersion {
                version,
                files: group.into_iter().map(|(.., f)| f.display).collect(),
            });
        }
        let (prefix, version_text, name, up) = group.pop().ok_or(LoadError::EmptyUp {
            file: format!("version {version}"),
        })?;
        let undo = group.pop().map(|(.., f)| f);
        if layout == Layout::Flyway && prefix == 'U' {
            return Err(LoadError::DownWithoutUp {
                expected: format!("V{version_text}__{name}.sql"),
                file: up.display,
            });
        }
        units.push(Unit {
            version,
            version_text,
            name,
            up: whole_file(up)?,
            down: undo.map(whole_file).transpose()?,
            empty_up_ok: false,
        });
    }
    Ok(units)
}
