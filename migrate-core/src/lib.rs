//! The rules of the `migrate` crates, as plain Rust: how migration files are named, what their `-- migrate:`
//! directives mean, how checksums and the chain are computed, and how a set of files becomes an ordered, validated
//! list of migrations.
//!
//! The proc macro (`litemigrate-macros`) applies these rules at compile time; the runtime and the CLI apply the very same
//! rules to a directory at run time. With the `sqlite` feature it also reads a connection's structural schema, which
//! the macro (to embed schema hashes) and the runtime (to detect drift) must compute identically.
#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub mod args;
#[cfg(feature = "sqlite")]
pub mod cache;
pub mod catalog;
pub mod checksum;
#[cfg(feature = "sqlite")]
pub mod compile;
pub mod databases;
#[cfg(feature = "sqlite")]
pub use compile::replay;
pub mod direction;
pub mod directive;
pub mod expand;
pub mod fts5;
pub mod hint;
pub mod layout;
pub mod layouts;
pub mod lex;
pub mod lint;
pub mod load;
pub mod name;
pub mod normalize;
pub mod rebuild;
pub mod repeatable;
pub mod safety;
pub mod schema;
pub mod script;
pub mod split;
pub mod sql;
pub mod squash;

pub use checksum::Checksum;
pub use load::{CodeMigration, LoadError, MigrationSource, Script};
