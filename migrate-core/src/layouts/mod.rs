//! Other tools' directory layouts (diesel, sqlx, golang-migrate, refinery, Flyway, dbmate, goose), read as those
//! tools write them, so a project switches without renaming or restructuring a file.
//!
//! (Not to be confused with [`crate::layout`], the byte layout of the embedded table.)
//!
//! Each layout turns the directory's entries into [`Unit`]s: a version, the name as written, an up part and an
//! optional down part, each a file or a section of one. The loader then applies the same per-migration rules as
//! to its own layout (UTF-8, NUL, safety, directives, the checksum: SHA-256 of the normalized up part, so CRLF never
//! changes it). Which layout a directory uses is detected ([`detect()`]) unless the caller names one.
//!
//! Versions: the history stores an SQLite integer, so every layout maps its version text to a `u64` that orders
//! migrations exactly as the tool does. Numeric tools (sqlx, golang-migrate, refinery, Flyway, goose) use the
//! number. diesel compares versions as text; its digits are right-padded with zeros to
//! [`diesel::VERSION_DIGITS`] (14, the width of diesel's own timestamps), which orders them as text does, and two
//! versions that pad to the same number are a duplicate-version error rather than a silent merge. dbmate also
//! orders by file name: a dbmate directory whose versions would order differently as numbers is refused.

use crate::load::{LoadError, SourceFile};
use std::fmt;
use std::str::FromStr;

pub mod detect;
pub mod diesel;
pub mod flyway;
pub mod numbered;
pub mod sections;

pub use detect::detect;

/// A directory layout: this library's own, or another tool's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Layout {
    /// `{version}_{name}.sql`, or `.up.sql` + `.down.sql` (see [`crate::name`]).
    Native,
    /// `{version}_{name}/up.sql` + `down.sql` (+ `metadata.toml`).
    Diesel,
    /// `{digits}_{description}.sql` or `.up.sql`/`.down.sql`; `-- no-transaction` on the first line.
    Sqlx,
    /// `{version}_{title}.up.sql` / `.down.sql`.
    GolangMigrate,
    /// `V{n}__{name}.sql`; `U{n}__{name}.sql` is an unversioned migration, applied in order with the others.
    Refinery,
    /// `V{n}__{desc}.sql`; `U{n}__{desc}.sql` is the undo (down) of `V{n}`.
    Flyway,
    /// `{version}_{name}.sql` with `-- migrate:up` and `-- migrate:down` sections.
    Dbmate,
    /// `{version}_{name}.sql` with `-- +goose Up` and `-- +goose Down` sections.
    Goose,
}

impl Layout {
    /// Every layout, in the order the docs list them.
    pub const ALL: [Layout; 8] = [
        Layout::Native,
        Layout::Diesel,
        Layout::Sqlx,
        Layout::GolangMigrate,
        Layout::Refinery,
        Layout::Flyway,
        Layout::Dbmate,
        Layout::Goose,
    ];

    /// The name the `layout` option and `--layout` take.
    pub fn as_str(self) -> &'static str {
        match self {
            Layout::Native => "litemigrate",
            Layout::Diesel => "diesel",
            Layout::Sqlx => "sqlx",
            Layout::GolangMigrate => "golang-migrate",
            Layout::Refinery => "refinery",
            Layout::Flyway => "flyway",
            Layout::Dbmate => "dbmate",
            Layout::Goose => "goose",
        }
    }

    /// Every accepted name, for error messages.
    pub fn names() -> String {
        Layout::ALL
            .iter()
            .map(|l| format!("`{}`", l.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl fmt::Display for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A layout name that is not one of [`Layout::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown layout `{0}`; expected one of {names}", names = Layout::names())]
pub struct UnknownLayout(pub String);

impl FromStr for Layout {
    type Err = UnknownLayout;

    /// ```
    /// use litemigrate_core::layouts::Layout;
    /// assert_eq!("diesel".parse::<Layout>().unwrap(), Layout::Diesel);
    /// assert!("liquibase".parse::<Layout>().is_err());
    /// ```
    fn from_str(s: &str) -> Result<Layout, UnknownLayout> {
        match s {
            "native" => return Ok(Layout::Native),
            "golang_migrate" | "migrate" => return Ok(Layout::GolangMigrate),
            _ => {}
        }
        Layout::ALL
            .into_iter()
            .find(|l| l.as_str() == s)
            .ok_or_else(|| UnknownLayout(s.to_owned()))
    }
}

/// What a file is to a layout. `Repeatable` (Flyway's `R__`) is recognised so it is never misread as a versioned
/// file; the versioned loader leaves such files to [`crate::repeatable::load_repeatables`], in every layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The up script of a version.
    Up,
    /// The down script of a version.
    Down,
    /// One file holding both, in sections (dbmate, goose).
    Sections,
    /// Re-applied whenever it changes, after the versioned ones (Flyway/refinery `R__`).
    Repeatable,
}

/// One part of a migration: a whole file, or a section of one, already decoded and normalized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// How errors and the history name it: the file (`migrations/2024…_x/up.sql`, `migrations/1_x.sql`).
    pub path: String,
    /// The normalized text. A section keeps the lines above it as blank lines, so SQLite's line numbers are the
    /// file's.
    pub sql: String,
    /// The tool's own "run outside a transaction" marker was found (sqlx `-- no-transaction`, diesel
    /// `run_in_transaction = false`, dbmate `transaction:false`, goose `NO TRANSACTION`), on this 1-based line.
    pub no_transaction: Option<usize>,
}

/// One migration as a layout reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    /// The version the history stores (see the module docs for how each layout maps its text).
    pub version: u64,
    /// The version as the tool writes and stores it (`20180114171611` for diesel's `2018-01-14-171611`).
    pub version_text: String,
    /// The name as written (`create_users`, `Add-Users`, `add users`).
    pub name: String,
    /// The up part.
    pub up: Part,
    /// The down part; `None` when the tool's idiom says irreversible (no file, an empty or comment-only one).
    pub down: Option<Part>,
    /// The tool accepts an up part with no statements (diesel keeps comment-only `up.sql` files so versions line
    /// up across databases): it is a no-op migration, not an error.
    pub empty_up_ok: bool,
}

/// Reads `files` as `layout` (never [`Layout::Native`], which the loader reads itself).
pub(crate) fn read(layout: Layout, files: Vec<SourceFile>) -> Result<Vec<Unit>, LoadError> {
    match layout {
        Layout::Native => unreachable!("the loader reads its own layout"), // invariant: load_files_as dispatches Native itself
        Layout::Diesel => diesel::read(files),
        Layout::Sqlx | Layout::GolangMigrate => numbered::read(layout, files),
        Layout::Refinery | Layout::Flyway => flyway::read(layout, files),
        Layout::Dbmate | Layout::Goose => sections::read(layout, files),
    }
}

/// The migration name a history row's file stands for, in any layout: `create_users` for
/// `migrations/2018-01-14-171611_create_users/up.sql`, `init` for `V1__init.sql`, `Add users` for
/// `1_Add users.up.sql`.
///
/// ```
/// use litemigrate_core::layouts::name_of_file;
/// assert_eq!(name_of_file("m/0003_add_users.up.sql"), "add_users");
/// assert_eq!(name_of_file("m/2018-01-14-171611_create_users/up.sql"), "create_users");
/// assert_eq!(name_of_file("m/V2__add_tags.sql"), "add_tags");
/// ```
pub fn name_of_file(file: &str) -> &str {
    let mut parts = file.rsplit(['/', '\\']);
    let last = parts.next().unwrap_or(file);
    if matches!(last, "up.sql" | "down.sql")
        && let Some(dir) = parts.next()
    {
        return dir.split_once('_').map_or(dir, |(_, rest)| rest);
    }
    let stem = [".up.sql", ".down.sql", ".sql"]
        .iter()
        .find_map(|s| last.strip_suffix(s))
        .unwrap_or(last);
    if let Some((_, _, name)) = flyway::split_prefixed(stem) {
        return name;
    }
    stem.split_once('_').map_or(stem, |(_, rest)| rest)
}

/// The down file that goes with a reversible migration's up file, in any layout: `x.up.sql` → `x.down.sql`,
/// diesel's `dir/up.sql` → `dir/down.sql`, Flyway's `V3__x.sql` → `U3__x.sql`; a dbmate or goose file holds its
/// own down section.
///
/// ```
/// use litemigrate_core::layouts::down_file_of;
/// assert_eq!(down_file_of("m/3_x.up.sql"), "m/3_x.down.sql");
/// assert_eq!(down_file_of("m/2018-01-14-171611_x/up.sql"), "m/2018-01-14-171611_x/down.sql");
/// assert_eq!(down_file_of("m/V3__x.sql"), "m/U3__x.sql");
/// assert_eq!(down_file_of("m/20240101_x.sql"), "m/20240101_x.sql");
/// ```
pub fn down_file_of(up_file: &str) -> String {
    if let Some(stem) = up_file.strip_suffix(".up.sql") {
        return format!("{stem}.down.sql");
    }
    if let Some(dir) = up_file.strip_suffix("up.sql")
        && (dir.ends_with('/') || dir.ends_with('\\'))
    {
        return format!("{dir}down.sql");
    }
    let (dir, last) = match up_file.rfind(['/', '\\']) {
        Some(i) => up_file.split_at(i + 1),
        None => ("", up_file),
    };
    if last.starts_with('V') && last.strip_suffix(".sql").and_then(flyway::split_prefixed).is_some() {
        return format!("{dir}U{}", &last[1..]);
    }
    up_file.to_owned()
}

/// Decodes a part from a file's bytes (UTF-8, no NUL, normalized).
pub(crate) fn whole_file(file: SourceFile) -> Result<Part, LoadError> {
    let (path, sql) = crate::load::decode(file)?;
    Ok(Part {
        path,
        sql,
        no_transaction: None,
    })
}

#[cfg(test)]
mod tests;
