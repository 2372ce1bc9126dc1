//! Several databases in one application: a catalog of migration sets, one file each in a data directory, with
//! dependencies between them, one backup run before any file changes, and all or nothing across files.
//!
//! ```no_run
//! # static DATABASES: litemigrate_runtime::catalog::Databases = litemigrate_runtime::catalog::Databases::empty();
//! let report = DATABASES.migrate_all("data").unwrap(); // data/knowledge.db, data/tasks.db, … created when missing
//! println!("{report}");
//! println!("{}", DATABASES.status_all("data").unwrap());
//! ```
//!
//! # Order
//!
//! Every database's migrations apply in version order; `-- migrate:requires <db>@<version>` makes one wait until
//! the other database is at that version. The runner walks the pending migrations of all files in an order that
//! satisfies both (`plan.rs`), running consecutive migrations of one file as one batch.
//!
//! # Cross-database migrations
//!
//! A migration with `-- migrate:attach <db>` runs on its own with the other file attached under that name. In
//! rollback-journal mode (SQLite's default) SQLite commits a transaction that wrote several attached files
//! atomically (through a super-journal): after a crash either every file has the change or none has. In WAL mode
//! SQLite commits each file separately, so a crash in the middle of the commit can leave one file changed and the
//! other not; the all-or-nothing rule below then covers it on the next failure, and a file that must never see that
//! state should stay in rollback-journal mode.
//!
//! # All or nothing
//!
//! Before the first file changes, one backup run (`backups/<run id>/` in the data directory, see [`BackupRun`])
//! holds a verified copy of every file that will change and the application's extra paths
//! ([`CatalogOptions::extra_paths`]). If any step fails, the files this run already changed are restored from it
//! (files the run created are removed), so the directory is at the old release or the new one. If another
//! connection wrote to one of them since this run changed it, nothing is restored (that write would be lost) and the
//! error names the file. [`CatalogOptions::keep_progress`] keeps each file's progress instead.
//!
//! # The launch check
//!
//! With nothing pending, [`Databases::migrate_all`] opens each file and makes the set's launch check (one
//! `PRAGMA user_version` read), and returns; it takes no lock and writes nothing.

mod backup_run;
mod error;
mod files;
// Loading a catalog directory runs the build's checks (feature `validate`).
#[cfg(feature = "validate")]
mod load;
mod plan;
mod rollback;
mod run;
mod status;

pub use backup_run::{BackupRun, RunExtra, RunFile, find_run, list_runs, restore_run};
pub use error::CatalogError;
pub use run::{CatalogOptions, CatalogReport, DatabaseReport, OnStep};
pub use status::{CatalogStatus, DatabaseStatus};

use crate::table::Migrations;
use std::borrow::Cow;
use std::path::{Path, PathBuf};

/// One database of a catalog: its name (the migrations subdirectory), its file in the data directory, whether the
/// application only reads it, and its migrations.
#[derive(Debug, Clone)]
pub struct Database {
    name: Cow<'static, str>,
    file: Cow<'static, str>,
    read_only: bool,
    migrations: Migrations,
}

impl Database {
    /// A database built at run time (a directory loaded by the CLI, or tests).
    pub fn new(name: impl Into<String>, file: impl Into<String>, read_only: bool, mut migrations: Migrations) -> Self {
        // Its `requires` name databases of the catalog, which orders them; not sets of its own file.
        migrations.requires_sets = false;
        Database {
            name: Cow::Owned(name.into()),
            file: Cow::Owned(file.into()),
            read_only,
            migrations,
        }
    }

    #[doc(hidden)]
    pub const fn __embedded(
        name: &'static str,
        file: &'static str,
        read_only: bool,
        mut migrations: Migrations,
    ) -> Self {
        migrations.requires_sets = false;
        Database {
            name: Cow::Borrowed(name),
            file: Cow::Borrowed(file),
            read_only,
            migrations,
        }
    }

    /// The name (the subdirectory the migrations came from; an attaching migration names it in SQL).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The file name in the data directory (default `<name>.db`).
    pub fn file(&self) -> &str {
        &self.file
    }

    /// Whether the application ships the file and never writes it (checked, never migrated).
    pub fn read_only(&self) -> bool {
        self.read_only
    }

    /// The migrations.
    pub fn migrations(&self) -> &Migrations {
        &self.migrations
    }

    /// Where the file is in a data directory.
    pub fn path_in(&self, data_dir: &Path) -> PathBuf {
        data_dir.join(&*self.file)
    }
}

/// A `-- migrate:requires <needs>@<needs_version>` of migration `version` of `database`, and whether the same file
/// attaches `needs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    database: Cow<'static, str>,
    version: u64,
    needs: Cow<'static, str>,
    needs_version: u64,
    attach: bool,
}

impl Requirement {
    /// A requirement built at run time.
    pub fn new(database: &str, version: u64, needs: &str, needs_version: u64, attach: bool) -> Self {
        Requirement {
            database: Cow::Owned(database.to_owned()),
            version,
            needs: Cow::Owned(needs.to_owned()),
            needs_version,
            attach,
        }
    }

    #[doc(hidden)]
    pub const fn __embedded(
        database: &'static str,
        version: u64,
        needs: &'static str,
        needs_version: u64,
        attach: bool,
    ) -> Self {
        Requirement {
            database: Cow::Borrowed(database),
            version,
            needs: Cow::Borrowed(needs),
            needs_version,
            attach,
        }
    }

    /// The requiring database.
    pub fn database(&self) -> &str {
        &self.database
    }

    /// The requiring migration.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The database required.
    pub fn needs(&self) -> &str {
        &self.needs
    }

    /// The version it must be at, or later.
    pub fn needs_version(&self) -> u64 {
        self.needs_version
    }

    /// Whether the migration attaches `needs` (`-- migrate:attach`).
    pub fn attach(&self) -> bool {
        self.attach
    }
}

/// A catalog: what `embed_databases!` embeds. See the [module documentation](self).
#[derive(Debug, Clone)]
pub struct Databases {
    databases: Cow<'static, [Database]>,
    requirements: Cow<'static, [Requirement]>,
}

impl Databases {
    /// A catalog without databases.
    pub const fn empty() -> Self {
        Databases {
            databases: Cow::Borrowed(&[]),
            requirements: Cow::Borrowed(&[]),
        }
    }

    /// A catalog built at run time. The requirements are trusted to be what `litemigrate_core::databases::check`
    /// returned for these sets (names and versions exist, no cycle); the runner still refuses an order it cannot
    /// satisfy.
    pub fn new(databases: Vec<Database>, requirements: Vec<Requirement>) -> Self {
        Databases {
            databases: Cow::Owned(databases),
            requirements: Cow::Owned(requirements),
        }
    }

    #[doc(hidden)]
    pub const fn __embedded(databases: &'static [Database], requirements: &'static [Requirement]) -> Self {
        Databases {
            databases: Cow::Borrowed(databases),
            requirements: Cow::Borrowed(requirements),
        }
    }

    /// The databases, in name order.
    pub fn databases(&self) -> &[Database] {
        &self.databases
    }

    /// The database of that name.
    pub fn get(&self, name: &str) -> Option<&Database> {
        self.databases.iter().find(|d| d.name() == name)
    }

    /// Every `requires` of every database.
    pub fn requirements(&self) -> &[Requirement] {
        &self.requirements
    }

    fn index_of(&self, name: &str) -> Option<usize> {
        self.databases.iter().position(|d| d.name() == name)
    }
}
