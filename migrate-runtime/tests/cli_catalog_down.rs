//! `migrate --data-dir … --database NAME down --to V` over a catalog: checked against the other databases'
//! requirements (refused naming both, nothing changed), then rolled back after one backup run.

use predicates::str::contains;
use std::path::Path;

fn cmd(data: &Path, args: &[&str]) -> assert_cmd::Command {
    let mut c = assert_cmd::cargo::cargo_bin_cmd!("migrate");
    c.env_remove("MIGRATE_DB")
        .env_remove("MIGRATE_DIR")
        .env_remove("MIGRATE_DATA_DIR")
        .arg("--dir")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/catalog_down"))
        .arg("--data-dir")
        .arg(data)
        .args(args);
    c
}

fn version(data: &Path, db: &str) -> i64 {
    let conn = rusqlite::Connection::open(data.join(db)).unwrap();
    conn.query_row(
        "SELECT coalesce(max(version), 0) FROM _migrations WHERE set_name = 'default'",
        [],
        |r| r.get(0),
    )
    .unwrap()
}

#[test]
fn down_over_a_catalog_respects_the_other_databases_requirements() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path();
    cmd(data, &["up"]).assert().success();
    // b's migration 2 requires a@2.
    cmd(data, &["--database", "a", "down", "--to", "1", "--yes"])
        .assert()
        .failure()
        .stderr(contains("migration 2 of database `b` is applied and requires `a@2`"))
        .stderr(contains("--database b down"));
    assert_eq!((version(data, "a.db"), version(data, "b.db")), (2, 2));
    cmd(data, &["--database", "a", "down", "--steps", "1", "--yes"])
        .assert()
        .failure()
        .stderr(contains("require `a`"));
    cmd(data, &["--database", "b", "down", "--to", "1", "--yes"])
        .assert()
        .success();
    cmd(data, &["--database", "a", "down", "--to", "1", "--yes"])
        .assert()
        .success();
    assert_eq!((version(data, "a.db"), version(data, "b.db")), (1, 1));
    cmd(data, &["backups"])
        .assert()
        .success()
        .stdout(contains("pre-rollback"));
}
