//! Adopting databases made by other tools: refinery and rusqlite_migration for real (dev-dependencies), sqlx and
//! diesel through their documented history tables (their crates would claim the `links = "sqlite3"` slot), each
//! followed by one new migration that must apply alone. Edited files are named where the tool keeps a checksum.

use litemigrate_core::compile::CompileOptions;
use litemigrate_runtime::adopt::{AdoptError, AdoptOptions, Tool};
use litemigrate_runtime::{Error, ErrorKind, Migrations, Target};
use rusqlite::Connection;
use sha2::{Digest, Sha384};
use std::path::{Path, PathBuf};

fn fixture(tool: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/layouts")
        .join(tool)
}

/// A copy of a fixture directory (one level of subdirectories, as diesel has) to edit and add files to.
fn copy(tool: &str) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(fixture(tool)).unwrap() {
        let e = e.unwrap();
        let to = d.path().join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            std::fs::create_dir(&to).unwrap();
            for f in std::fs::read_dir(e.path()).unwrap() {
                let f = f.unwrap();
                std::fs::copy(f.path(), to.join(f.file_name())).unwrap();
            }
        } else {
            std::fs::copy(e.path(), to).unwrap();
        }
    }
    d
}

/// Without generated rows: the peers' fixtures stay as those tools write them, and dbmate's unique index would fail
/// on the generated users (duplicate emails), which its sections leave no room to allow. Adoption is about the
/// history, not the row checks (tests/layouts.rs and the UI tests cover those).
fn load(dir: &Path) -> Migrations {
    let no_rows = litemigrate_core::compile::Analysis {
        generate: false,
        ..Default::default()
    };
    Migrations::from_dir_analysed(dir, None, &CompileOptions::default(), &no_rows).unwrap()
}

fn kinds(conn: &Connection) -> Vec<(i64, String)> {
    let mut s = conn
        .prepare("SELECT version, kind FROM _migrations ORDER BY version")
        .unwrap();
    s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn table_exists(conn: &Connection, name: &str) -> bool {
    conn.query_row("SELECT count(*) FROM sqlite_schema WHERE name = ?1", [name], |r| {
        r.get::<_, i64>(0)
    })
    .unwrap()
        > 0
}

/// After adopting, the launch is up to date with the old set, and a new file applies alone.
fn next_applies_alone(dir: &Path, file: &str, sql: &str, conn: &mut Connection, new_version: u64) {
    let full = dir.join(file);
    std::fs::create_dir_all(full.parent().unwrap()).unwrap();
    std::fs::write(full, sql).unwrap();
    let set = load(dir);
    let report = set.migrate(conn).unwrap();
    let applied: Vec<u64> = report.applied.iter().map(|a| a.version).collect();
    assert_eq!(applied, [new_version]);
    assert!(set.status(conn).unwrap().is_up_to_date());
}

fn refinery_runner(dir: &Path) -> refinery::Runner {
    let mut files: Vec<(u32, String, String)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let name = e.file_name().into_string().unwrap();
            let stem = name.strip_suffix(".sql").unwrap().to_owned();
            let v: u32 = stem[1..].split("__").next().unwrap().parse().unwrap();
            (v, stem, std::fs::read_to_string(e.path()).unwrap())
        })
        .collect();
    files.sort();
    let ms: Vec<refinery::Migration> = files
        .iter()
        .map(|(_, stem, sql)| refinery::Migration::unapplied(stem, sql).unwrap())
        .collect();
    refinery::Runner::new(&ms)
}

#[test]
fn refinery_database_is_adopted_with_its_checksums_and_the_next_file_applies_alone() {
    let dir = copy("refinery");
    let mut conn = Connection::open_in_memory().unwrap();
    refinery_runner(dir.path()).run(&mut conn).unwrap();
    let set = load(dir.path());

    // A plain launch refuses to re-run version 1 over refinery's history, and changes nothing.
    let err = set.migrate(&mut conn).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ForeignHistory, "{err}");
    assert!(err.to_string().contains("refinery_schema_history"), "{err}");
    assert!(!table_exists(&conn, "_migrations"));

    let adopted = set.adopt(&mut conn, &AdoptOptions::default()).unwrap();
    assert_eq!(
        (adopted.tool, adopted.version, adopted.migrations),
        (Tool::Refinery, 10, 3)
    );
    assert!(adopted.checksums_compared && adopted.schema_checked && !adopted.dropped);
    assert_eq!(
        kinds(&conn),
        [(1, "adopted".into()), (2, "adopted".into()), (10, "adopted".into())]
    );
    assert!(
        table_exists(&conn, "refinery_schema_history"),
        "left in place for going back"
    );
    assert!(set.status(&conn).unwrap().is_up_to_date());
    next_applies_alone(
        dir.path(),
        "V11__add_city_index.sql",
        "CREATE INDEX persons_city ON persons(city);",
        &mut conn,
        11,
    );
}

#[test]
fn refinery_checksum_names_the_edited_file() {
    let dir = copy("refinery");
    let mut conn = Connection::open_in_memory().unwrap();
    refinery_runner(dir.path()).run(&mut conn).unwrap();
    // Same schema, different text: only the checksum can tell.
    let edited = dir.path().join("V2__add_cars_table.sql");
    let text = std::fs::read_to_string(&edited).unwrap();
    std::fs::write(&edited, format!("-- reviewed\n{text}")).unwrap();
    let err = load(dir.path()).adopt(&mut conn, &AdoptOptions::default()).unwrap_err();
    match &err {
        Error::Adopt(AdoptError::Edited {
            tool: Tool::Refinery,
            files,
        }) => {
            assert_eq!(files.len(), 1);
            assert!(files[0].ends_with("V2__add_cars_table.sql"), "{files:?}");
        }
        other => panic!("{other}"),
    }
    assert!(!table_exists(&conn, "_migrations"), "nothing recorded");
}

#[test]
fn rusqlite_migration_user_version_is_adopted_when_named() {
    let dir = tempfile::tempdir().unwrap();
    let ups = [
        "CREATE TABLE a(id INTEGER PRIMARY KEY, x TEXT);",
        "CREATE INDEX a_x ON a(x);",
    ];
    let mut conn = Connection::open_in_memory().unwrap();
    rusqlite_migration::Migrations::new(ups.iter().map(|s| rusqlite_migration::M::up(s)).collect())
        .to_latest(&mut conn)
        .unwrap();
    for (i, sql) in ups.iter().enumerate() {
        std::fs::write(dir.path().join(format!("{:04}_m{}.sql", i + 1, i + 1)), sql).unwrap();
    }
    let set = load(dir.path());
    // It keeps no table, so there is nothing to find unless it is named.
    let err = set.adopt(&mut conn, &AdoptOptions::default()).unwrap_err();
    assert!(matches!(err, Error::Adopt(AdoptError::NoPeerHistory)), "{err}");
    let options = AdoptOptions {
        from: Some(Tool::RusqliteMigration),
        drop_old: true,
    };
    let adopted = set.adopt(&mut conn, &options).unwrap();
    assert_eq!((adopted.version, adopted.migrations, adopted.table), (2, 2, None));
    next_applies_alone(
        dir.path(),
        "0003_m3.sql",
        "ALTER TABLE a ADD COLUMN y INTEGER;",
        &mut conn,
        3,
    );
}

/// A database as `sqlx migrate run` leaves it: the ups applied, `_sqlx_migrations` as sqlx creates it on SQLite.
fn sqlx_database(dir: &Path) -> Connection {
    let conn = Connection::open_in_memory().unwrap();
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS _sqlx_migrations (
            version BIGINT PRIMARY KEY,
            description TEXT NOT NULL,
            installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
            success BOOLEAN NOT NULL,
            checksum BLOB NOT NULL,
            execution_time BIGINT NOT NULL
        );",
    )
    .unwrap();
    let mut ups: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_name().to_str().unwrap().ends_with(".up.sql"))
        .map(|e| (e.file_name().into_string().unwrap(), std::fs::read(e.path()).unwrap()))
        .collect();
    ups.sort();
    for (name, bytes) in ups {
        let (version, desc) = name.strip_suffix(".up.sql").unwrap().split_once('_').unwrap();
        conn.execute_batch(std::str::from_utf8(&bytes).unwrap()).unwrap();
        conn.execute(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES (?1, ?2, TRUE, ?3, 1)",
            rusqlite::params![
                version.parse::<i64>().unwrap(),
                desc.replace('_', " "),
                Sha384::digest(&bytes).to_vec()
            ],
        )
        .unwrap();
    }
    conn
}

#[test]
fn sqlx_database_is_adopted_crlf_is_not_an_edit_and_an_edit_is_named() {
    let dir = copy("sqlx");
    // Checked out with CRLF line ends on one machine: sqlx hashed those bytes.
    let crlf = dir.path().join("20240101120000_Create-Users.up.sql");
    let text = std::fs::read_to_string(&crlf).unwrap();
    std::fs::write(&crlf, text.replace('\n', "\r\n")).unwrap();
    let mut conn = sqlx_database(dir.path());

    let edited = dir.path().join("20240102093000_add posts.up.sql");
    let original = std::fs::read_to_string(&edited).unwrap();
    std::fs::write(&edited, original.replace("title TEXT NOT NULL", "title TEXT NOT NULL ")).unwrap();
    let err = load(dir.path()).adopt(&mut conn, &AdoptOptions::default()).unwrap_err();
    match &err {
        Error::Adopt(AdoptError::Edited {
            tool: Tool::Sqlx,
            files,
        }) => {
            assert_eq!(files.len(), 1, "{files:?}");
            assert!(files[0].ends_with("20240102093000_add posts.up.sql"), "{files:?}");
        }
        other => panic!("{other}"),
    }
    std::fs::write(&edited, original).unwrap();

    let set = load(dir.path());
    let adopted = set.adopt(&mut conn, &AdoptOptions::default()).unwrap();
    assert_eq!((adopted.tool, adopted.migrations), (Tool::Sqlx, 3));
    // Rolled back to 0 and migrated again: the history table is ours now, so the launch is not refused although
    // `_sqlx_migrations` is still there.
    set.migrator().target(Target::Version(0)).run(&mut conn).unwrap();
    assert!(table_exists(&conn, "_sqlx_migrations") && !table_exists(&conn, "users"));
    set.migrate(&mut conn).unwrap();
    assert!(set.status(&conn).unwrap().is_up_to_date());
    next_applies_alone(
        dir.path(),
        "20240201000000_Add-Bio.up.sql",
        "ALTER TABLE users ADD COLUMN bio TEXT;",
        &mut conn,
        20240201000000,
    );
}

#[test]
fn diesel_database_is_adopted_from_its_text_versions() {
    let dir = copy("diesel");
    let mut conn = Connection::open_in_memory().unwrap();
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS __diesel_schema_migrations (
            version VARCHAR(50) PRIMARY KEY NOT NULL,
            run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
        );",
    )
    .unwrap();
    // diesel's order: the version text.
    for (dir_name, version) in [
        ("2018-01-14-171611_create_users", "20180114171611"),
        ("2018-01-15-090000_create_posts", "20180115090000"),
        ("2019-06-01-000000_mysql_only", "20190601000000"),
        ("2024-03-13_170000_add_tags", "20240313"),
    ] {
        let sql = std::fs::read_to_string(dir.path().join(dir_name).join("up.sql")).unwrap();
        conn.execute_batch(&sql).unwrap();
        conn.execute(
            "INSERT INTO __diesel_schema_migrations (version) VALUES (?1)",
            [version],
        )
        .unwrap();
    }
    let set = load(dir.path());
    let err = set.migrate(&mut conn).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ForeignHistory);
    let adopted = set
        .adopt(
            &mut conn,
            &AdoptOptions {
                from: Some(Tool::Diesel),
                drop_old: true,
            },
        )
        .unwrap();
    assert_eq!((adopted.version, adopted.migrations), (20240313000000, 4));
    assert!(!adopted.checksums_compared && adopted.dropped);
    assert!(!table_exists(&conn, "__diesel_schema_migrations"));
    next_applies_alone(
        dir.path(),
        "2024-05-01-120000_add_bio/up.sql",
        "ALTER TABLE users ADD COLUMN bio TEXT;",
        &mut conn,
        20240501120000,
    );
}

#[test]
fn a_version_the_set_lacks_or_a_gap_is_refused_and_drifted_schema_is_named() {
    let dir = copy("diesel");
    let conn_with = |versions: &[&str], ups: &[&str]| {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE __diesel_schema_migrations (version VARCHAR(50) PRIMARY KEY NOT NULL, run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP);").unwrap();
        for v in versions {
            conn.execute("INSERT INTO __diesel_schema_migrations (version) VALUES (?1)", [v])
                .unwrap();
        }
        for d in ups {
            conn.execute_batch(&std::fs::read_to_string(dir.path().join(d).join("up.sql")).unwrap())
                .unwrap();
        }
        conn
    };
    let set = load(dir.path());
    let mut conn = conn_with(&["20180114171611", "20991231000000"], &[]);
    assert!(matches!(
        set.adopt(&mut conn, &AdoptOptions::default()),
        Err(Error::Adopt(AdoptError::Unknown { .. }))
    ));
    let mut conn = conn_with(&["20180114171611", "20190601000000"], &[]);
    let err = set.adopt(&mut conn, &AdoptOptions::default()).unwrap_err();
    assert!(
        matches!(&err, Error::Adopt(AdoptError::Gap { version: 20180115090000, file, .. }) if file.ends_with("create_posts/up.sql")),
        "{err}"
    );
    // The history says version 1 ran, but the schema has none of it.
    let mut conn = conn_with(&["20180114171611"], &[]);
    let err = set.adopt(&mut conn, &AdoptOptions::default()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::SchemaDrift, "{err}");
}

#[test]
fn baseline_ignores_another_tools_history_table() {
    let dir = copy("sqlx");
    let mut conn = sqlx_database(dir.path());
    let set = load(dir.path());
    set.baseline(&mut conn, set.latest_version()).unwrap();
    assert!(set.status(&conn).unwrap().is_up_to_date());
}

/// dbmate, goose, golang-migrate and Flyway through their documented tables. Flyway's checksum here is computed
/// with this library's reading of Flyway's algorithm (CRC32 over the lines), so it shows the comparison runs, not
/// that it agrees with a real Flyway.
#[test]
fn dbmate_goose_golang_migrate_and_flyway_tables_are_read() {
    let apply_ups = |conn: &Connection, set: &Migrations| {
        for m in set.iter() {
            conn.execute_batch(m.up_sql().unwrap()).unwrap();
        }
    };
    // dbmate: text versions, one row each.
    let dir = copy("dbmate");
    let set = load(dir.path());
    let mut conn = Connection::open_in_memory().unwrap();
    apply_ups(&conn, &set);
    conn.execute_batch("CREATE TABLE schema_migrations (version VARCHAR(128) PRIMARY KEY);")
        .unwrap();
    for m in set.iter() {
        conn.execute("INSERT INTO schema_migrations VALUES (?1)", [m.version().to_string()])
            .unwrap();
    }
    assert_eq!(set.migrate(&mut conn).unwrap_err().kind(), ErrorKind::ForeignHistory);
    let a = set.adopt(&mut conn, &AdoptOptions::default()).unwrap();
    assert_eq!((a.tool, a.migrations, a.checksums_compared), (Tool::Dbmate, 3, false));

    // goose: a row per up and down; version 2 was rolled back, so only 1 is applied.
    let dir = copy("goose");
    let set = load(dir.path());
    let mut conn = Connection::open_in_memory().unwrap();
    conn.execute_batch(set.get(1).unwrap().up_sql().unwrap()).unwrap();
    conn.execute_batch(
        "CREATE TABLE goose_db_version (id INTEGER PRIMARY KEY AUTOINCREMENT, version_id INTEGER NOT NULL, \
         is_applied INTEGER NOT NULL, tstamp TIMESTAMP DEFAULT (datetime('now')));
         INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, 1), (1, 1), (2, 1), (2, 0);",
    )
    .unwrap();
    let a = set.adopt(&mut conn, &AdoptOptions::default()).unwrap();
    assert_eq!((a.tool, a.version), (Tool::Goose, 1));
    let report = set.migrate(&mut conn).unwrap();
    assert_eq!(report.applied.iter().map(|x| x.version).collect::<Vec<_>>(), [2, 3]);

    // golang-migrate: one row, the current version; dirty means a failed migration.
    let dir = copy("golang-migrate");
    let set = load(dir.path());
    let mut conn = Connection::open_in_memory().unwrap();
    apply_ups(&conn, &set);
    conn.execute_batch(
        "CREATE TABLE schema_migrations (version uint64, dirty bool); INSERT INTO schema_migrations VALUES (2, 1);",
    )
    .unwrap();
    let err = set.adopt(&mut conn, &AdoptOptions::default()).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Adopt(AdoptError::Failed {
                tool: Tool::GolangMigrate,
                ..
            })
        ),
        "{err}"
    );
    conn.execute_batch("UPDATE schema_migrations SET dirty = 0").unwrap();
    let a = set.adopt(&mut conn, &AdoptOptions::default()).unwrap();
    assert_eq!((a.tool, a.version, a.migrations), (Tool::GolangMigrate, 2, 2));

    // Flyway: versioned rows with checksums; an edited file is named.
    let dir = copy("flyway");
    let flyway = |dir: &Path| {
        Migrations::from_dir_as(
            dir,
            litemigrate_core::layouts::Layout::Flyway,
            &CompileOptions::default(),
        )
        .unwrap()
    };
    let set = flyway(dir.path());
    let crc = |sql: &str| {
        let mut h = crc32fast::Hasher::new();
        for line in sql.lines() {
            h.update(line.as_bytes());
        }
        h.finalize() as i32
    };
    let mut conn = Connection::open_in_memory().unwrap();
    apply_ups(&conn, &set);
    conn.execute_batch(
        "CREATE TABLE flyway_schema_history (installed_rank INT NOT NULL PRIMARY KEY, version VARCHAR(50), \
         description VARCHAR(200) NOT NULL, type VARCHAR(20) NOT NULL, script VARCHAR(1000) NOT NULL, checksum INT, \
         installed_by VARCHAR(100) NOT NULL, installed_on TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP, \
         execution_time INT NOT NULL, success BOOL NOT NULL);",
    )
    .unwrap();
    for (rank, m) in set.iter().enumerate() {
        conn.execute(
            "INSERT INTO flyway_schema_history VALUES (?1, ?2, ?3, 'SQL', ?4, ?5, 'me', CURRENT_TIMESTAMP, 1, 1)",
            rusqlite::params![
                rank as i64 + 1,
                m.version().to_string(),
                m.name(),
                m.up_file(),
                crc(m.up_sql().unwrap())
            ],
        )
        .unwrap();
    }
    std::fs::write(
        dir.path().join("V3__Add_email.sql"),
        "alter table PERSON add column EMAIL varchar(250);\n",
    )
    .unwrap();
    let err = flyway(dir.path())
        .adopt(&mut conn, &AdoptOptions::default())
        .unwrap_err();
    assert!(
        matches!(&err, Error::Adopt(AdoptError::Edited { files, .. }) if files[0].ends_with("V3__Add_email.sql")),
        "{err}"
    );
    std::fs::copy(
        fixture("flyway").join("V3__Add_email.sql"),
        dir.path().join("V3__Add_email.sql"),
    )
    .unwrap();
    let a = flyway(dir.path()).adopt(&mut conn, &AdoptOptions::default()).unwrap();
    assert_eq!((a.tool, a.migrations, a.checksums_compared), (Tool::Flyway, 3, true));
}
