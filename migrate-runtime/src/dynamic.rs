//! Sets built at run time (the CLI, tests): from loaded sources, from a compiled set, or from a directory.

use crate::table::{CodeError, CodeFn, Down, Migration, Migrations, Up};
use migrate_core::MigrationSource;
use std::borrow::Cow;

/// The default set name.
pub const DEFAULT_SET: &str = "default";

fn unavailable(_: &rusqlite::Transaction<'_>) -> Result<(), CodeError> {
    Err("this Rust-code migration has no function in a set loaded at run time (see Migrations::set_code)".into())
}

fn migration(
    s: MigrationSource,
    up_sql: String,
    down_sql: Option<String>,
    schema_hash: Option<migrate_core::Checksum>,
) -> Migration {
    let no_transaction = s.up.directives.no_transaction();
    let foreign_keys_off = s.up.directives.foreign_keys_off();
    let (up, down) = if s.code {
        (
            Up::Code(unavailable as CodeFn),
            s.down.as_ref().map(|_| Down::Code(unavailable as CodeFn)),
        )
    } else {
        (
            Up::Sql(Cow::Owned(up_sql)),
            down_sql.map(|d| Down::Sql(Cow::Owned(d))),
        )
    };
    Migration {
        version: s.version,
        name: Cow::Owned(s.name),
        down_file: if s.code {
            None
        } else {
            s.down.map(|d| Cow::Owned(d.path))
        },
        up_file: Cow::Owned(s.up.path),
        up,
        down,
        checksum: s.checksum,
        chain: s.chain,
        schema_hash,
        no_transaction,
        foreign_keys_off,
    }
}

impl Migrations {
    /// A set from loaded (not compiled) sources: the SQL runs as written, and there are no schema hashes, so
    /// `verify` and `baseline` cannot compare schemas. Rust-code migrations get a function that fails until
    /// [`Migrations::set_code`] provides the real one.
    ///
    /// ```
    /// use migrate_core::load::{load_files, Entry, SourceFile};
    /// let file = SourceFile {
    ///     file_name: "1_a.sql".into(),
    ///     display: "migrations/1_a.sql".into(),
    ///     contents: Entry::File(b"CREATE TABLE a(x);".to_vec()),
    /// };
    /// let set = migrate_runtime::Migrations::from_sources("default", load_files(vec![file]).unwrap());
    /// let mut conn = rusqlite::Connection::open_in_memory().unwrap();
    /// set.migrate(&mut conn).unwrap();
    /// assert!(set.status(&conn).unwrap().is_up_to_date());
    /// ```
    pub fn from_sources(set_name: &str, sources: Vec<MigrationSource>) -> Migrations {
        let migrations: Vec<Migration> = sources
            .into_iter()
            .map(|s| {
                let up = s.up.sql.clone();
                let down = s.down.as_ref().map(|d| d.sql.clone());
                migration(s, up, down, None)
            })
            .collect();
        Migrations {
            set: Cow::Owned(set_name.to_owned()),
            migrations: Cow::Owned(migrations),
            final_schema: None,
            sqlite_version: None,
        }
    }

    /// Provides the functions of a Rust-code migration in a set built at run time. Returns `false` (and changes
    /// nothing) when `version` is not a Rust-code migration of the set.
    pub fn set_code(&mut self, version: u64, up: CodeFn, down: Option<CodeFn>) -> bool {
        let Ok(i) = self
            .migrations
            .binary_search_by_key(&version, |m| m.version)
        else {
            return false;
        };
        if !self.migrations[i].is_code() {
            return false;
        }
        let m = &mut self.migrations.to_mut()[i];
        m.up = Up::Code(up);
        m.down = down.map(Down::Code);
        true
    }
}
