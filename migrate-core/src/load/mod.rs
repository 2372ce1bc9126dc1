//! Turns a list of files into an ordered, validated set of migrations: the one place the file rules are applied.
//!
//! The macro feeds it the files it read at compile time, the runtime and the CLI a directory on disk or an
//! `include_dir::Dir`; all get the same [`LoadError`]s, which the macro turns into compile errors.

use crate::checksum::{self, Checksum};
use crate::directive::{self, Directive};
use crate::layouts::{self, Layout, Part, Unit};
use crate::name::{self, Classified, FileKind, FileName};
use crate::safety;
pub use crate::script::Script;
use crate::split;
use std::collections::BTreeMap;

mod error;
mod read;
mod squashed;

pub use error::LoadError;
#[cfg(feature = "include-dir")]
pub use read::read_include_dir;
pub use read::{load_dir, load_dir_as, read_dir};

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
    /// use litemigrate_core::load::SourceFile;
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
/// use litemigrate_core::load::load_in_memory;
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
/// use litemigrate_core::load::{add_code_migrations, CodeMigration};
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

/// Recomputes every chain value of an ordered set (a squash keeps the chain its directive carries).
pub fn rechain(set: &mut [MigrationSource]) {
    let mut chain = Checksum::ZERO;
    for m in set {
        chain = squashed::link(&m.up, &chain, m.version, &m.checksum);
        m.chain = chain;
    }
}

/// Validates a list of files and returns the migrations in version order, with checksums and chain values.
///
/// ```
/// use litemigrate_core::load::{load_files, Entry, SourceFile};
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
pub fn load_files(files: Vec<SourceFile>) -> Result<Vec<MigrationSource>, LoadError> {
    load_files_as(files, None)
}

/// [`load_files`] for a directory in a named layout (`Some`), or the one [`layouts::detect()`] finds (`None`).
/// Whatever the layout, every migration gets the same per-file rules, checksum and chain.
///
/// ```
/// use litemigrate_core::layouts::Layout;
/// use litemigrate_core::load::{load_files_as, SourceFile};
/// let f = |n: &str, sql: &str| SourceFile::in_memory("m", n, sql);
/// let set = load_files_as(vec![f("V1__init.sql", "CREATE TABLE a(x);"), f("U1__init.sql", "DROP TABLE a;")], Some(Layout::Flyway)).unwrap();
/// assert!(set[0].down.is_some());
/// ```
pub fn load_files_as(mut files: Vec<SourceFile>, layout: Option<Layout>) -> Result<Vec<MigrationSource>, LoadError> {
    // Repeatable (`R__`) files are valid in every layout and are read by `repeatable::load_repeatables`.
    files.retain(|f| !crate::repeatable::is_repeatable(&f.file_name));
    let layout = match layout {
        Some(l) => l,
        None => layouts::detect(&files)?,
    };
    match layout {
        Layout::Native => load_native(files),
        other => finish(layouts::read(other, files)?),
    }
}

/// Builds the set from another layout's units with the rules every migration gets.
fn finish(mut units: Vec<Unit>) -> Result<Vec<MigrationSource>, LoadError> {
    units.sort_by_key(|u| u.version);
    if let Some(w) = units.windows(2).find(|w| w[0].version == w[1].version) {
        return Err(LoadError::DuplicateVersion {
            version: w[0].version,
            files: vec![w[0].up.path.clone(), w[1].up.path.clone()],
        });
    }
    let mut out = Vec::with_capacity(units.len());
    let mut chain = Checksum::ZERO;
    for u in units {
        let up = part_script(u.up)?;
        if !u.empty_up_ok && !split::has_statements(&up.sql) && !up.directives.generates_sql() {
            return Err(LoadError::EmptyUp { file: up.path });
        }
        let down = u.down.map(part_script).transpose()?;
        let m = migration(u.version, u.name, up, down, &mut chain, out.first())?;
        out.push(m);
    }
    Ok(out)
}

fn part_script(part: Part) -> Result<Script, LoadError> {
    let mut script = parsed_script(part.path, part.sql)?;
    // The tool's own marker means what `-- migrate:no-transaction` means.
    if let Some(line) = part.no_transaction
        && !script.directives.no_transaction()
    {
        script.directives.list.push((line, Directive::NoTransaction));
    }
    Ok(script)
}

/// The safety rules, checksum and chain value of one migration.
fn migration(
    version: u64,
    name: String,
    up: Script,
    down: Option<Script>,
    chain: &mut Checksum,
    first: Option<&MigrationSource>,
) -> Result<MigrationSource, LoadError> {
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
    squashed::check(&up, version, first)?;
    *chain = squashed::link(&up, chain, version, &checksum);
    Ok(MigrationSource {
        version,
        name,
        up,
        down,
        checksum,
        chain: *chain,
        code: false,
    })
}

/// This library's own layout.
fn load_native(mut files: Vec<SourceFile>) -> Result<Vec<MigrationSource>, LoadError> {
    files.sort_by(|a, b| a.file_name.cmp(&b.file_name));
    let mut by_version: BTreeMap<u64, Vec<(FileName, SourceFile)>> = BTreeMap::new();
    for file in files {
        // Read by `repeatable::load_repeatables`.
        if crate::repeatable::is_repeatable(&file.file_name) {
            continue;
        }
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
        let name = up_name(&up.path);
        let m = migration(version, name, up, down, &mut chain, out.first())?;
        out.push(m);
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
    let (path, sql) = decode(file)?;
    parsed_script(path, sql)
}

fn parsed_script(path: String, sql: String) -> Result<Script, LoadError> {
    let directives = directive::parse(&sql).map_err(|error| LoadError::Directive {
        file: path.clone(),
        error,
    })?;
    Ok(Script { path, sql, directives })
}

/// A file's text as every layout reads it: UTF-8, no NUL byte, normalized (no BOM, LF line ends). Returns the
/// display name and the text.
pub(crate) fn decode(file: SourceFile) -> Result<(String, String), LoadError> {
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
    Ok((file.display, sql))
}

#[cfg(test)]
mod tests;
