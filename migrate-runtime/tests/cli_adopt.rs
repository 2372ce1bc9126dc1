//! `migrate adopt` and the directory-loading opt-outs (`--no-validate-sql`, `--no-check-down`,
//! `--validate-function`, `--layout`), end to end through the binary.

mod cli_support;

use cli_support::Project;
use predicates::str::contains;

#[test]
fn adopt_takes_over_a_refinery_database_then_up_applies_only_the_new_file() {
    let p = Project::empty();
    p.write(
        "V1__users.sql",
        "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT);\n",
    );
    p.write(
        "V2__posts.sql",
        "CREATE TABLE posts(id INTEGER PRIMARY KEY, user_id INTEGER);\n",
    );
    {
        let mut conn = p.conn();
        let ms: Vec<refinery::Migration> = [("V1__users", "V1__users.sql"), ("V2__posts", "V2__posts.sql")]
            .iter()
            .map(|(n, f)| {
                let sql = std::fs::read_to_string(p.path("migrations").join(f)).unwrap();
                refinery::Migration::unapplied(n, &sql).unwrap()
            })
            .collect();
        refinery::Runner::new(&ms).run(&mut conn).unwrap();
    }
    // `up` refuses: running V1 again would fail (or worse).
    let (v, code) = p.json(&["up", "--no-backup"]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["error"]["kind"], "foreign_history");
    p.cmd(&["up", "--no-backup"])
        .assert()
        .failure()
        .stderr(contains("migrate adopt"));

    let (v, code) = p.json(&["adopt"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["data"]["tool"], "refinery");
    assert_eq!(v["data"]["migrations"], 2);
    assert_eq!(v["data"]["checksums_compared"], true);
    assert!(p.tables().contains(&"refinery_schema_history".to_owned()));

    p.write("V3__tags.sql", "CREATE TABLE tags(name TEXT PRIMARY KEY);\n");
    let (v, code) = p.json(&["up", "--no-backup"]);
    assert_eq!(code, 0, "{v}");
    let applied = v["data"]["applied"].as_array().unwrap();
    assert_eq!(applied.len(), 1, "{v}");
    assert_eq!(applied[0]["version"], 3);
}

#[test]
fn adopt_from_names_the_tool_and_refuses_an_unknown_one() {
    let p = Project::empty();
    p.write("0001_a.sql", "CREATE TABLE a(x);\n");
    p.conn()
        .execute_batch("CREATE TABLE a(x); PRAGMA user_version = 1;")
        .unwrap();
    p.cmd(&["adopt", "--from", "liquibase"])
        .assert()
        .code(2)
        .stderr(contains("unknown tool"));
    let (v, code) = p.json(&["adopt", "--from", "rusqlite_migration", "--drop-old"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["data"]["version"], 1);
    p.cmd(&["status", "--check"]).assert().success();
}

#[test]
fn validate_function_stubs_only_the_named_function() {
    let p = Project::empty();
    p.write(
        "0001_vectors.sql",
        "CREATE TABLE items(id INTEGER PRIMARY KEY, v BLOB CHECK (vec_length(v) = 3));\n",
    );
    drop(p.conn()); // `status` reads an existing database
    p.cmd(&["status"])
        .assert()
        .failure()
        .stderr(contains("0001_vectors.sql"))
        .stderr(contains("vec_length"));
    p.cmd(&["status", "--validate-function", "vec_length/1"])
        .assert()
        .success();
    // The wrong arity is not the declared function.
    p.cmd(&["status", "--validate-function", "vec_length/2"])
        .assert()
        .failure();
    // Everything else is still validated.
    p.write("0002_broken.sql", "CREATE INDEX i ON missing(x);\n");
    p.cmd(&["status", "--validate-function", "vec_length/1"])
        .assert()
        .failure()
        .stderr(contains("0002_broken.sql"));
    // --no-validate-sql turns all of it off, as `validate_sql = false` does.
    p.cmd(&["status", "--no-validate-sql"]).assert().success();
    p.cmd(&["status", "--validate-function", "vec length"]).assert().code(2);
}

#[test]
fn no_check_down_applies_a_set_whose_down_does_not_restore() {
    let p = Project::empty();
    p.write("0001_a.up.sql", "CREATE TABLE a(x);\n");
    p.write("0001_a.down.sql", "SELECT 1;\n");
    p.cmd(&["up", "--no-backup"])
        .assert()
        .failure()
        .stderr(contains("0001_a.down.sql"));
    p.cmd(&["up", "--no-backup", "--no-check-down"]).assert().success();
    assert!(p.tables().contains(&"a".to_owned()));
}

#[test]
fn layout_option_reads_flyway_undo_files() {
    let p = Project::empty();
    p.write("V1__a.sql", "CREATE TABLE a(x);\n");
    p.write("U1__a.sql", "DROP TABLE a;\n");
    p.cmd(&["status"]).assert().failure().stderr(contains("U1__a.sql"));
    p.cmd(&["up", "--no-backup", "--layout", "flyway"]).assert().success();
    // U1 is V1's down.
    p.cmd(&["down", "--steps", "1", "--yes", "--no-backup", "--layout", "flyway"])
        .assert()
        .success();
    assert!(!p.tables().contains(&"a".to_owned()));
}
