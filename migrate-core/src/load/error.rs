//! What the loader refuses: one error type, every variant naming the file(s).

use crate::directive::DirectiveError;
use crate::name::{self, NameError};
use crate::safety::Refusal;

/// A file or set of files that breaks the rules. Every variant names the file(s).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    /// The directory could not be listed.
    #[error("{path}: cannot read the migrations directory: {message}")]
    ReadDir {
        /// The directory.
        path: String,
        /// The OS error.
        message: String,
    },
    /// A file could not be read.
    #[error("{file}: cannot read: {message}")]
    ReadFile {
        /// The file.
        file: String,
        /// The OS error.
        message: String,
    },
    /// A file that is neither a migration, hidden, nor Markdown.
    #[error("{file}: bad migration file name: {reason}; {}", name::EXPECTED_PATTERN)]
    BadName {
        /// The file.
        file: String,
        /// Which rule it breaks.
        reason: NameError,
    },
    /// A visible subdirectory.
    #[error("{file}: is a directory; migrations sit directly in the migrations directory (hidden entries are ignored)")]
    Subdirectory {
        /// The subdirectory.
        file: String,
    },
    /// Two or more files share a version (even with different names).
    #[error("version {version} is used by more than one migration: {}", files.join(", "))]
    DuplicateVersion {
        /// The version.
        version: u64,
        /// All files with that version.
        files: Vec<String>,
    },
    /// A `.down.sql` whose `.up.sql` does not exist.
    #[error("{file}: down migration without its up migration `{expected}`")]
    DownWithoutUp {
        /// The down file.
        file: String,
        /// The up file it needs.
        expected: String,
    },
    /// Both `V_x.sql` and `V_x.up.sql`.
    #[error("{simple} and {up} both define version {version}; keep `.up.sql` (with a `.down.sql`) or the plain `.sql`")]
    SimpleAndUp {
        /// The version.
        version: u64,
        /// The plain file.
        simple: String,
        /// The up file.
        up: String,
    },
    /// An up file with no SQL.
    #[error("{file}: up migration is empty or only comments")]
    EmptyUp {
        /// The file.
        file: String,
    },
    /// A file that is not UTF-8.
    #[error("{file}: not valid UTF-8 (first bad byte at offset {offset}, line {line})")]
    NotUtf8 {
        /// The file.
        file: String,
        /// Byte offset of the first invalid byte.
        offset: usize,
        /// Its line.
        line: usize,
    },
    /// A NUL byte: SQLite stops reading SQL at one, so the statements after it would be recorded as applied
    /// without ever running.
    #[error(
        "{file}:{line}:{column}: NUL byte in a migration: SQLite stops reading SQL at a NUL, so everything after it \
         would silently never run; remove it (inside SQL, write a NUL value as `char(0)` or `x'00'`)"
    )]
    NulByte {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column, in characters.
        column: usize,
    },
    /// A statement the runner cannot allow in this file (see [`crate::safety`]).
    #[error("{file}:{line}: {refusal}")]
    Refused {
        /// The file.
        file: String,
        /// The statement's line.
        line: usize,
        /// Why.
        refusal: Refusal,
    },
    /// A bad `-- migrate:` directive.
    #[error("{file}: {error}")]
    Directive {
        /// The file.
        file: String,
        /// The line and what is wrong.
        error: DirectiveError,
    },
    /// Files of two layouts in one directory.
    #[error(
        "{first} ({first_layout}) and {second} ({second_layout}): two migration layouts in one directory; keep one, \
         or name it with the `layout` option"
    )]
    MixedLayouts {
        /// A file of the first layout.
        first: String,
        /// What the first file looks like.
        first_layout: String,
        /// A file of the second layout.
        second: String,
        /// What the second file looks like.
        second_layout: String,
    },
    /// A `U{n}__` file with no `layout` option: refinery reads it as an unversioned migration, Flyway as an undo.
    #[error(
        "{file}: `U` files mean \"unversioned\" to refinery and \"undo\" (the down) to Flyway; say which with \
         `layout = \"refinery\"` or `layout = \"flyway\"`"
    )]
    AmbiguousUndo {
        /// The first `U` file.
        file: String,
    },
    /// A repeatable (`R__`) migration, which this library does not apply yet.
    #[error("{file}: repeatable (`R__`) migrations are not supported yet")]
    Repeatable {
        /// The file.
        file: String,
    },
    /// A name that does not fit the directory's (detected or named) layout.
    #[error("{file}: not a {layout} migration: {reason}; expected {expected}")]
    NotInLayout {
        /// The file or directory.
        file: String,
        /// The layout.
        layout: String,
        /// What is wrong.
        reason: String,
        /// The pattern.
        expected: String,
    },
    /// A diesel migration directory without `up.sql`.
    #[error("{dir}: diesel migration directory without `up.sql` (expected {expected})")]
    MissingUp {
        /// The directory.
        dir: String,
        /// The file it needs.
        expected: String,
    },
    /// A dbmate or goose file whose section markers are missing or out of order.
    #[error("{file}:{line}: {message}")]
    Section {
        /// The file.
        file: String,
        /// The marker's line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A diesel `metadata.toml` this loader does not understand.
    #[error("{file}:{line}: {message}")]
    Metadata {
        /// The file.
        file: String,
        /// The line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A layout that orders by file name (dbmate) holding versions whose numeric order differs.
    #[error(
        "{earlier} and {later}: {layout} runs files in name order, which differs from their versions' numeric \
         order; give the versions the same number of digits"
    )]
    OrderDiffers {
        /// The layout.
        layout: String,
        /// The file that sorts first by number.
        earlier: String,
        /// The file that sorts first by name.
        later: String,
    },
}

impl LoadError {
    /// The files this error is about, first the one to fix.
    pub fn files(&self) -> Vec<&str> {
        match self {
            LoadError::ReadDir { path, .. } => vec![path],
            LoadError::DuplicateVersion { files, .. } => files.iter().map(String::as_str).collect(),
            LoadError::SimpleAndUp { simple, up, .. } => vec![simple, up],
            LoadError::MixedLayouts { first, second, .. } => vec![first, second],
            LoadError::OrderDiffers { earlier, later, .. } => vec![later, earlier],
            LoadError::MissingUp { dir, .. } => vec![dir],
            LoadError::ReadFile { file, .. }
            | LoadError::BadName { file, .. }
            | LoadError::Subdirectory { file }
            | LoadError::DownWithoutUp { file, .. }
            | LoadError::EmptyUp { file }
            | LoadError::NotUtf8 { file, .. }
            | LoadError::NulByte { file, .. }
            | LoadError::Refused { file, .. }
            | LoadError::Directive { file, .. }
            | LoadError::AmbiguousUndo { file }
            | LoadError::Repeatable { file }
            | LoadError::NotInLayout { file, .. }
            | LoadError::Section { file, .. }
            | LoadError::Metadata { file, .. } => vec![file],
        }
    }
}
