//! The migration table: what `embed_migrations!` emits into a `static`, and what a directory loaded at run time
//! becomes.
//!
//! The table is shaped for the compiler, which type-checks whatever the macro writes once per migration: with 2000
//! migrations, every field of a per-migration struct literal costs measurable build time (see BENCHMARKS.md). So the
//! static holds four flat pieces instead of an array of structs:
//! - `sql`: the up and down SQL of migration `i` at `2i` and `2i + 1` (`include_str!`s, like a plain table would),
//! - `meta`: one byte string, [`STRIDE`] bytes per migration (version, directive bits, where its file name is in
//!   `files`, checksum ‖ chain ‖ schema hash),
//! - `files`: the file names, concatenated,
//! - `code`: the few Rust-code migrations, by version.
//!
//! [`Migration`] is a `Copy` view decoded from these at fixed offsets: no heap allocation, no parsing, and lookup by
//! version is a binary search over `meta`.

use migrate_core::Checksum;
use std::borrow::Cow;
use std::fmt;

/// The error a Rust-code migration returns.
pub type CodeError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A Rust-code migration: gets the open transaction, returns a Result. An `Err` rolls the transaction back.
pub type CodeFn = fn(&rusqlite::Transaction<'_>) -> Result<(), CodeError>;

use migrate_core::layout::at;
#[doc(hidden)]
pub use migrate_core::layout::{STRIDE, flags};

/// The Rust side of a code migration. Not a stable API.
#[doc(hidden)]
#[derive(Clone, Copy)]
pub struct Code {
    /// The migration's version.
    pub version: u64,
    /// The name declared in the `embed_migrations!` call.
    pub name: &'static str,
    /// The up function.
    pub up: CodeFn,
    /// The down function, if any.
    pub down: Option<CodeFn>,
}

/// One migration of a [`Migrations`] table: a small `Copy` view of the table's data.
#[derive(Clone, Copy)]
pub struct Migration {
    pub(crate) version: u64,
    /// The up file as the build named it, or `rust:path::to::function` for a code migration.
    file: &'static str,
    /// The up SQL (empty for a code migration).
    up: &'static str,
    /// The down SQL (empty when there is none; [`flags::REVERSIBLE`] says whether there is one).
    down: &'static str,
    /// checksum ‖ chain ‖ schema hash.
    hashes: &'static [u8; 96],
    flags: u8,
    code: Option<&'static Code>,
}

/// The up half of a migration.
#[derive(Clone, Copy)]
pub enum Up {
    /// SQL to execute.
    Sql(&'static str),
    /// A Rust function.
    Code(CodeFn),
}

/// The down half of a reversible migration.
#[derive(Clone, Copy)]
pub enum Down {
    /// SQL to execute.
    Sql(&'static str),
    /// A Rust function.
    Code(CodeFn),
}

impl Migration {
    /// The version number.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The name after the version (`add_users` for `0003_add_users.sql`).
    pub fn name(&self) -> &'static str {
        if let Some(code) = self.code {
            return code.name;
        }
        // The loader accepted the file name, so it is `{digits}_{name}.sql` or `{digits}_{name}.up.sql` with a name
        // of `[a-z0-9_]`; the fallbacks only matter for a hand-built row.
        let file_name = self.file.rsplit(['/', '\\']).next().unwrap_or(self.file);
        let rest = file_name.split_once('_').map_or(file_name, |(_, rest)| rest);
        rest.split_once('.').map_or(rest, |(name, _)| name)
    }

    /// The up file as the build named it (relative to the crate), or `rust:path::to::function` for a code
    /// migration.
    pub fn up_file(&self) -> &'static str {
        self.file
    }

    /// The down file, for reversible SQL migrations: the up file's `.up.sql` turned into `.down.sql`.
    pub fn down_file(&self) -> Option<String> {
        if self.code.is_some() || !self.is_reversible() {
            return None;
        }
        let stem = self.file.strip_suffix(".up.sql").unwrap_or(self.file);
        Some(format!("{stem}.down.sql"))
    }

    /// The up SQL, or `None` for a Rust-code migration.
    pub fn up_sql(&self) -> Option<&'static str> {
        match self.code {
            Some(_) => None,
            None => Some(self.up),
        }
    }

    /// The up half.
    pub fn up(&self) -> Up {
        match self.code {
            Some(code) => Up::Code(code.up),
            None => Up::Sql(self.up),
        }
    }

    /// The down half, if the migration is reversible.
    pub fn down(&self) -> Option<Down> {
        match self.code {
            Some(code) => code.down.map(Down::Code),
            None if self.is_reversible() => Some(Down::Sql(self.down)),
            None => None,
        }
    }

    /// The down SQL, for reversible SQL migrations.
    pub fn down_sql(&self) -> Option<&'static str> {
        match self.down()? {
            Down::Sql(s) => Some(s),
            Down::Code(_) => None,
        }
    }

    /// Whether a down exists.
    pub fn is_reversible(&self) -> bool {
        self.flags & flags::REVERSIBLE != 0
    }

    /// SHA-256 of the normalized up file (see `migrate_core::checksum`); for code migrations, of
    /// `rust:{version}:{name}`.
    pub fn checksum(&self) -> Checksum {
        self.hash(0)
    }

    /// The chain value up to and including this migration.
    pub fn chain(&self) -> Checksum {
        self.hash(1)
    }

    /// Hash of the structural schema after this migration, when the build validated the SQL.
    pub fn schema_hash(&self) -> Option<Checksum> {
        (self.flags & flags::SCHEMA_HASH != 0).then(|| self.hash(2))
    }

    fn hash(&self, i: usize) -> Checksum {
        let mut h = [0; 32];
        h.copy_from_slice(&self.hashes[i * 32..(i + 1) * 32]);
        Checksum(h)
    }

    /// `-- migrate:no-transaction`.
    pub fn no_transaction(&self) -> bool {
        self.flags & flags::NO_TRANSACTION != 0
    }

    /// `-- migrate:foreign-keys=off`.
    pub fn foreign_keys_off(&self) -> bool {
        self.flags & flags::FOREIGN_KEYS_OFF != 0
    }

    /// Whether this is a Rust-code migration.
    pub fn is_code(&self) -> bool {
        self.code.is_some()
    }
}

impl fmt::Debug for Migration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Migration")
            .field("version", &self.version)
            .field("name", &self.name())
            .field("up_file", &self.file)
            .field("down_file", &self.down_file())
            .field("code", &self.is_code())
            .field("checksum", &self.checksum())
            .field("chain", &self.chain())
            .field("no_transaction", &self.no_transaction())
            .field("foreign_keys_off", &self.foreign_keys_off())
            .finish_non_exhaustive()
    }
}

/// A set of migrations in version order, with what the build learned about the schema they produce.
///
/// Build one with `migrate::embed_migrations!` (a `static`, no allocation) or, at run time, with
/// [`Migrations::from_sources`] / [`Migrations::from_dir`].
#[derive(Clone)]
pub struct Migrations {
    pub(crate) set: Cow<'static, str>,
    /// Up and down SQL of migration `i` at `2i`, `2i + 1`.
    pub(crate) sql: &'static [&'static str],
    /// [`STRIDE`] bytes per migration.
    pub(crate) meta: &'static [u8],
    pub(crate) files: &'static str,
    /// The Rust-code migrations, in version order.
    pub(crate) code: &'static [Code],
    pub(crate) final_schema: Option<Cow<'static, str>>,
    pub(crate) sqlite_version: Option<Cow<'static, str>>,
}

impl Migrations {
    /// Used by `embed_migrations!`; not a stable API. Evaluated at compile time, so a table whose pieces disagree
    /// in length is a build error, not a run-time surprise.
    #[doc(hidden)]
    #[allow(clippy::too_many_arguments)]
    pub const fn __embedded(
        set: &'static str,
        sql: &'static [&'static str],
        meta: &'static [u8],
        files: &'static str,
        code: &'static [Code],
        final_schema: Option<&'static str>,
        sqlite_version: Option<&'static str>,
    ) -> Migrations {
        assert!(sql.len().is_multiple_of(2) && meta.len() == sql.len() / 2 * STRIDE);
        Migrations {
            set: Cow::Borrowed(set),
            sql,
            meta,
            files,
            code,
            final_schema: match final_schema {
                Some(s) => Some(Cow::Borrowed(s)),
                None => None,
            },
            sqlite_version: match sqlite_version {
                Some(s) => Some(Cow::Borrowed(s)),
                None => None,
            },
        }
    }

    /// A set with no migrations, named `default`: a placeholder where a set is needed before there is one.
    ///
    /// ```
    /// static NONE: migrate_runtime::Migrations = migrate_runtime::Migrations::empty();
    /// assert!(NONE.is_empty() && NONE.latest().is_none());
    /// ```
    pub const fn empty() -> Migrations {
        Migrations::__embedded("default", &[], &[], "", &[], None, None)
    }

    /// The set name that keys this set's rows in the history table (default `default`).
    pub fn set_name(&self) -> &str {
        &self.set
    }

    /// All migrations, oldest first.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            set: self,
            front: 0,
            back: self.len(),
        }
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.meta.len() / STRIDE
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The migration at position `i` (0 is the oldest).
    pub fn at(&self, i: usize) -> Option<Migration> {
        let meta = self.meta.get(i * STRIDE..(i + 1) * STRIDE)?;
        let flags = meta[at::FLAGS];
        let file_at = usize::try_from(u32_at(meta, at::FILE_AT)?).ok()?;
        let file_len = usize::try_from(u32_at(meta, at::FILE_LEN)?).ok()?;
        let version = version_at(meta)?;
        Some(Migration {
            version,
            file: self.files.get(file_at..file_at + file_len)?,
            up: self.sql.get(2 * i).copied()?,
            down: self.sql.get(2 * i + 1).copied()?,
            hashes: meta[at::HASHES..].try_into().ok()?,
            flags,
            code: if flags & flags::CODE != 0 {
                let i = self.code.binary_search_by_key(&version, |c| c.version).ok()?;
                Some(&self.code[i])
            } else {
                None
            },
        })
    }

    fn version_at(&self, i: usize) -> u64 {
        self.meta.get(i * STRIDE..).and_then(version_at).unwrap_or(u64::MAX)
    }

    /// The migration with this version (binary search: versions are strictly increasing).
    pub fn get(&self, version: u64) -> Option<Migration> {
        let i = self.position(version)?;
        self.at(i)
    }

    /// The position of `version` in the set.
    pub(crate) fn position(&self, version: u64) -> Option<usize> {
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.version_at(mid).cmp(&version) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(mid),
            }
        }
        None
    }

    /// The newest migration.
    pub fn latest(&self) -> Option<Migration> {
        self.at(self.len().checked_sub(1)?)
    }

    /// The newest version, 0 for an empty set.
    pub fn latest_version(&self) -> u64 {
        self.latest().map_or(0, |m| m.version)
    }

    /// The normalized structural schema after the newest migration, when the build validated the SQL.
    pub fn final_schema(&self) -> Option<&str> {
        self.final_schema.as_deref()
    }

    /// The SQLite version the build validated the SQL with.
    pub fn build_sqlite_version(&self) -> Option<&str> {
        self.sqlite_version.as_deref()
    }
}

fn version_at(meta: &[u8]) -> Option<u64> {
    Some(u64::from_le_bytes(
        meta.get(at::VERSION..at::VERSION + 8)?.try_into().ok()?,
    ))
}

fn u32_at(meta: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(meta.get(at..at + 4)?.try_into().ok()?))
}

impl fmt::Debug for Migrations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Migrations")
            .field("set", &self.set)
            .field("migrations", &self.iter().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// Iterator over a set's migrations, oldest first. See [`Migrations::iter`].
#[derive(Clone)]
pub struct Iter<'a> {
    set: &'a Migrations,
    front: usize,
    back: usize,
}

impl Iterator for Iter<'_> {
    type Item = Migration;

    fn next(&mut self) -> Option<Migration> {
        while self.front < self.back {
            self.front += 1;
            if let Some(m) = self.set.at(self.front - 1) {
                return Some(m);
            }
        }
        None
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.back - self.front))
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Migration> {
        while self.front < self.back {
            self.back -= 1;
            if let Some(m) = self.set.at(self.back) {
                return Some(m);
            }
        }
        None
    }
}

impl<'a> IntoIterator for &'a Migrations {
    type Item = Migration;
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}
