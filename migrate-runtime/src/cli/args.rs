//! The options that belong to some commands (backups, confirmation, policies), flattened into those commands so
//! each one's `--help` lists only what applies to it.

use clap::Args;
use std::path::PathBuf;

/// Where backups go (`up`, `down`, `redo`, `backup`, `backups`, `restore`).
#[derive(Debug, Clone, Default, Args)]
pub struct BackupDirArg {
    /// Where backups are written and looked up (default: `backups/` next to the database).
    #[arg(long, value_name = "DIR")]
    pub backup_dir: Option<PathBuf>,
}

/// The backup a command that writes takes first (`up`, `down`, `redo`).
#[derive(Debug, Clone, Default, Args)]
pub struct BackupArgs {
    /// Where.
    #[command(flatten)]
    pub dir: BackupDirArg,
    /// Do not take a verified backup first.
    #[arg(long)]
    pub no_backup: bool,
}

/// Confirmation of a command that can lose data (`down`, `redo`, `restore`).
#[derive(Debug, Clone, Copy, Default, Args)]
pub struct ConfirmArg {
    /// Confirm without asking (needed when stdin is not a terminal).
    #[arg(long, short = 'y')]
    pub yes: bool,
}

/// Policies beyond the default (everything unusual is an error): what the runtime's planner is given. The commands
/// take the part that applies to them ([`UpPolicy`], [`DownPolicy`]).
#[derive(Debug, Clone, Copy, Default, Args)]
pub struct PolicyArgs {
    /// Apply migrations below the newest applied version.
    #[arg(long)]
    pub allow_out_of_order: bool,
    /// Ignore applied migrations whose files are gone.
    #[arg(long)]
    pub allow_missing: bool,
    /// Roll back migrations this set does not know, with the down SQL the history recorded.
    #[arg(long)]
    pub allow_unknown_rollback: bool,
}

/// The policies that apply to `up`.
#[derive(Debug, Clone, Copy, Default, Args)]
pub struct UpPolicy {
    /// Apply migrations below the newest applied version.
    #[arg(long)]
    pub allow_out_of_order: bool,
    /// Ignore applied migrations whose files are gone.
    #[arg(long)]
    pub allow_missing: bool,
}

impl From<UpPolicy> for PolicyArgs {
    fn from(p: UpPolicy) -> PolicyArgs {
        PolicyArgs {
            allow_out_of_order: p.allow_out_of_order,
            allow_missing: p.allow_missing,
            allow_unknown_rollback: false,
        }
    }
}

/// The policies that apply to `down`.
#[derive(Debug, Clone, Copy, Default, Args)]
pub struct DownPolicy {
    /// Ignore applied migrations whose files are gone.
    #[arg(long)]
    pub allow_missing: bool,
    /// Roll back migrations this set does not know, with the down SQL the history recorded.
    #[arg(long)]
    pub allow_unknown_rollback: bool,
}

impl From<DownPolicy> for PolicyArgs {
    fn from(p: DownPolicy) -> PolicyArgs {
        PolicyArgs {
            // A rollback applies nothing, so a pending file below the newest applied version is no reason to refuse
            // it: the file stays pending.
            allow_out_of_order: true,
            allow_missing: p.allow_missing,
            allow_unknown_rollback: p.allow_unknown_rollback,
        }
    }
}
