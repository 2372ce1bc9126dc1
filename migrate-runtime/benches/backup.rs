//! Backup speed against `cp` of the same file, in the same run (issue 4).
//!
//! ```text
//! cargo bench -p litemigrate-runtime --features bench-internals --bench backup   # 64 MiB
//! BACKUP_BENCH_MIB=1024 cargo bench ...      # 1 GiB (needs ~6 GiB free)
//! BACKUP_BENCH_DIR=/path/on/the/disk ...     # default: the system temp dir
//! BACKUP_BENCH_ONLY=restore ...              # the restore rows only (or `backup`)
//! ```
//!
//! The breakdown rows time single steps through `backup::bench`, which is behind the unstable `bench-internals`
//! feature; the bench requires it (`required-features`), so it is not built without `--features bench-internals`.
//!
//! Every timed operation runs `BACKUP_BENCH_RUNS` times (default 3) with a warm page cache, each run right after a
//! `cp` of the same file; the table shows the median and its ratio to the median of those `cp` runs. `sync` runs,
//! untimed, before each `cp` and before each operation, so neither pays for the other's dirty pages.

use litemigrate_runtime::backup::{self, BackupOptions, Reason, Retention, SnapshotMethod};
use rusqlite::Connection;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Deterministic pseudo-random numbers (xorshift64*), so every run builds the same database.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

const WORDS: &[&str] = &[
    "meeting", "notes", "agent", "memory", "task", "review", "deploy", "user", "session", "error", "retry", "cache",
    "index", "query", "result", "summary", "draft", "email", "invoice", "project", "budget", "schedule", "remind",
    "follow", "up", "with", "the", "team", "about", "launch", "tomorrow", "morning", "customer", "feedback", "on",
];

/// An application-like database (text, JSON-ish metadata, numbers, a few blobs, two indexes) of about `bytes`.
fn build(path: &Path, bytes: u64) {
    let conn = Connection::open(path).unwrap();
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
         CREATE TABLE notes (id INTEGER PRIMARY KEY, owner INTEGER NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL,
                             meta TEXT, embedding BLOB, created REAL NOT NULL);
         CREATE INDEX notes_owner ON notes(owner, created);
         CREATE INDEX notes_title ON notes(title);",
    )
    .unwrap();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut id = 0i64;
    loop {
        conn.execute_batch("BEGIN").unwrap();
        {
            let mut st = conn
                .prepare("INSERT INTO notes VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
                .unwrap();
            for _ in 0..20_000 {
                id += 1;
                let words = |rng: &mut Rng, n: u64| {
                    (0..n)
                        .map(|_| WORDS[(rng.next() % WORDS.len() as u64) as usize])
                        .collect::<Vec<_>>()
                        .join(" ")
                };
                let n = 3 + rng.next() % 5;
                let title = words(&mut rng, n);
                let n = 20 + rng.next() % 120;
                let body = words(&mut rng, n);
                let meta = format!(
                    r#"{{"tags":["{}","{}"],"score":{},"v":2}}"#,
                    WORDS[id as usize % 35],
                    WORDS[(id as usize * 7) % 35],
                    rng.next() % 1000
                );
                let embedding: Option<Vec<u8>> =
                    (id % 4 == 0).then(|| (0..64).map(|_| (rng.next() >> 56) as u8).collect());
                let created = 1.7e9 + id as f64 * 13.7;
                st.execute(rusqlite::params![
                    id,
                    (rng.next() % 500) as i64,
                    title,
                    body,
                    meta,
                    embedding,
                    created
                ])
                .unwrap();
            }
        }
        conn.execute_batch("COMMIT").unwrap();
        let pages: i64 = conn.query_row("PRAGMA page_count", [], |r| r.get(0)).unwrap();
        let size: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0)).unwrap();
        if (pages * size) as u64 >= bytes {
            break;
        }
    }
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)").unwrap();
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Runs `f` `runs` times, each right after a `cp` of the database, and returns the medians of both. The machine this
/// runs on is shared and its load drifts: the ratio to the `cp` runs next to an operation is what stays comparable.
/// `prep` runs untimed before each run (deleting the previous run's output, as `cp`'s own target is deleted
/// untimed).
fn time_vs_cp<F: FnMut()>(runs: u64, cp: &dyn Fn() -> Duration, prep: &dyn Fn(), mut f: F) -> (Duration, Duration) {
    let mut cps = Vec::new();
    let mut ops = Vec::new();
    for _ in 0..runs {
        prep();
        settle();
        cps.push(cp());
        settle();
        let t = Instant::now();
        f();
        ops.push(t.elapsed());
    }
    (median(ops), median(cps))
}

fn sha256_of(path: &Path) -> [u8; 32] {
    use sha2::Digest;
    use std::io::Read;
    let mut f = std::fs::File::open(path).unwrap();
    let mut h = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    h.finalize().into()
}

/// Writes back all dirty pages (untimed): each timed run starts from the same state, not from the previous run's
/// unwritten gigabyte.
fn settle() {
    let _ = Command::new("sync").status();
}

fn warm(path: &Path) {
    let _ = std::fs::read(path).map(|b| b.len());
}

fn clear(dir: &Path) {
    let _ = std::fs::remove_dir_all(dir);
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing special: run a tiny size then.
    let testing = std::env::args().all(|a| a != "--bench");
    let mib = if testing { 2 } else { env_u64("BACKUP_BENCH_MIB", 64) };
    let runs = if testing {
        1
    } else {
        env_u64("BACKUP_BENCH_RUNS", 3).max(1)
    };
    // `BACKUP_BENCH_ONLY=restore`: only the restore rows (the backups they need are still taken, untimed);
    // `BACKUP_BENCH_ONLY=backup`: only the backup rows.
    let only = std::env::var("BACKUP_BENCH_ONLY").unwrap_or_default();
    let (restore_only, backup_only) = (only == "restore", only == "backup");
    let base = std::env::var_os("BACKUP_BENCH_DIR")
        .map(Into::into)
        .unwrap_or_else(std::env::temp_dir);
    let tmp = tempfile::tempdir_in(base).unwrap();
    let db = tmp.path().join("bench.db");
    let t = Instant::now();
    build(&db, mib << 20);
    let db_len = std::fs::metadata(&db).unwrap().len();
    eprintln!("built {} MiB in {:.1?}", db_len >> 20, t.elapsed());
    warm(&db);

    let cp_dst = tmp.path().join("cp.db");
    let cp_once = || {
        let _ = std::fs::remove_file(&cp_dst);
        let t = Instant::now();
        assert!(Command::new("cp").arg(&db).arg(&cp_dst).status().unwrap().success());
        t.elapsed()
    };
    let cp_sync = time_vs_cp(runs, &cp_once, &|| {}, || {
        let _ = std::fs::remove_file(&cp_dst);
        assert!(Command::new("cp").arg(&db).arg(&cp_dst).status().unwrap().success());
        std::fs::File::open(&cp_dst).unwrap().sync_all().unwrap();
    });

    let conn = Connection::open(&db).unwrap();
    let dir = tmp.path().join("backups");
    let opts = |compress: bool, quick: bool, method: SnapshotMethod| BackupOptions {
        dir: Some(dir.clone()),
        compress,
        quick_check: quick,
        method,
        retention: Retention::KEEP_ALL,
        ..BackupOptions::default()
    };
    let mut rows: Vec<(String, (Duration, Duration))> = vec![("`cp` + fsync".into(), cp_sync)];
    let mut last = None;
    // Timed backups go to their own directory, emptied untimed before each run.
    let cdir = tmp.path().join("backups-timed");
    let mut create = |label: &str, o: BackupOptions, rows: &mut Vec<(String, (Duration, Duration))>| {
        let o = BackupOptions {
            dir: Some(cdir.clone()),
            ..o
        };
        let d = time_vs_cp(runs, &cp_once, &|| clear(&cdir), || {
            let info = backup::create(&conn, &o, Reason::Manual, 1, 1).unwrap().unwrap();
            last = Some(info);
        });
        let info = last.clone().unwrap();
        rows.push((format!("{label} [{}]", info.method), d));
        info
    };
    if !restore_only {
        // The parts of a backup, to show where the time goes.
        let parts = [
            (SnapshotMethod::Auto, false, "snapshot: consistent copy only"),
            (SnapshotMethod::BackupApi, false, "snapshot: consistent copy only"),
            (
                SnapshotMethod::Auto,
                true,
                "snapshot: copy + sha256 + fsync, no check (plain backup without integrity_check)",
            ),
        ];
        for (method, hash_and_fsync, label) in parts {
            let mut used = "";
            let snap = tmp.path().join("snapshot.db");
            let d = time_vs_cp(runs, &cp_once, &|| drop(std::fs::remove_file(&snap)), || {
                used = backup::bench::snapshot_only(&conn, &snap, method, hash_and_fsync).unwrap();
            });
            rows.push((format!("{label} [{used}]"), d));
        }
        rows.push((
            "sha256 of the file alone".into(),
            time_vs_cp(runs, &cp_once, &|| {}, || {
                sha256_of(&db);
            }),
        ));
        // The real operation: snapshot, hash, fsync, integrity check, manifest.
        create(
            "backup plain (integrity_check)",
            opts(false, false, SnapshotMethod::Auto),
            &mut rows,
        );
        create(
            "backup plain (quick_check)",
            opts(false, true, SnapshotMethod::Auto),
            &mut rows,
        );
        create(
            "backup plain via backup API (integrity_check)",
            opts(false, false, SnapshotMethod::BackupApi),
            &mut rows,
        );
        create(
            "backup zstd-3 (integrity_check)",
            opts(true, false, SnapshotMethod::Auto),
            &mut rows,
        );
    }
    if backup_only {
        print_table(&rows, runs, db_len, None);
        return;
    }
    // Keep one plain and one compressed backup for verify and restore.
    clear(&dir);
    let plain = backup::create(&conn, &opts(false, false, SnapshotMethod::Auto), Reason::Manual, 1, 1)
        .unwrap()
        .unwrap();
    let zst_kept = backup::create(&conn, &opts(true, false, SnapshotMethod::Auto), Reason::Manual, 1, 1)
        .unwrap()
        .unwrap();
    if !restore_only {
        let verify_opts = opts(false, false, SnapshotMethod::Auto);
        rows.push((
            "verify plain (sha256 + integrity_check)".into(),
            time_vs_cp(runs, &cp_once, &|| {}, || {
                backup::verify(&dir, &plain.id, &verify_opts).unwrap();
            }),
        ));
        rows.push((
            "verify plain (sha256 + quick_check)".into(),
            time_vs_cp(runs, &cp_once, &|| {}, || {
                backup::verify(&dir, &plain.id, &opts(false, true, SnapshotMethod::Auto)).unwrap();
            }),
        ));
        rows.push((
            "verify zstd (sha256 + unzstd + integrity_check)".into(),
            time_vs_cp(runs, &cp_once, &|| {}, || {
                backup::verify(&dir, &zst_kept.id, &verify_opts).unwrap();
            }),
        ));
    }
    drop(conn);
    // A restore undoes a change: the database is first put (untimed) in the state a restore replaces. Each state is
    // made once from a copy of the database, then copied over it before every run (with a fresh connection).
    let states: [(&str, &str); 3] = [
        ("nothing changed since the backup", ""),
        (
            "after CREATE INDEX on a column",
            "CREATE INDEX notes_created ON notes(created);",
        ),
        (
            "after an UPDATE of every row",
            "UPDATE notes SET created = created + 1;",
        ),
    ];
    let state_files: Vec<std::path::PathBuf> = states
        .iter()
        .enumerate()
        .map(|(i, (_, sql))| {
            let f = tmp.path().join(format!("state-{i}.db"));
            std::fs::copy(&db, &f).unwrap();
            let c = Connection::open(&f).unwrap();
            c.execute_batch(sql).unwrap();
            c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)").unwrap();
            f
        })
        .collect();
    let target: std::cell::RefCell<Option<Connection>> = std::cell::RefCell::new(None);
    let put_state = |i: usize| {
        drop(target.borrow_mut().take());
        std::fs::copy(&state_files[i], &db).unwrap();
        for side in ["-wal", "-shm"] {
            let mut p = db.clone().into_os_string();
            p.push(side);
            let _ = std::fs::remove_file(p);
        }
        *target.borrow_mut() = Some(Connection::open(&db).unwrap());
    };
    // Copy-back alone: the verified file into the live database, in place (the default where no other connection
    // has the database open) and through the backup API (the fallback).
    let total_pages = plain.db_size / 4096;
    for (i, (state, _)) in states.iter().enumerate() {
        for method in [SnapshotMethod::Auto, SnapshotMethod::BackupApi] {
            if method == SnapshotMethod::BackupApi && i != states.len() - 1 {
                // The backup API writes every page whatever changed: one row is enough.
                continue;
            }
            let mut used = "";
            let mut pages = None;
            let d = time_vs_cp(runs, &cp_once, &|| put_state(i), || {
                let mut t = target.borrow_mut();
                // invariant: `put_state` has just opened it.
                let conn = t.as_mut().unwrap();
                let (m, p) = backup::bench::copy_back_only(conn, &plain.path, method).unwrap();
                (used, pages) = (m.as_str(), p);
            });
            let written = match pages {
                Some(p) => format!(", {p} of {total_pages} pages written"),
                None => String::new(),
            };
            rows.push((
                format!("restore copy-back only (fsynced), {state} [{used}{written}]"),
                d,
            ));
        }
    }
    // The whole restore: verify (hash + check), pre-restore backup (copy + hash + check), copy-back.
    let worst = states.len() - 1;
    for (quick, method, label) in [
        (false, SnapshotMethod::Auto, "integrity_check"),
        (true, SnapshotMethod::Auto, "quick_check"),
        (false, SnapshotMethod::BackupApi, "integrity_check"),
    ] {
        let restore_opts = opts(false, quick, method);
        let mut used = "";
        let d = time_vs_cp(runs, &cp_once, &|| put_state(worst), || {
            let mut t = target.borrow_mut();
            // invariant: `put_state` has just opened it.
            let conn = t.as_mut().unwrap();
            let r = backup::restore_info(conn, &plain, 1, &restore_opts).unwrap();
            used = r.method.as_str();
            if let Some(pre) = r.pre_restore {
                let _ = std::fs::remove_file(&pre.path);
                let _ = std::fs::remove_file(pre.manifest_path());
            }
        });
        rows.push((
            format!(
                "restore: verify + pre-restore backup + copy-back ({label}), {} [{used}]",
                states[worst].0
            ),
            d,
        ));
    }

    print_table(&rows, runs, db_len, Some(&zst_kept));
}

fn print_table(rows: &[(String, (Duration, Duration))], runs: u64, db_len: u64, zst: Option<&backup::BackupInfo>) {
    println!(
        "\nDatabase: {:.0} MiB ({} bytes), WAL mode, warm page cache. Median of {runs} runs of each operation, each \
         run right after a `cp` of the same file (`sync` untimed before each); the ratio is to the median of those \
         `cp` runs.\n",
        db_len as f64 / 1048576.0,
        db_len
    );
    println!("| operation | time | `cp` next to it | × cp |");
    println!("|---|---:|---:|---:|");
    for (label, (d, cp)) in rows {
        println!(
            "| {label} | {:.3} s | {:.3} s | {:.2} |",
            d.as_secs_f64(),
            cp.as_secs_f64(),
            d.as_secs_f64() / cp.as_secs_f64()
        );
    }
    if let Some(z) = zst {
        println!(
            "\nzstd level 3: {} → {} bytes, ratio {:.2}:1",
            z.db_size,
            z.size,
            z.db_size as f64 / z.size as f64
        );
    }
}
