//! The loader's rules for a `-- migrate:squashes` file (see [`crate::squash`]): where it may sit, and its chain.

use super::{LoadError, MigrationSource, Script};
use crate::checksum::{self, Checksum};

/// A squash must be the first migration and replace exactly the versions up to its own.
pub(super) fn check(up: &Script, version: u64, first: Option<&MigrationSource>) -> Result<(), LoadError> {
    let Some(s) = up.directives.squashes() else {
        return Ok(());
    };
    let reason = if let Some(older) = first {
        format!(
            "this squash replaces versions {}..={}, but {} is still in the set; delete the files the squash replaced",
            s.first, s.last, older.up.path
        )
    } else if s.last != version {
        format!(
            "`-- migrate:squashes {}..={}` must end at the file's own version {version}",
            s.first, s.last
        )
    } else {
        return Ok(());
    };
    Err(LoadError::Squash {
        file: up.path.clone(),
        reason,
    })
}

/// The chain value after `version`: the ordinary link, or for a squash the old files' chain at its version, so
/// the chain continues from V+1 exactly as it does for a database that ran the old files.
pub(super) fn link(up: &Script, previous: &Checksum, version: u64, sum: &Checksum) -> Checksum {
    match up.directives.squashes() {
        Some(s) => s.chain,
        None => checksum::chain(previous, version, sum),
    }
}
