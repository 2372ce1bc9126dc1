//! `migrate lint`: the build's findings with the same ids, exit 0 with warnings, 3 when one is denied, 1 when a row
//! check fails; `--json` carries each finding.

mod cli_support;

use cli_support::Project;
use predicates::str::contains;

fn project() -> Project {
    let p = Project::empty();
    p.write(
        "0001_users.sql",
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n",
    );
    p.write(
        "0002_tags.sql",
        "CREATE TABLE tags (id INTEGER PRIMARY KEY, name TEXT);\n",
    );
    p.write("0003_drop_tags.sql", "-- Tags were never used.\nDROP TABLE tags;\n");
    p
}

#[test]
fn warnings_exit_0_denied_exit_3() {
    let p = project();
    p.cmd(&["lint"])
        .assert()
        .code(0)
        .stdout(contains("migrations/0003_drop_tags.sql:2: [drop-table]"))
        .stdout(contains("3 migration(s), 1 finding(s)"));
    let (v, code) = p.json(&["lint", "--deny", "drop-table"]);
    assert_eq!(code, 3, "{v}");
    assert_eq!(v["error"]["kind"], "check_failed");
    let f = &v["data"]["findings"][0];
    assert_eq!(
        (f["id"].as_str(), f["line"].as_i64(), f["denied"].as_bool()),
        (Some("drop-table"), Some(2), Some(true))
    );
    assert!(f["file"].as_str().unwrap().ends_with("0003_drop_tags.sql"));
    let (v, code) = p.json(&["lint", "--allow", "drop-table"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["data"]["findings"].as_array().unwrap().len(), 0);
    p.cmd(&["lint", "--deny", "drop-tabel"])
        .assert()
        .code(2)
        .stderr(contains("unknown lint id"));
}

#[test]
fn a_row_check_failure_exits_1() {
    let p = project();
    p.write("0004_unique.sql", "CREATE UNIQUE INDEX users_name ON users(name);\n");
    p.cmd(&["lint"])
        .assert()
        .code(1)
        .stderr(contains("0004_unique.sql:1"))
        .stderr(contains("fails only because table \"users\" holds rows"));
    p.cmd(&["lint", "--no-rows"]).assert().code(0);
}
