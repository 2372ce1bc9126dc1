//! Adopting a database another tool migrated: its history read, checked against the embedded set (by checksum
//! where the tool keeps one), the live schema compared with the embedded schema at that version (the other tool's
//! table left out), and the applied migrations recorded in this library's history with kind `adopted`. The other
//! tool's table is left in place unless asked, so going back to that tool still works.
//!
//! The launch's side of it (`refuse_foreign_history`) runs only when there is no history of this set and
//! migrations would be applied from 0, never on the launch fast path.

// The adoption itself compares the live schema with the embedded one (feature `validate`); the launch's guard
// below needs only the peers' table names.
#[cfg(feature = "validate")]
mod applied;
#[cfg(feature = "validate")]
mod checksums;
mod error;
mod peers;
#[cfg(feature = "validate")]
mod run;

pub use error::AdoptError;
pub use peers::Tool;
#[cfg(feature = "validate")]
pub use run::{AdoptOptions, Adopted};

use crate::error::Error;
use rusqlite::Connection;

/// The launch's guard: with no history of this set and migrations to apply from 0, another tool's history table
/// means the database is that tool's; running from version 1 would re-run its migrations. One read of
/// `sqlite_schema`, and only on this path.
pub(crate) fn refuse_foreign_history(conn: &Connection) -> Result<(), Error> {
    let Some(tool) = peers::present(conn)?.into_iter().next() else {
        return Ok(());
    };
    let table = tool.table().unwrap_or_default().to_owned();
    let hint = if table == "schema_migrations" {
        "; if that table is your application's own, rename it".to_owned()
    } else {
        String::new()
    };
    Err(AdoptError::ForeignHistory { tool, table, hint }.into())
}

/// The other tools' history tables present, for `baseline`'s schema comparison.
#[cfg(feature = "validate")]
pub(crate) fn peer_tables(conn: &Connection) -> Result<Vec<&'static str>, Error> {
    peers::tables_present(conn)
}
