//! `migrate squash --to V --replace`, end to end: the directory afterwards holds the squash and the files above V,
//! a database migrated with the old files continues, and a fresh one gets the same schema.

mod cli_support;

use cli_support::Project;
use predicates::str::contains;

#[test]
fn squash_replace_rewrites_the_directory_and_both_databases_agree() {
    let p = Project::new();
    p.write(
        "0004_kinds.sql",
        "CREATE TABLE kinds(name TEXT PRIMARY KEY);\nINSERT INTO kinds VALUES ('a');\n",
    );
    // The old database is at 4, the version the squash will end at; 5 comes after the squash.
    p.cmd(&["up", "--to", "4", "--no-backup"]).assert().success();
    p.write("0005_tags.sql", "CREATE TABLE tags(x);\n");

    // Printing changes nothing.
    p.cmd(&["squash", "--to", "4"])
        .assert()
        .success()
        .stdout(contains("-- migrate:squashes 1..=4 chain="))
        .stdout(contains("INSERT INTO \"kinds\""));
    assert!(p.path("migrations/0001_users.up.sql").exists());

    let (v, code) = p.json(&["squash", "--to", "4", "--replace"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["data"]["file_name"], "0004_squashed.sql");
    assert_eq!(
        v["data"]["replaced"].as_array().unwrap().len(),
        7,
        "four up files and three down files"
    );
    let mut left: Vec<String> = std::fs::read_dir(p.path("migrations"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    left.sort();
    assert_eq!(left, ["0004_squashed.sql", "0005_tags.sql"]);

    // The old database continues with 5; its rows below 4 are shown as squashed.
    p.cmd(&["status"]).assert().code(0).stdout(contains("squashed"));
    p.cmd(&["up", "--no-backup"]).assert().success();
    let (v, _) = p.json(&["status", "--check"]);
    assert_eq!(v["exit_code"], 0, "{v}");

    // A fresh database applies the squash and 5, and ends at the same schema.
    let fresh = p.path("fresh.db");
    p.bare()
        .args([
            "--db",
            fresh.to_str().unwrap(),
            "--dir",
            "migrations",
            "up",
            "--no-backup",
        ])
        .assert()
        .success();
    let schema = |db: &std::path::Path| {
        let c = rusqlite::Connection::open(db).unwrap();
        let mut s = c
            .prepare("SELECT type, name, sql FROM sqlite_schema WHERE name NOT LIKE '\\_migrations%' ESCAPE '\\' ORDER BY name")
            .unwrap();
        s.query_map([], |r| {
            Ok(format!(
                "{:?}",
                (
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?
                )
            ))
        })
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap()
    };
    assert_eq!(schema(&p.db()), schema(&fresh));
}

#[test]
fn squash_of_an_unknown_version_fails_and_writes_nothing() {
    let p = Project::new();
    p.cmd(&["squash", "--to", "9", "--replace"])
        .assert()
        .code(1)
        .stderr(contains("no migration has version 9"));
    assert!(p.path("migrations/0001_users.up.sql").exists());
}
