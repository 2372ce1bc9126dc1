//! `-- migrate:requires <set>@<version>` between two sets on one connection (a library crate's set and the
//! application's, each its own `embed_migrations!`): nothing orders them but the application's calls, so a
//! pending migration that needs the other set at a version refuses to run until that set is there. Checked only
//! when there is pending work; the launch check never gets here.

use crate::error::{At, Error};
use crate::history::HistoryTable;
use crate::plan::Action;
use rusqlite::Connection;

/// Refuses the plan if a pending up's `requires` names a set of this database that is behind the version it
/// names. The history of each named set is read once.
pub(super) fn check(
    conn: &Connection,
    table: &HistoryTable,
    own_set: &str,
    actions: &[Action<'_>],
) -> Result<(), Error> {
    let mut known: Vec<(String, u64)> = Vec::new();
    for action in actions {
        let Action::Up(m) = action else { continue };
        let Some(sql) = m.up_sql() else { continue };
        // The build (or the run-time loader) already refused a malformed directive; what cannot be read here
        // names nothing to wait for.
        let Ok(directives) = litemigrate_core::directive::parse(sql) else {
            continue;
        };
        // The set's own versions apply in order within this very run.
        for (_, set, version) in directives.requires().filter(|&(_, s, _)| s != own_set) {
            let current = match known.iter().find(|(s, _)| s == set) {
                Some(&(_, v)) => v,
                None => {
                    let rows = table.read_all(conn, set)?;
                    let v = rows.and_then(|r| r.last().map(|r| r.version)).unwrap_or(0);
                    known.push((set.to_owned(), v));
                    v
                }
            };
            if current < version {
                return Err(Error::RequiresNotMet {
                    at: At::of(m),
                    set: set.to_owned(),
                    version,
                    current,
                });
            }
        }
    }
    Ok(())
}
