//! The runtime of the `migrate` crates: everything that touches a live database. Use it through the `migrate`
//! facade.
#![warn(missing_docs)]

pub mod table;

pub use migrate_core::Checksum;
pub use table::{CodeError, CodeFn, Down, Migration, Migrations, Up};
