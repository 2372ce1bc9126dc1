//! Prints one table: migrating a fleet of small tenant files with `fleet::Fleet`, next to a plain hand-written loop
//! (open + `BEGIN IMMEDIATE` + `execute_batch` + `COMMIT`), serial and on the same number of threads; the no-op pass
//! (every file current) next to a loop of open + `PRAGMA user_version`; and the process's peak memory per pass.
//!
//! `cargo bench -p litemigrate-runtime --bench fleet`. Sizes come from the environment so CI can run it small:
//! `FLEET_FILES` (default 1000), `FLEET_JOBS` (default: the cores), `FLEET_SERIAL_MAX` and `FLEET_BACKUP_MAX` (the
//! serial plain loop and the pass with backups run on at most this many files, default 2000 each: at fsync speed
//! they would dominate the run; their rate is what is compared), `FLEET_ROUNDS` (default 3: the parallel migrate
//! passes and the no-op passes alternate this many times, each row shows its median round), `FLEET_DIR` (default: a
//! temporary directory). Every tenant is a copy of one file at version N−1 of a set whose newest migration adds a
//! column and an index, synced to disk before the pass. Peak memory is `VmHWM` from `/proc/self/status`, reset
//! before each pass through `/proc/self/clear_refs` (Linux), so each row shows its own pass's peak.

#[path = "support/mod.rs"]
mod support;

use litemigrate_runtime::Migrations;
use litemigrate_runtime::backup::{BackupOptions, BackupPolicy};
use litemigrate_runtime::fleet::Fleet;
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const PENDING: &str = "ALTER TABLE t1 ADD COLUMN w TEXT;\nCREATE INDEX t1_w ON t1(w);\n";

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn peak_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// `n` copies of `template` in a fresh directory `name` under `root`.
fn tenants(root: &Path, name: &str, template: &Path, n: usize) -> Vec<PathBuf> {
    let dir = root.join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let paths = (0..n)
        .map(|i| {
            let p = dir.join(format!("tenant{i:05}.db"));
            std::fs::copy(template, &p).unwrap();
            p
        })
        .collect();
    // On disk before the pass starts: a pass must not pay for flushing the copies (one `sync` for all of them).
    let _ = std::process::Command::new("sync").status();
    paths
}

/// Runs `f` on `jobs` threads over `paths`, each thread taking the next file.
fn parallel(paths: &[PathBuf], jobs: usize, f: impl Fn(&Path) + Sync) {
    let next = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..jobs {
            s.spawn(|| {
                while let Some(p) = paths.get(next.fetch_add(1, Ordering::Relaxed)) {
                    f(p);
                }
            });
        }
    });
}

fn plain_migrate(p: &Path) {
    let conn = Connection::open(p).unwrap();
    conn.execute_batch("BEGIN IMMEDIATE").unwrap();
    conn.execute_batch(PENDING).unwrap();
    conn.execute_batch("COMMIT").unwrap();
}

fn plain_check(p: &Path) {
    let conn = Connection::open(p).unwrap();
    let v: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    std::hint::black_box(v);
}

fn ours(set: &Migrations, paths: &[PathBuf], jobs: usize, backup: Option<&Path>) {
    let mut fleet = Fleet::new(set).jobs(jobs).backup(BackupPolicy::Off);
    if let Some(dir) = backup {
        fleet = fleet.backup(BackupPolicy::Required).backup_options(BackupOptions {
            dir: Some(dir.to_owned()),
            ..BackupOptions::default()
        });
    }
    let mut failed = 0;
    let summary = fleet
        .run(paths.iter().cloned(), |r| failed += usize::from(r.error.is_some()))
        .unwrap();
    assert_eq!((failed, summary.failed), (0, 0), "{summary:?}");
}

struct Row {
    pass: &'static str,
    what: String,
    files: usize,
    jobs: usize,
    time: Duration,
    peak: Option<u64>,
}

impl Row {
    fn rate(&self) -> f64 {
        self.files as f64 / self.time.as_secs_f64()
    }
}

fn measure(pass: &'static str, what: String, files: usize, jobs: usize, f: impl FnOnce()) -> Row {
    reset_peak();
    let t = Instant::now();
    f();
    let time = t.elapsed();
    Row {
        pass,
        what,
        files,
        jobs,
        time,
        peak: peak_kib(),
    }
}

/// The round with the median time.
fn median_row(mut rounds: Vec<Row>) -> Row {
    rounds.sort_by_key(|r| r.time);
    let mid = rounds.len() / 2;
    rounds.swap_remove(mid)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let n = env("FLEET_FILES", 1000);
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let jobs = env("FLEET_JOBS", cores);
    let serial_n = env("FLEET_SERIAL_MAX", 2000).min(n);
    let rounds = env("FLEET_ROUNDS", 3).max(1);
    let backup_n = env("FLEET_BACKUP_MAX", 2000).min(n);
    let tmp = tempfile::tempdir().unwrap();
    let root = std::env::var_os("FLEET_DIR").map_or_else(|| tmp.path().to_owned(), PathBuf::from);
    std::fs::create_dir_all(&root).unwrap();

    // The set: four tables (version N−1 = 4), then the pending column + index.
    let mut sqls = support::sqls(4);
    sqls.push(PENDING.to_owned());
    let old = support::ours(&sqls[..4]);
    let set = support::ours(&sqls);
    let template = root.join("template.db");
    let _ = std::fs::remove_file(&template);
    let mut conn = Connection::open(&template).unwrap();
    old.migrate(&mut conn).unwrap();
    drop(conn);

    let mut rows = Vec::new();
    let paths = tenants(&root, "plain-serial", &template, serial_n);
    rows.push(measure("migrate", "plain loop, serial".into(), serial_n, 1, || {
        paths.iter().for_each(|p| plain_migrate(p))
    }));
    let _ = std::fs::remove_dir_all(root.join("plain-serial"));
    // The two parallel migrate passes alternate for `rounds` rounds on fresh copies (the machine's load drifts); the
    // table shows each one's median round.
    let mut plain_rounds = Vec::new();
    let mut ours_rounds = Vec::new();
    for _ in 0..rounds {
        let paths = tenants(&root, "plain-parallel", &template, n);
        plain_rounds.push(measure("migrate", "plain loop, parallel".into(), n, jobs, || {
            parallel(&paths, jobs, plain_migrate)
        }));
        let _ = std::fs::remove_dir_all(root.join("plain-parallel"));
        let paths = tenants(&root, "ours", &template, n);
        ours_rounds.push(measure("migrate", "fleet, backups off".into(), n, jobs, || {
            ours(&set, &paths, jobs, None)
        }));
    }
    rows.push(median_row(plain_rounds));
    rows.push(median_row(ours_rounds));
    let paths: Vec<PathBuf> = (0..n)
        .map(|i| root.join("ours").join(format!("tenant{i:05}.db")))
        .collect();
    // The no-op pass over the files just migrated: ours (launch check per file) next to open + user_version, each
    // the median of `rounds` alternating rounds.
    let mut noop: [Vec<Row>; 4] = Default::default();
    for _ in 0..rounds {
        noop[0].push(measure(
            "no-op",
            "open + PRAGMA user_version, serial".into(),
            n,
            1,
            || paths.iter().for_each(|p| plain_check(p)),
        ));
        noop[1].push(measure("no-op", "fleet, serial".into(), n, 1, || {
            ours(&set, &paths, 1, None)
        }));
        noop[2].push(measure(
            "no-op",
            "open + PRAGMA user_version, parallel".into(),
            n,
            jobs,
            || parallel(&paths, jobs, plain_check),
        ));
        noop[3].push(measure("no-op", "fleet, parallel".into(), n, jobs, || {
            ours(&set, &paths, jobs, None)
        }));
    }
    rows.extend(noop.into_iter().map(median_row));
    let _ = std::fs::remove_dir_all(root.join("ours"));

    let paths = tenants(&root, "ours-backup", &template, backup_n);
    let backups = root.join("ours-backup-backups");
    rows.push(measure("migrate", "fleet, backups on".into(), backup_n, jobs, || {
        ours(&set, &paths, jobs, Some(&backups))
    }));
    let _ = std::fs::remove_dir_all(root.join("ours-backup"));
    let _ = std::fs::remove_dir_all(&backups);

    let base = |pass: &str, what: &str| {
        rows.iter()
            .find(|r| r.pass == pass && r.what == what)
            .map(Row::rate)
            .unwrap_or(f64::NAN)
    };
    let migrate_base = base("migrate", "plain loop, parallel");
    let noop_serial = base("no-op", "open + PRAGMA user_version, serial");
    let noop_parallel = base("no-op", "open + PRAGMA user_version, parallel");
    println!(
        "fleet of {n} tenant files at version N-1 (one pending: add column + index), {jobs} job(s), {cores} core(s), \
         parallel migrate and no-op rows: median of {rounds} alternating rounds"
    );
    println!(
        "{:<8} {:<38} {:>6} {:>4} {:>9} {:>10} {:>17} {:>10}",
        "pass", "what", "files", "jobs", "time", "files/s", "time × baseline", "VmHWM"
    );
    for r in &rows {
        let baseline = match (r.pass, r.jobs) {
            ("migrate", _) => migrate_base,
            (_, 1) => noop_serial,
            _ => noop_parallel,
        };
        println!(
            "{:<8} {:<38} {:>6} {:>4} {:>8.2}s {:>10.0} {:>16.2}× {:>7} KiB",
            r.pass,
            r.what,
            r.files,
            r.jobs,
            r.time.as_secs_f64(),
            r.rate(),
            baseline / r.rate(),
            r.peak.map_or("?".to_owned(), |k| k.to_string()),
        );
    }
    println!(
        "(time × baseline: per-file time over the plain parallel loop for `migrate`, over the user_version loop with \
         the same jobs for `no-op`)"
    );
}
