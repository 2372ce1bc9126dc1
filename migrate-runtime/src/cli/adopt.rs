//! `migrate adopt [--from TOOL] [--drop-old]`: take over the history of the tool that migrated this database (see
//! [`crate::adopt`]); and the options that load a directory the way the macro's opt-outs do.

use super::commands::{CmdResult, Open, load, migrator, open};
use super::output::{GREEN, Outcome, Problem, paint};
use super::{GlobalArgs, PolicyArgs, Source};
use crate::adopt::{AdoptOptions, Tool};
use clap::Args;

/// `adopt`'s arguments.
#[derive(Debug, Clone, Default, Args)]
pub struct AdoptArgs {
    /// The tool that migrated the database: sqlx, diesel, refinery, flyway, dbmate, golang-migrate, goose,
    /// rusqlite_migration (default: found from its history table; rusqlite_migration keeps none and must be named).
    #[arg(long, value_name = "TOOL")]
    pub from: Option<String>,
    /// Drop the other tool's history table once adopted (rusqlite_migration: reset user_version). Without it the
    /// table stays, so going back to that tool still works.
    #[arg(long)]
    pub drop_old: bool,
}

pub(super) fn adopt(source: Source<'_>, g: &GlobalArgs, args: &AdoptArgs) -> CmdResult {
    let from = match &args.from {
        Some(name) => Some(
            name.parse::<Tool>()
                .map_err(|e| Problem::usage(format!("--from {name}: {e}")))?,
        ),
        None => None,
    };
    let m = load(source, g)?;
    let mut conn = open(g, Open::ReadWrite)?;
    let options = AdoptOptions {
        from,
        drop_old: args.drop_old,
    };
    let adopted = migrator(&m, g, PolicyArgs::default())
        .adopt(&mut conn, &options)
        .map_err(Problem::runtime)?;
    let text = format!("{} {adopted}", paint(GREEN, "adopted:"));
    Ok(Outcome::new(&adopted, text))
}
