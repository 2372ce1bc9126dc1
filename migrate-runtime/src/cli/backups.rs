//! `backup`, `backups` and `restore`. None of them loads the migrations (beyond refusing a wrong `--set`), so they
//! work while the directory has a broken file.

use super::commands::{
    CmdResult, Open, backup_dir, backup_options, db_path, load, open, recorded_version, set_name, view, view_marked,
};
use super::output::{
    DIM, EXIT_FAILED, GREEN, Outcome, Problem, YELLOW, confirm, paint, render_backups, size, with_spinner,
};
use super::{DbMode, GlobalArgs, Source};
use crate::backup::{self, BackupInfo, BackupOptions, Reason};
use serde_json::json;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

pub(super) fn backup_now(source: Source<'_>, g: &GlobalArgs, compress: bool, json: bool) -> CmdResult {
    if let Source::Embedded(_) = source {
        load(source, g)?; // only to refuse a --set that is not the compiled-in one
    }
    let conn = open(g, Open::ReadWrite)?;
    let v = recorded_version(&conn, g, set_name(source, g));
    let opts = BackupOptions {
        compress,
        ..backup_options(g)
    };
    let info = with_spinner(json, "backing up the database".into(), || {
        backup::create(&conn, &opts, Reason::Manual, v, v)
    })
    .map_err(Problem::backup)?;
    match info {
        Some(b) => {
            let s = format!(
                "{} {} ({}, sha256 {}, integrity {})\n  {}\n",
                paint(GREEN, "backup"),
                b.id,
                size(b.size),
                b.sha256.chars().take(12).collect::<String>(), // a manifest is external data: no byte slicing
                b.integrity,
                paint(DIM, b.path.display())
            );
            Ok(Outcome::new(view(&b), s))
        }
        None => Ok(Outcome::new(
            serde_json::Value::Null,
            "nothing to back up: the database has no tables\n".into(),
        )),
    }
}

pub(super) fn backups(g: &GlobalArgs, all: bool) -> CmdResult {
    let dir = backup_dir(g)?;
    let list = backup::list(&dir).map_err(Problem::backup)?;
    let marked: Vec<(&BackupInfo, bool)> = list.iter().map(|b| (b, is_foreign(b, g))).collect();
    let hidden = if all {
        0
    } else {
        marked.iter().filter(|(_, f)| *f).count()
    };
    let shown: Vec<(&BackupInfo, bool)> = marked.into_iter().filter(|(_, f)| all || !f).collect();
    let s = render_backups(&dir, &shown, hidden);
    let views: Vec<_> = shown.iter().map(|(b, f)| view_marked(b, *f)).collect();
    Ok(Outcome::new(
        json!({ "dir": dir, "backups": views, "foreign_not_shown": hidden }),
        s,
    ))
}

/// Whether `b` was taken from another file than `--db`. A backup directory is shared by every database next to it
/// (`backups/` beside `app.db` and `other.db`), and the manifest records the file each backup copied. Without
/// `--db` (only `--backup-dir`) nothing is foreign.
fn is_foreign(b: &BackupInfo, g: &GlobalArgs) -> bool {
    match &g.db {
        Some(db) if g.db_mode != Some(DbMode::Memory) => normal(&b.source) != normal(db),
        _ => false,
    }
}

/// A path to compare files by: canonical when it exists; otherwise (a database deleted before its restore) its
/// directory canonical and its name as written.
fn normal(p: &Path) -> PathBuf {
    if let Ok(c) = p.canonicalize() {
        return c;
    }
    let dir = match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    match (dir.canonicalize(), p.file_name()) {
        (Ok(d), Some(name)) => d.join(name),
        _ => p.to_path_buf(),
    }
}

/// Refuses a backup of another database file unless `--force`: restoring `other.db`'s backup over `app.db` is almost
/// always a mistyped id, and it would replace the whole database.
fn refuse_foreign(info: &BackupInfo, g: &GlobalArgs, db: &str, force: bool) -> Result<(), Problem> {
    if force || !is_foreign(info, g) {
        return Ok(());
    }
    Err(Problem::new(
        "foreign_backup",
        format!(
            "backup {} was taken from {}, not from {db}",
            info.id,
            info.source.display()
        ),
        EXIT_FAILED,
    )
    .hint(format!(
        "pick one of {db}'s own backups (`backups`), or pass --force to restore this one over it anyway"
    )))
}

pub(super) fn restore(
    source: Source<'_>,
    g: &GlobalArgs,
    id: &str,
    dry_run: bool,
    force: bool,
    json: bool,
) -> CmdResult {
    if let Source::Embedded(_) = source {
        load(source, g)?; // only to refuse a --set that is not the compiled-in one
    }
    let set = set_name(source, g);
    let dir = backup_dir(g)?;
    // An unknown id fails before anything is asked or opened.
    let info = backup::inspect(&dir, id).map_err(Problem::backup)?;
    let db = db_path(g)?.display().to_string();
    refuse_foreign(&info, g, &db, force)?;
    let foreign = is_foreign(&info, g);
    let from = if foreign {
        format!(", taken from another file, {}", info.source.display())
    } else {
        String::new()
    };
    if dry_run {
        let info = backup::verify(&dir, id, &backup_options(g)).map_err(Problem::backup)?;
        let s = format!(
            "{} would restore {} (version {}, taken {}{from}) over {db}; the backup is intact; nothing was changed\n",
            paint(YELLOW, "dry run:"),
            info.id,
            info.version_before,
            info.created_at
        );
        return Ok(Outcome::new(
            json!({ "restored": view_marked(&info, foreign), "pre_restore": null, "method": null, "pages_written": null, "dry_run": true }),
            s,
        ));
    }
    let what = format!(
        "`restore` replaces {db} with backup {} (version {}, taken {}{from}); the current database is backed up first",
        info.id, info.version_before, info.created_at
    );
    confirm(g.yes, &what, "restore?")?;
    let mut conn = open(g, Open::Create)?;
    let v = recorded_version(&conn, g, set);
    let report = with_spinner(json, format!("restoring {}", info.id), || {
        backup::restore(&mut conn, &dir, id, v, &backup_options(g))
    })
    .map_err(Problem::backup)?;
    let mut s = format!(
        "{} {} into {db} (now at version {})\n",
        paint(GREEN, "restored"),
        report.restored.id,
        recorded_version(&conn, g, set)
    );
    match report.pages_written {
        Some(n) => {
            let _ = writeln!(s, "  written in place: {n} pages differed from the backup");
        }
        None => {
            let _ = writeln!(s, "  written through SQLite's backup API");
        }
    }
    if let Some(pre) = &report.pre_restore {
        let _ = writeln!(s, "  the previous state is backup {}", pre.id);
    }
    let data = json!({
        "restored": view_marked(&report.restored, foreign),
        "pre_restore": report.pre_restore.as_ref().map(view),
        "method": report.method.as_str(),
        "pages_written": report.pages_written,
        "dry_run": false,
    });
    Ok(Outcome::new(data, s))
}
