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

// The introspection types live in `catalog` (the base module, so the generators need not import this one); they
// stay reachable here, where they were before, and through the facades that re-export `expand`.
pub use crate::catalog::{AppliedError, ColumnInfo, Dependent, Introspect, IntrospectError, ObjectKind, SchemaObject};
use crate::directive::Directive;
use crate::fts5::{Fts5Index, Kind};
use crate::lex::{self, Keyword};
use crate::rebuild::{Rebuild, RebuildError};
use crate::script::Script;
use crate::split;

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
/// use litemigrate_core::{directive, expand, load::Script};
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
fn at<R>(db: &dyn Introspect, sql: &str, f: impl FnOnce(&dyn Introspect) -> R) -> Result<Option<R>, IntrospectError> {
    if !split::has_statements(sql) {
        return Ok(Some(f(db)));
    }
    let mut f = Some(f);
    let mut out = None;
    match db.with_applied(sql, &mut |after| out = f.take().map(|f| f(after))) {
        Ok(()) => Ok(out),
        Err(AppliedError::Sql(_)) => Ok(None),
        Err(AppliedError::Mechanism(e)) => Err(e),
    }
}

fn expand_script(script: &Script, db: Option<&dyn Introspect>, prelude: Vec<Chunk>) -> Result<Vec<Chunk>, ExpandError> {
    let mut chunks = prelude;
    let body = match RebuildDirective::of(script) {
        Some(rebuild) => rebuild.chunks(script, db, &chunks)?,
        None => vec![Chunk {
            sql: script.sql.clone(),
            line: 1,
            generated: false,
        }],
    };
    chunks.extend(body);
    let fts: Vec<(usize, &Directive)> = script
        .directives
        .list
        .iter()
        .filter(|(_, d)| matches!(d, Directive::Fts5(_) | Directive::Fts5Resync { .. }))
        .map(|(l, d)| (*l, d))
        .collect();
    if !fts.is_empty() {
        let generated = fts_chunks(script, &fts, db, &chunks)?;
        chunks.extend(generated);
    }
    Ok(chunks)
}

/// The `-- migrate:rebuild` directive of a script.
struct RebuildDirective<'a> {
    line: usize,
    table: &'a str,
    drop: &'a [String],
}

impl<'a> RebuildDirective<'a> {
    fn of(script: &'a Script) -> Option<Self> {
        script.directives.list.iter().find_map(|(line, d)| match d {
            Directive::Rebuild { table, drop } => Some(RebuildDirective {
                line: *line,
                table,
                drop,
            }),
            _ => None,
        })
    }

    /// The body of a rebuild file, run against the schema as `before` (the chunks ahead of the body) leaves it.
    fn chunks(
        &self,
        script: &Script,
        db: Option<&dyn Introspect>,
        before: &[Chunk],
    ) -> Result<Vec<Chunk>, ExpandError> {
        let line = self.line;
        if script.directives.no_transaction() {
            return Err(err(
                script,
                line,
                "`rebuild` must run in a transaction (foreign_key_check before commit); remove `no-transaction`".into(),
            ));
        }
        let Some(db) = db else {
            return Err(err(
                script,
                line,
                "`rebuild` needs the build to execute SQL: it reads the old table's columns, indexes and triggers \
                 from the schema. Turn SQL validation back on for this crate"
                    .into(),
            ));
        };
        at(db, &join(before), |db| self.body(script, db))
            .map_err(|e| err(script, line, format!("cannot read the schema: {e}")))?
            .ok_or_else(|| err(script, line, "the SQL generated before the rebuild fails".into()))?
    }

    /// Expands the body of a `-- migrate:rebuild` file: the SQL before the new `CREATE TABLE`, the rebuild, then the
    /// statements after the optional mapping `SELECT` (see [`crate::rebuild`]).
    fn body(&self, script: &Script, db: &dyn Introspect) -> Result<Vec<Chunk>, ExpandError> {
        let (line, table) = (self.line, self.table);
        let stmts = split::statements(&script.sql);
        let Some(create) = stmts.first() else {
            return Err(err(
                script,
                line,
                format!("`rebuild {table}` needs the new `CREATE TABLE {table} (…)` in the file"),
            ));
        };
        let mapping = stmts.get(1).filter(|s| is_query(s.sql));
        let mut rebuild = Rebuild::new(table, create.sql).drop(self.drop.iter().cloned());
        if let Some(m) = mapping {
            rebuild = rebuild.mapping(m.sql);
        }
        let plan = rebuild.plan(db).map_err(|e| match e {
            RebuildError::Create(_) => err(script, create.line, e.to_string()),
            e => err(script, line, e.to_string()),
        })?;
        let mut chunks = Vec::new();
        let head = &script.sql[..create.offset];
        if !head.trim().is_empty() {
            chunks.push(Chunk {
                sql: head.to_owned(),
                line: 1,
                generated: false,
            });
        }
        // The rewritten CREATE keeps the line of the statement it came from, so an error in it points there.
        chunks.push(Chunk {
            sql: plan.create,
            line: create.line,
            generated: true,
        });
        chunks.push(Chunk {
            sql: plan.copy,
            line: mapping.map_or(line, |m| m.line),
            generated: true,
        });
        chunks.push(Chunk {
            sql: plan.swap,
            line,
            generated: true,
        });
        let last = mapping.unwrap_or(create);
        let rest_at = last.offset + last.sql.len();
        let rest = &script.sql[rest_at..];
        if split::has_statements(rest) {
            chunks.push(Chunk {
                sql: rest.to_owned(),
                line: split::line_of(&script.sql, rest_at),
                generated: false,
            });
        }
        Ok(chunks)
    }
}

/// Whether a statement is a query (`SELECT`, `WITH …`, `VALUES`): the rebuild's optional mapping.
fn is_query(sql: &str) -> bool {
    lex::significant(sql)
        .next()
        .and_then(|t| t.keyword())
        .is_some_and(|k| matches!(k, Keyword::Select | Keyword::With | Keyword::Values))
}

/// The SQL of the FTS5 directives, checked against the schema as `body` leaves it when there is a schema.
fn fts_chunks(
    script: &Script,
    fts: &[(usize, &Directive)],
    db: Option<&dyn Introspect>,
    body: &[Chunk],
) -> Result<Vec<Chunk>, ExpandError> {
    let Some(db) = db else {
        return generate_fts(script, fts, None);
    };
    let checked = at(db, &join(body), |after| generate_fts(script, fts, Some(after))).map_err(|e| {
        let line = fts.first().map_or(1, |(l, _)| *l);
        err(script, line, format!("cannot read the schema: {e}"))
    })?;
    match checked {
        Some(result) => result,
        // The body fails: generate without checks and let the build report the body's error.
        None => generate_fts(script, fts, None),
    }
}

fn generate_fts(
    script: &Script,
    fts: &[(usize, &Directive)],
    db: Option<&dyn Introspect>,
) -> Result<Vec<Chunk>, ExpandError> {
    let mut out = Vec::new();
    for &(line, d) in fts {
        let sql = match d {
            Directive::Fts5(idx) => fts5_sql(idx, db),
            Directive::Fts5Resync { index } => resync_sql(index, db),
            _ => continue,
        };
        out.push(Chunk {
            sql: generated_header(line, d) + &sql.map_err(|m| err(script, line, m))?,
            line,
            generated: true,
        });
    }
    Ok(out)
}

/// `-- migrate:fts5`: the index, its triggers and its first fill, checked against `db` when there is one.
fn fts5_sql(idx: &Fts5Index, db: Option<&dyn Introspect>) -> Result<String, String> {
    if let Some(db) = db {
        idx.check(db).map_err(|e| e.to_string())?;
    }
    idx.up_sql().map_err(|e| e.to_string())
}

/// `-- migrate:fts5-resync`: the index's declaration is read from the schema, so there must be one.
fn resync_sql(index: &str, db: Option<&dyn Introspect>) -> Result<String, String> {
    let Some(db) = db else {
        return Err(format!(
            "`fts5-resync {index}` needs the build to execute SQL: it reads the index's declaration from the schema. \
             Turn SQL validation back on for this crate"
        ));
    };
    let idx = existing_index(db, index)?;
    idx.check(db)
        .map_err(|e| format!("{e}; if the content table's columns changed, drop the index and declare it again"))?;
    idx.resync_sql().map_err(|e| e.to_string())
}

fn existing_index(db: &dyn Introspect, index: &str) -> Result<Fts5Index, String> {
    let objects = db
        .schema_objects()
        .map_err(|e| format!("cannot read the schema: {e}"))?;
    let obj = objects
        .iter()
        .find(|o| o.kind.is_table() && o.name.eq_ignore_ascii_case(index))
        .ok_or_else(|| format!("`fts5-resync`: there is no index `{index}` at this point"))?;
    let idx = obj
        .sql
        .as_deref()
        .and_then(Fts5Index::from_create_sql)
        .ok_or_else(|| format!("`fts5-resync`: `{index}` is not an FTS5 table"))?;
    if idx.kind() != Kind::External {
        return Err(format!(
            "`fts5-resync`: `{index}` is not an external-content index (content=<table>), so it has no sync triggers \
             to recreate from its declaration"
        ));
    }
    Ok(idx)
}
