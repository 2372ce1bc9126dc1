//! Which layout a directory is written in, from its entries: diesel's per-migration directories, `V`/`U` prefixes,
//! dbmate's and goose's section markers, sqlx's names and `-- no-transaction`. Two layouts in one directory are an
//! error naming a file of each; a `U` file, which refinery and Flyway read differently, is never guessed.

use super::{Layout, flyway, numbered, sections};
use crate::load::{Entry, LoadError, SourceFile};
use crate::name::{self, NameError};

/// What one entry says about the layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Evidence {
    Diesel,
    /// `V…__`, `U…__` or `R__`: refinery or Flyway.
    Prefixed,
    Dbmate,
    Goose,
    /// `{digits}_…`: this library's own names, or sqlx's when `sqlx` is true.
    Numbered {
        sqlx: bool,
    },
}

impl Evidence {
    fn group(self) -> &'static str {
        match self {
            Evidence::Diesel => "diesel",
            Evidence::Prefixed => "refinery/flyway",
            Evidence::Dbmate => "dbmate",
            Evidence::Goose => "goose",
            Evidence::Numbered { .. } => "numbered (litemigrate, sqlx, golang-migrate)",
        }
    }
}

/// Detects the layout of a directory's entries (as [`crate::load::read_dir`] lists them, diesel's `dir/up.sql`
/// included). A directory with nothing recognisable is [`Layout::Native`], whose loader then names what is wrong.
///
/// ```
/// use litemigrate_core::layouts::{detect, Layout};
/// use litemigrate_core::load::SourceFile;
/// let f = |n: &str, sql: &str| SourceFile::in_memory("m", n, sql);
/// assert_eq!(detect(&[f("V1__init.sql", "CREATE TABLE a(x);")]).unwrap(), Layout::Refinery);
/// assert_eq!(detect(&[f("1_a.sql", "-- +goose Up\nCREATE TABLE a(x);")]).unwrap(), Layout::Goose);
/// assert!(detect(&[f("V1__a.sql", "SELECT 1;"), f("2_b.sql", "SELECT 2;")]).is_err());
/// ```
pub fn detect(files: &[SourceFile]) -> Result<Layout, LoadError> {
    let mut sorted: Vec<&SourceFile> = files.iter().collect();
    sorted.sort_by(|a, b| a.file_name.cmp(&b.file_name));
    let mut seen: Vec<(Evidence, &SourceFile)> = Vec::new();
    let mut undo: Option<&SourceFile> = None;
    for file in sorted {
        let Some(evidence) = evidence(file) else { continue };
        if evidence == Evidence::Prefixed && file.file_name.starts_with('U') && undo.is_none() {
            undo = Some(file);
        }
        match seen.iter().find(|(e, _)| e.group() == evidence.group()) {
            Some(_) => {
                if let Evidence::Numbered { sqlx: true } = evidence {
                    // sqlx names are a superset of ours: one such file makes the whole directory sqlx.
                    for (e, _) in &mut seen {
                        if let Evidence::Numbered { sqlx } = e {
                            *sqlx = true;
                        }
                    }
                }
            }
            None => seen.push((evidence, file)),
        }
    }
    if let [(a, first), (b, second), ..] = seen.as_slice() {
        return Err(LoadError::MixedLayouts {
            first: first.display.clone(),
            first_layout: a.group().to_owned(),
            second: second.display.clone(),
            second_layout: b.group().to_owned(),
        });
    }
    Ok(match seen.first().map(|(e, _)| *e) {
        None | Some(Evidence::Numbered { sqlx: false }) => Layout::Native,
        Some(Evidence::Numbered { sqlx: true }) => Layout::Sqlx,
        Some(Evidence::Diesel) => Layout::Diesel,
        Some(Evidence::Dbmate) => Layout::Dbmate,
        Some(Evidence::Goose) => Layout::Goose,
        Some(Evidence::Prefixed) => match undo {
            Some(u) => {
                return Err(LoadError::AmbiguousUndo {
                    file: u.display.clone(),
                });
            }
            None => Layout::Refinery,
        },
    })
}

fn evidence(file: &SourceFile) -> Option<Evidence> {
    if let Some((_, inner)) = file.file_name.split_once('/') {
        return matches!(inner, "up.sql" | "down.sql" | "metadata.toml").then_some(Evidence::Diesel);
    }
    if name::is_ignored(&file.file_name) || matches!(file.contents, Entry::Dir) {
        return None;
    }
    let stem = file.file_name.strip_suffix(".sql")?;
    if flyway::split_prefixed(stem).is_some() || stem.starts_with("R__") {
        return Some(Evidence::Prefixed);
    }
    let Entry::File(bytes) = &file.contents else {
        return None;
    };
    // A file that is not UTF-8 says nothing here; the loader reports it.
    let text = std::str::from_utf8(bytes).unwrap_or("");
    match sections::marker_tool(text) {
        Some(Layout::Dbmate) => return Some(Evidence::Dbmate),
        Some(Layout::Goose) => return Some(Evidence::Goose),
        _ => {}
    }
    match name::parse(&file.file_name) {
        Ok(_) => Some(Evidence::Numbered {
            sqlx: numbered::starts_no_transaction(text),
        }),
        // Only the description's characters make a name sqlx's; a bad version is a mistake in any layout, and
        // this library's own message for it is the better one.
        Err(NameError::BadNameChar { .. }) => {
            numbered::split(&file.file_name).map(|_| Evidence::Numbered { sqlx: true })
        }
        Err(_) => None,
    }
}
