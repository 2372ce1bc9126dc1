//! Build-time lints: warnings about migrations that run fine in validation but hurt a real database or an app
//! still running an older version (data loss, lost indexes, changed rowids, SQL an older SQLite rejects). Each
//! rule has a stable id; a file silences one with `-- migrate:allow <id>`, a set with `allow = [...]` in
//! `embed_migrations!`, and `deny = [...]` turns one into a build error.
//!
//! Rules read SQL through the lexer ([`crate::lex`], [`crate::split`]) and compare facts read from the validation
//! database before and after each migration; one file per rule family.

/// One rule: its id and what the docs and messages say about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// The stable id (`-- migrate:allow <id>`).
    pub id: &'static str,
    /// What it finds, in a few words.
    pub summary: &'static str,
}

/// Every rule, in the order the docs list them.
pub const RULES: &[Rule] = &[
    Rule {
        id: "drop-table",
        summary: "a table that held data is dropped",
    },
    Rule {
        id: "drop-column",
        summary: "a column is dropped (ALTER TABLE … DROP COLUMN or a rebuild without it)",
    },
    Rule {
        id: "rebuild-lost-object",
        summary: "a table rebuild does not recreate an index, trigger or view the old table had",
    },
    Rule {
        id: "column-type-change",
        summary: "a rebuild changes a column's declared type",
    },
    Rule {
        id: "rename-table",
        summary: "a table is renamed (older app versions, views and triggers use the old name)",
    },
    Rule {
        id: "rename-column",
        summary: "a column is renamed (older app versions, views and triggers use the old name)",
    },
    Rule {
        id: "autoincrement-change",
        summary: "a rebuild adds or drops AUTOINCREMENT",
    },
    Rule {
        id: "int-primary-key",
        summary: "`INT PRIMARY KEY` is not a rowid alias (`INTEGER PRIMARY KEY` is)",
    },
    Rule {
        id: "fts5-sync-triggers",
        summary: "an external-content FTS5 table without the triggers that keep it in sync",
    },
    Rule {
        id: "fts5-content-rowid",
        summary: "an FTS5 table's content_rowid is not its content table's INTEGER PRIMARY KEY",
    },
    Rule {
        id: "nondeterministic-rerun",
        summary: "random()/current time in a migration that may run more than once",
    },
    Rule {
        id: "rerun-not-idempotent",
        summary: "CREATE without IF NOT EXISTS in a migration that may run more than once",
    },
    Rule {
        id: "add-column-not-null",
        summary: "ADD COLUMN … NOT NULL without a DEFAULT on an existing table",
    },
    Rule {
        id: "min-sqlite",
        summary: "SQL that needs a newer SQLite than `min_sqlite` declares",
    },
];

#[cfg(feature = "sqlite")]
mod destructive;
#[cfg(feature = "sqlite")]
mod facts;
#[cfg(feature = "sqlite")]
mod fts;
#[cfg(feature = "sqlite")]
mod rebuild;
#[cfg(feature = "sqlite")]
mod rename;
#[cfg(feature = "sqlite")]
mod rerun;
#[cfg(all(test, feature = "sqlite"))]
mod tests;
mod version;

#[cfg(feature = "sqlite")]
pub(crate) use facts::Before;
pub use version::{SqliteVersion, feature_versions};

/// A finding: which rule, where, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The rule's id.
    pub id: &'static str,
    /// The migration file.
    pub file: String,
    /// The statement's line (1-based).
    pub line: usize,
    /// What was found, why it matters and how to fix it.
    pub message: String,
    /// `deny = [...]` names the rule: the build fails.
    pub denied: bool,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}: [{}] {} (silence with `-- migrate:allow {}` in the file or `allow = [\"{}\"]` in embed_migrations!)",
            self.file, self.line, self.id, self.message, self.id, self.id
        )
    }
}

/// How lints run for a set (`embed_migrations!(…, allow = [...], deny = [...], min_sqlite = "3.35")`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LintOptions {
    /// Rule ids silenced for every file.
    pub allow: Vec<String>,
    /// Rule ids that fail the build.
    pub deny: Vec<String>,
    /// The oldest SQLite the application runs on; `None`: no `min-sqlite` check.
    pub min_sqlite: Option<SqliteVersion>,
}

impl LintOptions {
    /// The ids `allow`/`deny` name that are not rules, for an error.
    pub fn unknown_ids(&self) -> Vec<&str> {
        self.allow
            .iter()
            .chain(&self.deny)
            .map(String::as_str)
            .filter(|id| !RULES.iter().any(|r| r.id == *id))
            .collect()
    }

    /// Drops findings allowed by the set or their file and marks the denied ones.
    pub fn apply(&self, allowed_in_file: impl Fn(&str) -> bool, findings: Vec<Finding>) -> Vec<Finding> {
        findings
            .into_iter()
            .filter(|f| !allowed_in_file(f.id) && !self.allow.iter().any(|a| a == f.id))
            .map(|mut f| {
                f.denied = self.deny.iter().any(|d| d == f.id);
                f
            })
            .collect()
    }
}

/// Lints one migration's up: `chunks` its expanded SQL, `before` the facts read before it ran, `conn` the validation
/// database after it.
#[cfg(feature = "sqlite")]
pub(crate) fn check_migration<'a>(
    m: &'a crate::load::MigrationSource,
    statements: Vec<Statement<'a>>,
    before: &'a Before,
    conn: &'a rusqlite::Connection,
    opts: &LintOptions,
) -> Vec<Finding> {
    let ctx = Context {
        file: &m.up.path,
        statements,
        before,
        conn,
        source: m,
    };
    let mut out = Vec::new();
    destructive::check(&ctx, &mut out);
    rebuild::check(&ctx, &mut out);
    rename::check(&ctx, &mut out);
    fts::check(&ctx, &mut out);
    if m.up.directives.no_transaction() {
        rerun::check(&ctx, &mut out);
    }
    if let Some(min) = opts.min_sqlite {
        version::check(&ctx, min, &mut out);
    }
    opts.apply(|id| m.up.directives.allows(id), out)
}

/// A migration's expanded SQL as the lints read it: every statement with its file line and tokens (lexed once for
/// [`Before::capture`] and [`check_migration`]).
#[cfg(feature = "sqlite")]
pub(crate) fn statements(chunks: &[crate::expand::Chunk]) -> Vec<Statement<'_>> {
    let mut statements = Vec::new();
    for chunk in chunks {
        for (st, toks) in crate::split::statements_with_tokens(&chunk.sql) {
            let line = if chunk.generated {
                chunk.line
            } else {
                chunk.line + st.line - 1
            };
            statements.push(Statement {
                line,
                sql: st.sql,
                toks,
                generated: chunk.generated,
            });
        }
    }
    statements
}

/// One statement of a migration as rules see it.
#[cfg(feature = "sqlite")]
pub(crate) struct Statement<'a> {
    /// Its line in the file (for generated SQL: the directive's).
    line: usize,
    sql: &'a str,
    /// Its significant tokens.
    toks: Vec<crate::lex::Token<'a>>,
    /// A directive generated it.
    generated: bool,
}

/// What a rule sees of one migration.
#[cfg(feature = "sqlite")]
pub(crate) struct Context<'a> {
    file: &'a str,
    statements: Vec<Statement<'a>>,
    before: &'a Before,
    conn: &'a rusqlite::Connection,
    source: &'a crate::load::MigrationSource,
}

#[cfg(feature = "sqlite")]
impl Context<'_> {
    fn finding(&self, id: &'static str, line: usize, message: String) -> Finding {
        Finding {
            id,
            file: self.file.to_owned(),
            line,
            message,
            denied: false,
        }
    }

    /// The tables a `DROP TABLE` of this migration names (lower-cased), with the statement's line.
    fn dropped_tables(&self) -> Vec<(String, usize)> {
        self.statements
            .iter()
            .filter_map(|s| facts::drop_table_name(&s.toks).map(|n| (n.to_ascii_lowercase(), s.line)))
            .collect()
    }
}

/// Ids `-- migrate:allow` accepts: every rule's, and `rows` (see `compile::rows`).
pub fn allow_ids() -> Vec<&'static str> {
    let mut ids: Vec<&'static str> = RULES.iter().map(|r| r.id).collect();
    ids.push("rows");
    ids
}
