//! Rolling a catalog back across files: each named database down to its target, in reverse `requires` order (a
//! database's migration that another database's applied migration requires is rolled back only after that one),
//! with one backup run first and all or nothing, like [`Databases::migrate_all`]. A target that would leave an
//! applied migration without the version it requires is refused before anything changes, naming both databases.

use super::plan::Step;
use super::run::{CatalogLock, Runner};
use super::{CatalogError, CatalogOptions, CatalogReport, Databases};
use crate::backup::Reason;
use std::path::Path;

impl Databases {
    /// Rolls the named databases back to the given versions (`("tasks", 1)`; 0 rolls back everything), every
    /// other database staying where it is. Refuses, before any file changes, a target below the version that an
    /// applied migration of a database that stays requires ([`CatalogError::RollbackBlocked`] names both): name
    /// that database too. One backup run of every file that changes comes first; if a step fails, the files
    /// already rolled back are restored from it.
    ///
    /// ```no_run
    /// # static DATABASES: litemigrate_runtime::catalog::Databases = litemigrate_runtime::catalog::Databases::empty();
    /// // Release 2 added `actions` and moved the notes to `tasks` (its migration 2 requires knowledge@4):
    /// let report = DATABASES.rollback_all("data", &[("actions", 0), ("tasks", 1), ("knowledge", 3)]).unwrap();
    /// println!("{report}");
    /// ```
    pub fn rollback_all(
        &self,
        data_dir: impl AsRef<Path>,
        targets: &[(&str, u64)],
    ) -> Result<CatalogReport, CatalogError> {
        self.rollback_all_with(data_dir, targets, &CatalogOptions::default())
    }

    /// [`Databases::rollback_all`] with options (backup policy, extra paths, `keep_progress`).
    pub fn rollback_all_with(
        &self,
        data_dir: impl AsRef<Path>,
        targets: &[(&str, u64)],
        opts: &CatalogOptions,
    ) -> Result<CatalogReport, CatalogError> {
        let dir = data_dir.as_ref();
        let mut wanted: Vec<Option<u64>> = vec![None; self.databases().len()];
        for &(name, version) in targets {
            let Some(i) = self.index_of(name) else {
                return Err(CatalogError::UnknownDatabase {
                    name: name.to_owned(),
                    known: self.databases().iter().map(|d| d.name()).collect::<Vec<_>>().join(", "),
                });
            };
            let d = &self.databases()[i];
            let bad = |reason: String| CatalogError::BadRollbackTarget {
                database: name.to_owned(),
                version,
                reason,
            };
            if d.read_only() {
                return Err(bad(
                    "it is read-only (shipped with the application, never written)".into()
                ));
            }
            if version != 0 && d.migrations().get(version).is_none() {
                return Err(bad(format!(
                    "it has no migration {version} (its newest is {})",
                    d.migrations().latest_version()
                )));
            }
            wanted[i] = Some(version);
        }
        std::fs::create_dir_all(dir).map_err(|e| CatalogError::Io {
            path: dir.to_path_buf(),
            message: e.to_string(),
        })?;
        let _lock = CatalogLock::acquire(dir)?;
        let runner = Runner::new(self, dir, opts, false)?;
        let current = runner.current();
        let after: Vec<u64> = current
            .iter()
            .zip(&wanted)
            .map(|(&cur, w)| w.map_or(cur, |w| w.min(cur)))
            .collect();
        refuse_blocked(self, &after)?;
        let steps = down_order(self, &current, &after)?;
        runner.run_steps(&steps, Reason::PreRollback, &after)
    }
}

/// A requirement whose requiring migration stays applied (`after[database] >= version`) while the database it
/// requires goes below the version it names.
fn refuse_blocked(cat: &Databases, after: &[u64]) -> Result<(), CatalogError> {
    for r in cat.requirements() {
        let (Some(a), Some(n)) = (cat.index_of(r.database()), cat.index_of(r.needs())) else {
            continue;
        };
        if after[a] >= r.version() && after[n] < r.needs_version() {
            return Err(CatalogError::RollbackBlocked {
                database: r.needs().to_owned(),
                to: after[n],
                needed_by: r.database().to_owned(),
                version: r.version(),
                needs_version: r.needs_version(),
            });
        }
    }
    Ok(())
}

/// The steps that bring every database from `current` down to `after`: a database's migration is rolled back
/// only once no applied migration of another database requires it, consecutive ones of one file in one step, one
/// whose up attached another database in a step of its own with that database attached again (its down may move
/// rows back). Databases are visited in reverse catalog order, the mirror of [`super::plan::order`].
pub(super) fn down_order(cat: &Databases, current: &[u64], after: &[u64]) -> Result<Vec<Step>, CatalogError> {
    let dbs = cat.databases();
    let mut level = current.to_vec();
    let mut steps = Vec::new();
    // The version below `v` in database `d` (0 below its first).
    let below = |d: usize, v: u64| {
        dbs[d]
            .migrations()
            .iter()
            .map(|m| m.version())
            .take_while(|&m| m < v)
            .last()
            .unwrap_or(0)
    };
    loop {
        let mut progressed = false;
        for d in (0..dbs.len()).rev() {
            let mut batch_to = None;
            while level[d] > after[d] {
                let v = level[d];
                let held = cat.requirements().iter().any(|r| {
                    r.needs() == dbs[d].name()
                        && r.needs_version() >= v
                        && cat.index_of(r.database()).is_some_and(|a| level[a] >= r.version())
                });
                if held {
                    break;
                }
                let to = below(d, v);
                let attach: Vec<usize> = cat
                    .requirements()
                    .iter()
                    .filter(|r| r.attach() && r.database() == dbs[d].name() && r.version() == v)
                    .filter_map(|r| cat.index_of(r.needs()))
                    .collect();
                if attach.is_empty() {
                    batch_to = Some(to);
                } else {
                    if let Some(t) = batch_to.take() {
                        steps.push(Step {
                            db: d,
                            to: t,
                            attach: Vec::new(),
                        });
                    }
                    steps.push(Step { db: d, to, attach });
                }
                level[d] = to;
                progressed = true;
            }
            if let Some(to) = batch_to {
                steps.push(Step {
                    db: d,
                    to,
                    attach: Vec::new(),
                });
            }
        }
        if level == after {
            return Ok(steps);
        }
        if !progressed {
            let d = (0..dbs.len()).find(|&d| level[d] > after[d]).unwrap_or(0);
            return Err(CatalogError::Unorderable {
                database: dbs[d].name().to_owned(),
                version: level[d],
            });
        }
    }
}
