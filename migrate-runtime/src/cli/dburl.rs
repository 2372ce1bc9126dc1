//! `--db` and `DATABASE_URL`: a plain path, or the SQLite URLs that sqlx-cli and dbmate read (`sqlite:path`,
//! `sqlite://path`, `sqlite://path?mode=ro|rw|rwc|memory`, `sqlite::memory:`). Parsed once, before any command runs,
//! so every command sees a plain path and the URL's open mode.

use super::GlobalArgs;
use super::output::{EXIT_USAGE, Problem};
use std::ffi::OsString;
use std::path::PathBuf;

/// The environment variable sqlx-cli and dbmate read the database from; `--db` (and `MIGRATE_DB`) win over it.
pub(crate) const DATABASE_URL: &str = "DATABASE_URL";

/// How a database URL asks for the file to be opened (`?mode=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbMode {
    /// `mode=ro`: read-only; commands that open the file read-write (`up`, `down`, `backup`, ...) are refused first.
    ReadOnly,
    /// `mode=rw`: read-write, never creating the file.
    ReadWrite,
    /// `mode=rwc`: read-write, creating the file when a command may (the default for a plain path).
    ReadWriteCreate,
    /// `mode=memory` or `sqlite::memory:`: a private in-memory database that lives for one command.
    Memory,
}

impl DbMode {
    /// The URL spelling, for messages.
    pub fn as_str(self) -> &'static str {
        match self {
            DbMode::ReadOnly => "ro",
            DbMode::ReadWrite => "rw",
            DbMode::ReadWriteCreate => "rwc",
            DbMode::Memory => "memory",
        }
    }
}

/// A parsed `--db` / `DATABASE_URL` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DbUrl {
    pub path: PathBuf,
    /// `None` for a plain path or a URL without `?mode=`.
    pub mode: Option<DbMode>,
}

/// Parses a `--db` or `DATABASE_URL` value. Anything that does not start with `sqlite:` and has no `scheme://` is a
/// plain path, taken as written (so a file name with `?` in it keeps working).
pub(crate) fn parse(value: &str, from: &str) -> Result<DbUrl, Problem> {
    let bad = |what: String| {
        Problem::new("bad_database_url", format!("{from} {value:?}: {what}"), EXIT_USAGE).hint(
            "use a file path, `sqlite:path`, `sqlite://path` or `sqlite://path?mode=ro|rw|rwc|memory` \
             (`sqlite::memory:` for an in-memory database)",
        )
    };
    let Some(rest) = strip_prefix_ignore_case(value, "sqlite:") else {
        if let Some((scheme, _)) = value.split_once("://")
            && !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        {
            return Err(bad(format!("`{scheme}://` is not a SQLite database URL")));
        }
        return Ok(DbUrl {
            path: PathBuf::from(value),
            mode: None,
        });
    };
    if rest == ":memory:" {
        return Ok(DbUrl {
            path: PathBuf::from(":memory:"),
            mode: Some(DbMode::Memory),
        });
    }
    // `sqlite://path` and `sqlite:path` name the same file; `sqlite:///abs` is the absolute `/abs`.
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let (path, query) = match rest.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (rest, None),
    };
    if path.is_empty() {
        return Err(bad("the URL names no file".into()));
    }
    let mut mode = None;
    for param in query.into_iter().flat_map(|q| q.split('&')).filter(|p| !p.is_empty()) {
        let (key, val) = param.split_once('=').unwrap_or((param, ""));
        if key != "mode" {
            return Err(bad(format!("unknown parameter `{key}` (only `mode` is supported)")));
        }
        mode = Some(match val {
            "ro" => DbMode::ReadOnly,
            "rw" => DbMode::ReadWrite,
            "rwc" => DbMode::ReadWriteCreate,
            "memory" => DbMode::Memory,
            other => return Err(bad(format!("unknown mode `{other}` (ro, rw, rwc or memory)"))),
        });
    }
    Ok(DbUrl {
        path: PathBuf::from(path),
        mode,
    })
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let (head, tail) = (s.get(..prefix.len())?, s.get(prefix.len()..)?);
    head.eq_ignore_ascii_case(prefix).then_some(tail)
}

/// Fills `g.db` from `--db` / `MIGRATE_DB`, else `DATABASE_URL` (`env` is the variable's value), replacing a URL by
/// its path and recording its mode in `g.db_mode`.
pub(crate) fn resolve(g: &mut GlobalArgs, env: Option<OsString>) -> Result<(), Problem> {
    let (raw, from) = match (g.db.take(), env) {
        (Some(db), _) => (db.into_os_string(), "--db"),
        (None, Some(url)) => (url, DATABASE_URL),
        (None, None) => return Ok(()),
    };
    // A plain path need not be UTF-8; only a URL has to be read as text.
    let Some(text) = raw.to_str() else {
        g.db = Some(PathBuf::from(raw));
        return Ok(());
    };
    let url = parse(text, from)?;
    g.db = Some(url.path);
    g.db_mode = url.mode;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(v: &str) -> (String, Option<DbMode>) {
        let u = parse(v, "--db").unwrap();
        (u.path.to_string_lossy().into_owned(), u.mode)
    }

    #[test]
    fn forms() {
        assert_eq!(ok("app.db"), ("app.db".into(), None));
        assert_eq!(ok("dir/app?.db"), ("dir/app?.db".into(), None));
        assert_eq!(ok("sqlite:app.db"), ("app.db".into(), None));
        assert_eq!(ok("sqlite://app.db"), ("app.db".into(), None));
        assert_eq!(ok("sqlite:///tmp/app.db"), ("/tmp/app.db".into(), None));
        assert_eq!(ok("SQLITE://app.db?mode=ro"), ("app.db".into(), Some(DbMode::ReadOnly)));
        assert_eq!(
            ok("sqlite://app.db?mode=rw"),
            ("app.db".into(), Some(DbMode::ReadWrite))
        );
        assert_eq!(
            ok("sqlite:app.db?mode=rwc"),
            ("app.db".into(), Some(DbMode::ReadWriteCreate))
        );
        assert_eq!(ok("sqlite://x?mode=memory"), ("x".into(), Some(DbMode::Memory)));
        assert_eq!(ok("sqlite::memory:"), (":memory:".into(), Some(DbMode::Memory)));
    }

    #[test]
    fn refusals() {
        for (v, says) in [
            ("sqlite://app.db?cache=shared", "unknown parameter `cache`"),
            ("sqlite://app.db?mode=wal", "unknown mode `wal`"),
            ("postgres://localhost/app", "`postgres://` is not a SQLite"),
            ("sqlite://", "names no file"),
        ] {
            let p = parse(v, "--db").unwrap_err();
            assert_eq!(p.kind, "bad_database_url", "{v}");
            assert!(p.message.contains(says), "{v}: {}", p.message);
        }
    }
}
