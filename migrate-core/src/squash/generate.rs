//! Writing a squash: replay the set up to V in memory, then describe what is there as one migration — every
//! table (virtual tables by their `CREATE VIRTUAL TABLE`, never their shadow tables), the rows the migrations left
//! in them, then indexes, views and triggers (after the rows, so no trigger fires while they are inserted), then
//! the FTS5 rebuilds of external-content indexes. The result is replayed in a fresh database and refused unless
//! its schema hash and [`data_hash`] equal the originals.

use super::Squashes;
use crate::checksum::{Checksum, sha256};
use crate::compile::Compiled;
use crate::fts5::{Fts5Index, Kind};
use crate::replay::{self, ReplayError, ReplayStep};
use crate::schema::Schema;
use crate::sql::{quote_ident, quote_str};
use rusqlite::Connection;
use rusqlite::types::ValueRef;
use std::collections::HashSet;
use std::fmt::Write as _;

/// A generated squash migration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Squash {
    /// The directive the file starts with.
    pub directive: Squashes,
    /// The file name to give it: the replaced file's version as written, then `_squashed.sql`.
    pub file_name: String,
    /// The whole file.
    pub text: String,
    /// The files it replaces (up files and down files), oldest first: delete them once the squash is in place.
    pub replaced: Vec<String>,
}

/// Why a set cannot be squashed at a version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SquashError {
    /// No migration has that version.
    #[error("no migration has version {version} (the newest is {latest}); squash at one of the set's versions")]
    UnknownVersion {
        /// The version asked for.
        version: u64,
        /// The newest version.
        latest: u64,
    },
    /// The set was compiled without running its SQL, so there is no schema hash to prove the squash against.
    #[error("the set was not validated (no schema hashes); squashing needs its SQL run")]
    NotValidated,
    /// A Rust-code migration at or below V: what it does is not visible to the build, so a squash would lose it.
    #[error("{file}: a Rust-code migration cannot be squashed (the build cannot see what it does); squash below it")]
    CodeMigration {
        /// The code migration's path.
        file: String,
    },
    /// A contentless FTS5 table holds rows: it stores no text to copy them from.
    #[error(
        "table {table} is a contentless FTS5 index with rows; its text is not stored, so a squash cannot copy them"
    )]
    ContentlessRows {
        /// The FTS5 table.
        table: String,
    },
    /// Replaying the migrations, or the squash itself, failed.
    #[error("{0}")]
    Replay(#[from] ReplayError),
    /// Reading the in-memory database failed.
    #[error("cannot read the replayed database: {0}")]
    Database(String),
    /// The generated file does not reproduce the set at V (a bug or an unsupported object; nothing is written).
    #[error(
        "the generated squash does not reproduce the {what} at version {version}: expected {expected}, got {found}"
    )]
    Mismatch {
        /// `schema` or `data`.
        what: &'static str,
        /// The version.
        version: u64,
        /// The original hash.
        expected: Checksum,
        /// The squash's.
        found: Checksum,
    },
}

impl From<rusqlite::Error> for SquashError {
    fn from(e: rusqlite::Error) -> Self {
        SquashError::Database(e.to_string())
    }
}

/// Generates the squash of `compiled` (a validated set, oldest first) at version `to`.
///
/// ```
/// use litemigrate_core::compile::{compile, CompileOptions};
/// use litemigrate_core::load::load_in_memory;
/// use litemigrate_core::squash::generate::squash;
/// let set = load_in_memory("m", &[
///     ("1_kinds.sql", "CREATE TABLE kinds(id INTEGER PRIMARY KEY, name TEXT); INSERT INTO kinds VALUES (1, 'a');"),
///     ("2_idx.sql", "CREATE INDEX kinds_name ON kinds(name);"),
/// ]).unwrap();
/// let s = squash(&compile(set, &CompileOptions::default()).unwrap(), 2).unwrap();
/// assert_eq!(s.file_name, "2_squashed.sql");
/// assert!(s.text.starts_with("-- migrate:squashes 1..=2 chain="));
/// assert!(s.text.contains("INSERT INTO \"kinds\""));
/// ```
pub fn squash(compiled: &Compiled, to: u64) -> Result<Squash, SquashError> {
    let latest = compiled.migrations.last().map_or(0, |m| m.source.version);
    let upto: Vec<_> = compiled
        .migrations
        .iter()
        .take_while(|m| m.source.version <= to)
        .collect();
    let Some(at) = upto.last().filter(|m| m.source.version == to) else {
        return Err(SquashError::UnknownVersion { version: to, latest });
    };
    let schema_hash = at.schema_hash.ok_or(SquashError::NotValidated)?;
    if let Some(code) = upto.iter().find(|m| m.source.code) {
        return Err(SquashError::CodeMigration {
            file: code.source.up.path.clone(),
        });
    }
    let conn = replay::database_after(upto.iter().map(|m| ReplayStep {
        file: &m.source.up.path,
        up_sql: Some(&m.up_sql),
        no_transaction: m.source.up.directives.no_transaction(),
        foreign_keys_off: m.source.up.directives.foreign_keys_off(),
    }))?;
    let body = describe(&conn)?;
    let data = data_hash(&conn)?;
    let first = upto[0]
        .source
        .up
        .directives
        .squashes()
        .map_or(upto[0].source.version, |s| s.first);
    let directive = Squashes {
        first,
        last: to,
        chain: at.source.chain,
        schema: schema_hash,
        data,
    };
    let replaced: Vec<String> = upto
        .iter()
        .flat_map(|m| std::iter::once(&m.source.up).chain(&m.source.down))
        .map(|s| s.path.clone())
        .collect();
    let mut text = directive.to_line();
    // Rows go in before the tables they reference may exist (a rebuilt parent sits after its children), so foreign
    // keys are checked once, at the end.
    text.push_str("\n-- migrate:foreign-keys=off\n");
    let _ = writeln!(
        text,
        "-- Generated by `migrate squash --to {to}`: the schema and the rows of versions {first}..={to} ({} \
         migrations).\n-- Databases that ran them continue with the next version; delete the files it replaces.\n",
        upto.len()
    );
    text.push_str(&body);

    // The proof before anything is written: the file reproduces the schema and the rows.
    let replayed = replay::database_after([ReplayStep {
        file: "squash",
        up_sql: Some(&body),
        no_transaction: false,
        foreign_keys_off: true,
    }])?;
    let found = Schema::read(&replayed)?.hash();
    if found != schema_hash {
        return Err(SquashError::Mismatch {
            what: "schema",
            version: to,
            expected: schema_hash,
            found,
        });
    }
    let found = data_hash(&replayed)?;
    if found != data {
        return Err(SquashError::Mismatch {
            what: "data",
            version: to,
            expected: data,
            found,
        });
    }
    let version_text = crate::name::parse(file_name(&at.source.up.path))
        .map(|f| f.version_text)
        .unwrap_or_else(|_| to.to_string());
    Ok(Squash {
        directive,
        file_name: format!("{version_text}_squashed.sql"),
        text,
        replaced,
    })
}

fn file_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

/// One row of `sqlite_schema`.
struct Object {
    kind: String,
    name: String,
    sql: String,
}

/// The tables of `main` whose rows a squash carries, and how to read them.
struct DataTable {
    name: String,
    /// The columns to copy (generated and hidden columns excluded).
    columns: Vec<String>,
    /// Whether `rowid` is read and written too (rowid tables without a column shadowing the name).
    rowid: bool,
}

/// The lower-cased names of `main`'s tables of one `pragma_table_list` type (`shadow`, `virtual`).
fn tables_of_type(conn: &Connection, kind: &str) -> Result<HashSet<String>, SquashError> {
    Ok(conn
        .prepare("SELECT lower(name) FROM pragma_table_list WHERE schema = 'main' AND type = ?1")?
        .query_map([kind], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?)
}

fn objects(conn: &Connection) -> Result<(Vec<Object>, HashSet<String>), SquashError> {
    let shadows = tables_of_type(conn, "shadow")?;
    let mut stmt = conn.prepare(
        "SELECT type, name, sql FROM main.sqlite_schema WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite\\_%' \
         ESCAPE '\\' ORDER BY rowid",
    )?;
    let all = stmt
        .query_map([], |r| {
            Ok(Object {
                kind: r.get(0)?,
                name: r.get(1)?,
                sql: r.get(2)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let objects = all
        .into_iter()
        .filter(|o| !(o.kind == "table" && shadows.contains(&o.name.to_lowercase())))
        .collect();
    Ok((objects, shadows))
}

/// The tables whose rows are data: ordinary tables, FTS5 tables that store their text, other virtual tables.
/// External-content FTS5 tables are rebuilt from their content table instead (`rebuilds`).
fn data_tables(conn: &Connection) -> Result<(Vec<DataTable>, Vec<String>), SquashError> {
    let (objects, shadows) = objects(conn)?;
    let virtuals = tables_of_type(conn, "virtual")?;
    let mut tables = Vec::new();
    let mut rebuilds = Vec::new();
    for o in objects.iter().filter(|o| o.kind == "table") {
        let is_virtual = virtuals.contains(&o.name.to_lowercase());
        if let Some(fts) = is_virtual.then(|| Fts5Index::from_create_sql(&o.sql)).flatten() {
            if fts.kind() == Kind::External {
                rebuilds.push(fts.rebuild_sql().map_err(|e| SquashError::Database(e.to_string()))?);
                continue;
            }
            if !shadows.contains(&format!("{}_content", o.name.to_lowercase())) {
                let q = format!("SELECT count(*) FROM {}", quote_ident(&o.name));
                if conn.query_row(&q, [], |r| r.get::<_, i64>(0))? > 0 {
                    return Err(SquashError::ContentlessRows { table: o.name.clone() });
                }
                continue;
            }
        }
        let columns: Vec<String> = conn
            .prepare("SELECT name FROM pragma_table_xinfo(?1) WHERE hidden = 0 ORDER BY cid")?
            .query_map([&o.name], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let without_rowid: bool = conn.query_row(
            "SELECT wr FROM pragma_table_list WHERE schema = 'main' AND name = ?1",
            [&o.name],
            |r| r.get(0),
        )?;
        let shadowed = columns
            .iter()
            .any(|c| ["rowid", "oid", "_rowid_"].iter().any(|n| n.eq_ignore_ascii_case(c)));
        tables.push(DataTable {
            name: o.name.clone(),
            columns,
            rowid: !without_rowid && !shadowed,
        });
    }
    Ok((tables, rebuilds))
}

/// The squash's SQL body: tables, rows, indexes, views, triggers, FTS5 rebuilds.
fn describe(conn: &Connection) -> Result<String, SquashError> {
    let (objects, _) = objects(conn)?;
    let (tables, rebuilds) = data_tables(conn)?;
    let mut out = String::new();
    let statements = |out: &mut String, kind: &str| {
        for o in objects.iter().filter(|o| o.kind == kind) {
            out.push_str(o.sql.trim_end());
            out.push_str(";\n");
        }
    };
    statements(&mut out, "table");
    for t in &tables {
        rows_sql(conn, t, &mut out)?;
    }
    for kind in ["index", "view", "trigger"] {
        statements(&mut out, kind);
    }
    for r in rebuilds {
        out.push_str(&r);
    }
    Ok(out)
}

/// Rows per `INSERT`: long enough to keep the file short, short enough for any statement-length limit.
const ROWS_PER_INSERT: usize = 100;

fn rows_sql(conn: &Connection, t: &DataTable, out: &mut String) -> Result<(), SquashError> {
    if t.columns.is_empty() {
        return Ok(());
    }
    let mut cols: Vec<String> = t.columns.iter().map(|c| quote_ident(c)).collect();
    if t.rowid {
        cols.insert(0, "rowid".into());
    }
    let list = cols.join(", ");
    let order = if t.rowid { " ORDER BY rowid" } else { "" };
    let mut stmt = conn.prepare(&format!("SELECT {list} FROM {}{order}", quote_ident(&t.name)))?;
    let mut rows = stmt.query([])?;
    let mut n = 0;
    while let Some(r) = rows.next()? {
        if n % ROWS_PER_INSERT == 0 {
            if n > 0 {
                out.push_str(";\n");
            }
            let _ = write!(out, "INSERT INTO {} ({list}) VALUES\n  (", quote_ident(&t.name));
        } else {
            out.push_str(",\n  (");
        }
        for i in 0..cols.len() {
            if i > 0 {
                out.push_str(", ");
            }
            literal(r.get_ref(i)?, out);
        }
        out.push(')');
        n += 1;
    }
    if n > 0 {
        out.push_str(";\n");
    }
    Ok(())
}

/// A value as an SQL literal that reads back as the same value and type.
fn literal(v: ValueRef<'_>, out: &mut String) {
    match v {
        ValueRef::Null => out.push_str("NULL"),
        ValueRef::Integer(i) => {
            let _ = write!(out, "{i}");
        }
        ValueRef::Real(f) if f.is_finite() => {
            // `{:?}` prints the shortest text that parses back to the same f64, always with `.` or `e`.
            let _ = write!(out, "{f:?}");
        }
        ValueRef::Real(f) => out.push_str(if f > 0.0 { "9e999" } else { "-9e999" }),
        ValueRef::Text(bytes) => match std::str::from_utf8(bytes) {
            // A NUL cannot appear in a migration file; such text (and invalid UTF-8) goes in as hex.
            Ok(s) if !s.contains('\0') => out.push_str(&quote_str(s)),
            _ => {
                let _ = write!(out, "CAST(X'{}' AS TEXT)", hex::encode(bytes));
            }
        },
        ValueRef::Blob(bytes) => {
            let _ = write!(out, "X'{}'", hex::encode(bytes));
        }
    }
}

/// The hash of every row of every data table (ordinary tables, FTS5 tables that store their text, other virtual
/// tables), independent of row order and rowids: what the squash directive's `data=` holds and the build checks.
pub fn data_hash(conn: &Connection) -> Result<Checksum, SquashError> {
    let (mut tables, _) = data_tables(conn)?;
    tables.sort_by_key(|t| t.name.to_lowercase());
    let mut all = Vec::new();
    for t in &tables {
        let name = t.name.to_lowercase();
        all.extend_from_slice(&(name.len() as u64).to_be_bytes());
        all.extend_from_slice(name.as_bytes());
        if t.columns.is_empty() {
            continue;
        }
        let cols: Vec<String> = t.columns.iter().map(|c| quote_ident(c)).collect();
        let mut stmt = conn.prepare(&format!("SELECT {} FROM {}", cols.join(", "), quote_ident(&t.name)))?;
        let mut rows = stmt.query([])?;
        let mut encoded: Vec<Vec<u8>> = Vec::new();
        while let Some(r) = rows.next()? {
            let mut row = Vec::new();
            for i in 0..cols.len() {
                encode(r.get_ref(i)?, &mut row);
            }
            encoded.push(row);
        }
        // Sorted here rather than by SQL: a collation could make two distinct rows compare equal.
        encoded.sort();
        all.extend_from_slice(&(encoded.len() as u64).to_be_bytes());
        for row in encoded {
            all.extend_from_slice(&(row.len() as u64).to_be_bytes());
            all.extend_from_slice(&row);
        }
    }
    Ok(sha256(&all))
}

fn encode(v: ValueRef<'_>, out: &mut Vec<u8>) {
    let bytes = |tag: u8, b: &[u8], out: &mut Vec<u8>| {
        out.push(tag);
        out.extend_from_slice(&(b.len() as u64).to_be_bytes());
        out.extend_from_slice(b);
    };
    match v {
        ValueRef::Null => out.push(b'n'),
        ValueRef::Integer(i) => bytes(b'i', &i.to_be_bytes(), out),
        ValueRef::Real(f) => bytes(b'r', &f.to_bits().to_be_bytes(), out),
        ValueRef::Text(t) => bytes(b't', t, out),
        ValueRef::Blob(b) => bytes(b'b', b, out),
    }
}
