//! `verify` (history, schema drift and integrity, read-only) and `baseline` (adopting an existing database).

use crate::error::{At, Error};
use crate::history::{self, Kind, NewRow};
use crate::migrator::Migrator;
use crate::status::Status;
use crate::table::Migrations;
use litemigrate_core::Checksum;
use litemigrate_core::replay::{self, ReplayError, ReplayStep};
use litemigrate_core::schema::{Schema, SchemaTextError};
use rusqlite::{Connection, TransactionBehavior};
use std::fmt;

/// What [`Migrator::verify`] checked.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Verification {
    /// The history comparison (no divergent, missing, ahead or out-of-order migration, or `verify` would have
    /// failed).
    pub status: Status,
    /// The version whose embedded schema was compared.
    pub version: u64,
    /// Whether a schema comparison was possible: the set was compiled with its SQL executed, and the current
    /// version is embedded.
    pub schema_checked: bool,
    /// The live structural schema hash (history tables left out), hex.
    pub schema_hash: String,
    /// What `PRAGMA integrity_check` said (`ok`).
    pub integrity: String,
}

impl fmt::Display for Verification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.status)?;
        if self.schema_checked {
            writeln!(f, "schema: matches the embedded schema at version {}", self.version)?;
        } else {
            writeln!(
                f,
                "schema: not compared (no embedded schema hash for version {})",
                self.version
            )?;
        }
        writeln!(f, "integrity: {}", self.integrity)
    }
}

impl Migrations {
    /// History and schema drift check plus `PRAGMA integrity_check`, read-only. See [`Migrator::verify`].
    ///
    /// ```no_run
    /// # static MIGRATIONS: litemigrate_runtime::Migrations = litemigrate_runtime::Migrations::empty();
    /// let conn = rusqlite::Connection::open("app.db").unwrap();
    /// MIGRATIONS.verify(&conn).unwrap();
    /// ```
    pub fn verify(&self, conn: &Connection) -> Result<Verification, Error> {
        self.migrator().verify(conn)
    }

    /// Adopts an existing database: records migrations up to `version` as applied without running them. See
    /// [`Migrator::baseline`].
    ///
    /// ```no_run
    /// # static MIGRATIONS: litemigrate_runtime::Migrations = litemigrate_runtime::Migrations::empty();
    /// let mut conn = rusqlite::Connection::open("legacy.db").unwrap();
    /// MIGRATIONS.baseline(&mut conn, 4).unwrap();
    /// MIGRATIONS.migrate(&mut conn).unwrap(); // runs 5 and later
    /// ```
    pub fn baseline(&self, conn: &mut Connection, version: u64) -> Result<Status, Error> {
        self.migrator().baseline(conn, version)
    }

    /// The expected structural schema after `version`: the embedded final schema for the newest version, otherwise
    /// the embedded up SQL replayed in memory the way the build ran it (`litemigrate_core::replay`; Rust-code migrations
    /// are assumed not to change the schema, as the build assumes). The one place the runtime and the CLI get it.
    /// With repeatable migrations, they run last (in name order), as every run ends with them.
    pub(crate) fn expected_schema(&self, version: u64) -> Result<Schema, ExpectedSchemaError> {
        if version == self.latest_version()
            && self.repeatables().is_empty()
            && let Some(text) = self.final_schema()
        {
            return Ok(Schema::from_text(text)?);
        }
        let steps = self.iter().take_while(|m| m.version() <= version).map(|m| ReplayStep {
            file: m.up_file(),
            up_sql: m.up_sql(),
            no_transaction: m.no_transaction(),
            foreign_keys_off: m.foreign_keys_off(),
        });
        if self.repeatables().is_empty() {
            return Ok(replay::schema_after(steps)?);
        }
        let conn = replay::database_after(steps)?;
        for r in self.repeatables() {
            for st in litemigrate_core::split::statements(r.sql()) {
                conn.execute_batch(st.sql).map_err(|e| ReplayError::Statement {
                    file: r.file().to_owned(),
                    line: st.line,
                    message: e.to_string(),
                })?;
            }
        }
        Schema::read(&conn).map_err(|e| ReplayError::Database(e.to_string()).into())
    }

    /// The embedded schema hash after `version` (the empty schema's for 0). With repeatable migrations, the hash of
    /// [`Migrations::expected_schema`], which includes what they create.
    pub(crate) fn expected_hash(&self, version: u64) -> Option<Checksum> {
        if !self.repeatables().is_empty() {
            return self.expected_schema(version).ok().map(|s| s.hash());
        }
        if version == 0 {
            return Some(Schema::default().hash());
        }
        self.get(version).and_then(|m| m.schema_hash())
    }

    pub(crate) fn drift(&self, live: &Schema, version: u64) -> Error {
        let (diff, schema_diff) = match self.expected_schema(version) {
            Ok(expected) => {
                let d = live.diff(&expected);
                (d.to_string(), Some(Box::new(d)))
            }
            Err(_) => (
                format!(
                    "the live schema hash is {}; the detailed difference cannot be computed",
                    live.hash()
                ),
                None,
            ),
        };
        Error::SchemaDrift {
            at: self.get(version).as_ref().map(At::of),
            version,
            diff,
            schema_diff,
        }
    }
}

impl Migrator<'_> {
    /// Checks, read-only: the history against the embedded migrations (divergent, missing, ahead and out-of-order
    /// are errors, as for a run with this migrator's policy), the live structural schema against the embedded
    /// schema at the current version ([`Error::SchemaDrift`] names every differing fact), and
    /// `PRAGMA integrity_check` ([`Error::Integrity`]). Pending migrations are not an error.
    pub fn verify(&self, conn: &Connection) -> Result<Verification, Error> {
        let (status, version) = self.checked_status(conn)?;
        let table = self.table()?;
        let live = live_schema(conn, &table.name)?;
        let m = self.migrations();
        let schema_checked = match m.expected_hash(version) {
            Some(expected) if expected == live.hash() => true,
            Some(_) => return Err(m.drift(&live, version)),
            None => false,
        };
        let messages: Vec<String> = conn
            .prepare("PRAGMA integrity_check")
            .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
            .map_err(|e| Error::db("PRAGMA integrity_check", None, e))?;
        if messages != ["ok"] {
            return Err(Error::Integrity { messages });
        }
        Ok(Verification {
            status,
            version,
            schema_checked,
            schema_hash: live.hash().to_hex(),
            integrity: "ok".into(),
        })
    }

    /// Adopts an existing database: records every migration up to `version` as applied (kind `baseline`) without
    /// running it. Only on a database with no history for this set ([`Error::HistoryNotEmpty`]), and only if the
    /// live schema matches the embedded schema at `version` ([`Error::SchemaDrift`] lists the differences). A set
    /// compiled without executing its SQL has no schema hashes; then the schema is not compared.
    pub fn baseline(&self, conn: &mut Connection, version: u64) -> Result<Status, Error> {
        let m = self.migrations();
        if version == 0 || m.get(version).is_none() {
            return Err(Error::UnknownTarget {
                version,
                latest: m.latest_version(),
            });
        }
        let table = self.table()?;
        let set = m.set_name();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| Error::db("taking the write lock (BEGIN IMMEDIATE)", None, e))?;
        if let Some(rows) = table.read_all(&tx, set)?
            && !rows.is_empty()
        {
            return Err(Error::HistoryNotEmpty {
                table: table.name.to_string(),
                set: set.to_owned(),
                rows: rows.len() as u64,
            });
        }
        if let Some(expected) = m.expected_hash(version) {
            // Another tool's history table is that tool's bookkeeping, not schema drift.
            let peers = crate::adopt::peer_tables(&tx)?;
            let live = live_schema_ignoring(&tx, &table.name, &peers)?;
            if live.hash() != expected {
                return Err(m.drift(&live, version));
            }
        }
        table.create(&tx)?;
        // The history is empty here, so `user_version` is free unless the application uses it.
        let stamp = self.stamps()
            && crate::stamp::owned(
                &tx,
                &table,
                set,
                &crate::repeat::stamp_digests(&tx, &table, self.migrations())?,
            )?
            .is_some();
        let now = history::now();
        let rows: Vec<_> = m
            .iter()
            .take_while(|x| x.version() <= version)
            .map(|mig| NewRow::of(&mig, Kind::Baseline, now.clone(), 0))
            .collect();
        table.insert(&tx, set, &rows)?;
        if stamp {
            crate::stamp::write(&tx, &table, set)?;
        }
        tx.commit().map_err(|e| Error::db("committing the baseline", None, e))?;
        self.status(conn)
    }
}

/// The live structural schema, leaving out the history table and its failures table (the one place that knows
/// which tables are the migrator's own).
pub(crate) fn live_schema(conn: &Connection, history_table: &str) -> Result<Schema, Error> {
    let failures = history::failures_name(history_table);
    Schema::read_ignoring(conn, &[history_table, &failures]).map_err(|e| Error::db("reading the live schema", None, e))
}

/// [`live_schema`] leaving out `extra` tables too (other tools' history tables).
pub(crate) fn live_schema_ignoring(conn: &Connection, history_table: &str, extra: &[&str]) -> Result<Schema, Error> {
    let failures = history::failures_name(history_table);
    let mut ignore = vec![history_table, failures.as_str()];
    ignore.extend_from_slice(extra);
    Schema::read_ignoring(conn, &ignore).map_err(|e| Error::db("reading the live schema", None, e))
}

/// Why [`Migrations::expected_schema`] could not compute a schema.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ExpectedSchemaError {
    /// The embedded final schema text does not parse.
    #[error("{0}")]
    Text(#[from] SchemaTextError),
    /// Replaying the up scripts failed.
    #[error("{0}")]
    Replay(#[from] ReplayError),
}
