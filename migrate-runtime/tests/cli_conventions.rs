//! The command line's conventions (issue 13 item 5): database URLs and DATABASE_URL, help that shows only what
//! applies, `verify --json` data on a failed check, backups of other databases, the irreversible migration a
//! rollback would hit first, `redo`, shell completions.

mod cli_support;

use cli_support::Project;
use predicates::prelude::*;
use predicates::str::contains;

fn history(p: &Project, db: &str) -> Vec<i64> {
    let conn = rusqlite::Connection::open(p.path(db)).unwrap();
    let mut stmt = conn
        .prepare("SELECT version FROM _migrations ORDER BY version")
        .unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// `migrate --db <db> --dir migrations <args>` with `--json`: the envelope and the exit code.
fn json_on(p: &Project, db: &str, args: &[&str]) -> (serde_json::Value, i32) {
    let out = p
        .bare()
        .args(["--db", db, "--dir", "migrations", "--json"])
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    (serde_json::from_str(&stdout).unwrap(), out.status.code().unwrap())
}

#[test]
fn db_accepts_sqlite_urls_as_well_as_a_path() {
    for url in ["sqlite:app.db", "sqlite://app.db", "sqlite://app.db?mode=rwc"] {
        let p = Project::new();
        p.bare()
            .args(["--db", url, "--dir", "migrations", "up", "--no-backup"])
            .assert()
            .success();
        assert_eq!(history(&p, "app.db"), [1, 2, 3], "{url}");
        assert!(
            !p.path("sqlite:app.db").exists() && !p.path("sqlite:").exists(),
            "{url}"
        );
    }
    let p = Project::new();
    let abs = format!("sqlite://{}", p.db().display()); // sqlite:///tmp/...: the absolute path
    p.bare()
        .args(["--db", &abs, "--dir", "migrations", "up", "--no-backup"])
        .assert()
        .success();
    assert_eq!(history(&p, "app.db"), [1, 2, 3]);
}

#[test]
fn url_modes_map_to_open_flags() {
    let p = Project::new();
    // rw never creates the file.
    let (v, code) = json_on(&p, "sqlite://app.db?mode=rw", &["up", "--no-backup"]);
    assert_eq!(
        (code, v["error"]["kind"].as_str()),
        (1, Some("database_not_found")),
        "{v}"
    );
    assert!(!p.db().exists());
    p.cmd(&["up", "--to", "1", "--no-backup"]).assert().success();
    // rw writes to an existing one.
    let (v, code) = json_on(&p, "sqlite://app.db?mode=rw", &["up", "--to", "2", "--no-backup"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(history(&p, "app.db"), [1, 2]);
    // ro reads, and refuses a command that writes before touching anything.
    let (v, code) = json_on(&p, "sqlite://app.db?mode=ro", &["status"]);
    assert_eq!((code, v["data"]["current_version"].as_u64()), (0, Some(2)), "{v}");
    let (v, code) = json_on(&p, "sqlite://app.db?mode=ro", &["up", "--no-backup"]);
    assert_eq!(
        (code, v["error"]["kind"].as_str()),
        (2, Some("read_only_database")),
        "{v}"
    );
    assert!(v["error"]["message"].as_str().unwrap().contains("mode=ro"), "{v}");
    assert_eq!(history(&p, "app.db"), [1, 2]);
    // memory: a private database for one command, nothing on disk.
    let q = Project::new();
    for url in ["sqlite://app.db?mode=memory", "sqlite::memory:"] {
        let (v, code) = json_on(&q, url, &["up", "--no-backup"]);
        assert_eq!((code, v["data"]["to_version"].as_u64()), (0, Some(3)), "{url}: {v}");
        let (v, code) = json_on(&q, url, &["status"]);
        assert_eq!(
            (code, v["data"]["current_version"].as_u64()),
            (0, Some(0)),
            "{url}: {v}"
        );
    }
    assert_eq!(
        std::fs::read_dir(q.tmp.path()).unwrap().count(),
        1,
        "only migrations/ is there"
    );
}

#[test]
fn a_bad_database_url_is_a_usage_error_naming_what_is_wrong() {
    let p = Project::new();
    for (url, says) in [
        ("sqlite://app.db?cache=shared", "unknown parameter `cache`"),
        ("sqlite://app.db?mode=wal", "unknown mode `wal`"),
        ("postgres://localhost/app", "`postgres://` is not a SQLite database URL"),
    ] {
        let (v, code) = json_on(&p, url, &["status"]);
        assert_eq!(code, 2, "{url}: {v}");
        assert_eq!(v["error"]["kind"], "bad_database_url", "{url}: {v}");
        let msg = v["error"]["message"].as_str().unwrap();
        assert!(msg.contains(says) && msg.contains("--db"), "{url}: {msg}");
    }
    p.bare()
        .args(["--dir", "migrations", "status"])
        .env("DATABASE_URL", "sqlite://app.db?journal=wal")
        .assert()
        .code(2)
        .stderr(contains(
            "DATABASE_URL \"sqlite://app.db?journal=wal\": unknown parameter `journal`",
        ));
    assert!(!p.db().exists());
}

#[test]
fn database_url_is_read_and_db_wins_over_it() {
    let p = Project::new();
    p.bare()
        .args(["--dir", "migrations", "up", "--no-backup"])
        .env("DATABASE_URL", "sqlite://app.db")
        .assert()
        .success();
    assert_eq!(history(&p, "app.db"), [1, 2, 3]);
    p.bare()
        .args([
            "--db",
            "other.db",
            "--dir",
            "migrations",
            "up",
            "--to",
            "1",
            "--no-backup",
        ])
        .env("DATABASE_URL", "sqlite://third.db")
        .assert()
        .success();
    assert_eq!(history(&p, "other.db"), [1]);
    assert!(!p.path("third.db").exists());
    // MIGRATE_DB, the long-standing variable, also wins over DATABASE_URL.
    p.bare()
        .args(["--dir", "migrations", "status"])
        .env("MIGRATE_DB", "other.db")
        .env("DATABASE_URL", "sqlite://app.db")
        .assert()
        .success()
        .stdout(contains("database at version 1"));
}

#[test]
fn help_is_for_a_terminal_and_shows_only_what_applies() {
    let p = Project::new();
    let help = |args: &[&str]| {
        let out = p.bare().args(args).arg("--help").output().unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    let top = help(&[]);
    assert!(!top.contains("```"), "{top}");
    assert!(
        top.contains("DATABASE_URL") && top.contains("redo") && top.contains("completions"),
        "{top}"
    );
    let down = help(&["down"]);
    assert!(!down.contains("--allow-out-of-order"), "{down}");
    assert!(down.contains("--allow-unknown-rollback") && down.contains("--yes") && down.contains("--no-backup"));
    let up = help(&["up"]);
    assert!(
        !up.contains("--allow-unknown-rollback") && !up.contains("--yes"),
        "{up}"
    );
    assert!(
        up.contains("--allow-out-of-order") && up.contains("--backup-dir"),
        "{up}"
    );
    let status = help(&["status"]);
    for not in ["--yes", "--no-backup", "--backup-dir", "--allow-missing"] {
        assert!(!status.contains(not), "{not} in: {status}");
    }
    assert!(status.contains("--db") && status.contains("--json"), "{status}");
    // Options that apply to a command are refused on one they do not apply to.
    p.cmd(&["status", "--yes"]).assert().code(2);
}

#[test]
fn the_old_global_spellings_still_work() {
    let p = Project::new();
    p.up();
    // --yes / --no-backup / --backup-dir before the command, as they were documented when global.
    p.bare()
        .args([
            "--db",
            "app.db",
            "--dir",
            "migrations",
            "--yes",
            "--backup-dir",
            "bk",
            "down",
            "--to",
            "1",
        ])
        .assert()
        .success();
    assert_eq!(history(&p, "app.db"), [1]);
    assert_eq!(
        std::fs::read_dir(p.path("bk")).unwrap().count(),
        2,
        "backup + manifest in --backup-dir"
    );
    p.bare()
        .args([
            "--db",
            "app.db",
            "--dir",
            "migrations",
            "--no-backup",
            "--yes",
            "down",
            "--to",
            "0",
        ])
        .assert()
        .success();
    assert_eq!(std::fs::read_dir(p.path("bk")).unwrap().count(), 2, "no second backup");
    assert_eq!(p.tables(), ["_migrations"]);
}

#[test]
fn verify_json_with_drift_carries_data_and_error() {
    let p = Project::new();
    p.up();
    p.conn().execute_batch("CREATE TABLE extra (x INTEGER);").unwrap();
    let (v, code) = p.json(&["verify"]);
    assert_eq!(code, 3, "{v}");
    assert_eq!(v["error"]["kind"], "schema_drift", "{v}");
    assert_eq!(v["data"]["failed_check"], "schema_drift", "{v}");
    assert_eq!(v["data"]["status"]["current_version"], 3, "{v}");
    assert_eq!(v["data"]["status"]["entries"][2]["state"], "applied", "{v}");
    let unexpected = v["data"]["schema_unexpected"].as_array().unwrap();
    assert!(unexpected.iter().any(|f| f.as_str().unwrap().contains("extra")), "{v}");
    // A divergent file: the status in `data` shows which one.
    let q = Project::new();
    q.up();
    q.write(
        "0002_posts.up.sql",
        "CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER, body TEXT NOT NULL);\n",
    );
    let (v, code) = q.json(&["verify"]);
    assert_eq!((code, v["error"]["kind"].as_str()), (3, Some("divergent")), "{v}");
    assert_eq!(v["data"]["status"]["entries"][1]["state"], "divergent", "{v}");
}

/// Two databases in one directory share `backups/`.
fn two_databases() -> (Project, String, String) {
    let p = Project::new();
    p.up();
    p.bare()
        .args([
            "--db",
            "other.db",
            "--dir",
            "migrations",
            "up",
            "--to",
            "1",
            "--no-backup",
        ])
        .assert()
        .success();
    let id = |db: &str| {
        let (v, code) = json_on(&p, db, &["backup"]);
        assert_eq!(code, 0, "{v}");
        v["data"]["id"].as_str().unwrap().to_owned()
    };
    let own = id("app.db");
    let foreign = id("other.db");
    (p, own, foreign)
}

#[test]
fn backups_lists_only_this_databases_backups() {
    let (p, own, foreign) = two_databases();
    let (v, code) = p.json(&["backups"]);
    assert_eq!(code, 0, "{v}");
    let ids: Vec<&str> = v["data"]["backups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [own.as_str()], "{v}");
    assert_eq!(v["data"]["foreign_not_shown"], 1, "{v}");
    p.cmd(&["backups"])
        .assert()
        .success()
        .stdout(contains(own.as_str()))
        .stdout(contains(foreign.as_str()).not())
        .stdout(contains("1 backup(s) of other databases in this directory not shown"));
    let (v, _) = p.json(&["backups", "--all"]);
    let all = v["data"]["backups"].as_array().unwrap();
    assert_eq!(all.len(), 2, "{v}");
    for b in all {
        assert_eq!(b["foreign"], b["id"] == foreign.as_str(), "{b}");
    }
    p.cmd(&["backups", "--all"])
        .assert()
        .success()
        .stdout(contains("foreign (from "));
}

#[test]
fn restoring_another_databases_backup_needs_force() {
    let (p, _own, foreign) = two_databases();
    for extra in [&[][..], &["--dry-run"][..]] {
        let mut args = vec!["restore", foreign.as_str(), "--yes"];
        args.extend_from_slice(extra);
        let (v, code) = p.json(&args);
        assert_eq!((code, v["error"]["kind"].as_str()), (1, Some("foreign_backup")), "{v}");
        let msg = v["error"]["message"].as_str().unwrap();
        assert!(msg.contains("other.db") && msg.contains("app.db"), "{msg}");
        assert!(v["error"]["hint"].as_str().unwrap().contains("--force"), "{v}");
    }
    assert_eq!(history(&p, "app.db"), [1, 2, 3], "nothing restored");
    p.cmd(&["restore", foreign.as_str(), "--dry-run", "--force"])
        .assert()
        .success()
        .stdout(contains("taken from another file"));
    p.cmd(&["restore", foreign.as_str(), "--yes", "--force"])
        .assert()
        .success();
    assert_eq!(history(&p, "app.db"), [1], "other.db's state, restored over app.db");
}

#[test]
fn down_dry_run_names_the_first_irreversible_migration_it_would_hit() {
    let p = Project::empty();
    for v in 1..=5 {
        p.write(&format!("000{v}_t{v}.up.sql"), &format!("CREATE TABLE t{v} (x);\n"));
        if v != 2 && v != 5 {
            p.write(&format!("000{v}_t{v}.down.sql"), &format!("DROP TABLE t{v};\n"));
        }
    }
    p.up();
    let (v, code) = p.json(&["down", "--to", "0", "--dry-run"]);
    assert_eq!((code, v["error"]["kind"].as_str()), (1, Some("irreversible")), "{v}");
    assert_eq!(v["error"]["migration"]["version"], 5, "{v}");
    // Below the newest irreversible one, the next one down is named.
    p.write("0005_t5.down.sql", "DROP TABLE t5;\n");
    // (adding a down file does not change the up checksum)
    let (v, _) = p.json(&["down", "--to", "0", "--dry-run"]);
    assert_eq!(v["error"]["migration"]["version"], 2, "{v}");
    let (v, code) = p.json(&["down", "--to", "2", "--dry-run"]);
    assert_eq!(code, 0, "{v}");
}

#[test]
fn redo_rolls_back_and_reapplies_the_newest() {
    let p = Project::new();
    p.up();
    p.conn().execute("INSERT INTO users (name) VALUES ('ada')", []).unwrap();
    // Confirmation, as for `down`.
    p.cmd(&["redo"]).assert().code(4).stderr(contains("redo"));
    let (v, code) = p.json(&["redo", "--count", "2", "--yes"]);
    assert_eq!(code, 0, "{v}");
    let dirs = |r: &serde_json::Value| -> Vec<(String, u64)> {
        r["applied"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                (
                    a["direction"].as_str().unwrap().to_owned(),
                    a["version"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    assert_eq!(
        dirs(&v["data"]["down"]),
        [("down".into(), 3), ("down".into(), 2)],
        "{v}"
    );
    assert_eq!(dirs(&v["data"]["up"]), [("up".into(), 2), ("up".into(), 3)], "{v}");
    assert!(
        v["data"]["down"]["backup"]["id"].is_string(),
        "a backup before the rollback: {v}"
    );
    assert_eq!(history(&p, "app.db"), [1, 2, 3]);
    let names: i64 = p
        .conn()
        .query_row("SELECT count(*) FROM users WHERE name = 'ada'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(names, 1, "migration 1 was not redone");
    let fts: i64 = p
        .conn()
        .query_row("SELECT count(*) FROM sqlite_schema WHERE name = 'posts_fts'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(fts, 1);
    // A dry run changes nothing; nothing applied is nothing to redo.
    p.cmd(&["redo", "--dry-run"])
        .assert()
        .success()
        .stdout(contains("then `up --to 3` would apply them again"));
    let q = Project::new();
    drop(q.conn()); // an empty database file
    let (v, code) = q.json(&["redo", "--yes"]);
    assert_eq!((code, v["error"]["kind"].as_str()), (1, Some("nothing_to_redo")), "{v}");
}

#[test]
fn completions_for_each_shell() {
    let p = Project::new();
    for (shell, marker) in [
        ("bash", "_migrate()"),
        ("zsh", "#compdef migrate"),
        ("fish", "complete -c migrate"),
        ("powershell", "Register-ArgumentCompleter"),
        ("elvish", "edit:completion:arg-completer[migrate]"),
    ] {
        p.bare()
            .args(["completions", shell])
            .assert()
            .success()
            .stdout(contains(marker))
            .stdout(contains("redo"));
    }
    p.bare().args(["completions", "tcsh"]).assert().code(2);
}

#[test]
fn status_shows_both_sqlite_versions() {
    let p = Project::new();
    p.up();
    p.cmd(&["status"])
        .assert()
        .success()
        .stdout(contains(format!("running on {}", rusqlite::version())));
}

#[test]
fn redo_whose_reapply_fails_says_where_the_database_is_left() {
    let p = Project::empty();
    p.write(
        "0001_users.up.sql",
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);\n",
    );
    p.write("0001_users.down.sql", "DROP TABLE users;\n");
    // Meant to fail on the rows the down leaves, so the build's row check is told to let it through.
    p.write(
        "0002_uniq.up.sql",
        "-- migrate:allow rows\nCREATE UNIQUE INDEX users_name ON users (name);\n",
    );
    // A down script that leaves data the up cannot take again: the schema is restored, so the build accepts it.
    p.write(
        "0002_uniq.down.sql",
        "DROP INDEX users_name;\nINSERT INTO users (name) VALUES ('dup'), ('dup');\n",
    );
    p.up();
    let (v, code) = p.json(&["redo", "--yes"]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["error"]["kind"], "migration_failed", "{v}");
    let msg = v["error"]["message"].as_str().unwrap();
    assert!(
        msg.starts_with("rolled back to version 1, then applying the migrations again failed"),
        "{msg}"
    );
    let hint = v["error"]["hint"].as_str().unwrap();
    assert!(
        hint.contains("the database is at version 1") && hint.contains("backup taken before the rollback"),
        "{hint}"
    );
    assert_eq!(history(&p, "app.db"), [1]);
}
