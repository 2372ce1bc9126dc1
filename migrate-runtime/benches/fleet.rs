//! Prints one table: migrating a fleet of small tenant files with `fleet::Fleet`, next to a plain hand-written loop
//! (open + `BEGIN IMMEDIATE` + `execute_batch` + `COMMIT`), serial and on the same number of threads; the no-op pass
//! (every file current) next to a loop of open + `PRAGMA user_version`; and the process's peak memory per pass.
//!
//! `cargo bench -p litemigrate-runtime --bench fleet`. Sizes come from the environment so CI can run it small:
//! `FLEET_FILES` (default 1000), `FLEET_JOBS` (default: the cores), `FLEET_SERIAL_MAX` (the serial migrate passes
//! run on at most this many files, default 1000) and `FLEET_BACKUP_MAX` (the pass with backups runs once, on at most
//! this many files, default 2000; its rate is what is compared), `FLEET_ROUNDS` (default 5: the migrate passes run
//! this many rounds on fresh copies, and the no-op passes twice as many, the order of the passes rotating each
//! round), `FLEET_DIR` (default: a temporary directory). Every tenant is a copy of one file at version
//! N−1 of a set whose newest migration adds a column and an index, synced to disk before the pass.
//!
//! Each row shows its median round's time, and "× baseline": the median over rounds of the pass's time divided by
//! its baseline's time in the same round (the plain loop with the same jobs for `migrate`, the user_version loop with the same
//! jobs for `no-op`), with the lowest and highest of those ratios: pairing by round keeps the machine's drifting load
//! out of the ratio. Peak memory is `VmHWM` from `/proc/self/status`, reset before each pass through
//! `/proc/self/clear_refs` (Linux); a row shows the highest of its rounds.

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

/// `n` copies of `template` in the directory `name` under `root`, written over the previous round's copies.
///
/// In place, not deleted and created again: ext4 searches past inodes freed in the last 30–60 s when it creates a
/// file (`recently_deleted`), so deleting 10,000 files right before a pass made that pass's journal files slow to
/// create, and made whichever pass followed a deletion look slower (per-round ratios from 1.0× to 2.5×).
fn tenants(root: &Path, name: &str, template: &Path, n: usize) -> Vec<PathBuf> {
    let dir = root.join(name);
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

fn ours(set: &Migrations, paths: &[PathBuf], jobs: usize, backup: Option<&Path>, journal: Option<&Path>) {
    let mut fleet = Fleet::new(set).jobs(jobs).backup(BackupPolicy::Off);
    if let Some(dir) = backup {
        fleet = fleet.backup(BackupPolicy::Required).backup_options(BackupOptions {
            dir: Some(dir.to_owned()),
            ..BackupOptions::default()
        });
    }
    if let Some(j) = journal {
        let _ = std::fs::remove_file(j);
        fleet = fleet.journal(j);
    }
    let mut failed = 0;
    let summary = fleet
        .run(paths.iter().cloned(), |r| failed += usize::from(r.error.is_some()))
        .unwrap();
    assert_eq!((failed, summary.failed), (0, 0), "{summary:?}");
}

/// One pass, once.
struct Round {
    time: Duration,
    peak: Option<u64>,
}

fn measure(f: impl FnOnce()) -> Round {
    reset_peak();
    let t = Instant::now();
    f();
    Round {
        time: t.elapsed(),
        peak: peak_kib(),
    }
}

/// One row of the table: a pass and its rounds; `base` is the row whose same-numbered round it is compared with.
struct Row {
    pass: &'static str,
    what: &'static str,
    files: usize,
    jobs: usize,
    rounds: Vec<Round>,
    base: Option<usize>,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

impl Row {
    fn new(pass: &'static str, what: &'static str, files: usize, jobs: usize, base: Option<usize>) -> Row {
        Row {
            pass,
            what,
            files,
            jobs,
            rounds: Vec::new(),
            base,
        }
    }

    fn secs(&self) -> Vec<f64> {
        self.rounds.iter().map(|r| r.time.as_secs_f64()).collect()
    }
}

/// Runs `passes` for `rounds` rounds, the first pass of round `i` being pass `i mod passes.len()`.
fn rotate(rounds: usize, passes: &mut [(&mut Row, &mut dyn FnMut() -> Round)]) {
    let n = passes.len();
    for round in 0..rounds {
        for k in 0..n {
            let (row, run) = &mut passes[(round + k) % n];
            row.rounds.push(run());
        }
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let n = env("FLEET_FILES", 1000);
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let jobs = env("FLEET_JOBS", cores);
    let serial_n = env("FLEET_SERIAL_MAX", 1000).min(n);
    let rounds = env("FLEET_ROUNDS", 5).max(1);
    let backup_n = env("FLEET_BACKUP_MAX", 2000).min(n);
    let tmp = tempfile::tempdir().unwrap();
    let root = std::env::var_os("FLEET_DIR").map_or_else(|| tmp.path().to_owned(), PathBuf::from);
    std::fs::create_dir_all(&root).unwrap();
    let journal = root.join("fleet.journal");

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

    // Row indices: the baselines first.
    const PLAIN_SERIAL: usize = 0;
    const PLAIN_PAR: usize = 2;
    const NOOP_SERIAL: usize = 6;
    const NOOP_PAR: usize = 8;
    let mut rows = vec![
        Row::new("migrate", "plain loop, serial", serial_n, 1, None),
        Row::new("migrate", "fleet, serial, backups off", serial_n, 1, Some(PLAIN_SERIAL)),
        Row::new("migrate", "plain loop, parallel", n, jobs, None),
        Row::new("migrate", "fleet, backups off", n, jobs, Some(PLAIN_PAR)),
        Row::new("migrate", "fleet, backups off, journal", n, jobs, Some(PLAIN_PAR)),
        Row::new("migrate", "fleet, backups on", backup_n, jobs, Some(PLAIN_PAR)),
        Row::new("no-op", "open + PRAGMA user_version, serial", n, 1, None),
        Row::new("no-op", "fleet, serial", n, 1, Some(NOOP_SERIAL)),
        Row::new("no-op", "open + PRAGMA user_version, parallel", n, jobs, None),
        Row::new("no-op", "fleet, parallel", n, jobs, Some(NOOP_PAR)),
        Row::new("no-op", "fleet, parallel, journal", n, jobs, Some(NOOP_PAR)),
    ];

    // The serial migrate passes, like the parallel ones below.
    {
        let [plain, fleet] = rows.get_disjoint_mut([0, 1]).unwrap();
        let mut run_plain = || {
            let paths = tenants(&root, "plain-serial", &template, serial_n);
            measure(|| paths.iter().for_each(|p| plain_migrate(p)))
        };
        let mut run_fleet = || {
            let paths = tenants(&root, "ours-serial", &template, serial_n);
            measure(|| ours(&set, &paths, 1, None, None))
        };
        rotate(rounds, &mut [(plain, &mut run_plain), (fleet, &mut run_fleet)]);
    }

    // The parallel migrate passes, each round on fresh copies, the order rotating (the machine's load drifts).
    {
        let [plain, ours_off, ours_journal] = rows.get_disjoint_mut([2, 3, 4]).unwrap();
        let mut run_plain = || {
            let paths = tenants(&root, "plain-parallel", &template, n);
            measure(|| parallel(&paths, jobs, plain_migrate))
        };
        let mut run_ours = || {
            let paths = tenants(&root, "ours", &template, n);
            measure(|| ours(&set, &paths, jobs, None, None))
        };
        let mut run_journal = || {
            let paths = tenants(&root, "ours-journal", &template, n);
            measure(|| ours(&set, &paths, jobs, None, Some(&journal)))
        };
        rotate(
            rounds,
            &mut [
                (plain, &mut run_plain),
                (ours_off, &mut run_ours),
                (ours_journal, &mut run_journal),
            ],
        );
    }

    // The no-op passes over the files the last fleet round migrated (every one current).
    let paths: Vec<PathBuf> = (0..n)
        .map(|i| root.join("ours").join(format!("tenant{i:05}.db")))
        .collect();
    {
        let [a, b, c, d, e] = rows.get_disjoint_mut([6, 7, 8, 9, 10]).unwrap();
        let paths = &paths;
        let mut plain_serial = || measure(|| paths.iter().for_each(|p| plain_check(p)));
        let mut fleet_serial = || measure(|| ours(&set, paths, 1, None, None));
        let mut plain_par = || measure(|| parallel(paths, jobs, plain_check));
        let mut fleet_par = || measure(|| ours(&set, paths, jobs, None, None));
        let mut fleet_journal = || measure(|| ours(&set, paths, jobs, None, Some(&journal)));
        rotate(
            2 * rounds,
            &mut [
                (a, &mut plain_serial),
                (b, &mut fleet_serial),
                (c, &mut plain_par),
                (d, &mut fleet_par),
                (e, &mut fleet_journal),
            ],
        );
    }

    // Backups on: once, compared by rate with the plain parallel loop's median.
    let paths = tenants(&root, "ours-backup", &template, backup_n);
    let backups = root.join("ours-backup-backups");
    rows[5]
        .rounds
        .push(measure(|| ours(&set, &paths, jobs, Some(&backups), None)));
    for dir in [
        "plain-serial",
        "ours-serial",
        "plain-parallel",
        "ours",
        "ours-journal",
        "ours-backup",
    ] {
        let _ = std::fs::remove_dir_all(root.join(dir));
    }
    let _ = std::fs::remove_dir_all(&backups);
    let _ = std::fs::remove_file(&journal);

    println!(
        "fleet of {n} tenant files at version N-1 (one pending: add column + index), {jobs} job(s), {cores} core(s); \
         {rounds} rounds of the parallel migrate passes, {} of the no-op passes, order rotating",
        2 * rounds
    );
    println!(
        "{:<8} {:<38} {:>6} {:>4} {:>6} {:>9} {:>8} {:>12} {:>13} {:>10}",
        "pass", "what", "files", "jobs", "rounds", "median", "files/s", "× baseline", "ratio range", "VmHWM"
    );
    for r in &rows {
        let t = median(r.secs());
        // Per-file time over the baseline's, paired by round; rows with one round compare with the baseline's median.
        let ratios: Vec<f64> = match r.base.map(|b| &rows[b]) {
            Some(b) if b.rounds.len() == r.rounds.len() => r
                .rounds
                .iter()
                .zip(&b.rounds)
                .map(|(x, y)| (x.time.as_secs_f64() / r.files as f64) / (y.time.as_secs_f64() / b.files as f64))
                .collect(),
            Some(b) => vec![(t / r.files as f64) / (median(b.secs()) / b.files as f64)],
            None => vec![1.0],
        };
        let lo = ratios.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = ratios.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let peak = r.rounds.iter().filter_map(|x| x.peak).max();
        println!(
            "{:<8} {:<38} {:>6} {:>4} {:>6} {:>8.2}s {:>8.0} {:>11.2}× {:>5.2}–{:<5.2}  {:>7} KiB",
            r.pass,
            r.what,
            r.files,
            r.jobs,
            r.rounds.len(),
            t,
            r.files as f64 / t,
            median(ratios),
            lo,
            hi,
            peak.map_or("?".to_owned(), |k| k.to_string()),
        );
    }
}
