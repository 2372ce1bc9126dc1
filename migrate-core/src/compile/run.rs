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

    /// Proves `m`'s down on its own, right after its up: runs it in a transaction (as the runtime would), compares
    /// the schema hash with `before` (the hash after the previous version), then rolls the transaction back and
    /// the cache with it, so the forward pass continues from the schema the up left. A `no-transaction` migration
    /// cannot be rolled back: its down is committed, compared, and its up run again (it must give the same hash).
    pub(super) fn prove_down(
        &mut self,
        m: &MigrationSource,
        up: &[Chunk],
        down: &[Chunk],
        before: Checksum,
        older: &[CompiledMigration],
    ) -> Result<(), CompileError> {
        let after_up = self.hash();
        let Some(down_script) = &m.down else {
            return Ok(());
        };
        if m.up.directives.no_transaction() {
            self.run_migration(m, down, Direction::Down)?;
            if self.hash() != before {
                super::check_against_replay(self, older.iter().map(|c| &c.source), m, &down_script.path)?;
            }
            self.run_migration(m, up, Direction::Up)?;
            if self.hash() != after_up {
                return Err(CompileError::Database {
                    file: m.up.path.clone(),
                    message: "running the up again after its down gives a different schema than the first time".into(),
                });
            }
            return Ok(());
        }
        self.start_journal();
        let mut batch = self.begin();
        let proven = (|| -> Result<(), CompileError> {
            self.start(m, Direction::Down, true)?;
            self.run_statements(m, down, Direction::Down, &mut batch)?;
            self.check_foreign_keys(m, Direction::Down)?;
            self.sync(std::mem::replace(&mut batch, Batch { rescan: false }))
                .map_err(|e| db_error(m, Direction::Down, &e))?;
            if self.hash() != before {
                super::check_against_replay(self, older.iter().map(|c| &c.source), m, &down_script.path)?;
            }
            Ok(())
        })();
        // Whatever happened, put the database and the cache back to the schema after the up.
        let rolled_back = self.conn.execute_batch("ROLLBACK");
        let finished = self.finish(m, Direction::Down);
        self.undo_journal();
        proven?;
        rolled_back.map_err(|e| db_error(m, Direction::Down, &e))?;
        finished?;
        if self.hash() != after_up {
            // The undo journal and the database disagree: trust the database.
            self.rescan().map_err(|e| db_error(m, Direction::Down, &e))?;
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
                self.conn.execute_batch(&sql).map_err(|e| CompileError::Statement {
                    file: file.clone(),
                    line: if chunk.generated {
                        chunk.line
                    } else {
                        chunk.line + st.line - 1
                    },
                    generated: chunk.generated,
                    direction: dir,
                    statement: shorten(st.sql),
                    message: self.explain(&e, st.sql, &sql),
                    sqlite_version: rusqlite::version().to_owned(),
                })?;
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
