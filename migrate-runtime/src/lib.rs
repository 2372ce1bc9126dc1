//! The runtime of the `migrate` crates: everything that touches a live database. Use it through the `migrate`
//! facade.
//!
//! ```no_run
//! # static MIGRATIONS: litemigrate_runtime::Migrations = litemigrate_runtime::Migrations::empty();
//! let mut conn = rusqlite::Connection::open("app.db").unwrap();
//! let report = MIGRATIONS.migrate(&mut conn).unwrap(); // bring to latest with the default policy
//! let report = MIGRATIONS
//!     .migrator() // builder for everything else
//!     .target(litemigrate_runtime::Target::Version(3))
//!     .dry_run(true)
//!     .run(&mut conn)
//!     .unwrap();
//! let status = MIGRATIONS.status(&conn).unwrap(); // read-only
//! MIGRATIONS.verify(&conn).unwrap(); // history + schema drift + integrity, read-only
//! println!("{report}{status}");
//! ```
//!
//! # The history table
//!
//! One table, `_migrations` by default ([`Migrator::history_table`] picks another plain identifier), keyed by
//! (set name, version) so several embedded sets can share a database. Each row holds the name, the up file, the
//! checksum and chain value (hex), `applied_at` (UTC, RFC 3339), the duration in microseconds, the kind (`sql`,
//! `code` or `baseline`) and the down SQL as applied, which lets an older binary roll back a migration it does not
//! embed when the caller allows it ([`Policy::allow_unknown_rollback`]). A migration's statements and its row
//! commit in one transaction. Failures go to `_migrations_failures` afterwards, in a transaction of their own, and
//! [`Status::last_failure`] shows them.
//!
//! # The launch check
//!
//! When nothing is pending, [`Migrations::migrate`] reads the newest history row of the set (one descent of the
//! table's primary key, with a cached statement), compares its chain value with the embedded chain at that version
//! (a binary search in the static table) and returns. The chain value covers every migration up to it, so one row
//! checks the whole history: an edited, removed or inserted older file changes it. Nothing is written or created,
//! nothing is allocated per migration, and it works on a read-only database. Anything else falls to the full
//! comparison that classifies every migration ([`State`]).
//!
//! # Rust-code migrations
//!
//! A code migration ([`Up::Code`]) gets the open transaction and returns a `Result`; an `Err` rolls the transaction
//! back. Its checksum is `SHA-256("rust:{version}:{name}")` (`litemigrate_core::load::code_checksum`): it covers the
//! version and the name, not the function's code, which the build cannot see. Changing what an applied code
//! migration does therefore goes unnoticed: add a new version instead. The build assumes code migrations do not
//! change the schema (their embedded schema hash is the previous one), so one that does makes `verify` report drift.
//!
//! # Concurrency, no-transaction and foreign-keys=off migrations
//!
//! See [`Migrator`]: `BEGIN IMMEDIATE` for every transaction, state re-checked after the lock is taken, and a lock
//! file beside the database (`<db>.migrate-lock`, an OS advisory lock) around migrations that run outside a
//! transaction.
#![warn(missing_docs)]
#![forbid(unsafe_code)]
// `Error` carries the migration (`At`) and SQLite's error inline so callers can match on fields. It is returned at
// most once per run, never in a loop, so its size costs nothing that boxing would save.
#![allow(clippy::result_large_err)]

pub mod adopt;
pub mod backup;
pub mod catalog;
#[cfg(feature = "cli")]
pub mod cli;
mod clock;
mod dynamic;
mod error;
#[cfg(feature = "fleet")]
pub mod fleet;
#[cfg(feature = "validate")]
mod from_dir;
pub mod fts;
mod history;
mod json;
mod migrator;
mod plan;
mod repeat;
pub mod replica;
mod stamp;
mod status;
pub mod table;
mod trace;
#[cfg(feature = "validate")]
mod verify;

pub use backup::BackupInfo;
pub use catalog::{CatalogError, CatalogOptions, CatalogReport, CatalogStatus, Databases};
pub use error::{At, Error, ErrorKind, FkViolation, SqliteVersions};
pub use history::{DEFAULT_TABLE, Failure};
pub use litemigrate_core::Checksum;
pub use migrator::{Applied, Migrator, Mode, Policy, Report, Target};
pub use plan::{Direction, Plan, Step, TxMode};
pub use repeat::{Repeatable, RepeatableEntry, RepeatableState};
pub use status::{Entry, State, Status};
pub use table::{CodeError, CodeFn, Down, Migration, Migrations, Up};
#[cfg(feature = "validate")]
pub use verify::Verification;

// The rules' types that this crate's API takes or returns, so an application needs no direct dependency on
// litemigrate-core (it would have to keep that version in step with this crate's). The modules are there for what the
// named types lead to: building sources by hand (`load::load_files`), matching a compile error's parts, the FTS5
// builder that `fts` maintains.
#[cfg(feature = "validate")]
pub use litemigrate_core::compile;
#[cfg(feature = "validate")]
pub use litemigrate_core::compile::{CompileError, CompileOptions, Compiled};
pub use litemigrate_core::load::{CodeMigration, LoadError, MigrationSource, Script, SourceFile};
pub use litemigrate_core::schema::SchemaDiff;
pub use litemigrate_core::{expand, fts5, layouts, load, name, schema};
