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
mod run;
mod stubs;
mod tracked;

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
            | CompileError::ForeignKeyViolation { file, .. } => vec![file],
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
fn sqlite_message(e: &rusqlite::Error, sql: &str) -> String {
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
    compile_with(set, opts, &[])
}

/// [`compile`] with functions declared to exist during validation ([`FunctionStub`]).
pub fn compile_with(
    set: Vec<MigrationSource>,
    opts: &CompileOptions,
    stubs: &[FunctionStub],
) -> Result<Compiled, CompileError> {
    compile_with_hook(set, opts, stubs, &mut |_, _| Ok(()))
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
    stubs: &[FunctionStub],
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
        });
    }

    let first_file = set.first().map_or("", |m| m.up.path.as_str());
    let mut db = Tracked::open(opts.max_steps, stubs.into()).map_err(|e| CompileError::Database {
        file: first_file.to_owned(),
        message: e,
    })?;
    let empty_hash = db.hash();
    let mut migrations: Vec<CompiledMigration> = Vec::with_capacity(set.len());
    // The expanded down chunks, for the down proof.
    let mut downs: Vec<Option<Vec<Chunk>>> = Vec::with_capacity(set.len());
    let mut hash = empty_hash;
    let mut set = set.into_iter().peekable();
    while let Some(source) = set.next() {
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
            db.run_migration(&source, &chunks, Direction::Up)?;
            hash = db.hash();
            // The down runs against the schema this up leaves, which is also the schema it is expanded against.
            let down = expand::expand_down(&source.up, source.down.as_ref(), Some(&db.conn))?;
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
    let final_schema = db.schema().to_text();
    if opts.check_down {
        db.prove_downs(&migrations, &downs, empty_hash)?;
    }

    Ok(Compiled {
        migrations,
        final_schema: Some(final_schema),
        sqlite_version: Some(rusqlite::version().to_owned()),
    })
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
