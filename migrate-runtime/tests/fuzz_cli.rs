//! A bounded fuzz run over the command line's argument handling: random argument vectors, built from the real
//! commands and options, edge values (`--set ""`, non-ASCII table names, `u64::MAX`) and noise, go through clap's
//! parser in process (many cases: parsing returns a command or a usage error, never panics), and through the real
//! `migrate` binary (parse + run, against a temporary project with a database) with a wall-clock guard per case:
//! every run ends within the guard with a documented exit code (0–4) and no panic. Part of `cargo test --workspace`,
//! hence of CI; `PROPTEST_CASES` raises the number of runs (the in-process parse takes 20 times as many).

#![cfg(feature = "cli")]

use clap::Parser;
use litemigrate_runtime::cli::Cli;
use proptest::prelude::*;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(128)
}

/// A run of the binary that has not ended by then is a hang (a normal run takes milliseconds).
const GUARD: Duration = Duration::from_secs(60);

fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        12 => prop::sample::select(vec![
            // commands and subcommands
            "new", "status", "up", "down", "verify", "history", "baseline", "backup", "backups", "restore", "fts",
            "rebuild", "optimize", "check", "schema", "help",
            // options
            "--db", "--dir", "--set", "--history-table", "--json", "--backup-dir", "--no-backup", "--yes", "-y",
            "--validation-steps", "--to", "--steps", "--dry-run", "--per-migration", "--allow-out-of-order",
            "--allow-missing", "--allow-unknown-rollback", "--check", "--compress", "--live", "--embedded", "--diff",
            "--reversible", "--timestamp", "--help", "--version", "--",
            // values
            "app.db", "other.db", "migrations", "nope", "bk", "", "0", "1", "2", "3", "-1", "18446744073709551615",
            "18446744073709551616", "9223372036854775807", "é_hist", "日本", "日本語", "abcdefé", "sqlite_x", "_migrations", "posts_fts",
            "add_users", "Bad-Name", "--set=", "--db=app.db", "--to=1", "--validation-steps=0",
        ])
        .prop_map(str::to_owned),
        // No `/`: a generated path stays inside the project directory.
        1 => "[a-z0-9_.é日 -]{0,6}",
    ]
}

fn argv() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(token(), 0..8)
}

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_migrate"));
    c.env_remove("MIGRATE_DB")
        .env_remove("MIGRATE_DIR")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    c
}

/// The project every run starts from: two migrations, applied, and a backup.
struct Template {
    dir: tempfile::TempDir,
}

impl Template {
    fn new() -> Template {
        let dir = tempfile::tempdir().unwrap();
        let m = dir.path().join("migrations");
        std::fs::create_dir(&m).unwrap();
        let files = [
            (
                "0001_users.up.sql",
                "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);\n",
            ),
            ("0001_users.down.sql", "DROP TABLE users;\n"),
            (
                "0002_posts.sql",
                "CREATE TABLE posts (id INTEGER PRIMARY KEY, body TEXT);\n",
            ),
        ];
        for (name, sql) in files {
            std::fs::write(m.join(name), sql).unwrap();
        }
        for args in [&["up"][..], &["backup"]] {
            let ok = bin()
                .current_dir(dir.path())
                .args(["--db", "app.db", "--dir", "migrations"])
                .args(args)
                .status()
                .unwrap()
                .success();
            assert!(ok, "{args:?}");
        }
        Template { dir }
    }

    fn copy_to(&self, to: &Path) {
        copy_dir(self.dir.path(), to);
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

/// Runs the binary in `dir` with `args`: its exit code, or what went wrong (a hang, a signal, a panic).
fn run_guarded(dir: &Path, args: &[String]) -> Result<i32, String> {
    let mut child = bin()
        .current_dir(dir)
        .args(args)
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    // Drained on a thread, so a chatty run cannot block on a full pipe.
    let mut stderr = child.stderr.take().ok_or("no stderr pipe")?;
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        if start.elapsed() > GUARD {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("still running after {GUARD:?}"));
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let err = reader.join().unwrap_or_default();
    if err.contains("panicked") {
        return Err(format!("panicked: {err}"));
    }
    match status.code() {
        Some(c @ 0..=4) => Ok(c),
        Some(c) => Err(format!("exit code {c}: {err}")),
        None => Err(format!("killed by a signal: {err}")),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases() * 20, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn parsing_any_arguments_returns_a_command_or_a_usage_error(args in argv()) {
        let _ = Cli::try_parse_from(std::iter::once("migrate".to_owned()).chain(args));
    }
}

#[test]
fn running_any_arguments_ends_with_a_documented_exit_code() {
    use proptest::test_runner::{Config, TestRunner};
    let template = Template::new();
    let work = tempfile::tempdir().unwrap();
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    });
    let n = std::cell::Cell::new(0u32);
    // Half the runs start with a working --db/--dir, so the commands get past "no database" and do something.
    let strategy = (any::<bool>(), argv());
    runner
        .run(&strategy, |(with_db, tail)| {
            n.set(n.get() + 1);
            let root = work.path().join(format!("case{}", n.get()));
            template.copy_to(&root);
            let mut args: Vec<String> = Vec::new();
            if with_db {
                args.extend(["--db", "app.db", "--dir", "migrations"].map(str::to_owned));
            }
            args.extend(tail);
            let r = run_guarded(&root, &args);
            let _ = std::fs::remove_dir_all(&root);
            prop_assert!(r.is_ok(), "migrate {:?}: {}", args, r.unwrap_err());
            Ok(())
        })
        .unwrap();
}

/// The inputs behind the defects fixed for issue 12, pinned: each ends cleanly with its documented code.
#[test]
fn the_inputs_behind_the_fixed_defects_end_cleanly() {
    let template = Template::new();
    let work = tempfile::tempdir().unwrap();
    let pinned: [(&[&str], i32); 7] = [
        (&["--history-table", "é_hist", "status"], 1),
        (&["--history-table", "日本語", "status"], 1),
        (&["--history-table", "abcdefé", "up"], 1),
        (&["--set", "", "status"], 2),
        (&["--validation-steps", "0", "status"], 0),
        (&["--validation-steps", "", "status"], 2),
        (&["down", "--to", "18446744073709551615", "--yes"], 1),
    ];
    for (i, (args, code)) in pinned.iter().enumerate() {
        let root = work.path().join(format!("pinned{i}"));
        template.copy_to(&root);
        let mut full: Vec<String> = ["--db", "app.db", "--dir", "migrations"].map(str::to_owned).to_vec();
        full.extend(args.iter().map(|s| (*s).to_owned()));
        assert_eq!(run_guarded(&root, &full), Ok(*code), "migrate {full:?}");
    }
}
