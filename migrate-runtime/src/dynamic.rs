//! Sets built at run time (the CLI, tests): from loaded sources, from a compiled set, or from a directory.

use crate::error::Error;
use crate::table::{self, Code, CodeError, CodeFn, Migration, Migrations};
use migrate_core::MigrationSource;
use migrate_core::compile::{CompileOptions, Compiled};
use std::borrow::Cow;
use std::path::Path;

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
    let mut flags = 0;
    if s.up.directives.no_transaction() {
        flags |= table::flags::NO_TRANSACTION;
    }
    if s.up.directives.foreign_keys_off() {
        flags |= table::flags::FOREIGN_KEYS_OFF;
    }
    if s.down.is_some() {
        flags |= table::flags::REVERSIBLE;
    }
    if schema_hash.is_some() {
        flags |= table::flags::SCHEMA_HASH;
    }
    let mut hashes = [0; 96];
    hashes[..32].copy_from_slice(s.checksum.as_bytes());
    hashes[32..64].copy_from_slice(s.chain.as_bytes());
    hashes[64..].copy_from_slice(schema_hash.unwrap_or_default().as_bytes());
    let code = s.code.then(|| {
        &*Box::leak(Box::new(Code {
            name: leak(s.name.clone()),
            up: unavailable,
            down: s.down.as_ref().map(|_| unavailable as CodeFn),
        }))
    });
    Migration {
        version: s.version,
        file: leak(s.up.path),
        up: if s.code { "" } else { leak(up_sql) },
        down: if s.code { "" } else { down_sql.map_or("", leak) },
        hashes: Box::leak(Box::new(hashes)),
        flags,
        code,
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

    /// A set from a compiled set (what `embed_migrations!` embeds, built at run time): the expanded SQL, schema
    /// hashes and the final schema when the compile ran the SQL.
    pub fn from_compiled(set_name: &str, compiled: Compiled) -> Migrations {
        let migrations: Vec<Migration> = compiled
            .migrations
            .into_iter()
            .map(|c| migration(c.source, c.up_sql, c.down_sql, c.schema_hash))
            .collect();
        Migrations {
            set: Cow::Owned(set_name.to_owned()),
            migrations: Cow::Owned(migrations),
            final_schema: compiled.final_schema.map(Cow::Owned),
            sqlite_version: compiled.sqlite_version.map(Cow::Owned),
        }
    }

    /// Loads a migrations directory with the same rules as `embed_migrations!` and compiles it (set name
    /// `default`; see [`Migrations::with_set_name`]).
    ///
    /// ```no_run
    /// use migrate_core::compile::CompileOptions;
    /// let set = migrate_runtime::Migrations::from_dir("migrations", &CompileOptions::default()).unwrap();
    /// let mut conn = rusqlite::Connection::open("app.db").unwrap();
    /// println!("{}", set.migrate(&mut conn).unwrap());
    /// ```
    pub fn from_dir(path: impl AsRef<Path>, options: &CompileOptions) -> Result<Migrations, Error> {
        let sources = migrate_core::load::load_dir(path.as_ref())?;
        let compiled = migrate_core::compile::compile(sources, options)?;
        Ok(Migrations::from_compiled(DEFAULT_SET, compiled))
    }

    /// The same set under another set name.
    pub fn with_set_name(mut self, set_name: &str) -> Migrations {
        self.set = Cow::Owned(set_name.to_owned());
        self
    }

    /// Provides the functions of a Rust-code migration in a set built at run time. Returns `false` (and changes
    /// nothing) when `version` is not a Rust-code migration of the set.
    pub fn set_code(&mut self, version: u64, up: CodeFn, down: Option<CodeFn>) -> bool {
        let Ok(i) = self.migrations.binary_search_by_key(&version, |m| m.version) else {
            return false;
        };
        if !self.migrations[i].is_code() {
            return false;
        }
        let m = &mut self.migrations.to_mut()[i];
        let name = m.name();
        m.code = Some(Box::leak(Box::new(Code { name, up, down })));
        if down.is_some() {
            m.flags |= table::flags::REVERSIBLE;
        } else {
            m.flags &= !table::flags::REVERSIBLE;
        }
        true
    }
}

/// Gives run-time text the `'static` lifetime of embedded text, so one plain `Migration` type (no drop glue, which
/// keeps the embedded static cheap to compile) serves both. A set is built once per process (the CLI, or an app that
/// loads a directory at startup), so what is leaked is bounded by the size of the migrations directory.
fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}
