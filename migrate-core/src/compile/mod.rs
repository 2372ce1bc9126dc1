//! Build-time validation: every migration's SQL is expanded, executed in an in-memory SQLite statement by
//! statement, hashed structurally after every version, and every reversible migration's down is proven to restore
//! the schema from before its up. The macro runs this inside `cargo build`; the runtime runs it for a directory
//! loaded at run time.
//!
//! # Cost
//!
//! The macro runs unoptimized, and a project may have thousands of migrations, so nothing here is quadratic in the
//! number of schema objects. The database's objects are described once (with [`crate::schema`]'s own describing
//! function, so hashes equal [`Schema::read`]'s) and cached by `sqlite_schema` rowid. After each statement only
//! what it touched is described again: new rows (rowids above the previous maximum), and the objects an authorizer
//! callback saw it drop or alter. Statements whose effect cannot be bounded that way (renames, which rewrite other
//! objects' SQL; `ROLLBACK`; `VACUUM`; direct writes to `sqlite_schema`) trigger a rescan that compares every row
//! with the cache and only describes rows that changed. The schema hash is a sum of per-object hashes (see
//! [`Schema::hash`]), updated as objects come and go.
//!
//! # Rust-code migrations
//!
//! A code migration's function is not available at build time, so it is not executed: the schema is assumed to be
//! unchanged by it (its `schema_hash` is the previous version's) and, in the down proof, by its down. A code
//! migration that changes the schema therefore makes the next schema hash check at launch fail, which is the
//! intended signal to express schema changes in SQL.

use crate::checksum::Checksum;
use crate::expand::{self, Chunk, ExpandError};
use crate::load::MigrationSource;
use crate::schema::{Schema, SchemaDiff};
use tracked::Tracked;

pub mod replay;
pub mod rows;
mod run;
mod stubs;
mod tracked;

pub use rows::{Analysis, Fixture};
pub use stubs::{BadStub, FunctionStub};

/// What [`compile`] does besides expanding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompileOptions {
    /// Execute every migration in an in-memory SQLite and compute schema hashes.
    pub run_sql: bool,
    /// Prove that each reversible migration's down restores the schema from before its up (needs `run_sql`).
    pub check_down: bool,
    /// The most SQLite virtual-machine steps one statement may take during validation
    /// ([`DEFAULT_MAX_STEPS`] unless raised; `0` means no bound). A statement that does not finish within it (an
    /// unbounded recursive CTE, say) fails the build naming its file and line instead of hanging `cargo build`.
    pub max_steps: u64,
}

/// The default bound on one statement's work during validation: 100 million SQLite VM steps, seconds of work on
/// the empty in-memory database validation runs on, far beyond what a schema migration needs there.
pub const DEFAULT_MAX_STEPS: u64 = 100_000_000;

impl Default for CompileOptions {
    fn default() -> Self {
        CompileOptions {
            run_sql: true,
            check_down: true,
            max_steps: DEFAULT_MAX_STEPS,
        }
    }
}

/// A validated set, ready to embed.
#[derive(Debug, Clone)]
pub struct Compiled {
    /// The migrations in version order.
    pub migrations: Vec<CompiledMigration>,
    /// [`Schema::to_text`] of the schema after the newest migration; `None` when SQL was not executed.
    pub final_schema: Option<String>,
    /// The SQLite version the SQL was validated with; `None` when SQL was not executed.
    pub sqlite_version: Option<String>,
    /// What the lints found (see [`crate::lint`]), allowed ones left out; empty when SQL was not executed.
    pub findings: Vec<crate::lint::Finding>,
}

/// One migration with the SQL it runs.
#[derive(Debug, Clone)]
pub struct CompiledMigration {
    /// What the loader produced.
    pub source: MigrationSource,
    /// The expanded up SQL (empty for a Rust-code migration).
    pub up_sql: String,
    /// The expanded down SQL of a reversible SQL migration; `None` for irreversible and Rust-code migrations (for
    /// those, `source.down.is_some()` tells whether a down function exists).
    pub down_sql: Option<String>,
    /// [`Schema::hash`] of the schema after this migration; `None` when SQL was not executed.
    pub schema_hash: Option<Checksum>,
}

/// Which script of a migration a failing statement belongs to (defined in [`crate::direction`], shared with the
/// runtime).
pub use crate::direction::Direction;

/// Why a set of migrations does not compile. Every variant names the file(s); `Display` is the compile error the
/// user sees.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompileError {
    /// A directive's SQL could not be generated.
    #[error("{0}")]
    Expand(#[from] ExpandError),
    /// A statement failed in SQLite.
    #[error("{}", statement_message(.file, *.line, *.generated, .statement, .message, .sqlite_version))]
    Statement {
        /// The file whose statement failed (for SQL a directive generated: the file holding the directive).
        file: String,
        /// The statement's line in `file` (for generated SQL: the directive's line).
        line: usize,
        /// Whether a directive generated the statement.
        generated: bool,
        /// Up or down.
        direction: Direction,
        /// The statement's first line, shortened.
        statement: String,
        /// SQLite's message.
        message: String,
        /// The SQLite version used.
        sqlite_version: String,
    },
    /// A down script leaves a schema different from the one before its up ran.
    #[error(
        "{down_file}: the down migration of version {version} does not restore the schema from before {up_file} \
         (validated with SQLite {sqlite_version}):\n{diff}"
    )]
    DownMismatch {
        /// The down file.
        down_file: String,
        /// The up file.
        up_file: String,
        /// The version.
        version: u64,
        /// `missing`: what the down removed that existed before the up; `unexpected`: what it left behind.
        diff: Box<SchemaDiff>,
        /// The SQLite version used.
        sqlite_version: String,
    },
    /// A `foreign-keys=off` migration leaves rows that violate foreign keys; the runtime's `PRAGMA
    /// foreign_key_check` before commit would roll it back.
    #[error(
        "{file}: foreign key violations at the end of this `foreign-keys=off` migration (PRAGMA foreign_key_check): \
         {} (validated with SQLite {sqlite_version})",
        violations.join("; ")
    )]
    ForeignKeyViolation {
        /// The migration's file.
        file: String,
        /// One entry per violating row: `table "t" rowid 3 references "p"`.
        violations: Vec<String>,
        /// The SQLite version used.
        sqlite_version: String,
    },
    /// A `-- migrate:squashes` file does not produce the schema or the rows its directive records: it was edited
    /// after `migrate squash` wrote it.
    #[error(
        "{file}: this squash does not reproduce the {what} it records (`{what}={expected}`, the file produces          {found}); it was edited after `migrate squash` wrote it: generate it again"
    )]
    SquashMismatch {
        /// The squash file.
        file: String,
        /// `schema` or `data`.
        what: String,
        /// The hash the directive records.
        expected: Checksum,
        /// The hash the file produces.
        found: Checksum,
    },
    /// Rows of a table that survives the migration disappeared although the file neither deletes from nor drops
    /// it: the cascade case (a rebuild's `DROP TABLE` with foreign keys on deletes the children of every row).
    #[error(
        "{file}:{line}: {} of the {before} rows of table {} vanished in this {what} although the file neither deletes \
         from nor drops that table (validation runs every migration against rows, with foreign keys on: a DROP TABLE \
         deletes the rows of ON DELETE CASCADE children, as in a table rebuild; rebuild with `-- migrate:rebuild` or \
         `-- migrate:foreign-keys=off`). If the rows are meant to go, delete them explicitly, or opt the file out with \
         `-- migrate:allow rows`",
        before - after,
        crate::schema::quote(table)
    )]
    RowsVanished {
        /// The file whose statement removed them.
        file: String,
        /// The first statement that wrote to the table.
        line: usize,
        /// The table.
        table: String,
        /// Rows before the script.
        before: i64,
        /// Rows after it.
        after: i64,
        /// `up`, `down`, …
        what: String,
    },
    /// A statement fails because the tables hold rows and succeeds on an empty database: it would pass every
    /// empty-schema check and fail on the first real database.
    #[error(
        "{file}:{line}: {statement}: {message} (validated with SQLite {}). This fails only because {} \
         holds rows: the same statement succeeds on empty tables, so it would pass on a fresh database and fail on \
         every database with data (validation seeds each table with generated rows, and fixtures if given). Make \
         it work with existing rows (a default that references an existing row or NULL, a backfill before \
         tightening NOT NULL, removing duplicates before a unique index); if no real database can hold such rows \
         (the generator cannot know your CHECKs), opt out with `-- migrate:allow rows` in the file or `rows = false` \
         in embed_migrations!",
        rusqlite::version(),
        table.as_deref().map_or_else(|| "the table".to_owned(), |t| format!("table {}", crate::schema::quote(t)))
    )]
    RowsRequired {
        /// The file.
        file: String,
        /// The statement's line.
        line: usize,
        /// The table the statement is about, when it names one.
        table: Option<String>,
        /// The statement's first line.
        statement: String,
        /// SQLite's message.
        message: String,
    },
    /// up → down of a reversible migration loses rows of a table that exists before the up and after the down.
    #[error(
        "{file}:{line}: up → down → up of {up_file} does not keep the rows of table {}: {before} before the up, \
         {after} after {down_file} (a down that rebuilds or recreates a table must copy its rows back); if that is \
         meant, opt out with `-- migrate:allow rows` in the up file",
        crate::schema::quote(table)
    )]
    RowsNotRestored {
        /// The file whose statement lost them (usually the down).
        file: String,
        /// The first statement of it that wrote to the table.
        line: usize,
        /// The up file.
        up_file: String,
        /// The down file.
        down_file: String,
        /// The table.
        table: String,
        /// Rows before the up.
        before: i64,
        /// Rows after the down.
        after: i64,
    },
    /// A fixture's statement failed.
    #[error("{file}:{line}: {statement}: {message} (fixture rows for validation)")]
    Fixture {
        /// The fixture file.
        file: String,
        /// The statement's line.
        line: usize,
        /// The statement's first line.
        statement: String,
        /// SQLite's message.
        message: String,
    },
    /// The validation database itself failed (not a statement of a migration).
    #[error("{file}: cannot validate: the in-memory SQLite database failed: {message}")]
    Database {
        /// The migration being validated.
        file: String,
        /// What failed.
        message: String,
    },
}

impl CompileError {
    /// The files this error is about, first the one to fix.
    pub fn files(&self) -> Vec<&str> {
        match self {
            CompileError::Expand(e) => vec![e.file.as_str()],
            CompileError::Statement { file, .. }
            | CompileError::Database { file, .. }
            | CompileError::ForeignKeyViolation { file, .. }
            | CompileError::SquashMismatch { file, .. }
            | CompileError::RowsVanished { file, .. }
            | CompileError::RowsRequired { file, .. }
            | CompileError::Fixture { file, .. } => vec![file],
            CompileError::RowsNotRestored {
                file,
                up_file,
                down_file,
                ..
            } => {
                let mut v = vec![file.as_str()];
                for f in [up_file, down_file] {
                    if !v.contains(&f.as_str()) {
                        v.push(f);
                    }
                }
                v
            }
            CompileError::DownMismatch { down_file, up_file, .. } => vec![down_file, up_file],
        }
    }
}

fn statement_message(
    file: &str,
    line: usize,
    generated: bool,
    statement: &str,
    message: &str,
    version: &str,
) -> String {
    if generated {
        format!(
            "{file}:{line}: {statement}: {message} (in SQL generated by the directive on line {line}; validated with \
             SQLite {version})"
        )
    } else {
        format!("{file}:{line}: {statement}: {message} (validated with SQLite {version})")
    }
}

/// The first line of a statement, at most 80 characters, with `…` when anything was cut.
fn shorten(sql: &str) -> String {
    let whole = sql.trim_end().trim_end_matches(';').trim_end();
    let first = whole.lines().next().unwrap_or("").trim_end();
    let mut out: String = first.chars().take(80).collect();
    if out.len() < whole.len() {
        out.push('…');
    }
    out
}

/// SQLite's own message from a rusqlite error, without rusqlite's "in <sql> at offset n" suffix.
pub(crate) fn sqlite_message(e: &rusqlite::Error, sql: &str) -> String {
    let message = match e {
        rusqlite::Error::SqliteFailure(_, Some(m)) => m.clone(),
        other => {
            let text = other.to_string();
            match text.find(&format!(" in {sql} at offset ")) {
                Some(i) => text[..i].to_owned(),
                None => text,
            }
        }
    };
    match crate::hint::for_sqlite_message(&message) {
        Some(hint) => format!("{message}; {hint}"),
        None => message,
    }
}

/// Expands, executes and hashes a set of migrations (in version order, as the loader returns them).
///
/// ```
/// use litemigrate_core::compile::{compile, CompileOptions};
/// use litemigrate_core::load::{load_files, Entry, SourceFile};
/// let file = |n: &str, sql: &str| SourceFile {
///     file_name: n.into(),
///     display: format!("migrations/{n}"),
///     contents: Entry::File(sql.as_bytes().to_vec()),
/// };
/// let set = load_files(vec![
///     file("0001_users.up.sql", "CREATE TABLE users(id INTEGER PRIMARY KEY);"),
///     file("0001_users.down.sql", "DROP TABLE users;"),
///     file("0002_idx.sql", "CREATE INDEX i ON missing_table(x);"),
/// ])
/// .unwrap();
/// let err = compile(set, &CompileOptions::default()).unwrap_err();
/// assert!(err.to_string().starts_with("migrations/0002_idx.sql:1: CREATE INDEX i ON missing_table(x): no such table"));
/// ```
pub fn compile(set: Vec<MigrationSource>, opts: &CompileOptions) -> Result<Compiled, CompileError> {
    compile_with(set, opts, &Analysis::default())
}

/// [`compile`] with what validation does beyond running the SQL: the rows it runs migrations against (generated
/// rows, on by default, and application fixtures; see [`rows`]), the lints, and functions declared to exist
/// ([`FunctionStub`]).
pub fn compile_with(
    set: Vec<MigrationSource>,
    opts: &CompileOptions,
    analysis: &Analysis,
) -> Result<Compiled, CompileError> {
    compile_with_hook(set, opts, analysis, &mut |_, _| Ok(()))
}

/// What [`compile_with_hook`] calls before each SQL migration's up runs: the validation connection and the
/// migration. An `Err` fails the build naming the migration's file.
pub type BeforeUp<'a> = dyn FnMut(&mut rusqlite::Connection, &MigrationSource) -> Result<(), String> + 'a;

/// [`compile_with`] with a hook before each SQL migration's up: a catalog of databases uses it to attach the other
/// database a `-- migrate:attach` migration reads, at the version its `requires` names
/// ([`crate::databases::attach_for_validation`]).
pub fn compile_with_hook(
    set: Vec<MigrationSource>,
    opts: &CompileOptions,
    row_opts: &Analysis,
    before_up: &mut BeforeUp<'_>,
) -> Result<Compiled, CompileError> {
    if !opts.run_sql {
        let mut migrations = Vec::with_capacity(set.len());
        for source in set {
            let (up_sql, down_sql) = if source.code {
                (String::new(), None)
            } else {
                let up = expand::join(&expand::expand_up(&source.up, None)?);
                let down = expand::expand_down(&source.up, source.down.as_ref(), None)?;
                (up, down.map(|c| expand::join(&c)))
            };
            migrations.push(CompiledMigration {
                source,
                up_sql,
                down_sql,
                schema_hash: None,
            });
        }
        return Ok(Compiled {
            migrations,
            final_schema: None,
            sqlite_version: None,
            findings: Vec::new(),
        });
    }

    let first_file = set.first().map_or("", |m| m.up.path.as_str());
    let mut db =
        Tracked::open(opts.max_steps, row_opts.stubs.as_slice().into()).map_err(|e| CompileError::Database {
            file: first_file.to_owned(),
            message: e,
        })?;
    let empty_hash = db.hash();
    let mut migrations: Vec<CompiledMigration> = Vec::with_capacity(set.len());
    // The expanded down chunks, for the down proof.
    let mut downs: Vec<Option<Vec<Chunk>>> = Vec::with_capacity(set.len());
    let mut hash = empty_hash;
    let mut rows = row_opts.generate.then(rows::Rows::default);
    let mut findings = Vec::new();
    let mut fixtures: Vec<&Fixture> = row_opts.fixtures.iter().collect();
    fixtures.sort_by(|a, b| (a.version, &a.path).cmp(&(b.version, &b.path)));
    let mut fixtures = fixtures.into_iter().peekable();
    let mut set = set.into_iter().peekable();
    while let Some(source) = set.next() {
        // Fixtures of the versions below this one, then generated rows for the tables that have none yet.
        while let Some(f) = fixtures.next_if(|f| f.version < source.version) {
            rows::run_fixture(&mut db, f)?;
            if let Some(r) = rows.as_mut() {
                r.recount_written(&db);
            }
        }
        let allow_rows = source.up.directives.allows(rows::ALLOW_ROWS);
        if let Some(r) = rows.as_mut() {
            if allow_rows {
                r.clear(&mut db);
            } else {
                r.seed(&mut db);
            }
        }
        let checked_rows = rows.as_mut().filter(|_| !allow_rows && !source.code);
        if source.code {
            migrations.push(CompiledMigration {
                source,
                up_sql: String::new(),
                down_sql: None,
                schema_hash: Some(hash),
            });
            downs.push(None);
        } else {
            before_up(&mut db.conn, &source).map_err(|message| CompileError::Database {
                file: source.up.path.clone(),
                message,
            })?;
            let chunks = expand::expand_up(&source.up, Some(&db.conn))?;
            let lint_statements = crate::lint::statements(&chunks);
            let lint_before = crate::lint::Before::capture(&db.conn, &lint_statements);
            if let Err(e) = db.run_migration(&source, &chunks, Direction::Up) {
                return Err(match checked_rows {
                    Some(_) => rows_required(e, &migrations, &source, opts, db.stubs.clone()),
                    None => e,
                });
            }
            findings.extend(crate::lint::check_migration(
                &source,
                lint_statements,
                &lint_before,
                &db.conn,
                &row_opts.lint,
            ));
            let before_up = hash;
            hash = db.hash();
            if let Some(s) = source.up.directives.squashes() {
                crate::squash::check_compiled(&db.conn, &source.up.path, s, hash)?;
            }
            // The down runs against the schema this up leaves, which is also the schema it is expanded against.
            let down = expand::expand_down(&source.up, source.down.as_ref(), Some(&db.conn))?;
            if let Some(r) = checked_rows {
                let up_sql = expand::join(&chunks);
                let up_changed = r.after_script(&db, &up_sql, "migration")?;
                // An up that wrote no rows of older tables and altered or dropped none of them leaves those tables
                // as they were: running it again after its down meets the same state, so the round trip can only
                // tell something when it touched them (this keeps migrations that only create objects cheap).
                let touched_older = !lint_before.tables.is_empty() || db.written.iter().any(|w| r.knew(&w.table));
                if let (true, true, Some(down_chunks)) = (opts.check_down, touched_older, &down) {
                    round_trip(
                        &mut db,
                        r,
                        &migrations,
                        &source,
                        (&chunks, down_chunks),
                        &up_changed,
                        before_up,
                    )?;
                    hash = db.hash();
                }
            }
            migrations.push(CompiledMigration {
                source,
                up_sql: expand::join(&chunks),
                down_sql: down.as_deref().map(expand::join),
                schema_hash: Some(hash),
            });
            downs.push(down);
        }
        // Every reversible migration's down is proven, wherever it sits. Going down from the newest reaches the
        // ones above the newest irreversible migration; the run of reversible ones below an irreversible
        // migration is proven here, on a copy of the database at the top of the run, before the irreversible
        // migration changes it.
        let reversible = migrations.last().is_some_and(|m| m.source.down.is_some());
        let next_irreversible = set.peek().is_some_and(|n| n.down.is_none());
        if opts.check_down && reversible && next_irreversible {
            let mut copy = db.fork().map_err(|message| CompileError::Database {
                file: migrations.last().map_or_else(String::new, |m| m.source.up.path.clone()),
                message,
            })?;
            copy.prove_downs(&migrations, &downs, empty_hash)?;
        }
    }
    for f in fixtures {
        rows::run_fixture(&mut db, f)?;
    }
    let final_schema = db.schema().to_text();
    if opts.check_down {
        db.prove_downs(&migrations, &downs, empty_hash)?;
    }

    Ok(Compiled {
        migrations,
        final_schema: Some(final_schema),
        sqlite_version: Some(rusqlite::version().to_owned()),
        findings,
    })
}

/// up → down → up of a reversible migration on the rows: the down must keep the rows of the tables it restores and
/// the up must run again on what the down left. The database ends where it was after the first up.
fn round_trip(
    db: &mut Tracked,
    rows: &mut rows::Rows,
    older: &[CompiledMigration],
    m: &MigrationSource,
    (up, down): (&[Chunk], &[Chunk]),
    up_changed: &[(String, i64)],
    before_up: Checksum,
) -> Result<(), CompileError> {
    let Some(down_script) = &m.down else {
        return Ok(());
    };
    db.run_migration(m, down, Direction::Down)?;
    if db.hash() != before_up {
        // The down does not restore the schema: the down proof's own error says how.
        check_against_replay(db, older.iter().map(|c| &c.source), m, &down_script.path)?;
    }
    rows.check_round_trip(db, up_changed, &down_script.path, &m.up.path)?;
    rows.recount_written(db);
    db.run_migration(m, up, Direction::Up).map_err(|e| match e {
        CompileError::Statement {
            file,
            line,
            generated,
            direction,
            statement,
            message,
            sqlite_version,
        } => CompileError::Statement {
            file,
            line,
            generated,
            direction,
            statement,
            message: format!(
                "{message} (running the up again after its down, on the rows the down left: up → down → up)"
            ),
            sqlite_version,
        },
        e => e,
    })?;
    rows.after_script(db, &expand::join(up), "migration (run again after its down)")?;
    Ok(())
}

/// A statement failed with rows in the tables: if the same migration succeeds on the same schema without rows, the
/// rows are the reason, and the error says so. Replays the older ups into a fresh database; only runs on failure.
fn rows_required(
    e: CompileError,
    older: &[CompiledMigration],
    m: &MigrationSource,
    opts: &CompileOptions,
    stubs: std::sync::Arc<[FunctionStub]>,
) -> CompileError {
    let CompileError::Statement {
        file,
        line,
        statement,
        message,
        direction: Direction::Up,
        ..
    } = &e
    else {
        return e;
    };
    let Ok(mut fresh) = Tracked::open(opts.max_steps, stubs) else {
        return e;
    };
    for o in older.iter().map(|c| &c.source).filter(|o| !o.code) {
        let ok = expand::expand_up(&o.up, Some(&fresh.conn))
            .map_err(CompileError::from)
            .and_then(|chunks| fresh.run_migration(o, &chunks, Direction::Up));
        if ok.is_err() {
            return e;
        }
    }
    let Ok(chunks) = expand::expand_up(&m.up, Some(&fresh.conn)) else {
        return e;
    };
    if fresh.run_migration(m, &chunks, Direction::Up).is_err() {
        return e;
    }
    // A rebuild's copy names its temporary table; the user knows the table being rebuilt.
    let table = rows::statement_table(statement).map(|t| {
        m.up.directives
            .list
            .iter()
            .find_map(|(_, d)| match d {
                crate::directive::Directive::Rebuild { table, .. }
                    if crate::rebuild::temp_name(table).eq_ignore_ascii_case(&t) =>
                {
                    Some(table.clone())
                }
                _ => None,
            })
            .unwrap_or(t)
    });
    CompileError::RowsRequired {
        file: file.clone(),
        line: *line,
        table,
        statement: statement.clone(),
        message: message.clone(),
    }
}

/// The hashes differ after `m`'s down: replays the ups before `m` into a fresh database and compares schemas in
/// detail. Only runs on failure, so its cost does not matter.
fn check_against_replay<'a>(
    db: &mut Tracked,
    older: impl Iterator<Item = &'a MigrationSource>,
    m: &MigrationSource,
    down_file: &str,
) -> Result<(), CompileError> {
    let db_err = |e: String| CompileError::Database {
        file: down_file.to_owned(),
        message: e,
    };
    let mut fresh = Tracked::open(db.max_steps, db.stubs.clone()).map_err(db_err)?;
    for o in older.filter(|o| !o.code) {
        let chunks = expand::expand_up(&o.up, Some(&fresh.conn))?;
        fresh.run_migration(o, &chunks, Direction::Up)?;
    }
    let expected = Schema::read(&fresh.conn).map_err(|e| db_err(e.to_string()))?;
    let actual = Schema::read(&db.conn).map_err(|e| db_err(e.to_string()))?;
    let diff = actual.diff(&expected);
    if diff.is_empty() {
        // The schemas agree; only the incremental bookkeeping was off. Resynchronize and go on.
        db.rescan().map_err(|e| db_err(e.to_string()))?;
        return Ok(());
    }
    Err(CompileError::DownMismatch {
        down_file: down_file.to_owned(),
        up_file: m.up.path.clone(),
        version: m.version,
        diff: Box::new(diff),
        sqlite_version: rusqlite::version().to_owned(),
    })
}

#[cfg(test)]
mod tests;
