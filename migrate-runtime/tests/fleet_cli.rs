//! `migrate fleet` and `migrate wait` as a user runs them: the real binary, killed with SIGKILL at random moments
//! and run again until the fleet is done; the JSON lines; a replica refused by `up`; `wait` on the command line.

mod common;

use litemigrate_runtime::fleet::{self, FileStatus};
use rusqlite::Connection;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const V1: (&str, &str) = ("0001_t.sql", "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);\n");
/// The pending migration: a column, an index over it and a rewrite of every row, so each file takes a moment.
const V2: (&str, &str) = (
    "0002_w.sql",
    "ALTER TABLE t ADD COLUMN w TEXT;\nUPDATE t SET w = hex(randomblob(32));\nCREATE INDEX t_w ON t(w);\n",
);

struct Tenants {
    tmp: tempfile::TempDir,
}

impl Tenants {
    /// A migrations directory with both files and `n` tenant databases at version 1 (200 rows each).
    fn new(n: usize) -> Tenants {
        let tmp = tempfile::tempdir().unwrap();
        let mig = tmp.path().join("migrations");
        std::fs::create_dir(&mig).unwrap();
        std::fs::create_dir(tmp.path().join("tenants")).unwrap();
        for (name, sql) in [V1, V2] {
            std::fs::write(mig.join(name), sql).unwrap();
        }
        let set = common::set(&[V1]);
        let t = Tenants { tmp };
        for i in 0..n {
            let mut conn = Connection::open(t.db(i)).unwrap();
            set.migrate(&mut conn).unwrap();
            conn.execute_batch(
                "INSERT INTO t(v) WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 200) \
                 SELECT hex(randomblob(16)) FROM c;",
            )
            .unwrap();
        }
        t
    }

    fn db(&self, i: usize) -> PathBuf {
        self.tmp.path().join("tenants").join(format!("tenant{i:04}.db"))
    }

    fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    fn migrate(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_migrate"));
        c.current_dir(self.tmp.path())
            .env_remove("MIGRATE_DB")
            .env_remove("MIGRATE_DIR")
            .env("NO_COLOR", "1")
            .arg("--dir")
            .arg("migrations");
        c
    }

    fn fleet(&self) -> Command {
        let mut c = self.migrate();
        c.args([
            "--json",
            "--backup-dir",
            "backups",
            "fleet",
            "tenants/*.db",
            "--jobs",
            "2",
        ])
        .args(["--journal", "fleet.journal"]);
        c
    }
}

fn newest(db: &Path) -> u64 {
    let conn = Connection::open(db).unwrap();
    common::history(&conn, "default").last().copied().unwrap_or(0)
}

/// A small xorshift over the clock: random kill moments without a dependency.
fn rng() -> impl FnMut() -> u64 {
    let mut x = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64 | 1;
    move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    }
}

#[test]
fn killed_runner_then_rerun_finishes_every_file_and_the_journal() {
    let n = 120;
    let t = Tenants::new(n);
    let mut next = rng();
    let mut interrupted_midway = 0;
    for round in 0..8 {
        let mut child = t.fleet().stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
        // The pipe is read (or held open) until the kill, so the runner never blocks on or dies of its stdout.
        let mut reader = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut ended_by_itself = false;
        if round == 0 {
            // A kill a few milliseconds after the start, before the first file's line can arrive: it lands while
            // the process starts, the journal is opened or the files are listed (too short to finish 120 files).
            std::thread::sleep(Duration::from_micros(next() % 3_000));
        } else {
            // A kill after a random number of reported files plus a random sliver of time: a random moment that
            // still lands while the fleet runs on any machine, however fast, so the test reaches the branch it is
            // named for. Each line is written after its file's transaction has ended.
            let lines = 1 + next() as usize % (n / 2);
            let mut line = String::new();
            for _ in 0..lines {
                line.clear();
                if std::io::BufRead::read_line(&mut reader, &mut line).unwrap() == 0 {
                    ended_by_itself = true;
                    break;
                }
            }
            std::thread::sleep(Duration::from_micros(next() % 2_000));
        }
        ended_by_itself |= child.try_wait().unwrap().is_some();
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        drop(reader);
        let done = (0..n).filter(|&i| newest(&t.db(i)) == 2).count();
        if !ended_by_itself && done > 0 && done < n {
            interrupted_midway += 1;
        }
        if done == n {
            break;
        }
    }
    eprintln!("{interrupted_midway} kill(s) landed in the middle of the fleet");
    assert!(
        interrupted_midway > 0,
        "no kill landed in the middle of the fleet; the test proved nothing"
    );

    let out = t.fleet().output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), n + 1, "one line per database, then the envelope");
    let summary = &lines[n]["data"];
    assert_eq!(summary["failed"], 0);
    assert_eq!(summary["done"], n as u64);
    assert!(
        summary["current"].as_u64().unwrap() > 0,
        "the rerun redid files it had finished"
    );

    for i in 0..n {
        let conn = Connection::open(t.db(i)).unwrap();
        assert_eq!(common::history(&conn, "default"), [1, 2], "tenant {i}");
        let ok: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
        assert_eq!(ok, "ok", "tenant {i}");
        let rows: i64 = conn.query_row("SELECT count(w) FROM t", [], |r| r.get(0)).unwrap();
        assert_eq!(rows, 200, "tenant {i}");
    }
    let state = fleet::journal::read(&t.path("fleet.journal")).unwrap();
    assert_eq!(state.files.len(), n);
    assert!(state.files.values().all(|s| *s == FileStatus::Done), "{state:?}");
    assert!(
        state.finished_runs >= 1 && state.runs > state.finished_runs,
        "{state:?}"
    );
}

fn json(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn up_refuses_a_replica_and_wait_reports_on_the_command_line() {
    let t = Tenants::new(1);
    let db = t.db(0);
    std::fs::write(t.path("tenants/.primary"), "node-a\n").unwrap();
    let before = std::fs::read(&db).unwrap();
    let out = t
        .migrate()
        .arg("--db")
        .arg(&db)
        .args(["--json", "up"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v = json(&out);
    assert_eq!(v["error"]["kind"], "replica", "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("replica: primary is node-a"),
        "{v}"
    );
    assert_eq!(std::fs::read(&db).unwrap(), before);

    let out = t
        .migrate()
        .arg("--db")
        .arg(&db)
        .args(["--json", "wait", "--timeout", "300ms", "--interval", "50ms"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json(&out)["error"]["kind"], "wait_timeout");

    // The primary migrates (here: the same file without the marker), and the replica's wait returns.
    std::fs::remove_file(t.path("tenants/.primary")).unwrap();
    let mut waiter = t
        .migrate()
        .arg("--db")
        .arg(&db)
        .args(["--json", "wait", "--timeout", "30s", "--interval", "20ms"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        waiter.try_wait().unwrap().is_none(),
        "wait returned before the migration"
    );
    let up = t
        .migrate()
        .arg("--db")
        .arg(&db)
        .args(["--no-backup", "up"])
        .output()
        .unwrap();
    assert_eq!(up.status.code(), Some(0));
    let out = waiter.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(json(&out)["data"]["version"], 2);
}

#[test]
fn fleet_usage_errors() {
    let t = Tenants::new(0);
    let out = t.migrate().args(["--json", "fleet", "tenants/[*.db"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json(&out)["error"]["kind"], "fleet_pattern");
    // --retry-failed needs the journal it reads.
    let out = t.migrate().args(["fleet", "--retry-failed"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}
