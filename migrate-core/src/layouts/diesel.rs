//! diesel: one directory per migration, `{version}_{name}/up.sql` + `down.sql` (+ `metadata.toml`).
//!
//! The version is what diesel stores: the directory name up to its first `_`, with `-` removed
//! (`2018-01-14-171611_x` → `20180114171611`, `2024-03-13_170000_x` → `20240313`). diesel orders versions as text;
//! here they are right-padded with zeros to [`VERSION_DIGITS`] digits, which orders them as text does even when
//! their lengths differ (`20240313` → `20240313000000`), and reads naturally as a timestamp. Two versions that pad
//! to the same number are a duplicate-version error naming both.
//!
//! diesel's idioms: an empty or comment-only `down.sql` means "cannot be reverted" (irreversible); a comment-only
//! `up.sql` (kept so versions line up with the MySQL and PostgreSQL sets) is a no-op migration.
//! `metadata.toml` may say `run_in_transaction = false`.

use super::{Part, Unit, whole_file};
use crate::load::{Entry, LoadError, SourceFile};
use crate::name;
use crate::split;
use std::collections::BTreeMap;

/// The width versions are padded to: diesel's own `%Y-%m-%d-%H%M%S` timestamps have 14 digits.
pub const VERSION_DIGITS: usize = 14;

/// The pattern the errors show.
pub const EXPECTED: &str = "a directory `{version}_{name}` holding `up.sql` (and `down.sql`, `metadata.toml`), \
version digits and `-`";

/// The version diesel stores for a migration directory name, and the number this library keeps it as.
///
/// ```
/// use litemigrate_core::layouts::diesel::version_of;
/// assert_eq!(version_of("2018-01-14-171611_create_users").unwrap(), ("20180114171611".to_owned(), 20180114171611));
/// assert_eq!(version_of("2024-03-13_170000_x").unwrap(), ("20240313".to_owned(), 20240313000000));
/// assert!(version_of("create_users").is_err());
/// ```
pub fn version_of(dir_name: &str) -> Result<(String, u64), String> {
    let head = dir_name.split('_').next().unwrap_or(dir_name);
    let text: String = head.chars().filter(|c| *c != '-').collect();
    number_of(&text).map(|n| (text, n))
}

/// The number a diesel version text (as `__diesel_schema_migrations` stores it) is kept as.
///
/// ```
/// use litemigrate_core::layouts::diesel::number_of;
/// assert!(number_of("20240313").unwrap() > number_of("20180114171611").unwrap());
/// ```
pub fn number_of(text: &str) -> Result<u64, String> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("version `{text}` is not digits (and `-`)"));
    }
    if text.len() > VERSION_DIGITS {
        return Err(format!("version `{text}` has more than {VERSION_DIGITS} digits"));
    }
    let padded = format!("{text:0<width$}", width = VERSION_DIGITS);
    match padded.parse::<u64>() {
        Ok(0) => Err(format!("version `{text}` is zero; versions start at 1")),
        Ok(n) => Ok(n),
        Err(e) => Err(format!("version `{text}`: {e}")),
    }
}

#[derive(Default)]
struct Dir {
    display: String,
    up: Option<SourceFile>,
    down: Option<SourceFile>,
    metadata: Option<SourceFile>,
}

pub(crate) fn read(mut files: Vec<SourceFile>) -> Result<Vec<Unit>, LoadError> {
    files.sort_by(|a, b| a.file_name.cmp(&b.file_name));
    let bad = |file: String, reason: String| LoadError::NotInLayout {
        file,
        layout: "diesel".into(),
        reason,
        expected: EXPECTED.to_owned(),
    };
    let mut dirs: BTreeMap<String, Dir> = BTreeMap::new();
    for file in files {
        let Some((dir, inner)) = file.file_name.split_once('/') else {
            if name::is_ignored(&file.file_name) {
                continue;
            }
            if matches!(file.contents, Entry::Dir) {
                let display = file.display.clone();
                dirs.entry(file.file_name).or_default().display = display;
                continue;
            }
            return Err(bad(file.display, "a file beside the migration directories".into()));
        };
        if name::is_ignored(inner) {
            continue;
        }
        let (dir, inner) = (dir.to_owned(), inner.to_owned());
        let entry = dirs.entry(dir).or_default();
        if entry.display.is_empty() {
            // A list built in memory may hold a directory's files without the directory itself.
            let parent = file.display.strip_suffix(inner.as_str()).unwrap_or(&file.display);
            entry.display = parent.trim_end_matches(['/', '\\']).to_owned();
        }
        let slot = match inner.as_str() {
            _ if matches!(file.contents, Entry::Dir) || inner.contains('/') => {
                return Err(LoadError::Subdirectory { file: file.display });
            }
            "up.sql" => &mut entry.up,
            "down.sql" => &mut entry.down,
            "metadata.toml" => &mut entry.metadata,
            _ => {
                return Err(bad(
                    file.display,
                    "diesel reads only `up.sql`, `down.sql` and `metadata.toml`".into(),
                ));
            }
        };
        *slot = Some(file);
    }
    let mut by_version: BTreeMap<u64, Unit> = BTreeMap::new();
    for (dir_name, dir) in dirs {
        let Some((_, name)) = dir_name.split_once('_') else {
            return Err(bad(dir.display, "no `_` between the version and the name".into()));
        };
        let (version_text, version) = version_of(&dir_name).map_err(|r| bad(dir.display.clone(), r))?;
        let Some(up) = dir.up else {
            return Err(LoadError::MissingUp {
                dir: dir.display.clone(),
                expected: format!("{}/up.sql", dir.display),
            });
        };
        let mut up = whole_file(up)?;
        if let Some(meta) = dir.metadata {
            up.no_transaction = metadata_no_transaction(meta)?;
        }
        let down = match dir.down {
            Some(d) => Some(whole_file(d)?).filter(|d: &Part| split::has_statements(&d.sql)),
            None => None,
        };
        if let Some(clash) = by_version.get(&version) {
            return Err(LoadError::DuplicateVersion {
                version,
                files: vec![clash.up.path.clone(), up.path],
            });
        }
        by_version.insert(
            version,
            Unit {
                version,
                version_text,
                name: name.to_owned(),
                up,
                down,
                empty_up_ok: true,
            },
        );
    }
    Ok(by_version.into_values().collect())
}

/// Reads `metadata.toml`: diesel's one key, `run_in_transaction`. Anything else is refused by line rather than
/// ignored, since a key this reader does not know could change how diesel ran the migration.
fn metadata_no_transaction(file: SourceFile) -> Result<Option<usize>, LoadError> {
    let (path, text) = crate::load::decode(file)?;
    let mut no_transaction = None;
    for (i, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let value = line
            .split_once('=')
            .filter(|(k, _)| k.trim() == "run_in_transaction")
            .map(|(_, v)| v.trim());
        match value {
            Some("false") => no_transaction = Some(1),
            Some("true") => no_transaction = None,
            _ => {
                return Err(LoadError::Metadata {
                    file: path,
                    line: i + 1,
                    message: format!("`{line}`: only `run_in_transaction = true|false` is understood"),
                });
            }
        }
    }
    Ok(no_transaction)
}
