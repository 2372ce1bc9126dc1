//! What a migration file may not contain, because it would break the runner's guarantees rather than fail:
//! transaction control inside a file the runner wraps in its own transaction (a `ROLLBACK; BEGIN;` silently undoes
//! the earlier migrations of the batch while the history records them as applied), statements SQLite ignores or
//! refuses inside a transaction (`PRAGMA journal_mode`, `PRAGMA foreign_keys`, `VACUUM`), writes to the runner's own
//! history tables, and NUL bytes (SQLite stops reading SQL at one, so what follows would never run).
//!
//! The loader applies these rules to every file, so `embed_migrations!` refuses them at build time and run-time sets
//! at load time, with the same message naming file and line. Every rule reads SQL through [`crate::lex`] and
//! [`crate::split`], so a keyword inside a string, a quoted name or a comment never counts.

use crate::lex::{Keyword, Token};
use crate::split;
use std::fmt;

/// The history table names a migration must not write: the runner's default table and its failures table.
/// (A runner configured with another table name checks that name at run time.)
pub const RUNNER_TABLES: [&str; 2] = ["_migrations", "_migrations_failures"];

/// Why a statement is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// `BEGIN`, `COMMIT`, `END` or `ROLLBACK` in a file the runner runs inside its own transaction.
    TransactionControl {
        /// The statement's keyword(s), upper case.
        statement: String,
    },
    /// A `SAVEPOINT` never released, or a `RELEASE` / `ROLLBACK TO` of a savepoint this file did not open.
    UnbalancedSavepoint {
        /// The savepoint name.
        name: String,
        /// `SAVEPOINT` (never released) or the `RELEASE`/`ROLLBACK TO` that has no savepoint to go to.
        statement: String,
    },
    /// A statement that has no effect, or fails, inside a transaction.
    NeedsNoTransaction {
        /// What it is (`PRAGMA journal_mode`, `VACUUM`).
        statement: String,
        /// The directive to use instead.
        instead: &'static str,
    },
    /// A write to the runner's history tables.
    RunnerTable {
        /// The table.
        table: String,
    },
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::TransactionControl { statement } => write!(
                f,
                "`{statement}` inside a migration: the runner already runs each file in a transaction and records \
                 it in the history in that same transaction, so transaction control here would commit or undo \
                 work behind the history's back; remove it, or put `-- migrate:no-transaction` at the top of the \
                 file to manage transactions yourself"
            ),
            Refusal::UnbalancedSavepoint { name, statement } => write!(
                f,
                "`{statement}` leaves savepoint `{name}` unbalanced: every SAVEPOINT in a migration needs its \
                 RELEASE in the same file, and RELEASE / ROLLBACK TO may only name a savepoint the file opened"
            ),
            Refusal::NeedsNoTransaction { statement, instead } => write!(
                f,
                "`{statement}` does nothing (or fails) inside a transaction, and the runner runs this file in \
                 one; {instead}"
            ),
            Refusal::RunnerTable { table } => write!(
                f,
                "writes `{table}`, the runner's own history: a migration must not change it (use the CLI's \
                 `baseline` or the `Migrator` API to change what is recorded)"
            ),
        }
    }
}

/// A refused statement: its 1-based line and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// The statement's line in the file.
    pub line: usize,
    /// Why.
    pub refusal: Refusal,
}

/// Where the first NUL byte of `text` is: its 1-based line and column (in characters).
///
/// ```
/// assert_eq!(litemigrate_core::safety::nul_position("a;\nb\0"), Some((2, 2)));
/// assert_eq!(litemigrate_core::safety::nul_position("a;"), None);
/// ```
pub fn nul_position(text: &str) -> Option<(usize, usize)> {
    let at = text.find('\0')?;
    let before = &text[..at];
    let line_start = before.rfind('\n').map_or(0, |n| n + 1);
    Some((
        1 + before.matches('\n').count(),
        1 + before[line_start..].chars().count(),
    ))
}

/// Checks one script. `in_transaction`: whether the runner runs it inside its own transaction (every file without
/// `-- migrate:no-transaction`).
///
/// ```
/// use litemigrate_core::safety::{check, Refusal};
/// let r = check("CREATE TABLE a(x);\nROLLBACK;\nBEGIN;", true).unwrap_err();
/// assert_eq!(r.line, 2);
/// assert!(matches!(r.refusal, Refusal::TransactionControl { .. }));
/// assert!(check("CREATE TABLE a(x);\nROLLBACK;\nBEGIN;", false).is_ok());
/// assert!(check("INSERT INTO t VALUES ('BEGIN; COMMIT;'); -- ROLLBACK;", true).is_ok());
/// ```
pub fn check(sql: &str, in_transaction: bool) -> Result<(), Refused> {
    // Open savepoints: (name lower-cased, as written, line).
    let mut savepoints: Vec<(String, String, usize)> = Vec::new();
    for (st, toks) in split::statements_with_tokens(sql) {
        let refuse = |refusal| Err(Refused { line: st.line, refusal });
        if let Some(table) = writes_table(&toks, &RUNNER_TABLES) {
            return refuse(Refusal::RunnerTable { table });
        }
        if !in_transaction {
            continue;
        }
        let kw = |i: usize| toks.get(i).and_then(Token::keyword);
        let name_at = |i: usize| toks.get(i).and_then(Token::name).map(|n| n.into_owned());
        match kw(0) {
            Some(k @ (Keyword::Begin | Keyword::Commit | Keyword::End)) => {
                return refuse(Refusal::TransactionControl {
                    statement: k.as_str().to_owned(),
                });
            }
            Some(Keyword::Rollback) => {
                // ROLLBACK [TRANSACTION] [TO [SAVEPOINT] name]
                let mut i = 1 + usize::from(kw(1) == Some(Keyword::Transaction));
                if kw(i) != Some(Keyword::To) {
                    return refuse(Refusal::TransactionControl {
                        statement: "ROLLBACK".to_owned(),
                    });
                }
                i += 1 + usize::from(kw(i + 1) == Some(Keyword::Savepoint));
                let name = name_at(i).unwrap_or_default();
                if !savepoints.iter().any(|(n, ..)| *n == name.to_lowercase()) {
                    return refuse(Refusal::UnbalancedSavepoint {
                        statement: format!("ROLLBACK TO {name}"),
                        name,
                    });
                }
            }
            Some(Keyword::Savepoint) => {
                let name = name_at(1).unwrap_or_default();
                savepoints.push((name.to_lowercase(), name, st.line));
            }
            Some(Keyword::Release) => {
                let i = 1 + usize::from(kw(1) == Some(Keyword::Savepoint));
                let name = name_at(i).unwrap_or_default();
                match savepoints.iter().rposition(|(n, ..)| *n == name.to_lowercase()) {
                    Some(at) => savepoints.truncate(at),
                    None => {
                        return refuse(Refusal::UnbalancedSavepoint {
                            statement: format!("RELEASE {name}"),
                            name,
                        });
                    }
                }
            }
            Some(Keyword::Vacuum) => {
                return refuse(Refusal::NeedsNoTransaction {
                    statement: "VACUUM".to_owned(),
                    instead: "put `-- migrate:no-transaction` at the top of the file (and keep VACUUM in a file of \
                              its own)",
                });
            }
            Some(Keyword::Pragma) => {
                if let Some(refusal) = pragma_refusal(&toks) {
                    return refuse(refusal);
                }
            }
            _ => {}
        }
    }
    match savepoints.into_iter().next() {
        Some((_, name, line)) => Err(Refused {
            line,
            refusal: Refusal::UnbalancedSavepoint {
                statement: format!("SAVEPOINT {name}"),
                name,
            },
        }),
        None => Ok(()),
    }
}

/// `PRAGMA [schema.]name = value` (or `(value)`) for a pragma that only works outside a transaction.
fn pragma_refusal(toks: &[Token<'_>]) -> Option<Refusal> {
    let (name, rest) = match toks.get(2) {
        Some(t) if t.is_op(".") => (toks.get(3)?, toks.get(4..)?),
        _ => (toks.get(1)?, toks.get(2..)?),
    };
    let name = name.name()?.to_ascii_lowercase();
    let sets = rest.first().is_some_and(|t| t.is_op("=") || t.is_op("("));
    let instead = match name.as_str() {
        "foreign_keys" => {
            "the runner decides foreign-key enforcement: put `-- migrate:foreign-keys=off` at the top of the file to \
             run it with foreign keys off (checked with `PRAGMA foreign_key_check` before commit)"
        }
        "journal_mode" | "synchronous" | "locking_mode" | "page_size" | "auto_vacuum" => {
            "put `-- migrate:no-transaction` at the top of the file (and keep the pragma in a file of its own), or set \
             it where the application opens its connection"
        }
        _ => return None,
    };
    sets.then(|| Refusal::NeedsNoTransaction {
        statement: format!("PRAGMA {name}"),
        instead,
    })
}

/// The first statement of `sql` that writes (inserts, updates, deletes, creates, drops or alters) one of `tables`
/// (compared ASCII case-insensitively): its 1-based line and the table as given. The loader applies this to the
/// runner's default tables ([`RUNNER_TABLES`], through [`check`]); a runner configured with another history table
/// applies it to that name before running anything.
///
/// ```
/// let sql = "CREATE TABLE a(x);\nDELETE FROM Schema_History WHERE 1;";
/// assert_eq!(
///     litemigrate_core::safety::writes_tables(sql, &["schema_history"]),
///     Some((2, "schema_history".to_string()))
/// );
/// assert_eq!(litemigrate_core::safety::writes_tables("SELECT * FROM schema_history;", &["schema_history"]), None);
/// ```
pub fn writes_tables(sql: &str, tables: &[&str]) -> Option<(usize, String)> {
    split::statements_with_tokens(sql)
        .into_iter()
        .find_map(|(st, toks)| writes_table(&toks, tables).map(|t| (st.line, t)))
}

fn writes_table(toks: &[Token<'_>], tables: &[&str]) -> Option<String> {
    let writes = match toks.first().and_then(Token::keyword) {
        Some(
            Keyword::Insert | Keyword::Replace | Keyword::Update | Keyword::Delete | Keyword::Drop | Keyword::Alter,
        ) => true,
        // WITH … INSERT/UPDATE/DELETE
        Some(Keyword::With) => toks.iter().any(|t| {
            matches!(
                t.keyword(),
                Some(Keyword::Insert | Keyword::Replace | Keyword::Update | Keyword::Delete)
            )
        }),
        Some(Keyword::Create) => !toks[1..].iter().take(2).any(|t| t.is_keyword(Keyword::View)),
        _ => false,
    };
    if !writes {
        return None;
    }
    toks.iter().filter_map(Token::ident).find_map(|name| {
        tables
            .iter()
            .find(|t| t.eq_ignore_ascii_case(&name))
            .map(|t| (*t).to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(sql: &str) -> Option<(usize, Refusal)> {
        check(sql, true).err().map(|r| (r.line, r.refusal))
    }

    #[test]
    fn transaction_control_is_refused_in_a_transactional_file() {
        for (sql, stmt) in [
            ("CREATE TABLE a(x);\nROLLBACK;\nBEGIN;", "ROLLBACK"),
            ("COMMIT; BEGIN;", "COMMIT"),
            ("end transaction;", "END"),
            ("BEGIN IMMEDIATE;", "BEGIN"),
            ("rollback transaction;", "ROLLBACK"),
        ] {
            let (_, r) = refusal(sql).unwrap_or_else(|| panic!("{sql}"));
            assert_eq!(r, Refusal::TransactionControl { statement: stmt.into() }, "{sql}");
        }
        assert_eq!(refusal("CREATE TABLE a(x);\n\n  ROLLBACK;").map(|r| r.0), Some(3));
        // Trigger bodies, CASE … END, strings, names and comments are not transaction control.
        for sql in [
            "CREATE TRIGGER t AFTER INSERT ON a BEGIN SELECT CASE WHEN 1 THEN 2 END; END;",
            "INSERT INTO t VALUES ('COMMIT;'); -- ROLLBACK;\n/* BEGIN; */",
            "CREATE TABLE \"begin\"(\"commit\" TEXT); SELECT \"end\" FROM \"begin\";",
        ] {
            assert_eq!(refusal(sql), None, "{sql}");
        }
        // A no-transaction file manages its own.
        assert!(check("BEGIN; CREATE TABLE a(x); COMMIT;", false).is_ok());
    }

    #[test]
    fn savepoints_must_balance() {
        assert_eq!(refusal("SAVEPOINT a; CREATE TABLE t(x); RELEASE a;"), None);
        assert_eq!(
            refusal("SAVEPOINT a; SAVEPOINT b; ROLLBACK TO b; RELEASE SAVEPOINT a;"),
            None
        );
        assert!(matches!(
            refusal("SAVEPOINT a;\nCREATE TABLE t(x);"),
            Some((1, Refusal::UnbalancedSavepoint { .. }))
        ));
        assert!(matches!(
            refusal("CREATE TABLE t(x);\nRELEASE outer_one;"),
            Some((2, Refusal::UnbalancedSavepoint { .. }))
        ));
        assert!(matches!(
            refusal("ROLLBACK TO SAVEPOINT nowhere;"),
            Some((1, Refusal::UnbalancedSavepoint { .. }))
        ));
        assert_eq!(refusal("SAVEPOINT \"A b\"; RELEASE \"a B\";"), None);
    }

    #[test]
    fn statements_that_need_no_transaction() {
        for (sql, stmt) in [
            ("PRAGMA journal_mode=WAL;", "PRAGMA journal_mode"),
            ("PRAGMA main.journal_mode = 'wal';", "PRAGMA journal_mode"),
            ("pragma foreign_keys = off;", "PRAGMA foreign_keys"),
            ("PRAGMA synchronous(1);", "PRAGMA synchronous"),
            ("PRAGMA page_size = 8192;", "PRAGMA page_size"),
            ("PRAGMA auto_vacuum = FULL;", "PRAGMA auto_vacuum"),
            ("PRAGMA locking_mode = EXCLUSIVE;", "PRAGMA locking_mode"),
            ("VACUUM;", "VACUUM"),
        ] {
            match refusal(sql) {
                Some((1, Refusal::NeedsNoTransaction { statement, instead })) => {
                    assert_eq!(statement, stmt);
                    let want = if stmt.contains("foreign_keys") {
                        "-- migrate:foreign-keys=off"
                    } else {
                        "-- migrate:no-transaction"
                    };
                    assert!(instead.contains(want), "{instead}");
                }
                other => panic!("{sql}: {other:?}"),
            }
        }
        // Reading a pragma, and pragmas that work in a transaction, are fine.
        for sql in [
            "PRAGMA journal_mode;",
            "PRAGMA user_version = 5;",
            "PRAGMA foreign_key_check;",
        ] {
            assert_eq!(refusal(sql), None, "{sql}");
        }
        assert!(check("PRAGMA journal_mode=WAL;", false).is_ok());
    }

    #[test]
    fn the_runner_tables_are_not_for_migrations() {
        for sql in [
            "DELETE FROM _migrations;",
            "UPDATE \"_MIGRATIONS\" SET name = 'x';",
            "INSERT INTO main._migrations_failures VALUES (1);",
            "DROP TABLE _migrations;",
            "CREATE TRIGGER t AFTER INSERT ON _migrations BEGIN SELECT 1; END;",
            "WITH x AS (SELECT 1) DELETE FROM _migrations;",
        ] {
            assert!(matches!(refusal(sql), Some((1, Refusal::RunnerTable { .. }))), "{sql}");
            assert!(check(sql, false).is_err(), "{sql} in a no-transaction file");
        }
        for sql in [
            "CREATE VIEW applied AS SELECT * FROM _migrations;",
            "SELECT * FROM _migrations;",
            "CREATE TABLE _migrations_archive(x);",
            "INSERT INTO t VALUES ('_migrations');",
        ] {
            assert_eq!(refusal(sql), None, "{sql}");
        }
    }

    #[test]
    fn nul_positions() {
        assert_eq!(nul_position("CREATE TABLE n1(x);\0CREATE TABLE n2(x);"), Some((1, 20)));
        assert_eq!(nul_position("é\n\0"), Some((2, 1)));
        assert_eq!(nul_position("é\0"), Some((1, 2)));
    }
}
