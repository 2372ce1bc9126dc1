//! Each peer tool's layout, as that tool writes it (tests/fixtures/layouts/<tool>, written by hand), embeds and
//! applies, giving exactly the schema that running the same up scripts in that tool's order with plain
//! `execute_batch` gives. The reference order and section splitting below are written from the tools' documented
//! behaviour, independently of the loader.

use litemigrate::Migrations;
use rusqlite::Connection;
use std::path::{Path, PathBuf};

static DIESEL: Migrations = litemigrate::embed_migrations!("tests/fixtures/layouts/diesel");
// The tools' own examples create indexes without IF NOT EXISTS in no-transaction files; the lint is right, the
// fixtures stay as those tools write them.
static SQLX: Migrations =
    litemigrate::embed_migrations!("tests/fixtures/layouts/sqlx", allow = ["rerun-not-idempotent"]);
static GOLANG: Migrations =
    litemigrate::embed_migrations!("tests/fixtures/layouts/golang-migrate", layout = "golang-migrate");
static REFINERY: Migrations = litemigrate::embed_migrations!("tests/fixtures/layouts/refinery");
static FLYWAY: Migrations = litemigrate::embed_migrations!("tests/fixtures/layouts/flyway", layout = "flyway");
// Its unique index would fail on a users table with duplicate emails, which the generated rows are; dbmate's
// sections leave no room for a `-- migrate:allow rows` line, so the set says it.
static DBMATE: Migrations = litemigrate::embed_migrations!(
    "tests/fixtures/layouts/dbmate",
    rows = false,
    allow = ["rerun-not-idempotent"]
);
static GOOSE: Migrations =
    litemigrate::embed_migrations!("tests/fixtures/layouts/goose", allow = ["rerun-not-idempotent"]);

fn fixture(tool: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/layouts")
        .join(tool)
}

fn files(tool: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(fixture(tool))
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let name = e.file_name().into_string().unwrap();
            let text = if e.file_type().unwrap().is_dir() {
                std::fs::read_to_string(e.path().join("up.sql")).unwrap()
            } else {
                std::fs::read_to_string(e.path()).unwrap()
            };
            (name, text)
        })
        .filter(|(n, _)| !n.starts_with('.'))
        .collect();
    out.sort();
    out
}

/// The schema as sqlite_schema holds it, without this library's history tables.
fn schema(conn: &Connection) -> Vec<(String, String, String, Option<String>)> {
    let mut stmt = conn
        .prepare(
            "SELECT type, name, tbl_name, sql FROM sqlite_schema \
             WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE '\\_migrations%' ESCAPE '\\' \
             ORDER BY type, name",
        )
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn reference(ups: &[String]) -> Connection {
    let conn = Connection::open_in_memory().unwrap();
    for sql in ups {
        conn.execute_batch(sql).unwrap();
    }
    conn
}

fn applied(set: &Migrations) -> Connection {
    let mut conn = Connection::open_in_memory().unwrap();
    set.migrate(&mut conn).unwrap();
    assert!(set.status(&conn).unwrap().is_up_to_date());
    conn
}

/// The text between the up marker's line and the down marker (or the end).
fn section(text: &str, up: &str, down: &str) -> String {
    let start = text.find(up).unwrap();
    let body = &text[start..];
    let body = &body[body.find('\n').unwrap()..];
    body.split(down).next().unwrap().to_owned()
}

#[test]
fn diesel_orders_as_text_and_applies_like_diesel() {
    // diesel's version: the directory name up to its first `_`, `-` removed, compared as text.
    let mut dirs = files("diesel");
    dirs.sort_by_key(|(n, _)| n.split('_').next().unwrap().replace('-', ""));
    let ups: Vec<String> = dirs.iter().map(|(_, t)| t.clone()).collect();
    assert_eq!(schema(&applied(&DIESEL)), schema(&reference(&ups)));
    let v: Vec<(u64, &str, bool)> = DIESEL
        .iter()
        .map(|m| (m.version(), m.name(), m.is_reversible()))
        .collect();
    assert_eq!(
        v,
        [
            (20180114171611, "create_users", true),
            (20180115090000, "create_posts", true),
            (20190601000000, "mysql_only", false),
            (20240313000000, "170000_add_tags", false),
        ]
    );
    let first = DIESEL.get(20180114171611).unwrap();
    assert_eq!(
        first.up_file(),
        "tests/fixtures/layouts/diesel/2018-01-14-171611_create_users/up.sql"
    );
    assert_eq!(
        first.down_file().as_deref(),
        Some("tests/fixtures/layouts/diesel/2018-01-14-171611_create_users/down.sql")
    );
}

#[test]
fn sqlx_names_and_no_transaction_apply_like_sqlx() {
    let ups: Vec<String> = files("sqlx")
        .into_iter()
        .filter(|(n, _)| n.ends_with(".up.sql"))
        .map(|(_, t)| t)
        .collect();
    assert_eq!(schema(&applied(&SQLX)), schema(&reference(&ups)));
    let names: Vec<&str> = SQLX.iter().map(|m| m.name()).collect();
    assert_eq!(names, ["Create-Users", "add posts", "index-posts"]);
    assert!(SQLX.get(20240103080000).unwrap().no_transaction());
    assert!(!SQLX.get(20240102093000).unwrap().no_transaction());
}

#[test]
fn golang_migrate_applies_like_golang_migrate() {
    let ups: Vec<String> = files("golang-migrate")
        .into_iter()
        .filter(|(n, _)| n.ends_with(".up.sql"))
        .map(|(_, t)| t)
        .collect();
    assert_eq!(schema(&applied(&GOLANG)), schema(&reference(&ups)));
    assert_eq!(GOLANG.latest_version(), 2);
}

#[test]
fn refinery_orders_numerically_like_refinery() {
    let mut v = files("refinery");
    v.sort_by_key(|(n, _)| n[1..].split("__").next().unwrap().parse::<u64>().unwrap());
    let ups: Vec<String> = v.into_iter().map(|(_, t)| t).collect();
    assert_eq!(schema(&applied(&REFINERY)), schema(&reference(&ups)));
    let v: Vec<(u64, &str)> = REFINERY.iter().map(|m| (m.version(), m.name())).collect();
    assert_eq!(v, [(1, "initial"), (2, "add_cars_table"), (10, "add_brand_to_persons")]);
}

#[test]
fn flyway_undo_files_are_the_downs() {
    let mut v: Vec<(String, String)> = files("flyway")
        .into_iter()
        .filter(|(n, _)| n.starts_with('V'))
        .collect();
    v.sort_by_key(|(n, _)| n[1..].split("__").next().unwrap().parse::<u64>().unwrap());
    let ups: Vec<String> = v.into_iter().map(|(_, t)| t).collect();
    let conn = applied(&FLYWAY);
    assert_eq!(schema(&conn), schema(&reference(&ups)));
    let people: i64 = conn.query_row("SELECT count(*) FROM PERSON", [], |r| r.get(0)).unwrap();
    assert_eq!(people, 3);
    let m = FLYWAY.get(1).unwrap();
    assert_eq!(m.down_sql(), Some("drop table PERSON;\n"));
    assert_eq!(
        m.down_file().as_deref(),
        Some("tests/fixtures/layouts/flyway/U1__Create_person_table.sql")
    );
    assert!(!FLYWAY.get(3).unwrap().is_reversible());
}

#[test]
fn dbmate_sections_apply_like_dbmate() {
    let ups: Vec<String> = files("dbmate")
        .into_iter()
        .map(|(_, t)| section(&t, "-- migrate:up", "-- migrate:down"))
        .collect();
    assert_eq!(schema(&applied(&DBMATE)), schema(&reference(&ups)));
    assert!(DBMATE.get(20151129060000).unwrap().no_transaction());
    assert!(DBMATE.get(20151129054053).unwrap().is_reversible());
    assert!(
        !DBMATE.get(20160101000000).unwrap().is_reversible(),
        "an empty down section"
    );
    assert_eq!(
        DBMATE.get(20151129054053).unwrap().up_file(),
        "tests/fixtures/layouts/dbmate/20151129054053_create_users.sql"
    );
}

#[test]
fn goose_sections_apply_like_goose() {
    let ups: Vec<String> = files("goose")
        .into_iter()
        .map(|(_, t)| section(&t, "-- +goose Up", "-- +goose Down"))
        .collect();
    assert_eq!(schema(&applied(&GOOSE)), schema(&reference(&ups)));
    let v: Vec<(u64, &str, bool)> = GOOSE
        .iter()
        .map(|m| (m.version(), m.name(), m.no_transaction()))
        .collect();
    assert_eq!(
        v,
        [
            (1, "create_users", false),
            (2, "touch_trigger", false),
            (3, "username_index", true)
        ]
    );
}

#[test]
fn run_time_loading_detects_the_same_layouts() {
    for (tool, embedded) in [
        ("diesel", &DIESEL),
        ("sqlx", &SQLX),
        ("refinery", &REFINERY),
        ("dbmate", &DBMATE),
        ("goose", &GOOSE),
    ] {
        let analysis = litemigrate_core::compile::Analysis {
            generate: tool != "dbmate",
            ..Default::default()
        };
        let set =
            Migrations::from_dir_analysed(fixture(tool), None, &litemigrate::CompileOptions::default(), &analysis)
                .unwrap();
        let a: Vec<_> = set.iter().map(|m| (m.version(), m.checksum())).collect();
        let b: Vec<_> = embedded.iter().map(|m| (m.version(), m.checksum())).collect();
        assert_eq!(a, b, "{tool}");
    }
    let flyway = Migrations::from_dir_as(
        fixture("flyway"),
        litemigrate_core::layouts::Layout::Flyway,
        &litemigrate::CompileOptions::default(),
    )
    .unwrap();
    assert_eq!(flyway.len(), 3);
    assert!(Migrations::from_dir(fixture("flyway"), &litemigrate::CompileOptions::default()).is_err());
}

/// Flyway's `R__` files are repeatable migrations in a Flyway directory too: not a layout of their own, not a
/// versioned file, applied after the versioned ones and again when edited.
#[test]
fn repeatables_in_a_flyway_directory() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("V1__users.sql"),
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("V2__email.sql"),
        "ALTER TABLE users ADD COLUMN email TEXT;\n",
    )
    .unwrap();
    let view = |cols: &str| format!("DROP VIEW IF EXISTS people;\nCREATE VIEW people AS SELECT {cols} FROM users;\n");
    std::fs::write(dir.path().join("R__people.sql"), view("id, name")).unwrap();
    let load = || Migrations::from_dir(dir.path(), &litemigrate::CompileOptions::default()).unwrap();
    let set = load();
    assert_eq!(set.iter().map(|m| m.version()).collect::<Vec<_>>(), [1, 2]);
    let mut conn = Connection::open_in_memory().unwrap();
    set.migrate(&mut conn).unwrap();
    let cols = |conn: &Connection| -> Vec<String> {
        let mut s = conn.prepare("SELECT name FROM pragma_table_info('people')").unwrap();
        s.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
    };
    assert_eq!(cols(&conn), ["id", "name"]);
    std::fs::write(dir.path().join("R__people.sql"), view("id, name, email")).unwrap();
    load().migrate(&mut conn).unwrap();
    assert_eq!(cols(&conn), ["id", "name", "email"]);
}
