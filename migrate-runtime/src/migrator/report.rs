//! What a run is asked for ([`Target`], [`Mode`], [`Policy`]) and what it reports ([`Report`], [`Applied`]): plain
//! data, no database access.

use crate::backup::BackupInfo;
use crate::plan::{Direction, Plan};
use crate::table::Migrations;
use std::fmt;

/// The version to bring the database to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum Target {
    /// The newest embedded migration.
    #[default]
    Latest,
    /// A given version: up to it when the database is older, down to it (running down scripts, newest first) when
    /// it is newer. 0 rolls everything back. Must be 0 or an embedded version.
    Version(u64),
}

/// How pending migrations are grouped into transactions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum Mode {
    /// All pending migrations in one transaction (split only around `no-transaction` migrations): the database
    /// moves from one release's schema to the next, or not at all.
    #[default]
    Batch,
    /// One transaction per migration: a failure keeps the migrations before it.
    PerMigration,
}

/// What the caller explicitly allows beyond the default (everything unusual is an error).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Policy {
    /// Apply a migration whose version is below the newest applied one (e.g. merged from a branch).
    pub allow_out_of_order: bool,
    /// Ignore applied migrations whose files are gone.
    pub allow_missing: bool,
    /// When rolling back, run the down SQL recorded in the history for migrations this binary does not embed
    /// (a database migrated by a newer release, being brought back by an older one).
    pub allow_unknown_rollback: bool,
}

/// One step that ran.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Applied {
    /// Up or down.
    pub direction: Direction,
    /// Version.
    pub version: u64,
    /// Name.
    pub name: String,
    /// How long the SQL (or Rust function) took, in microseconds.
    pub duration_us: u64,
}

/// What a run did (or, for a dry run, would do).
///
/// ```no_run
/// # static MIGRATIONS: litemigrate_runtime::Migrations = litemigrate_runtime::Migrations::empty();
/// let mut conn = rusqlite::Connection::open("app.db").unwrap();
/// let report = MIGRATIONS.migrate(&mut conn).unwrap();
/// if !report.applied.is_empty() {
///     println!("{report}");
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Report {
    /// The set.
    pub set_name: String,
    /// Whether nothing was changed because this was a dry run.
    pub dry_run: bool,
    /// The batching mode.
    pub mode: Mode,
    /// The newest applied version before the run.
    pub from_version: u64,
    /// The version the run brought the database to.
    pub to_version: u64,
    /// The steps planned. For a real run, SQL is left out; another process may have done some of them (see
    /// `applied`).
    pub plan: Plan,
    /// The steps this process ran, in order.
    pub applied: Vec<Applied>,
    /// The backup taken before the first write, if any.
    pub backup: Option<BackupInfo>,
    /// Backup problems that did not stop the run: a failed backup under [`BackupPolicy::BestEffort`](crate::backup::BackupPolicy::BestEffort), or a failed
    /// retention pass (the new backup is kept).
    pub backup_warnings: Vec<String>,
    /// The repeatable migrations applied after the versioned ones, by name, in the order they ran (in a dry run,
    /// the ones that would run).
    pub repeatables: Vec<String>,
}

impl Report {
    pub(crate) fn nothing(m: &Migrations, mode: Mode, dry_run: bool, version: u64) -> Report {
        Report {
            set_name: m.set_name().to_owned(),
            dry_run,
            mode,
            from_version: version,
            to_version: version,
            plan: Plan::default(),
            applied: Vec::new(),
            backup: None,
            backup_warnings: Vec::new(),
            repeatables: Vec::new(),
        }
    }

    /// Whether the run had nothing to do.
    pub fn is_noop(&self) -> bool {
        self.plan.is_empty() && self.repeatables.is_empty()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.plan.is_empty() {
            writeln!(
                f,
                "set `{}`: up to date at version {}",
                self.set_name, self.from_version
            )?;
            return self.write_repeatables(f);
        }
        if self.dry_run {
            writeln!(
                f,
                "set `{}` (dry run): would migrate from version {} to {} in {} unit(s):",
                self.set_name,
                self.from_version,
                self.to_version,
                self.plan.units()
            )?;
            return write!(f, "{}", self.plan);
        }
        writeln!(
            f,
            "set `{}`: migrated from version {} to {} ({} step(s) run here)",
            self.set_name,
            self.from_version,
            self.to_version,
            self.applied.len()
        )?;
        if let Some(b) = &self.backup {
            writeln!(f, "  backup: {} ({})", b.path.display(), b.sha256)?;
        }
        for w in &self.backup_warnings {
            writeln!(f, "  warning: {w}")?;
        }
        for a in &self.applied {
            writeln!(
                f,
                "  {:<4} {} {} ({:.3} ms)",
                a.direction,
                a.version,
                a.name,
                a.duration_us as f64 / 1000.0
            )?;
        }
        self.write_repeatables(f)
    }
}

impl Report {
    fn write_repeatables(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for r in &self.repeatables {
            writeln!(f, "  repeatable {r} applied")?;
        }
        Ok(())
    }
}
