//! Running a migration's statements in the tracked database the way the runtime will (transaction, foreign keys,
//! statement by statement for errors that name a line), proving a down on its own, and keeping validation inside
//! memory and inside its step bound.

use super::tracked::{Batch, Tracked};
use super::{CompileError, CompiledMigration, Direction, shorten, sqlite_message};
use crate::checksum::Checksum;
use crate::expand::Chunk;
use crate::lex::Keyword;
use crate::load::MigrationSource;
use crate::split;
use std::borrow::Cow;
use std::sync::atomic::Ordering;

impl Tracked {
    /// Runs one migration's chunks as the runtime would: in a transaction unless `no-transaction`, with foreign key
    /// enforcement off around it for `foreign-keys=off`.
    pub(super) fn run_migration(
        &mut self,
        m: &MigrationSource,
        chunks: &[Chunk],
        dir: Direction,
    ) -> Result<(), CompileError> {
        let in_tx = !m.up.directives.no_transaction();
        self.written.clear();
        let mut batch = self.begin();
        self.start(m, dir, in_tx)?;
        self.run_statements(m, chunks, dir, &mut batch)?;
        self.check_foreign_keys(m, dir)?;
        if in_tx {
            self.exec(m, dir, "COMMIT")?;
        }
        self.finish(m, dir)?;
        self.sync(batch).map_err(|e| db_error(m, dir, &e))
    }

    /// Proves the downs of `migrations[..=top]`, newest first, on this database (which must be at the schema after
    /// `top`): each down runs as the runtime would and must leave the schema hash of the version before it. Stops at
    /// the first migration without a down (a migration before it cannot be reached going down); code migrations
    /// are assumed to leave the schema alone either way.
    pub(super) fn prove_downs(
        &mut self,
        migrations: &[CompiledMigration],
        downs: &[Option<Vec<Chunk>>],
        empty_hash: Checksum,
    ) -> Result<(), CompileError> {
        for i in (0..migrations.len()).rev() {
            let m = &migrations[i].source;
            let Some(down_script) = &m.down else {
                break;
            };
            let Some(chunks) = &downs[i] else {
                continue;
            };
            self.run_migration(m, chunks, Direction::Down)?;
            let before = match i {
                0 => empty_hash,
                _ => migrations[i - 1].schema_hash.unwrap_or(empty_hash),
            };
            if self.hash() != before {
                super::check_against_replay(self, migrations[..i].iter().map(|c| &c.source), m, &down_script.path)?;
            }
        }
        Ok(())
    }

    fn exec(&self, m: &MigrationSource, dir: Direction, sql: &str) -> Result<(), CompileError> {
        self.conn.execute_batch(sql).map_err(|e| db_error(m, dir, &e))
    }

    /// Turns foreign keys off for `foreign-keys=off` (outside the transaction, where the pragma works) and opens
    /// the transaction.
    fn start(&self, m: &MigrationSource, dir: Direction, in_tx: bool) -> Result<(), CompileError> {
        if m.up.directives.foreign_keys_off() {
            self.exec(m, dir, "PRAGMA foreign_keys = OFF")?;
        }
        if in_tx {
            self.exec(m, dir, "BEGIN")?;
        }
        Ok(())
    }

    /// Turns foreign keys back on after a `foreign-keys=off` migration.
    fn finish(&self, m: &MigrationSource, dir: Direction) -> Result<(), CompileError> {
        if m.up.directives.foreign_keys_off() {
            self.exec(m, dir, "PRAGMA foreign_keys = ON")?;
        }
        Ok(())
    }

    /// `PRAGMA foreign_key_check` before the commit of a `foreign-keys=off` migration, as the runtime does.
    fn check_foreign_keys(&self, m: &MigrationSource, dir: Direction) -> Result<(), CompileError> {
        if !m.up.directives.foreign_keys_off() {
            return Ok(());
        }
        let violations = self.foreign_key_violations().map_err(|e| db_error(m, dir, &e))?;
        if violations.is_empty() {
            return Ok(());
        }
        Err(CompileError::ForeignKeyViolation {
            file: script_of(m, dir).path.clone(),
            violations,
            sqlite_version: rusqlite::version().to_owned(),
        })
    }

    /// Executes the chunks statement by statement, so an error names the statement's line.
    fn run_statements(
        &mut self,
        m: &MigrationSource,
        chunks: &[Chunk],
        dir: Direction,
        batch: &mut Batch,
    ) -> Result<(), CompileError> {
        let script = script_of(m, dir);
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
        self.attached_in_memory = false;
        for (i, chunk) in chunks.iter().enumerate() {
            let file = if i < prelude { &m.up.path } else { &script.path };
            for st in split::statements(&chunk.sql) {
                Self::note(batch, st.sql);
                let Some(sql) = confined(st.sql) else {
                    // `VACUUM INTO` writes a file and changes nothing in this database's schema.
                    continue;
                };
                self.attached_in_memory |= sql != st.sql;
                self.steps.store(0, Ordering::Relaxed);
                let line = if chunk.generated {
                    chunk.line
                } else {
                    chunk.line + st.line - 1
                };
                self.conn.execute_batch(&sql).map_err(|e| CompileError::Statement {
                    file: file.clone(),
                    line,
                    generated: chunk.generated,
                    direction: dir,
                    statement: shorten(st.sql),
                    message: self.explain(&e, st.sql, &sql),
                    sqlite_version: rusqlite::version().to_owned(),
                })?;
                self.note_written(file, line, is_dml(st.sql));
            }
        }
        Ok(())
    }

    /// SQLite's message for a statement that failed during validation, saying what the validation itself changed
    /// about it: the step bound that stopped it, or the in-memory database an ATTACH was given.
    fn explain(&self, e: &rusqlite::Error, original: &str, ran: &str) -> String {
        let interrupted = e.sqlite_error_code() == Some(rusqlite::ErrorCode::OperationInterrupted);
        if interrupted && self.max_steps > 0 && self.steps.load(Ordering::Relaxed) >= self.max_steps {
            return format!(
                "did not finish within {} SQLite steps during validation (an unbounded recursive CTE or a very \
                 long loop?); if it is meant to do that much work, raise the bound with `validation_steps = N` in \
                 embed_migrations! (or `--validation-steps N` on the command line; 0 removes it)",
                self.max_steps
            );
        }
        let message = sqlite_message(e, ran);
        if self.attached_in_memory || ran != original {
            return format!(
                "{message} (during validation, ATTACH opens an empty in-memory database instead of the file it names)"
            );
        }
        message
    }
}

/// Whether a statement is an INSERT, UPDATE, DELETE or REPLACE (possibly after a WITH clause, whose DML keyword
/// comes later: any statement starting with WITH counts).
pub(super) fn is_dml(sql: &str) -> bool {
    matches!(
        crate::lex::significant(sql).next().and_then(|t| t.keyword()),
        Some(Keyword::Insert | Keyword::Update | Keyword::Delete | Keyword::Replace | Keyword::With)
    )
}

/// The script a direction runs.
fn script_of(m: &MigrationSource, dir: Direction) -> &crate::load::Script {
    match dir {
        Direction::Up => &m.up,
        Direction::Down => m.down.as_ref().unwrap_or(&m.up),
    }
}

fn db_error(m: &MigrationSource, dir: Direction, e: &rusqlite::Error) -> CompileError {
    CompileError::Database {
        file: script_of(m, dir).path.clone(),
        message: e.to_string(),
    }
}

/// The statement as validation runs it, so it touches nothing outside memory: an `ATTACH`'s file expression becomes
/// `':memory:'`, and a `VACUUM … INTO` is not run (`None`).
fn confined(sql: &str) -> Option<Cow<'_, str>> {
    let toks: Vec<_> = crate::lex::significant(sql).collect();
    let kw = |i: usize| toks.get(i).and_then(|t| t.keyword());
    match kw(0) {
        Some(Keyword::Vacuum) if toks.iter().any(|t| t.is_keyword(Keyword::Into)) => None,
        Some(Keyword::Attach) => {
            // ATTACH [DATABASE] expr AS name: the expression ends at the first AS outside parentheses.
            let start = 1 + usize::from(kw(1) == Some(Keyword::Database));
            let mut depth = 0usize;
            let end = toks.iter().enumerate().skip(start).find_map(|(i, t)| {
                if t.is_op("(") {
                    depth += 1;
                } else if t.is_op(")") {
                    depth = depth.saturating_sub(1);
                } else if depth == 0 && t.is_keyword(Keyword::As) {
                    return Some(i);
                }
                None
            });
            match (toks.get(start), end.and_then(|e| toks.get(e))) {
                (Some(first), Some(as_kw)) if first.offset < as_kw.offset => Some(Cow::Owned(format!(
                    "{}':memory:' {}",
                    &sql[..first.offset],
                    &sql[as_kw.offset..]
                ))),
                _ => Some(Cow::Borrowed(sql)),
            }
        }
        _ => Some(Cow::Borrowed(sql)),
    }
}
