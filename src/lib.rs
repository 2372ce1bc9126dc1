//! SQLite schema migrations that are checked when you build and applied safely when you launch.
//!
//! ```
//! static MIGRATIONS: litemigrate::Migrations = litemigrate::embed_migrations!("examples/todo/migrations");
//!
//! assert!(MIGRATIONS.len() >= 2);
//! assert_eq!(MIGRATIONS.get(1).unwrap().name(), "create_todos");
//! ```
//!
//! `cargo build` reads the `.sql` files of the directory, rejects bad names, bad order, duplicate versions and SQL
//! that does not run (the error names the file and line), proves every down script restores the schema, and embeds
//! a static table: SQL text, checksums, a hash chain and schema hashes. Nothing is parsed at run time.
//!
//! See the README for the file format, and [`build::track`] for picking up new files without `cargo clean`.
//!
//! Everything an application names is reachable from here: the runtime's types, and the rules' types its API
//! mentions ([`CompileOptions`], [`MigrationSource`], [`LoadError`], the [`fts5`] builder, …), so `migrate` is the
//! only dependency to add.
#![forbid(unsafe_code)]

#[cfg(feature = "runtime")]
pub use litemigrate_runtime::*;

/// Re-exported so applications and generated code agree on one rusqlite.
#[cfg(feature = "runtime")]
pub use rusqlite;

/// Helpers for the application's `build.rs`.
// The example is a whole build.rs, so its `fn main` is the point.
#[allow(clippy::needless_doctest_main)]
pub mod build {
    /// Makes cargo rebuild the crate when a file is added to, removed from or changed in the migrations
    /// directory. Put it in `build.rs`:
    ///
    /// ```no_run
    /// // build.rs
    /// fn main() {
    ///     litemigrate::build::track("migrations");
    /// }
    /// ```
    ///
    /// with `migrate` as a build dependency without its default features, so the build script does not compile
    /// the runtime and SQLite:
    ///
    /// ```toml
    /// [build-dependencies]
    /// migrate = { version = "0.1", default-features = false }
    /// ```
    ///
    /// The one line it prints, `cargo:rerun-if-changed=migrations`, works just as well written by hand.
    ///
    /// Editing a file that is already embedded triggers a rebuild without this (the macro tracks each file it
    /// read); a *new* file is only seen by the next build if something tells cargo to look at the directory, which
    /// is what this does (`cargo:rerun-if-changed` on a directory covers every file in it). With the `nightly`
    /// feature the macro also calls `proc_macro::tracked::path`.
    pub fn track(dir: &str) {
        println!("cargo:rerun-if-changed={dir}");
    }
}

/// Embeds and validates a migrations directory at compile time.
///
/// ```
/// static MIGRATIONS: litemigrate::Migrations = litemigrate::embed_migrations!("examples/todo/migrations");
/// ```
///
/// The path is relative to the calling crate's `Cargo.toml`. Options, after the path:
///
/// - `set = "name"`: the set name keying this set's rows in the history table (default `"default"`); lets several
///   crates share one database.
/// - `validate_sql = false`: do not execute the SQL at build time (for migrations that need a loadable extension
///   or a function the bundled SQLite lacks). Names, directives and checksums are still checked.
/// - `check_down = false`: do not prove that each down script restores the schema its up script started from.
/// - `validation_steps = N`: the most SQLite steps one statement may take during validation (default 100 million;
///   `0` removes the bound). A statement that does not finish within it fails the build naming its file and line.
/// - `code = [(version, "name", path::to::up_fn), (version, "name", up_fn, down_fn)]`: Rust-code migrations at
///   versions of their own (a clash with a file's version is a compile error). Each function has the signature
///   `fn(&rusqlite::Transaction<'_>) -> Result<(), litemigrate::CodeError>`. Their checksum covers the version and
///   name only (the build cannot see the function's code), so change what one does by adding a new version. The
///   build does not run them, so it assumes they change data, not the schema.
/// - `layout = "diesel"` (or `sqlx`, `golang-migrate`, `refinery`, `flyway`, `dbmate`, `goose`, `litemigrate`):
///   read the directory in that tool's layout instead of the detected one. Needed for Flyway's `U` (undo) files,
///   which refinery reads differently; see `litemigrate::layouts`.
/// - `validate_functions = ["vec_length/1"]`: functions (`name/arity`, or `name` for any arity) that exist at run
///   time, e.g. from an extension, stubbed during validation only so every other statement is still checked.
///
/// ```
/// static DIESEL: litemigrate::Migrations = litemigrate::embed_migrations!("tests/fixtures/layouts/diesel");
/// assert_eq!(DIESEL.get(20180114171611).unwrap().name(), "create_users");
/// ```
///
/// ```
/// fn backfill(tx: &rusqlite::Transaction<'_>) -> Result<(), litemigrate::CodeError> {
///     tx.execute("UPDATE todos SET title = trim(title)", [])?;
///     Ok(())
/// }
/// static MIGRATIONS: litemigrate::Migrations = litemigrate::embed_migrations!(
///     "examples/todo/migrations",
///     set = "todo",
///     code = [(1000, "trim_titles", backfill)],
/// );
/// assert!(MIGRATIONS.get(1000).unwrap().is_code());
/// ```
///
/// Build-time validation uses the SQLite bundled with the macro (its version is in every error message and in
/// [`Migrations::build_sqlite_version`]). An application that links an older system SQLite may still reject newer
/// syntax at run time.
#[cfg(feature = "runtime")]
#[macro_export]
macro_rules! embed_migrations {
    ($($args:tt)*) => {
        $crate::__private::embed_migrations_impl!($crate; $($args)*)
    };
}

/// Embeds and validates a catalog of databases at compile time: one subdirectory of migrations per database, each
/// validated exactly like an [`embed_migrations!`] set, plus the rules between them.
///
/// ```
/// static DATABASES: litemigrate::Databases = litemigrate::embed_databases!(
///     "examples/assistant/migrations",
///     actions(file = "system_actions.db"),
/// );
/// assert!(DATABASES.get("knowledge").is_some());
/// assert_eq!(DATABASES.get("actions").unwrap().file(), "system_actions.db");
/// ```
///
/// Each subdirectory is a database (its name, a plain identifier, is how other files name it); at run time
/// [`Databases::migrate_all`] keeps one file per database in a data directory (`<name>.db` unless told). Options,
/// after the path, per database: `name(option = value, …)` with
///
/// - `file = "name.db"`: the file name in the data directory;
/// - `read_only = true`: the application ships the file and never writes it; a launch checks it is at the newest
///   version and fails naming it otherwise;
/// - `set = "name"`, `validate_sql = false`, `check_down = false`, `validation_steps = N`: as for
///   [`embed_migrations!`].
///
/// Between databases, in a file's header:
///
/// - `-- migrate:requires <database>@<version>`: the other database must be at that version (or later) before this
///   file runs. The build checks that the database and version exist and that the requirements form no cycle
///   (the error names the file).
/// - `-- migrate:attach <database>` (with a `requires` on it): the file runs with the other database attached under
///   its name, so it can move rows between files (`INSERT INTO notes SELECT * FROM knowledge.notes`). The build
///   validates it with the other database attached at the required version.
#[cfg(feature = "runtime")]
#[macro_export]
macro_rules! embed_databases {
    ($($args:tt)*) => {
        $crate::__private::embed_databases_impl!($crate; $($args)*)
    };
}

#[cfg(feature = "runtime")]
#[doc(hidden)]
pub mod __private {
    pub use litemigrate_core::Checksum;
    pub use litemigrate_macros::embed_databases as embed_databases_impl;
    pub use litemigrate_macros::embed_migrations as embed_migrations_impl;
    pub use litemigrate_runtime::catalog::{Database, Databases, Requirement};
    pub use litemigrate_runtime::table::{Code, CodeFn, Migrations};
}
