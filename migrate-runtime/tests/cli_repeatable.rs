//! Repeatable migrations through the `migrate` binary: `status` shows new/changed/current, `up` applies an edit
//! even when no versioned migration is pending.

mod cli_support;

use cli_support::Project;
use predicates::str::contains;

#[test]
fn up_applies_an_edited_repeatable_and_status_shows_it() {
    let p = Project::new();
    p.write(
        "R__views.sql",
        "DROP VIEW IF EXISTS bodies;\nCREATE VIEW bodies AS SELECT body FROM posts;\n",
    );
    p.cmd(&["up", "--to", "1", "--no-backup"]).assert().success();
    p.cmd(&["status"]).assert().stdout(contains("repeatable views current"));
    p.cmd(&["up", "--no-backup"]).assert().success();
    p.write(
        "R__more.sql",
        "DROP VIEW IF EXISTS names;\nCREATE VIEW names AS SELECT name FROM users;\n",
    );
    p.cmd(&["status"]).assert().stdout(contains("repeatable more new"));
    p.cmd(&["up", "--no-backup"])
        .assert()
        .success()
        .stdout(contains("repeatable more applied"));
    p.cmd(&["status", "--check"])
        .assert()
        .code(0)
        .stdout(contains("repeatable more current"));

    p.write(
        "R__views.sql",
        "DROP VIEW IF EXISTS bodies;\nCREATE VIEW bodies AS SELECT upper(body) AS body FROM posts;\n",
    );
    p.cmd(&["status", "--check"])
        .assert()
        .code(3)
        .stdout(contains("repeatable views changed"));
    let (v, code) = p.json(&["up", "--no-backup"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["data"]["repeatables"], serde_json::json!(["views"]));
    assert_eq!(v["data"]["applied"], serde_json::json!([]));
    p.cmd(&["status", "--check"]).assert().code(0);
    let conn = rusqlite::Connection::open(p.db()).unwrap();
    let sql: String = conn
        .query_row("SELECT sql FROM sqlite_schema WHERE name = 'bodies'", [], |r| r.get(0))
        .unwrap();
    assert!(sql.contains("upper(body)"), "{sql}");
}
