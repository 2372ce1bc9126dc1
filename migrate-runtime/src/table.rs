//! The migration table: what `embed_migrations!` emits into a `static`, and what a directory loaded at run time
//! becomes. Borrowed (`Cow::Borrowed`) data makes the static free of heap allocation and parsing; owned data serves
//! sets loaded at run time by the CLI.

use migrate_core::Checksum;
use std::borrow::Cow;
use std::fmt;

/// The error a Rust-code migration returns.
pub type CodeError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A Rust-code migration: gets the open transaction, returns a Result. An `Err` rolls the transaction back.
pub type CodeFn = fn(&rusqlite::Transaction<'_>) -> Result<(), CodeError>;

/// One migration of a [`Migrations`] table.
///
/// The row is what `embed_migrations!` writes 2000 times into a `static`, so its shape is chosen for the compiler:
/// seven fields of plain `&'static` data and integers (no drop glue, no enums or `Option`s to infer per row), the three
/// hashes in one byte string, the directives in one integer, and the name read off the file name. A static array of
/// such rows type-checks about as fast as a plain array of `include_str!`s; the first version of this struct (eleven
/// fields, hashes and halves wrapped in newtypes and enums) cost five times more (see BENCHMARKS.md). The fields are
/// not a stable API; use the accessor methods. Sets built at run time ([`Migrations::from_dir`]) leak their text to
/// get `&'static` data; they are built once per process.
#[derive(Clone, Copy)]
pub struct Migration {
    #[doc(hidden)]
    pub version: u64,
    /// The up file as the build named it, or `rust:path::to::function` for a code migration.
    #[doc(hidden)]
    pub file: &'static str,
    /// The up SQL (empty for a code migration).
    #[doc(hidden)]
    pub up: &'static str,
    /// The down SQL (empty when there is none; [`flags::REVERSIBLE`] says whether there is one).
    #[doc(hidden)]
    pub down: &'static str,
    /// checksum ‖ chain ‖ schema hash (the last only meaningful with [`flags::SCHEMA_HASH`]).
    #[doc(hidden)]
    pub hashes: &'static [u8; 96],
    /// [`flags`] bits.
    #[doc(hidden)]
    pub flags: u8,
    /// The functions and name of a Rust-code migration.
    #[doc(hidden)]
    pub code: Option<&'static Code>,
}

/// Bits of [`Migration::flags`]. Not a stable API.
#[doc(hidden)]
pub mod flags {
    /// The migration has a down (SQL, or a function for code migrations).
    pub const REVERSIBLE: u8 = 1;
    /// `-- migrate:no-transaction`.
    pub const NO_TRANSACTION: u8 = 2;
    /// `-- migrate:foreign-keys=off`.
    pub const FOREIGN_KEYS_OFF: u8 = 4;
    /// The build ran the SQL and recorded the schema hash.
    pub const SCHEMA_HASH: u8 = 8;
}

/// The Rust side of a code migration. Not a stable API.
#[doc(hidden)]
#[derive(Clone, Copy)]
pub struct Code {
    /// The name declared in the `embed_migrations!` call.
    pub name: &'static str,
    /// The up function.
    pub up: CodeFn,
    /// The down function, if any.
    pub down: Option<CodeFn>,
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
#[derive(Clone, Debug)]
pub struct Migrations {
    pub(crate) set: Cow<'static, str>,
    pub(crate) migrations: Cow<'static, [Migration]>,
    pub(crate) final_schema: Option<Cow<'static, str>>,
    pub(crate) sqlite_version: Option<Cow<'static, str>>,
}

impl Migrations {
    /// Used by `embed_migrations!`; not a stable API.
    #[doc(hidden)]
    pub const fn __embedded(
        set: &'static str,
        migrations: &'static [Migration],
        final_schema: Option<&'static str>,
        sqlite_version: Option<&'static str>,
    ) -> Migrations {
        Migrations {
            set: Cow::Borrowed(set),
            migrations: Cow::Borrowed(migrations),
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

    /// The set name that keys this set's rows in the history table (default `default`).
    pub fn set_name(&self) -> &str {
        &self.set
    }

    /// All migrations, oldest first.
    pub fn iter(&self) -> std::slice::Iter<'_, Migration> {
        self.migrations.iter()
    }

    /// All migrations, oldest first.
    pub fn as_slice(&self) -> &[Migration] {
        &self.migrations
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.migrations.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.migrations.is_empty()
    }

    /// The migration with this version (binary search: versions are strictly increasing).
    pub fn get(&self, version: u64) -> Option<&Migration> {
        self.migrations
            .binary_search_by_key(&version, |m| m.version)
            .ok()
            .map(|i| &self.migrations[i])
    }

    /// The newest migration.
    pub fn latest(&self) -> Option<&Migration> {
        self.migrations.last()
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

impl<'a> IntoIterator for &'a Migrations {
    type Item = &'a Migration;
    type IntoIter = std::slice::Iter<'a, Migration>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}
