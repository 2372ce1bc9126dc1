//! Fleets (`litemigrate_runtime::fleet`): a mixed fleet gets one right result per database and nothing else
//! changes; a failing canary leaves every other file untouched; the fail policies; the journal.
//!
//! The database "locked by another process" is held by a child: this test binary started again with
//! `FLEET_TEST_LOCK_CHILD` set, which takes `BEGIN IMMEDIATE` on the file, says so on stdout and keeps the lock until
//! its stdin closes.

mod common;

use litemigrate_runtime::backup::{BackupOptions, BackupPolicy};
use litemigrate_runtime::fleet::{self, FailPolicy, FileResult, FileStatus, Fleet, SkipReason, Stopped};
use litemigrate_runtime::{ErrorKind, Migrations};
use rusqlite::Connection;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

const LOCK_CHILD: &str = "FLEET_TEST_LOCK_CHILD";

const V1: (&str, &str) = ("0001_t.sql", "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);\n");
/// The pending migration: a column and a unique index, which fails on a database with duplicate `v` values.
const V2: (&str, &str) = (
    "0002_w.sql",
    "ALTER TABLE t ADD COLUMN w TEXT;\nCREATE UNIQUE INDEX t_v ON t(v);\n",
);

fn v1() -> Migrations {
    common::set(&[V1])
}

fn v2() -> Migrations {
    common::set(&[V1, V2])
}

/// A database at version 1 with two rows (`dup`: both with the same `v`, so version 2 fails on it).
fn tenant(path: &Path, dup: bool) {
    let mut conn = Connection::open(path).unwrap();
    v1().migrate(&mut conn).unwrap();
    let second = if dup { "a" } else { "b" };
    conn.execute("INSERT INTO t(v) VALUES ('a'), (?1)", [second]).unwrap();
}

fn versions(path: &Path) -> Vec<u64> {
    common::history(&Connection::open(path).unwrap(), "default")
}

fn snapshot(path: &Path) -> (Vec<u8>, SystemTime) {
    (
        std::fs::read(path).unwrap(),
        std::fs::metadata(path).unwrap().modified().unwrap(),
    )
}

/// What a test keeps of a result (the callback only borrows it).
#[derive(Debug, Clone)]
struct Seen {
    status: FileStatus,
    from: Option<u64>,
    to: Option<u64>,
    applied: usize,
    backup: Option<PathBuf>,
    error: Option<(ErrorKind, String)>,
}

fn seen(r: &FileResult) -> (String, Seen) {
    let name = r.path.file_name().unwrap().to_string_lossy().into_owned();
    let s = Seen {
        status: r.status,
        from: r.from_version,
        to: r.to_version,
        applied: r.applied,
        backup: r.backup.as_ref().map(|b| b.path.clone()),
        error: r.error.as_ref().map(|e| (e.kind(), e.to_string())),
    };
    (name, s)
}

/// The child: holds the write lock on `FLEET_TEST_LOCK_CHILD` until stdin closes.
#[test]
fn lock_holder_child() {
    let Some(db) = std::env::var_os(LOCK_CHILD) else {
        return;
    };
    let conn = Connection::open(db).unwrap();
    conn.execute_batch("BEGIN IMMEDIATE; INSERT INTO t(v) VALUES ('held');")
        .unwrap();
    println!("locked");
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
    conn.execute_batch("ROLLBACK").unwrap();
}

/// The child and its stdout, kept open so the child's last lines do not hit a closed pipe.
struct Locked {
    child: std::process::Child,
    _out: BufReader<std::process::ChildStdout>,
}

impl Drop for Locked {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

fn lock_in_child(db: &Path) -> Locked {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "lock_holder_child", "--nocapture", "--test-threads=1"])
        .env(LOCK_CHILD, db)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let locked = (&mut out).lines().any(|l| l.is_ok_and(|l| l.contains("locked")));
    assert!(locked, "the child did not take the lock");
    Locked { child, _out: out }
}

#[test]
fn mixed_fleet_each_file_gets_its_result_and_nothing_else_changes() {
    let dir = tempfile::tempdir().unwrap();
    let tenants = dir.path().join("tenants");
    std::fs::create_dir(&tenants).unwrap();
    let p = |n: &str| tenants.join(n);
    // current: already at version 2.
    tenant(&p("current.db"), false);
    v2().migrate(&mut Connection::open(p("current.db")).unwrap()).unwrap();
    tenant(&p("behind.db"), false);
    tenant(&p("failing.db"), true);
    tenant(&p("locked.db"), false);
    // corrupt: a real database at version 1 whose first page (the schema's b-tree) is overwritten after the header.
    tenant(&p("corrupt.db"), false);
    let mut bytes = std::fs::read(p("corrupt.db")).unwrap();
    bytes[100..1000].fill(0xA5);
    std::fs::write(p("corrupt.db"), &bytes).unwrap();
    std::fs::write(p("notadb.db"), "this is a text file, not SQLite\n".repeat(200)).unwrap();

    let untouched = ["current.db", "corrupt.db", "notadb.db"].map(|n| (n, snapshot(&p(n))));
    let failing_schema = common::schema(&Connection::open(p("failing.db")).unwrap());
    let lock = lock_in_child(&p("locked.db"));

    let backups = dir.path().join("backups");
    let set = v2();
    let mut r = HashMap::new();
    let summary = Fleet::new(&set)
        .jobs(3)
        .fail_policy(FailPolicy::Continue)
        .busy_timeout(Duration::from_millis(300))
        .backup(BackupPolicy::Required)
        .backup_options(BackupOptions {
            dir: Some(backups.clone()),
            ..BackupOptions::default()
        })
        .run_glob(&format!("{}/*.db", tenants.display()), |res| {
            r.insert(seen(res).0, seen(res).1);
        })
        .unwrap();
    drop(lock);

    assert_eq!(summary.files, 6, "{summary:?}");
    assert_eq!(
        (summary.migrated, summary.current, summary.failed),
        (1, 1, 4),
        "{summary:?}"
    );
    assert!(summary.stopped.is_none());
    let kind = |n: &str| r[n].error.clone();

    assert_eq!(r["current.db"].status, FileStatus::Done);
    assert_eq!((r["current.db"].from, r["current.db"].applied), (Some(2), 0));
    assert_eq!(r["behind.db"].status, FileStatus::Done);
    assert_eq!((r["behind.db"].from, r["behind.db"].to), (Some(1), Some(2)));
    assert_eq!(r["behind.db"].applied, 1);
    assert!(r["behind.db"].backup.as_ref().is_some_and(|b| b.starts_with(&backups)));
    assert_eq!(versions(&p("behind.db")), [1, 2]);

    // failing: the unique index fails, the batch rolls back, the database stays at version 1 and names the file.
    assert_eq!(r["failing.db"].status, FileStatus::Failed);
    let (k, msg) = kind("failing.db").unwrap();
    assert_eq!(k, ErrorKind::MigrationFailed, "{msg}");
    assert!(msg.contains("0002_w.sql"), "{msg}");
    assert_eq!((r["failing.db"].from, r["failing.db"].to), (Some(1), Some(1)));
    assert_eq!(versions(&p("failing.db")), [1]);
    assert_eq!(
        common::schema(&Connection::open(p("failing.db")).unwrap()),
        failing_schema
    );

    // locked: busy after the timeout; the child's uncommitted row never landed and nothing was migrated.
    assert_eq!(r["locked.db"].status, FileStatus::Failed);
    assert_eq!(kind("locked.db").unwrap().0, ErrorKind::Busy, "{:?}", kind("locked.db"));
    assert_eq!(versions(&p("locked.db")), [1]);

    for n in ["corrupt.db", "notadb.db"] {
        assert_eq!(r[n].status, FileStatus::Failed, "{n}");
        let (k, msg) = kind(n).unwrap();
        assert_eq!(k, ErrorKind::Database, "{n}: {msg}");
    }
    for (n, before) in untouched {
        assert_eq!(snapshot(&p(n)), before, "{n} changed");
    }
    // Backups of the databases that had work (the locked one's is taken by reading, before its write lock is
    // refused); none of the current, corrupt or foreign files.
    let backed_up: Vec<_> = std::fs::read_dir(&backups)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".bak"))
        .collect();
    assert!(
        backed_up
            .iter()
            .all(|n| ["behind.", "failing.", "locked."].iter().any(|p| n.starts_with(p))),
        "{backed_up:?}"
    );
}

/// Six tenants, the first (in glob order) failing; two canaries: the second canary is migrated, the four others
/// are neither opened nor changed.
#[test]
fn a_failed_canary_leaves_every_other_file_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let names = ["a.db", "b.db", "c.db", "d.db", "e.db", "f.db"];
    for n in names {
        tenant(&dir.path().join(n), n == "a.db");
    }
    let outside: Vec<_> = names[2..].iter().map(|n| (*n, snapshot(&dir.path().join(n)))).collect();
    std::thread::sleep(Duration::from_millis(20)); // an mtime change would be visible
    let set = v2();
    let mut got = Vec::new();
    let summary = Fleet::new(&set)
        .jobs(2)
        .canary(2)
        .fail_policy(FailPolicy::Continue) // the canary stops the run whatever the policy
        .backup(BackupPolicy::Off)
        .run_glob(&format!("{}/*.db", dir.path().display()), |r| {
            got.push((
                r.path.file_name().unwrap().to_string_lossy().into_owned(),
                r.status,
                r.skipped,
                r.canary,
            ))
        })
        .unwrap();
    assert_eq!(summary.stopped, Some(Stopped::CanaryFailed));
    assert_eq!(
        (summary.failed, summary.migrated, summary.skipped),
        (1, 1, 4),
        "{summary:?}"
    );
    got.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(got[0], ("a.db".into(), FileStatus::Failed, None, true));
    assert_eq!(got[1], ("b.db".into(), FileStatus::Done, None, true));
    for s in &got[2..] {
        assert_eq!(
            (s.1, s.2, s.3),
            (FileStatus::Skipped, Some(SkipReason::CanaryFailed), false),
            "{s:?}"
        );
    }
    for (n, before) in outside {
        assert_eq!(snapshot(&dir.path().join(n)), before, "{n} was touched");
        assert!(!dir.path().join(format!("{n}-journal")).exists());
    }
}

/// The default policy: after the first failure no database is started; with one job the order is the listing's.
#[test]
fn stop_policy_starts_nothing_after_a_failure_and_continue_reports_every_failure() {
    let dir = tempfile::tempdir().unwrap();
    let paths: Vec<PathBuf> = (0..5).map(|i| dir.path().join(format!("t{i}.db"))).collect();
    for (i, path) in paths.iter().enumerate() {
        tenant(path, i == 1 || i == 3);
    }
    let set = v2();
    let mut order = Vec::new();
    let summary = Fleet::new(&set)
        .jobs(1)
        .backup(BackupPolicy::Off)
        .run(paths.clone(), |r| order.push((r.status, r.skipped)))
        .unwrap();
    assert_eq!(summary.stopped, Some(Stopped::FirstFailure));
    assert_eq!(
        order,
        [
            (FileStatus::Done, None),
            (FileStatus::Failed, None),
            (FileStatus::Skipped, Some(SkipReason::StoppedAfterFailure)),
            (FileStatus::Skipped, Some(SkipReason::StoppedAfterFailure)),
            (FileStatus::Skipped, Some(SkipReason::StoppedAfterFailure)),
        ]
    );
    assert_eq!(versions(&paths[2]), [1], "a skipped file was migrated");

    let summary = Fleet::new(&set)
        .jobs(2)
        .fail_policy(FailPolicy::Continue)
        .backup(BackupPolicy::Off)
        .run(paths.clone(), |_| {})
        .unwrap();
    assert_eq!(
        (summary.current, summary.migrated, summary.failed),
        (1, 2, 2),
        "{summary:?}"
    );
    for (i, path) in paths.iter().enumerate() {
        let want: &[u64] = if i == 1 || i == 3 { &[1] } else { &[1, 2] };
        assert_eq!(versions(path), want, "{}", path.display());
    }
}

/// The journal: one line per database, the failures to retry, a torn last line from a killed run tolerated.
#[test]
fn journal_records_each_file_and_lists_the_failures_to_retry() {
    let dir = tempfile::tempdir().unwrap();
    let paths: Vec<PathBuf> = (0..4).map(|i| dir.path().join(format!("t{i}.db"))).collect();
    for (i, path) in paths.iter().enumerate() {
        tenant(path, i == 2);
    }
    let journal = dir.path().join("fleet.journal");
    // What `kill -9` during a write leaves behind: a line without its end.
    std::fs::write(
        &journal,
        "{\"event\":\"start\"}\n{\"event\":\"file\",\"path\":\"/x\",\"sta",
    )
    .unwrap();
    let set = v2();
    let run = || {
        Fleet::new(&set)
            .jobs(2)
            .fail_policy(FailPolicy::Continue)
            .backup(BackupPolicy::Off)
            .journal(&journal)
            .run(paths.clone(), |_| {})
            .unwrap()
    };
    let summary = run();
    assert_eq!((summary.migrated, summary.failed), (3, 1));
    let state = fleet::journal::read(&journal).unwrap();
    assert_eq!((state.runs, state.finished_runs, state.torn_lines), (2, 1, 1));
    assert_eq!(state.files.len(), 4);
    assert_eq!(fleet::journal::failed_paths(&journal).unwrap(), [paths[2].clone()]);

    // Fix the data, retry the failures only.
    let conn = Connection::open(&paths[2]).unwrap();
    conn.execute("UPDATE t SET v = 'c' WHERE id = 2", []).unwrap();
    let retry = fleet::journal::failed_paths(&journal).unwrap();
    let summary = Fleet::new(&set)
        .backup(BackupPolicy::Off)
        .journal(&journal)
        .run(retry, |_| {})
        .unwrap();
    assert_eq!((summary.files, summary.migrated), (1, 1));
    assert!(fleet::journal::failed_paths(&journal).unwrap().is_empty());
    let state = fleet::journal::read(&journal).unwrap();
    assert!(state.files.values().all(|s| *s == FileStatus::Done), "{state:?}");
    // Every line of the two runs is whole JSON.
    let text = std::fs::read_to_string(&journal).unwrap();
    let whole = text
        .lines()
        .skip(2)
        .filter(|l| serde_json::from_str::<serde_json::Value>(l).is_ok())
        .count();
    assert_eq!(whole, text.lines().count() - 2);
}

/// With one job the caller's thread migrates in the listing's order: the failing first canary stops the run before
/// the second canary starts, and nothing else is opened.
#[test]
fn one_job_a_failed_canary_stops_before_the_next_file() {
    let dir = tempfile::tempdir().unwrap();
    let names = ["a.db", "b.db", "c.db"];
    for n in names {
        tenant(&dir.path().join(n), n == "a.db");
    }
    let rest: Vec<_> = names[1..].iter().map(|n| (*n, snapshot(&dir.path().join(n)))).collect();
    let set = v2();
    let mut got = Vec::new();
    let summary = Fleet::new(&set)
        .jobs(1)
        .canary(2)
        .backup(BackupPolicy::Off)
        .run_glob(&format!("{}/*.db", dir.path().display()), |r| {
            got.push((r.status, r.skipped))
        })
        .unwrap();
    assert_eq!(summary.stopped, Some(Stopped::CanaryFailed));
    assert_eq!(
        got,
        [
            (FileStatus::Failed, None),
            (FileStatus::Skipped, Some(SkipReason::CanaryFailed)),
            (FileStatus::Skipped, Some(SkipReason::CanaryFailed)),
        ]
    );
    for (n, before) in rest {
        assert_eq!(snapshot(&dir.path().join(n)), before, "{n} was touched");
    }
}

/// Results reach the callback while other databases are still running, not in one burst at the end: one worker is
/// held on a database another process has locked (with a busy timeout far longer than the test), and the lock is
/// released from the callback once every other database's result has arrived. Without streaming the held
/// database would wait out its 60 s timeout and fail `busy`; here it is migrated.
#[test]
fn results_stream_to_the_callback_while_a_database_is_still_running() {
    let dir = tempfile::tempdir().unwrap();
    let held = dir.path().join("a_held.db");
    tenant(&held, false);
    let others: Vec<PathBuf> = (0..30).map(|i| dir.path().join(format!("t{i:02}.db"))).collect();
    for p in &others {
        tenant(p, false);
    }
    let mut lock = Some(lock_in_child(&held));
    let set = v2();
    let mut seen_others = 0;
    let mut released_before_held_finished = false;
    let mut held_result = None;
    let summary = Fleet::new(&set)
        .jobs(2)
        .backup(BackupPolicy::Off)
        .busy_timeout(Duration::from_secs(60))
        .run_glob(&format!("{}/*.db", dir.path().display()), |r| {
            if r.path == held {
                held_result = Some(seen(r).1);
                return;
            }
            seen_others += 1;
            if seen_others == others.len() {
                released_before_held_finished = held_result.is_none();
                drop(lock.take()); // the child rolls back and exits
            }
        })
        .unwrap();
    assert!(
        released_before_held_finished,
        "the other results came only after the held database finished"
    );
    let held_result = held_result.unwrap();
    assert_eq!(held_result.status, FileStatus::Done, "{held_result:?}");
    assert_eq!(held_result.applied, 1);
    assert_eq!((summary.migrated, summary.failed), (31, 0), "{summary:?}");
    assert_eq!(versions(&held), [1, 2]);
}

/// Stop at the first failure with several workers: the failing database is the first one started, the run stops,
/// every database reported skipped is untouched, and the counts add up.
#[test]
fn stop_policy_with_workers_starts_nothing_after_the_failure() {
    let dir = tempfile::tempdir().unwrap();
    let paths: Vec<PathBuf> = (0..60).map(|i| dir.path().join(format!("t{i:02}.db"))).collect();
    for (i, path) in paths.iter().enumerate() {
        tenant(path, i == 0);
    }
    let set = v2();
    let mut got = Vec::new();
    let summary = Fleet::new(&set)
        .jobs(2)
        .backup(BackupPolicy::Off)
        .run(paths.clone(), |r| got.push((r.path.clone(), r.status, r.skipped)))
        .unwrap();
    assert_eq!(summary.stopped, Some(Stopped::FirstFailure));
    assert_eq!(got.len(), paths.len());
    assert_eq!(summary.failed, 1, "{summary:?}");
    assert_eq!(summary.migrated + summary.failed + summary.skipped, 60, "{summary:?}");
    // The failure is known within a millisecond, while the other worker's first file is still syncing: 59 files
    // would have to be migrated meanwhile for nothing to be skipped.
    assert!(summary.skipped > 0, "nothing was skipped: {summary:?}");
    for (path, status, skipped) in &got {
        match status {
            FileStatus::Skipped => {
                assert_eq!(*skipped, Some(SkipReason::StoppedAfterFailure));
                assert_eq!(versions(path), [1], "{} was migrated", path.display());
                assert!(!path.with_extension("db-journal").exists());
            }
            FileStatus::Done => assert_eq!(versions(path), [1, 2]),
            FileStatus::Failed => assert_eq!(path, &paths[0]),
        }
    }
}

/// More workers and canaries than databases, and an empty listing: the run ends, every database once.
#[test]
fn more_jobs_and_canaries_than_databases_and_an_empty_listing() {
    let dir = tempfile::tempdir().unwrap();
    let paths: Vec<PathBuf> = (0..3).map(|i| dir.path().join(format!("t{i}.db"))).collect();
    for path in &paths {
        tenant(path, false);
    }
    let set = v2();
    let mut canaries = 0;
    let summary = Fleet::new(&set)
        .jobs(8)
        .canary(5)
        .backup(BackupPolicy::Off)
        .run(paths.clone(), |r| canaries += usize::from(r.canary))
        .unwrap();
    assert_eq!((summary.files, summary.migrated, canaries), (3, 3, 3), "{summary:?}");
    let summary = Fleet::new(&set)
        .jobs(8)
        .run(Vec::<PathBuf>::new(), |_| panic!("no database"))
        .unwrap();
    assert_eq!(summary.files, 0);
    assert!(summary.is_ok());
}

/// Canaries start in waves of `jobs`: a wave runs whole, and after a failing wave no further canary starts. Two
/// jobs, five canaries, the first failing: the second (same wave) is migrated whatever the scheduling; the other
/// three canaries and every other file are skipped untouched, the canaries still marked as such.
#[test]
fn canaries_run_in_waves_of_jobs_and_a_failed_wave_stops_the_next() {
    let dir = tempfile::tempdir().unwrap();
    let names = ["a.db", "b.db", "c.db", "d.db", "e.db", "f.db", "g.db"];
    for n in names {
        tenant(&dir.path().join(n), n == "a.db");
    }
    let rest: Vec<_> = names[2..].iter().map(|n| (*n, snapshot(&dir.path().join(n)))).collect();
    let set = v2();
    let mut got = Vec::new();
    let summary = Fleet::new(&set)
        .jobs(2)
        .canary(5)
        .backup(BackupPolicy::Off)
        .run_glob(&format!("{}/*.db", dir.path().display()), |r| {
            got.push((
                r.path.file_name().unwrap().to_string_lossy().into_owned(),
                r.status,
                r.skipped,
                r.canary,
            ))
        })
        .unwrap();
    assert_eq!(summary.stopped, Some(Stopped::CanaryFailed));
    got.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(got[0], ("a.db".into(), FileStatus::Failed, None, true));
    assert_eq!(got[1], ("b.db".into(), FileStatus::Done, None, true));
    for (i, s) in got[2..].iter().enumerate() {
        let canary = i < 3;
        assert_eq!(
            (s.1, s.2, s.3),
            (FileStatus::Skipped, Some(SkipReason::CanaryFailed), canary),
            "{s:?}"
        );
    }
    for (n, before) in rest {
        assert_eq!(snapshot(&dir.path().join(n)), before, "{n} was touched");
    }
}

/// A database whose file name is not UTF-8 is migrated and journaled (its path written lossily), not a panic.
#[cfg(unix)]
#[test]
fn a_file_name_that_is_not_utf8_is_journaled() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let odd = dir.path().join(std::ffi::OsStr::from_bytes(b"t\xff.db"));
    tenant(&odd, false);
    let journal = dir.path().join("fleet.journal");
    let set = v2();
    let mut json = Vec::new();
    let summary = Fleet::new(&set)
        .jobs(2)
        .backup(BackupPolicy::Off)
        .journal(&journal)
        .run([odd.clone()], |r| json.push(r.to_json()))
        .unwrap();
    assert_eq!(summary.migrated, 1, "{summary:?}");
    assert_eq!(versions(&odd), [1, 2]);
    assert_eq!(json[0]["path"], format!("{}/t\u{fffd}.db", dir.path().display()));
    let state = fleet::journal::read(&journal).unwrap();
    assert_eq!((state.files.len(), state.finished_runs, state.torn_lines), (1, 1, 0));
}

/// A callback that panics ends the run with that panic: the workers are released instead of waiting forever for
/// the caller's thread to refill their queue (the listing, 5,000 paths over 40 files, is longer than the queue).
#[test]
fn a_panicking_callback_ends_the_run_instead_of_hanging_it() {
    let dir = tempfile::tempdir().unwrap();
    let paths: Vec<PathBuf> = (0..40).map(|i| dir.path().join(format!("t{i:02}.db"))).collect();
    for path in &paths {
        tenant(path, false);
    }
    let set = v2();
    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        Fleet::new(&set)
            .jobs(2)
            .backup(BackupPolicy::Off)
            .run(paths.iter().cycle().take(5000).cloned(), |_| panic!("callback bug"))
    }));
    let msg = run.unwrap_err();
    assert_eq!(msg.downcast_ref::<&str>(), Some(&"callback bug"));
    for path in &paths {
        let v = versions(path);
        assert!(v == [1] || v == [1, 2], "{}: {v:?}", path.display());
    }
}
