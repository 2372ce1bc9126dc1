//! Directive expansion: the SQL a migration actually runs is its file body plus whatever its directives generate
//! (FTS5 indexes, table rebuilds). Expansion happens at build time, so generated SQL is validated and embedded like
//! hand-written SQL; the checksum still covers the file as written.
//!
//! Schema-dependent generators (a table rebuild needs the old table's columns) look at the schema through
//! [`Introspect`], which the build-time in-memory database implements.
//!
//! Where generated SQL goes:
//! - `-- migrate:fts5` and `-- migrate:fts5-resync`: after the file body, in directive order (the content table may
//!   be created by the body). With a schema, the FTS5 checks run against the schema as the body leaves it.
//! - `-- migrate:rebuild`: the body's first statement (the new `CREATE TABLE`) and an optional mapping `SELECT`
//!   right after it are replaced by the rebuild; the rest of the body runs after it. See [`crate::rebuild`].
//! - Down scripts: a reversible migration's down first drops what the up file's `fts5` directives created (in
//!   reverse order), then runs its own body, whose own directives expand like an up file's. The line of such a
//!   generated chunk is the line of the directive in the *up* file.

use crate::directive::Directive;
use crate::fts5::Fts5Index;
use crate::load::Script;

/// A column as `PRAGMA table_info` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnInfo {
    /// Column name.
    pub name: String,
    /// Declared type, as written (may be empty).
    pub decl_type: String,
    /// NOT NULL.
    pub not_null: bool,
    /// Position in the primary key (0 when not part of it).
    pub pk: u32,
}

/// Read access to the schema at the point a migration runs.
pub trait Introspect {
    /// The columns of `table`, or `None` when there is no such table.
    fn table_columns(&self, table: &str) -> Result<Option<Vec<ColumnInfo>>, String>;
    /// The indexes and triggers attached to `table`: `(type, name, sql)` from `sqlite_schema`, auto-indexes excluded.
    fn table_dependents(&self, table: &str) -> Result<Vec<(String, String, String)>, String>;

    /// Every entry of `sqlite_schema`, in creation (rowid) order. Schema sources that cannot list it keep the
    /// default, which makes the directives that need it (`rebuild`, `fts5-resync`) an error.
    fn schema_objects(&self) -> Result<Vec<SchemaObject>, String> {
        Err("this schema source cannot list schema objects".into())
    }

    /// Runs `sql` in a savepoint, calls `inspect` with the schema as `sql` left it, then rolls the savepoint back so
    /// nothing changes. The outer error is a failure of the mechanism itself; the inner one is `sql` failing (then
    /// `inspect` is not called).
    fn with_applied(&self, sql: &str, inspect: &mut dyn FnMut(&dyn Introspect)) -> Result<Result<(), String>, String> {
        let _ = (sql, inspect);
        Err("this schema source cannot apply SQL".into())
    }
}

/// One row of `sqlite_schema`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaObject {
    /// `table`, `index`, `view` or `trigger`.
    pub kind: String,
    /// Its name.
    pub name: String,
    /// The table it belongs to (itself for tables and views).
    pub table: String,
    /// The statement that created it; `None` for automatic indexes.
    pub sql: Option<String>,
}

/// A directive whose SQL could not be generated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: line {line}: {message}")]
pub struct ExpandError {
    /// The migration file.
    pub file: String,
    /// The directive's line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// A piece of the SQL a script runs, with where it came from so errors can name a line of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// The SQL.
    pub sql: String,
    /// For file text: the file line `sql` starts on. For generated SQL: the line of the directive that generated it.
    pub line: usize,
    /// Whether a directive generated this chunk.
    pub generated: bool,
}

/// Joins chunks into the text that is embedded and executed.
pub fn join(chunks: &[Chunk]) -> String {
    let mut out = String::new();
    for c in chunks {
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(&c.sql);
    }
    out
}

/// The SQL the up script runs, in order. `db` is the schema just before this migration, or `None` when the build
/// does not execute SQL (then FTS5 indexes expand unchecked, and `rebuild` and `fts5-resync`, which need the schema,
/// are an error).
///
/// ```
/// use migrate_core::{directive, expand, load::Script};
/// let sql = "-- migrate:fts5 docs_fts content=docs content_rowid=id columns=body\n\
///            CREATE TABLE docs(id INTEGER PRIMARY KEY, body TEXT);\n";
/// let script = Script { path: "m/1_docs.sql".into(), sql: sql.into(), directives: directive::parse(sql).unwrap() };
/// let chunks = expand::expand_up(&script, None).unwrap();
/// assert_eq!(chunks[0].sql, sql);
/// assert!(chunks[1].generated && chunks[1].line == 1 && chunks[1].sql.contains("USING fts5("));
/// ```
pub fn expand_up(script: &Script, db: Option<&dyn Introspect>) -> Result<Vec<Chunk>, ExpandError> {
    expand_script(script, db, Vec::new())
}

/// The SQL the down script runs, given its up script (whose directives may generate the reverse). `db` is the
/// schema just before the down runs.
pub fn expand_down(
    up: &Script,
    down: Option<&Script>,
    db: Option<&dyn Introspect>,
) -> Result<Option<Vec<Chunk>>, ExpandError> {
    let Some(down) = down else {
        return Ok(None);
    };
    // How a migration runs (foreign keys, transaction) is read from its up file, for both directions.
    let down_rebuild = down
        .directives
        .list
        .iter()
        .find(|(_, d)| matches!(d, Directive::Rebuild { .. }));
    if let (Some((line, _)), false) = (down_rebuild, up.directives.foreign_keys_off()) {
        return Err(err(
            down,
            *line,
            format!(
                "a `rebuild` in a down file needs foreign keys off, which is read from the up file: add \
                 `-- migrate:foreign-keys=off` to {}",
                up.path
            ),
        ));
    }
    let mut prelude = Vec::new();
    for (line, d) in up.directives.list.iter().rev() {
        if let Directive::Fts5(idx) = d {
            let sql = idx.drop_sql().map_err(|e| err(up, *line, e.to_string()))?;
            prelude.push(Chunk {
                sql: generated_header(*line, d) + &sql,
                line: *line,
                generated: true,
            });
        }
    }
    expand_script(down, db, prelude).map(Some)
}

fn err(script: &Script, line: usize, message: String) -> ExpandError {
    ExpandError {
        file: script.path.clone(),
        line,
        message,
    }
}

fn generated_header(line: usize, d: &Directive) -> String {
    // Not `-- migrate:…`: the expanded text must not look like a directive to anything that reads it again.
    format!("-- generated from line {line} ({d})\n")
}

/// Runs `f` against the schema as `sql` leaves it (or as it is, when `sql` is empty). `Ok(None)` when `sql` fails:
/// the build reports that failure where it runs the script, with the script's own line numbers.
fn at<R>(db: &dyn Introspect, sql: &str, f: impl FnOnce(&dyn Introspect) -> R) -> Result<Option<R>, String> {
    if !crate::split::has_statements(sql) {
        return Ok(Some(f(db)));
    }
    let mut f = Some(f);
    let mut out = None;
    let applied = db.with_applied(sql, &mut |after| out = f.take().map(|f| f(after)))?;
    Ok(applied.ok().and(out))
}

fn expand_script(script: &Script, db: Option<&dyn Introspect>, prelude: Vec<Chunk>) -> Result<Vec<Chunk>, ExpandError> {
    let directives = &script.directives;
    let rebuild = directives.list.iter().find_map(|(line, d)| match d {
        Directive::Rebuild { table, drop } => Some((*line, table, drop)),
        _ => None,
    });
    let mut chunks = prelude;
    match rebuild {
        Some((line, table, drop)) => {
            if directives.no_transaction() {
                return Err(err(
                    script,
                    line,
                    "`rebuild` must run in a transaction (foreign_key_check before commit); remove `no-transaction`"
                        .into(),
                ));
            }
            let Some(db) = db else {
                return Err(err(
                    script,
                    line,
                    "`rebuild` needs the build to execute SQL: it reads the old table's columns, indexes and \
                     triggers from the schema. Turn SQL validation back on for this crate"
                        .into(),
                ));
            };
            let before = join(&chunks);
            let body = at(db, &before, |db| {
                crate::rebuild::expand_body(script, line, table, drop, db)
            })
            .map_err(|e| err(script, line, format!("cannot read the schema: {e}")))?
            .ok_or_else(|| err(script, line, "the SQL generated before the rebuild fails".into()))??;
            chunks.extend(body);
        }
        None => chunks.push(Chunk {
            sql: script.sql.clone(),
            line: 1,
            generated: false,
        }),
    }
    let fts: Vec<(usize, &Directive)> = directives
        .list
        .iter()
        .filter(|(_, d)| matches!(d, Directive::Fts5(_) | Directive::Fts5Resync { .. }))
        .map(|(l, d)| (*l, d))
        .collect();
    if fts.is_empty() {
        return Ok(chunks);
    }
    let generated = match db {
        None => generate_fts(script, &fts, None)?,
        Some(db) => {
            let body = join(&chunks);
            // invariant: `fts` is not empty (returned above), so `fts[0]` exists.
            let checked = at(db, &body, |after| generate_fts(script, &fts, Some(after)))
                .map_err(|e| err(script, fts[0].0, format!("cannot read the schema: {e}")))?;
            match checked {
                Some(result) => result?,
                // The body fails: generate without checks and let the build report the body's error.
                None => generate_fts(script, &fts, None)?,
            }
        }
    };
    chunks.extend(generated);
    Ok(chunks)
}

fn generate_fts(
    script: &Script,
    fts: &[(usize, &Directive)],
    db: Option<&dyn Introspect>,
) -> Result<Vec<Chunk>, ExpandError> {
    let mut out = Vec::new();
    for (line, d) in fts {
        let line = *line;
        let sql = match d {
            Directive::Fts5(idx) => {
                if let Some(db) = db {
                    idx.check(db).map_err(|e| err(script, line, e.to_string()))?;
                }
                idx.up_sql()
            }
            Directive::Fts5Resync { index } => {
                let Some(db) = db else {
                    return Err(err(
                        script,
                        line,
                        format!(
                            "`fts5-resync {index}` needs the build to execute SQL: it reads the index's declaration \
                             from the schema. Turn SQL validation back on for this crate"
                        ),
                    ));
                };
                let idx = existing_index(db, index).map_err(|m| err(script, line, m))?;
                idx.check(db).map_err(|e| {
                    err(
                        script,
                        line,
                        format!("{e}; if the content table's columns changed, drop the index and declare it again"),
                    )
                })?;
                idx.resync_sql()
            }
            _ => continue,
        };
        let sql = sql.map_err(|e| err(script, line, e.to_string()))?;
        out.push(Chunk {
            sql: generated_header(line, d) + &sql,
            line,
            generated: true,
        });
    }
    Ok(out)
}

fn existing_index(db: &dyn Introspect, index: &str) -> Result<Fts5Index, String> {
    let objects = db
        .schema_objects()
        .map_err(|e| format!("cannot read the schema: {e}"))?;
    let obj = objects
        .iter()
        .find(|o| o.kind == "table" && o.name.eq_ignore_ascii_case(index))
        .ok_or_else(|| format!("`fts5-resync`: there is no index `{index}` at this point"))?;
    let idx = obj
        .sql
        .as_deref()
        .and_then(Fts5Index::from_create_sql)
        .ok_or_else(|| format!("`fts5-resync`: `{index}` is not an FTS5 table"))?;
    if idx.kind() != crate::fts5::Kind::External {
        return Err(format!(
            "`fts5-resync`: `{index}` is not an external-content index (content=<table>), so it has no sync triggers \
             to recreate from its declaration"
        ));
    }
    Ok(idx)
}

#[cfg(feature = "sqlite")]
impl Introspect for rusqlite::Connection {
    fn table_columns(&self, table: &str) -> Result<Option<Vec<ColumnInfo>>, String> {
        let mut stmt = self
            .prepare("SELECT name, type, \"notnull\", pk FROM pragma_table_info(?1)")
            .map_err(|e| e.to_string())?;
        let cols = stmt
            .query_map([table], |r| {
                Ok(ColumnInfo {
                    name: r.get(0)?,
                    decl_type: r.get(1)?,
                    not_null: r.get(2)?,
                    pk: r.get(3)?,
                })
            })
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| e.to_string())?;
        Ok(if cols.is_empty() { None } else { Some(cols) })
    }

    fn table_dependents(&self, table: &str) -> Result<Vec<(String, String, String)>, String> {
        let mut stmt = self
            .prepare(
                "SELECT type, name, sql FROM sqlite_schema \
                 WHERE tbl_name = ?1 AND type IN ('index', 'trigger') AND sql IS NOT NULL ORDER BY rowid",
            )
            .map_err(|e| e.to_string())?;
        stmt.query_map([table], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| e.to_string())
    }

    fn schema_objects(&self) -> Result<Vec<SchemaObject>, String> {
        let mut stmt = self
            .prepare("SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY rowid")
            .map_err(|e| e.to_string())?;
        stmt.query_map([], |r| {
            Ok(SchemaObject {
                kind: r.get(0)?,
                name: r.get(1)?,
                table: r.get(2)?,
                sql: r.get(3)?,
            })
        })
        .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
        .map_err(|e| e.to_string())
    }

    fn with_applied(&self, sql: &str, inspect: &mut dyn FnMut(&dyn Introspect)) -> Result<Result<(), String>, String> {
        // A trial run is about the schema: foreign key enforcement would make e.g. a rebuild's DROP TABLE fail (the
        // runtime runs it with enforcement off). The pragma only takes effect outside a transaction.
        let fk_was_on = self.is_autocommit()
            && self
                .query_row("PRAGMA foreign_keys", [], |r| r.get::<_, bool>(0))
                .map_err(|e| e.to_string())?;
        if fk_was_on {
            self.execute_batch("PRAGMA foreign_keys = OFF")
                .map_err(|e| e.to_string())?;
        }
        // A savepoint nests inside whatever transaction the caller holds and opens one when there is none.
        let result = self
            .execute_batch("SAVEPOINT migrate_expand")
            .map_err(|e| e.to_string())
            .and_then(|()| {
                let applied = self.execute_batch(sql).map_err(|e| e.to_string());
                if applied.is_ok() {
                    inspect(self);
                }
                self.execute_batch("ROLLBACK TO migrate_expand; RELEASE migrate_expand")
                    .map_err(|e| format!("cannot undo the trial run: {e}"))?;
                Ok(applied)
            });
        if fk_was_on {
            self.execute_batch("PRAGMA foreign_keys = ON")
                .map_err(|e| e.to_string())?;
        }
        result
    }
}

#[cfg(all(test, feature = "sqlite"))]
mod tests {
    use super::*;

    #[test]
    fn introspects_a_connection() {
        let db = rusqlite::Connection::open_in_memory().unwrap();
        db.execute_batch(
            "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
             CREATE INDEX t_name ON t(name);
             CREATE TRIGGER t_ai AFTER INSERT ON t BEGIN SELECT 1; END;",
        )
        .unwrap();
        let cols = db.table_columns("t").unwrap().unwrap();
        assert_eq!(
            cols[0],
            ColumnInfo {
                name: "id".into(),
                decl_type: "INTEGER".into(),
                not_null: false,
                pk: 1
            }
        );
        assert!(cols[1].not_null);
        assert_eq!(db.table_columns("missing").unwrap(), None);
        let deps: Vec<String> = db
            .table_dependents("t")
            .unwrap()
            .into_iter()
            .map(|(_, n, _)| n)
            .collect();
        assert_eq!(deps, ["t_name", "t_ai"]);
    }
}
