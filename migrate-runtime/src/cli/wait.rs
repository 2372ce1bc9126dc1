//! `wait`: block until the database carries the set's stamp ([`crate::Migrator::wait`]), for an application
//! instance on a read-only replica (LiteFS) whose primary migrates. Writes nothing.

use super::commands::{CmdResult, db_path, load, migrator};
use super::output::{EXIT_FAILED, Outcome, Problem};
use super::{GlobalArgs, PolicyArgs, Source};
use clap::Args;
use rusqlite::{Connection, OpenFlags};
use std::time::{Duration, Instant};

/// The options of `migrate wait`.
#[derive(Debug, Clone, Args)]
pub struct WaitArgs {
    /// How long to wait: `60s`, `2m`, `500ms`, `1h 30m`.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// How often to look.
    #[arg(long, value_name = "DURATION", default_value = "100ms", value_parser = parse_duration)]
    pub interval: Duration,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let d: jiff::SignedDuration = s
        .parse()
        .map_err(|e| format!("`{s}` is not a duration like 60s, 2m or 500ms: {e}"))?;
    Duration::try_from(d).map_err(|_| format!("`{s}` is negative"))
}

#[derive(serde::Serialize)]
struct Waited {
    version: u64,
    waited_ms: u64,
}

pub(super) fn wait(source: Source<'_>, g: &GlobalArgs, a: &WaitArgs) -> CmdResult {
    let m = load(source, g)?;
    let path = db_path(g)?;
    let start = Instant::now();
    // A replica that has not received the database yet has no file: that is something to wait for too.
    while !path.exists() {
        if start.elapsed() >= a.timeout {
            return Err(Problem::new(
                "database_not_found",
                format!("database {} did not appear within {:?}", path.display(), a.timeout),
                EXIT_FAILED,
            ));
        }
        std::thread::sleep(a.interval);
    }
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(|e| {
            Problem::new(
                "database",
                format!("cannot open database {}: {e}", path.display()),
                EXIT_FAILED,
            )
        })?;
    let left = a.timeout.saturating_sub(start.elapsed());
    let version = migrator(&m, g, PolicyArgs::default())
        .wait(&conn, left, a.interval)
        .map_err(|e| {
            let hint = (e.kind() == crate::ErrorKind::WaitTimeout).then_some(
                "the primary has not migrated yet: check that it runs `migrate up` (or the app's startup migration)",
            );
            let p = Problem::runtime(e);
            match hint {
                Some(h) => p.hint(h),
                None => p,
            }
        })?;
    let waited_ms = u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX);
    let human = format!("database {} is at version {version}\n", path.display());
    Ok(Outcome::new(Waited { version, waited_ms }, human))
}
