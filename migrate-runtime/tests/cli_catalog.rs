//! The `migrate` binary over a catalog: `--dir` holds one subdirectory per database, `--data-dir` the files.

use predicates::str::contains;
use serde_json::Value;
use std::path::Path;

fn catalog_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/assistant/migrations")
}

fn cmd(data: &Path, args: &[&str]) -> assert_cmd::Command {
    let mut c = assert_cmd::cargo::cargo_bin_cmd!("migrate");
    c.env_remove("MIGRATE_DB")
        .env_remove("MIGRATE_DIR")
        .env_remove("MIGRATE_DATA_DIR")
        .arg("--dir")
        .arg(catalog_dir())
        .arg("--data-dir")
        .arg(data)
        .args(args);
    c
}

fn json(data: &Path, args: &[&str]) -> (Value, i32) {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let out = cmd(data, &all).output().unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    (v, out.status.code().unwrap())
}

#[test]
fn status_up_history_backups_restore_over_a_catalog() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    cmd(&data, &["status", "--check"])
        .assert()
        .code(3)
        .stdout(contains("missing (created at the next launch"));
    let (v, code) = json(&data, &["up"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["data"]["databases"].as_array().unwrap().len(), 5);
    for name in ["actions", "knowledge", "performance", "tasks", "workflows"] {
        assert!(data.join(format!("{name}.db")).exists(), "{name}");
    }
    cmd(&data, &["status", "--check"])
        .assert()
        .success()
        .stdout(contains("tasks"));
    cmd(&data, &["history"])
        .assert()
        .success()
        .stdout(contains("move_notes"));
    cmd(&data, &["verify"])
        .assert()
        .success()
        .stdout(contains("knowledge: ok"));

    // One database through the single-database commands.
    let (v, code) = json(&data, &["--database", "tasks", "status"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["data"]["current_version"], 2);
    cmd(&data, &["--database", "nope", "status"])
        .assert()
        .code(1)
        .stderr(contains("no database `nope`"));
    cmd(&data, &["--database", "tasks", "up"])
        .assert()
        .code(2)
        .stderr(contains("require other databases"));

    // A manual backup run, listed, then restored after a change.
    let (v, code) = json(&data, &["backup"]);
    assert_eq!(code, 0, "{v}");
    let id = v["data"]["id"].as_str().unwrap().to_owned();
    assert_eq!(v["data"]["files"].as_array().unwrap().len(), 5);
    let (v, _) = json(&data, &["backups"]);
    assert_eq!(v["data"]["runs"][0]["id"], id.as_str());
    let conn = rusqlite::Connection::open(data.join("tasks.db")).unwrap();
    conn.execute_batch("INSERT INTO tasks(title) VALUES ('after the backup')")
        .unwrap();
    drop(conn);
    cmd(&data, &["restore", &id]).assert().code(4);
    cmd(&data, &["restore", &id, "--yes"])
        .assert()
        .success()
        .stdout(contains("restored"));
    let conn = rusqlite::Connection::open(data.join("tasks.db")).unwrap();
    let n: i64 = conn.query_row("SELECT count(*) FROM tasks", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 0, "the run's state is back");
}
