//! Sets built at run time (the CLI, tests): from loaded sources, from a compiled set, or from a directory.

use crate::error::Error;
use crate::table::{Code, CodeError, CodeFn, Migrations};
use migrate_core::Checksum;
use migrate_core::MigrationSource;
use migrate_core::compile::{CompileOptions, Compiled};
use migrate_core::layout;
use std::borrow::Cow;
use std::path::Path;

/// The default set name.
pub const DEFAULT_SET: &str = "default";

fn unavailable(_: &rusqlite::Transaction<'_>) -> Result<(), CodeError> {
    Err("this Rust-code migration has no function in a set loaded at run time (see Migrations::set_code)".into())
}

/// Builds the flat pieces of a [`Migrations`] table (see `table`'s module docs) from run-time data.
#[derive(Default)]
struct Builder {
    sql: Vec<&'static str>,
    meta: Vec<u8>,
    files: String,
    code: Vec<Code>,
}

impl Builder {
    fn push(&mut self, s: MigrationSource, up_sql: String, down_sql: Option<String>, schema_hash: Option<Checksum>) {
        let flags = layout::flags_of(&s, s.down.is_some(), schema_hash.is_some());
        let hash = schema_hash.unwrap_or_default();
        layout::push(
            &mut self.meta,
            &mut self.files,
            s.version,
            flags,
            &s.up.path,
            [&s.checksum, &s.chain, &hash],
        );
        if s.code {
            self.code.push(Code {
                version: s.version,
                name: leak(s.name),
                up: unavailable,
                down: s.down.as_ref().map(|_| unavailable as CodeFn),
            });
            self.sql.extend(["", ""]);
        } else {
            self.sql.push(leak(up_sql));
            self.sql.push(down_sql.map_or("", leak));
        }
    }

    fn build(self, set_name: &str, final_schema: Option<String>, sqlite_version: Option<String>) -> Migrations {
        Migrations {
            set: Cow::Owned(set_name.to_owned()),
            sql: Box::leak(self.sql.into_boxed_slice()),
            meta: Box::leak(self.meta.into_boxed_slice()),
            files: leak(self.files),
            code: Box::leak(self.code.into_boxed_slice()),
            final_schema: final_schema.map(Cow::Owned),
            sqlite_version: sqlite_version.map(Cow::Owned),
        }
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
        let mut b = Builder::default();
        for s in sources {
            let up = s.up.sql.clone();
            let down = s.down.as_ref().map(|d| d.sql.clone());
            b.push(s, up, down, None);
        }
        b.build(set_name, None, None)
    }

    /// A set from a compiled set (what `embed_migrations!` embeds, built at run time): the expanded SQL, schema
    /// hashes and the final schema when the compile ran the SQL.
    pub fn from_compiled(set_name: &str, compiled: Compiled) -> Migrations {
        let mut b = Builder::default();
        for c in compiled.migrations {
            b.push(c.source, c.up_sql, c.down_sql, c.schema_hash);
        }
        b.build(set_name, compiled.final_schema, compiled.sqlite_version)
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
        let Ok(i) = self.code.binary_search_by_key(&version, |c| c.version) else {
            return false;
        };
        // The code table is shared with clones of this set; replace it rather than write through it. One small
        // slice per call, leaked like the rest of a run-time set.
        let mut code = self.code.to_vec();
        code[i].up = up;
        code[i].down = down;
        self.code = Box::leak(code.into_boxed_slice());
        true
    }
}

/// Gives run-time data the `'static` lifetime of embedded data, so one table layout serves both. A set is built once per process (the CLI, or an app that
/// loads a directory at startup), so what is leaked is bounded by the size of the migrations directory.
fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}
