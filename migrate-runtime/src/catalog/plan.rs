//! The order of the work across files: every database's pending migrations in version order, each `requires`
//! satisfied before its migration, consecutive migrations of one file in one step, an attaching migration in a step
//! of its own (it runs with the other file attached).

use super::{CatalogError, Databases};

/// One call of a set's migrator: bring database `db` to version `to`, with `attach` attached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Step {
    pub db: usize,
    pub to: u64,
    pub attach: Vec<usize>,
}

/// The steps that bring every database from `current` to its newest version. Databases are visited in catalog order
/// and each advances as far as its requirements allow, so a catalog without requirements is one step per file.
pub(super) fn order(cat: &Databases, current: &[u64]) -> Result<Vec<Step>, CatalogError> {
    let dbs = cat.databases();
    let pending: Vec<Vec<u64>> = dbs
        .iter()
        .zip(current)
        .map(|(d, &cur)| {
            d.migrations()
                .iter()
                .map(|m| m.version())
                .filter(|&v| v > cur)
                .collect()
        })
        .collect();
    let mut next = vec![0usize; dbs.len()];
    let mut reached = current.to_vec();
    let mut steps = Vec::new();
    loop {
        let mut progressed = false;
        for d in 0..dbs.len() {
            let mut batch_to = None;
            while let Some(&v) = pending[d].get(next[d]) {
                let reqs: Vec<_> = cat
                    .requirements()
                    .iter()
                    .filter(|r| r.database() == dbs[d].name() && r.version() == v)
                    .collect();
                let mut attach = Vec::new();
                let mut ready = true;
                for r in &reqs {
                    let Some(n) = cat.index_of(r.needs()) else {
                        return Err(CatalogError::Unorderable {
                            database: dbs[d].name().to_owned(),
                            version: v,
                        });
                    };
                    ready &= reached[n] >= r.needs_version();
                    if r.attach() {
                        attach.push(n);
                    }
                }
                if !ready {
                    break;
                }
                if !attach.is_empty() {
                    if let Some(to) = batch_to.take() {
                        steps.push(Step {
                            db: d,
                            to,
                            attach: Vec::new(),
                        });
                    }
                    steps.push(Step { db: d, to: v, attach });
                } else {
                    batch_to = Some(v);
                }
                reached[d] = v;
                next[d] += 1;
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
        if (0..dbs.len()).all(|d| next[d] == pending[d].len()) {
            return Ok(steps);
        }
        if !progressed {
            let d = (0..dbs.len()).find(|&d| next[d] < pending[d].len()).unwrap_or(0);
            return Err(CatalogError::Unorderable {
                database: dbs[d].name().to_owned(),
                version: pending[d].get(next[d]).copied().unwrap_or(0),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Database, Requirement};
    use crate::table::Migrations;
    use litemigrate_core::load::{Entry, SourceFile};

    fn db(name: &str, n: u64) -> Database {
        let files = (1..=n)
            .map(|v| SourceFile {
                file_name: format!("{v:04}_m.sql"),
                display: format!("{name}/{v:04}_m.sql"),
                contents: Entry::File(format!("CREATE TABLE t{v}(x);").into_bytes()),
            })
            .collect();
        let m = Migrations::from_sources(name, litemigrate_core::load::load_files(files).unwrap());
        Database::new(name, format!("{name}.db"), false, m)
    }

    #[test]
    fn requirements_order_the_steps() {
        // b@2 requires a@3 (and attaches it); a@2 requires b@1.
        let cat = Databases::new(
            vec![db("a", 3), db("b", 2)],
            vec![
                Requirement::new("b", 2, "a", 3, true),
                Requirement::new("a", 2, "b", 1, false),
            ],
        );
        let s = |db, to, attach: &[usize]| Step {
            db,
            to,
            attach: attach.to_vec(),
        };
        assert_eq!(
            order(&cat, &[0, 0]).unwrap(),
            vec![s(0, 1, &[]), s(1, 1, &[]), s(0, 3, &[]), s(1, 2, &[0])]
        );
        // Already satisfied requirements do not split anything.
        assert_eq!(order(&cat, &[3, 1]).unwrap(), vec![s(1, 2, &[0])]);
        assert_eq!(order(&cat, &[3, 2]).unwrap(), vec![]);
        // A cycle (only a catalog built at run time can have one) is refused.
        let cyclic = Databases::new(
            vec![db("a", 1), db("b", 1)],
            vec![
                Requirement::new("b", 1, "a", 1, false),
                Requirement::new("a", 1, "b", 1, false),
            ],
        );
        assert!(matches!(order(&cyclic, &[0, 0]), Err(CatalogError::Unorderable { .. })));
    }
}
