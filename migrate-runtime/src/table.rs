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
/// Plain `&'static` data with no drop glue, and public fields so `embed_migrations!` can emit struct literals: rustc
/// type-checks a static array of 2000 such literals several times faster than 2000 `const fn` calls or rows that
/// hold `Cow`s. The fields are not a stable API; use the accessor methods. Sets built at run time
/// ([`Migrations::from_dir`]) leak their text to get `&'static` data; they are built once per process.
#[derive(Clone, Copy)]
pub struct Migration {
    #[doc(hidden)]
    pub version: u64,
    #[doc(hidden)]
    pub name: &'static str,
    #[doc(hidden)]
    pub up_file: &'static str,
    #[doc(hidden)]
    pub up: Up,
    #[doc(hidden)]
    pub down_file: Option<&'static str>,
    #[doc(hidden)]
    pub down: Option<Down>,
    #[doc(hidden)]
    pub checksum: Checksum,
    #[doc(hidden)]
    pub chain: Checksum,
    #[doc(hidden)]
    pub schema_hash: Option<Checksum>,
    #[doc(hidden)]
    pub no_transaction: bool,
    #[doc(hidden)]
    pub foreign_keys_off: bool,
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
    pub fn name(&self) -> &str {
        self.name
    }

    /// The up file as the build named it (relative to the crate), or `<rust code>` for a code migration.
    pub fn up_file(&self) -> &str {
        self.up_file
    }

    /// The down file, for reversible SQL migrations.
    pub fn down_file(&self) -> Option<&str> {
        self.down_file
    }

    /// The up SQL, or `None` for a Rust-code migration.
    pub fn up_sql(&self) -> Option<&str> {
        match &self.up {
            Up::Sql(s) => Some(s),
            Up::Code(_) => None,
        }
    }

    /// The up half.
    pub fn up(&self) -> &Up {
        &self.up
    }

    /// The down half, if the migration is reversible.
    pub fn down(&self) -> Option<&Down> {
        self.down.as_ref()
    }

    /// The down SQL, for reversible SQL migrations.
    pub fn down_sql(&self) -> Option<&str> {
        match &self.down {
            Some(Down::Sql(s)) => Some(s),
            _ => None,
        }
    }

    /// Whether a down exists.
    pub fn is_reversible(&self) -> bool {
        self.down.is_some()
    }

    /// SHA-256 of the normalized up file (see `migrate_core::checksum`); for code migrations, of
    /// `rust:{version}:{name}`.
    pub fn checksum(&self) -> Checksum {
        self.checksum
    }

    /// The chain value up to and including this migration.
    pub fn chain(&self) -> Checksum {
        self.chain
    }

    /// Hash of the structural schema after this migration, when the build validated the SQL.
    pub fn schema_hash(&self) -> Option<Checksum> {
        self.schema_hash
    }

    /// `-- migrate:no-transaction`.
    pub fn no_transaction(&self) -> bool {
        self.no_transaction
    }

    /// `-- migrate:foreign-keys=off`.
    pub fn foreign_keys_off(&self) -> bool {
        self.foreign_keys_off
    }

    /// Whether this is a Rust-code migration.
    pub fn is_code(&self) -> bool {
        matches!(self.up, Up::Code(_))
    }
}

impl fmt::Debug for Migration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Migration")
            .field("version", &self.version)
            .field("name", &self.name)
            .field("up_file", &self.up_file)
            .field("down_file", &self.down_file)
            .field("code", &self.is_code())
            .field("checksum", &self.checksum)
            .field("chain", &self.chain)
            .field("no_transaction", &self.no_transaction)
            .field("foreign_keys_off", &self.foreign_keys_off)
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
