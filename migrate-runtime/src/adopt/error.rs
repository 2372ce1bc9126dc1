//! What `adopt` refuses, and the launch's refusal to run from version 1 over another tool's history.

use super::peers::Tool;
use crate::error::ErrorKind;

/// Why a database could not be adopted (or, [`AdoptError::ForeignHistory`], why a launch refused to migrate it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AdoptError {
    /// A launch found another tool's history and none of this library's: applying from version 1 would re-run
    /// migrations that tool already applied.
    #[error(
        "this database was migrated by {tool} (table `{table}`) and has no litemigrate history: applying from \
         version 1 would re-run what {tool} applied. Run `migrate adopt` (or `Migrator::adopt`) once to take over \
         its history{hint}"
    )]
    ForeignHistory {
        /// The tool.
        tool: Tool,
        /// Its history table.
        table: String,
        /// A note for tables whose name other software may use too.
        hint: String,
    },
    /// No other tool's history table was found (rusqlite_migration keeps none: name it with `--from`).
    #[error(
        "no other migration tool's history found (rusqlite_migration keeps none: name it, `--from rusqlite_migration`)"
    )]
    NoPeerHistory,
    /// The named tool's history table is not there.
    #[error("no {tool} history in this database (expected table `{table}`)")]
    NotThere {
        /// The tool.
        tool: Tool,
        /// The table looked for.
        table: String,
    },
    /// Several tools' history tables exist.
    #[error("history tables of several tools ({}); name one with `--from`", tools.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(", "))]
    Ambiguous {
        /// The tools found.
        tools: Vec<Tool>,
    },
    /// `--from` names no known tool.
    #[error(
        "unknown tool `{name}`; expected one of sqlx, diesel, refinery, flyway, dbmate, golang-migrate, goose, rusqlite_migration"
    )]
    UnknownTool {
        /// What was given.
        name: String,
    },
    /// A stored version that is not a number this library can keep.
    #[error("{tool} recorded version `{version}`, which is not a migration version")]
    BadVersion {
        /// The tool.
        tool: Tool,
        /// The version as stored.
        version: String,
    },
    /// The tool recorded a migration that is not in the embedded set.
    #[error("{tool} applied version {version}, which is not among the embedded migrations")]
    Unknown {
        /// The tool.
        tool: Tool,
        /// The version as stored.
        version: String,
    },
    /// The tool recorded a migration as failed (or dirty).
    #[error("{tool} recorded version {version} as failed (or dirty); repair it with {tool} first")]
    Failed {
        /// The tool.
        tool: Tool,
        /// The version as stored.
        version: String,
    },
    /// An embedded migration older than the newest applied one that the tool never applied.
    #[error("{file} (version {version}) is older than what {tool} applied but {tool} never applied it")]
    Gap {
        /// The tool.
        tool: Tool,
        /// The version.
        version: u64,
        /// Its file.
        file: String,
    },
    /// Files whose content differs from what the tool applied (by its checksum).
    #[error("{tool}'s checksum differs for {}: these files were edited after {tool} applied them", files.join(", "))]
    Edited {
        /// The tool.
        tool: Tool,
        /// The edited files.
        files: Vec<String>,
    },
}

impl AdoptError {
    /// Its [`ErrorKind`].
    pub fn kind(&self) -> ErrorKind {
        match self {
            AdoptError::ForeignHistory { .. } => ErrorKind::ForeignHistory,
            _ => ErrorKind::Adopt,
        }
    }
}
