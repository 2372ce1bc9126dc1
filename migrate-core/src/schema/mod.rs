//! The structural schema of a connection: what the tables, indexes, triggers, views and virtual tables of the `main`
//! database *are*, independent of how their `CREATE` statements happen to be spelled.
//!
//! The macro embeds a hash of this (and its text) for every version; the runtime reads a live database the same way
//! to detect drift. Both go through [`Schema::read`] (or the incremental path in [`crate::compile`], which describes
//! each object with the very same function), so the two agree by construction.
//!
//! Tables are described from `PRAGMA table_xinfo`, `foreign_key_list` and `index_list` rather than from their SQL,
//! because SQLite rewrites a table's stored `CREATE TABLE` on `ALTER TABLE … ADD/RENAME/DROP COLUMN`: a table that
//! gained and lost a column is the same table again even though its text differs. What the pragmas do not report
//! (CHECK constraints, column collations, generation expressions) is taken from the stored SQL, normalized. Indexes,
//! triggers, views and virtual tables are described by their normalized SQL (see [`normalize_sql`]), which removes
//! comments, whitespace differences, identifier quoting and ASCII case — exactly the differences SQLite's own
//! rewriting of dependent objects introduces on renames.
//!
//! The schema is a set of *facts*, one per line of [`Schema::to_text`], each belonging to one object. Every string in
//! a fact (identifiers, types, SQL) is written in double quotes with `\"`, `\\`, `\n`, `\r`, `\t` and `\u{…}`
//! escapes, so any name round-trips through [`Schema::from_text`].

use crate::checksum::{self, Checksum};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

#[cfg(feature = "sqlite")]
mod describe;
mod text;

pub use crate::catalog::ObjectKind;
pub use crate::normalize::normalize_sql;
#[cfg(feature = "sqlite")]
pub(crate) use describe::{Row, describe, is_internal, read_bare_rows, read_rows, shadow_owner};
pub use text::{SchemaTextError, quote};

/// One schema object and the facts that describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    kind: ObjectKind,
    name: String,
    /// Sorted fact lines.
    lines: Vec<String>,
}

impl Object {
    fn new(kind: ObjectKind, name: String, mut lines: Vec<String>) -> Object {
        lines.sort();
        Object { kind, name, lines }
    }

    /// Its kind.
    pub fn kind(&self) -> ObjectKind {
        self.kind
    }

    /// Its name as stored in `sqlite_schema`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its facts, sorted; each is one line of [`Schema::to_text`].
    pub fn lines(&self) -> &[String] {
        &self.lines
    }

    /// SHA-256 of its fact lines, each followed by `\n`.
    pub fn hash(&self) -> Checksum {
        let mut text = String::new();
        for l in &self.lines {
            text.push_str(l);
            text.push('\n');
        }
        checksum::sha256(text.as_bytes())
    }
}

/// The structural schema of a database: a set of objects, each a set of facts.
///
/// ```no_run
/// # #[cfg(feature = "sqlite")] {
/// use litemigrate_core::schema::Schema;
/// let conn = rusqlite::Connection::open("app.db").unwrap();
/// let live = Schema::read_ignoring(&conn, &["_migrations"]).unwrap();
/// let expected = Schema::from_text("table \"users\"\n").unwrap();
/// let diff = live.diff(&expected);
/// if !diff.is_empty() {
///     eprintln!("schema drift:\n{diff}");
/// }
/// # }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Schema {
    objects: BTreeMap<(ObjectKind, String), Object>,
}

impl Schema {
    #[cfg(feature = "sqlite")]
    /// Reads the structural schema of the connection's `main` database. Internal objects (`sqlite_%`), indexes
    /// SQLite creates for constraints and virtual tables' shadow tables are left out.
    pub fn read(conn: &rusqlite::Connection) -> rusqlite::Result<Schema> {
        Self::read_ignoring(conn, &[])
    }

    #[cfg(feature = "sqlite")]
    /// Like [`Schema::read`], leaving out the named tables (compared ignoring ASCII case) and the indexes and
    /// triggers on them, e.g. the migration history table.
    pub fn read_ignoring(conn: &rusqlite::Connection, ignore: &[&str]) -> rusqlite::Result<Schema> {
        let shadows: Vec<String> = {
            let mut stmt =
                conn.prepare("SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'shadow'")?;
            stmt.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?
        };
        let mut schema = Schema::default();
        for row in read_rows(conn, i64::MIN, i64::MAX)? {
            if ignore
                .iter()
                .any(|i| i.eq_ignore_ascii_case(&row.tbl_name) || i.eq_ignore_ascii_case(&row.name))
            {
                continue;
            }
            let shadow = row.kind == ObjectKind::Table && shadows.contains(&row.name);
            if let Some(obj) = describe(&row, shadow) {
                schema.insert(obj);
            }
        }
        Ok(schema)
    }

    pub(crate) fn insert(&mut self, obj: Object) {
        self.objects.insert((obj.kind, obj.name.clone()), obj);
    }

    /// The objects, ordered by kind and name.
    pub fn objects(&self) -> impl Iterator<Item = &Object> {
        self.objects.values()
    }

    /// The object of this kind and name (exact, case-sensitive name as stored).
    pub fn get(&self, kind: ObjectKind, name: &str) -> Option<&Object> {
        self.objects.get(&(kind, name.to_owned()))
    }

    /// Whether there are no objects.
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    /// The number of objects.
    pub fn len(&self) -> usize {
        self.objects.len()
    }
    /// The schema hash: an order-independent combination of the objects' hashes (see [`Object::hash`]), so it
    /// can be maintained incrementally as objects change. Equal schemas have equal hashes.
    ///
    /// Definition: `SHA-256("migrate-schema-v1\n" ‖ object count as 8 big-endian bytes ‖ Σ object hashes mod
    /// 2²⁵⁶ as 32 big-endian bytes)`. The sum is not collision resistant against someone crafting schemas on
    /// purpose; it is meant to detect drift, not forgery.
    pub fn hash(&self) -> Checksum {
        let mut sum = HashSum::default();
        for o in self.objects.values() {
            sum.add(&o.hash());
        }
        sum.finish()
    }

    /// What differs from `expected`: facts `expected` has and `self` lacks are missing, facts only `self` has are
    /// unexpected.
    pub fn diff(&self, expected: &Schema) -> SchemaDiff {
        let mine: BTreeSet<&str> = self
            .objects
            .values()
            .flat_map(|o| o.lines.iter().map(String::as_str))
            .collect();
        let theirs: BTreeSet<&str> = expected
            .objects
            .values()
            .flat_map(|o| o.lines.iter().map(String::as_str))
            .collect();
        SchemaDiff {
            missing: theirs.difference(&mine).map(|s| (*s).to_owned()).collect(),
            unexpected: mine.difference(&theirs).map(|s| (*s).to_owned()).collect(),
        }
    }
}

/// The difference between two schemas, as fact lines of [`Schema::to_text`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SchemaDiff {
    /// Facts the expected schema has and the actual one lacks.
    pub missing: Vec<String>,
    /// Facts the actual schema has and the expected one lacks.
    pub unexpected: Vec<String>,
}

impl SchemaDiff {
    /// Whether the schemas are structurally equal.
    pub fn is_empty(&self) -> bool {
        self.missing.is_empty() && self.unexpected.is_empty()
    }
}

impl fmt::Display for SchemaDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (label, lines) in [("missing", &self.missing), ("unexpected", &self.unexpected)] {
            for l in lines {
                if !first {
                    f.write_str("\n")?;
                }
                first = false;
                write!(f, "{label}: {l}")?;
            }
        }
        Ok(())
    }
}

/// An order-independent accumulator of object hashes: a sum modulo 2²⁵⁶ and a count, so objects can be added and
/// removed in any order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct HashSum {
    sum: [u8; 32],
    count: u64,
}

impl HashSum {
    pub(crate) fn add(&mut self, h: &Checksum) {
        let mut carry = 0u16;
        for i in (0..32).rev() {
            let s = u16::from(self.sum[i]) + u16::from(h.0[i]) + carry;
            self.sum[i] = s as u8; // truncation is the modular arithmetic
            carry = s >> 8;
        }
        self.count = self.count.wrapping_add(1);
    }

    // Only the build's incremental schema tracking removes objects.
    #[cfg(any(feature = "sqlite", test))]
    pub(crate) fn remove(&mut self, h: &Checksum) {
        let mut borrow = 0i16;
        for i in (0..32).rev() {
            let mut d = i16::from(self.sum[i]) - i16::from(h.0[i]) - borrow;
            borrow = 0;
            if d < 0 {
                d += 256;
                borrow = 1;
            }
            self.sum[i] = d as u8; // 0 <= d < 256 here
        }
        self.count = self.count.wrapping_sub(1);
    }

    pub(crate) fn finish(&self) -> Checksum {
        let mut bytes = Vec::with_capacity(18 + 8 + 32);
        bytes.extend_from_slice(b"migrate-schema-v1\n");
        bytes.extend_from_slice(&self.count.to_be_bytes());
        bytes.extend_from_slice(&self.sum);
        checksum::sha256(&bytes)
    }
}

// The tests read schemas from live connections.
#[cfg(all(test, feature = "sqlite"))]
mod tests;
