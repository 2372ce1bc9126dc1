//! The rules of a catalog of databases (one migrations subdirectory per database, `embed_databases!`): what
//! `-- migrate:requires <database>@<version>` and `-- migrate:attach <database>` may name, that the requirements
//! form no cycle, and the order they put the migrations of all databases in.
//!
//! The graph has one node per migration. A migration depends on the one before it in its own database (versions
//! apply in order) and on the migration its `requires` names in the other database. A cycle in that graph means no
//! order can satisfy every file, which the build refuses naming a file on the cycle.

use crate::load::MigrationSource;
use std::collections::HashMap;

/// One database of a catalog as the rules see it: its name (the subdirectory) and its loaded migrations.
#[derive(Debug, Clone, Copy)]
pub struct CatalogDb<'a> {
    /// The database name (a plain identifier: an attached database is named by it in SQL).
    pub name: &'a str,
    /// Its migrations, in version order.
    pub migrations: &'a [MigrationSource],
}

/// One `requires` (and whether the same file attaches that database), resolved to the catalog's databases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    /// The database whose migration requires.
    pub database: String,
    /// The requiring migration's version.
    pub version: u64,
    /// The database required.
    pub needs: String,
    /// The version it must be at, or later.
    pub needs_version: u64,
    /// The migration also attaches `needs` (`-- migrate:attach`).
    pub attach: bool,
}

/// Why a catalog's requirements do not hold. Each variant names the file to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DatabasesError {
    /// A subdirectory name that cannot name a database.
    #[error(
        "{dir}: `{name}` is not a database name: a catalog's subdirectories are named by plain identifiers \
         (letters, digits, `_`), since a migration attaches a database under its name"
    )]
    BadName {
        /// The catalog directory.
        dir: String,
        /// The subdirectory.
        name: String,
    },
    /// `requires`/`attach` names a database the catalog does not have.
    #[error(
        "{file}:{line}: `{directive}` names database `{database}`, which is not in the catalog (databases: {known})"
    )]
    UnknownDatabase {
        /// The file.
        file: String,
        /// The directive's line.
        line: usize,
        /// The directive as written.
        directive: String,
        /// The name.
        database: String,
        /// The catalog's databases, comma-separated.
        known: String,
    },
    /// `requires` names a version the other database does not have.
    #[error(
        "{file}:{line}: `requires {database}@{version}`: database `{database}` has no migration {version} ({latest})"
    )]
    UnknownVersion {
        /// The file.
        file: String,
        /// The directive's line.
        line: usize,
        /// The database.
        database: String,
        /// The version.
        version: u64,
        /// What it does have.
        latest: String,
    },
    /// A file requires or attaches its own database.
    #[error(
        "{file}:{line}: `{directive}` names this file's own database; versions of one database already apply in order"
    )]
    OwnDatabase {
        /// The file.
        file: String,
        /// The directive's line.
        line: usize,
        /// The directive.
        directive: String,
    },
    /// `attach` without a `requires` on the same database: the build would not know which version to validate
    /// against, and the runtime would not know what must run first.
    #[error(
        "{file}:{line}: `attach {database}` needs `-- migrate:requires {database}@<version>` in the same file (the \
         version it is validated against and that must be applied first)"
    )]
    AttachWithoutRequires {
        /// The file.
        file: String,
        /// The directive's line.
        line: usize,
        /// The database.
        database: String,
    },
    /// The requirements form a cycle.
    #[error("{file}: `requires` forms a cycle, so no order applies every file: {}", cycle.join(" -> "))]
    Cycle {
        /// A file on the cycle (the one the search met twice).
        file: String,
        /// The files of the cycle, in order, ending with the first again.
        cycle: Vec<String>,
    },
}

impl DatabasesError {
    /// The file (or directory) to fix.
    pub fn file(&self) -> &str {
        match self {
            DatabasesError::BadName { dir, .. } => dir,
            DatabasesError::UnknownDatabase { file, .. }
            | DatabasesError::UnknownVersion { file, .. }
            | DatabasesError::OwnDatabase { file, .. }
            | DatabasesError::AttachWithoutRequires { file, .. }
            | DatabasesError::Cycle { file, .. } => file,
        }
    }
}

/// Checks every `requires` and `attach` of the catalog and returns the requirements, in database then version
/// order.
///
/// ```
/// use litemigrate_core::databases::{check, CatalogDb, DatabasesError};
/// use litemigrate_core::load::{load_files, Entry, SourceFile};
/// let file = |dir: &str, n: &str, sql: &str| SourceFile {
///     file_name: n.into(),
///     display: format!("migrations/{dir}/{n}"),
///     contents: Entry::File(sql.as_bytes().to_vec()),
/// };
/// let a = load_files(vec![file("a", "0001_t.sql", "-- migrate:requires b@1\nCREATE TABLE t(x);")]).unwrap();
/// let b = load_files(vec![file("b", "0001_u.sql", "-- migrate:requires a@1\nCREATE TABLE u(x);")]).unwrap();
/// let err = check(&[CatalogDb { name: "a", migrations: &a }, CatalogDb { name: "b", migrations: &b }]).unwrap_err();
/// assert!(matches!(err, DatabasesError::Cycle { .. }));
/// assert!(err.to_string().starts_with("migrations/a/0001_t.sql: `requires` forms a cycle"));
/// ```
pub fn check(dbs: &[CatalogDb<'_>]) -> Result<Vec<Requirement>, DatabasesError> {
    let index: HashMap<&str, usize> = dbs.iter().enumerate().map(|(i, d)| (d.name, i)).collect();
    let known = || dbs.iter().map(|d| d.name).collect::<Vec<_>>().join(", ");
    let mut out = Vec::new();
    // edges[db][m]: the (db, migration) a node requires, besides its predecessor in its own database.
    let mut edges: Vec<Vec<Vec<Node>>> = dbs.iter().map(|d| vec![Vec::new(); d.migrations.len()]).collect();
    for (di, db) in dbs.iter().enumerate() {
        for (mi, m) in db.migrations.iter().enumerate() {
            let file = &m.up.path;
            let d = &m.up.directives;
            let resolve = |line: usize, name: &str, directive: String| match index.get(name) {
                None => Err(DatabasesError::UnknownDatabase {
                    file: file.clone(),
                    line,
                    directive,
                    database: name.to_owned(),
                    known: known(),
                }),
                Some(&i) if i == di => Err(DatabasesError::OwnDatabase {
                    file: file.clone(),
                    line,
                    directive,
                }),
                Some(&i) => Ok(i),
            };
            for (line, name) in d.attaches() {
                resolve(line, name, format!("attach {name}"))?;
                if !d.requires().any(|(_, n, _)| n == name) {
                    return Err(DatabasesError::AttachWithoutRequires {
                        file: file.clone(),
                        line,
                        database: name.to_owned(),
                    });
                }
            }
            for (line, name, version) in d.requires() {
                let other = resolve(line, name, format!("requires {name}@{version}"))?;
                let target = dbs[other].migrations.iter().position(|o| o.version == version);
                let Some(target) = target else {
                    let latest = match dbs[other].migrations.last() {
                        Some(l) => format!("its newest is {}", l.version),
                        None => "it has no migrations".into(),
                    };
                    return Err(DatabasesError::UnknownVersion {
                        file: file.clone(),
                        line,
                        database: name.to_owned(),
                        version,
                        latest,
                    });
                };
                edges[di][mi].push((other, target));
                out.push(Requirement {
                    database: db.name.to_owned(),
                    version: m.version,
                    needs: name.to_owned(),
                    needs_version: version,
                    attach: d.attaches().any(|(_, n)| n == name),
                });
            }
        }
    }
    find_cycle(dbs, &edges)?;
    Ok(out)
}

/// A migration of the graph: (database index, migration index).
type Node = (usize, usize);

/// Depth-first search over the migration graph, iterative (a catalog may hold thousands of migrations).
fn find_cycle(dbs: &[CatalogDb<'_>], edges: &[Vec<Vec<Node>>]) -> Result<(), DatabasesError> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    let mut mark: Vec<Vec<Mark>> = dbs.iter().map(|d| vec![Mark::New; d.migrations.len()]).collect();
    let deps = |(d, m): Node| {
        let own = m.checked_sub(1).map(|p| (d, p));
        own.into_iter().chain(edges[d][m].iter().copied())
    };
    let path_of = |(d, m): Node| dbs[d].migrations[m].up.path.clone();
    for d in 0..dbs.len() {
        for m in 0..dbs[d].migrations.len() {
            if mark[d][m] != Mark::New {
                continue;
            }
            // (node, its dependencies not yet visited)
            let mut stack: Vec<(Node, Vec<Node>)> = vec![((d, m), deps((d, m)).collect())];
            mark[d][m] = Mark::Open;
            while let Some((node, pending)) = stack.last_mut() {
                let node = *node;
                match pending.pop() {
                    None => {
                        mark[node.0][node.1] = Mark::Done;
                        stack.pop();
                    }
                    Some(next) => match mark[next.0][next.1] {
                        Mark::Done => {}
                        Mark::Open => {
                            let start = stack.iter().position(|(n, _)| *n == next).unwrap_or(0);
                            let mut cycle: Vec<String> = stack[start..].iter().map(|(n, _)| path_of(*n)).collect();
                            cycle.push(path_of(next));
                            return Err(DatabasesError::Cycle {
                                file: path_of(next),
                                cycle,
                            });
                        }
                        Mark::New => {
                            mark[next.0][next.1] = Mark::Open;
                            stack.push((next, deps(next).collect()));
                        }
                    },
                }
            }
        }
    }
    Ok(())
}

/// The order to compile the databases in so that every database a migration attaches is compiled (and its SQL
/// known) before it: indexes into `dbs`. `None` if attachments between whole databases go both ways, which the
/// build validation cannot order (the names of one such pair are returned).
pub fn compile_order(dbs: &[CatalogDb<'_>], requirements: &[Requirement]) -> Result<Vec<usize>, (String, String)> {
    let index: HashMap<&str, usize> = dbs.iter().enumerate().map(|(i, d)| (d.name, i)).collect();
    let mut order = Vec::with_capacity(dbs.len());
    let mut placed = vec![false; dbs.len()];
    while order.len() < dbs.len() {
        let ready = (0..dbs.len()).find(|&i| {
            !placed[i]
                && requirements
                    .iter()
                    .filter(|r| r.attach && r.database == dbs[i].name)
                    .all(|r| index.get(r.needs.as_str()).is_some_and(|&n| placed[n]))
        });
        match ready {
            Some(i) => {
                placed[i] = true;
                order.push(i);
            }
            None => {
                let stuck = requirements
                    .iter()
                    .find(|r| r.attach && index.get(r.database.as_str()).is_some_and(|&i| !placed[i]));
                return Err(stuck.map_or_else(Default::default, |r| (r.database.clone(), r.needs.clone())));
            }
        }
    }
    Ok(order)
}

/// The hook for [`crate::compile::compile_with_hook`] that validates database `database`'s `-- migrate:attach`
/// migrations: before such a migration runs, each database it attaches is attached under its name, holding the
/// schema (and rows) that database's compiled migrations up to the required version leave. `compiled` gives the
/// already-compiled databases by name (see [`compile_order`]). The attached database stays attached afterwards (an
/// attached database's objects are not part of the validated schema), so the down proof can use it too.
#[cfg(feature = "sqlite")]
pub fn attach_for_validation<'a>(
    database: &'a str,
    requirements: &'a [Requirement],
    compiled: &'a HashMap<String, crate::compile::Compiled>,
) -> impl FnMut(&mut rusqlite::Connection, &MigrationSource) -> Result<(), String> + 'a {
    move |conn, m| {
        let wanted = requirements
            .iter()
            .filter(|r| r.attach && r.database == database && r.version == m.version);
        for r in wanted {
            let other = compiled
                .get(&r.needs)
                .ok_or_else(|| format!("database `{}` was not validated before this file attaches it", r.needs))?;
            let snapshot = schema_at(other, r.needs_version)?;
            attach_snapshot(conn, &r.needs, &snapshot).map_err(|e| format!("cannot attach `{}`: {e}", r.needs))?;
        }
        Ok(())
    }
}

/// An in-memory database with `compiled`'s ups up to `version` applied.
#[cfg(feature = "sqlite")]
fn schema_at(compiled: &crate::compile::Compiled, version: u64) -> Result<rusqlite::Connection, String> {
    let db = rusqlite::Connection::open_in_memory().map_err(|e| e.to_string())?;
    for m in compiled.migrations.iter().take_while(|m| m.source.version <= version) {
        if m.source.code || m.source.up.directives.attaches().next().is_some() {
            // A code migration cannot run here; one that attaches yet another database is validated in its own
            // set. Either way what it changes is data, and the attaching file is validated against the schema.
            continue;
        }
        db.execute_batch(&m.up_sql)
            .map_err(|e| format!("{}: replaying it to attach its database failed: {e}", m.source.up.path))?;
    }
    Ok(db)
}

#[cfg(feature = "sqlite")]
fn attach_snapshot(
    conn: &mut rusqlite::Connection,
    name: &str,
    snapshot: &rusqlite::Connection,
) -> rusqlite::Result<()> {
    let attached: bool = conn.query_row(
        "SELECT count(*) > 0 FROM pragma_database_list WHERE name = ?1",
        [name],
        |r| r.get(0),
    )?;
    let ident = crate::sql::quote_ident(name);
    if attached {
        conn.execute_batch(&format!("DETACH DATABASE {ident}"))?;
    }
    conn.execute_batch(&format!("ATTACH DATABASE ':memory:' AS {ident}"))?;
    let backup = rusqlite::backup::Backup::new_with_names(snapshot, "main", conn, name)?;
    backup.run_to_completion(1000, std::time::Duration::ZERO, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::{Entry, SourceFile, load_files};

    fn set(dir: &str, files: &[(&str, &str)]) -> Vec<MigrationSource> {
        load_files(
            files
                .iter()
                .map(|(n, sql)| SourceFile {
                    file_name: (*n).into(),
                    display: format!("m/{dir}/{n}"),
                    contents: Entry::File(sql.as_bytes().to_vec()),
                })
                .collect(),
        )
        .unwrap()
    }

    #[test]
    fn requirements_resolve_and_order() {
        let a = set(
            "a",
            &[
                ("0001_a.sql", "CREATE TABLE a(x);"),
                ("0002_b.sql", "CREATE TABLE b(x);"),
            ],
        );
        let b = set(
            "b",
            &[(
                "0001_c.sql",
                "-- migrate:requires a@2\n-- migrate:attach a\nCREATE TABLE c AS SELECT * FROM a.b;",
            )],
        );
        let dbs = [
            CatalogDb {
                name: "b",
                migrations: &b,
            },
            CatalogDb {
                name: "a",
                migrations: &a,
            },
        ];
        let reqs = check(&dbs).unwrap();
        assert_eq!(
            reqs,
            vec![Requirement {
                database: "b".into(),
                version: 1,
                needs: "a".into(),
                needs_version: 2,
                attach: true
            }]
        );
        // `a` first: `b` attaches it.
        assert_eq!(compile_order(&dbs, &reqs).unwrap(), vec![1, 0]);
    }

    #[test]
    fn errors_name_the_file() {
        let a = set("a", &[("0001_a.sql", "CREATE TABLE a(x);")]);
        let err = |sql: &str| {
            let b = set("b", &[("0001_b.sql", sql)]);
            check(&[
                CatalogDb {
                    name: "a",
                    migrations: &a,
                },
                CatalogDb {
                    name: "b",
                    migrations: &b,
                },
            ])
            .unwrap_err()
        };
        let e = err("-- migrate:requires a@2\nSELECT 1;");
        assert!(matches!(e, DatabasesError::UnknownVersion { version: 2, .. }), "{e}");
        assert_eq!(e.file(), "m/b/0001_b.sql");
        assert!(e.to_string().contains("its newest is 1"), "{e}");
        let e = err("-- migrate:requires c@1\nSELECT 1;");
        assert!(matches!(e, DatabasesError::UnknownDatabase { .. }) && e.to_string().contains("databases: a, b"));
        let e = err("-- migrate:requires b@1\nSELECT 1;");
        assert!(matches!(e, DatabasesError::OwnDatabase { .. }), "{e}");
        let e = err("-- migrate:attach a\nSELECT 1;");
        assert!(matches!(e, DatabasesError::AttachWithoutRequires { .. }), "{e}");
    }

    #[cfg(feature = "sqlite")]
    #[test]
    fn an_attaching_migration_is_validated_against_the_required_version() {
        use crate::compile::{CompileOptions, compile, compile_with_hook};
        let opts = CompileOptions::default();
        let a = set(
            "a",
            &[
                (
                    "0001_notes.sql",
                    "CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT);",
                ),
                ("0002_drop.sql", "-- migrate:requires b@1\nDROP TABLE notes;"),
            ],
        );
        let move_notes = "-- migrate:requires a@1\n-- migrate:attach a\n\
                          CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT);\n\
                          INSERT INTO notes SELECT * FROM a.notes;\nDELETE FROM a.notes;";
        let b = set(
            "b",
            &[
                ("0001_move.up.sql", move_notes),
                ("0001_move.down.sql", "DROP TABLE notes;"),
            ],
        );
        let dbs = [
            CatalogDb {
                name: "a",
                migrations: &a,
            },
            CatalogDb {
                name: "b",
                migrations: &b,
            },
        ];
        let reqs = check(&dbs).unwrap();
        let mut done = HashMap::new();
        done.insert("a".to_owned(), compile(a.clone(), &opts).unwrap());
        // Without the hook the file cannot see `a`.
        assert!(
            compile(b.clone(), &opts)
                .unwrap_err()
                .to_string()
                .contains("no such table: a.notes")
        );
        let mut hook = attach_for_validation("b", &reqs, &done);
        compile_with_hook(b.clone(), &opts, &[], &mut hook).unwrap();
        // At a version where `a` has no such table, the same file fails naming itself and its line.
        let b2 = set(
            "b",
            &[(
                "0001_move.sql",
                &move_notes
                    .replace("a@1", "a@2")
                    .replace("SELECT * FROM a.notes", "SELECT * FROM a.notes2"),
            )],
        );
        let reqs = check(&[
            dbs[0],
            CatalogDb {
                name: "b",
                migrations: &b2,
            },
        ]);
        // b@1 requires a@2, which requires b@1: a cycle.
        assert!(matches!(reqs, Err(DatabasesError::Cycle { .. })));
        let b3 = set(
            "b",
            &[("0001_move.sql", &move_notes.replace("FROM a.notes;", "FROM a.missing;"))],
        );
        let reqs = check(&[
            dbs[0],
            CatalogDb {
                name: "b",
                migrations: &b3,
            },
        ])
        .unwrap();
        let mut hook = attach_for_validation("b", &reqs, &done);
        let e = compile_with_hook(b3, &opts, &[], &mut hook).unwrap_err().to_string();
        assert!(
            e.starts_with("m/b/0001_move.sql:4: ") && e.contains("no such table: a.missing"),
            "{e}"
        );
    }

    #[test]
    fn a_cycle_through_later_versions_is_found() {
        // a@2 needs b@2, b@2 needs... b@1 needs a@2: b@1 -> a@2 -> b@2 -> b@1.
        let a = set(
            "a",
            &[
                ("0001_a.sql", "SELECT 1;"),
                ("0002_a.sql", "-- migrate:requires b@2\nSELECT 1;"),
            ],
        );
        let b = set(
            "b",
            &[
                ("0001_b.sql", "-- migrate:requires a@2\nSELECT 1;"),
                ("0002_b.sql", "SELECT 1;"),
            ],
        );
        let e = check(&[
            CatalogDb {
                name: "a",
                migrations: &a,
            },
            CatalogDb {
                name: "b",
                migrations: &b,
            },
        ])
        .unwrap_err();
        let DatabasesError::Cycle { cycle, .. } = &e else {
            panic!("{e}")
        };
        assert_eq!(cycle.first(), cycle.last());
        assert!(cycle.len() == 4, "{cycle:?}");
        // Requiring an older version of the other database is not a cycle.
        let b = set(
            "b",
            &[
                ("0001_b.sql", "-- migrate:requires a@1\nSELECT 1;"),
                ("0002_b.sql", "SELECT 1;"),
            ],
        );
        check(&[
            CatalogDb {
                name: "a",
                migrations: &a,
            },
            CatalogDb {
                name: "b",
                migrations: &b,
            },
        ])
        .unwrap();
    }
}
