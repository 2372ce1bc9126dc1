//! Turns a list of files into an ordered, validated set of migrations: the one place the file rules are applied.
//!
//! The macro feeds it the files it read at compile time, the runtime and the CLI a directory on disk or an
//! `include_dir::Dir`; all get the same [`LoadError`]s, which the macro turns into compile errors.

use crate::checksum::{self, Checksum};
use crate::directive::{self, DirectiveError};
use crate::name::{self, Classified, FileKind, FileName, NameError};
use crate::safety::{self, Refusal};
pub use crate::script::Script;
use crate::split;
use std::collections::BTreeMap;
use std::path::Path;

/// One file offered to the loader.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The bare file name, which the naming rules apply to.
    pub file_name: String,
    /// How errors should name the file (e.g. `migrations/0003_x.sql`).
    pub display: String,
    /// What the entry is.
    pub contents: Entry,
}

impl SourceFile {
    /// A file held in memory, named `<dir>/<file_name>` in errors (for sets built from text rather than a
    /// directory: tests, generated sets, [`load_in_memory`]).
    ///
    /// ```
    /// use migrate_core::load::SourceFile;
    /// let f = SourceFile::in_memory("migrations", "0001_users.sql", "CREATE TABLE users(id INTEGER PRIMARY KEY);");
    /// assert_eq!(f.display, "migrations/0001_users.sql");
    /// ```
    pub fn in_memory(dir: &str, file_name: &str, contents: impl Into<Vec<u8>>) -> SourceFile {
        SourceFile {
            file_name: file_name.to_owned(),
            display: format!("{dir}/{file_name}"),
            contents: Entry::File(contents.into()),
        }
    }
}

/// Loads `(file name, text)` pairs as if they were the files of directory `dir`, with every rule [`load_files`]
/// applies.
///
/// ```
/// use migrate_core::load::load_in_memory;
/// let set = load_in_memory("migrations", &[("0001_a.sql", "CREATE TABLE a(x);"), ("0002_b.sql", "CREATE TABLE b(y);")]).unwrap();
/// assert_eq!(set.len(), 2);
/// let err = load_in_memory("migrations", &[("1_a.sql", "SELECT 1;"), ("01_b.sql", "SELECT 2;")]).unwrap_err();
/// assert!(err.to_string().contains("migrations/"));
/// ```
pub fn load_in_memory(dir: &str, files: &[(&str, &str)]) -> Result<Vec<MigrationSource>, LoadError> {
    load_files(
        files
            .iter()
            .map(|(name, sql)| SourceFile::in_memory(dir, name, *sql))
            .collect(),
    )
}

/// A directory entry's contents.
#[derive(Debug, Clone)]
pub enum Entry {
    /// A file's bytes.
    File(Vec<u8>),
    /// A subdirectory: migrations sit directly in the directory, so a visible one is an error.
    Dir,
}

/// One migration: its version, its up script, its optional down script and its hashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationSource {
    /// The version number.
    pub version: u64,
    /// The name after the version.
    pub name: String,
    /// The up script (the `.sql` or `.up.sql` file).
    pub up: Script,
    /// The down script, for reversible migrations.
    pub down: Option<Script>,
    /// SHA-256 of the normalized up file. The down file is not covered: fixing a rollback script never makes an
    /// applied migration look edited.
    pub checksum: Checksum,
    /// The chain value up to and including this migration.
    pub chain: Checksum,
    /// A Rust-code migration declared in `embed_migrations!(…, code = […])`: `up.sql` is empty and `up.path` is the
    /// function's path.
    pub code: bool,
}

/// A Rust-code migration declared beside the SQL files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeMigration {
    /// Its version, which no file may use.
    pub version: u64,
    /// Its name (same rules as file names).
    pub name: String,
    /// How errors and the history name it, e.g. the function path `crate::backfill_slugs`.
    pub path: String,
    /// Whether a down function was given.
    pub reversible: bool,
}

/// The checksum of a Rust-code migration: it covers the version and the name, not the function's code, which the
/// build cannot see. Changing what a code migration does therefore needs a new version.
pub fn code_checksum(version: u64, name: &str) -> Checksum {
    checksum::sha256(format!("rust:{version}:{name}").as_bytes())
}

/// Inserts Rust-code migrations among the file migrations and recomputes the chain over the merged list.
///
/// ```
/// use migrate_core::load::{add_code_migrations, CodeMigration};
/// let mut set = Vec::new();
/// add_code_migrations(&mut set, &[CodeMigration { version: 5, name: "backfill".into(), path: "app::backfill".into(), reversible: false }]).unwrap();
/// assert!(set[0].code);
/// ```
pub fn add_code_migrations(set: &mut Vec<MigrationSource>, code: &[CodeMigration]) -> Result<(), LoadError> {
    for c in code {
        if let Some(clash) = set.iter().find(|m| m.version == c.version) {
            return Err(LoadError::DuplicateVersion {
                version: c.version,
                files: vec![clash.up.path.clone(), c.path.clone()],
            });
        }
        name::parse(&format!("{}_{}.sql", c.version, c.name)).map_err(|reason| LoadError::BadName {
            file: c.path.clone(),
            reason,
        })?;
        let script = |path: &str| Script {
            path: path.to_owned(),
            sql: String::new(),
            directives: directive::Directives::default(),
        };
        set.push(MigrationSource {
            version: c.version,
            name: c.name.clone(),
            up: script(&c.path),
            down: c.reversible.then(|| script(&c.path)),
            checksum: code_checksum(c.version, &c.name),
            chain: Checksum::ZERO,
            code: true,
        });
    }
    set.sort_by_key(|m| m.version);
    rechain(set);
    Ok(())
}

/// Recomputes every chain value of an ordered set.
pub fn rechain(set: &mut [MigrationSource]) {
    let mut chain = Checksum::ZERO;
    for m in set {
        chain = checksum::chain(&chain, m.version, &m.checksum);
        m.chain = chain;
    }
}

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
}

impl LoadError {
    /// The files this error is about, first the one to fix.
    pub fn files(&self) -> Vec<&str> {
        match self {
            LoadError::ReadDir { path, .. } => vec![path],
            LoadError::DuplicateVersion { files, .. } => files.iter().map(String::as_str).collect(),
            LoadError::SimpleAndUp { simple, up, .. } => vec![simple, up],
            LoadError::ReadFile { file, .. }
            | LoadError::BadName { file, .. }
            | LoadError::Subdirectory { file }
            | LoadError::DownWithoutUp { file, .. }
            | LoadError::EmptyUp { file }
            | LoadError::NotUtf8 { file, .. }
            | LoadError::NulByte { file, .. }
            | LoadError::Refused { file, .. }
            | LoadError::Directive { file, .. } => vec![file],
        }
    }
}

/// Loads and validates a migrations directory on disk. Files are named `dir/file` in errors.
///
/// ```no_run
/// let set = migrate_core::load::load_dir("migrations".as_ref()).unwrap();
/// println!("{} migrations, newest {:?}", set.len(), set.last().map(|m| m.version));
/// ```
pub fn load_dir(dir: &Path) -> Result<Vec<MigrationSource>, LoadError> {
    load_files(read_dir(dir)?)
}

/// Reads a directory's entries for [`load_files`], without interpreting them.
pub fn read_dir(dir: &Path) -> Result<Vec<SourceFile>, LoadError> {
    let read_err = |e: std::io::Error| LoadError::ReadDir {
        path: dir.display().to_string(),
        message: e.to_string(),
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read_err)? {
        let entry = entry.map_err(read_err)?;
        let path = entry.path();
        let display = path.display().to_string();
        let Some(file_name) = entry.file_name().to_str().map(str::to_owned) else {
            // A non-UTF-8 name can never match the pattern; report it rather than skip it.
            return Err(LoadError::BadName {
                file: display,
                reason: NameError::NotSql,
            });
        };
        if name::is_ignored(&file_name) {
            continue;
        }
        // The entry's type comes with the listing (no `stat` per file, which is measurable at 4000 files); only a
        // symlink is followed, so a linked migration file is read like any other.
        let file_type = entry.file_type().map_err(read_err)?;
        let is_dir = if file_type.is_symlink() {
            path.is_dir()
        } else {
            file_type.is_dir()
        };
        // A FIFO, socket or device would block the read (or never end): refuse anything but a regular file.
        let is_file = if file_type.is_symlink() {
            path.is_file()
        } else {
            file_type.is_file()
        };
        let contents = if is_dir {
            Entry::Dir
        } else if !is_file {
            return Err(LoadError::ReadFile {
                file: display,
                message: "not a regular file (a FIFO, socket or device); migrations must be regular files".into(),
            });
        } else {
            Entry::File(std::fs::read(&path).map_err(|e| LoadError::ReadFile {
                file: display.clone(),
                message: e.to_string(),
            })?)
        };
        files.push(SourceFile {
            file_name,
            display,
            contents,
        });
    }
    Ok(files)
}

/// Lists the entries of an `include_dir::Dir` for [`load_files`] (feature `include-dir`), so a directory embedded
/// with `include_dir!` is held to exactly the rules the macro applies. Files are named by their path inside the
/// embedded directory.
///
/// ```
/// static DIR: include_dir::Dir<'_> = include_dir::include_dir!("$CARGO_MANIFEST_DIR/../examples/todo/migrations");
/// let set = migrate_core::load::load_files(migrate_core::load::read_include_dir(&DIR)).unwrap();
/// assert_eq!(set[0].name, "create_todos");
/// ```
#[cfg(feature = "include-dir")]
pub fn read_include_dir(dir: &include_dir::Dir<'_>) -> Vec<SourceFile> {
    dir.entries()
        .iter()
        .filter_map(|entry| {
            let path = entry.path();
            let file_name = path.file_name()?.to_string_lossy().into_owned();
            let contents = match entry {
                include_dir::DirEntry::Dir(_) => Entry::Dir,
                include_dir::DirEntry::File(f) => Entry::File(f.contents().to_vec()),
            };
            Some(SourceFile {
                file_name,
                display: path.display().to_string(),
                contents,
            })
        })
        .collect()
}

/// Validates a list of files and returns the migrations in version order, with checksums and chain values.
///
/// ```
/// use migrate_core::load::{load_files, Entry, SourceFile};
/// let file = |n: &str, sql: &str| SourceFile {
///     file_name: n.into(),
///     display: format!("migrations/{n}"),
///     contents: Entry::File(sql.as_bytes().to_vec()),
/// };
/// let set = load_files(vec![file("0002_b.sql", "CREATE TABLE b(x);"), file("0001_a.sql", "CREATE TABLE a(x);")]).unwrap();
/// assert_eq!(set.iter().map(|m| m.version).collect::<Vec<_>>(), [1, 2]);
///
/// let err = load_files(vec![file("1_a.sql", "SELECT 1;"), file("0001_b.sql", "SELECT 2;")]).unwrap_err();
/// assert_eq!(err.files(), ["migrations/0001_b.sql", "migrations/1_a.sql"]);
/// ```
pub fn load_files(mut files: Vec<SourceFile>) -> Result<Vec<MigrationSource>, LoadError> {
    files.sort_by(|a, b| a.file_name.cmp(&b.file_name));
    let mut by_version: BTreeMap<u64, Vec<(FileName, SourceFile)>> = BTreeMap::new();
    for file in files {
        match name::classify(&file.file_name) {
            Ok(Classified::Ignored) => {}
            Ok(Classified::Migration(_)) | Err(_) if matches!(file.contents, Entry::Dir) => {
                return Err(LoadError::Subdirectory { file: file.display });
            }
            Ok(Classified::Migration(parsed)) => by_version.entry(parsed.version).or_default().push((parsed, file)),
            Err(reason) => {
                return Err(LoadError::BadName {
                    file: file.display,
                    reason,
                });
            }
        }
    }
    let mut out = Vec::with_capacity(by_version.len());
    let mut chain = Checksum::ZERO;
    for (version, group) in by_version {
        let (up, down) = pair(version, group)?;
        let up = script(up)?;
        // A directive that generates SQL (e.g. `-- migrate:fts5`) is content on its own.
        if !split::has_statements(&up.sql) && !up.directives.generates_sql() {
            return Err(LoadError::EmptyUp { file: up.path });
        }
        let down = down.map(script).transpose()?;
        // The up file's `no-transaction` governs its down too: the runner runs both the same way.
        let in_transaction = !up.directives.no_transaction();
        for s in std::iter::once(&up).chain(&down) {
            safety::check(&s.sql, in_transaction).map_err(|r| LoadError::Refused {
                file: s.path.clone(),
                line: r.line,
                refusal: r.refusal,
            })?;
        }
        let checksum = checksum::checksum(&up.sql);
        chain = checksum::chain(&chain, version, &checksum);
        out.push(MigrationSource {
            version,
            name: up_name(&up.path),
            up,
            down,
            checksum,
            chain,
            code: false,
        });
    }
    Ok(out)
}

fn up_name(display: &str) -> String {
    let file = display.rsplit(['/', '\\']).next().unwrap_or(display);
    // The display path ends in a file name that `classify` already accepted.
    name::parse(file).map(|f| f.name).unwrap_or_default()
}

/// Checks the files of one version form a valid migration and returns (up, down).
fn pair(version: u64, group: Vec<(FileName, SourceFile)>) -> Result<(SourceFile, Option<SourceFile>), LoadError> {
    let first = &group[0].0;
    if group
        .iter()
        .any(|(f, _)| f.name != first.name || f.version_text != first.version_text)
    {
        return Err(LoadError::DuplicateVersion {
            version,
            files: group.into_iter().map(|(_, s)| s.display).collect(),
        });
    }
    let mut simple = None;
    let mut up = None;
    let mut down = None;
    for (f, s) in group {
        match f.kind {
            FileKind::Simple => simple = Some(s),
            FileKind::Up => up = Some(s),
            FileKind::Down => down = Some((f, s)),
        }
    }
    match (simple, up, down) {
        (Some(simple), Some(up), _) => Err(LoadError::SimpleAndUp {
            version,
            simple: simple.display,
            up: up.display,
        }),
        (_, None, Some((f, d))) => Err(LoadError::DownWithoutUp {
            expected: FileName {
                kind: FileKind::Up,
                ..f
            }
            .to_string(),
            file: d.display,
        }),
        (Some(simple), None, None) => Ok((simple, None)),
        (None, Some(up), down) => Ok((up, down.map(|(_, d)| d))),
        // A group is never empty and every file has one of the three kinds.
        (None, None, None) => unreachable!("empty version group"),
    }
}

fn script(file: SourceFile) -> Result<Script, LoadError> {
    let Entry::File(bytes) = file.contents else {
        return Err(LoadError::Subdirectory { file: file.display });
    };
    let text = String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let line = 1 + e.as_bytes()[..offset].iter().filter(|b| **b == b'\n').count();
        LoadError::NotUtf8 {
            file: file.display.clone(),
            offset,
            line,
        }
    })?;
    if let Some((line, column)) = safety::nul_position(&text) {
        return Err(LoadError::NulByte {
            file: file.display,
            line,
            column,
        });
    }
    let sql = checksum::normalize(&text).into_owned();
    let directives = directive::parse(&sql).map_err(|error| LoadError::Directive {
        file: file.display.clone(),
        error,
    })?;
    Ok(Script {
        path: file.display,
        sql,
        directives,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directive::DirectiveErrorKind;

    fn f(n: &str, sql: &str) -> SourceFile {
        SourceFile {
            file_name: n.into(),
            display: format!("m/{n}"),
            contents: Entry::File(sql.as_bytes().to_vec()),
        }
    }

    #[test]
    fn orders_numerically_and_pairs() {
        let set = load_files(vec![
            f("10_c.sql", "SELECT 3;"),
            f("9_b.up.sql", "SELECT 2;"),
            f("9_b.down.sql", "SELECT -2;"),
            f("0001_a.sql", "SELECT 1;"),
            f("README.md", "notes"),
        ])
        .unwrap();
        let v: Vec<(u64, &str, bool)> = set
            .iter()
            .map(|m| (m.version, m.name.as_str(), m.down.is_some()))
            .collect();
        assert_eq!(v, [(1, "a", false), (9, "b", true), (10, "c", false)]);
        assert_eq!(set[1].up.path, "m/9_b.up.sql");
        assert_eq!(set[1].down.as_ref().unwrap().path, "m/9_b.down.sql");
        // The chain links each migration to the one before.
        assert_eq!(set[0].chain, checksum::chain(&Checksum::ZERO, 1, &set[0].checksum));
        assert_eq!(set[2].chain, checksum::chain(&set[1].chain, 10, &set[2].checksum));
    }

    #[test]
    fn crlf_and_bom_do_not_change_checksums() {
        let a = load_files(vec![f("1_a.sql", "CREATE TABLE t(x);\nSELECT 1;\n")]).unwrap();
        let b = load_files(vec![f("1_a.sql", "\u{feff}CREATE TABLE t(x);\r\nSELECT 1;\r\n")]).unwrap();
        assert_eq!(a[0].checksum, b[0].checksum);
        assert_eq!(a[0].chain, b[0].chain);
        assert_eq!(b[0].up.sql, "CREATE TABLE t(x);\nSELECT 1;\n");
    }

    #[test]
    fn down_edit_keeps_checksum() {
        let a = load_files(vec![f("1_a.up.sql", "SELECT 1;"), f("1_a.down.sql", "SELECT 2;")]).unwrap();
        let b = load_files(vec![f("1_a.up.sql", "SELECT 1;"), f("1_a.down.sql", "SELECT 3;")]).unwrap();
        assert_eq!(a[0].checksum, b[0].checksum);
    }

    #[test]
    fn every_set_rule() {
        let err = |files| load_files(files).unwrap_err();
        assert!(matches!(err(vec![f("1-a.sql", "x")]), LoadError::BadName { file, .. } if file == "m/1-a.sql"));
        assert!(matches!(
            err(vec![f("notes.txt", "x")]),
            LoadError::BadName {
                reason: NameError::NotSql,
                ..
            }
        ));
        assert_eq!(
            err(vec![f("1_a.sql", "SELECT 1;"), f("01_b.up.sql", "SELECT 1;")]),
            LoadError::DuplicateVersion {
                version: 1,
                files: vec!["m/01_b.up.sql".into(), "m/1_a.sql".into()]
            }
        );
        // Same name, different spelling of the version: still a duplicate.
        assert!(matches!(
            err(vec![f("1_a.sql", "SELECT 1;"), f("001_a.sql", "SELECT 1;")]),
            LoadError::DuplicateVersion { version: 1, .. }
        ));
        assert_eq!(
            err(vec![f("2_a.down.sql", "SELECT 1;")]),
            LoadError::DownWithoutUp {
                file: "m/2_a.down.sql".into(),
                expected: "2_a.up.sql".into()
            }
        );
        assert!(matches!(
            err(vec![f("2_a.sql", "SELECT 1;"), f("2_a.down.sql", "SELECT 1;")]),
            LoadError::DownWithoutUp { .. }
        ));
        assert_eq!(
            err(vec![f("3_a.sql", "SELECT 1;"), f("3_a.up.sql", "SELECT 1;")]),
            LoadError::SimpleAndUp {
                version: 3,
                simple: "m/3_a.sql".into(),
                up: "m/3_a.up.sql".into()
            }
        );
        assert_eq!(
            err(vec![f("4_a.sql", "")]),
            LoadError::EmptyUp {
                file: "m/4_a.sql".into()
            }
        );
        assert_eq!(
            err(vec![f("4_a.sql", "-- todo\n/* later */\n")]),
            LoadError::EmptyUp {
                file: "m/4_a.sql".into()
            }
        );
        let mut bad = f("5_a.sql", "");
        bad.contents = Entry::File(b"SELECT 1;\nSELECT '\xff';".to_vec());
        assert_eq!(
            err(vec![bad]),
            LoadError::NotUtf8 {
                file: "m/5_a.sql".into(),
                offset: 18,
                line: 2
            }
        );
        assert!(matches!(
            err(vec![f("6_a.sql", "-- migrate:nope\nSELECT 1;")]),
            LoadError::Directive { file, error } if file == "m/6_a.sql"
                && error.line == 1 && matches!(error.kind, DirectiveErrorKind::Unknown { .. })
        ));
        let mut dir = f("sub", "");
        dir.contents = Entry::Dir;
        assert_eq!(err(vec![dir]), LoadError::Subdirectory { file: "m/sub".into() });
    }

    #[test]
    fn code_migrations_join_the_chain() {
        let mut set = load_files(vec![f("1_a.sql", "SELECT 1;"), f("3_c.sql", "SELECT 3;")]).unwrap();
        let decl = |v: u64, n: &str| CodeMigration {
            version: v,
            name: n.into(),
            path: format!("app::{n}"),
            reversible: false,
        };
        add_code_migrations(&mut set, &[decl(2, "backfill")]).unwrap();
        assert_eq!(
            set.iter().map(|m| (m.version, m.code)).collect::<Vec<_>>(),
            [(1, false), (2, true), (3, false)]
        );
        assert_eq!(set[1].checksum, code_checksum(2, "backfill"));
        assert_eq!(set[2].chain, checksum::chain(&set[1].chain, 3, &set[2].checksum));
        assert!(matches!(
            add_code_migrations(&mut set, &[decl(3, "clash")]),
            Err(LoadError::DuplicateVersion { version: 3, files }) if files == ["m/3_c.sql", "app::clash"]
        ));
        assert!(matches!(
            add_code_migrations(&mut set, &[decl(9, "Bad")]),
            Err(LoadError::BadName { .. })
        ));
    }

    #[cfg(feature = "include-dir")]
    #[test]
    fn include_dir_follows_the_same_rules() {
        static GOOD: include_dir::Dir<'_> =
            include_dir::include_dir!("$CARGO_MANIFEST_DIR/../examples/todo/migrations");
        let set = load_files(read_include_dir(&GOOD)).unwrap();
        assert_eq!(set.iter().map(|m| m.version).collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(set[0].up.path, "0001_create_todos.up.sql");
        let on_disk = load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/todo/migrations")).unwrap();
        assert_eq!(set.last().unwrap().chain, on_disk.last().unwrap().chain);

        static BAD: include_dir::Dir<'_> =
            include_dir::include_dir!("$CARGO_MANIFEST_DIR/../tests/ui/fixtures/duplicate_version");
        assert!(matches!(
            load_files(read_include_dir(&BAD)),
            Err(LoadError::DuplicateVersion { version: 1, .. })
        ));
    }

    #[test]
    fn empty_set_is_fine() {
        assert!(load_files(vec![]).unwrap().is_empty());
    }

    #[test]
    fn reads_a_directory() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("0001_a.sql"), "CREATE TABLE a(x);").unwrap();
        std::fs::write(dir.path().join(".hidden"), "x").unwrap();
        std::fs::create_dir(dir.path().join(".git")).unwrap();
        let set = load_dir(dir.path()).unwrap();
        assert_eq!(set.len(), 1);
        assert!(set[0].up.path.ends_with("0001_a.sql"));
        std::fs::create_dir(dir.path().join("old")).unwrap();
        assert!(matches!(load_dir(dir.path()), Err(LoadError::Subdirectory { .. })));
        assert!(matches!(
            load_dir(&dir.path().join("missing")),
            Err(LoadError::ReadDir { .. })
        ));
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_refused_not_read() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("0001_a.sql"), "CREATE TABLE a(x);").unwrap();
        let fifo = dir.path().join("0002_b.sql");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
        assert!(made.success());
        // Reading it would block forever: nobody writes to it.
        match load_dir(dir.path()) {
            Err(LoadError::ReadFile { file, message }) => {
                assert!(file.ends_with("0002_b.sql"), "{file}");
                assert!(message.contains("not a regular file"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn versions_fit_in_sqlite_integers() {
        let err = load_in_memory("m", &[("9223372036854775808_big.sql", "SELECT 1;")]).unwrap_err();
        assert!(err.to_string().contains("largest integer SQLite stores"), "{err}");
        let set = load_in_memory("m", &[("9223372036854775807_big.sql", "SELECT 1;")]).unwrap();
        assert_eq!(set[0].version, i64::MAX as u64);
    }

    #[test]
    fn nul_bytes_are_refused_with_their_position() {
        let err = load_in_memory("m", &[("1_n.sql", "CREATE TABLE n1(x);\n  \0CREATE TABLE n2(x);")]).unwrap_err();
        assert_eq!(
            err,
            LoadError::NulByte {
                file: "m/1_n.sql".into(),
                line: 2,
                column: 3
            }
        );
        // In a down file too.
        let err = load_in_memory(
            "m",
            &[
                ("1_n.up.sql", "CREATE TABLE n(x);"),
                ("1_n.down.sql", "DROP TABLE n;\0"),
            ],
        )
        .unwrap_err();
        assert!(
            matches!(err, LoadError::NulByte { ref file, .. } if file == "m/1_n.down.sql"),
            "{err}"
        );
    }

    #[test]
    fn refusals_name_the_down_file_and_respect_no_transaction() {
        let err = load_in_memory(
            "m",
            &[
                ("1_a.up.sql", "CREATE TABLE a(x);"),
                ("1_a.down.sql", "DROP TABLE a;\nCOMMIT;"),
            ],
        )
        .unwrap_err();
        assert!(
            matches!(err, LoadError::Refused { ref file, line: 2, .. } if file == "m/1_a.down.sql"),
            "{err}"
        );
        load_in_memory(
            "m",
            &[
                (
                    "1_a.up.sql",
                    "-- migrate:no-transaction\nBEGIN; CREATE TABLE a(x); COMMIT;",
                ),
                ("1_a.down.sql", "BEGIN; DROP TABLE a; COMMIT;"),
            ],
        )
        .unwrap();
    }
}
