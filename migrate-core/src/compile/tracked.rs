//! The in-memory database `compile` runs migrations in, whose structural schema hash is kept up to date
//! incrementally as statements run (see the parent module's "Cost" section).

use crate::checksum::Checksum;
use crate::lex::Keyword;
use crate::schema::{self, HashSum, Object, ObjectKind, Row, Schema};
use rusqlite::Connection;
use rusqlite::hooks::{AuthAction, AuthContext, Authorization, TransactionOperation};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

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

/// `Connection::authorizer` and `progress_handler` return `()` in some supported rusqlite versions and `Result<()>` in
/// others.
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
#[derive(Debug, Clone)]
struct Entry {
    kind: ObjectKind,
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
pub(super) struct Tracked {
    pub(super) conn: Connection,
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
    /// The bound on one statement's VM steps (0: none) and the steps the running statement has taken.
    pub(super) max_steps: u64,
    pub(super) steps: Arc<AtomicU64>,
    /// Functions declared to exist during validation, registered on every connection (copies included).
    pub(super) stubs: Arc<[super::FunctionStub]>,
    /// The running script's ATTACH statements were pointed at in-memory databases.
    pub(super) attached_in_memory: bool,
}

/// What [`Tracked::note`] saw of a batch of statements.
pub(super) struct Batch {
    /// A statement was seen whose effect on the schema cannot be bounded (rename, `VACUUM`).
    pub(super) rescan: bool,
}

impl Tracked {
    pub(super) fn open(max_steps: u64, stubs: Arc<[super::FunctionStub]>) -> Result<Tracked, String> {
        let conn = Connection::open_in_memory().map_err(|e| e.to_string())?;
        let mut db = Tracked::with_connection(conn, max_steps, stubs)?;
        db.rescan().map_err(|e| e.to_string())?;
        Ok(db)
    }

    /// A copy of this database and its cache, to prove downs on without disturbing the forward pass: the pages are
    /// copied with SQLite's backup API and the cache is cloned, so nothing is described again.
    pub(super) fn fork(&self) -> Result<Tracked, String> {
        let mut conn = Connection::open_in_memory().map_err(|e| e.to_string())?;
        rusqlite::backup::Backup::new(&self.conn, &mut conn)
            .and_then(|b| b.step(-1).map(|_| ()))
            .map_err(|e| e.to_string())?;
        let mut db = Tracked::with_connection(conn, self.max_steps, self.stubs.clone())?;
        db.rows = self.rows.clone();
        db.names = self.names.clone();
        db.children = self.children.clone();
        db.virtual_tables = self.virtual_tables.clone();
        db.sum = self.sum;
        Ok(db)
    }

    /// Wraps a connection: foreign keys enforced, the authorizer that logs schema changes (and keeps ATTACH in
    /// memory), the step bound. The cache starts empty.
    fn with_connection(conn: Connection, max_steps: u64, stubs: Arc<[super::FunctionStub]>) -> Result<Tracked, String> {
        #[allow(unused_mut)] // `authorizer` takes `&mut self` only in newer rusqlite versions
        let mut conn = conn;
        super::stubs::register(&conn, &stubs).map_err(|e| e.to_string())?;
        // Enforced, whatever this SQLite's compile-time default: the stricter choice, and the same for the bundled
        // SQLite the macro uses and a system SQLite the runtime may use.
        conn.execute_batch("PRAGMA foreign_keys = ON")
            .map_err(|e| e.to_string())?;
        let log = Arc::new(Mutex::new(Actions::default()));
        let sink = Arc::clone(&log);
        let hook = move |ctx: AuthContext<'_>| {
            // Validation touches nothing outside memory: `run_statements` points every ATTACH at an in-memory
            // database; this refuses anything that still names a file.
            if let AuthAction::Attach { filename } = ctx.action
                && !is_memory_name(filename)
            {
                return Authorization::Deny;
            }
            // A poisoned lock only means an earlier callback panicked; the log itself is still usable.
            sink.lock().unwrap_or_else(|p| p.into_inner()).record(&ctx);
            Authorization::Allow
        };
        conn.authorizer(Some(hook)).into_result().map_err(|e| e.to_string())?;
        let steps = Arc::new(AtomicU64::new(0));
        if max_steps > 0 {
            let counter = Arc::clone(&steps);
            let handler = move || counter.fetch_add(STEP_GRANULE, Ordering::Relaxed) >= max_steps;
            conn.progress_handler(STEP_GRANULE as i32, Some(handler))
                .into_result()
                .map_err(|e| e.to_string())?;
        }
        let db = Tracked {
            conn,
            log,
            rows: BTreeMap::new(),
            names: HashMap::new(),
            children: HashMap::new(),
            virtual_tables: HashSet::new(),
            sum: HashSum::default(),
            max_steps,
            stubs,
            steps,
            attached_in_memory: false,
        };
        Ok(db)
    }

    pub(super) fn hash(&self) -> Checksum {
        self.sum.finish()
    }

    pub(super) fn schema(&self) -> Schema {
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
    pub(super) fn begin(&mut self) -> Batch {
        self.take_log();
        Batch { rescan: false }
    }

    /// Notes a statement of the batch before it runs.
    pub(super) fn note(batch: &mut Batch, sql: &str) {
        let first = crate::lex::significant(sql).next().and_then(|t| t.keyword());
        if first == Some(Keyword::Vacuum) {
            batch.rescan = true;
        } else if first == Some(Keyword::Alter) && !crate::normalize::alter_changes_only_its_table(sql) {
            // A rename rewrites the SQL of other objects that refer to the renamed table or column.
            batch.rescan = true;
        }
    }

    /// Brings the cache up to date with what the batch's statements did.
    pub(super) fn sync(&mut self, batch: Batch) -> rusqlite::Result<()> {
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

    /// `PRAGMA foreign_key_check`, one description per violating row (at most 10).
    pub(super) fn foreign_key_violations(&self) -> rusqlite::Result<Vec<String>> {
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
            self.unindex(rowid, &e);
        }
    }

    /// Adds a cached row to the hash sum and the lookup maps.
    fn index(&mut self, rowid: i64, e: &Entry) {
        if let Some((o, h)) = &e.object {
            self.sum.add(h);
            if o.kind() == ObjectKind::VirtualTable {
                self.virtual_tables.insert(e.name.to_ascii_lowercase());
            }
        }
        self.names
            .insert(name_key(e.kind == ObjectKind::Trigger, &e.name), rowid);
        self.children
            .entry(e.tbl_name.to_ascii_lowercase())
            .or_default()
            .push(rowid);
    }

    /// Takes a cached row out of the hash sum and the lookup maps.
    fn unindex(&mut self, rowid: i64, e: &Entry) {
        if let Some((o, h)) = &e.object {
            self.sum.remove(h);
            if o.kind() == ObjectKind::VirtualTable {
                self.virtual_tables.remove(&e.name.to_ascii_lowercase());
            }
        }
        let key = name_key(e.kind == ObjectKind::Trigger, &e.name);
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

    /// Whether `PRAGMA table_list` calls this table a shadow table. The pragma walks every table, so it is only
    /// asked when a virtual table that could own the name exists.
    fn is_shadow(&self, kind: ObjectKind, name: &str) -> rusqlite::Result<bool> {
        let candidate = kind == ObjectKind::Table
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
            if r.kind == ObjectKind::VirtualTable && !schema::is_internal(&r.name) {
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
            let shadow = self.is_shadow(row.kind, &row.name)?;
            let object = schema::describe(&row, shadow).map(|o| {
                let h = o.hash();
                (o, h)
            });
            let entry = Entry {
                kind: row.kind,
                name: row.name,
                tbl_name: row.tbl_name,
                sql: row.sql,
                object,
            };
            self.index(row.rowid, &entry);
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
    pub(super) fn rescan(&mut self) -> rusqlite::Result<()> {
        let mut changed = Vec::new();
        let mut seen = Vec::with_capacity(self.rows.len());
        {
            let mut st = self
                .conn
                .prepare_cached("SELECT rowid, type, name, tbl_name, sql FROM main.sqlite_master")?;
            let mut rows = st.query([])?;
            while let Some(r) = rows.next()? {
                let rowid: i64 = r.get(0)?;
                let name = r.get_ref(2)?.as_str()?;
                let tbl = r.get_ref(3)?.as_str()?;
                let sql = r.get_ref(4)?.as_str_or_null()?;
                let kind = ObjectKind::of_schema_row(r.get_ref(1)?.as_str()?, sql);
                seen.push(rowid);
                let same = self.rows.get(&rowid).is_some_and(|e| {
                    Some(e.kind) == kind && e.name == name && e.tbl_name == tbl && e.sql.as_deref() == sql
                });
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
    pub(super) fn execute(&mut self, sql: &str) -> rusqlite::Result<()> {
        let mut batch = self.begin();
        for st in crate::split::statements(sql) {
            Self::note(&mut batch, st.sql);
            self.conn.execute_batch(st.sql)?;
        }
        self.sync(batch)
    }
}

/// How many VM steps pass between two calls of the progress handler that enforces the step bound.
const STEP_GRANULE: u64 = 1000;

fn is_memory_name(filename: &str) -> bool {
    filename.is_empty() || filename == ":memory:"
}
