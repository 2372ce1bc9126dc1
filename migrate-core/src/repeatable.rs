//! Repeatable migrations: `R__<name>.sql` files holding objects that are recreated whole (views, triggers,
//! reference-data upserts). They have no version; the runtime applies them after the versioned migrations of a
//! run, in name order, whenever their checksum differs from the one last applied.
//!
//! The loader's [`crate::load::load_files`] skips them; [`load_repeatables`] reads them with the same file rules
//! (UTF-8, no NUL, the safety rules, not empty), and [`check`] (feature `sqlite`) proves at build time that each
//! runs against the final schema and is re-runnable: applied twice, it leaves the same schema.

use crate::checksum::{self, Checksum};
use crate::load::{Entry, LoadError, SourceFile};
use crate::{safety, split};

/// The prefix of a repeatable migration's file name (Flyway's form).
pub const PREFIX: &str = "R__";

/// Whether a file name is a repeatable migration's (`R__<name>.sql`); the name itself is checked by
/// [`load_repeatables`].
///
/// ```
/// assert!(litemigrate_core::repeatable::is_repeatable("R__views.sql"));
/// assert!(!litemigrate_core::repeatable::is_repeatable("0001_views.sql"));
/// ```
pub fn is_repeatable(file_name: &str) -> bool {
    file_name.starts_with(PREFIX) && file_name.ends_with(".sql")
}

/// One repeatable migration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repeatable {
    /// The name after `R__` (`views` for `R__views.sql`).
    pub name: String,
    /// The file as errors name it.
    pub path: String,
    /// The normalized SQL.
    pub sql: String,
    /// SHA-256 of the normalized file.
    pub checksum: Checksum,
}

/// The repeatable migrations among `files`, in name order, with the rules every migration file follows.
///
/// ```
/// use litemigrate_core::load::SourceFile;
/// use litemigrate_core::repeatable::load_repeatables;
/// let files = vec![
///     SourceFile::in_memory("m", "R__views.sql", "DROP VIEW IF EXISTS v;\nCREATE VIEW v AS SELECT 1;\n"),
///     SourceFile::in_memory("m", "0001_a.sql", "CREATE TABLE a(x);"),
/// ];
/// let r = load_repeatables(&files).unwrap();
/// assert_eq!(r.len(), 1);
/// assert_eq!(r[0].name, "views");
/// assert!(load_repeatables(&[SourceFile::in_memory("m", "R__Bad-Name.sql", "SELECT 1;")]).is_err());
/// ```
pub fn load_repeatables(files: &[SourceFile]) -> Result<Vec<Repeatable>, LoadError> {
    let mut out = Vec::new();
    for f in files.iter().filter(|f| is_repeatable(&f.file_name)) {
        let name = &f.file_name[PREFIX.len()..f.file_name.len() - ".sql".len()];
        let bad = |reason: &str| LoadError::Repeatable {
            file: f.display.clone(),
            reason: reason.to_owned(),
        };
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(bad(
                "a repeatable migration is named `R__<name>.sql` with a name of lowercase ASCII letters, digits and `_`",
            ));
        }
        let Entry::File(bytes) = &f.contents else {
            return Err(LoadError::Subdirectory {
                file: f.display.clone(),
            });
        };
        let text = std::str::from_utf8(bytes).map_err(|e| {
            let offset = e.valid_up_to();
            LoadError::NotUtf8 {
                file: f.display.clone(),
                offset,
                line: 1 + bytes[..offset].iter().filter(|b| **b == b'\n').count(),
            }
        })?;
        if let Some((line, column)) = safety::nul_position(text) {
            return Err(LoadError::NulByte {
                file: f.display.clone(),
                line,
                column,
            });
        }
        let sql = checksum::normalize(text).into_owned();
        let directives = crate::directive::parse(&sql).map_err(|error| LoadError::Directive {
            file: f.display.clone(),
            error,
        })?;
        if !directives.is_empty() {
            return Err(bad(
                "`-- migrate:` directives are for versioned migrations; a repeatable migration runs as written",
            ));
        }
        if !split::has_statements(&sql) {
            return Err(LoadError::EmptyUp {
                file: f.display.clone(),
            });
        }
        safety::check(&sql, true).map_err(|r| LoadError::Refused {
            file: f.display.clone(),
            line: r.line,
            refusal: r.refusal,
        })?;
        out.push(Repeatable {
            name: name.to_owned(),
            path: f.display.clone(),
            checksum: checksum::checksum(&sql),
            sql,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// What the launch stamp covers for a set's repeatables: their names and checksums, in name order. `None` when
/// there are none, so a set without repeatables keeps the stamp it always had.
pub fn digest(repeatables: &[(&str, Checksum)]) -> Option<Checksum> {
    if repeatables.is_empty() {
        return None;
    }
    let mut bytes = Vec::new();
    for (name, sum) in repeatables {
        bytes.extend_from_slice(&(name.len() as u64).to_be_bytes());
        bytes.extend_from_slice(name.as_bytes());
        bytes.extend_from_slice(sum.as_bytes());
    }
    Some(checksum::sha256(&bytes))
}

/// The chain value the launch stamp is computed from: the newest migration's chain, combined with the repeatables'
/// [`digest`] when the set has any.
pub fn stamp_chain(chain: &Checksum, digest: Option<&Checksum>) -> Checksum {
    match digest {
        None => *chain,
        Some(d) => {
            let mut bytes = [0u8; 64];
            bytes[..32].copy_from_slice(chain.as_bytes());
            bytes[32..].copy_from_slice(d.as_bytes());
            checksum::sha256(&bytes)
        }
    }
}

#[cfg(feature = "sqlite")]
pub use check::{RepeatableError, check};

#[cfg(feature = "sqlite")]
mod check {
    use super::Repeatable;
    use crate::compile::Compiled;
    use crate::lex::{self, Keyword};
    use crate::replay::{self, ReplayStep};
    use crate::schema::Schema;

    /// A repeatable migration that fails against the final schema or is not re-runnable.
    #[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
    #[error("{file}:{line}: {message}")]
    pub struct RepeatableError {
        /// The file.
        pub file: String,
        /// The statement's line.
        pub line: usize,
        /// What is wrong (SQLite's message, and for a second run that fails, what to add).
        pub message: String,
    }

    /// Runs every repeatable, in name order, against the schema after the newest migration, then runs each again:
    /// the second run must succeed and leave the schema the first run left.
    pub fn check(compiled: &Compiled, repeatables: &[Repeatable]) -> Result<(), RepeatableError> {
        if repeatables.is_empty() || compiled.final_schema.is_none() {
            return Ok(());
        }
        let db_err = |file: &str, message: String| RepeatableError {
            file: file.to_owned(),
            line: 1,
            message,
        };
        let first = &repeatables[0].path;
        let conn = replay::database_after(
            compiled
                .migrations
                .iter()
                .filter(|m| !m.source.code)
                .map(|m| ReplayStep {
                    file: &m.source.up.path,
                    up_sql: Some(&m.up_sql),
                    no_transaction: m.source.up.directives.no_transaction(),
                    foreign_keys_off: m.source.up.directives.foreign_keys_off(),
                }),
        )
        .map_err(|e| db_err(first, e.to_string()))?;
        for r in repeatables {
            run(&conn, r, false)?;
        }
        for r in repeatables {
            let before = Schema::read(&conn).map_err(|e| db_err(&r.path, e.to_string()))?;
            run(&conn, r, true)?;
            let after = Schema::read(&conn).map_err(|e| db_err(&r.path, e.to_string()))?;
            if before.hash() != after.hash() {
                let diff = after.diff(&before);
                return Err(db_err(
                    &r.path,
                    format!(
                        "not re-runnable: running it a second time changes the schema:\n{diff}\na repeatable \
                         migration is applied again whenever it changes, and must leave the same schema each time"
                    ),
                ));
            }
        }
        Ok(())
    }

    fn run(conn: &rusqlite::Connection, r: &Repeatable, again: bool) -> Result<(), RepeatableError> {
        for stmt in crate::split::statements(&r.sql) {
            if let Err(e) = conn.execute_batch(stmt.sql) {
                let e = crate::compile::sqlite_message(&e, stmt.sql);
                let message = match (again, recreate_hint(stmt.sql)) {
                    (true, Some(hint)) => format!(
                        "not re-runnable: running the file a second time fails ({e}); {hint}, so it can be applied \
                         again when it changes"
                    ),
                    (true, None) => format!("not re-runnable: running the file a second time fails: {e}"),
                    (false, _) => format!("{e} (run against the schema after the newest migration)"),
                };
                return Err(RepeatableError {
                    file: r.path.clone(),
                    line: stmt.line,
                    message,
                });
            }
        }
        Ok(())
    }

    /// For a `CREATE VIEW|TRIGGER|INDEX|TABLE <name>` statement: "put `DROP <KIND> IF EXISTS <name>;` before it".
    fn recreate_hint(sql: &str) -> Option<String> {
        let words: Vec<_> = lex::significant(sql).collect();
        let mut it = words.iter();
        if !it.next()?.is_keyword(Keyword::Create) {
            return None;
        }
        let mut kind = it.next()?;
        if matches!(
            kind.keyword(),
            Some(Keyword::Temp | Keyword::Temporary | Keyword::Unique)
        ) {
            kind = it.next()?;
        }
        let kind = match kind.keyword()? {
            Keyword::View => "VIEW",
            Keyword::Trigger => "TRIGGER",
            Keyword::Index => "INDEX",
            Keyword::Table => "TABLE",
            _ => return None,
        };
        let name = it.next()?.text;
        Some(format!(
            "put `DROP {kind} IF EXISTS {name};` before this `CREATE {kind}`"
        ))
    }
}
