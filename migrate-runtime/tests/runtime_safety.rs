//! The runtime half of "migration SQL cannot break the runner, and no restore discards anyone's data": a unit whose
//! migration leaves the runner's transaction records nothing, an automatic restore never discards another
//! connection's commits (and keeps the failure record), a migration that sets `user_version` keeps it, statement
//! failures name both SQLite versions, and a configured history table cannot be written by a migration.

mod common;

use common::{history, schema, set, tables};
use litemigrate_core::compile::{Compiled, CompiledMigration};
use litemigrate_core::load::{CodeMigration, MigrationSource, add_code_migrations, load_in_memory};
use litemigrate_runtime::{CodeError, CodeFn, Error, ErrorKind, Migrations};
use rusqlite::{Connection, Transaction};

fn sources(files: &[(&str, &str)]) -> Vec<MigrationSource> {
    load_in_memory("migrations", files).unwrap()
}

const BASE: (&str, &str) = ("0001_base.sql", "CREATE TABLE base (x);\n");

/// SQL migrations 1, 2 and 4 around a Rust-code migration 3 running `f`.
fn with_code_in_the_middle(f: CodeFn) -> Migrations {
    let mut src = sources(&[
        BASE,
        ("0002_a.sql", "CREATE TABLE a (x);\nINSERT INTO a VALUES (1);\n"),
        ("0004_c.sql", "CREATE TABLE c (x);\n"),
    ]);
    add_code_migrations(
        &mut src,
        &[CodeMigration {
            version: 3,
            name: "tx_control".into(),
            path: "app::tx_control".into(),
            reversible: false,
        }],
    )
    .unwrap();
    let mut set = Migrations::from_sources("default", src);
    assert!(set.set_code(3, f, None));
    set
}

/// A database at version 1, so the history table exists before the batch (2, 3, 4) runs: a `ROLLBACK` inside the
/// batch cannot take it away, and only the runner's own check stands between the batch and a false history.
fn at_v1() -> Connection {
    let mut conn = Connection::open_in_memory().unwrap();
    set(&[BASE]).migrate(&mut conn).unwrap();
    conn
}

fn commit_begin(tx: &Transaction<'_>) -> Result<(), CodeError> {
    tx.execute_batch("COMMIT; BEGIN; CREATE TABLE b (x);")?;
    Ok(())
}

fn rollback_begin(tx: &Transaction<'_>) -> Result<(), CodeError> {
    tx.execute_batch("ROLLBACK; BEGIN; CREATE TABLE b (x);")?;
    Ok(())
}

fn commit_only(tx: &Transaction<'_>) -> Result<(), CodeError> {
    tx.execute_batch("COMMIT;")?;
    Ok(())
}

fn history_rows(conn: &Connection) -> Vec<u64> {
    if tables(conn).contains(&"_migrations".to_string()) {
        history(conn, "default")
    } else {
        Vec::new()
    }
}

#[test]
fn a_migration_that_leaves_the_transaction_fails_and_records_nothing() {
    for (f, label) in [
        (rollback_begin as CodeFn, "ROLLBACK; BEGIN"),
        (commit_begin as CodeFn, "COMMIT; BEGIN"),
        (commit_only as CodeFn, "COMMIT"),
    ] {
        let set = with_code_in_the_middle(f);
        let mut conn = at_v1();
        let err = set.migrate(&mut conn).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TransactionLeft, "{label}: {err}");
        let at = err.migration().unwrap();
        assert_eq!((at.version, at.file.as_str()), (3, "app::tx_control"), "{label}");
        let text = err.to_string();
        assert!(text.contains("ended the runner's transaction"), "{label}: {text}");
        assert!(text.contains("nothing of this unit was recorded"), "{label}: {text}");
        // Nothing of the batch is recorded as applied, whatever the migration managed to commit on its own.
        assert_eq!(history_rows(&conn), [1], "{label}");
        assert!(
            !tables(&conn).contains(&"c".to_string()),
            "{label}: migration 4 never ran"
        );
        if label.starts_with("ROLLBACK") {
            // The ROLLBACK undid migration 2; it must not be recorded as applied (it is not).
            assert!(!tables(&conn).contains(&"a".to_string()), "{label}");
        }
        // The failure is on record against migration 3.
        let fail = set.status(&conn).unwrap().last_failure.expect("a failure record");
        assert_eq!(fail.migration.version, 3, "{label}");
        assert!(
            fail.error.contains("ended the runner's transaction"),
            "{label}: {}",
            fail.error
        );
    }
    // On a fresh database too (there the ROLLBACK also takes the new history table with it).
    let set = with_code_in_the_middle(rollback_begin);
    let mut conn = Connection::open_in_memory().unwrap();
    let err = set.migrate(&mut conn).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TransactionLeft, "{err}");
    assert_eq!(history_rows(&conn), Vec::<u64>::new());
}

#[test]
fn per_migration_mode_keeps_the_units_before_and_records_none_after() {
    let set = with_code_in_the_middle(rollback_begin);
    let mut conn = at_v1();
    let err = set
        .migrator()
        .mode(litemigrate_runtime::Mode::PerMigration)
        .run(&mut conn)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TransactionLeft, "{err}");
    // Migration 2 committed in its own unit and is recorded; 3 undid only its own unit.
    assert_eq!(history_rows(&conn), [1, 2]);
    assert_eq!(
        schema(&conn),
        ["table a CREATE TABLE a (x)", "table base CREATE TABLE base (x)"]
    );
}

/// A file database: the partial commit of `COMMIT; BEGIN` is undone by restoring the pre-migrate backup (nobody
/// else wrote meanwhile).
#[test]
fn a_partial_commit_on_a_file_database_is_undone_from_the_backup() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("app.db");
    let mut conn = Connection::open(&db).unwrap();
    set(&[BASE]).migrate(&mut conn).unwrap();
    conn.execute_batch("INSERT INTO base VALUES (1);").unwrap();
    let before = schema(&conn);
    let err = with_code_in_the_middle(commit_begin).migrate(&mut conn).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TransactionLeft, "{err}");
    assert!(matches!(err, Error::RestoredFromBackup { .. }), "{err}");
    // Migration 2's table, committed by the `COMMIT` without a history row, is gone again.
    assert_eq!(schema(&conn), before);
    assert_eq!(history_rows(&conn), [1]);
}

const USERS: (&str, &str) = (
    "0001_users.sql",
    "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);\n",
);

/// A WAL file database at version 1 with one user.
fn wal_db_at_v1() -> (tempfile::TempDir, std::path::PathBuf, Connection) {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("app.db");
    let mut conn = Connection::open(&db).unwrap();
    conn.pragma_update(None, "journal_mode", "wal").unwrap();
    set(&[USERS]).migrate(&mut conn).unwrap();
    conn.execute("INSERT INTO users (name) VALUES ('ada')", []).unwrap();
    (tmp, db, conn)
}

const HALF: (&str, &str) = (
    "0002_half.sql",
    "-- migrate:no-transaction\nCREATE TABLE half (x);\nSELECT other_writer_commits();\nINSERT INTO nowhere VALUES (1);\n",
);

fn user_names(conn: &Connection) -> Vec<String> {
    let mut st = conn.prepare("SELECT name FROM users ORDER BY id").unwrap();
    st.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
}

/// Another connection commits rows while a no-transaction migration runs (after the pre-migrate backup), then the
/// migration fails: restoring the backup would discard those rows, so the runner must not restore, must say so
/// and name the backup, and must keep the failure record.
#[test]
fn no_restore_over_another_connections_commits() {
    let (_tmp, db, mut conn) = wal_db_at_v1();
    let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let writer_db = db.clone();
    let writer = std::thread::spawn(move || {
        go_rx.recv().unwrap();
        let other = Connection::open(&writer_db).unwrap();
        other.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
        for name in ["grace", "linus"] {
            // Each an acknowledged commit of its own.
            other.execute("INSERT INTO users (name) VALUES (?1)", [name]).unwrap();
        }
        done_tx.send(()).unwrap();
    });
    // Called by the migration's second statement: this connection holds only a read snapshot in WAL mode then, so
    // the writer can commit; the migration goes on once it has.
    conn.create_scalar_function(
        "other_writer_commits",
        0,
        rusqlite::functions::FunctionFlags::SQLITE_UTF8,
        move |_| {
            go_tx.send(()).ok();
            done_rx.recv().ok();
            Ok(1)
        },
    )
    .unwrap();
    let err = set(&[USERS, HALF]).migrate(&mut conn).unwrap_err();
    writer.join().unwrap();
    let backup = match &err {
        Error::NotRestored { backup, .. } => backup.clone(),
        other => panic!("expected no automatic restore, got {other}"),
    };
    assert_eq!(err.kind(), ErrorKind::MigrationFailed, "{err}");
    assert_eq!(err.migration().unwrap().version, 2);
    let text = err.to_string();
    assert!(text.contains("NOT restored"), "{text}");
    assert!(text.contains(&backup.id), "{text}");
    assert!(text.contains("another connection committed"), "{text}");
    // Every acknowledged row is still there, seen from this connection and from a fresh one.
    assert_eq!(user_names(&conn), ["ada", "grace", "linus"]);
    assert_eq!(user_names(&Connection::open(&db).unwrap()), ["ada", "grace", "linus"]);
    // The failure record exists.
    let fail = set(&[USERS, HALF])
        .status(&conn)
        .unwrap()
        .last_failure
        .expect("a failure record");
    assert_eq!(fail.migration.version, 2);
}

/// Nobody else wrote: the automatic restore still happens, and the failure record survives it.
#[test]
fn the_failure_record_survives_an_automatic_restore() {
    let (_tmp, _db, mut conn) = wal_db_at_v1();
    conn.create_scalar_function(
        "other_writer_commits",
        0,
        rusqlite::functions::FunctionFlags::SQLITE_UTF8,
        |_| Ok(1),
    )
    .unwrap();
    let err = set(&[USERS, HALF]).migrate(&mut conn).unwrap_err();
    assert!(matches!(err, Error::RestoredFromBackup { .. }), "{err}");
    assert!(!tables(&conn).contains(&"half".to_string()));
    let fail = set(&[USERS, HALF])
        .status(&conn)
        .unwrap()
        .last_failure
        .expect("the failure record, written again after the restore");
    assert_eq!(fail.migration.version, 2);
    assert!(fail.error.contains("nowhere"), "{}", fail.error);
}

fn user_version(conn: &Connection) -> i64 {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap()
}

#[test]
fn a_migration_that_sets_user_version_keeps_it() {
    for (mode, file) in [
        (litemigrate_runtime::Mode::Batch, "PRAGMA user_version = 5;\n"),
        (litemigrate_runtime::Mode::PerMigration, "PRAGMA user_version = 5;\n"),
        (
            litemigrate_runtime::Mode::Batch,
            "-- migrate:no-transaction\nPRAGMA user_version = 5;\n",
        ),
    ] {
        let two = set(&[("0001_a.sql", "CREATE TABLE a (x);\n"), ("0002_uv.sql", file)]);
        let mut conn = Connection::open_in_memory().unwrap();
        two.migrator().mode(mode).run(&mut conn).unwrap();
        assert_eq!(user_version(&conn), 5, "{mode:?} {file}");
        // The next launch is up to date (through the history read) and leaves the value alone.
        let report = two.migrate(&mut conn).unwrap();
        assert!(report.applied.is_empty(), "{report}");
        assert!(two.status(&conn).unwrap().is_up_to_date());
        assert_eq!(user_version(&conn), 5);
        // A later migration does not take the value back either.
        let three = set(&[
            ("0001_a.sql", "CREATE TABLE a (x);\n"),
            ("0002_uv.sql", file),
            ("0003_b.sql", "CREATE TABLE b (x);\n"),
        ]);
        assert_eq!(three.migrate(&mut conn).unwrap().applied.len(), 1);
        assert_eq!(user_version(&conn), 5);
        assert!(three.status(&conn).unwrap().is_up_to_date());
    }
}

/// A set "validated" with another SQLite than the one running: the compiled form of `files`, with the build's
/// version set to 3.0.0.
fn validated_with_3_0_0(files: &[(&str, &str)]) -> Migrations {
    let migrations = sources(files)
        .into_iter()
        .map(|s| CompiledMigration {
            up_sql: s.up.sql.clone(),
            down_sql: s.down.as_ref().map(|d| d.sql.clone()),
            schema_hash: None,
            source: s,
        })
        .collect();
    Migrations::from_compiled(
        "default",
        Compiled {
            migrations,
            final_schema: None,
            sqlite_version: Some("3.0.0".into()),
            findings: Vec::new(),
        },
    )
}

#[test]
fn statement_failures_name_both_sqlite_versions_and_the_hint() {
    let set = validated_with_3_0_0(&[
        ("0001_a.sql", "CREATE TABLE a (x);\n"),
        ("0002_f.sql", "CREATE TABLE b (x);\nSELECT no_such_function_here(1);\n"),
    ]);
    assert_eq!(set.build_sqlite_version(), Some("3.0.0"));
    let mut conn = Connection::open_in_memory().unwrap();
    let err = set.migrate(&mut conn).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::MigrationFailed);
    let text = err.to_string();
    let versions = format!(
        "validated with SQLite 3.0.0 at build, running on {}",
        rusqlite::version()
    );
    assert!(text.contains(&versions), "{text}");
    assert!(text.contains("no such function"), "{text}");
    assert!(
        text.contains("hint: the SQLite that ran it does not have this function"),
        "{text}"
    );
    // The failure record carries the same text.
    let st = set.status(&conn).unwrap();
    assert!(st.last_failure.as_ref().unwrap().error.contains(&versions));
    // Status (and so verify) shows both versions.
    assert_eq!(st.sqlite.build.as_deref(), Some("3.0.0"));
    assert_eq!(st.sqlite.running, rusqlite::version());
    assert!(st.to_string().contains(&versions), "{st}");
    let json = serde_json::to_value(&st).unwrap();
    assert_eq!(json["sqlite"]["build"], "3.0.0");

    // Build version unknown (a set built without compiling): no version note, the hint stays.
    let plain = common::set(&[("0001_f.sql", "SELECT no_such_function_here(1);\n")]);
    let mut conn = Connection::open_in_memory().unwrap();
    let text = plain.migrate(&mut conn).unwrap_err().to_string();
    assert!(text.contains("hint: the SQLite that ran it"), "{text}");
    assert!(!text.contains("validated with SQLite"), "{text}");
}

#[test]
fn a_migration_writing_the_configured_history_table_is_refused_before_anything_runs() {
    for (sql, table, line) in [
        (
            "CREATE TABLE a (x);\nDELETE FROM schema_history;\n",
            "schema_history",
            2,
        ),
        (
            "CREATE TABLE a (x);\n\nINSERT INTO \"Schema_History_Failures\" VALUES (1);\n",
            "schema_history_failures",
            3,
        ),
        ("UPDATE schema_history SET version = 1;\n", "schema_history", 1),
    ] {
        let set = set(&[("0001_first.sql", "CREATE TABLE t (x);\n"), ("0002_bad.sql", sql)]);
        let mut conn = Connection::open_in_memory().unwrap();
        let err = set
            .migrator()
            .history_table("schema_history")
            .run(&mut conn)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::WritesHistoryTable, "{sql}: {err}");
        match &err {
            Error::WritesHistoryTable { at, line: l, table: t } => {
                assert_eq!((at.version, at.file.as_str()), (2, "migrations/0002_bad.sql"));
                assert_eq!((*l, t.as_str()), (line, table), "{sql}");
            }
            other => panic!("{other}"),
        }
        // Refused at plan time: nothing ran, not even migration 1, no history table.
        assert_eq!(tables(&conn), Vec::<String>::new(), "{sql}");
        // Dry runs refuse it too.
        let err = set
            .migrator()
            .history_table("schema_history")
            .dry_run(true)
            .run(&mut conn)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::WritesHistoryTable);
    }
    // A mention in a string, a comment or a read is not a write.
    let ok = set(&[(
        "0001_ok.sql",
        "CREATE TABLE t (x);\nINSERT INTO t VALUES ('DELETE FROM schema_history'); -- DELETE FROM schema_history\n\
         CREATE VIEW v AS SELECT * FROM t;\n",
    )]);
    let mut conn = Connection::open_in_memory().unwrap();
    ok.migrator().history_table("schema_history").run(&mut conn).unwrap();
}

/// Only steps that may leave the transaction get the savepoint: SQL that starts a statement with transaction control
/// (here written into a set by hand, past the loader that refuses it) is still caught, as code is.
#[test]
fn sql_built_past_the_loader_that_leaves_the_transaction_is_caught() {
    for sql in [
        "CREATE TABLE a (x);\nCOMMIT;\nBEGIN;\nCREATE TABLE b (x);\n",
        "CREATE TABLE a (x);\nROLLBACK;\nBEGIN;\nCREATE TABLE b (x);\n",
        "CREATE TABLE a (x);\nEND;\n",
    ] {
        let mut src = sources(&[BASE, ("0002_a.sql", "CREATE TABLE a (x);\n")]);
        src[1].up.sql = sql.to_owned();
        let set = Migrations::from_sources("default", src);
        let mut conn = at_v1();
        let err = set.migrate(&mut conn).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TransactionLeft, "{sql}: {err}");
        assert_eq!(err.migration().unwrap().version, 2, "{sql}");
        assert_eq!(history_rows(&conn), [1], "{sql}");
    }
}
