//! Inputs and database states that used to panic, slip through or leave the user with SQLite's bare words (issue
//! 12): each command now refuses or explains, with a JSON `error.kind`, a documented exit code and a hint that says
//! what to do.

mod cli_support;

use cli_support::Project;
use predicates::str::contains;

#[test]
fn a_non_ascii_history_table_name_is_refused_not_a_panic() {
    let p = Project::new();
    p.up();
    for name in ["é_hist", "日本", "日本語", "abcdefé"] {
        for cmd in ["status", "up", "history"] {
            let (v, code) = p.json(&["--history-table", name, cmd]);
            assert_eq!(code, 1, "{name} {cmd}: {v}");
            assert_eq!(v["error"]["kind"], "invalid_table_name", "{name} {cmd}: {v}");
            assert!(v["error"]["message"].as_str().unwrap().contains(name), "{v}");
        }
    }
}

#[test]
fn new_after_the_largest_version_refuses_instead_of_repeating_it() {
    let p = Project::empty();
    p.write("9223372036854775807_last.sql", "CREATE TABLE last (x);\n");
    let (v, code) = p.json(&["new", "more"]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["error"]["kind"], "bad_version", "{v}");
    assert!(
        v["error"]["message"].as_str().unwrap().contains("9223372036854775807"),
        "{v}"
    );
    let files: Vec<_> = std::fs::read_dir(p.path("migrations")).unwrap().collect();
    assert_eq!(files.len(), 1, "no file was written");
    p.cmd(&["new", "more", "--timestamp"])
        .assert()
        .code(1)
        .stderr(contains("there is no next version"))
        .stderr(contains("hint: renumber"));
}

#[test]
fn an_empty_set_name_is_a_usage_error() {
    let p = Project::new();
    p.up();
    for args in [
        &["--set", "", "status"][..],
        &["--set=", "up"],
        &["status", "--set", ""],
    ] {
        p.cmd(args)
            .assert()
            .code(2)
            .stderr(contains("--set"))
            .stderr(contains("a value is required"));
    }
    // A real name still works.
    p.cmd(&["--set", "other", "status"]).assert().success();
}

#[test]
fn validation_steps_bound_the_validation_of_the_directory() {
    let p = Project::new();
    p.write(
        "0004_loop.sql",
        "CREATE TABLE n (x);\nINSERT INTO n WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c) \
         SELECT i FROM c LIMIT 300000;\n",
    );
    // The default bound lets 300,000 rows through; a small one stops the statement and names it.
    p.up();
    p.cmd(&["status"]).assert().success();
    let (v, code) = p.json(&["--validation-steps", "1000", "status"]);
    assert_eq!((code, v["error"]["kind"].as_str()), (1, Some("compile")), "{v}");
    let msg = v["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("0004_loop.sql:2") && msg.contains("did not finish within"),
        "{msg}"
    );
    // 0 removes the bound.
    p.cmd(&["--validation-steps", "0", "status"]).assert().success();
    p.cmd(&["--help"])
        .assert()
        .success()
        .stdout(contains("--validation-steps <N>"));
}

/// A copy of the database taken while a writer is inside a transaction: the file plus its hot rollback journal,
/// as a writer killed at that moment leaves them.
fn leave_hot_journal(p: &Project) {
    let live = p.path("live.db");
    std::fs::copy(p.db(), &live).unwrap();
    let conn = rusqlite::Connection::open(&live).unwrap();
    conn.execute_batch(
        "PRAGMA cache_size = 1; BEGIN; WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c LIMIT 2000) \
         INSERT INTO users (name) SELECT 'row' || i FROM c;",
    )
    .unwrap();
    let journal = p.path("live.db-journal");
    assert!(journal.exists(), "the writer has a rollback journal");
    std::fs::copy(&live, p.db()).unwrap();
    std::fs::copy(&journal, p.path("app.db-journal")).unwrap();
    drop(conn);
}

#[test]
fn a_hot_journal_is_explained_by_the_read_only_commands() {
    let p = Project::new();
    p.up();
    leave_hot_journal(&p);
    for cmd in [&["status"][..], &["verify"], &["history"], &["schema", "--live"]] {
        let (v, code) = p.json(cmd);
        assert_eq!(
            (code, v["error"]["kind"].as_str()),
            (1, Some("hot_journal")),
            "{cmd:?}: {v}"
        );
        let msg = v["error"]["message"].as_str().unwrap();
        assert!(
            msg.contains("unfinished transaction") && msg.contains("app.db-journal"),
            "{msg}"
        );
        assert!(v["error"]["hint"].as_str().unwrap().contains("migrate up"), "{v}");
        assert!(p.path("app.db-journal").exists(), "{cmd:?} left the journal alone");
    }
    p.cmd(&["status"])
        .assert()
        .code(1)
        .stderr(contains("unfinished transaction"))
        .stderr(contains("hint: open the database read-write once"));
    // What the hint says works: `up` (read-write) rolls the journal back, then everything reads again.
    p.cmd(&["up", "--no-backup"]).assert().success();
    p.cmd(&["status", "--check"]).assert().success();
    p.cmd(&["verify"]).assert().success();
    let rows: i64 = p
        .conn()
        .query_row("SELECT count(*) FROM users", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 0, "the unfinished transaction was rolled back");
}

/// What an in-place restore killed during its copy leaves: the header's magic replaced.
fn tear(db: &std::path::Path) {
    use std::io::{Seek, Write};
    let mut f = std::fs::OpenOptions::new().write(true).open(db).unwrap();
    f.seek(std::io::SeekFrom::Start(0)).unwrap();
    f.write_all(b"migrate-restore\0").unwrap();
}

#[test]
fn a_half_written_restore_is_explained_by_every_command_and_restore_finishes_it() {
    let p = Project::new();
    p.up();
    let (v, code) = p.json(&["backup"]);
    assert_eq!(code, 0, "{v}");
    let id = v["data"]["id"].as_str().unwrap().to_owned();
    tear(&p.db());
    for cmd in [
        &["status"][..],
        &["verify"],
        &["history"],
        &["schema", "--live"],
        &["baseline", "1"],
        &["backup"],
        &["down", "--to", "0", "--yes"],
        &["fts", "check", "posts_fts"],
        &["up"],
    ] {
        let (v, code) = p.json(cmd);
        // `up` reports it as the runtime's backup error, as it always has; the others as the backup error itself.
        let kind = if cmd == ["up"] {
            "backup"
        } else {
            "backup_restore_interrupted"
        };
        assert_eq!((code, v["error"]["kind"].as_str()), (1, Some(kind)), "{cmd:?}: {v}");
        assert!(
            v["error"]["message"].as_str().unwrap().contains("was interrupted"),
            "{cmd:?}: {v}"
        );
        assert!(
            v["error"]["hint"].as_str().unwrap().contains("restore <id>"),
            "{cmd:?}: {v}"
        );
    }
    p.cmd(&["history"])
        .assert()
        .code(1)
        .stderr(contains("was interrupted and left it half-written"))
        .stderr(contains("hint: finish the interrupted restore with `restore <id>`"));
    p.cmd(&["restore", &id, "--yes"]).assert().success();
    p.cmd(&["status", "--check"]).assert().success();
    p.cmd(&["history"]).assert().success();
}
