//! Replaying a set's embedded up scripts into a fresh in-memory database, the way the build ran them, to get the
//! structural schema at a version the embedded table has no text for (the table carries the final schema's text and
//! one hash per version). The runtime's `verify`, `baseline` and the CLI's `schema --diff` use it to say *what*
//! differs when a hash does not match.
//!
//! "The way the build ran them" means literally: the replay runs each script through the build's own runner
//! ([`crate::compile`]'s tracked database): foreign keys enforced (whatever the SQLite's compile-time default), each
//! migration in a transaction unless `no-transaction`, enforcement off around a `foreign-keys=off` migration,
//! statement by statement so a failure names the file and line, in memory only and within the same step bound. The SQL is the
//! expanded SQL the build embedded; Rust-code migrations are skipped, as the build assumes they leave the schema
//! unchanged.

use super::tracked::Tracked;
use super::{CompileError, DEFAULT_MAX_STEPS, Direction};
use crate::checksum::Checksum;
use crate::directive::{Directive, Directives};
use crate::expand::Chunk;
use crate::load::{MigrationSource, Script};
use crate::schema::Schema;

/// One migration to replay, as the embedded table describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplayStep<'a> {
    /// The up file, for error messages.
    pub file: &'a str,
    /// The expanded up SQL; `None` for a Rust-code migration (skipped).
    pub up_sql: Option<&'a str>,
    /// `-- migrate:no-transaction`: run outside a transaction.
    pub no_transaction: bool,
    /// `-- migrate:foreign-keys=off`: foreign-key enforcement off while it runs.
    pub foreign_keys_off: bool,
}

/// Why a replay failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplayError {
    /// A statement of a migration failed (e.g. the running SQLite lacks a feature the build's SQLite had).
    #[error("{file}:{line}: {message}")]
    Statement {
        /// The up file.
        file: String,
        /// The statement's line in the (expanded) up SQL.
        line: usize,
        /// SQLite's message.
        message: String,
    },
    /// The in-memory database itself failed (opening it, a pragma, `BEGIN`/`COMMIT`, reading the schema).
    #[error("the in-memory SQLite database failed: {0}")]
    Database(String),
}

/// Runs `steps` in order in a fresh in-memory database and returns its structural schema (the same facts and hash
/// as the build computed for the last step).
///
/// ```
/// use litemigrate_core::replay::{ReplayStep, schema_after};
/// let step = |file, sql| ReplayStep { file, up_sql: Some(sql), no_transaction: false, foreign_keys_off: false };
/// let schema = schema_after([
///     step("m/1_users.sql", "CREATE TABLE users (id INTEGER PRIMARY KEY);"),
///     step("m/2_idx.sql", "CREATE INDEX users_id ON users (id);"),
/// ])
/// .unwrap();
/// assert!(schema.to_text().contains("users_id"));
/// let err = schema_after([step("m/1_bad.sql", "\nCREATE INDEX i ON nope (x);")]).unwrap_err();
/// assert!(err.to_string().starts_with("m/1_bad.sql:2: no such table"));
/// ```
pub fn schema_after<'a>(steps: impl IntoIterator<Item = ReplayStep<'a>>) -> Result<Schema, ReplayError> {
    // The build's own runner, so the replay is validation itself: foreign keys enforced, memory only (an ATTACH
    // opens an in-memory database), the same step bound.
    let mut db = Tracked::open(DEFAULT_MAX_STEPS, Vec::new().into()).map_err(ReplayError::Database)?;
    for (i, step) in steps.into_iter().enumerate() {
        let Some(sql) = step.up_sql else {
            continue;
        };
        let mut directives = Directives::default();
        if step.no_transaction {
            directives.list.push((0, Directive::NoTransaction));
        }
        if step.foreign_keys_off {
            directives.list.push((0, Directive::ForeignKeysOff));
        }
        let source = MigrationSource {
            version: i as u64 + 1,
            name: String::new(),
            up: Script {
                path: step.file.to_owned(),
                sql: sql.to_owned(),
                directives,
            },
            down: None,
            checksum: Checksum::ZERO,
            chain: Checksum::ZERO,
            code: false,
        };
        let chunk = Chunk {
            sql: sql.to_owned(),
            line: 1,
            generated: false,
        };
        db.run_migration(&source, &[chunk], Direction::Up)
            .map_err(|e| match e {
                CompileError::Statement {
                    file, line, message, ..
                } => ReplayError::Statement { file, line, message },
                other => ReplayError::Database(other.to_string()),
            })?;
    }
    Ok(db.schema())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::{CompileOptions, compile};
    use crate::load::load_in_memory;

    /// A set exercising what changes how a migration runs: a generated table rebuild (foreign keys off, with a child
    /// table and data), an FTS5 index with its triggers, a no-transaction migration and a rename.
    const SET: &[(&str, &str)] = &[
        (
            "0001_authors.sql",
            "CREATE TABLE authors (id INTEGER PRIMARY KEY, name TEXT, legacy TEXT);\n\
             CREATE TABLE books (id INTEGER PRIMARY KEY, author_id INTEGER NOT NULL REFERENCES authors(id), t TEXT);\n\
             INSERT INTO authors VALUES (1, 'a', 'x');\nINSERT INTO books VALUES (1, 1, 'b');\n",
        ),
        (
            "0002_rebuild.sql",
            "-- migrate:rebuild authors\nCREATE TABLE authors (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n",
        ),
        (
            "0003_fts.sql",
            "-- migrate:fts5 books_fts content=books content_rowid=id columns=t\n",
        ),
        ("0004_vacuum.sql", "-- migrate:no-transaction\nVACUUM;\n"),
        ("0005_rename.sql", "ALTER TABLE books RENAME COLUMN t TO title;\n"),
    ];

    fn compiled() -> crate::compile::Compiled {
        compile(load_in_memory("migrations", SET).unwrap(), &CompileOptions::default()).unwrap()
    }

    #[test]
    fn every_prefix_hashes_as_the_build_did() {
        let c = compiled();
        let steps: Vec<ReplayStep<'_>> = c
            .migrations
            .iter()
            .map(|m| ReplayStep {
                file: &m.source.up.path,
                up_sql: Some(&m.up_sql),
                no_transaction: m.source.up.directives.no_transaction(),
                foreign_keys_off: m.source.up.directives.foreign_keys_off(),
            })
            .collect();
        for (i, m) in c.migrations.iter().enumerate() {
            let s = schema_after(steps[..=i].iter().copied()).unwrap();
            assert_eq!(Some(s.hash()), m.schema_hash, "after {}", m.source.up.path);
        }
        let all = schema_after(steps.iter().copied()).unwrap();
        assert_eq!(Some(all.to_text()), c.final_schema);
    }

    #[test]
    fn a_rebuild_replayed_with_foreign_keys_enforced_throughout_fails() {
        // The control for the test above: the generated rebuild drops the parent table, which with enforcement on
        // cascades into a FOREIGN KEY failure; the replay gets past it only by honouring `foreign-keys=off`.
        let c = compiled();
        let steps = c.migrations[..2].iter().map(|m| ReplayStep {
            file: &m.source.up.path,
            up_sql: Some(&m.up_sql),
            no_transaction: false,
            foreign_keys_off: false,
        });
        let err = schema_after(steps).unwrap_err();
        assert!(
            matches!(&err, ReplayError::Statement { file, message, .. }
                if file == "migrations/0002_rebuild.sql" && message.contains("FOREIGN KEY")),
            "{err}"
        );
    }

    #[test]
    fn code_migrations_are_skipped() {
        let step = ReplayStep {
            file: "rust:app::seed",
            up_sql: None,
            no_transaction: false,
            foreign_keys_off: false,
        };
        assert_eq!(schema_after([step]).unwrap(), Schema::default());
    }

    #[test]
    fn a_replay_touches_nothing_outside_memory() {
        let dir = tempfile::tempdir().unwrap();
        let other = dir.path().join("other.db");
        let sql = format!(
            "ATTACH {} AS o;\nCREATE TABLE o.t(x);\nDETACH o;\nCREATE TABLE a(x);",
            crate::sql::quote_str(&other.to_string_lossy())
        );
        let step = ReplayStep {
            file: "m/1_attach.sql",
            up_sql: Some(&sql),
            no_transaction: true,
            foreign_keys_off: false,
        };
        let schema = schema_after([step]).unwrap();
        assert!(schema.to_text().contains("table \"a\""));
        assert!(!other.exists());
    }
}
