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
use crate::schema::{self, HashSum, Object, ObjectKind, Row, Schema, SchemaDiff};
use crate::split;
use rusqlite::Connection;
use rusqlite::hooks::{AuthAction, AuthContext, Authorization, TransactionOperation};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::sync::{Arc, Mutex};

/// What [`compile`] does besides expanding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompileOptions {
    /// Execute every migration in an in-memory SQLite and compute schema hashes.
    pub run_sql: bool,
    /// Prove that each reversible migration's down restores the schema from before its up (needs `run_sql`).
    pub check_down: bool,
}

impl Default for CompileOptions {
    fn default() -> Self {
        CompileOptions {
            run_sql: true,
            check_down: true,
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

/// Which script of a migration a failing statement belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// The up script.
    Up,
    /// The down script.
    Down,
}

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
    match e {
        rusqlite::Error::SqliteFailure(_, Some(m)) => m.clone(),
        other => {
            let text = other.to_string();
            match text.find(&format!(" in {sql} at offset ")) {
                Some(i) => text[..i].to_owned(),
                None => text,
            }
        }
    }
}

/// Expands, executes and hashes a set of migrations (in version order, as the loader returns them).
///
/// ```
/// use migrate_core::compile::{compile, CompileOptions};
/// use migrate_core::load::{load_files, Entry, SourceFile};
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
    let mut db = Tracked::open().map_err(|e| CompileError::Database {
        file: first_file.to_owned(),
        message: e,
    })?;
    let empty_hash = db.hash();
    let mut migrations = Vec::with_capacity(set.len());
    // The expanded down chunks, for the down proof.
    let mut downs: Vec<Option<Vec<Chunk>>> = Vec::with_capacity(set.len());
    let mut hash = empty_hash;
    for source in set {
        if source.code {
            migrations.push(CompiledMigration {
                source,
                up_sql: String::new(),
                down_sql: None,
                schema_hash: Some(hash),
            });
            downs.push(None);
            continue;
        }
        let chunks = expand::expand_up(&source.up, Some(&db.conn))?;
        db.run_migration(&source, &chunks, Direction::Up)?;
        hash = db.hash();
        // The down runs against the schema this up leaves, which is also the schema it is expanded against.
        let down = expand::expand_down(&source.up, source.down.as_ref(), Some(&db.conn))?;
        let down_sql = down.as_deref().map(expand::join);
        downs.push(down);
        migrations.push(CompiledMigration {
            source,
            up_sql: expand::join(&chunks),
            down_sql,
            schema_hash: Some(hash),
        });
    }
    let final_schema = db.schema().to_text();

    if opts.check_down {
        for i in (0..migrations.len()).rev() {
            let m = &migrations[i].source;
            let Some(down_script) = &m.down else {
                // Nothing older can be reverted past an irreversible migration.
                break;
            };
            let Some(chunks) = &downs[i] else {
                // A code migration: assumed not to change the schema, either way.
                continue;
            };
            db.run_migration(m, chunks, Direction::Down)?;
            let before = if i == 0 {
                empty_hash
            } else {
                migrations[i - 1].schema_hash.unwrap_or(empty_hash)
            };
            if db.hash() != before {
                let up_to = migrations[..i].iter().map(|m| &m.source);
                check_against_replay(&mut db, up_to, m, down_script.path.as_str())?;
            }
        }
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
    let mut fresh = Tracked::open().map_err(db_err)?;
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

// ---------------------------------------------------------------------------------------------------------------
// The tracked database

/// What the authorizer saw one statement do to the schema.
#[derive(Debug, Default)]
struct Actions {
    /// Some object was created, dropped or altered.
    ddl: bool,
    /// Names of dropped objects, with whether they are triggers (which have their own namespace).
    dropped: Vec<(bool, String)>,
    /// Some object was created.
    created: bool,
    /// Tables an `ALTER TABLE` named.
    altered: Vec<String>,
    /// A rollback, or a write to `sqlite_schema` that is not part of DDL.
    rescan: bool,
    /// A write to `sqlite_schema` was seen.
    schema_write: bool,
}

impl Actions {
    fn record(&mut self, ctx: &AuthContext<'_>) {
        let main = ctx.database_name.is_none_or(|d| d.eq_ignore_ascii_case("main"));
        match ctx.action {
            // Objects of attached databases are not part of the schema (temp objects have their own actions).
            AuthAction::DropTable { .. }
            | AuthAction::DropIndex { .. }
            | AuthAction::DropView { .. }
            | AuthAction::DropTrigger { .. }
                if !main => {}
            AuthAction::DropTable { table_name } => {
                self.ddl = true;
                self.dropped.push((false, table_name.to_owned()));
            }
            // Dropping a virtual table drops its shadow tables, which are not attached to it by name.
            AuthAction::DropVtable { .. } => self.rescan = true,
            AuthAction::DropIndex { index_name, .. } => {
                self.ddl = true;
                self.dropped.push((false, index_name.to_owned()));
            }
            AuthAction::DropView { view_name } => {
                self.ddl = true;
                self.dropped.push((false, view_name.to_owned()));
            }
            AuthAction::DropTrigger { trigger_name, .. } => {
                self.ddl = true;
                self.dropped.push((true, trigger_name.to_owned()));
            }
            AuthAction::AlterTable { table_name, .. } => {
                self.ddl = true;
                self.altered.push(table_name.to_owned());
            }
            AuthAction::CreateTable { .. }
            | AuthAction::CreateIndex { .. }
            | AuthAction::CreateView { .. }
            | AuthAction::CreateTrigger { .. }
            | AuthAction::CreateVtable { .. } => {
                self.ddl = true;
                self.created = true;
            }
            AuthAction::Transaction {
                operation: TransactionOperation::Rollback,
            }
            | AuthAction::Savepoint {
                operation: TransactionOperation::Rollback,
                ..
            } => self.rescan = true,
            AuthAction::Insert { table_name }
            | AuthAction::Update { table_name, .. }
            | AuthAction::Delete { table_name }
                if is_schema_table(table_name) =>
            {
                self.schema_write = true;
            }
            AuthAction::Unknown { .. } => self.rescan = true,
            _ => {}
        }
    }
}

fn is_schema_table(name: &str) -> bool {
    [
        "sqlite_master",
        "sqlite_schema",
        "sqlite_temp_master",
        "sqlite_temp_schema",
    ]
    .iter()
    .any(|s| s.eq_ignore_ascii_case(name))
}

/// `Connection::authorizer` returns `()` in some supported rusqlite versions and `Result<()>` in others.
trait AuthorizerResult {
    fn into_result(self) -> rusqlite::Result<()>;
}

impl AuthorizerResult for () {
    fn into_result(self) -> rusqlite::Result<()> {
        Ok(())
    }
}

impl AuthorizerResult for rusqlite::Result<()> {
    fn into_result(self) -> rusqlite::Result<()> {
        self
    }
}

/// One `sqlite_schema` row and its description.
#[derive(Debug)]
struct Entry {
    kind: String,
    name: String,
    tbl_name: String,
    sql: Option<String>,
    /// `None` for rows that are not part of the structural schema (auto-indexes, shadow tables, `sqlite_%`).
    object: Option<(Object, Checksum)>,
}

/// The name key SQLite looks objects up by: ASCII case-insensitive, triggers in their own namespace.
fn name_key(trigger: bool, name: &str) -> (bool, String) {
    (trigger, name.to_ascii_lowercase())
}

/// An in-memory database whose structural schema hash is kept up to date as migrations run.
struct Tracked {
    conn: Connection,
    log: Arc<Mutex<Actions>>,
    /// Every `sqlite_schema` row of `main`, by rowid.
    rows: BTreeMap<i64, Entry>,
    /// Name → rowid.
    names: HashMap<(bool, String), i64>,
    /// Lower-cased table name → rowids of the rows that belong to it (indexes, triggers, the table itself).
    children: HashMap<String, Vec<i64>>,
    /// Lower-cased names of the virtual tables, the only possible owners of shadow tables.
    virtual_tables: HashSet<String>,
    sum: HashSum,
}

/// What [`Tracked::note`] saw of a batch of statements.
struct Batch {
    /// A statement was seen whose effect on the schema cannot be bounded (rename, `VACUUM`).
    rescan: bool,
}

impl Tracked {
    fn open() -> Result<Tracked, String> {
        #[allow(unused_mut)] // `authorizer` takes `&mut self` only in newer rusqlite versions
        let mut conn = Connection::open_in_memory().map_err(|e| e.to_string())?;
        // Enforced, whatever this SQLite's compile-time default: the stricter choice, and the same for the bundled
        // SQLite the macro uses and a system SQLite the runtime may use.
        conn.execute_batch("PRAGMA foreign_keys = ON")
            .map_err(|e| e.to_string())?;
        let log = Arc::new(Mutex::new(Actions::default()));
        let sink = Arc::clone(&log);
        let hook = move |ctx: AuthContext<'_>| {
            // A poisoned lock only means an earlier callback panicked; the log itself is still usable.
            sink.lock().unwrap_or_else(|p| p.into_inner()).record(&ctx);
            Authorization::Allow
        };
        conn.authorizer(Some(hook)).into_result().map_err(|e| e.to_string())?;
        let mut db = Tracked {
            conn,
            log,
            rows: BTreeMap::new(),
            names: HashMap::new(),
            children: HashMap::new(),
            virtual_tables: HashSet::new(),
            sum: HashSum::default(),
        };
        db.rescan().map_err(|e| e.to_string())?;
        Ok(db)
    }

    fn hash(&self) -> Checksum {
        self.sum.finish()
    }

    fn schema(&self) -> Schema {
        let mut s = Schema::default();
        for e in self.rows.values() {
            if let Some((o, _)) = &e.object {
                s.insert(o.clone());
            }
        }
        s
    }

    fn take_log(&self) -> Actions {
        std::mem::take(&mut *self.log.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Starts a batch of statements whose schema changes [`Tracked::sync`] takes in afterwards. Describing once
    /// per migration rather than per statement matters: every DDL statement invalidates every prepared statement.
    fn begin(&mut self) -> Batch {
        self.take_log();
        Batch { rescan: false }
    }

    /// Notes a statement of the batch before it runs.
    fn note(batch: &mut Batch, sql: &str) {
        let head = sql.get(..6).unwrap_or("");
        if head.eq_ignore_ascii_case("vacuum") {
            batch.rescan = true;
        } else if head.get(..5).is_some_and(|h| h.eq_ignore_ascii_case("alter"))
            && !crate::normalize::alter_changes_only_its_table(sql)
        {
            // A rename rewrites the SQL of other objects that refer to the renamed table or column.
            batch.rescan = true;
        }
    }

    /// Brings the cache up to date with what the batch's statements did.
    fn sync(&mut self, batch: Batch) -> rusqlite::Result<()> {
        let actions = self.take_log();
        if batch.rescan || actions.rescan || (actions.schema_write && !actions.ddl) {
            return self.rescan();
        }
        if !actions.ddl {
            return Ok(());
        }
        // Rows that existed before the batch and may have changed or gone: altered tables (ADD/DROP COLUMN
        // rewrite only the table's own row) and dropped objects with everything attached to them.
        // A successful DROP removed the object, and for a table everything attached to it: no need to ask.
        for (trigger, name) in &actions.dropped {
            let mut gone: Vec<i64> = self.names.get(&name_key(*trigger, name)).copied().into_iter().collect();
            if !*trigger {
                gone.extend(
                    self.children
                        .get(&name.to_ascii_lowercase())
                        .into_iter()
                        .flatten()
                        .copied(),
                );
            }
            for rowid in gone {
                self.remove(rowid);
            }
        }
        // ADD and DROP COLUMN rewrite only the table's own row.
        let altered: Vec<i64> = actions
            .altered
            .iter()
            .filter_map(|t| self.names.get(&name_key(false, t)).copied())
            .collect();
        for rowid in altered {
            self.refresh(rowid)?;
        }
        // A new row gets a rowid above the largest one at its creation, which is at least the largest surviving
        // row from before the batch: the cache's largest now that the drops are out of it.
        if !actions.created {
            return Ok(());
        }
        let after = self.rows.last_key_value().map_or(0, |(k, _)| *k);
        self.scan_new(after)
    }

    /// Runs one migration's chunks as the runtime would: in a transaction unless `no-transaction`, with foreign key
    /// enforcement off around it for `foreign-keys=off`.
    fn run_migration(&mut self, m: &MigrationSource, chunks: &[Chunk], dir: Direction) -> Result<(), CompileError> {
        let script = match dir {
            Direction::Up => &m.up,
            Direction::Down => m.down.as_ref().unwrap_or(&m.up),
        };
        // Down scripts start with what the up file's fts5 directives generate (see `expand`); those chunks' lines
        // are lines of the up file.
        let prelude = match dir {
            Direction::Up => 0,
            Direction::Down => {
                m.up.directives
                    .list
                    .iter()
                    .filter(|(_, d)| matches!(d, crate::directive::Directive::Fts5(_)))
                    .count()
            }
        };
        let db_err = |e: rusqlite::Error| CompileError::Database {
            file: script.path.clone(),
            message: e.to_string(),
        };
        let fk_off = m.up.directives.foreign_keys_off();
        let in_tx = !m.up.directives.no_transaction();
        let mut batch = self.begin();
        if fk_off {
            self.conn.execute_batch("PRAGMA foreign_keys = OFF").map_err(db_err)?;
        }
        if in_tx {
            self.conn.execute_batch("BEGIN").map_err(db_err)?;
        }
        for (i, chunk) in chunks.iter().enumerate() {
            let file = if i < prelude { &m.up.path } else { &script.path };
            for st in split::statements(&chunk.sql) {
                Self::note(&mut batch, st.sql);
                self.conn.execute_batch(st.sql).map_err(|e| CompileError::Statement {
                    file: file.clone(),
                    line: if chunk.generated {
                        chunk.line
                    } else {
                        chunk.line + st.line - 1
                    },
                    generated: chunk.generated,
                    direction: dir,
                    statement: shorten(st.sql),
                    message: sqlite_message(&e, st.sql),
                    sqlite_version: rusqlite::version().to_owned(),
                })?;
            }
        }
        if fk_off {
            let violations = self.foreign_key_violations().map_err(db_err)?;
            if !violations.is_empty() {
                return Err(CompileError::ForeignKeyViolation {
                    file: script.path.clone(),
                    violations,
                    sqlite_version: rusqlite::version().to_owned(),
                });
            }
        }
        if in_tx {
            self.conn.execute_batch("COMMIT").map_err(db_err)?;
        }
        if fk_off {
            self.conn.execute_batch("PRAGMA foreign_keys = ON").map_err(db_err)?;
        }
        self.sync(batch).map_err(db_err)
    }

    /// `PRAGMA foreign_key_check`, one description per violating row (at most 10).
    fn foreign_key_violations(&self) -> rusqlite::Result<Vec<String>> {
        let mut st = self.conn.prepare("PRAGMA main.foreign_key_check")?;
        let rows = st.query_map([], |r| {
            let table: String = r.get(0)?;
            let rowid: Option<i64> = r.get(1)?;
            let parent: String = r.get(2)?;
            let rowid = rowid.map_or_else(|| "(without rowid)".to_owned(), |id| id.to_string());
            Ok(format!(
                "table {} rowid {rowid} references {}",
                schema::quote(&table),
                schema::quote(&parent)
            ))
        })?;
        rows.take(10).collect()
    }

    fn remove(&mut self, rowid: i64) {
        if let Some(e) = self.rows.remove(&rowid) {
            if let Some((o, h)) = &e.object {
                self.sum.remove(h);
                if o.kind() == ObjectKind::VirtualTable {
                    self.virtual_tables.remove(&e.name.to_ascii_lowercase());
                }
            }
            let key = name_key(e.kind == "trigger", &e.name);
            if self.names.get(&key) == Some(&rowid) {
                self.names.remove(&key);
            }
            let tbl = e.tbl_name.to_ascii_lowercase();
            if let Some(v) = self.children.get_mut(&tbl) {
                v.retain(|r| *r != rowid);
                if v.is_empty() {
                    self.children.remove(&tbl);
                }
            }
        }
    }

    /// Whether `PRAGMA table_list` calls this table a shadow table. The pragma walks every table, so it is only
    /// asked when a virtual table that could own the name exists.
    fn is_shadow(&self, kind: &str, name: &str) -> rusqlite::Result<bool> {
        let candidate = kind == "table"
            && schema::shadow_owner(name).is_some_and(|o| self.virtual_tables.contains(&o.to_ascii_lowercase()));
        if !candidate {
            return Ok(false);
        }
        let mut st = self
            .conn
            .prepare_cached("SELECT type FROM pragma_table_list(?1) WHERE schema = 'main'")?;
        let mut rows = st.query([name])?;
        Ok(match rows.next()? {
            Some(r) => r.get_ref(0)?.as_str()? == "shadow",
            None => false,
        })
    }

    /// Registers the virtual tables among rows about to be described, so their shadow tables are recognized
    /// whatever order the rows come in.
    fn note_virtual_tables(&mut self, rows: &[Row]) {
        for r in rows {
            if r.kind == "table"
                && !schema::is_internal(&r.name)
                && r.sql.as_deref().is_some_and(crate::catalog::is_virtual_table_sql)
            {
                self.virtual_tables.insert(r.name.to_ascii_lowercase());
            }
        }
    }

    /// Describes rows read with [`schema::read_rows`] into the cache, replacing what it had for their rowids.
    fn insert_rows(&mut self, rows: Vec<Row>) -> rusqlite::Result<()> {
        for r in &rows {
            self.remove(r.rowid);
        }
        self.note_virtual_tables(&rows);
        for row in rows {
            let shadow = self.is_shadow(&row.kind, &row.name)?;
            let object = schema::describe(&row, shadow).map(|o| {
                let h = o.hash();
                (o, h)
            });
            if let Some((o, h)) = &object {
                self.sum.add(h);
                if o.kind() == ObjectKind::VirtualTable {
                    self.virtual_tables.insert(row.name.to_ascii_lowercase());
                }
            }
            self.names.insert(name_key(row.kind == "trigger", &row.name), row.rowid);
            self.children
                .entry(row.tbl_name.to_ascii_lowercase())
                .or_default()
                .push(row.rowid);
            let entry = Entry {
                kind: row.kind,
                name: row.name,
                tbl_name: row.tbl_name,
                sql: row.sql,
                object,
            };
            self.rows.insert(row.rowid, entry);
        }
        Ok(())
    }

    /// Re-reads one row: gone, unchanged, or described again.
    fn refresh(&mut self, rowid: i64) -> rusqlite::Result<()> {
        let mut rows = schema::read_bare_rows(&self.conn, rowid, rowid)?;
        match rows.pop() {
            None => self.remove(rowid),
            Some(mut row) => {
                let same = self.rows.get(&rowid).is_some_and(|e| {
                    e.kind == row.kind && e.name == row.name && e.tbl_name == row.tbl_name && e.sql == row.sql
                });
                if !same {
                    row.load_facts(&self.conn)?;
                    self.insert_rows(vec![row])?;
                }
            }
        }
        Ok(())
    }

    /// Describes the rows created since the largest rowid was `after`.
    fn scan_new(&mut self, after: i64) -> rusqlite::Result<()> {
        let new = schema::read_rows(&self.conn, after.saturating_add(1), i64::MAX)?;
        self.insert_rows(new)
    }

    /// Compares every row with the cache; describes only rows that changed.
    fn rescan(&mut self) -> rusqlite::Result<()> {
        let mut changed = Vec::new();
        let mut seen = Vec::with_capacity(self.rows.len());
        {
            let mut st = self
                .conn
                .prepare_cached("SELECT rowid, type, name, tbl_name, sql FROM main.sqlite_master")?;
            let mut rows = st.query([])?;
            while let Some(r) = rows.next()? {
                let rowid: i64 = r.get(0)?;
                let kind = r.get_ref(1)?.as_str()?;
                let name = r.get_ref(2)?.as_str()?;
                let tbl = r.get_ref(3)?.as_str()?;
                let sql = r.get_ref(4)?.as_str_or_null()?;
                seen.push(rowid);
                let same = self
                    .rows
                    .get(&rowid)
                    .is_some_and(|e| e.kind == kind && e.name == name && e.tbl_name == tbl && e.sql.as_deref() == sql);
                if !same {
                    changed.push(rowid);
                }
            }
        }
        seen.sort_unstable();
        let gone: Vec<i64> = self
            .rows
            .keys()
            .copied()
            .filter(|r| seen.binary_search(r).is_err())
            .collect();
        for rowid in gone {
            self.remove(rowid);
        }
        let mut rows = Vec::with_capacity(changed.len());
        for rowid in changed {
            rows.extend(schema::read_rows(&self.conn, rowid, rowid)?);
        }
        // All at once: a rename may move a name from one row to another.
        self.insert_rows(rows)
    }

    /// Runs statements as one batch (for tests of the bookkeeping).
    #[cfg(test)]
    fn execute(&mut self, sql: &str) -> rusqlite::Result<()> {
        let mut batch = self.begin();
        for st in split::statements(sql) {
            Self::note(&mut batch, st.sql);
            self.conn.execute_batch(st.sql)?;
        }
        self.sync(batch)
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::Up => "up",
            Direction::Down => "down",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::{CodeMigration, Entry, SourceFile, add_code_migrations, load_files};

    fn set(files: &[(&str, &str)]) -> Vec<MigrationSource> {
        load_files(
            files
                .iter()
                .map(|(n, sql)| SourceFile {
                    file_name: (*n).into(),
                    display: format!("migrations/{n}"),
                    contents: Entry::File(sql.as_bytes().to_vec()),
                })
                .collect(),
        )
        .unwrap()
    }

    fn run(files: &[(&str, &str)]) -> Result<Compiled, CompileError> {
        compile(set(files), &CompileOptions::default())
    }

    /// Builds a real database by running each embedded up script with `execute_batch`, as an application would,
    /// and checks every version's embedded hash against `Schema::read` of that database.
    fn assert_hashes_match_real_db(c: &Compiled) {
        let real = Connection::open_in_memory().unwrap();
        for m in &c.migrations {
            real.execute_batch(&m.up_sql).unwrap();
            let read = Schema::read(&real).unwrap();
            assert_eq!(m.schema_hash, Some(read.hash()), "version {}", m.source.version);
        }
        assert_eq!(
            c.final_schema.as_deref(),
            Some(Schema::read(&real).unwrap().to_text().as_str())
        );
    }

    #[test]
    fn failing_statement_in_the_middle_names_its_line() {
        let err = run(&[
            ("0001_a.sql", "CREATE TABLE a(x);"),
            ("0002_b.sql", "-- header\nCREATE TABLE b(x);\n\nINSERT INTO b VALUES (1);\nINSERT INTO nope\n  VALUES (2);\nSELECT 1;\n"),
        ])
        .unwrap_err();
        assert_eq!(
            err,
            CompileError::Statement {
                file: "migrations/0002_b.sql".into(),
                line: 5,
                generated: false,
                direction: Direction::Up,
                statement: "INSERT INTO nope…".into(),
                message: "no such table: nope".into(),
                sqlite_version: rusqlite::version().into(),
            }
        );
        assert_eq!(
            err.to_string(),
            format!(
                "migrations/0002_b.sql:5: INSERT INTO nope…: no such table: nope (validated with SQLite {})",
                rusqlite::version()
            )
        );
    }

    #[test]
    fn index_on_missing_table_fails() {
        let err = run(&[
            ("0001_a.sql", "CREATE TABLE a(x);"),
            ("0002_b.sql", "CREATE TABLE b(x);"),
            ("0003_idx.sql", "\nCREATE INDEX i ON missing_table(x);\n"),
        ])
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "migrations/0003_idx.sql:2: CREATE INDEX i ON missing_table(x): no such table: main.missing_table \
                 (validated with SQLite {})",
                rusqlite::version()
            )
        );
        assert_eq!(err.files(), ["migrations/0003_idx.sql"]);
    }

    #[test]
    fn syntax_errors_show_sqlites_message_only() {
        let err = run(&[("1_a.sql", "CREATE TABLE a(x);\nCREAT TABLE b(y);")]).unwrap_err();
        let CompileError::Statement { line, message, .. } = err else {
            panic!("{err}")
        };
        assert_eq!((line, message.as_str()), (2, "near \"CREAT\": syntax error"));
    }

    #[test]
    fn down_that_leaves_a_table_behind() {
        let err = run(&[
            ("1_a.up.sql", "CREATE TABLE a(x);\nCREATE TABLE leftover(y TEXT);"),
            ("1_a.down.sql", "DROP TABLE a;"),
        ])
        .unwrap_err();
        let CompileError::DownMismatch {
            down_file,
            up_file,
            version,
            diff,
            ..
        } = &err
        else {
            panic!("{err}")
        };
        assert_eq!(
            (down_file.as_str(), up_file.as_str(), *version),
            ("migrations/1_a.down.sql", "migrations/1_a.up.sql", 1)
        );
        assert_eq!(diff.missing, Vec::<String>::new());
        assert_eq!(
            diff.unexpected,
            [
                "column \"leftover\".\"y\" pos=0 type=\"TEXT\" pk=0",
                "table \"leftover\""
            ]
        );
        assert!(err.to_string().contains("unexpected: table \"leftover\""), "{err}");
    }

    #[test]
    fn down_that_drops_too_much() {
        let err = run(&[
            ("1_t.sql", "CREATE TABLE t(x);"),
            ("2_u.up.sql", "CREATE TABLE u(x);\nCREATE INDEX t_x ON t(x);"),
            ("2_u.down.sql", "DROP TABLE u;\nDROP TABLE t;"),
        ])
        .unwrap_err();
        let CompileError::DownMismatch {
            down_file,
            version,
            diff,
            ..
        } = &err
        else {
            panic!("{err}")
        };
        assert_eq!((down_file.as_str(), *version), ("migrations/2_u.down.sql", 2));
        assert_eq!(diff.missing, ["column \"t\".\"x\" pos=0 type=\"\" pk=0", "table \"t\""]);
        assert_eq!(diff.unexpected, Vec::<String>::new());
    }

    #[test]
    fn down_that_fails_to_run() {
        let err = run(&[
            ("1_t.up.sql", "CREATE TABLE t(x);"),
            ("1_t.down.sql", "DROP TABLE t;\nDROP TABLE nope;"),
        ])
        .unwrap_err();
        assert_eq!(
            err,
            CompileError::Statement {
                file: "migrations/1_t.down.sql".into(),
                line: 2,
                generated: false,
                direction: Direction::Down,
                statement: "DROP TABLE nope".into(),
                message: "no such table: nope".into(),
                sqlite_version: rusqlite::version().into(),
            }
        );
    }

    const CHAIN: &[(&str, &str)] = &[
        (
            "1_users.up.sql",
            "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE);",
        ),
        ("1_users.down.sql", "DROP TABLE users;"),
        (
            "2_posts.up.sql",
            "CREATE TABLE posts(id INTEGER PRIMARY KEY, user_id INT REFERENCES users(id) ON DELETE CASCADE, body TEXT);\n\
             CREATE INDEX posts_user ON posts(user_id) WHERE body IS NOT NULL;\n\
             CREATE VIEW post_count AS SELECT user_id, count(*) AS n FROM posts GROUP BY user_id;\n\
             CREATE TRIGGER posts_ai AFTER INSERT ON posts BEGIN UPDATE posts SET body = trim(new.body) WHERE id = new.id; END;",
        ),
        ("2_posts.down.sql", "DROP VIEW post_count;\nDROP TABLE posts;"),
        (
            "3_col.up.sql",
            "ALTER TABLE users ADD COLUMN nick TEXT DEFAULT 'x';\nINSERT INTO users(email) VALUES ('a@b');",
        ),
        (
            "3_col.down.sql",
            "DELETE FROM users;\nALTER TABLE users DROP COLUMN nick;",
        ),
        (
            "4_ren.up.sql",
            "ALTER TABLE posts RENAME COLUMN body TO text;\nALTER TABLE posts RENAME TO articles;",
        ),
        (
            "4_ren.down.sql",
            "ALTER TABLE articles RENAME TO posts;\nALTER TABLE posts RENAME COLUMN text TO body;",
        ),
        (
            "5_fts.up.sql",
            "CREATE VIRTUAL TABLE docs USING fts5(title, body);\nCREATE TABLE w(a INT, b INT, PRIMARY KEY(a, b)) WITHOUT ROWID;",
        ),
        ("5_fts.down.sql", "DROP TABLE docs;\nDROP TABLE w;"),
    ];

    #[test]
    fn reversible_chain_round_trips() {
        let c = run(CHAIN).unwrap();
        assert_eq!(c.migrations.len(), 5);
        assert!(c.migrations.iter().all(|m| m.down_sql.is_some()));
        assert_eq!(c.migrations[0].down_sql.as_deref(), Some("DROP TABLE users;"));
        assert_eq!(c.sqlite_version.as_deref(), Some(rusqlite::version()));
        let hashes: Vec<Checksum> = c.migrations.iter().map(|m| m.schema_hash.unwrap()).collect();
        // Renaming a column and a table back and forth is structurally nothing, but every other version differs.
        let mut distinct = hashes.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), 5);
        assert_hashes_match_real_db(&c);
        // The final schema text parses back to the same hash.
        let text = c.final_schema.as_deref().unwrap();
        assert_eq!(Schema::from_text(text).unwrap().hash(), hashes[4]);
        assert!(text.contains("virtual-table \"docs\""), "{text}");
        assert!(!text.contains("docs_data"), "{text}");
    }

    #[test]
    fn generated_fts5_sql_is_validated_and_reverted() {
        let up = "-- migrate:fts5 docs_fts content=docs content_rowid=id columns=body\n\
                  CREATE TABLE docs(id INTEGER PRIMARY KEY, body TEXT);\n";
        let c = run(&[("1_docs.up.sql", up), ("1_docs.down.sql", "DROP TABLE docs;")]).unwrap();
        let m = &c.migrations[0];
        assert!(m.up_sql.contains("USING fts5("), "{}", m.up_sql);
        assert!(
            m.down_sql.as_deref().is_some_and(|d| d.contains("docs_fts")),
            "{:?}",
            m.down_sql
        );
        let text = c.final_schema.as_deref().unwrap();
        assert!(text.contains("virtual-table \"docs_fts\""), "{text}");
        assert!(text.contains("trigger \"docs_fts_ai\""), "{text}");
        assert!(!text.contains("table \"docs_fts_"), "shadow tables leaked: {text}");
        assert_hashes_match_real_db(&c);
        // A down that forgets the table the index reads from leaves it behind.
        let err = run(&[("1_docs.up.sql", up), ("1_docs.down.sql", "SELECT 1;")]).unwrap_err();
        let CompileError::DownMismatch { diff, .. } = &err else {
            panic!("{err}")
        };
        assert!(diff.unexpected.contains(&"table \"docs\"".to_owned()), "{err}");
        assert!(!diff.unexpected.iter().any(|l| l.contains("table \"docs_fts")), "{err}");
    }

    #[test]
    fn down_proof_stops_at_the_first_irreversible_migration() {
        let files = [
            ("1_a.up.sql", "CREATE TABLE a(x);\nCREATE TABLE kept(y);"),
            ("1_a.down.sql", "DROP TABLE a;"), // wrong, but unreachable behind version 2
            ("2_b.sql", "CREATE TABLE b(x);"),
            ("3_c.up.sql", "CREATE TABLE c(x);"),
            ("3_c.down.sql", "DROP TABLE c;"),
        ];
        let c = run(&files).unwrap();
        assert_eq!(c.migrations[0].down_sql.as_deref(), Some("DROP TABLE a;"));
        assert_eq!(c.migrations[1].down_sql, None);
        // Without the irreversible migration in between, the same down is caught.
        let err = run(&[files[0], files[1], files[3], files[4]]).unwrap_err();
        assert!(matches!(err, CompileError::DownMismatch { version: 1, .. }), "{err}");
    }

    #[test]
    fn options_turn_checks_off() {
        let bad_down = [("1_a.up.sql", "CREATE TABLE a(x);"), ("1_a.down.sql", "SELECT 1;")];
        let no_down_check = CompileOptions {
            run_sql: true,
            check_down: false,
        };
        let c = compile(set(&bad_down), &no_down_check).unwrap();
        assert_eq!(c.migrations[0].down_sql.as_deref(), Some("SELECT 1;"));
        assert!(c.migrations[0].schema_hash.is_some());
        assert!(compile(set(&bad_down), &CompileOptions::default()).is_err());

        let no_sql = CompileOptions {
            run_sql: false,
            check_down: true,
        };
        let c = compile(
            set(&[
                ("1_i.sql", "CREATE INDEX i ON missing(x);"),
                ("2_a.up.sql", "CREATE TABLE a(x);"),
                ("2_a.down.sql", "SELECT 1;"),
            ]),
            &no_sql,
        )
        .unwrap();
        assert_eq!((c.final_schema, c.sqlite_version), (None, None));
        assert!(c.migrations.iter().all(|m| m.schema_hash.is_none()));
        assert_eq!(c.migrations[1].down_sql.as_deref(), Some("SELECT 1;"));
        assert_eq!(c.migrations[0].up_sql, "CREATE INDEX i ON missing(x);");
    }

    #[test]
    fn code_migrations_keep_the_schema_hash() {
        let mut s = set(&[
            ("1_a.up.sql", "CREATE TABLE a(x);"),
            ("1_a.down.sql", "DROP TABLE a;"),
            ("3_c.up.sql", "CREATE TABLE c(x);"),
            ("3_c.down.sql", "DROP TABLE c;"),
        ]);
        add_code_migrations(
            &mut s,
            &[CodeMigration {
                version: 2,
                name: "backfill".into(),
                path: "app::backfill".into(),
                reversible: true,
            }],
        )
        .unwrap();
        let c = compile(s, &CompileOptions::default()).unwrap();
        assert_eq!(c.migrations[1].schema_hash, c.migrations[0].schema_hash);
        assert_eq!(
            (c.migrations[1].up_sql.as_str(), c.migrations[1].down_sql.as_deref()),
            ("", None)
        );
        assert_ne!(c.migrations[2].schema_hash, c.migrations[1].schema_hash);
    }

    #[test]
    fn transactions_are_mirrored() {
        // The runtime wraps each migration in a transaction, so a BEGIN in a file fails there; it fails here too.
        let err = run(&[("1_a.sql", "BEGIN;\nCREATE TABLE a(x);\nCOMMIT;")]).unwrap_err();
        assert!(matches!(&err, CompileError::Statement { line: 1, .. }), "{err}");
        // `no-transaction` migrations run outside one.
        run(&[("1_a.sql", "-- migrate:no-transaction\nCREATE TABLE a(x);\nVACUUM;")]).unwrap();
    }

    #[test]
    fn foreign_keys_are_checked_after_a_foreign_keys_off_migration() {
        let parent = (
            "1_p.sql",
            "CREATE TABLE p(id INTEGER PRIMARY KEY);\nCREATE TABLE c(p_id INT REFERENCES p(id));",
        );
        // Enforced normally: the insert itself fails.
        let err = run(&[parent, ("2_seed.sql", "INSERT INTO c VALUES (7);")]).unwrap_err();
        assert!(
            matches!(&err, CompileError::Statement { message, .. } if message.contains("FOREIGN KEY")),
            "{err}"
        );
        // Off for the migration, checked at its end, like the runtime does before commit.
        let err = run(&[
            parent,
            ("2_seed.sql", "-- migrate:foreign-keys=off\nINSERT INTO c VALUES (7);"),
        ])
        .unwrap_err();
        assert_eq!(
            err,
            CompileError::ForeignKeyViolation {
                file: "migrations/2_seed.sql".into(),
                violations: vec!["table \"c\" rowid 1 references \"p\"".into()],
                sqlite_version: rusqlite::version().into(),
            }
        );
        run(&[
            parent,
            (
                "2_seed.sql",
                "-- migrate:foreign-keys=off\nINSERT INTO c VALUES (7);\nINSERT INTO p VALUES (7);",
            ),
        ])
        .unwrap();
    }

    #[test]
    fn generated_chunks_name_the_directive_line() {
        let mut db = Tracked::open().unwrap();
        let m = &set(&[("1_a.sql", "SELECT 1;")])[0];
        let chunks = [
            Chunk {
                sql: "CREATE TABLE a(x);\n".into(),
                line: 1,
                generated: false,
            },
            Chunk {
                sql: "-- generated\nCREATE TABLE a(x);".into(),
                line: 3,
                generated: true,
            },
        ];
        let err = db.run_migration(m, &chunks, Direction::Up).unwrap_err();
        let CompileError::Statement {
            file, line, generated, ..
        } = &err
        else {
            panic!("{err}")
        };
        assert_eq!((file.as_str(), *line, *generated), ("migrations/1_a.sql", 3, true));
        assert!(
            err.to_string().contains("generated by the directive on line 3"),
            "{err}"
        );
    }

    /// The incremental hash after every single statement equals a full `Schema::read`.
    #[test]
    fn incremental_tracking_matches_a_full_read_after_every_statement() {
        let script = "
            CREATE TABLE p(id INTEGER PRIMARY KEY, name TEXT UNIQUE);
            CREATE TABLE c(id INTEGER PRIMARY KEY, p_id INT REFERENCES p(id), v TEXT CHECK (v <> ''));
            CREATE INDEX c_p ON c(p_id);
            CREATE INDEX c_expr ON c(lower(v)) WHERE v IS NOT NULL;
            CREATE TRIGGER c_ai AFTER INSERT ON c BEGIN UPDATE p SET name = name WHERE id = new.p_id; END;
            CREATE VIEW pc AS SELECT p.name, c.v FROM p JOIN c ON c.p_id = p.id;
            CREATE TABLE IF NOT EXISTS p(x);
            ALTER TABLE c ADD COLUMN extra INT DEFAULT 0;
            ALTER TABLE c RENAME COLUMN v TO value;
            ALTER TABLE p RENAME TO parent;
            ALTER TABLE c DROP COLUMN extra;
            CREATE VIRTUAL TABLE docs USING fts5(body);
            ALTER TABLE docs RENAME TO documents;
            DROP TABLE documents;
            DROP VIEW pc;
            DROP TRIGGER c_ai;
            CREATE TRIGGER c_ai AFTER DELETE ON c BEGIN SELECT 1; END;
            DROP INDEX c_p;
            DROP TABLE c;
            SAVEPOINT s;
            CREATE TABLE gone(x);
            DROP TABLE parent;
            ROLLBACK TO s;
            RELEASE s;
            BEGIN;
            DROP TABLE parent;
            CREATE TABLE z(\"odd \"\" name\" TEXT);
            ROLLBACK;
            ANALYZE;
            VACUUM;
            CREATE TABLE last(x INT) STRICT;
        ";
        let batches = [
            // The newest row goes and its rowid is reused within one batch.
            "CREATE TABLE top1(a); CREATE INDEX top1_a ON top1(a); DROP TABLE top1; CREATE TABLE reuse(b);",
            "DROP TABLE reuse; CREATE TABLE reuse(c); CREATE INDEX reuse_c ON reuse(c); DROP INDEX reuse_c;",
            // A table of the same name in an attached database is not the main one.
            "ATTACH ':memory:' AS aux; CREATE TABLE aux.last(x); DROP TABLE aux.last; DETACH aux;",
            "CREATE TEMP TABLE last(y); DROP TABLE last; CREATE TEMP VIEW tv AS SELECT 1;",
            "CREATE VIRTUAL TABLE v2 USING fts5(x); DROP TABLE v2; CREATE TABLE v2_data(x);",
        ];
        let mut db = Tracked::open().unwrap();
        for st in split::statements(script) {
            if db.execute(st.sql).is_err() {
                panic!("statement failed: {}", st.sql);
            }
            let read = Schema::read(&db.conn).unwrap();
            assert_eq!(db.schema(), read, "after {}", st.sql);
            assert_eq!(db.hash(), read.hash(), "after {}", st.sql);
        }
        for b in batches {
            db.execute(b).unwrap();
            let read = Schema::read(&db.conn).unwrap();
            assert_eq!(db.schema(), read, "after {b}");
            assert_eq!(db.hash(), read.hash(), "after {b}");
        }
        let has = |name: &str| db.schema().get(crate::schema::ObjectKind::Table, name).is_some();
        assert!(has("reuse") && has("last") && has("v2_data") && has("parent"));
        assert!(!has("z") && !has("top1"));
    }

    /// 2000 small migrations, everything on, against plain execution of the same SQL (ups, then downs newest
    /// first) on a connection without any bookkeeping. Run with `--ignored --nocapture` to see the times; in the
    /// test profile this is unoptimized, like the proc macro.
    #[test]
    #[ignore]
    fn perf_2000_migrations() {
        let files = perf_files(2000);
        let refs: Vec<(&str, &str)> = files.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        let s = set(&refs);

        // CPU time of this thread (Linux), which a busy machine distorts less than wall time.
        let cpu = || {
            std::fs::read_to_string("/proc/thread-self/schedstat")
                .ok()
                .and_then(|s| s.split_whitespace().next().and_then(|n| n.parse::<u64>().ok()))
                .map(std::time::Duration::from_nanos)
        };
        let (t, c0) = (std::time::Instant::now(), cpu());
        let plain = Connection::open_in_memory().unwrap();
        for m in &s {
            plain.execute_batch(&format!("BEGIN;\n{}\nCOMMIT;", m.up.sql)).unwrap();
        }
        for m in s.iter().rev() {
            plain
                .execute_batch(&format!("BEGIN;\n{}\nCOMMIT;", m.down.as_ref().unwrap().sql))
                .unwrap();
        }
        let (baseline, baseline_cpu) = (t.elapsed(), cpu().zip(c0).map(|(b, a)| b - a));

        let (t, c0) = (std::time::Instant::now(), cpu());
        let c = compile(s, &CompileOptions::default()).unwrap();
        let (full, full_cpu) = (t.elapsed(), cpu().zip(c0).map(|(b, a)| b - a));
        eprintln!(
            "2000 migrations: compile() {full:?} (CPU {full_cpu:?}); executing the same SQL without bookkeeping \
             {baseline:?} (CPU {baseline_cpu:?})"
        );
        assert_eq!(c.migrations.len(), 2000);
        assert!(
            c.migrations
                .iter()
                .all(|m| m.schema_hash.is_some() && m.down_sql.is_some())
        );
    }

    fn perf_files(n: usize) -> Vec<(String, String)> {
        let mut files = Vec::new();
        for i in 1..=n {
            files.push((
                format!("{i:04}_t{i}.up.sql"),
                format!(
                    "CREATE TABLE t_{i}(id INTEGER PRIMARY KEY, name TEXT NOT NULL, created_at TEXT);\n\
                     CREATE INDEX t_{i}_name ON t_{i}(name);\n"
                ),
            ));
            files.push((format!("{i:04}_t{i}.down.sql"), format!("DROP TABLE t_{i};\n")));
        }
        files
    }
}
