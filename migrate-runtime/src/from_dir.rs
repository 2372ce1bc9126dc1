//! Sets compiled at run time (feature `validate`): from a directory, with the same rules and checks as
//! `embed_migrations!`, or from a set the caller compiled.

use crate::dynamic::Builder;
use crate::error::Error;
use crate::table::Migrations;
use litemigrate_core::compile::{CompileOptions, Compiled};
use litemigrate_core::layout::DEFAULT_SET;
use std::path::Path;

impl Migrations {
    /// A set from a compiled set (what `embed_migrations!` embeds, built at run time): the expanded SQL, schema
    /// hashes and the final schema when the compile ran the SQL.
    pub fn from_compiled(set_name: &str, mut compiled: Compiled) -> Migrations {
        compiled.migrations.sort_by_key(|c| c.source.version);
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
    /// use litemigrate_core::compile::CompileOptions;
    /// let set = litemigrate_runtime::Migrations::from_dir("migrations", &CompileOptions::default()).unwrap();
    /// let mut conn = rusqlite::Connection::open("app.db").unwrap();
    /// println!("{}", set.migrate(&mut conn).unwrap());
    /// ```
    pub fn from_dir(path: impl AsRef<Path>, options: &CompileOptions) -> Result<Migrations, Error> {
        Migrations::from_dir_with(path, None, options, &[])
    }

    /// [`Migrations::from_dir`] for a directory in a named layout (another tool's, see
    /// [`litemigrate_core::layouts`]) instead of the detected one.
    ///
    /// ```no_run
    /// use litemigrate_core::{compile::CompileOptions, layouts::Layout};
    /// let set = litemigrate_runtime::Migrations::from_dir_as("migrations", Layout::Flyway, &CompileOptions::default()).unwrap();
    /// ```
    pub fn from_dir_as(
        path: impl AsRef<Path>,
        layout: litemigrate_core::layouts::Layout,
        options: &CompileOptions,
    ) -> Result<Migrations, Error> {
        Migrations::from_dir_with(path, Some(layout), options, &[])
    }

    /// [`Migrations::from_dir`] with every choice: the layout (`None`: detected) and functions declared to exist
    /// during validation (what the macro's `validate_functions` and the CLI's `--validate-function` give).
    ///
    /// ```no_run
    /// use litemigrate_core::compile::{CompileOptions, FunctionStub};
    /// let stubs: Vec<FunctionStub> = vec!["vec_length/1".parse().unwrap()];
    /// let set = litemigrate_runtime::Migrations::from_dir_with("migrations", None, &CompileOptions::default(), &stubs).unwrap();
    /// ```
    pub fn from_dir_with(
        path: impl AsRef<Path>,
        layout: Option<litemigrate_core::layouts::Layout>,
        options: &CompileOptions,
        stubs: &[litemigrate_core::compile::FunctionStub],
    ) -> Result<Migrations, Error> {
        let analysis = litemigrate_core::compile::Analysis {
            stubs: stubs.to_vec(),
            ..Default::default()
        };
        Migrations::from_dir_analysed(path, layout, options, &analysis)
    }

    /// [`Migrations::from_dir_with`] with every validation setting: generated rows on or off
    /// (`Analysis::generate`, the macro's `rows = false`), fixtures, lint options and function stubs.
    ///
    /// ```no_run
    /// use litemigrate_core::compile::{Analysis, CompileOptions};
    /// let no_rows = Analysis { generate: false, ..Default::default() };
    /// let set = litemigrate_runtime::Migrations::from_dir_analysed("migrations", None, &CompileOptions::default(), &no_rows).unwrap();
    /// ```
    pub fn from_dir_analysed(
        path: impl AsRef<Path>,
        layout: Option<litemigrate_core::layouts::Layout>,
        options: &CompileOptions,
        analysis: &litemigrate_core::compile::Analysis,
    ) -> Result<Migrations, Error> {
        let files = litemigrate_core::load::read_dir(path.as_ref())?;
        // Repeatables (`R__`) are read beside the versioned files in every layout.
        let repeatables = litemigrate_core::repeatable::load_repeatables(&files)?;
        let sources = litemigrate_core::load::load_files_as(files, layout)?;
        let compiled = litemigrate_core::compile::compile_with(sources, options, analysis)?;
        litemigrate_core::repeatable::check(&compiled, &repeatables).map_err(Error::Repeatable)?;
        Ok(Migrations::from_compiled(DEFAULT_SET, compiled).with_repeatables(repeatables))
    }
}
