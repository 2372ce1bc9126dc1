//! Several databases in one application (`embed_databases!`, `Databases::migrate_all`): fresh data directories,
//! the launch check, the move of a table between files, all or nothing across files, read-only and un-baselined
//! files, backup runs. Processes (two launchers, kill -9) are in `databases_process.rs`.

use litemigrate::backup::BackupPolicy;
use litemigrate::catalog::{CatalogError, CatalogOptions, list_runs, restore_run};
use litemigrate::rusqlite::Connection;
use litemigrate::{Databases, Target};
use std::path::Path;

static ASSISTANT: Databases = litemigrate::embed_databases!("examples/assistant/migrations");
static FAIL: Databases = litemigrate::embed_databases!("tests/fixtures/catalog_fail");
static SHIPPED: Databases =
    litemigrate::embed_databases!("tests/fixtures/catalog_fail", a(read_only = true, file = "core.db"));

/// Brings one database of a catalog to `version` on its own (what an older release of the app did).
fn at(cat: &Databases, dir: &Path, name: &str, version: u64) -> Connection {
    let d = cat.get(name).unwrap();
    let mut conn = Connection::open(d.path_in(dir)).unwrap();
    d.migrations()
        .migrator()
        .target(Target::Version(version))
        .backup(BackupPolicy::Off)
        .run(&mut conn)
        .unwrap();
    conn
}

fn version(cat: &Databases, dir: &Path, name: &str) -> u64 {
    let d = cat.get(name).unwrap();
    let conn = Connection::open(d.path_in(dir)).unwrap();
    d.migrations().status(&conn).unwrap().current_version
}

fn count(conn: &Connection, table: &str) -> i64 {
    conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

fn has_table(conn: &Connection, table: &str) -> bool {
    conn.query_row("SELECT count(*) FROM sqlite_schema WHERE name = ?1", [table], |r| {
        r.get::<_, i64>(0)
    })
    .unwrap()
        > 0
}

/// Release 1 of the assistant: four databases, the notes still in knowledge.db, no system-actions file yet.
fn release_1(dir: &Path, notes: usize) {
    let k = at(&ASSISTANT, dir, "knowledge", 3);
    k.execute_batch("INSERT INTO entries(domain, title, body) VALUES ('rust', 'ownership', 'one owner at a time');")
        .unwrap();
    k.execute(
        "INSERT INTO notes(body, topic) WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ?1) \
         SELECT 'note ' || x, 'topic ' || (x % 7) FROM c",
        [notes as i64],
    )
    .unwrap();
    at(&ASSISTANT, dir, "tasks", 1);
    at(&ASSISTANT, dir, "workflows", 2);
    at(&ASSISTANT, dir, "performance", 1);
}

#[test]
fn a_fresh_data_directory_gets_every_file_at_its_newest_version_and_the_second_launch_has_nothing_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let report = ASSISTANT.migrate_all(&data).unwrap();
    assert_eq!(report.databases.len(), 5);
    for d in ASSISTANT.databases() {
        assert!(d.path_in(&data).exists(), "{}", d.name());
        assert_eq!(
            version(&ASSISTANT, &data, d.name()),
            d.migrations().latest_version(),
            "{}",
            d.name()
        );
        let r = report.databases.iter().find(|r| r.database == d.name()).unwrap();
        assert!(r.created && r.applied.len() == d.migrations().len(), "{r:?}");
    }
    // The move ran on an empty table: its target exists, the old table is gone.
    let tasks = Connection::open(data.join("tasks.db")).unwrap();
    assert_eq!(count(&tasks, "task_notes"), 0);
    assert!(!has_table(
        &Connection::open(data.join("knowledge.db")).unwrap(),
        "notes"
    ));

    let again = ASSISTANT.migrate_all(&data).unwrap();
    assert!(again.is_noop() && again.backup_run.is_none(), "{again:?}");
    assert!(
        again
            .databases
            .iter()
            .all(|d| !d.created && d.from_version == d.to_version)
    );
    let status = ASSISTANT.status_all(&data).unwrap();
    assert!(status.is_up_to_date(), "{status}");
    let json = serde_json::to_value(&status).unwrap();
    assert_eq!(json["databases"].as_array().unwrap().len(), 5);
    assert!(
        json["databases"][1]["status"]["entries"][0]["applied_at"].is_string(),
        "{json}"
    );
}

#[test]
fn status_of_a_missing_directory_creates_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let status = ASSISTANT.status_all(&data).unwrap();
    assert!(!status.is_up_to_date());
    assert!(status.databases.iter().all(|d| !d.exists && d.status.is_none()));
    assert!(
        status.to_string().contains("missing (created at the next launch"),
        "{status}"
    );
    assert!(!data.exists());
}

#[test]
fn a_cross_database_move_puts_the_rows_in_the_new_file_and_removes_them_from_the_old() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path();
    release_1(data, 500);
    let report = ASSISTANT.migrate_all(data).unwrap();
    let created: Vec<_> = report
        .databases
        .iter()
        .filter(|d| d.created)
        .map(|d| d.database.as_str())
        .collect();
    assert_eq!(created, ["actions"], "release 2 creates the system-actions file");
    let tasks = Connection::open(data.join("tasks.db")).unwrap();
    assert_eq!(count(&tasks, "task_notes"), 500);
    let moved: String = tasks
        .query_row("SELECT body FROM task_notes WHERE id = 42", [], |r| r.get(0))
        .unwrap();
    assert_eq!(moved, "note 42");
    let knowledge = Connection::open(data.join("knowledge.db")).unwrap();
    assert!(!has_table(&knowledge, "notes"));
    assert_eq!(count(&knowledge, "entries"), 1, "the rest of knowledge.db is untouched");
    assert_eq!(version(&ASSISTANT, data, "knowledge"), 4);
    assert_eq!(version(&ASSISTANT, data, "tasks"), 2);
    // The history of the attaching file is in its own file, not in the attached one.
    let rows: i64 = knowledge
        .query_row("SELECT count(*) FROM _migrations WHERE file LIKE '%tasks/%'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(rows, 0);
}

/// Release 1 of the failing catalog: every database at version 1 with two equal rows (which the fourth
/// database's version 2, a unique index, refuses).
fn fail_release_1(dir: &Path) {
    for d in FAIL.databases() {
        let c = at(&FAIL, dir, d.name(), 1);
        c.execute_batch("INSERT INTO t(v) VALUES ('same'), ('same');").unwrap();
    }
}

#[test]
fn a_failure_in_the_fourth_database_restores_the_first_three_and_names_the_database_and_file() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path();
    fail_release_1(data);
    let err = fail_run(data, &CatalogOptions::default());
    let CatalogError::Failed {
        database,
        file,
        restored,
        kept,
        run,
        source,
    } = &err
    else {
        panic!("{err}");
    };
    assert_eq!(database, "d");
    assert_eq!(file, &data.join("d.db"));
    assert!(!kept && run.is_some());
    assert_eq!(source.migration().map(|m| m.version), Some(2));
    let msg = err.to_string();
    assert!(msg.contains("tests/fixtures/catalog_fail/d/0002_unique.sql"), "{msg}");
    assert!(msg.contains("d.db") && msg.contains("UNIQUE"), "{msg}");
    for name in ["a", "b", "c"] {
        assert!(restored.contains(&data.join(format!("{name}.db"))), "{restored:?}");
        assert_eq!(version(&FAIL, data, name), 1, "{name} is back at its previous version");
        let c = Connection::open(data.join(format!("{name}.db"))).unwrap();
        assert_eq!(count(&c, "t"), 2, "{name}'s rows are intact");
        let cols: i64 = c
            .query_row(
                "SELECT count(*) FROM pragma_table_info('t') WHERE name = 'extra'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(cols, 0, "{name}'s version 2 is undone");
    }
    assert_eq!(version(&FAIL, data, "d"), 1);
}

fn fail_run(data: &Path, opts: &CatalogOptions) -> CatalogError {
    FAIL.migrate_all_with(data, opts).unwrap_err()
}

#[test]
fn a_write_by_another_connection_meanwhile_means_nothing_is_restored_and_the_file_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().to_path_buf();
    fail_release_1(&data);
    let b = data.join("b.db");
    let opts = CatalogOptions {
        // After `b` migrated, the application writes to it from a connection of its own.
        on_step: Some(litemigrate::catalog::OnStep::new(move |db, _| {
            if db == "b" {
                Connection::open(&b)
                    .unwrap()
                    .execute_batch("INSERT INTO t(v) VALUES ('written meanwhile');")
                    .unwrap();
            }
        })),
        ..CatalogOptions::default()
    };
    let err = fail_run(&data, &opts);
    let CatalogError::NotRestored { database, written, .. } = &err else {
        panic!("{err}");
    };
    assert_eq!((database.as_str(), written), ("d", &data.join("b.db")));
    assert!(
        err.to_string().contains("b.db") && err.to_string().contains("nothing was restored"),
        "{err}"
    );
    // Nothing discarded: the write is there, and a, b, c keep version 2.
    let c = Connection::open(data.join("b.db")).unwrap();
    assert_eq!(count(&c, "t"), 3);
    for name in ["a", "b", "c"] {
        assert_eq!(version(&FAIL, &data, name), 2, "{name}");
    }
}

#[test]
fn keep_progress_keeps_the_databases_that_migrated() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path();
    fail_release_1(data);
    let opts = CatalogOptions {
        keep_progress: true,
        ..CatalogOptions::default()
    };
    let err = fail_run(data, &opts);
    assert!(
        matches!(&err, CatalogError::Failed { kept: true, database, .. } if database == "d"),
        "{err}"
    );
    for name in ["a", "b", "c"] {
        assert_eq!(version(&FAIL, data, name), 2, "{name}");
    }
    assert_eq!(version(&FAIL, data, "d"), 1);
}

#[test]
fn a_failure_on_a_fresh_directory_removes_the_files_it_created() {
    // Only `d` exists (with the rows its version 2 refuses); the run creates a, b and c first.
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path();
    at(&FAIL, data, "d", 1)
        .execute_batch("INSERT INTO t(v) VALUES ('x'), ('x');")
        .unwrap();
    let err = FAIL.migrate_all(data).unwrap_err();
    assert!(
        matches!(&err, CatalogError::Failed { database, .. } if database == "d"),
        "{err}"
    );
    for name in ["a", "b", "c"] {
        assert!(
            !data.join(format!("{name}.db")).exists(),
            "{name}.db was created by the failed run"
        );
    }
    assert_eq!(version(&FAIL, data, "d"), 1);
}

#[test]
fn a_read_only_database_is_checked_and_never_written() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path();
    let err = SHIPPED.migrate_all(data).unwrap_err();
    assert!(
        matches!(&err, CatalogError::ReadOnlyMissing { database, .. } if database == "a"),
        "{err}"
    );
    // Shipped at version 1 while this release needs 2.
    {
        let d = SHIPPED.get("a").unwrap();
        let mut c = Connection::open(data.join("core.db")).unwrap();
        d.migrations()
            .migrator()
            .target(Target::Version(1))
            .backup(BackupPolicy::Off)
            .run(&mut c)
            .unwrap();
    }
    let before = std::fs::read(data.join("core.db")).unwrap();
    let err = SHIPPED.migrate_all(data).unwrap_err();
    assert!(
        matches!(&err, CatalogError::ReadOnlyBehind { database, current: 1, latest: 2, .. } if database == "a"),
        "{err}"
    );
    assert!(err.to_string().contains("core.db"), "{err}");
    assert_eq!(std::fs::read(data.join("core.db")).unwrap(), before, "never written");
    assert!(!data.join("b.db").exists(), "nothing else changed either");
}

#[test]
fn a_file_with_tables_but_no_history_must_be_baselined() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path();
    Connection::open(data.join("b.db"))
        .unwrap()
        .execute_batch("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);")
        .unwrap();
    let err = FAIL.migrate_all(data).unwrap_err();
    assert!(
        matches!(&err, CatalogError::NeedsBaseline { database, .. } if database == "b"),
        "{err}"
    );
    assert!(err.to_string().contains("baseline"), "{err}");
    assert!(matches!(FAIL.status_all(data), Err(CatalogError::NeedsBaseline { .. })));
    assert!(!data.join("a.db").exists(), "refused before any file changed");
}

#[test]
fn one_backup_run_covers_every_changed_file_and_restoring_it_brings_every_file_back() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir(&data).unwrap();
    release_1(&data, 20);
    let blobs = tmp.path().join("blobs");
    std::fs::create_dir_all(blobs.join("2026")).unwrap();
    std::fs::write(blobs.join("2026/a.bin"), b"first").unwrap();
    let opts = CatalogOptions {
        extra_paths: vec![blobs.clone()],
        ..CatalogOptions::default()
    };
    let report = ASSISTANT.migrate_all_with(&data, &opts).unwrap();
    let runs = list_runs(&data).unwrap();
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    assert_eq!(report.backup_run.as_deref(), Some(run.id.as_str()));
    // The files that change: actions (created), knowledge (v4, and the move deletes its notes), tasks (v2).
    let mut names: Vec<_> = run.files.iter().map(|f| f.database.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["actions", "knowledge", "tasks"]);
    let k = run.files.iter().find(|f| f.database == "knowledge").unwrap();
    assert_eq!((k.version_before, k.version_after), (3, 4));
    assert_eq!(k.backup.as_ref().unwrap().sha256.len(), 64);
    assert!(
        run.files
            .iter()
            .find(|f| f.database == "actions")
            .unwrap()
            .backup
            .is_none()
    );
    assert_eq!(run.extras[0].files.len(), 1);
    assert!(run.dir.join("run.json").exists());

    // The application carries on, then the user restores the run.
    std::fs::write(blobs.join("2026/a.bin"), b"changed").unwrap();
    std::fs::write(blobs.join("2026/new.bin"), b"new").unwrap();
    let restored = restore_run(&data, &run.id, &Default::default()).unwrap();
    assert_eq!(restored.len(), 4);
    assert_eq!(version(&ASSISTANT, &data, "knowledge"), 3);
    assert_eq!(version(&ASSISTANT, &data, "tasks"), 1);
    let k = Connection::open(data.join("knowledge.db")).unwrap();
    assert_eq!(count(&k, "notes"), 20, "the notes are back in the old file");
    assert!(!has_table(
        &Connection::open(data.join("tasks.db")).unwrap(),
        "task_notes"
    ));
    assert!(!data.join("actions.db").exists(), "the file the run created is gone");
    assert_eq!(std::fs::read(blobs.join("2026/a.bin")).unwrap(), b"first");
    assert!(!blobs.join("2026/new.bin").exists());
    // And the next launch migrates again from there.
    ASSISTANT.migrate_all(&data).unwrap();
    assert_eq!(
        count(&Connection::open(data.join("tasks.db")).unwrap(), "task_notes"),
        20
    );
    assert!(matches!(
        restore_run(&data, "../x", &Default::default()),
        Err(CatalogError::UnknownRun { .. })
    ));
}

#[test]
fn the_commands_run_over_a_compiled_in_catalog() {
    use clap::Parser;
    use litemigrate_runtime::cli::{Cli, run_catalog};
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let data = data.to_str().unwrap();
    let run = |args: &[&str]| {
        let mut all = vec!["app-migrate", "--json", "--data-dir", data];
        all.extend_from_slice(args);
        run_catalog(&ASSISTANT, Cli::parse_from(all))
    };
    assert_eq!(run(&["status", "--check"]), 3, "nothing migrated yet");
    assert_eq!(run(&["up"]), 0);
    assert_eq!(run(&["status", "--check"]), 0);
    assert_eq!(run(&["--database", "knowledge", "verify"]), 0);
    assert_eq!(run(&["--dir", "migrations", "status"]), 2, "the catalog is compiled in");
    assert_eq!(version(&ASSISTANT, Path::new(data), "tasks"), 2);
}
