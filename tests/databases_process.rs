//! A catalog across real processes: two launchers on one data directory, and a child killed with SIGKILL while it
//! moves a table from one file to another.
//!
//! The children are this test binary itself, started with `--exact <child test> --nocapture` and
//! `CATALOG_TEST_CHILD` set; without that variable the child tests return at once.

use litemigrate::backup::BackupPolicy;
use litemigrate::catalog::CatalogOptions;
use litemigrate::rusqlite::Connection;
use litemigrate::{Databases, Target};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

static ASSISTANT: Databases = litemigrate::embed_databases!("examples/assistant/migrations");

const CHILD: &str = "CATALOG_TEST_CHILD";
const DATA: &str = "CATALOG_TEST_DATA";
const START_AT: &str = "CATALOG_TEST_START_AT_MS";
const NO_BACKUP: &str = "CATALOG_TEST_NO_BACKUP";

fn now_ms() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis()
}

fn spawn(child_test: &str, data: &Path, envs: &[(&str, String)]) -> Child {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", child_test, "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .env(DATA, data)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.spawn().unwrap()
}

/// The child: waits for the common start time, runs `migrate_all`, prints `applied <n>`.
#[test]
fn child_migrate_all() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let data = std::env::var_os(DATA).unwrap();
    if let Some(at) = std::env::var(START_AT).ok().and_then(|v| v.parse::<u128>().ok()) {
        while now_ms() < at {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    let opts = CatalogOptions {
        backup: if std::env::var_os(NO_BACKUP).is_some() {
            BackupPolicy::Off
        } else {
            BackupPolicy::Required
        },
        ..CatalogOptions::default()
    };
    println!("started");
    let report = ASSISTANT.migrate_all_with(&data, &opts).unwrap();
    let applied: usize = report.databases.iter().map(|d| d.applied.len()).sum();
    println!("applied {applied}");
}

fn history_rows(data: &Path, file: &str) -> i64 {
    let c = Connection::open(data.join(file)).unwrap();
    c.query_row("SELECT count(*) FROM _migrations", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn two_processes_on_one_data_directory_run_every_migration_exactly_once() {
    if std::env::var_os(CHILD).is_some() {
        return;
    }
    let total: usize = ASSISTANT.databases().iter().map(|d| d.migrations().len()).sum();
    for round in 0..3 {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("data");
        let start = (now_ms() + 700).to_string();
        let children: Vec<Child> = (0..2)
            .map(|_| spawn("child_migrate_all", &data, &[(START_AT, start.clone())]))
            .collect();
        let mut applied = Vec::new();
        for c in children {
            let out = c.wait_with_output().unwrap();
            assert!(out.status.success(), "round {round}: a launcher failed");
            let text = String::from_utf8(out.stdout).unwrap();
            let n: usize = text
                .lines()
                .find_map(|l| l.strip_prefix("applied "))
                .and_then(|n| n.trim().parse().ok())
                .unwrap_or_else(|| panic!("round {round}: {text}"));
            applied.push(n);
        }
        assert_eq!(applied.iter().sum::<usize>(), total, "round {round}: {applied:?}");
        for d in ASSISTANT.databases() {
            assert_eq!(
                history_rows(&data, d.file()),
                d.migrations().len() as i64,
                "{}",
                d.name()
            );
        }
        // Both launched, and one of them found the work done.
        assert!(applied.contains(&0), "round {round}: {applied:?}");
    }
}

/// Release 1 with `n` notes in knowledge.db (see tests/databases.rs).
fn release_1(data: &Path, n: i64) {
    std::fs::create_dir_all(data).unwrap();
    for (name, v) in [("knowledge", 3), ("tasks", 1), ("workflows", 2), ("performance", 1)] {
        let d = ASSISTANT.get(name).unwrap();
        let mut conn = Connection::open(d.path_in(data)).unwrap();
        d.migrations()
            .migrator()
            .target(Target::Version(v))
            .backup(BackupPolicy::Off)
            .run(&mut conn)
            .unwrap();
        if name == "knowledge" {
            conn.execute(
                "INSERT INTO notes(body, topic) WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c \
                 WHERE x < ?1) SELECT printf('note %d %s', x, hex(randomblob(40))), 'topic' FROM c",
                [n],
            )
            .unwrap();
        }
    }
}

/// `(rows in knowledge.notes, rows in tasks.task_notes)`, 0 for a table that does not exist.
fn where_the_notes_are(data: &Path) -> (i64, i64) {
    let rows = |file: &str, table: &str| {
        let c = Connection::open(data.join(file)).unwrap();
        let exists: i64 = c
            .query_row("SELECT count(*) FROM sqlite_schema WHERE name = ?1", [table], |r| {
                r.get(0)
            })
            .unwrap();
        if exists == 0 {
            0
        } else {
            c.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
                .unwrap()
        }
    };
    // Opening the files rolls back a hot journal (SQLite's recovery), as the next launch would.
    (rows("knowledge.db", "notes"), rows("tasks.db", "task_notes"))
}

#[test]
fn a_move_killed_at_random_moments_leaves_the_rows_in_exactly_one_file() {
    if std::env::var_os(CHILD).is_some() {
        return;
    }
    const N: i64 = 60_000;
    // How long the steps take here, to spread the kills over them.
    let probe = tempfile::tempdir().unwrap();
    release_1(probe.path(), N);
    let t = Instant::now();
    let opts = CatalogOptions {
        backup: BackupPolicy::Off,
        ..CatalogOptions::default()
    };
    ASSISTANT.migrate_all_with(probe.path(), &opts).unwrap();
    let span = t.elapsed().as_micros().max(1000) as u64;

    let mut seed = (now_ms() as u64) | 1;
    let mut killed_running = 0;
    let mut states = [0usize; 3]; // before the move, after it, after the drop
    for i in 0..10 {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path();
        release_1(data, N);
        let mut child = spawn("child_migrate_all", data, &[(NO_BACKUP, "1".into())]);
        let mut out = BufReader::new(child.stdout.take().unwrap());
        // The test harness prints its own lines first.
        let mut line = String::new();
        while !line.trim_end().ends_with("started") {
            line.clear();
            assert!(
                out.read_line(&mut line).unwrap() > 0,
                "iteration {i}: the child exited before it started"
            );
        }
        // xorshift: a different moment each iteration, over 1.2 × the steps' duration.
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        std::thread::sleep(Duration::from_micros(seed % (span + span / 5)));
        if child.try_wait().unwrap().is_none() {
            killed_running += 1;
        }
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();

        let (old, new) = where_the_notes_are(data);
        assert!(
            (old, new) == (N, 0) || (old, new) == (0, N),
            "iteration {i}: notes in knowledge.db {old}, in tasks.db {new}: never in both, never in neither"
        );
        let v = |name: &str| {
            let d = ASSISTANT.get(name).unwrap();
            let c = Connection::open(d.path_in(data)).unwrap();
            d.migrations().status(&c).unwrap().current_version
        };
        states[match (v("tasks"), v("knowledge")) {
            (1, _) => 0,
            (_, 3) => 1,
            _ => 2,
        }] += 1;
        // The next launch finishes the job.
        ASSISTANT.migrate_all(data).unwrap();
        assert_eq!(
            where_the_notes_are(data),
            (0, N),
            "iteration {i}: after the next launch"
        );
    }
    eprintln!(
        "kills while running: {killed_running}/10; states (before move, moved, dropped): {states:?}; span {span} µs"
    );
    assert!(
        killed_running > 0,
        "no child was killed while it ran: the test did not reach the move"
    );
    assert!(states[0] > 0, "no kill landed before the move committed");
}
