//! Prints one table: the launch check and apply, ours next to raw SQLite, rusqlite_migration and refinery, measured
//! side by side in one run on the same migrations. `cargo bench -p litemigrate-runtime --bench launch`.
//!
//! Launch rows open a new connection every iteration (what an application does at start) on a database that is
//! already up to date. Apply rows migrate an empty file. Each figure is the median of interleaved repetitions.

#[path = "support/mod.rs"]
mod support;

use litemigrate_runtime::Mode;
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use support::*;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn fmt(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us < 1000.0 {
        format!("{us:.1} µs")
    } else if us < 1e6 {
        format!("{:.2} ms", us / 1e3)
    } else {
        format!("{:.2} s", us / 1e6)
    }
}

/// Runs each closure `iters` times, interleaved round-robin, and returns each one's median.
fn interleaved(iters: usize, fs: &mut [&mut dyn FnMut()]) -> Vec<Duration> {
    let mut times: Vec<Vec<Duration>> = vec![Vec::with_capacity(iters); fs.len()];
    for _ in 0..iters {
        for (i, f) in fs.iter_mut().enumerate() {
            let t = Instant::now();
            f();
            times[i].push(t.elapsed());
        }
    }
    times.into_iter().map(median).collect()
}

fn fresh(dir: &Path, name: &str, k: usize) -> PathBuf {
    let p = dir.join(format!("{name}-{k}.db"));
    let _ = std::fs::remove_file(&p);
    p
}

struct Row {
    what: String,
    time: Duration,
    base: Option<(Duration, &'static str)>,
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument is not supported here.
    let quick = std::env::var_os("MIGRATE_BENCH_QUICK").is_some();
    // `MIGRATE_BENCH_LAUNCH_ONLY=1`: only the launch rows (the apply rows take minutes at 2000).
    let launch_only = std::env::var_os("MIGRATE_BENCH_LAUNCH_ONLY").is_some();
    // For a profiler: `MIGRATE_BENCH_PROFILE=<n>` applies n migrations in memory in a loop and prints nothing else.
    if let Some(n) = std::env::var("MIGRATE_BENCH_PROFILE")
        .ok()
        .and_then(|n| n.parse::<usize>().ok())
    {
        let sqls = sqls(n);
        let set = ours(&sqls);
        for _ in 0..(20_000 / n).max(3) {
            apply_ours_memory(&set);
        }
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut rows: Vec<Row> = Vec::new();
    // `MIGRATE_BENCH_N=100`: one size only.
    let sizes: Vec<usize> = match std::env::var("MIGRATE_BENCH_N").ok().and_then(|n| n.parse().ok()) {
        Some(n) => vec![n],
        None => vec![100, 2000],
    };
    for n in sizes {
        let sqls = sqls(n);
        let ours_set = ours(&sqls);
        let rm_set = rm(&sqls);
        let refinery_runner = refinery(&sqls);

        if !launch_only {
            // Apply to an empty file.
            // fsync-bound rows vary run to run on a shared machine; the cheap n = 100 rows get more repetitions.
            let reps = if quick {
                1
            } else if n >= 2000 {
                3
            } else {
                41
            };
            let mut k = 0;
            let mut next = |name: &str| {
                k += 1;
                fresh(dir.path(), name, k)
            };
            let mut t_raw_batch = Vec::new();
            let mut t_ours_batch = Vec::new();
            let mut t_rm = Vec::new();
            let mut t_raw_each = Vec::new();
            let mut t_ours_each = Vec::new();
            let mut t_refinery = Vec::new();
            for _ in 0..reps {
                let p = next("raw-batch");
                let t = Instant::now();
                apply_raw_batch(&sqls, &p);
                t_raw_batch.push(t.elapsed());
                let p = next("ours-batch");
                let t = Instant::now();
                apply_ours(&ours_set, &p, Mode::Batch);
                t_ours_batch.push(t.elapsed());
                let p = next("rm");
                let t = Instant::now();
                apply_rm(&sqls, &p);
                t_rm.push(t.elapsed());
                let p = next("raw-each");
                let t = Instant::now();
                apply_raw_each(&sqls, &p);
                t_raw_each.push(t.elapsed());
                let p = next("ours-each");
                let t = Instant::now();
                apply_ours(&ours_set, &p, Mode::PerMigration);
                t_ours_each.push(t.elapsed());
                let p = next("refinery");
                let t = Instant::now();
                apply_refinery(&sqls, &p);
                t_refinery.push(t.elapsed());
            }
            let raw_batch = median(t_raw_batch);
            let raw_each = median(t_raw_each);
            let b = Some((raw_batch, "raw one-transaction execute_batch"));
            let e = Some((raw_each, "raw one-transaction-each"));
            rows.push(Row {
                what: format!("apply {n}: raw execute_batch, one transaction"),
                time: raw_batch,
                base: None,
            });
            rows.push(Row {
                what: format!("apply {n}: migrate, batch mode"),
                time: median(t_ours_batch),
                base: b,
            });
            rows.push(Row {
                what: format!("apply {n}: rusqlite_migration to_latest"),
                time: median(t_rm),
                base: b,
            });
            rows.push(Row {
                what: format!("apply {n}: raw execute_batch, one transaction each"),
                time: raw_each,
                base: None,
            });
            rows.push(Row {
                what: format!("apply {n}: migrate, per-migration mode"),
                time: median(t_ours_each),
                base: e,
            });
            rows.push(Row {
                what: format!("apply {n}: refinery run (one transaction each)"),
                time: median(t_refinery),
                base: e,
            });

            // The CPU cost alone: in memory, no fsync.
            let mem_reps = if quick {
                2
            } else if n >= 2000 {
                9
            } else {
                41
            };
            let m = interleaved(
                mem_reps,
                &mut [&mut || apply_raw_batch_memory(&sqls), &mut || {
                    apply_ours_memory(&ours_set)
                }],
            );
            rows.push(Row {
                what: format!("apply {n} in memory: raw execute_batch, one transaction"),
                time: m[0],
                base: None,
            });
            rows.push(Row {
                what: format!("apply {n} in memory: migrate, batch mode"),
                time: m[1],
                base: Some((m[0], "raw, in memory")),
            });
        }

        // Launch on an up-to-date database: one file per tool, migrated once.
        let ours_db = dir.path().join(format!("launch-ours-{n}.db"));
        apply_ours(&ours_set, &ours_db, Mode::Batch);
        let rm_db = dir.path().join(format!("launch-rm-{n}.db"));
        apply_rm(&sqls, &rm_db);
        let refinery_db = dir.path().join(format!("launch-refinery-{n}.db"));
        apply_refinery(&sqls, &refinery_db);
        let iters = if quick {
            50
        } else if n >= 2000 {
            400
        } else {
            2000
        };
        let warm_conn = Connection::open(&ours_db).unwrap();
        first_app_query(&warm_conn);
        let mut warm_conn = warm_conn;
        let warm_conn2 = Connection::open(&ours_db).unwrap();
        first_app_query(&warm_conn2);
        // Two groups, each interleaved on its own: a launch that parses a 2000-table schema frees megabytes when its
        // connection closes, and whatever runs next pays for the allocator's page faults. Mixed in one round robin,
        // that cost landed on the cheap row that followed (open + user_version measured 270 µs instead of ~40).
        let light = interleaved(
            iters,
            &mut [
                &mut || {
                    launch_user_version(&ours_db);
                },
                &mut || launch_ours(&ours_set, &ours_db),
                &mut || launch_rm(&rm_set, &rm_db),
                &mut || {
                    ours_set.migrate(&mut warm_conn).unwrap();
                },
                &mut || {
                    warm_conn2
                        .query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))
                        .unwrap();
                },
            ],
        );
        let heavy = interleaved(
            iters,
            &mut [
                &mut || {
                    launch_user_version(&ours_db);
                },
                &mut || {
                    let mut c = Connection::open(&ours_db).unwrap();
                    ours_set.migrator().header_stamp(false).run(&mut c).unwrap();
                },
                &mut || launch_refinery(&refinery_runner, &refinery_db),
                &mut || {
                    let c = Connection::open(&ours_db).unwrap();
                    first_app_query(&c);
                },
                &mut || {
                    let mut c = Connection::open(&ours_db).unwrap();
                    ours_set.migrate(&mut c).unwrap();
                    first_app_query(&c);
                },
            ],
        );
        let uv = Some((light[0], "open + PRAGMA user_version"));
        let uv_heavy = Some((heavy[0], "open + PRAGMA user_version, same group"));
        let mut row = |what: &str, time: Duration, base: Option<(Duration, &'static str)>| {
            rows.push(Row {
                what: format!("launch {n}: {what}"),
                time,
                base,
            })
        };
        row("open + PRAGMA user_version", light[0], None);
        row("open + migrate launch check", light[1], uv);
        row("open + rusqlite_migration to_latest", light[2], uv);
        row("open + PRAGMA user_version (group 2)", heavy[0], None);
        row("open + launch check with header_stamp(false)", heavy[1], uv_heavy);
        row("open + refinery run", heavy[2], uv_heavy);
        row("open + the app's first query", heavy[3], None);
        row(
            "open + launch check + the app's first query",
            heavy[4],
            Some((heavy[3], "open + the app's first query")),
        );
        row("PRAGMA user_version, open connection", light[4], None);
        row(
            "launch check, open connection",
            light[3],
            Some((light[4], "PRAGMA user_version, open connection")),
        );
    }
    println!("| measurement | time | ratio | relative to |");
    println!("|---|---:|---:|---|");
    for r in rows {
        match r.base {
            Some((b, name)) => println!(
                "| {} | {} | {:.2}× | {} |",
                r.what,
                fmt(r.time),
                r.time.as_secs_f64() / b.as_secs_f64(),
                name
            ),
            None => println!("| {} | {} | | |", r.what, fmt(r.time)),
        }
    }
}
