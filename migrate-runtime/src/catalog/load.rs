//! A catalog loaded at run time from a directory of subdirectories (the standalone CLI): the same loader, the same
//! catalog rules and the same attach validation as `embed_databases!`, with errors as values.

use super::{CatalogError, Database, Databases, Requirement};
use crate::table::Migrations;
use litemigrate_core::compile::{CompileOptions, compile_with_hook};
use litemigrate_core::databases::{self, CatalogDb};
use std::collections::HashMap;
use std::path::Path;

impl Databases {
    /// Loads a catalog directory: one subdirectory per database (file `<name>.db`, writable), validated like
    /// `embed_databases!` validates it at build time.
    ///
    /// ```
    /// use litemigrate_runtime::{CompileOptions, Databases};
    /// let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/assistant/migrations");
    /// let cat = Databases::from_dir(&dir, &CompileOptions::default()).unwrap();
    /// assert_eq!(cat.databases().len(), 5);
    /// assert!(cat.requirements().iter().any(|r| r.attach() && r.needs() == "knowledge"));
    /// ```
    pub fn from_dir(dir: impl AsRef<Path>, options: &CompileOptions) -> Result<Databases, CatalogError> {
        let dir = dir.as_ref();
        let invalid = |message: String| CatalogError::Invalid {
            path: dir.to_path_buf(),
            message,
        };
        let mut names = Vec::new();
        for e in std::fs::read_dir(dir).map_err(|e| invalid(format!("cannot read the catalog directory: {e}")))? {
            let e = e.map_err(|e| invalid(e.to_string()))?;
            if e.file_type().map_err(|e| invalid(e.to_string()))?.is_dir() {
                names.push(e.file_name().to_string_lossy().into_owned());
            }
        }
        names.sort();
        let mut sets = Vec::with_capacity(names.len());
        for name in &names {
            if !litemigrate_core::directive::is_database_name(name) {
                let e = databases::DatabasesError::BadName {
                    dir: dir.display().to_string(),
                    name: name.clone(),
                };
                return Err(invalid(e.to_string()));
            }
            sets.push(litemigrate_core::load::load_dir(&dir.join(name)).map_err(|e| invalid(e.to_string()))?);
        }
        let view: Vec<CatalogDb<'_>> = names
            .iter()
            .zip(&sets)
            .map(|(name, set)| CatalogDb { name, migrations: set })
            .collect();
        let reqs = databases::check(&view).map_err(|e| invalid(e.to_string()))?;
        let order = databases::compile_order(&view, &reqs)
            .map_err(|(a, b)| invalid(format!("databases `{a}` and `{b}` attach each other")))?;
        drop(view);
        let mut compiled = HashMap::new();
        let mut sets: Vec<Option<_>> = sets.into_iter().map(Some).collect();
        for i in order {
            let Some(set) = sets[i].take() else { continue };
            let c = {
                let mut hook = databases::attach_for_validation(&names[i], &reqs, &compiled);
                compile_with_hook(set, options, &[], &mut hook).map_err(|e| invalid(e.to_string()))?
            };
            compiled.insert(names[i].clone(), c);
        }
        let mut dbs = Vec::with_capacity(names.len());
        for name in &names {
            let Some(c) = compiled.remove(name) else {
                return Err(invalid(format!("database `{name}` was not validated")));
            };
            let m = Migrations::from_compiled(litemigrate_core::layout::DEFAULT_SET, c);
            dbs.push(Database::new(name.clone(), format!("{name}.db"), false, m));
        }
        let reqs = reqs
            .iter()
            .map(|r| Requirement::new(&r.database, r.version, &r.needs, r.needs_version, r.attach))
            .collect();
        Ok(Databases::new(dbs, reqs))
    }
}
