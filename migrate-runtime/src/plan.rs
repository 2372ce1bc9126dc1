//! What a run will do: the steps, in order, with how each is wrapped in transactions.

use crate::error::{At, Error};
use crate::history::{HistoryTable, Row};
use crate::migrator::{Policy, Target};
use crate::status::{Classified, State};
use crate::table::{Down, Migration, Migrations};
use rusqlite::Connection;
use std::fmt;

/// Up (apply) or down (roll back): the one enum of the build and the runtime, re-exported here so
/// `litemigrate_runtime::Direction` and `litemigrate_runtime::plan::Direction` keep working.
pub use litemigrate_core::direction::Direction;

/// How a step is wrapped in a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum TxMode {
    /// In one transaction with the other steps of its unit (batch mode).
    Batch,
    /// In a transaction of its own (per-migration mode).
    Own,
    /// Outside any transaction (`-- migrate:no-transaction`), under the migration lock file; its history row is
    /// written right after, in a small transaction of its own.
    None,
}

impl fmt::Display for TxMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TxMode::Batch => "batch",
            TxMode::Own => "own transaction",
            TxMode::None => "no transaction",
        })
    }
}

/// One step of a [`Plan`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Step {
    /// Up or down.
    pub direction: Direction,
    /// The migration's version.
    pub version: u64,
    /// Its name.
    pub name: String,
    /// The file that runs: the up file, the down file, or the Rust function; `<history>` for a down script read
    /// from the history table.
    pub file: String,
    /// How the step is wrapped.
    pub transaction: TxMode,
    /// Which unit (transaction, or lone no-transaction step) it belongs to, from 1.
    pub unit: usize,
    /// `-- migrate:foreign-keys=off`: the unit runs with foreign keys off and is checked before commit.
    pub foreign_keys_off: bool,
    /// A Rust-code migration.
    pub code: bool,
    /// The SQL that runs (dry runs only; `None` for Rust code and in the report of a real run).
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub sql: Option<String>,
}

/// The steps of a run, in order. A dry run returns it without changing anything.
///
/// ```no_run
/// # static MIGRATIONS: litemigrate_runtime::Migrations = litemigrate_runtime::Migrations::empty();
/// let mut conn = rusqlite::Connection::open("app.db").unwrap();
/// let report = MIGRATIONS.migrator().dry_run(true).run(&mut conn).unwrap();
/// for step in &report.plan.steps {
///     println!("{} {} {}: {:?}", step.direction, step.version, step.name, step.sql);
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Plan {
    /// The steps, in the order they run.
    pub steps: Vec<Step>,
}

impl Plan {
    /// Whether there is nothing to do.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// The number of units (transactions and lone no-transaction steps).
    pub fn units(&self) -> usize {
        self.steps.last().map_or(0, |s| s.unit)
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.steps.is_empty() {
            return writeln!(f, "  nothing to do");
        }
        for s in &self.steps {
            let fk = if s.foreign_keys_off { ", foreign keys off" } else { "" };
            writeln!(
                f,
                "  [{}] {:<4} {} {} ({}; {}{})",
                s.unit, s.direction, s.version, s.name, s.file, s.transaction, fk
            )?;
            if let Some(sql) = &s.sql {
                for line in sql.lines() {
                    writeln!(f, "         | {line}")?;
                }
            }
        }
        Ok(())
    }
}

/// One step, as the executor sees it.
pub(crate) enum Action<'a> {
    Up(Migration<'a>),
    Down(Migration<'a>),
    /// A migration this binary does not embed, rolled back with the down SQL recorded in history.
    DownUnknown {
        at: At,
        sql: String,
    },
}

impl Action<'_> {
    pub fn no_transaction(&self) -> bool {
        match self {
            Action::Up(m) | Action::Down(m) => m.no_transaction(),
            Action::DownUnknown { .. } => false,
        }
    }

    pub fn foreign_keys_off(&self) -> bool {
        match self {
            Action::Up(m) | Action::Down(m) => m.foreign_keys_off(),
            Action::DownUnknown { .. } => false,
        }
    }

    pub fn direction(&self) -> Direction {
        match self {
            Action::Up(_) => Direction::Up,
            _ => Direction::Down,
        }
    }

    pub fn at(&self) -> At {
        match self {
            Action::Up(m) | Action::Down(m) => At::of(m),
            Action::DownUnknown { at, .. } => at.clone(),
        }
    }

    /// The file that runs.
    fn file(&self) -> String {
        match self {
            Action::Up(m) => m.up_file().to_owned(),
            Action::Down(m) => m.down_file().unwrap_or_else(|| m.up_file().to_owned()),
            Action::DownUnknown { .. } => "<history>".to_owned(),
        }
    }

    fn code(&self) -> bool {
        match self {
            Action::Up(m) => m.is_code(),
            Action::Down(m) => matches!(m.down(), Some(Down::Code(_))),
            Action::DownUnknown { .. } => false,
        }
    }

    fn sql(&self) -> Option<String> {
        match self {
            Action::Up(m) => m.up_sql().map(str::to_owned),
            Action::Down(m) => m.down_sql().map(str::to_owned),
            Action::DownUnknown { sql, .. } => Some(sql.clone()),
        }
    }
}

/// Refuses, before anything runs, a planned SQL script that writes the configured history table or its failures
/// table. The loader refuses writes to the default names (`_migrations`, `_migrations_failures`) in every file; a
/// migrator configured with another name checks that name here, through the same lexer-based rule.
pub(crate) fn refuse_history_writes(actions: &[Action<'_>], table: &HistoryTable) -> Result<(), Error> {
    if table.name == crate::history::DEFAULT_TABLE {
        return Ok(());
    }
    let failures = crate::history::failures_name(&table.name);
    let names: [&str; 2] = [&table.name, &failures];
    for a in actions {
        let (sql, file) = match a {
            Action::Up(m) => match m.up() {
                crate::table::Up::Sql(sql) => (sql, m.up_file().to_owned()),
                crate::table::Up::Code(_) => continue,
            },
            Action::Down(m) => match m.down_sql() {
                Some(sql) => (sql, m.down_file().unwrap_or_else(|| m.up_file().to_owned())),
                None => continue,
            },
            Action::DownUnknown { at, sql } => (sql.as_str(), at.file.clone()),
        };
        if let Some((line, table)) = litemigrate_core::safety::writes_tables(sql, &names) {
            let mut at = a.at();
            at.file = file;
            return Err(Error::WritesHistoryTable { at, line, table });
        }
    }
    Ok(())
}

/// Where the unit starting at `pos` ends (exclusive).
pub(crate) fn unit_end(actions: &[Action], pos: usize, per_migration: bool) -> usize {
    if per_migration || actions[pos].no_transaction() {
        return pos + 1;
    }
    let mut end = pos + 1;
    while end < actions.len() && !actions[end].no_transaction() {
        end += 1;
    }
    end
}

pub(crate) fn public_plan(actions: &[Action], per_migration: bool, with_sql: bool) -> Plan {
    let mut steps = Vec::with_capacity(actions.len());
    let mut pos = 0;
    let mut unit = 0;
    while pos < actions.len() {
        let end = unit_end(actions, pos, per_migration);
        unit += 1;
        for a in &actions[pos..end] {
            let at = a.at();
            let transaction = if a.no_transaction() {
                TxMode::None
            } else if per_migration {
                TxMode::Own
            } else {
                TxMode::Batch
            };
            steps.push(Step {
                direction: a.direction(),
                version: at.version,
                name: at.name,
                file: a.file(),
                transaction,
                unit,
                foreign_keys_off: a.foreign_keys_off(),
                code: a.code(),
                sql: if with_sql { a.sql() } else { None },
            });
        }
        pos = end;
    }
    Plan { steps }
}

/// The planning rules of one run: what the caller asked for and allows.
pub(crate) struct Planner<'a> {
    pub migrations: &'a Migrations,
    pub policy: Policy,
    /// The target as requested (`Latest` or an explicit version), which the policy checks look at.
    pub target: Target,
}

impl<'a> Planner<'a> {
    /// The policy checks, then the steps to reach `target`.
    pub fn decide(
        &self,
        conn: &Connection,
        table: &HistoryTable,
        c: &Classified<'a>,
        target: u64,
    ) -> Result<Vec<Action<'a>>, Error> {
        self.check_policy(c, true)?;
        let set = self.migrations.set_name();
        let rollback = c.current > target;
        if !rollback {
            return Ok(c
                .embedded
                .iter()
                .filter(|(m, row, _)| row.is_none() && m.version <= target)
                .map(|(m, _, _)| Action::Up(*m))
                .collect());
        }
        // Checked in the order the rollback would run them, newest first, so an irreversible migration is reported
        // as the first one the rollback would hit, not the oldest one below the target.
        enum Rolled<'r, 'a> {
            Known(&'r Migration<'a>),
            Unknown(&'r Row),
        }
        let mut rolled: Vec<(u64, Rolled<'_, 'a>)> = c
            .embedded
            .iter()
            .filter(|(m, row, _)| row.is_some() && m.version > target)
            .map(|(m, _, _)| (m.version, Rolled::Known(m)))
            .chain(
                c.unknown
                    .iter()
                    .filter(|(r, _)| r.version > target)
                    .map(|(r, _)| (r.version, Rolled::Unknown(r))),
            )
            .collect();
        rolled.sort_by_key(|(v, _)| std::cmp::Reverse(*v));
        let mut downs: Vec<Action<'a>> = Vec::with_capacity(rolled.len());
        for (_, step) in rolled {
            match step {
                Rolled::Known(m) if !m.is_reversible() => {
                    return Err(Error::Irreversible {
                        at: At::of(m),
                        unknown: false,
                    });
                }
                Rolled::Known(m) => downs.push(Action::Down(*m)),
                Rolled::Unknown(r) => {
                    let sql = if self.policy.allow_unknown_rollback {
                        table.down_sql(conn, set, r.version)?
                    } else {
                        None
                    };
                    match sql {
                        Some(sql) => downs.push(Action::DownUnknown { at: r.at(), sql }),
                        None => {
                            return Err(Error::Irreversible {
                                at: r.at(),
                                unknown: true,
                            });
                        }
                    }
                }
            }
        }
        Ok(downs)
    }

    /// Divergent, missing, ahead and out-of-order are errors unless the policy allows them. `for_run` relaxes
    /// "ahead" when the caller asked to roll unknown migrations back to an explicit version.
    pub fn check_policy(&self, c: &Classified<'_>, for_run: bool) -> Result<(), Error> {
        // Before the other checks: the rows below a squash would read as "missing", but the way forward is an
        // older release, not --allow-missing.
        if let Some((squash, None, _)) = c.embedded.first()
            && squash.is_squash()
            && c.current > 0
            && c.current < squash.version
        {
            return Err(Error::SquashedBelow {
                at: At::of(squash),
                newest_applied: c.current,
            });
        }
        for (m, row, state) in &c.embedded {
            if *state == State::Divergent {
                // invariant: a divergent entry always has its history row.
                let applied = row.as_ref().map(|r| r.checksum).unwrap_or_default();
                return Err(Error::Divergent {
                    at: At::of(m),
                    applied,
                    embedded: m.checksum(),
                });
            }
        }
        let rolling_back_unknown =
            for_run && self.policy.allow_unknown_rollback && matches!(self.target, Target::Version(_));
        if let Some((r, _)) = c.unknown.iter().rev().find(|(_, s)| *s == State::Ahead)
            && !rolling_back_unknown
        {
            return Err(Error::DatabaseAhead {
                at: r.at(),
                latest: self.migrations.latest_version(),
            });
        }
        if let Some((r, _)) = c.unknown.iter().find(|(_, s)| *s == State::Missing)
            && !self.policy.allow_missing
        {
            return Err(Error::Missing { at: r.at() });
        }
        if let Some((m, _, _)) = c.embedded.iter().find(|(_, _, s)| *s == State::OutOfOrder)
            && !self.policy.allow_out_of_order
        {
            return Err(Error::OutOfOrder {
                at: At::of(m),
                newest_applied: c.current,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "serde")]
    #[test]
    fn direction_serializes_as_before_the_merge() {
        // The runtime's own enum derived `Serialize` (lowercase); the shared one keeps that, so JSON reports and
        // applications serializing `litemigrate_runtime::Direction` see no change.
        assert_eq!(serde_json::to_value(Direction::Up).unwrap(), "up");
        assert_eq!(serde_json::to_value(Direction::Down).unwrap(), "down");
        assert_eq!(Direction::Down.to_string(), Direction::Down.as_str());
    }
}
