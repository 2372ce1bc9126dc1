//! The runtime of the `migrate` crates: everything that touches a live database. Use it through the `migrate`
//! facade.
//!
//! ```no_run
//! # static MIGRATIONS: migrate_runtime::Migrations = migrate_runtime::Migrations::__embedded("default", &[], None, None);
//! let mut conn = rusqlite::Connection::open("app.db").unwrap();
//! let report = MIGRATIONS.migrate(&mut conn).unwrap(); // bring to latest with the default policy
//! let status = MIGRATIONS.status(&conn).unwrap(); // read-only
//! println!("{report}{status}");
//! ```
#![warn(missing_docs)]
// `Error` carries the migration (`At`) and SQLite's error inline so callers can match on fields. It is returned at
// most once per run, never in a loop, so its size costs nothing that boxing would save.
#![allow(clippy::result_large_err)]

pub mod backup;
#[cfg(feature = "cli")]
pub mod cli;
mod dynamic;
mod error;
pub mod fts;
mod history;
mod migrator;
mod plan;
mod status;
pub mod table;
mod verify;

pub use backup::BackupInfo;
pub use error::{At, Error, ErrorKind, FkViolation};
pub use history::{DEFAULT_TABLE, Failure};
pub use migrate_core::Checksum;
pub use migrator::{Applied, Migrator, Mode, Policy, Report, Target};
pub use plan::{Direction, Plan, Step, TxMode};
pub use status::{Entry, State, Status};
pub use table::{CodeError, CodeFn, Down, Migration, Migrations, Up};
pub use verify::Verification;
