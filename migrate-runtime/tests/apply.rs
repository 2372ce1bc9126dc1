//! Applying, rolling back and checking against a live database, one behaviour per test.

mod common;

use common::{history, schema, set, tables};
use litemigrate_runtime::{Direction, ErrorKind, Mode, State, Target, TxMode};
use rusqlite::{Connection, OpenFlags};

const M1: (&str, &str) = (
    "0001_users.sql",
    "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n",
);
const M2: (&str, &str) = (
    "0002_posts.up.sql",
    "CREATE TABLE posts(id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users(id), body TEXT);\n",
);
const M2D: (&str, &str) = ("0002_posts.down.sql", "DROP TABLE posts;\n");
const M3: (&str, &str) = (
    "0003_tags.up.sql",
    "CREATE TABLE tags(name TEXT PRIMARY KEY);\nINSERT INTO tags VALUES ('a');\n",
);
const M3D: (&str, &str) = ("0003_tags.down.sql", "DROP TABLE tags;\n");

fn three() -> litemigrate_runtime::Migrations {
    set(&[M1, M2, M2D, M3, M3D])
}

#[test]
fn applies_everything_then_nothing() {
    let mut conn = Connection::open_in_memory().unwrap();
    let m = three();
    let report = m.migrate(&mut conn).unwrap();
    assert_eq!((report.from_version, report.to_version), (0, 3));
    assert_eq!(report.applied.iter().map(|a| a.version).collect::<Vec<_>>(), [1, 2, 3]);
    assert!(
        report
            .plan
            .steps
            .iter()
            .all(|s| s.transaction == TxMode::Batch && s.unit == 1)
    );
    assert_eq!(tables(&conn), ["_migrations", "posts", "tags", "users"]);
    assert_eq!(history(&conn, "default"), [1, 2, 3]);
    let (kind, down, applied_at): (String, Option<String>, String) = conn
        .query_row(
            "SELECT kind, down_sql, applied_at FROM _migrations WHERE version = 3",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(kind, "sql");
    assert_eq!(down.as_deref(), Some("DROP TABLE tags;\n"));
    assert!(applied_at.ends_with('Z') && applied_at.contains('T'), "{applied_at}");

    let changes = conn.total_changes();
    let again = m.migrate(&mut conn).unwrap();
    assert!(again.is_noop() && again.applied.is_empty());
    assert_eq!(again.from_version, 3);
    assert_eq!(conn.total_changes(), changes, "the launch check wrote something");
    assert!(m.status(&conn).unwrap().is_up_to_date());
}

#[test]
fn new_migration_is_applied_on_next_launch() {
    let mut conn = Connection::open_in_memory().unwrap();
    set(&[M1, M2, M2D]).migrate(&mut conn).unwrap();
    let r = three().migrate(&mut conn).unwrap();
    assert_eq!((r.from_version, r.to_version), (2, 3));
    assert_eq!(r.applied.iter().map(|a| a.version).collect::<Vec<_>>(), [3]);
    let n: i64 = conn.query_row("SELECT count(*) FROM tags", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 1);
}

#[test]
fn read_only_database_launches_and_reports() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.db");
    three().migrate(&mut Connection::open(&path).unwrap()).unwrap();

    let mut ro = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    assert!(three().migrate(&mut ro).unwrap().is_noop());
    assert!(three().status(&ro).unwrap().is_up_to_date());

    // Pending work on a read-only database is a clear error, and nothing changes.
    let four = set(&[M1, M2, M2D, M3, M3D, ("0004_x.sql", "CREATE TABLE x(a);")]);
    let err = four.migrate(&mut ro).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ReadOnly, "{err}");
    let st = four.status(&ro).unwrap();
    assert_eq!(st.pending().map(|e| e.version).collect::<Vec<_>>(), [4]);
    drop(ro);
    assert_eq!(history(&Connection::open(&path).unwrap(), "default"), [1, 2, 3]);
}

#[test]
fn fresh_read_only_database_status_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.db");
    Connection::open(&path)
        .unwrap()
        .execute_batch("CREATE TABLE app(x);")
        .unwrap();
    let ro = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let st = three().status(&ro).unwrap();
    assert!(!st.history_exists);
    assert_eq!(st.pending().count(), 3);
    assert_eq!(tables(&ro), ["app"]);
}

#[test]
fn edited_applied_migration_is_divergent() {
    let mut conn = Connection::open_in_memory().unwrap();
    three().migrate(&mut conn).unwrap();
    let edited = set(&[
        (
            "0001_users.sql",
            "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT);\n",
        ),
        M2,
        M2D,
        M3,
        M3D,
    ]);
    let err = edited.migrate(&mut conn).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Divergent);
    let at = err.migration().unwrap();
    assert_eq!(
        (at.version, at.name.as_str(), at.file.as_str()),
        (1, "users", "migrations/0001_users.sql")
    );
    assert!(err.to_string().contains("migrations/0001_users.sql"), "{err}");
    let st = edited.status(&conn).unwrap();
    assert_eq!(
        st.in_state(State::Divergent).map(|e| e.version).collect::<Vec<_>>(),
        [1]
    );
}

#[test]
fn deleted_migration_is_missing_unless_allowed() {
    let mut conn = Connection::open_in_memory().unwrap();
    three().migrate(&mut conn).unwrap();
    let without_2 = set(&[M1, M3, M3D]);
    let err = without_2.migrate(&mut conn).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Missing);
    assert_eq!(err.migration().unwrap().file, "migrations/0002_posts.up.sql");
    assert!(
        without_2
            .migrator()
            .allow_missing(true)
            .run(&mut conn)
            .unwrap()
            .is_noop()
    );
    assert_eq!(without_2.status(&conn).unwrap().in_state(State::Missing).count(), 1);
}

#[test]
fn database_from_newer_binary_is_ahead_and_can_be_rolled_back_explicitly() {
    let mut conn = Connection::open_in_memory().unwrap();
    three().migrate(&mut conn).unwrap();
    let older = set(&[M1, M2, M2D]);
    let err = older.migrate(&mut conn).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::DatabaseAhead);
    assert_eq!(err.migration().unwrap().version, 3);
    // Without permission, even an explicit target refuses to touch what it does not know.
    let err = older.migrator().target(Target::Version(2)).run(&mut conn).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::DatabaseAhead);
    // With permission, the down SQL recorded in history rolls it back.
    let r = older
        .migrator()
        .target(Target::Version(2))
        .allow_unknown_rollback(true)
        .run(&mut conn)
        .unwrap();
    assert_eq!(
        r.applied.iter().map(|a| (a.direction, a.version)).collect::<Vec<_>>(),
        [(Direction::Down, 3)]
    );
    assert_eq!(tables(&conn), ["_migrations", "posts", "users"]);
    assert!(older.status(&conn).unwrap().is_up_to_date());
}

#[test]
fn out_of_order_is_an_error_unless_allowed() {
    let mut conn = Connection::open_in_memory().unwrap();
    set(&[M1, M3, M3D]).migrate(&mut conn).unwrap();
    let err = three().migrate(&mut conn).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::OutOfOrder);
    assert_eq!(err.migration().unwrap().version, 2);
    assert!(!tables(&conn).contains(&"posts".to_string()));
    let r = three().migrator().allow_out_of_order(true).run(&mut conn).unwrap();
    assert_eq!(r.applied.iter().map(|a| a.version).collect::<Vec<_>>(), [2]);
    assert_eq!(history(&conn, "default"), [1, 2, 3]);
    // After an out-of-order apply the newest row's chain no longer matches; the full comparison still finds
    // everything applied.
    assert!(three().migrate(&mut conn).unwrap().is_noop());
}

#[test]
fn failing_sql_in_a_batch_changes_nothing_and_is_recorded() {
    let mut conn = Connection::open_in_memory().unwrap();
    conn.execute_batch("CREATE TABLE app(x); INSERT INTO app VALUES (1);")
        .unwrap();
    let bad = set(&[
        M1,
        ("0002_bad.sql", "CREATE TABLE ok(a);\n\nINSERT INTO nope VALUES (1);\n"),
        M3,
        M3D,
    ]);
    let err = bad.migrate(&mut conn).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::MigrationFailed);
    let at = err.migration().unwrap();
    assert_eq!((at.version, at.file.as_str()), (2, "migrations/0002_bad.sql"));
    assert!(
        matches!(
            err,
            litemigrate_runtime::Error::MigrationFailed {
                line: 3,
                down: false,
                ..
            }
        ),
        "{err:?}"
    );
    // Nothing of the batch survived, not even migration 1 or the history rows.
    assert_eq!(schema(&conn), ["table app CREATE TABLE app(x)"]);
    assert!(!tables(&conn).contains(&"_migrations".to_string()));
    let st = bad.status(&conn).unwrap();
    let fail = st.last_failure.unwrap();
    assert_eq!(fail.migration.version, 2);
    assert!(fail.error.contains("no such table: nope"), "{}", fail.error);
}

#[test]
fn per_migration_mode_keeps_what_succeeded() {
    let mut conn = Connection::open_in_memory().unwrap();
    let bad = set(&[M1, ("0002_bad.sql", "INSERT INTO nope VALUES (1);"), M3, M3D]);
    let err = bad.migrator().mode(Mode::PerMigration).run(&mut conn).unwrap_err();
    assert_eq!(err.migration().unwrap().version, 2);
    assert_eq!(history(&conn, "default"), [1]);
    assert_eq!(tables(&conn), ["_migrations", "_migrations_failures", "users"]);
}

#[test]
fn per_migration_mode_uses_one_transaction_each() {
    let mut conn = Connection::open_in_memory().unwrap();
    let r = three().migrator().mode(Mode::PerMigration).run(&mut conn).unwrap();
    assert_eq!(
        r.plan.steps.iter().map(|s| (s.unit, s.transaction)).collect::<Vec<_>>(),
        [(1, TxMode::Own), (2, TxMode::Own), (3, TxMode::Own)]
    );
    assert_eq!(history(&conn, "default"), [1, 2, 3]);
}

#[test]
fn rolls_back_to_a_version_newest_first() {
    let mut conn = Connection::open_in_memory().unwrap();
    let m = three();
    m.migrate(&mut conn).unwrap();
    let r = m.migrator().target(Target::Version(1)).run(&mut conn).unwrap();
    assert_eq!(
        r.applied.iter().map(|a| (a.direction, a.version)).collect::<Vec<_>>(),
        [(Direction::Down, 3), (Direction::Down, 2)]
    );
    assert_eq!(tables(&conn), ["_migrations", "users"]);
    assert_eq!(history(&conn, "default"), [1]);
    // And up again.
    m.migrate(&mut conn).unwrap();
    assert_eq!(history(&conn, "default"), [1, 2, 3]);
}

#[test]
fn irreversible_migration_on_the_way_down_fails_before_anything_runs() {
    let mut conn = Connection::open_in_memory().unwrap();
    let m = three();
    m.migrate(&mut conn).unwrap();
    let before = schema(&conn);
    let err = m.migrator().target(Target::Version(0)).run(&mut conn).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Irreversible);
    assert_eq!(err.migration().unwrap().version, 1);
    assert_eq!(schema(&conn), before);
    assert_eq!(history(&conn, "default"), [1, 2, 3]);
}

#[test]
fn unknown_target_is_an_error() {
    let mut conn = Connection::open_in_memory().unwrap();
    let err = three()
        .migrator()
        .target(Target::Version(7))
        .run(&mut conn)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownTarget);
}

#[test]
fn dry_run_returns_the_plan_and_changes_nothing() {
    let mut conn = Connection::open_in_memory().unwrap();
    let r = three().migrator().dry_run(true).run(&mut conn).unwrap();
    assert!(r.dry_run && r.applied.is_empty());
    assert_eq!(r.plan.steps.len(), 3);
    assert_eq!(r.plan.steps[2].sql.as_deref(), Some(M3.1));
    assert_eq!(r.plan.steps[1].file, "migrations/0002_posts.up.sql");
    assert!(tables(&conn).is_empty(), "a dry run created {:?}", tables(&conn));
    let text = r.to_string();
    assert!(text.contains("dry run") && text.contains("CREATE TABLE tags"), "{text}");

    three().migrate(&mut conn).unwrap();
    let down = three()
        .migrator()
        .target(Target::Version(1))
        .dry_run(true)
        .run(&mut conn)
        .unwrap();
    assert_eq!(
        down.plan
            .steps
            .iter()
            .map(|s| (s.direction, s.version))
            .collect::<Vec<_>>(),
        [(Direction::Down, 3), (Direction::Down, 2)]
    );
    assert_eq!(down.plan.steps[0].sql.as_deref(), Some(M3D.1));
    assert_eq!(history(&conn, "default"), [1, 2, 3]);
}

#[test]
fn no_transaction_migration_splits_the_batch() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.db");
    let mut conn = Connection::open(&path).unwrap();
    let m = set(&[
        M1,
        (
            "0002_wal.sql",
            "-- migrate:no-transaction\nPRAGMA journal_mode = WAL;\nVACUUM;\n",
        ),
        M3,
        M3D,
    ]);
    let r = m.migrate(&mut conn).unwrap();
    assert_eq!(
        r.plan.steps.iter().map(|s| (s.unit, s.transaction)).collect::<Vec<_>>(),
        [(1, TxMode::Batch), (2, TxMode::None), (3, TxMode::Batch)]
    );
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
    assert_eq!(history(&conn, "default"), [1, 2, 3]);
    assert!(dir.path().join("app.db.migrate-lock").exists());
}

const PARENT: (&str, &str) = (
    "0001_parent.sql",
    "CREATE TABLE parent(id INTEGER PRIMARY KEY);\nCREATE TABLE child(id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id));\nINSERT INTO parent VALUES (1);\nINSERT INTO child VALUES (10, 1);\n",
);

#[test]
fn foreign_keys_off_migration_rebuilds_and_restores_the_setting() {
    let mut conn = Connection::open_in_memory().unwrap();
    conn.execute_batch("PRAGMA foreign_keys = ON").unwrap();
    let rebuild = (
        "0002_rebuild.sql",
        "-- migrate:foreign-keys=off\nCREATE TABLE parent_new(id INTEGER PRIMARY KEY, label TEXT);\nINSERT INTO parent_new(id) SELECT id FROM parent;\nDROP TABLE parent;\nALTER TABLE parent_new RENAME TO parent;\n",
    );
    let m = set(&[PARENT, rebuild]);
    m.migrate(&mut conn).unwrap();
    let n: i64 = conn.query_row("SELECT count(*) FROM child", [], |r| r.get(0)).unwrap();
    assert_eq!(
        n, 1,
        "dropping the parent with foreign keys on would have failed or cascaded"
    );
    let fk: bool = conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0)).unwrap();
    assert!(fk, "foreign keys were not restored");
}

#[test]
fn foreign_key_violations_roll_back_and_name_the_rows() {
    let mut conn = Connection::open_in_memory().unwrap();
    conn.execute_batch("PRAGMA foreign_keys = ON").unwrap();
    set(&[PARENT]).migrate(&mut conn).unwrap();
    let before = schema(&conn);
    let bad = set(&[
        PARENT,
        ("0002_orphan.sql", "-- migrate:foreign-keys=off\nDELETE FROM parent;\n"),
    ]);
    let err = bad.migrate(&mut conn).unwrap_err();
    match &err {
        litemigrate_runtime::Error::ForeignKeyViolation { at, violations } => {
            assert_eq!(at.version, 2);
            assert_eq!(violations.len(), 1);
            assert_eq!(
                (
                    violations[0].table.as_str(),
                    violations[0].rowid,
                    violations[0].parent.as_str()
                ),
                ("child", Some(10), "parent")
            );
        }
        other => panic!("expected a foreign key violation, got {other:?}"),
    }
    assert!(err.to_string().contains("child rowid 10"), "{err}");
    let parents: i64 = conn.query_row("SELECT count(*) FROM parent", [], |r| r.get(0)).unwrap();
    assert_eq!(parents, 1);
    assert_eq!(schema(&conn), before);
    let fk: bool = conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0)).unwrap();
    assert!(fk);
}

fn backfill(tx: &rusqlite::Transaction<'_>) -> Result<(), litemigrate_runtime::CodeError> {
    tx.execute("UPDATE users SET name = upper(name)", [])?;
    Ok(())
}

fn failing(tx: &rusqlite::Transaction<'_>) -> Result<(), litemigrate_runtime::CodeError> {
    tx.execute("UPDATE users SET name = 'changed'", [])?;
    Err("backfill refused".into())
}

fn with_code(up: litemigrate_runtime::CodeFn) -> litemigrate_runtime::Migrations {
    use litemigrate_core::load::{CodeMigration, Entry, SourceFile, add_code_migrations, load_files};
    let file = |n: &str, sql: &str| SourceFile {
        file_name: n.into(),
        display: format!("migrations/{n}"),
        contents: Entry::File(sql.as_bytes().to_vec()),
    };
    let mut sources = load_files(vec![
        file(
            "0001_users.sql",
            "CREATE TABLE users(name TEXT);\nINSERT INTO users VALUES ('ann');\n",
        ),
        file("0003_more.sql", "INSERT INTO users VALUES ('bob');\n"),
    ])
    .unwrap();
    add_code_migrations(
        &mut sources,
        &[CodeMigration {
            version: 2,
            name: "upper".into(),
            path: "app::backfill".into(),
            reversible: false,
        }],
    )
    .unwrap();
    let mut m = litemigrate_runtime::Migrations::from_sources("default", sources);
    assert!(m.set_code(2, up, None));
    m
}

#[test]
fn code_migration_runs_in_the_transaction() {
    let mut conn = Connection::open_in_memory().unwrap();
    with_code(backfill).migrate(&mut conn).unwrap();
    let names: Vec<String> = conn
        .prepare("SELECT name FROM users ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(names, ["ANN", "bob"]);
    let kind: String = conn
        .query_row("SELECT kind FROM _migrations WHERE version = 2", [], |r| r.get(0))
        .unwrap();
    assert_eq!(kind, "code");
}

#[test]
fn failing_code_migration_rolls_back() {
    let mut conn = Connection::open_in_memory().unwrap();
    let err = with_code(failing).migrate(&mut conn).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::CodeFailed);
    assert_eq!(err.migration().unwrap().file, "app::backfill");
    assert!(!tables(&conn).contains(&"users".to_string()));
}

#[test]
fn custom_history_table_and_invalid_names() {
    let mut conn = Connection::open_in_memory().unwrap();
    three()
        .migrator()
        .history_table("schema_history")
        .run(&mut conn)
        .unwrap();
    assert!(tables(&conn).contains(&"schema_history".to_string()));
    assert!(!tables(&conn).contains(&"_migrations".to_string()));
    assert!(
        three()
            .migrator()
            .history_table("schema_history")
            .status(&conn)
            .unwrap()
            .is_up_to_date()
    );
    for bad in ["x\"; DROP TABLE users; --", "1abc", "sqlite_master", "", "a b"] {
        let err = three().migrator().history_table(bad).run(&mut conn).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidTableName, "{bad}");
    }
    assert!(tables(&conn).contains(&"users".to_string()));
}

#[test]
fn corrupt_history_row_is_reported() {
    let mut conn = Connection::open_in_memory().unwrap();
    three().migrate(&mut conn).unwrap();
    conn.execute(
        "UPDATE _migrations SET checksum = 'garbage', chain = 'garbage' WHERE version = 3",
        [],
    )
    .unwrap();
    // A launch that reads the history reports the corrupt row.
    let err = three().migrator().header_stamp(false).run(&mut conn).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::CorruptHistory);
    assert!(
        matches!(err, litemigrate_runtime::Error::CorruptHistory { version: Some(3), .. }),
        "{err:?}"
    );
    assert_eq!(three().status(&conn).unwrap_err().kind(), ErrorKind::CorruptHistory);
    assert_eq!(three().verify(&conn).unwrap_err().kind(), ErrorKind::CorruptHistory);
    // The default launch answers from the header stamp written with the schema (the schema is what it should be, so
    // nothing runs); the first launch with something to do reads the history and stops on the corrupt row.
    assert!(three().migrate(&mut conn).unwrap().applied.is_empty());
    let four = set(&[M1, M2, M2D, M3, M3D, ("0004_more.sql", "CREATE TABLE more(x);\n")]);
    let err = four.migrate(&mut conn).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::CorruptHistory);
    assert_eq!(tables(&conn), ["_migrations", "posts", "tags", "users"]);
}

#[test]
fn locked_database_times_out_with_busy() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.db");
    let holder = Connection::open(&path).unwrap();
    holder
        .execute_batch("CREATE TABLE app(x); BEGIN IMMEDIATE; INSERT INTO app VALUES (1);")
        .unwrap();
    let mut conn = Connection::open(&path).unwrap();
    conn.busy_timeout(std::time::Duration::from_millis(50)).unwrap();
    let err = three().migrate(&mut conn).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Busy, "{err}");
    holder.execute_batch("ROLLBACK").unwrap();
    assert_eq!(tables(&conn), ["app"]);
    three().migrate(&mut conn).unwrap();
}

#[test]
fn disk_full_rolls_back_and_names_the_migration() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.db");
    let mut conn = Connection::open(&path).unwrap();
    conn.execute_batch("CREATE TABLE app(x); INSERT INTO app VALUES ('keep');")
        .unwrap();
    let pages: i64 = conn.query_row("PRAGMA page_count", [], |r| r.get(0)).unwrap();
    conn.query_row(&format!("PRAGMA max_page_count = {}", pages + 3), [], |_| Ok(()))
        .unwrap();
    let big = set(&[
        M1,
        (
            "0002_big.sql",
            "CREATE TABLE big(b BLOB);\nINSERT INTO big SELECT randomblob(4000) FROM (WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 100) SELECT i FROM c);\n",
        ),
    ]);
    let err = big.migrate(&mut conn).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::DiskFull, "{err}");
    assert_eq!(err.migration().unwrap().version, 2);
    assert_eq!(schema(&conn), ["table app CREATE TABLE app(x)"]);
    let kept: String = conn.query_row("SELECT x FROM app", [], |r| r.get(0)).unwrap();
    assert_eq!(kept, "keep");
}

#[test]
fn sets_share_one_history_table() {
    let mut conn = Connection::open_in_memory().unwrap();
    let a = common::set_named("auth", &[("1_sessions.sql", "CREATE TABLE sessions(id);")]);
    let b = common::set_named(
        "billing",
        &[
            ("1_invoices.sql", "CREATE TABLE invoices(id);"),
            ("2_lines.sql", "CREATE TABLE lines(id);"),
        ],
    );
    a.migrate(&mut conn).unwrap();
    b.migrate(&mut conn).unwrap();
    assert_eq!(history(&conn, "auth"), [1]);
    assert_eq!(history(&conn, "billing"), [1, 2]);
    assert!(a.status(&conn).unwrap().is_up_to_date());
    assert!(a.migrate(&mut conn).unwrap().is_noop());
}

#[test]
fn report_and_status_serialize() {
    let mut conn = Connection::open_in_memory().unwrap();
    let r = three().migrate(&mut conn).unwrap();
    let json: serde_json::Value = serde_json::to_value(&r).unwrap();
    assert_eq!(json["to_version"], 3);
    assert_eq!(json["plan"]["steps"][0]["direction"], "up");
    assert_eq!(json["plan"]["steps"][0]["transaction"], "batch");
    assert!(json["backup"].is_null());
    let st = serde_json::to_value(three().status(&conn).unwrap()).unwrap();
    assert_eq!(st["entries"][2]["state"], "applied");
    assert_eq!(st["entries"][2]["checksum"].as_str().unwrap().len(), 64);
    assert!(
        three()
            .status(&conn)
            .unwrap()
            .to_string()
            .contains("migrations/0003_tags.up.sql")
    );
}
