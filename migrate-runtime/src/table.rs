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
//! A set built at run time (`dynamic.rs`) has the same four pieces, owned (`Vec`s and `String`s behind an `Arc`, so
//! clones share them) and freed with the set.
//!
//! Both writers (the macro and `dynamic.rs`) build `meta` and `files` with `litemigrate_core::layout::push` from a
//! loaded set, and add a `code` entry for each code row in version order, so every row decodes to what was
//! written: `check` states that invariant, and tests hold the writers to it. It is not re-checked when a `static`
//! is evaluated: at 2000 rows that const evaluation alone cost a quarter of the plain table's build time. Decoding
//! is total regardless, so [`Migrations::iter`] yields every row and nothing panics, even for a table written by
//! hand.
//!
//! [`Migration`] is a `Copy` view decoded from these at fixed offsets, borrowing the set: no heap allocation, no
//! parsing, and lookup by version is a binary search over `meta`.

use litemigrate_core::Checksum;
use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

/// The error a Rust-code migration returns.
pub type CodeError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A Rust-code migration: gets the open transaction, returns a Result. An `Err` rolls the transaction back.
pub type CodeFn = fn(&rusqlite::Transaction<'_>) -> Result<(), CodeError>;

use litemigrate_core::layout::at;
#[doc(hidden)]
pub use litemigrate_core::layout::{STRIDE, flags};

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

/// One migration of a [`Migrations`] table: a small `Copy` view that borrows the set's data.
///
/// For an embedded set (a `static`) the lifetime is `'static`; for a set built at run time it is the set's, which
/// owns the data and frees it when dropped.
#[derive(Clone, Copy)]
pub struct Migration<'a> {
    pub(crate) version: u64,
    /// The up file as the build named it, or `rust:path::to::function` for a code migration.
    file: &'a str,
    /// The up SQL (empty for a code migration).
    up: &'a str,
    /// The down SQL (empty when there is none; [`flags::REVERSIBLE`] says whether there is one).
    down: &'a str,
    /// checksum ‖ chain ‖ schema hash.
    hashes: &'a [u8; 96],
    flags: u8,
    code: Option<CodeRef<'a>>,
}

/// The Rust side of a code migration, wherever the set keeps it.
#[derive(Clone, Copy)]
struct CodeRef<'a> {
    name: &'a str,
    up: CodeFn,
    down: Option<CodeFn>,
}

/// The up half of a migration.
#[derive(Clone, Copy)]
pub enum Up<'a> {
    /// SQL to execute.
    Sql(&'a str),
    /// A Rust function.
    Code(CodeFn),
}

/// The down half of a reversible migration.
#[derive(Clone, Copy)]
pub enum Down<'a> {
    /// SQL to execute.
    Sql(&'a str),
    /// A Rust function.
    Code(CodeFn),
}

impl<'a> Migration<'a> {
    /// The version number.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The name after the version (`add_users` for `0003_add_users.sql`).
    pub fn name(&self) -> &'a str {
        if let Some(code) = self.code {
            return code.name;
        }
        // The loader accepted the file in one of the layouts, whose names `name_of_file` knows.
        litemigrate_core::layouts::name_of_file(self.file)
    }

    /// The up file as the build named it (relative to the crate), or `rust:path::to::function` for a code
    /// migration.
    pub fn up_file(&self) -> &'a str {
        self.file
    }

    /// The down file, for reversible SQL migrations: the up file's `.up.sql` turned into `.down.sql` (or the
    /// other layouts' equivalent, see [`litemigrate_core::layouts::down_file_of`]).
    pub fn down_file(&self) -> Option<String> {
        if self.code.is_some() || !self.is_reversible() {
            return None;
        }
        Some(litemigrate_core::layouts::down_file_of(self.file))
    }

    /// The up SQL, or `None` for a Rust-code migration.
    pub fn up_sql(&self) -> Option<&'a str> {
        match self.code {
            Some(_) => None,
            None => Some(self.up),
        }
    }

    /// The up half.
    pub fn up(&self) -> Up<'a> {
        match self.code {
            Some(code) => Up::Code(code.up),
            None => Up::Sql(self.up),
        }
    }

    /// The down half, if the migration is reversible.
    pub fn down(&self) -> Option<Down<'a>> {
        match self.code {
            Some(code) => code.down.map(Down::Code),
            None if self.is_reversible() => Some(Down::Sql(self.down)),
            None => None,
        }
    }

    /// The down SQL, for reversible SQL migrations.
    pub fn down_sql(&self) -> Option<&'a str> {
        match self.down()? {
            Down::Sql(s) => Some(s),
            Down::Code(_) => None,
        }
    }

    /// Whether a down exists.
    pub fn is_reversible(&self) -> bool {
        self.flags & flags::REVERSIBLE != 0
    }

    /// SHA-256 of the normalized up file (see `litemigrate_core::checksum`); for code migrations, of
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

    /// A squash (`-- migrate:squashes`): it replaces every version up to its own, and a database that ran those
    /// migrations is recognised by its chain value at this version.
    pub fn is_squash(&self) -> bool {
        self.flags & flags::SQUASH != 0
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

impl fmt::Debug for Migration<'_> {
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
/// Build one with `litemigrate::embed_migrations!` (a `static`, no allocation) or, at run time, with
/// [`Migrations::from_sources`] / [`Migrations::from_dir`]. A set built at run time owns its data (shared by its
/// clones) and frees it when the last clone is dropped.
#[derive(Clone)]
pub struct Migrations {
    pub(crate) set: Cow<'static, str>,
    pub(crate) rows: Rows,
    pub(crate) final_schema: Option<Cow<'static, str>>,
    pub(crate) sqlite_version: Option<Cow<'static, str>>,
    /// The repeatable migrations, in name order.
    pub(crate) repeatables: Cow<'static, [crate::repeat::Repeatable]>,
    /// `litemigrate_core::repeatable::digest` of them, computed when the set is built so the launch check only
    /// combines it.
    pub(crate) repeat_digest: Option<Checksum>,
    /// Whether `-- migrate:requires` names other sets of the same database (a standalone set; the migrator checks
    /// them) rather than databases of a catalog (which orders them itself).
    pub(crate) requires_sets: bool,
}

/// Where a set's rows live: the macro's four flat statics, or run-time data the set owns. Both have the same
/// shape (see the module docs) and satisfy [`check`], so one decoder reads either.
#[derive(Clone)]
pub(crate) enum Rows {
    Static {
        /// Up and down SQL of migration `i` at `2i`, `2i + 1`.
        sql: &'static [&'static str],
        /// [`STRIDE`] bytes per migration.
        meta: &'static [u8],
        files: &'static str,
        /// The Rust-code migrations, in version order.
        code: &'static [Code],
    },
    /// Shared by clones, so cloning a set stays cheap; freed with the last clone.
    Owned(Arc<OwnedRows>),
}

/// The rows of a set built at run time: the same pieces as [`Rows::Static`], owned.
#[derive(Clone, Default)]
pub(crate) struct OwnedRows {
    pub(crate) sql: Vec<String>,
    pub(crate) meta: Vec<u8>,
    pub(crate) files: String,
    pub(crate) code: Vec<OwnedCode>,
}

/// [`Code`] with an owned name.
#[derive(Clone)]
pub(crate) struct OwnedCode {
    pub(crate) version: u64,
    pub(crate) name: String,
    pub(crate) up: CodeFn,
    pub(crate) down: Option<CodeFn>,
}

/// What is wrong with a table's pieces (see [`check`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TableError {
    /// `meta` is not a whole number of rows, or `sql` does not hold two strings per row.
    Lengths,
    /// A row's file name range is outside `files` or not on character boundaries.
    FileRange,
    /// Versions decrease somewhere (lookup is a binary search).
    Order,
    /// A code row without its entry in `code`, or an entry in `code` without its row.
    Code,
}

/// The function of a code row whose table lacks its entry (only a hand-made table can).
fn no_code_entry(_: &rusqlite::Transaction<'_>) -> Result<(), CodeError> {
    Err("the migration table has no function for this Rust-code migration".into())
}

/// The invariant the writers keep and the decoder relies on for correct rows: `meta` holds `sql_len / 2` rows,
/// each row's file name is a valid range of `files`, versions never decrease (lookup is a binary search), and the
/// code rows are, in order, exactly the entries of the code table (`code_versions`).
pub(crate) fn check(
    sql_len: usize,
    meta: &[u8],
    files: &str,
    code_versions: impl IntoIterator<Item = u64>,
) -> Result<(), TableError> {
    if !meta.len().is_multiple_of(STRIDE) || !sql_len.is_multiple_of(2) || meta.len() / STRIDE != sql_len / 2 {
        return Err(TableError::Lengths);
    }
    let mut prev = 0;
    let mut code_rows = Vec::new();
    for row in meta.chunks_exact(STRIDE) {
        let version = read_u64(row, at::VERSION);
        if version < prev {
            return Err(TableError::Order);
        }
        prev = version;
        let file_at = read_u32(row, at::FILE_AT) as usize;
        let file_len = read_u32(row, at::FILE_LEN) as usize;
        if file_at
            .checked_add(file_len)
            .and_then(|end| files.get(file_at..end))
            .is_none()
        {
            return Err(TableError::FileRange);
        }
        if row[at::FLAGS] & flags::CODE != 0 {
            code_rows.push(version);
        }
    }
    if !code_rows.into_iter().eq(code_versions) {
        return Err(TableError::Code);
    }
    Ok(())
}

/// [`check`] for a set built at run time.
pub(crate) fn check_owned(rows: &OwnedRows) -> Result<(), TableError> {
    check(
        rows.sql.len(),
        &rows.meta,
        &rows.files,
        rows.code.iter().map(|c| c.version),
    )
}

/// Reads a little-endian u64 at `at`. Every caller passes an offset inside one whole row of `meta`.
const fn read_u64(meta: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    let mut j = 0;
    while j < 8 {
        b[j] = meta[at + j];
        j += 1;
    }
    u64::from_le_bytes(b)
}

/// Reads a little-endian u32 at `at` (see [`read_u64`]).
const fn read_u32(meta: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([meta[at], meta[at + 1], meta[at + 2], meta[at + 3]])
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
        Migrations::__embedded_with_repeatables(set, sql, meta, files, code, final_schema, sqlite_version, &[], None)
    }

    /// [`Migrations::__embedded`] with repeatable migrations and their digest; not a stable API.
    #[doc(hidden)]
    #[allow(clippy::too_many_arguments)]
    pub const fn __embedded_with_repeatables(
        set: &'static str,
        sql: &'static [&'static str],
        meta: &'static [u8],
        files: &'static str,
        code: &'static [Code],
        final_schema: Option<&'static str>,
        sqlite_version: Option<&'static str>,
        repeatables: &'static [crate::repeat::Repeatable],
        repeat_digest: Option<[u8; 32]>,
    ) -> Migrations {
        // The O(1) part of `check`, and the part the decoder's indexing relies on.
        assert!(sql.len().is_multiple_of(2) && meta.len() == sql.len() / 2 * STRIDE);
        Migrations {
            repeatables: Cow::Borrowed(repeatables),
            repeat_digest: match repeat_digest {
                Some(d) => Some(Checksum(d)),
                None => None,
            },
            set: Cow::Borrowed(set),
            rows: Rows::Static { sql, meta, files, code },
            final_schema: match final_schema {
                Some(s) => Some(Cow::Borrowed(s)),
                None => None,
            },
            sqlite_version: match sqlite_version {
                Some(s) => Some(Cow::Borrowed(s)),
                None => None,
            },
            requires_sets: true,
        }
    }

    /// A set with no migrations, named `default`: a placeholder where a set is needed before there is one.
    ///
    /// ```
    /// static NONE: litemigrate_runtime::Migrations = litemigrate_runtime::Migrations::empty();
    /// assert!(NONE.is_empty() && NONE.latest().is_none());
    /// ```
    pub const fn empty() -> Migrations {
        Migrations::__embedded(litemigrate_core::layout::DEFAULT_SET, &[], &[], "", &[], None, None)
    }

    /// The repeatable migrations (`R__<name>.sql`), in name order.
    pub fn repeatables(&self) -> &[crate::repeat::Repeatable] {
        &self.repeatables
    }

    pub(crate) fn repeat_digest(&self) -> Option<&Checksum> {
        self.repeat_digest.as_ref()
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
        self.meta().len() / STRIDE
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn meta(&self) -> &[u8] {
        match &self.rows {
            Rows::Static { meta, .. } => meta,
            Rows::Owned(o) => &o.meta,
        }
    }

    /// The migration at position `i` (0 is the oldest).
    pub fn at(&self, i: usize) -> Option<Migration<'_>> {
        (i < self.len()).then(|| self.row(i))
    }

    /// Decodes row `i < self.len()`. Total: the lengths (asserted when the table was made) put every index below in
    /// bounds, and where [`check`] goes beyond them a hand-made bad table gets a fallback, not a panic.
    fn row(&self, i: usize) -> Migration<'_> {
        let (sql_up, sql_down, files, meta) = match &self.rows {
            Rows::Static { sql, meta, files, .. } => (sql[2 * i], sql[2 * i + 1], *files, *meta),
            Rows::Owned(o) => (
                o.sql[2 * i].as_str(),
                o.sql[2 * i + 1].as_str(),
                o.files.as_str(),
                &o.meta[..],
            ),
        };
        let row = &meta[i * STRIDE..(i + 1) * STRIDE];
        let version = read_u64(row, at::VERSION);
        let flags = row[at::FLAGS];
        let file_at = read_u32(row, at::FILE_AT) as usize;
        let file_end = file_at + read_u32(row, at::FILE_LEN) as usize;
        // `row` is STRIDE bytes, the last 96 of them (from `at::HASHES`) the three hashes.
        let hashes: &[u8; 96] = row[at::HASHES..]
            .try_into()
            .expect("a row ends with 96 bytes of hashes"); // invariant: STRIDE = at::HASHES + 96
        Migration {
            version,
            // Valid in every table the writers make (`check`); a hand-made bad range reads as no name.
            file: files.get(file_at..file_end).unwrap_or_default(),
            up: sql_up,
            down: sql_down,
            hashes,
            flags,
            code: (flags & flags::CODE != 0).then(|| self.code(version)),
        }
    }

    /// The code entry of a code row. The writers give every code row one (`check`); should a hand-made table lack
    /// it, the row still comes out, as a code migration whose function fails when run.
    fn code(&self, version: u64) -> CodeRef<'_> {
        let found = match &self.rows {
            Rows::Static { code, .. } => code
                .binary_search_by_key(&version, |c| c.version)
                .ok()
                .map(|i| CodeRef {
                    name: code[i].name,
                    up: code[i].up,
                    down: code[i].down,
                }),
            Rows::Owned(o) => o
                .code
                .binary_search_by_key(&version, |c| c.version)
                .ok()
                .map(|i| CodeRef {
                    name: &o.code[i].name,
                    up: o.code[i].up,
                    down: o.code[i].down,
                }),
        };
        found.unwrap_or(CodeRef {
            name: "",
            up: no_code_entry,
            down: None,
        })
    }

    /// The migration with this version (binary search: versions are strictly increasing).
    pub fn get(&self, version: u64) -> Option<Migration<'_>> {
        let i = self.position(version)?;
        Some(self.row(i))
    }

    /// The position of `version` in the set.
    pub(crate) fn position(&self, version: u64) -> Option<usize> {
        let meta = self.meta();
        let (mut lo, mut hi) = (0, meta.len() / STRIDE);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match read_u64(meta, mid * STRIDE + at::VERSION).cmp(&version) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(mid),
            }
        }
        None
    }

    /// The newest migration.
    pub fn latest(&self) -> Option<Migration<'_>> {
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

impl fmt::Debug for Migrations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Migrations")
            .field("set", &self.set)
            .field("migrations", &self.iter().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// Iterator over a set's migrations, oldest first. See [`Migrations::iter`]. Yields every row (decoding a row
/// cannot fail), so its length is exact.
#[derive(Clone)]
pub struct Iter<'a> {
    set: &'a Migrations,
    front: usize,
    back: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = Migration<'a>;

    fn next(&mut self) -> Option<Migration<'a>> {
        if self.front == self.back {
            return None;
        }
        self.front += 1;
        Some(self.set.row(self.front - 1))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.back - self.front;
        (n, Some(n))
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        if self.front == self.back {
            return None;
        }
        self.back -= 1;
        Some(self.set.row(self.back))
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl std::iter::FusedIterator for Iter<'_> {}

impl<'a> IntoIterator for &'a Migrations {
    type Item = Migration<'a>;
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

#[cfg(test)]
mod tests;
