//! Real processes: many launching at once on one file, and children killed with SIGKILL mid-migration.
//!
//! The children are this test binary itself, started with `--exact <child test> --nocapture` and
//! `MIGRATE_TEST_CHILD` set, which works under both `cargo test` and `cargo nextest`. Without that variable the child
//! tests return at once. Counts are small by default; `MIGRATE_STRESS=1` makes them large.

mod common;

use litemigrate_core::compile::{CompileOptions, compile};
use litemigrate_core::load::{Entry, SourceFile, load_files};
use litemigrate_runtime::{Migrations, Mode};
use rusqlite::Connection;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const CHILD: &str = "MIGRATE_TEST_CHILD";
const DB: &str = "MIGRATE_TEST_DB";
const MODE: &str = "MIGRATE_TEST_MODE";
const COUNT: &str = "MIGRATE_TEST_COUNT";
const START_AT: &str = "MIGRATE_TEST_START_AT_MS";

fn stress() -> bool {
    std::env::var_os("MIGRATE_STRESS").is_some_and(|v| v != "0")
}

fn vacuum_version(n: usize) -> u64 {
    (n / 2 + 1) as u64
}

/// The set the children apply: `runs`, then `n` migrations that create a table, fill it, and log their run in
/// `runs`; one of them is a `no-transaction` VACUUM.
fn files(n: usize) -> Vec<(String, String)> {
    let mut out = vec![(
        "00001_runs.sql".to_string(),
        "CREATE TABLE runs(version INTEGER NOT NULL, pid INTEGER NOT NULL);\n".to_string(),
    )];
    for i in 2..=n + 1 {
        let sql = if i == vacuum_version(n) as usize {
            "-- migrate:no-transaction\nVACUUM;\n".to_string()
        } else {
            format!(
                "CREATE TABLE t{i}(id INTEGER PRIMARY KEY, v TEXT);\n\
                 CREATE INDEX t{i}_v ON t{i}(v);\n\
                 INSERT INTO t{i}(v) WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 200) \
                 SELECT hex(randomblob(16)) FROM c;\n\
                 INSERT INTO runs VALUES ({i}, 0);\n"
            )
        };
        out.push((format!("{i:05}_m{i}.sql"), sql));
    }
    out
}

fn compiled_set(n: usize) -> Migrations {
    let sources = load_files(
        files(n)
            .into_iter()
            .map(|(name, sql)| SourceFile {
                display: format!("migrations/{name}"),
                file_name: name,
                contents: Entry::File(sql.into_bytes()),
            })
            .collect(),
    )
    .unwrap();
    let compiled = compile(
        sources,
        &CompileOptions {
            run_sql: true,
            check_down: false,
            ..CompileOptions::default()
        },
    )
    .unwrap();
    Migrations::from_compiled("default", compiled)
}

fn spawn(child_test: &str, db: &Path, mode: &str, n: usize, start_at: Option<u128>) -> Child {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", child_test, "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .env(DB, db)
        .env(MODE, mode)
        .env(COUNT, n.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(t) = start_at {
        cmd.env(START_AT, t.to_string());
    }
    cmd.spawn().unwrap()
}

fn now_ms() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis()
}

fn env_usize(name: &str) -> usize {
    std::env::var(name).unwrap().parse().unwrap()
}

/// The child: migrate the file named by `MIGRATE_TEST_DB`, report how many steps it ran.
#[test]
fn child_migrate() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let set = compiled_set(env_usize(COUNT));
    let mode = if std::env::var(MODE).unwrap() == "per" {
        Mode::PerMigration
    } else {
        Mode::Batch
    };
    let mut conn = Connection::open(std::env::var(DB).unwrap()).unwrap();
    // Sixteen processes queue for the write lock; on a loaded CI machine the default 5 s is not enough.
    conn.busy_timeout(Duration::from_secs(120)).unwrap();
    if let Ok(t) = std::env::var(START_AT) {
        let t: u128 = t.parse().unwrap();
        while now_ms() < t {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    println!("START");
    match set.migrator().mode(mode).run(&mut conn) {
        Ok(r) => println!("APPLIED {}", r.applied.len()),
        Err(e) => {
            println!("ERROR {e}");
            std::process::exit(3);
        }
    }
}

/// Checks that the database is exactly at a version boundary of `set` and returns the version.
fn check_boundary(path: &Path, set: &Migrations, n: usize) -> u64 {
    let conn = Connection::open(path).unwrap();
    let integrity: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(integrity, "ok");
    let status = set.status(&conn).unwrap();
    let applied: Vec<u64> = status
        .entries
        .iter()
        .filter(|e| e.state == litemigrate_runtime::State::Applied)
        .map(|e| e.version)
        .collect();
    let k = status.current_version;
    // A prefix of the set, nothing else.
    let expected: Vec<u64> = set.iter().map(|m| m.version()).filter(|v| *v <= k).collect();
    assert_eq!(applied, expected, "history is not a prefix of the set");
    if !applied.is_empty() {
        // The embedded schema hash at k (and, independently, replaying the SQL up to k) match the live schema.
        set.verify(&conn).unwrap();
        let all = files(n);
        let refs = common::as_refs(&all);
        assert_eq!(common::schema(&conn), common::reference_schema(&refs, applied.len()));
        let runs: i64 = conn.query_row("SELECT count(*) FROM runs", [], |r| r.get(0)).unwrap();
        let vacuum_done = usize::from(k >= vacuum_version(n));
        assert_eq!(
            runs as usize,
            applied.len() - 1 - vacuum_done,
            "a migration's data without its history row"
        );
    }
    k
}

#[test]
fn concurrent_launches_apply_each_migration_once() {
    let (rounds, n) = if stress() { (10, 200) } else { (1, 30) };
    let set = compiled_set(n);
    for round in 0..rounds {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("app.db");
        let start_at = now_ms() + 500;
        let children: Vec<Child> = (0..16)
            .map(|i| {
                spawn(
                    "child_migrate",
                    &db,
                    if i % 2 == 0 { "batch" } else { "per" },
                    n,
                    Some(start_at),
                )
            })
            .collect();
        let mut total = 0usize;
        for c in children {
            let out = c.wait_with_output().unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success(),
                "round {round}: a process failed:\n{stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let applied: usize = stdout
                .lines()
                .find_map(|l| l.strip_prefix("APPLIED "))
                .unwrap_or_else(|| panic!("no report in:\n{stdout}"))
                .parse()
                .unwrap();
            total += applied;
        }
        assert_eq!(
            total,
            n + 1,
            "round {round}: migrations ran {total} times in all, not once each"
        );
        assert_eq!(check_boundary(&db, &set, n), n as u64 + 1);
        let conn = Connection::open(&db).unwrap();
        let dup: i64 = conn
            .query_row(
                "SELECT count(*) FROM (SELECT version FROM runs GROUP BY version HAVING count(*) > 1)",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(dup, 0);
    }
}

/// A cheap, seedable generator for kill delays (the test needs spread, not quality).
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[cfg(unix)]
#[test]
fn killed_mid_migration_leaves_a_version_boundary() {
    let (rounds, n) = if stress() { (100, 300) } else { (6, 120) };
    let set = compiled_set(n);
    let seed = std::env::var("MIGRATE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| now_ms() as u64 | 1);
    eprintln!("kill test seed {seed} (MIGRATE_SEED to replay)");
    let mut rng = XorShift(seed);
    let mut mid_run = 0;
    for round in 0..rounds {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("app.db");
        let mode = if round % 2 == 0 { "per" } else { "batch" };
        let mut child = spawn("child_migrate", &db, mode, n, None);
        // Wait until the child is about to migrate, then kill it after a random delay.
        let mut line = String::new();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        while !line.contains("START") {
            line.clear();
            if stdout.read_line(&mut line).unwrap() == 0 {
                break;
            }
        }
        std::thread::sleep(Duration::from_micros(rng.next() % 400_000));
        // SIGKILL: no destructor, no rollback, no unlock runs in the child.
        child.kill().unwrap();
        child.wait().unwrap();
        let k = check_boundary(&db, &set, n);
        if k > 0 && k <= n as u64 {
            mid_run += 1;
        }
        // The next launch finishes the job.
        let mut conn = Connection::open(&db).unwrap();
        set.migrate(&mut conn).unwrap();
        drop(conn);
        assert_eq!(check_boundary(&db, &set, n), n as u64 + 1, "round {round}");
    }
    eprintln!("{mid_run} of {rounds} kills landed between the first and the last migration");
}
