//! The `migrate` binary's errors: each bad input gets its own message, JSON `error.kind` and documented exit code;
//! commands that lose data refuse without a terminal unless `--yes`; and the embedded form refuses `--dir`/`new`.

mod cli_support;

use cli_support::Project;
use predicates::str::contains;

#[test]
fn missing_database_is_reported_not_created() {
    let p = Project::new();
    for args in [
        &["status"][..],
        &["verify"],
        &["history"],
        &["baseline", "1"],
        &["backup"],
        &["down", "--to", "0", "--yes"],
        &["schema", "--live"],
        &["schema", "--diff"],
        &["fts", "check", "posts_fts"],
    ] {
        let (v, code) = p.json(args);
        assert_eq!(code, 1, "{args:?}: {v}");
        assert_eq!(v["error"]["kind"], "database_not_found", "{args:?}");
        assert!(!p.db().exists(), "{args:?} created the database");
    }
    p.cmd(&["status"])
        .assert()
        .code(1)
        .stderr(contains("error: database app.db does not exist"))
        .stderr(contains("`up` creates a new database"));
}

#[test]
fn no_database_argument_is_a_usage_error() {
    let p = Project::new();
    p.bare()
        .args(["--dir", "migrations", "status"])
        .assert()
        .code(2)
        .stderr(contains("no database given"))
        .stderr(contains("--db"));
    // MIGRATE_DB stands in for --db.
    p.up();
    p.bare()
        .args(["--dir", "migrations", "status"])
        .env("MIGRATE_DB", "app.db")
        .assert()
        .success();
}

#[test]
fn bad_directory() {
    let p = Project::new();
    let out = p
        .bare()
        .args(["--db", "app.db", "--dir", "nope", "--json", "status"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["error"]["kind"], "bad_directory");
    assert!(
        v["error"]["message"].as_str().unwrap().contains("nope does not exist"),
        "{v}"
    );
    p.bare()
        .args(["--db", "app.db", "--dir", "nope", "up"])
        .assert()
        .code(1)
        .stderr(contains("migrations directory nope does not exist"))
        .stderr(contains("pass --dir"));
    assert!(!p.db().exists());
}

#[test]
fn directory_errors_are_the_macros() {
    let p = Project::new();
    p.write("4-bad-name.sql", "SELECT 1;");
    let (v, code) = p.json(&["status"]);
    assert_eq!((code, v["error"]["kind"].as_str()), (1, Some("load")), "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("4-bad-name.sql: bad migration file name"),
        "{v}"
    );

    let p = Project::new();
    p.write("0004_broken.sql", "CREATE TABLE users (x);");
    p.cmd(&["up"])
        .assert()
        .code(1)
        .stderr(contains("0004_broken.sql:1"))
        .stderr(contains("already exists"));
    assert!(!p.db().exists(), "nothing is opened before the set loads");
}

#[test]
fn divergent_file_names_the_file_and_both_checksums() {
    let p = Project::new();
    p.up();
    let applied = litemigrate_core::checksum::checksum(cli_support::POSTS_UP).short();
    let edited = "CREATE TABLE posts (id INTEGER PRIMARY KEY, body TEXT NOT NULL);\n";
    p.write("0002_posts.up.sql", edited);
    let now = litemigrate_core::checksum::checksum(edited).short();
    let note = format!(
        "migrations/0002_posts.up.sql was edited after it was applied (applied checksum {applied}, file checksum {now})"
    );
    p.cmd(&["status"])
        .assert()
        .success()
        .stdout(contains("DIVERGENT"))
        .stdout(contains(note.as_str()));
    p.cmd(&["status", "--check"])
        .assert()
        .code(3)
        .stderr(contains("1 divergent"));

    let (v, code) = p.json(&["up"]);
    assert_eq!(code, 1);
    assert_eq!(v["error"]["kind"], "divergent");
    assert_eq!(v["error"]["migration"]["file"], "migrations/0002_posts.up.sql");
    let msg = v["error"]["message"].as_str().unwrap();
    assert!(msg.contains(&applied) && msg.contains(&now), "{msg}");
    assert!(v["error"]["hint"].as_str().unwrap().contains("new migration"));

    p.cmd(&["verify"])
        .assert()
        .code(3)
        .stderr(contains("check failed"))
        .stderr(contains("0002_posts.up.sql"));
}

#[test]
fn unknown_backup_id() {
    let p = Project::new();
    p.up();
    // The id is checked before confirmation is asked for.
    for yes in [true, false] {
        let mut args = vec!["restore", "no-such-backup"];
        if yes {
            args.push("--yes");
        }
        let (v, code) = p.json(&args);
        assert_eq!(
            (code, v["error"]["kind"].as_str()),
            (1, Some("backup_not_found")),
            "{v}"
        );
    }
    p.cmd(&["restore", "no-such-backup", "--yes"])
        .assert()
        .code(1)
        .stderr(contains("no backup \"no-such-backup\""))
        .stderr(contains("`backups` lists the backup ids"));
    // A path out of the backup directory is never taken for a backup.
    let (v, code) = p.json(&["restore", "../app.db", "--yes"]);
    assert_eq!(code, 1);
    assert!(v["error"]["kind"].as_str().unwrap().starts_with("backup_"), "{v}");
}

#[test]
fn destructive_commands_need_yes_without_a_terminal() {
    let p = Project::new();
    p.up();
    p.cmd(&["down", "--to", "0"])
        .assert()
        .code(4)
        .stderr(contains("needs confirmation and stdin is not a terminal"))
        .stderr(contains("pass --yes"));
    let (v, code) = p.json(&["down", "--steps", "2"]);
    assert_eq!((code, v["error"]["kind"].as_str()), (4, Some("confirmation_required")));
    assert!(p.tables().contains(&"users".to_owned()), "nothing was rolled back");
    assert!(!p.path("backups").exists(), "no backup is taken before confirmation");

    let (v, _) = p.json(&["backup"]);
    let id = v["data"]["id"].as_str().unwrap().to_owned();
    p.conn()
        .execute("INSERT INTO users (name) VALUES ('kept')", [])
        .unwrap();
    p.cmd(&["restore", &id]).assert().code(4).stderr(contains("pass --yes"));
    let n: i64 = p
        .conn()
        .query_row("SELECT count(*) FROM users", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 1, "nothing was restored");
}

#[test]
fn usage_errors() {
    let p = Project::new();
    p.cmd(&["down"]).assert().code(2).stderr(contains("--to"));
    p.cmd(&["down", "--to", "1", "--steps", "1"]).assert().code(2);
    p.cmd(&["down", "--steps", "0"]).assert().code(2);
    p.cmd(&["frobnicate"]).assert().code(2);
    p.cmd(&["schema", "--live", "--embedded"]).assert().code(2);
    p.up();
    let (v, code) = p.json(&["up", "--to", "1"]);
    assert_eq!((code, v["error"]["kind"].as_str()), (2, Some("usage")));
    assert!(v["error"]["hint"].as_str().unwrap().contains("down --to 1"));
    let (v, code) = p.json(&["up", "--to", "9"]);
    assert_eq!((code, v["error"]["kind"].as_str()), (1, Some("unknown_target")));
    p.cmd(&["new", "Bad-Name"])
        .assert()
        .code(1)
        .stderr(contains("lowercase ASCII letters"));
    let (v, _) = p.json(&["fts", "rebuild", "nope"]);
    assert_eq!(v["error"]["kind"], "fts_no_such_index");
    p.cmd(&["--help"])
        .assert()
        .success()
        .stdout(contains("Exit codes: 0 ok"));
}

#[test]
fn database_ahead_of_the_files() {
    let p = Project::new();
    p.up();
    std::fs::remove_file(p.path("migrations/0003_search.up.sql")).unwrap();
    std::fs::remove_file(p.path("migrations/0003_search.down.sql")).unwrap();
    p.cmd(&["status", "--check"]).assert().code(3).stdout(contains("AHEAD"));
    let (v, code) = p.json(&["up"]);
    assert_eq!((code, v["error"]["kind"].as_str()), (1, Some("database_ahead")), "{v}");
}

#[test]
fn embedded_form_refuses_dir_and_new() {
    use clap::Parser;
    use litemigrate_runtime::cli::{Cli, Source, run_code};
    let p = Project::new();
    let set = litemigrate_runtime::Migrations::from_dir(p.path("migrations"), &Default::default()).unwrap();
    let db = p.db();
    let db = db.to_str().unwrap();
    let run = |args: &[&str]| {
        let cli = Cli::try_parse_from(["app-migrate", "--json", "--db", db].iter().chain(args)).unwrap();
        run_code(Source::Embedded(&set), cli)
    };
    assert_eq!(run(&["--dir", "migrations", "status"]), 2);
    assert_eq!(run(&["new", "x"]), 2);
    assert_eq!(run(&["--set", "other", "status"]), 2);
    assert_eq!(run(&["up", "--no-backup"]), 0);
    assert_eq!(run(&["status", "--check"]), 0);
    assert_eq!(
        litemigrate_runtime::cli::run_from_args(&set, ["app-migrate", "--bogus"]),
        2
    );
}

/// On a terminal, `down` asks; the answer decides. Runs the binary under `script(1)` for a pseudo-terminal, where
/// util-linux's `script` is available.
#[test]
fn down_asks_on_a_terminal() {
    let has_script = std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_script {
        eprintln!("skipped: no script(1) for a pseudo-terminal");
        return;
    }
    let p = Project::new();
    p.up();
    let bin = env!("CARGO_BIN_EXE_migrate");
    let answer = |reply: &str| {
        let out = std::process::Command::new("script")
            .args([
                "-qec",
                &format!("{bin} --db app.db --dir migrations --no-backup down --to 1"),
                "/dev/null",
            ])
            .current_dir(p.tmp.path())
            .env("NO_COLOR", "1")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                use std::io::Write;
                child.stdin.take().unwrap().write_all(reply.as_bytes())?;
                child.wait_with_output()
            })
            .unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let (code, text) = answer("n\n");
    assert_eq!(code, Some(4), "{text}");
    assert!(
        text.contains("roll back? [y/N]") && text.contains("not confirmed"),
        "{text}"
    );
    assert!(p.tables().contains(&"posts".to_owned()));
    let (code, text) = answer("y\n");
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("rolled back: set `default` from version 3 to 1"),
        "{text}"
    );
    assert_eq!(p.tables(), ["_migrations", "users"]);
}

/// The hook behind the CLI's progress bar: every step, in order, in batch and per-migration mode.
#[test]
fn on_step_reports_each_step() {
    let p = Project::new();
    let set = litemigrate_runtime::Migrations::from_dir(p.path("migrations"), &Default::default()).unwrap();
    let seen = std::cell::RefCell::new(Vec::new());
    let hook = |a: &litemigrate_runtime::Applied| seen.borrow_mut().push((a.direction.to_string(), a.version));
    let mut conn = rusqlite::Connection::open_in_memory().unwrap();
    set.migrator().on_step(&hook).run(&mut conn).unwrap();
    set.migrator()
        .target(litemigrate_runtime::Target::Version(1))
        .mode(litemigrate_runtime::Mode::PerMigration)
        .on_step(&hook)
        .run(&mut conn)
        .unwrap();
    let up = |v| ("up".to_owned(), v);
    let down = |v| ("down".to_owned(), v);
    assert_eq!(seen.into_inner(), [up(1), up(2), up(3), down(3), down(2)]);
}

#[test]
fn refused_up_creates_no_database_and_backups_survive_a_broken_directory() {
    let p = Project::new();
    let (v, code) = p.json(&["up", "--to", "9"]);
    assert_eq!((code, v["error"]["kind"].as_str()), (1, Some("unknown_target")));
    assert!(!p.db().exists(), "a refused up leaves no empty database behind");

    p.up();
    p.write("0004_broken.sql", "THIS IS NOT SQL;");
    p.cmd(&["status"]).assert().code(1);
    // Backups and restores do not need the migrations to load.
    let (v, code) = p.json(&["backup"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["data"]["version_before"], 3, "read from the history table");
    let id = v["data"]["id"].as_str().unwrap().to_owned();
    let (v, code) = p.json(&["restore", &id, "--yes"]);
    assert_eq!(code, 0, "{v}");
}

#[test]
fn a_database_left_by_an_interrupted_restore_says_how_to_finish_it() {
    let p = Project::new();
    p.up();
    // What an interrupted in-place restore leaves: the header's magic replaced, so SQLite refuses the file.
    {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new().write(true).open(p.db()).unwrap();
        f.write_all(b"migrate-restore\0").unwrap();
    }
    let (v, code) = p.json(&["up"]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["error"]["kind"], "backup", "{v}");
    let message = v["error"]["message"].as_str().unwrap();
    assert!(message.contains("was interrupted"), "{v}");
    assert!(v["error"]["hint"].as_str().unwrap().contains("restore <id>"), "{v}");
}
