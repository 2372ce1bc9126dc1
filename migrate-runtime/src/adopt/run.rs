//! The adoption: another tool's history read and checked, the schema compared, our history written (feature
//! `validate`, which brings the schema comparison).

use super::AdoptError;
use super::applied::{self, Applied, PeerRow, Stored};
use super::checksums;
use super::peers::{self, Tool};
use crate::error::Error;
use crate::history::{self, Kind, NewRow};
use crate::migrator::Migrator;
use crate::table::Migrations;
use rusqlite::{Connection, TransactionBehavior};

/// What [`Migrator::adopt`] should do.
#[derive(Debug, Clone, Default)]
pub struct AdoptOptions {
    /// The tool, or `None` to find it from the history tables present (rusqlite_migration must be named).
    pub from: Option<Tool>,
    /// Drop the other tool's history table (rusqlite_migration: reset `user_version`) once adopted.
    pub drop_old: bool,
}

/// What [`Migrator::adopt`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Adopted {
    /// The tool adopted from.
    pub tool: Tool,
    /// Its history table (`None` for rusqlite_migration).
    pub table: Option<String>,
    /// The version the database is at now.
    pub version: u64,
    /// How many migrations were recorded.
    pub migrations: usize,
    /// Whether the tool's checksums were compared (sqlx, refinery, Flyway); the others store versions only.
    pub checksums_compared: bool,
    /// Whether the live schema was compared (a set compiled without running its SQL has no schema hashes).
    pub schema_checked: bool,
    /// Whether the other tool's table was dropped.
    pub dropped: bool,
}

impl std::fmt::Display for Adopted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "adopted {} migration(s) from {} (now at version {})",
            self.migrations, self.tool, self.version
        )?;
        let sums = if self.checksums_compared {
            "compared with the files"
        } else {
            "not compared: the tool stores versions only"
        };
        writeln!(f, "checksums: {sums}")?;
        if !self.schema_checked {
            writeln!(f, "schema: not compared (no embedded schema hashes)")?;
        }
        match (&self.table, self.dropped) {
            (Some(t), true) => writeln!(f, "{t}: dropped"),
            (Some(t), false) => writeln!(f, "{t}: left in place"),
            (None, _) => Ok(()),
        }
    }
}

impl Migrations {
    /// Takes over the history of the tool that migrated this database. See [`Migrator::adopt`].
    ///
    /// ```no_run
    /// # static MIGRATIONS: litemigrate_runtime::Migrations = litemigrate_runtime::Migrations::empty();
    /// use litemigrate_runtime::adopt::AdoptOptions;
    /// let mut conn = rusqlite::Connection::open("app.db").unwrap();
    /// MIGRATIONS.adopt(&mut conn, &AdoptOptions::default()).unwrap();
    /// MIGRATIONS.migrate(&mut conn).unwrap(); // only the migrations the other tool never ran
    /// ```
    pub fn adopt(&self, conn: &mut Connection, options: &AdoptOptions) -> Result<Adopted, Error> {
        self.migrator().adopt(conn, options)
    }
}

impl Migrator<'_> {
    /// Adopts a database another tool migrated: reads its history, checks every applied version is embedded, not
    /// failed, with no embedded version missing below the newest, and (sqlx, refinery, Flyway) that each file's
    /// checksum is what the tool applied ([`AdoptError::Edited`] names the files that differ); compares the live
    /// schema, the tool's table left out, with the embedded schema at that version ([`Error::SchemaDrift`]); then
    /// records those migrations with kind `adopted`, in one transaction. Only on a database with no history for
    /// this set ([`Error::HistoryNotEmpty`]).
    pub fn adopt(&self, conn: &mut Connection, options: &AdoptOptions) -> Result<Adopted, Error> {
        let m = self.migrations();
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
        let tool = match options.from {
            Some(tool) => {
                if let Some(t) = tool.table()
                    && !peers::present(&tx)?.contains(&tool)
                {
                    return Err(AdoptError::NotThere {
                        tool,
                        table: t.to_owned(),
                    }
                    .into());
                }
                tool
            }
            None => match peers::present(&tx)?.as_slice() {
                [] => return Err(AdoptError::NoPeerHistory.into()),
                [one] => *one,
                many => return Err(AdoptError::Ambiguous { tools: many.to_vec() }.into()),
            },
        };
        let applied = applied_migrations(m, tool, applied::read(&tx, tool)?)?;
        let version = applied.last().map_or(0, |(v, _)| *v);
        let mut edited = Vec::new();
        for (v, stored) in &applied {
            let Some(mig) = m.get(*v) else { continue };
            if let Some(sum) = stored
                && !checksums::matches(sum, *v, mig.name(), mig.up_sql().unwrap_or(""))
            {
                edited.push(mig.up_file().to_owned());
            }
        }
        if !edited.is_empty() {
            return Err(AdoptError::Edited { tool, files: edited }.into());
        }
        let peer_table = tool.table();
        let expected = m.expected_hash(version);
        if let Some(expected) = expected {
            let live = crate::verify::live_schema_ignoring(&tx, &table.name, peer_table.as_slice())?;
            if live.hash() != expected {
                return Err(m.drift(&live, version));
            }
        }
        table.create(&tx)?;
        if options.drop_old {
            match peer_table {
                Some(t) => tx
                    .execute_batch(&format!("DROP TABLE {}", litemigrate_core::sql::quote_ident(t)))
                    .map_err(|e| Error::db("dropping the other tool's history table", None, e))?,
                None => tx
                    .execute_batch("PRAGMA user_version = 0")
                    .map_err(|e| Error::db("resetting PRAGMA user_version", None, e))?,
            }
        }
        let stamp = self.stamps()
            && crate::stamp::owned(&tx, &table, set, &crate::repeat::stamp_digests(&tx, &table, m)?)?.is_some();
        let now = history::now();
        let rows: Vec<_> = m
            .iter()
            .take_while(|x| x.version() <= version)
            .map(|mig| NewRow::of(&mig, Kind::Adopted, now.clone(), 0))
            .collect();
        table.insert(&tx, set, &rows)?;
        if stamp && !rows.is_empty() {
            crate::stamp::write(&tx, &table, set)?;
        }
        tx.commit().map_err(|e| Error::db("committing the adoption", None, e))?;
        Ok(Adopted {
            tool,
            table: peer_table.map(str::to_owned),
            version,
            migrations: rows.len(),
            checksums_compared: tool.has_checksums(),
            schema_checked: expected.is_some(),
            dropped: options.drop_old,
        })
    }
}

/// The embedded versions the tool applied, in order, each with its stored checksum.
fn applied_migrations(m: &Migrations, tool: Tool, applied: Applied) -> Result<Vec<(u64, Option<Stored>)>, AdoptError> {
    let rows: Vec<PeerRow> = match applied {
        Applied::Rows(rows) => rows,
        Applied::UpTo(row) => {
            if row.failed {
                return Err(AdoptError::Failed {
                    tool,
                    version: row.text,
                });
            }
            if m.get(row.version).is_none() {
                return Err(AdoptError::Unknown {
                    tool,
                    version: row.text,
                });
            }
            m.iter()
                .take_while(|x| x.version() <= row.version)
                .map(|x| PeerRow {
                    version: x.version(),
                    text: x.version().to_string(),
                    checksum: None,
                    failed: false,
                })
                .collect()
        }
        Applied::Count(n) => {
            if n > m.len() as u64 {
                return Err(AdoptError::Unknown {
                    tool,
                    version: format!("#{n} (user_version; the set has {})", m.len()),
                });
            }
            m.iter()
                .take(n as usize)
                .map(|x| PeerRow {
                    version: x.version(),
                    text: x.version().to_string(),
                    checksum: None,
                    failed: false,
                })
                .collect()
        }
    };
    let mut rows = rows;
    rows.sort_by_key(|r| r.version);
    for r in &rows {
        if r.failed {
            return Err(AdoptError::Failed {
                tool,
                version: r.text.clone(),
            });
        }
        if m.get(r.version).is_none() {
            return Err(AdoptError::Unknown {
                tool,
                version: r.text.clone(),
            });
        }
    }
    let newest = rows.last().map_or(0, |r| r.version);
    if let Some(gap) = m
        .iter()
        .take_while(|x| x.version() <= newest)
        .find(|x| rows.binary_search_by_key(&x.version(), |r| r.version).is_err())
    {
        return Err(AdoptError::Gap {
            tool,
            version: gap.version(),
            file: gap.up_file().to_owned(),
        });
    }
    Ok(rows.into_iter().map(|r| (r.version, r.checksum)).collect())
}
