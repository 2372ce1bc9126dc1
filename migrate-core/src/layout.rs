//! The byte layout of an embedded migration table's `meta` string, written by `embed_migrations!` and by sets built at
//! run time, read by `litemigrate_runtime::table`. One definition, so writer and reader cannot drift apart.
//!
//! Per migration, [`STRIDE`] bytes: version (u64 little-endian), flags ([`flags`]), offset and length of its file
//! name in the table's `files` string (u32 little-endian each), then checksum, chain and schema hash (32 bytes each;
//! the schema hash is zeros unless [`flags::SCHEMA_HASH`] is set).
//!
//! ```
//! use litemigrate_core::{Checksum, layout};
//! let (mut meta, mut files) = (Vec::new(), String::new());
//! let zero = Checksum::ZERO;
//! layout::push(&mut meta, &mut files, 7, layout::flags::REVERSIBLE, "m/7_a.up.sql", [&zero, &zero, &zero]);
//! assert_eq!(meta.len(), layout::STRIDE);
//! assert_eq!(files, "m/7_a.up.sql");
//! ```

use crate::Checksum;
use crate::load::MigrationSource;

/// The set name of a table built without one (`embed_migrations!` without `set = …`, `Migrations::from_dir`,
/// `Migrations::empty`): the key of its rows in the history table, so every writer must spell it the same.
pub const DEFAULT_SET: &str = "default";

/// Bytes of `meta` per migration.
pub const STRIDE: usize = 8 + 1 + 4 + 4 + 3 * 32;

/// Offsets inside one migration's `meta` bytes.
pub mod at {
    /// The version, u64 little-endian.
    pub const VERSION: usize = 0;
    /// The flags byte.
    pub const FLAGS: usize = 8;
    /// Where the file name starts in `files`, u32 little-endian.
    pub const FILE_AT: usize = 9;
    /// The file name's length, u32 little-endian.
    pub const FILE_LEN: usize = 13;
    /// Checksum, chain, schema hash.
    pub const HASHES: usize = 17;
}

/// Bits of the flags byte.
pub mod flags {
    /// The migration has a down (SQL, or a function for a code migration).
    pub const REVERSIBLE: u8 = 1;
    /// `-- migrate:no-transaction`.
    pub const NO_TRANSACTION: u8 = 2;
    /// `-- migrate:foreign-keys=off`.
    pub const FOREIGN_KEYS_OFF: u8 = 4;
    /// The build ran the SQL and recorded the schema hash.
    pub const SCHEMA_HASH: u8 = 8;
    /// A Rust-code migration; its functions are in the table's `code`.
    pub const CODE: u8 = 16;
    /// A `-- migrate:squashes` file: it stands for every version up to its own (see `litemigrate_core::squash`).
    pub const SQUASH: u8 = 32;
}

/// The flags of a loaded migration. `reversible` is passed in because a code migration's down is declared in the
/// macro call, not in the sources.
pub fn flags_of(source: &MigrationSource, reversible: bool, has_schema_hash: bool) -> u8 {
    let mut f = 0;
    for (on, bit) in [
        (reversible, flags::REVERSIBLE),
        (source.up.directives.no_transaction(), flags::NO_TRANSACTION),
        (source.up.directives.foreign_keys_off(), flags::FOREIGN_KEYS_OFF),
        (has_schema_hash, flags::SCHEMA_HASH),
        (source.code, flags::CODE),
        (source.up.directives.squashes().is_some(), flags::SQUASH),
    ] {
        if on {
            f |= bit;
        }
    }
    f
}

/// Appends one migration's bytes to `meta` and its file name to `files`.
pub fn push(meta: &mut Vec<u8>, files: &mut String, version: u64, flags: u8, file: &str, hashes: [&Checksum; 3]) {
    // A table whose file names add up to 4 GiB could not have been held in memory to write it.
    let offset = u32::try_from(files.len()).unwrap_or(u32::MAX);
    let len = u32::try_from(file.len()).unwrap_or(u32::MAX);
    files.push_str(file);
    meta.extend_from_slice(&version.to_le_bytes());
    meta.push(flags);
    meta.extend_from_slice(&offset.to_le_bytes());
    meta.extend_from_slice(&len.to_le_bytes());
    for h in hashes {
        meta.extend_from_slice(h.as_bytes());
    }
}
