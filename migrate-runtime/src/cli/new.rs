//! `new <name>`: the next migration file(s), numbered in the directory's own style, and a reminder to track the
//! directory in `build.rs` when the crate does not.

use super::output::{BOLD, DIM, EXIT_FAILED, GREEN, Outcome, Problem, YELLOW, paint};
use litemigrate_core::name::{self, Classified, FileKind};
use serde_json::json;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// A version written as a UTC timestamp `YYYYMMDDHHMMSS` has 14 digits.
const TIMESTAMP_DIGITS: usize = 14;

pub(crate) fn new(dir: &Path, name: &str, reversible: bool, timestamp: bool) -> Result<Outcome, Problem> {
    check_name(name)?;
    if dir.exists() && !dir.is_dir() {
        return Err(io_problem(format!("{} is not a directory", dir.display())));
    }
    std::fs::create_dir_all(dir).map_err(|e| io_problem(format!("cannot create {}: {e}", dir.display())))?;
    let existing = existing_versions(dir)?;
    let version = next_version(&existing, timestamp, now_timestamp()).ok_or_else(|| {
        let newest = existing.last().map_or(0, |(v, _)| *v);
        Problem::new(
            "bad_version",
            format!(
                "the newest migration's version is {newest}, the largest SQLite stores ({}); there is no next version",
                name::MAX_VERSION
            ),
            EXIT_FAILED,
        )
        .hint("renumber the directory's migrations with smaller versions before adding one")
    })?;
    let stems = format!("{version}_{name}");
    let files: Vec<(PathBuf, String)> = if reversible {
        vec![
            (
                dir.join(format!("{stems}.up.sql")),
                "-- Write the migration here. An up file with only comments does not build.\n".to_owned(),
            ),
            (
                dir.join(format!("{stems}.down.sql")),
                format!("-- Undo {stems}.up.sql. The build proves this restores the schema from before it.\n"),
            ),
        ]
    } else {
        vec![(
            dir.join(format!("{stems}.sql")),
            "-- Write the migration here (irreversible: no down file). An up file with only comments does not \
             build.\n"
                .to_owned(),
        )]
    };
    for (path, text) in &files {
        // create_new: never overwrite a file someone else just wrote.
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(|e| io_problem(format!("cannot create {}: {e}", path.display())))?;
        f.write_all(text.as_bytes())
            .map_err(|e| io_problem(format!("cannot write {}: {e}", path.display())))?;
    }
    let build = build_rs(dir);
    let mut s = String::new();
    for (path, _) in &files {
        let _ = writeln!(s, "{} {}", paint(GREEN, "created"), path.display());
    }
    if let Some(b) = &build
        && !b.tracked
    {
        let line = format!("litemigrate::build::track(\"{}\");", b.rel);
        if b.exists {
            let _ = writeln!(
                s,
                "{} {} does not track {}; add this line to its main() so `cargo build` sees new files:\n    {}",
                paint(YELLOW, "note:"),
                b.path.display(),
                b.rel,
                paint(BOLD, &line)
            );
        } else {
            let _ = writeln!(
                s,
                "{} the crate has no build.rs; create {} so `cargo build` sees new files:\n    {}",
                paint(YELLOW, "note:"),
                b.path.display(),
                paint(BOLD, format!("fn main() {{ {line} }}"))
            );
        }
        let _ = writeln!(
            s,
            "  {}",
            paint(
                DIM,
                "with `litemigrate = { version = \"0.1\", default-features = false }` under [build-dependencies]"
            )
        );
    }
    let data = json!({
        "version": version,
        "files": files.iter().map(|(p, _)| p.display().to_string()).collect::<Vec<_>>(),
        "build_rs": build.as_ref().map(|b| json!({
            "path": b.path,
            "exists": b.exists,
            "tracked": b.tracked,
            "line": format!("litemigrate::build::track(\"{}\");", b.rel),
        })),
    });
    Ok(Outcome::new(data, s))
}

fn io_problem(message: String) -> Problem {
    Problem::new("io", message, EXIT_FAILED)
}

fn check_name(name: &str) -> Result<(), Problem> {
    let bad = |reason: String| {
        Problem::new(
            "bad_name",
            format!("`{name}` cannot be a migration name: {reason}"),
            EXIT_FAILED,
        )
        .hint("use lowercase ASCII letters, digits and `_`, e.g. `add_users`")
    };
    // The same rule as the loader, applied to the file the name would produce.
    match name::parse(&format!("1_{name}.sql")) {
        Ok(f) if f.kind == FileKind::Simple && f.name == name => Ok(()),
        Ok(_) => Err(bad("it must not contain `.`".into())),
        Err(e) => Err(bad(e.to_string())),
    }
}

/// The version texts of the directory's migrations (misnamed files are left to the build to report).
fn existing_versions(dir: &Path) -> Result<Vec<(u64, String)>, Problem> {
    let entries = std::fs::read_dir(dir).map_err(|e| io_problem(format!("cannot read {}: {e}", dir.display())))?;
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| io_problem(format!("cannot read {}: {e}", dir.display())))?;
        if let Some(file) = entry.file_name().to_str()
            && let Ok(Classified::Migration(f)) = name::classify(file)
        {
            out.push((f.version, f.version_text));
        }
    }
    out.sort();
    Ok(out)
}

fn now_timestamp() -> u64 {
    crate::clock::Instant::now().digits()
}

/// The next version text: a timestamp when asked or when the newest version is one, otherwise the newest + 1 in
/// the directory's zero-padding width (4 for an empty directory). `None` when the newest version is already
/// [`name::MAX_VERSION`]: anything above it would not load, and saturating would repeat the newest version.
fn next_version(existing: &[(u64, String)], timestamp: bool, now: u64) -> Option<String> {
    let newest = existing.last();
    let uses_timestamps = newest.is_some_and(|(_, t)| t.len() == TIMESTAMP_DIGITS);
    let max = newest.map_or(0, |(v, _)| *v);
    let next = max.checked_add(1).filter(|n| *n <= name::MAX_VERSION)?;
    if timestamp || uses_timestamps {
        // Two migrations in the same second, or a clock behind the newest file: still strictly increasing.
        return Some(now.max(next).to_string());
    }
    let width = newest.map_or(4, |(_, t)| t.len());
    Some(format!("{next:0width$}"))
}

struct BuildRs {
    path: PathBuf,
    exists: bool,
    tracked: bool,
    /// The migrations directory relative to the crate root, as `build::track` takes it.
    rel: String,
}

/// The crate that owns `dir` (the nearest ancestor with a Cargo.toml) and whether its build.rs tracks `dir`.
fn build_rs(dir: &Path) -> Option<BuildRs> {
    let abs = std::fs::canonicalize(dir).ok()?;
    let root = abs.ancestors().skip(1).find(|a| a.join("Cargo.toml").is_file())?;
    let rel = abs
        .strip_prefix(root)
        .ok()?
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/");
    let path = root.join("build.rs");
    let text = std::fs::read_to_string(&path).ok();
    let tracked = text.as_deref().is_some_and(|t| {
        t.lines().any(|l| {
            (l.contains("track(") || l.contains("rerun-if-changed"))
                && (l.contains(&format!("\"{rel}\"")) || l.contains(&format!("={rel}")))
        })
    });
    Some(BuildRs {
        exists: text.is_some(),
        path,
        tracked,
        rel,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(list: &[&str]) -> Vec<(u64, String)> {
        list.iter().map(|t| (t.parse().unwrap(), (*t).to_owned())).collect()
    }

    #[test]
    fn next_keeps_padding() {
        assert_eq!(next_version(&v(&["0001", "0007"]), false, 0).unwrap(), "0008");
        assert_eq!(next_version(&v(&["1", "9"]), false, 0).unwrap(), "10");
        assert_eq!(next_version(&v(&[]), false, 0).unwrap(), "0001");
    }

    #[test]
    fn next_timestamps() {
        let now = 20261122120000;
        assert_eq!(
            next_version(&v(&["20261122103000"]), false, now).unwrap(),
            "20261122120000"
        );
        assert_eq!(
            next_version(&v(&["20261122130000"]), false, now).unwrap(),
            "20261122130001"
        );
        assert_eq!(next_version(&v(&[]), true, now).unwrap(), "20261122120000");
    }

    #[test]
    fn no_next_version_after_the_largest() {
        let max = name::MAX_VERSION.to_string();
        assert_eq!(next_version(&v(&["1", &max]), false, 0), None);
        assert_eq!(next_version(&v(&[&max]), true, 20261122120000), None);
        let below = (name::MAX_VERSION - 1).to_string();
        assert_eq!(next_version(&v(&[&below]), false, 0).unwrap(), max);
    }

    #[test]
    fn names_follow_the_loader() {
        assert!(check_name("add_users").is_ok());
        assert!(check_name("Add").is_err());
        assert!(check_name("a.up").is_err());
        assert!(check_name("").is_err());
        assert!(check_name("a-b").is_err());
    }
}
