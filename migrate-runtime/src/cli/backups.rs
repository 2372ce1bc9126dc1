//! `backup`, `backups` and `restore`. None of them loads the migrations (beyond refusing a wrong `--set`), so they
//! work while the directory has a broken file.

use super::commands::{
    CmdResult, Open, backup_dir, backup_options, db_path, load, open, recorded_version, set_name, view,
};
use super::output::{DIM, GREEN, Outcome, Problem, YELLOW, confirm, paint, render_backups, size, with_spinner};
use super::{GlobalArgs, Source};
use crate::backup::{self, BackupOptions, Reason};
use serde_json::json;
use std::fmt::Write as _;

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

pub(super) fn backups(g: &GlobalArgs) -> CmdResult {
    let dir = backup_dir(g)?;
    let list = backup::list(&dir).map_err(Problem::backup)?;
    let s = render_backups(&dir, &list);
    let views: Vec<_> = list.iter().map(view).collect();
    Ok(Outcome::new(json!({ "dir": dir, "backups": views }), s))
}

pub(super) fn restore(source: Source<'_>, g: &GlobalArgs, id: &str, dry_run: bool, json: bool) -> CmdResult {
    if let Source::Embedded(_) = source {
        load(source, g)?; // only to refuse a --set that is not the compiled-in one
    }
    let set = set_name(source, g);
    let dir = backup_dir(g)?;
    // An unknown id fails before anything is asked or opened.
    let info = backup::inspect(&dir, id).map_err(Problem::backup)?;
    let db = db_path(g)?.display().to_string();
    if dry_run {
        let info = backup::verify(&dir, id, &backup_options(g)).map_err(Problem::backup)?;
        let s = format!(
            "{} would restore {} (version {}, taken {}) over {db}; the backup is intact; nothing was changed\n",
            paint(YELLOW, "dry run:"),
            info.id,
            info.version_before,
            info.created_at
        );
        return Ok(Outcome::new(
            json!({ "restored": view(&info), "pre_restore": null, "method": null, "pages_written": null, "dry_run": true }),
            s,
        ));
    }
    let what = format!(
        "`restore` replaces {db} with backup {} (version {}, taken {}); the current database is backed up first",
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
        "restored": view(&report.restored),
        "pre_restore": report.pre_restore.as_ref().map(view),
        "method": report.method.as_str(),
        "pages_written": report.pages_written,
        "dry_run": false,
    });
    Ok(Outcome::new(data, s))
}
