//! The `migrate` binary, end to end, for every command: human output, the `--json` envelope and exit codes.

mod cli_support;

use cli_support::Project;
use predicates::prelude::*;
use predicates::str::contains;

#[test]
fn dry_run_up_status_check_history_verify() {
    let p = Project::new();
    // A dry run on a database that does not exist plans against an empty one and creates nothing.
    p.cmd(&["up", "--dry-run"])
        .assert()
        .success()
        .stdout(contains("dry run: would migrate set `default` from version 0 to 3"))
        .stdout(contains("migrations/0001_users.up.sql"))
        .stdout(contains("CREATE TABLE users"));
    assert!(!p.db().exists());
    let (v, code) = p.json(&["up", "--dry-run"]);
    assert_eq!(code, 0);
    assert_eq!(v["command"], "up");
    assert_eq!(v["data"]["dry_run"], true);
    let steps = v["data"]["plan"]["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 3);
    assert_eq!(steps[0]["direction"], "up");
    assert!(steps[0]["sql"].as_str().unwrap().contains("CREATE TABLE users"));
    assert!(!p.db().exists());

    // Part way: nothing to back up in a new database.
    let (v, code) = p.json(&["up", "--to", "1"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["data"]["to_version"], 1);
    assert_eq!(v["data"]["applied"].as_array().unwrap().len(), 1);
    assert!(v["data"]["backup"].is_null());

    p.cmd(&["status", "--check"])
        .assert()
        .code(3)
        .stdout(contains("1 applied, 2 pending"))
        .stderr(contains("database is not up to date: 2 pending"))
        .stderr(contains("run `up`"));
    let (v, code) = p.json(&["status", "--check"]);
    assert_eq!(code, 3);
    assert_eq!(v["error"]["kind"], "check_failed");
    assert_eq!(v["data"]["current_version"], 1);
    assert_eq!(v["data"]["entries"][0]["state"], "applied");
    assert_eq!(v["data"]["entries"][1]["state"], "pending");
    // Without --check, pending migrations are not an error.
    p.cmd(&["status"]).assert().success();

    // The rest, after a verified backup of the now non-empty database.
    p.cmd(&["up"])
        .assert()
        .success()
        .stdout(contains("migrated: set `default` from version 1 to 3 (2 step(s))"))
        .stdout(contains("backup app."))
        .stdout(contains("up         2 posts"));
    assert_eq!(
        std::fs::read_dir(p.path("backups")).unwrap().count(),
        2,
        "a backup and its manifest"
    );
    p.cmd(&["status", "--check"])
        .assert()
        .success()
        .stdout(contains("3 applied, 0 pending"));
    p.cmd(&["up"])
        .assert()
        .success()
        .stdout(contains("up to date: set `default` is at version 3"));

    let (v, code) = p.json(&["history"]);
    assert_eq!(code, 0);
    let applied = v["data"]["applied"].as_array().unwrap();
    assert_eq!(
        applied
            .iter()
            .map(|e| e["version"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert!(
        applied
            .iter()
            .all(|e| e["duration_us"].is_u64() && e["applied_at"].is_string())
    );
    assert_eq!(v["data"]["failures"].as_array().unwrap().len(), 0);
    p.cmd(&["history"])
        .assert()
        .success()
        .stdout(contains("3 applied, 0 failure(s) recorded"));

    p.cmd(&["verify"])
        .assert()
        .success()
        .stdout(contains("schema: matches the embedded schema at version 3"))
        .stdout(contains("integrity: ok"));
    let (v, code) = p.json(&["verify"]);
    assert_eq!(code, 0);
    assert_eq!(v["data"]["schema_checked"], true);
    assert_eq!(v["data"]["integrity"], "ok");
}

#[test]
fn down_by_steps_and_to_version() {
    let p = Project::new();
    p.up();
    let (v, code) = p.json(&["down", "--steps", "1", "--dry-run"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["data"]["plan"]["steps"][0]["direction"], "down");
    assert_eq!(v["data"]["plan"]["steps"][0]["version"], 3);
    assert_eq!(v["data"]["to_version"], 2);
    assert!(
        p.tables().contains(&"posts_fts".to_owned()),
        "a dry run changes nothing"
    );

    p.cmd(&["down", "--steps", "1", "--yes", "--no-backup"])
        .assert()
        .success()
        .stdout(contains("down       3 search"));
    assert!(!p.tables().contains(&"posts_fts".to_owned()));
    assert!(!p.path("backups").exists(), "--no-backup");

    let (v, code) = p.json(&["down", "--to", "0", "--yes", "--backup-dir", "elsewhere"]);
    assert_eq!(code, 0, "{v}");
    assert!(
        p.path("elsewhere")
            .join(v["data"]["backup"]["file"].as_str().unwrap())
            .is_file(),
        "{v}"
    );
    assert_eq!(v["data"]["from_version"], 2);
    assert_eq!(v["data"]["to_version"], 0);
    assert_eq!(v["data"]["applied"].as_array().unwrap().len(), 2);
    assert_eq!(v["data"]["backup"]["reason"], "pre-rollback", "{v}");
    assert_eq!(p.tables(), ["_migrations"]);
    p.cmd(&["down", "--to", "0"])
        .assert()
        .success()
        .stdout(contains("up to date"));
}

#[test]
fn per_migration_mode() {
    let p = Project::new();
    let (v, code) = p.json(&["up", "--per-migration", "--no-backup"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["data"]["mode"], "per-migration");
    let units: Vec<_> = v["data"]["plan"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["unit"].clone())
        .collect();
    assert_eq!(units, [1, 2, 3]);
}

#[test]
fn baseline_adopts_an_existing_database() {
    let p = Project::new();
    p.conn()
        .execute_batch(&format!("{}{}", cli_support::USERS_UP, cli_support::POSTS_UP))
        .unwrap();
    let (v, code) = p.json(&["baseline", "2"]);
    assert_eq!(code, 0, "{v}");
    let states: Vec<_> = v["data"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["state"].clone())
        .collect();
    assert_eq!(states, ["baseline", "baseline", "pending"]);
    p.cmd(&["up", "--no-backup"])
        .assert()
        .success()
        .stdout(contains("from version 2 to 3 (1 step(s))"));
    p.cmd(&["history"]).assert().success().stdout(contains("baseline"));
    // A second baseline is refused: the history is not empty.
    let (v, code) = p.json(&["baseline", "1"]);
    assert_eq!((code, v["error"]["kind"].as_str()), (1, Some("history_not_empty")));
}

#[test]
fn backup_backups_restore() {
    let p = Project::new();
    p.up();
    p.conn().execute("INSERT INTO users (name) VALUES ('ada')", []).unwrap();
    let (v, code) = p.json(&["backup"]);
    assert_eq!(code, 0, "{v}");
    let id = v["data"]["id"].as_str().unwrap().to_owned();
    assert_eq!(v["data"]["reason"], "manual");
    assert_eq!(v["data"]["version_before"], 3);
    assert_eq!(v["data"]["integrity"], "ok");
    assert!(std::path::Path::new(v["data"]["path"].as_str().unwrap()).is_file());

    let (v, code) = p.json(&["backups"]);
    assert_eq!(code, 0);
    let list = v["data"]["backups"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["id"], id.as_str());
    p.cmd(&["backups"])
        .assert()
        .success()
        .stdout(contains(&id))
        .stdout(contains("manual"));

    p.conn().execute("DELETE FROM users", []).unwrap();
    p.cmd(&["restore", &id, "--dry-run"])
        .assert()
        .success()
        .stdout(contains("would restore"));
    let count = || {
        p.conn()
            .query_row("SELECT count(*) FROM users", [], |r| r.get::<_, i64>(0))
            .unwrap()
    };
    assert_eq!(count(), 0, "a dry run restores nothing");
    let (v, code) = p.json(&["restore", &id, "--yes"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["data"]["restored"]["id"], id.as_str());
    assert_eq!(v["data"]["pre_restore"]["reason"], "pre-restore");
    // Nobody else has the database open: written in place, the header page and the users table's page only.
    assert_eq!(v["data"]["method"], "in-place");
    assert_eq!(v["data"]["pages_written"], 2, "{v}");
    assert_eq!(count(), 1);
    // The backups directory can be given explicitly too.
    let (v, _) = p.json(&["backups", "--backup-dir", "backups"]);
    assert_eq!(v["data"]["backups"].as_array().unwrap().len(), 2);
    // Compressed.
    let (v, code) = p.json(&["backup", "--compress"]);
    assert_eq!((code, v["data"]["compressed"].as_bool()), (0, Some(true)), "{v}");
}

#[test]
fn fts_check_rebuild_optimize() {
    let p = Project::new();
    p.up();
    p.conn()
        .execute_batch(
            "INSERT INTO users (id, name) VALUES (1, 'ada');
             INSERT INTO posts (id, user_id, body) VALUES (1, 1, 'hello world'), (2, 1, 'second post');",
        )
        .unwrap();
    p.cmd(&["fts", "check", "posts_fts"])
        .assert()
        .success()
        .stdout(contains("matches its content"));
    // Damage the index behind the triggers' back: drop row 1 from it.
    p.conn()
        .execute(
            "INSERT INTO posts_fts (posts_fts, rowid, body) VALUES ('delete', 1, 'hello world')",
            [],
        )
        .unwrap();
    p.cmd(&["fts", "check", "posts_fts"])
        .assert()
        .code(3)
        .stdout(contains("does NOT match"))
        .stderr(contains("fts rebuild posts_fts"));
    let (v, code) = p.json(&["fts", "check", "posts_fts"]);
    assert_eq!(code, 3);
    assert_eq!(v["data"]["matches_content"], false);
    assert_eq!(v["error"]["kind"], "check_failed");
    let (v, code) = p.json(&["fts", "rebuild", "posts_fts"]);
    assert_eq!((code, &v["data"]["action"]), (0, &serde_json::json!("rebuild")));
    p.cmd(&["fts", "check", "posts_fts"]).assert().success();
    p.cmd(&["fts", "optimize", "posts_fts"])
        .assert()
        .success()
        .stdout(contains("optimize of posts_fts"));
}

#[test]
fn schema_live_embedded_diff() {
    let p = Project::new();
    p.bare()
        .args(["--dir", "migrations", "schema"])
        .assert()
        .success()
        .stdout(contains("table \"users\""))
        .stdout(contains("virtual-table \"posts_fts\""));
    p.up();
    p.cmd(&["schema"])
        .assert()
        .success()
        .stdout(contains("table \"posts\""))
        .stdout(contains("_migrations").not());
    p.cmd(&["schema", "--diff"])
        .assert()
        .success()
        .stdout(contains("no difference"));
    p.conn()
        .execute_batch("ALTER TABLE users ADD COLUMN nickname TEXT")
        .unwrap();
    p.cmd(&["schema", "--diff"])
        .assert()
        .code(3)
        .stdout(contains("+ column \"users\""));
    let (v, code) = p.json(&["schema", "--diff"]);
    assert_eq!(code, 3);
    assert!(
        v["data"]["unexpected"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l.as_str().unwrap().contains("nickname"))
    );
    let (v, code) = p.json(&["verify"]);
    assert_eq!((code, v["error"]["kind"].as_str()), (3, Some("schema_drift")), "{v}");
    let (v, code) = p.json(&["schema", "--embedded"]);
    assert_eq!(code, 0);
    assert_eq!(v["data"]["source"], "embedded");
    assert_eq!(v["data"]["version"], 3);
}

#[test]
fn new_numbers_files_and_mentions_build_rs() {
    let p = Project::empty();
    p.bare()
        .args(["--dir", "migrations", "new", "create_users"])
        .assert()
        .success()
        .stdout(contains("created migrations/0001_create_users.sql"));
    assert!(p.path("migrations/0001_create_users.sql").is_file());
    // Not in a crate: nothing to say about build.rs.
    p.write("0007_x.sql", "SELECT 1;");
    let (v, code) = p.json(&["new", "add_tags", "--reversible"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["data"]["version"], "0008");
    assert!(v["data"]["build_rs"].is_null());
    assert!(p.path("migrations/0008_add_tags.up.sql").is_file());
    assert!(p.path("migrations/0008_add_tags.down.sql").is_file());

    // In a crate without the build.rs line: the line to add.
    std::fs::write(p.path("Cargo.toml"), "[package]\nname = \"app\"\n").unwrap();
    p.cmd(&["new", "third"])
        .assert()
        .success()
        .stdout(contains("litemigrate::build::track(\"migrations\");"))
        .stdout(contains("no build.rs"));
    std::fs::write(
        p.path("build.rs"),
        "fn main() {\n    litemigrate::build::track(\"migrations\");\n}\n",
    )
    .unwrap();
    let (v, _) = p.json(&["new", "fourth"]);
    assert_eq!(v["data"]["build_rs"]["tracked"], true, "{v}");
    p.cmd(&["new", "fifth"])
        .assert()
        .success()
        .stdout(contains("build::track").not());
}

#[test]
fn new_keeps_timestamps() {
    let p = Project::empty();
    p.write("20200101000000_first.sql", "SELECT 1;");
    let (v, code) = p.json(&["new", "second"]);
    assert_eq!(code, 0, "{v}");
    let version = v["data"]["version"].as_str().unwrap();
    assert_eq!(version.len(), 14);
    assert!(version > "20200101000000");
    let empty = Project::empty();
    let (v, _) = empty.json(&["new", "first", "--timestamp"]);
    assert_eq!(v["data"]["version"].as_str().unwrap().len(), 14);
}

#[test]
fn colour_is_off_unless_a_terminal_or_forced_and_no_color_wins() {
    let p = Project::new();
    p.up();
    let run = |force: bool, no_color: bool| {
        let mut c = p.cmd(&["status"]);
        c.env_remove("NO_COLOR");
        if force {
            c.env("CLICOLOR_FORCE", "1");
        }
        if no_color {
            c.env("NO_COLOR", "1");
        }
        String::from_utf8(c.output().unwrap().stdout).unwrap()
    };
    assert!(!run(false, false).contains('\x1b'), "not a terminal: plain text");
    assert!(run(true, false).contains("\x1b["), "forced: coloured");
    assert!(!run(true, true).contains('\x1b'), "NO_COLOR beats everything");
}

#[test]
fn history_lists_failures_with_their_errors() {
    let p = Project::new();
    p.up();
    p.conn()
        .execute_batch("INSERT INTO users (name) VALUES ('ada'), ('ada');")
        .unwrap();
    // Valid SQL that fails on this database's data (opted out of the build's row check, which would refuse it
    // before it ran: this test is about the failure the runtime records).
    p.write(
        "0004_unique_names.sql",
        "-- migrate:allow rows\nCREATE UNIQUE INDEX users_by_name ON users(name);\n",
    );
    let (v, code) = p.json(&["up", "--no-backup"]);
    assert_eq!(
        (code, v["error"]["kind"].as_str()),
        (1, Some("migration_failed")),
        "{v}"
    );
    assert_eq!(v["error"]["migration"]["version"], 4);

    let (v, code) = p.json(&["history"]);
    assert_eq!(code, 0);
    let failures = v["data"]["failures"].as_array().unwrap();
    assert_eq!(failures.len(), 1, "{v}");
    assert_eq!(failures[0]["migration"]["version"], 4);
    assert_eq!(failures[0]["direction"], "up");
    assert!(
        failures[0]["error"]
            .as_str()
            .unwrap()
            .contains("UNIQUE constraint failed"),
        "{v}"
    );
    p.cmd(&["history"])
        .assert()
        .success()
        .stdout(contains("1 failure(s) recorded"))
        .stdout(contains("unique_names"))
        .stdout(contains("UNIQUE constraint failed"));
    p.cmd(&["status"])
        .assert()
        .success()
        .stdout(contains("last failure: up 4 unique_names"));
}

#[test]
fn restore_recreates_a_deleted_database() {
    let p = Project::new();
    p.up();
    p.conn().execute("INSERT INTO users (name) VALUES ('ada')", []).unwrap();
    let (v, _) = p.json(&["backup"]);
    let id = v["data"]["id"].as_str().unwrap().to_owned();
    std::fs::remove_file(p.db()).unwrap();
    p.cmd(&["restore", &id, "--yes"])
        .assert()
        .success()
        .stdout(contains(format!("restored {id}")));
    let n: i64 = p
        .conn()
        .query_row("SELECT count(*) FROM users", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 1);
    p.cmd(&["status", "--check"]).assert().success();
}
