//! The history table: one row per applied migration, keyed by (set name, version), and a side table of failures.
//!
//! Layout (`_migrations` by default; `WITHOUT ROWID`, so the primary key is the table's own b-tree and the launch
//! check's "newest row of this set" is one descent of it):
//!
//! ```sql
//! CREATE TABLE "_migrations" (
//!     set_name    TEXT    NOT NULL,
//!     version     INTEGER NOT NULL,
//!     name        TEXT    NOT NULL,
//!     file        TEXT    NOT NULL,  -- the up file (or Rust function path) when it ran
//!     checksum    TEXT    NOT NULL,  -- hex SHA-256 of the normalized up file
//!     chain       TEXT    NOT NULL,  -- hex chain value up to and including this migration
//!     applied_at  TEXT    NOT NULL,  -- UTC, RFC 3339
//!     duration_us INTEGER NOT NULL,
//!     kind        TEXT    NOT NULL,  -- 'sql', 'code' or 'baseline'
//!     down_sql    TEXT,              -- the down script as applied, NULL when irreversible or Rust code
//!     PRIMARY KEY (set_name, version)
//! ) WITHOUT ROWID;
//! CREATE TABLE "_migrations_failures" (
//!     set_name TEXT NOT NULL, version INTEGER NOT NULL, name TEXT NOT NULL, file TEXT NOT NULL,
//!     direction TEXT NOT NULL, error TEXT NOT NULL, failed_at TEXT NOT NULL
//! );
//! ```

use crate::error::{At, Error};
use crate::table::Migration;
use litemigrate_core::Checksum;
use litemigrate_core::direction::Direction;
use rusqlite::{Connection, OptionalExtension, params};
use std::borrow::Cow;
use std::str::FromStr;

/// The default history table name.
pub const DEFAULT_TABLE: &str = "_migrations";

/// A validated history table name and the SQL that uses it, built once (quoted, never pasted raw).
#[derive(Debug, Clone)]
pub(crate) struct HistoryTable {
    pub name: Cow<'static, str>,
    newest_sql: Cow<'static, str>,
    /// Built on first use: the fast path never needs it, and a run inserts many rows.
    insert_sql: std::cell::OnceCell<String>,
    /// Built on first use, like `insert_sql`: the history read of a plan (and of status, verify…).
    read_sql: std::cell::OnceCell<String>,
}

const DEFAULT_NEWEST_SQL: &str =
    "SELECT version, chain FROM \"_migrations\" WHERE set_name = ?1 ORDER BY version DESC LIMIT 1";

/// Checks a history table name: an identifier that needs no quoting in practice, so it reads well in the sqlite3
/// shell, and is not reserved by SQLite. It is still quoted in every statement.
pub(crate) fn validate_name(name: &str) -> Result<(), Error> {
    let mut chars = name.chars();
    let ok_first = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    let ok_rest = chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    // `get`, not indexing: byte 7 may fall inside a non-ASCII character (such a name is refused just below).
    let reserved = name.get(..7).is_some_and(|p| p.eq_ignore_ascii_case("sqlite_"));
    // The failures table appends `_failures`; keep both within a sane length.
    if ok_first && ok_rest && !reserved && name.len() <= 64 {
        Ok(())
    } else {
        Err(Error::InvalidTableName { name: name.to_owned() })
    }
}

pub(crate) use litemigrate_core::sql::quote_ident as quote;

/// What the history says about this set.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub version: u64,
    pub name: String,
    pub file: String,
    pub checksum: Checksum,
    /// The chain value recorded with the row: how a squash recognises a database that ran the files it replaced.
    pub chain: Checksum,
    pub applied_at: String,
    pub duration_us: u64,
    pub kind: String,
}

impl Row {
    pub fn at(&self) -> At {
        At {
            version: self.version,
            name: self.name.clone(),
            file: self.file.clone(),
        }
    }
}

/// How a history row came to be: its `kind` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A SQL migration that ran.
    Sql,
    /// A Rust-code migration that ran.
    Code,
    /// Recorded by `baseline` without running.
    Baseline,
    /// Recorded by `adopt`: another tool applied it.
    // Only `adopt` (feature `validate`) writes it.
    #[cfg_attr(not(feature = "validate"), allow(dead_code))]
    Adopted,
    /// A repeatable migration that ran (rows keyed by `<set>#repeatable`, see `repeat.rs`).
    Repeatable,
}

impl Kind {
    /// The text stored in the `kind` column. Stable: databases in the field hold these values.
    pub const fn as_str(self) -> &'static str {
        match self {
            Kind::Sql => "sql",
            Kind::Code => "code",
            Kind::Baseline => "baseline",
            Kind::Adopted => "adopted",
            Kind::Repeatable => "repeatable",
        }
    }

    /// What running `m` records.
    pub fn ran(m: &Migration) -> Kind {
        if m.is_code() { Kind::Code } else { Kind::Sql }
    }
}

/// A history row to write.
pub(crate) struct NewRow<'a> {
    pub version: u64,
    pub name: &'a str,
    pub file: &'a str,
    pub checksum: Checksum,
    pub chain: Checksum,
    pub applied_at: String,
    pub duration_us: u64,
    pub kind: Kind,
    pub down_sql: Option<&'a str>,
}

impl<'a> NewRow<'a> {
    /// The row of an embedded migration, as `kind` records it (the up file, checksum, chain and down SQL are the
    /// embedded ones).
    pub fn of(m: &Migration<'a>, kind: Kind, applied_at: String, duration_us: u64) -> NewRow<'a> {
        NewRow {
            version: m.version,
            name: m.name(),
            file: m.up_file(),
            checksum: m.checksum(),
            chain: m.chain(),
            applied_at,
            duration_us,
            kind,
            down_sql: m.down_sql(),
        }
    }
}

impl NewRow<'_> {
    fn at(&self) -> At {
        At {
            version: self.version,
            name: self.name.to_owned(),
            file: self.file.to_owned(),
        }
    }
}

/// A recorded failure.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Failure {
    /// The migration that failed.
    pub migration: At,
    /// `up` or `down`.
    pub direction: String,
    /// The error text.
    pub error: String,
    /// When, UTC RFC 3339.
    pub failed_at: String,
}

/// What [`HistoryTable::scan_from_newest`] read.
pub(crate) enum Scan {
    /// No history table at all.
    NoTable,
    /// The newest row was enough (the caller's `enough` said so).
    Enough,
    /// Every row of the set, oldest first.
    All(Vec<Row>),
}

/// Result of the launch check's single read.
pub(crate) enum Newest {
    /// No history table at all.
    NoTable,
    /// The table exists but has no row for this set.
    Empty,
    /// The newest row's version and chain.
    Row(i64, Checksum),
    /// The newest row could not be decoded; the full comparison will report it.
    Corrupt,
}

impl HistoryTable {
    pub fn new(name: &str) -> Result<HistoryTable, Error> {
        if name == DEFAULT_TABLE {
            return Ok(HistoryTable::default());
        }
        validate_name(name)?;
        let q = quote(name);
        Ok(HistoryTable {
            name: Cow::Owned(name.to_owned()),
            newest_sql: Cow::Owned(format!(
                "SELECT version, chain FROM {q} WHERE set_name = ?1 ORDER BY version DESC LIMIT 1"
            )),
            insert_sql: std::cell::OnceCell::new(),
            read_sql: std::cell::OnceCell::new(),
        })
    }

    fn q(&self) -> String {
        quote(&self.name)
    }

    fn failures_q(&self) -> String {
        quote(&failures_name(&self.name))
    }

    /// Whether the history table exists, from `sqlite_schema` (a read; never creates anything).
    pub fn exists(&self, conn: &Connection) -> Result<bool, Error> {
        table_exists(conn, &self.name)
    }

    /// The launch check's one indexed read. No allocation on success beyond the cached statement.
    pub fn newest(&self, conn: &Connection, set: &str) -> Result<Newest, Error> {
        let ctx = || format!("reading history table {}", self.name);
        let Some(mut stmt) = self.prepare_if_table(conn, &self.newest_sql)? else {
            return Ok(Newest::NoTable);
        };
        let mut rows = stmt.query([set]).map_err(|e| Error::db(ctx(), None, e))?;
        let Some(row) = rows.next().map_err(|e| Error::db(ctx(), None, e))? else {
            return Ok(Newest::Empty);
        };
        Ok(match version_and_chain(row, 0, 1) {
            Some((version, chain)) => Newest::Row(version, chain),
            None => Newest::Corrupt,
        })
    }

    /// Prepares `sql` (cached), which reads the history table; `None` when the table does not exist. Preparing
    /// fails when it does not; that is confirmed with a catalogue lookup rather than by trusting an error message, and
    /// only then, so a read costs no lookup when the table is there. The lookup is a separate read, so another process
    /// may have created the table in between (seen with 16 concurrent launchers): then the schema changed under us
    /// and preparing again is the answer, not the first error.
    fn prepare_if_table<'c>(
        &self,
        conn: &'c Connection,
        sql: &str,
    ) -> Result<Option<rusqlite::CachedStatement<'c>>, Error> {
        match conn.prepare_cached(sql) {
            Ok(s) => Ok(Some(s)),
            Err(e) => {
                if !self.exists(conn)? {
                    return Ok(None);
                }
                conn.prepare_cached(sql)
                    .map(Some)
                    .map_err(|_| Error::db(format!("reading history table {}", self.name), None, e))
            }
        }
    }

    /// Every row of this set, oldest first. `None` when the table does not exist.
    pub fn read_all(&self, conn: &Connection, set: &str) -> Result<Option<Vec<Row>>, Error> {
        match self.scan_from_newest(conn, set, |_, _| false)? {
            Scan::NoTable => Ok(None),
            Scan::All(rows) => Ok(Some(rows)),
            Scan::Enough => unreachable!("a scan told never to stop stopped"), // invariant: `enough` is always false
        }
    }

    /// The set's rows from the newest down, stopping at the newest when `enough(version, chain)` says it answers the question
    /// (the launch check's "at the target with the embedded chain"): a database that is not current is planned from
    /// the same statement that checked it, instead of one read for the check and one for the plan.
    pub(crate) fn scan_from_newest(
        &self,
        conn: &Connection,
        set: &str,
        enough: impl FnOnce(u64, &Checksum) -> bool,
    ) -> Result<Scan, Error> {
        let ctx = || format!("reading history table {}", self.name);
        let sql = self.read_sql.get_or_init(|| {
            format!(
                "SELECT version, name, file, checksum, chain, applied_at, duration_us, kind FROM {} \
                 WHERE set_name = ?1 ORDER BY version DESC",
                self.q()
            )
        });
        let Some(mut stmt) = self.prepare_if_table(conn, sql)? else {
            return Ok(Scan::NoTable);
        };
        let mut rows = stmt.query([set]).map_err(|e| Error::db(ctx(), None, e))?;
        let mut out = Vec::new();
        if let Some(r) = rows.next().map_err(|e| Error::db(ctx(), None, e))? {
            // Judged from the two columns `newest` reads, so a row that answers the launch check there answers it
            // here, whatever its other columns hold; a row that does not is decoded in full like the rest.
            if let Some((version, chain)) = version_and_chain(r, 0, 4)
                && let Ok(version) = u64::try_from(version)
                && enough(version, &chain)
            {
                return Ok(Scan::Enough);
            }
            out.push(self.decode(r)?);
        }
        while let Some(r) = rows.next().map_err(|e| Error::db(ctx(), None, e))? {
            out.push(self.decode(r)?);
        }
        out.reverse();
        Ok(Scan::All(out))
    }

    fn decode(&self, r: &rusqlite::Row<'_>) -> Result<Row, Error> {
        let version_raw = r.get_ref(0).ok().and_then(|v| v.as_i64().ok());
        let corrupt = |detail: String| Error::CorruptHistory {
            table: self.name.to_string(),
            version: version_raw,
            detail,
        };
        let version = match version_raw {
            Some(v) if v >= 0 => v as u64,
            _ => return Err(corrupt("version is not a non-negative integer".into())),
        };
        let text = |i: usize, col: &str| -> Result<String, Error> {
            r.get::<_, String>(i).map_err(|e| corrupt(format!("column {col}: {e}")))
        };
        let sum = |i: usize, col: &str| -> Result<Checksum, Error> {
            text(i, col)?
                .parse::<Checksum>()
                .map_err(|e| corrupt(format!("column {col}: {e}")))
        };
        let duration_us = match r.get_ref(6).ok().and_then(|v| v.as_i64().ok()) {
            Some(d) if d >= 0 => d as u64,
            _ => {
                return Err(corrupt("column duration_us: not a non-negative integer".into()));
            }
        };
        Ok(Row {
            chain: sum(4, "chain")?,
            version,
            name: text(1, "name")?,
            file: text(2, "file")?,
            checksum: sum(3, "checksum")?,
            applied_at: text(5, "applied_at")?,
            duration_us,
            kind: text(7, "kind")?,
        })
    }

    /// The down SQL recorded for one applied migration.
    pub fn down_sql(&self, conn: &Connection, set: &str, version: u64) -> Result<Option<String>, Error> {
        let sql = format!("SELECT down_sql FROM {} WHERE set_name = ?1 AND version = ?2", self.q());
        let version = sql_int(version).map_err(|e| Error::db("reading history table", None, e))?;
        conn.query_row(&sql, params![set, version], |r| r.get::<_, Option<String>>(0))
            .optional()
            .map(Option::flatten)
            .map_err(|e| Error::db(format!("reading history table {}", self.name), None, e))
    }

    /// Creates both tables if needed. Called inside the write transaction, so a rolled-back run leaves no table.
    pub fn create(&self, conn: &Connection) -> Result<(), Error> {
        let sql = format!(
            "CREATE TABLE IF NOT EXISTS {} (
                set_name    TEXT    NOT NULL,
                version     INTEGER NOT NULL,
                name        TEXT    NOT NULL,
                file        TEXT    NOT NULL,
                checksum    TEXT    NOT NULL,
                chain       TEXT    NOT NULL,
                applied_at  TEXT    NOT NULL,
                duration_us INTEGER NOT NULL,
                kind        TEXT    NOT NULL,
                down_sql    TEXT,
                PRIMARY KEY (set_name, version)
            ) WITHOUT ROWID;",
            self.q()
        );
        conn.execute_batch(&sql)
            .map_err(|e| Error::db(format!("creating history table {}", self.name), None, e))
    }

    fn create_failures(&self, conn: &Connection) -> rusqlite::Result<()> {
        conn.execute_batch(&format!(
            "CREATE TABLE IF NOT EXISTS {} (
                set_name  TEXT    NOT NULL,
                version   INTEGER NOT NULL,
                name      TEXT    NOT NULL,
                file      TEXT    NOT NULL,
                direction TEXT    NOT NULL,
                error     TEXT    NOT NULL,
                failed_at TEXT    NOT NULL
            );",
            self.failures_q()
        ))
    }

    /// Inserts rows with one statement, prepared once and stepped per row. The executor calls it after a unit's
    /// migrations: every schema change expires prepared statements, so interleaving the inserts with the DDL would
    /// re-prepare the statement once per migration. The only place that writes history rows.
    pub fn insert(&self, conn: &Connection, set: &str, rows: &[NewRow<'_>]) -> Result<(), Error> {
        let Some(first) = rows.first() else {
            return Ok(());
        };
        let err = |r: &NewRow<'_>, e| Error::db(format!("writing history table {}", self.name), Some(r.at()), e);
        let mut stmt = conn.prepare_cached(self.insert_sql()).map_err(|e| err(first, e))?;
        for r in rows {
            let version = sql_int(r.version).map_err(|e| err(r, e))?;
            stmt.execute(rusqlite::params![
                set,
                version,
                r.name,
                r.file,
                r.checksum.to_hex(),
                r.chain.to_hex(),
                r.applied_at,
                i64::try_from(r.duration_us).unwrap_or(i64::MAX),
                r.kind.as_str(),
                r.down_sql,
            ])
            .map_err(|e| err(r, e))?;
        }
        Ok(())
    }

    fn insert_sql(&self) -> &str {
        self.insert_sql.get_or_init(|| {
            format!(
                "INSERT INTO {} (set_name, version, name, file, checksum, chain, applied_at, duration_us, kind, \
                 down_sql) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                self.q()
            )
        })
    }

    pub fn delete(&self, conn: &Connection, set: &str, at: &At) -> Result<(), Error> {
        let sql = format!("DELETE FROM {} WHERE set_name = ?1 AND version = ?2", self.q());
        conn.prepare_cached(&sql)
            .and_then(|mut s| s.execute(params![set, sql_int(at.version)?]))
            .map(drop)
            .map_err(|e| Error::db(format!("writing history table {}", self.name), Some(at.clone()), e))
    }

    /// Records a failure in its own small transaction, after the migration's transaction rolled back. Best effort:
    /// on a read-only or full database this fails too, and the caller still returns the original error.
    pub fn record_failure(
        &self,
        conn: &Connection,
        set: &str,
        at: &At,
        direction: Direction,
        error: &str,
    ) -> rusqlite::Result<()> {
        if !conn.is_autocommit() {
            // Never commit someone else's transaction.
            return Ok(());
        }
        conn.execute_batch("BEGIN IMMEDIATE")?;
        let r = self.create_failures(conn).and_then(|()| {
            conn.execute(
                &format!(
                    "INSERT INTO {} (set_name, version, name, file, direction, error, failed_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    self.failures_q()
                ),
                params![
                    set,
                    sql_int(at.version)?,
                    at.name,
                    at.file,
                    direction.as_str(),
                    error,
                    now()
                ],
            )
        });
        match r {
            Ok(_) => conn.execute_batch("COMMIT"),
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }

    /// The newest recorded failure of this set, if the failures table exists.
    pub fn last_failure(&self, conn: &Connection, set: &str) -> Result<Option<Failure>, Error> {
        Ok(self.read_failures(conn, set, true)?.pop())
    }

    /// Every recorded failure of this set, oldest first; empty if the failures table does not exist.
    #[cfg(any(feature = "cli", test))] // the CLI's `history` lists them all
    pub fn failures(&self, conn: &Connection, set: &str) -> Result<Vec<Failure>, Error> {
        self.read_failures(conn, set, false)
    }

    fn read_failures(&self, conn: &Connection, set: &str, newest_only: bool) -> Result<Vec<Failure>, Error> {
        if !table_exists(conn, &failures_name(&self.name))? {
            return Ok(Vec::new());
        }
        let ctx = |e| Error::db(format!("reading {}_failures", self.name), None, e);
        let order = if newest_only {
            "ORDER BY rowid DESC LIMIT 1"
        } else {
            "ORDER BY rowid"
        };
        let sql = format!(
            "SELECT version, name, file, direction, error, failed_at FROM {} WHERE set_name = ?1 {order}",
            self.failures_q()
        );
        let mut stmt = conn.prepare(&sql).map_err(ctx)?;
        let rows = stmt
            .query_map([set], |r| {
                Ok(Failure {
                    migration: At {
                        version: r.get::<_, i64>(0)?.max(0) as u64,
                        name: r.get(1)?,
                        file: r.get(2)?,
                    },
                    direction: r.get(3)?,
                    error: r.get(4)?,
                    failed_at: r.get(5)?,
                })
            })
            .map_err(ctx)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(ctx)
    }

    /// The newest version recorded for this set, read leniently (`max(version)`, no row decoded): backups and
    /// restores name the version they were taken at even when the history could not be classified. `None` when
    /// there is no table or no row.
    #[cfg(any(feature = "cli", test))] // the CLI's `backup` and `restore`
    pub fn max_version(&self, conn: &Connection, set: &str) -> Result<Option<u64>, Error> {
        let sql = format!("SELECT max(version) FROM {} WHERE set_name = ?1", self.q());
        conn.query_row(&sql, [set], |r| r.get::<_, Option<i64>>(0))
            .map(|v| v.and_then(|v| u64::try_from(v).ok()))
            .map_err(|e| Error::db(format!("reading history table {}", self.name), None, e))
    }
}

impl Default for HistoryTable {
    fn default() -> Self {
        HistoryTable {
            name: Cow::Borrowed(DEFAULT_TABLE),
            newest_sql: Cow::Borrowed(DEFAULT_NEWEST_SQL),
            insert_sql: std::cell::OnceCell::new(),
            read_sql: std::cell::OnceCell::new(),
        }
    }
}

/// A history row's version and chain (columns `v` and `c`), or `None` when either does not decode: what the launch
/// check judges a newest row by.
fn version_and_chain(row: &rusqlite::Row<'_>, v: usize, c: usize) -> Option<(i64, Checksum)> {
    let version = row.get_ref(v).ok()?.as_i64().ok()?;
    let chain = Checksum::from_str(row.get_ref(c).ok()?.as_str().ok()?).ok()?;
    Some((version, chain))
}

/// The failures table beside history table `history`: `<history>_failures`.
pub(crate) fn failures_name(history: &str) -> String {
    format!("{history}_failures")
}

pub(crate) fn table_exists(conn: &Connection, name: &str) -> Result<bool, Error> {
    conn.prepare_cached("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?1")
        .and_then(|mut s| s.exists([name]))
        .map_err(|e| Error::db("reading sqlite_schema", None, e))
}

/// Now, UTC, RFC 3339 with microseconds (e.g. `2026-11-22T11:00:41.123456Z`).
pub(crate) fn now() -> String {
    crate::clock::Instant::now().rfc3339_micros()
}

/// SQLite integers are signed 64-bit: a version above `i64::MAX` cannot be stored, and fails the statement rather
/// than wrapping into a negative number.
pub(crate) fn sql_int(v: u64) -> Result<i64, rusqlite::Error> {
    i64::try_from(v).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::Migrations;
    use litemigrate_core::compile::{CompileOptions, compile};
    use litemigrate_core::load::load_in_memory;

    fn set() -> Migrations {
        let files = [
            ("0001_a.sql", "CREATE TABLE a (x);"),
            ("0002_b.sql", "CREATE TABLE b (x);"),
        ];
        let sources = load_in_memory("migrations", &files).unwrap();
        Migrations::from_compiled("s", compile(sources, &CompileOptions::default()).unwrap())
    }

    #[test]
    fn non_ascii_names_are_refused_without_panicking() {
        // Byte 7 falls inside a character in each of these; slicing there used to panic.
        for name in ["é_hist", "日本", "日本語", "sqlite_é", "abcdefé", "ab日本"] {
            let err = validate_name(name).unwrap_err();
            assert!(matches!(err, Error::InvalidTableName { .. }), "{name}: {err:?}");
        }
        assert!(validate_name("sqlite_x").is_err());
        assert!(validate_name("SQLITE_x").is_err());
        assert!(validate_name("_hist").is_ok());
    }

    #[test]
    fn kinds_keep_the_strings_databases_hold() {
        let kinds = [Kind::Sql, Kind::Code, Kind::Baseline].map(Kind::as_str);
        assert_eq!(kinds, ["sql", "code", "baseline"]);
    }

    #[test]
    fn one_insert_writes_every_column_of_every_row() {
        let m = set();
        let conn = Connection::open_in_memory().unwrap();
        let table = HistoryTable::default();
        table.create(&conn).unwrap();
        let rows: Vec<_> = m
            .iter()
            .map(|x| NewRow::of(&x, Kind::Baseline, "t".into(), 7))
            .collect();
        table.insert(&conn, "s", &rows).unwrap();
        let read = table.read_all(&conn, "s").unwrap().unwrap();
        let got: Vec<_> = read
            .iter()
            .map(|r| (r.version, r.file.as_str(), r.kind.as_str(), r.duration_us))
            .collect();
        assert_eq!(
            got,
            [
                (1, "migrations/0001_a.sql", "baseline", 7),
                (2, "migrations/0002_b.sql", "baseline", 7)
            ]
        );
        assert_eq!(read[1].checksum, m.get(2).unwrap().checksum());
        match table.newest(&conn, "s").unwrap() {
            Newest::Row(2, chain) => assert_eq!(chain, m.get(2).unwrap().chain()),
            _ => panic!("newest row is version 2"),
        }
        // A primary-key clash names the migration.
        let err = table.insert(&conn, "s", &rows[1..]).unwrap_err();
        assert_eq!(err.migration().map(|a| a.version), Some(2));
    }

    #[test]
    fn failures_are_listed_oldest_first_and_the_newest_is_the_last_failure() {
        let conn = Connection::open_in_memory().unwrap();
        let table = HistoryTable::new("hist").unwrap();
        assert!(table.failures(&conn, "s").unwrap().is_empty());
        assert_eq!(table.last_failure(&conn, "s").unwrap(), None);
        let at = |v: u64| At {
            version: v,
            name: format!("m{v}"),
            file: format!("m/{v}.sql"),
        };
        table
            .record_failure(&conn, "s", &at(3), Direction::Up, "first")
            .unwrap();
        table
            .record_failure(&conn, "other", &at(9), Direction::Up, "not ours")
            .unwrap();
        table
            .record_failure(&conn, "s", &at(2), Direction::Down, "second")
            .unwrap();
        let all = table.failures(&conn, "s").unwrap();
        let got: Vec<_> = all
            .iter()
            .map(|f| (f.migration.version, f.direction.as_str(), f.error.as_str()))
            .collect();
        assert_eq!(got, [(3, "up", "first"), (2, "down", "second")]);
        assert_eq!(table.last_failure(&conn, "s").unwrap().as_ref(), all.last());
    }

    #[test]
    fn max_version_reads_rows_the_full_read_calls_corrupt() {
        let conn = Connection::open_in_memory().unwrap();
        let table = HistoryTable::default();
        assert!(
            table.max_version(&conn, "s").is_err(),
            "no table: an error the CLI maps to 0"
        );
        table.create(&conn).unwrap();
        assert_eq!(table.max_version(&conn, "s").unwrap(), None);
        conn.execute_batch(
            "INSERT INTO _migrations VALUES ('s', 4, 'x', 'f', 'garbage', 'garbage', 't', 0, 'sql', NULL)",
        )
        .unwrap();
        assert!(table.read_all(&conn, "s").is_err());
        assert_eq!(table.max_version(&conn, "s").unwrap(), Some(4));
    }
}
