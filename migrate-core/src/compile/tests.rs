// This file is the parent module's `#[cfg(test)] mod tests;`: test code only.
#[cfg(test)]
use super::tracked::Tracked;
use super::*;
use crate::expand::Chunk;
use crate::load::{CodeMigration, add_code_migrations, load_in_memory};
use crate::split;
use rusqlite::Connection;

fn set(files: &[(&str, &str)]) -> Vec<MigrationSource> {
    load_in_memory("migrations", files).unwrap()
}

fn run(files: &[(&str, &str)]) -> Result<Compiled, CompileError> {
    compile(set(files), &CompileOptions::default())
}

/// Builds a real database by running each embedded up script with `execute_batch`, as an application would,
/// and checks every version's embedded hash against `Schema::read` of that database.
fn assert_hashes_match_real_db(c: &Compiled) {
    let real = Connection::open_in_memory().unwrap();
    for m in &c.migrations {
        real.execute_batch(&m.up_sql).unwrap();
        let read = Schema::read(&real).unwrap();
        assert_eq!(m.schema_hash, Some(read.hash()), "version {}", m.source.version);
    }
    assert_eq!(
        c.final_schema.as_deref(),
        Some(Schema::read(&real).unwrap().to_text().as_str())
    );
}

#[test]
fn failing_statement_in_the_middle_names_its_line() {
    let err = run(&[
        ("0001_a.sql", "CREATE TABLE a(x);"),
        (
            "0002_b.sql",
            "-- header\nCREATE TABLE b(x);\n\nINSERT INTO b VALUES (1);\nINSERT INTO nope\n  VALUES (2);\nSELECT 1;\n",
        ),
    ])
    .unwrap_err();
    assert_eq!(
        err,
        CompileError::Statement {
            file: "migrations/0002_b.sql".into(),
            line: 5,
            generated: false,
            direction: Direction::Up,
            statement: "INSERT INTO nope…".into(),
            message: "no such table: nope".into(),
            sqlite_version: rusqlite::version().into(),
        }
    );
    assert_eq!(
        err.to_string(),
        format!(
            "migrations/0002_b.sql:5: INSERT INTO nope…: no such table: nope (validated with SQLite {})",
            rusqlite::version()
        )
    );
}

#[test]
fn index_on_missing_table_fails() {
    let err = run(&[
        ("0001_a.sql", "CREATE TABLE a(x);"),
        ("0002_b.sql", "CREATE TABLE b(x);"),
        ("0003_idx.sql", "\nCREATE INDEX i ON missing_table(x);\n"),
    ])
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "migrations/0003_idx.sql:2: CREATE INDEX i ON missing_table(x): no such table: main.missing_table \
             (validated with SQLite {})",
            rusqlite::version()
        )
    );
    assert_eq!(err.files(), ["migrations/0003_idx.sql"]);
}

#[test]
fn syntax_errors_show_sqlites_message_only() {
    let err = run(&[("1_a.sql", "CREATE TABLE a(x);\nCREAT TABLE b(y);")]).unwrap_err();
    let CompileError::Statement { line, message, .. } = err else {
        panic!("{err}")
    };
    assert_eq!((line, message.as_str()), (2, "near \"CREAT\": syntax error"));
}

#[test]
fn down_that_leaves_a_table_behind() {
    let err = run(&[
        ("1_a.up.sql", "CREATE TABLE a(x);\nCREATE TABLE leftover(y TEXT);"),
        ("1_a.down.sql", "DROP TABLE a;"),
    ])
    .unwrap_err();
    let CompileError::DownMismatch {
        down_file,
        up_file,
        version,
        diff,
        ..
    } = &err
    else {
        panic!("{err}")
    };
    assert_eq!(
        (down_file.as_str(), up_file.as_str(), *version),
        ("migrations/1_a.down.sql", "migrations/1_a.up.sql", 1)
    );
    assert_eq!(diff.missing, Vec::<String>::new());
    assert_eq!(
        diff.unexpected,
        [
            "column \"leftover\".\"y\" pos=0 type=\"TEXT\" pk=0",
            "table \"leftover\""
        ]
    );
    assert!(err.to_string().contains("unexpected: table \"leftover\""), "{err}");
}

#[test]
fn down_that_drops_too_much() {
    let err = run(&[
        ("1_t.sql", "CREATE TABLE t(x);"),
        ("2_u.up.sql", "CREATE TABLE u(x);\nCREATE INDEX t_x ON t(x);"),
        ("2_u.down.sql", "DROP TABLE u;\nDROP TABLE t;"),
    ])
    .unwrap_err();
    let CompileError::DownMismatch {
        down_file,
        version,
        diff,
        ..
    } = &err
    else {
        panic!("{err}")
    };
    assert_eq!((down_file.as_str(), *version), ("migrations/2_u.down.sql", 2));
    assert_eq!(diff.missing, ["column \"t\".\"x\" pos=0 type=\"\" pk=0", "table \"t\""]);
    assert_eq!(diff.unexpected, Vec::<String>::new());
}

#[test]
fn down_that_fails_to_run() {
    let err = run(&[
        ("1_t.up.sql", "CREATE TABLE t(x);"),
        ("1_t.down.sql", "DROP TABLE t;\nDROP TABLE nope;"),
    ])
    .unwrap_err();
    assert_eq!(
        err,
        CompileError::Statement {
            file: "migrations/1_t.down.sql".into(),
            line: 2,
            generated: false,
            direction: Direction::Down,
            statement: "DROP TABLE nope".into(),
            message: "no such table: nope".into(),
            sqlite_version: rusqlite::version().into(),
        }
    );
}

const CHAIN: &[(&str, &str)] = &[
    (
        "1_users.up.sql",
        "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE);",
    ),
    ("1_users.down.sql", "DROP TABLE users;"),
    (
        "2_posts.up.sql",
        "CREATE TABLE posts(id INTEGER PRIMARY KEY, user_id INT REFERENCES users(id) ON DELETE CASCADE, body TEXT);\n\
         CREATE INDEX posts_user ON posts(user_id) WHERE body IS NOT NULL;\n\
         CREATE VIEW post_count AS SELECT user_id, count(*) AS n FROM posts GROUP BY user_id;\n\
         CREATE TRIGGER posts_ai AFTER INSERT ON posts BEGIN UPDATE posts SET body = trim(new.body) WHERE id = new.id; END;",
    ),
    ("2_posts.down.sql", "DROP VIEW post_count;\nDROP TABLE posts;"),
    (
        "3_col.up.sql",
        "ALTER TABLE users ADD COLUMN nick TEXT DEFAULT 'x';\nINSERT INTO users(email) VALUES ('a@b');",
    ),
    (
        "3_col.down.sql",
        "DELETE FROM users;\nALTER TABLE users DROP COLUMN nick;",
    ),
    (
        "4_ren.up.sql",
        "ALTER TABLE posts RENAME COLUMN body TO text;\nALTER TABLE posts RENAME TO articles;",
    ),
    (
        "4_ren.down.sql",
        "ALTER TABLE articles RENAME TO posts;\nALTER TABLE posts RENAME COLUMN text TO body;",
    ),
    (
        "5_fts.up.sql",
        "CREATE VIRTUAL TABLE docs USING fts5(title, body);\nCREATE TABLE w(a INT, b INT, PRIMARY KEY(a, b)) WITHOUT ROWID;",
    ),
    ("5_fts.down.sql", "DROP TABLE docs;\nDROP TABLE w;"),
];

#[test]
fn reversible_chain_round_trips() {
    let c = run(CHAIN).unwrap();
    assert_eq!(c.migrations.len(), 5);
    assert!(c.migrations.iter().all(|m| m.down_sql.is_some()));
    assert_eq!(c.migrations[0].down_sql.as_deref(), Some("DROP TABLE users;"));
    assert_eq!(c.sqlite_version.as_deref(), Some(rusqlite::version()));
    let hashes: Vec<Checksum> = c.migrations.iter().map(|m| m.schema_hash.unwrap()).collect();
    // Renaming a column and a table back and forth is structurally nothing, but every other version differs.
    let mut distinct = hashes.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 5);
    assert_hashes_match_real_db(&c);
    // The final schema text parses back to the same hash.
    let text = c.final_schema.as_deref().unwrap();
    assert_eq!(Schema::from_text(text).unwrap().hash(), hashes[4]);
    assert!(text.contains("virtual-table \"docs\""), "{text}");
    assert!(!text.contains("docs_data"), "{text}");
}

#[test]
fn generated_fts5_sql_is_validated_and_reverted() {
    let up = "-- migrate:fts5 docs_fts content=docs content_rowid=id columns=body\n\
              CREATE TABLE docs(id INTEGER PRIMARY KEY, body TEXT);\n";
    let c = run(&[("1_docs.up.sql", up), ("1_docs.down.sql", "DROP TABLE docs;")]).unwrap();
    let m = &c.migrations[0];
    assert!(m.up_sql.contains("USING fts5("), "{}", m.up_sql);
    assert!(
        m.down_sql.as_deref().is_some_and(|d| d.contains("docs_fts")),
        "{:?}",
        m.down_sql
    );
    let text = c.final_schema.as_deref().unwrap();
    assert!(text.contains("virtual-table \"docs_fts\""), "{text}");
    assert!(text.contains("trigger \"docs_fts_ai\""), "{text}");
    assert!(!text.contains("table \"docs_fts_"), "shadow tables leaked: {text}");
    assert_hashes_match_real_db(&c);
    // A down that forgets the table the index reads from leaves it behind.
    let err = run(&[("1_docs.up.sql", up), ("1_docs.down.sql", "SELECT 1;")]).unwrap_err();
    let CompileError::DownMismatch { diff, .. } = &err else {
        panic!("{err}")
    };
    assert!(diff.unexpected.contains(&"table \"docs\"".to_owned()), "{err}");
    assert!(!diff.unexpected.iter().any(|l| l.contains("table \"docs_fts")), "{err}");
}

#[test]
fn every_down_is_proven_even_behind_an_irreversible_migration() {
    let files = [
        ("1_a.up.sql", "CREATE TABLE a(x);\nCREATE TABLE kept(y);"),
        ("1_a.down.sql", "DROP TABLE a;"), // wrong: `kept` stays
        ("2_b.sql", "CREATE TABLE b(x);"),
        ("3_c.up.sql", "CREATE TABLE c(x);"),
        ("3_c.down.sql", "DROP TABLE c;"),
    ];
    // Each down is run right after its own up, so the irreversible version 2 no longer hides version 1's.
    let err = run(&files).unwrap_err();
    assert!(matches!(err, CompileError::DownMismatch { version: 1, .. }), "{err}");
    assert!(err.to_string().contains("kept"), "{err}");
    let err = run(&[files[0], files[1], files[3], files[4]]).unwrap_err();
    assert!(matches!(err, CompileError::DownMismatch { version: 1, .. }), "{err}");
    // Correct downs pass, and the forward pass goes on from the schema each up left.
    let c = run(&[
        files[0],
        ("1_a.down.sql", "DROP TABLE a; DROP TABLE kept;"),
        files[2],
        files[3],
        files[4],
    ])
    .unwrap();
    assert_eq!(
        c.migrations[0].down_sql.as_deref(),
        Some("DROP TABLE a; DROP TABLE kept;")
    );
    assert_eq!(c.migrations[1].down_sql, None);
    assert!(c.final_schema.unwrap().contains("table \"kept\""));
}

#[test]
fn a_proven_down_leaves_the_forward_pass_where_the_up_left_it() {
    // The down of 1 drops what 2 needs: had it not been rolled back, 2 would fail.
    let c = run(&[
        ("1_a.up.sql", "CREATE TABLE a(x);\nCREATE INDEX a_x ON a(x);"),
        ("1_a.down.sql", "DROP TABLE a;"),
        (
            "2_b.up.sql",
            "ALTER TABLE a ADD COLUMN y; CREATE TRIGGER t AFTER INSERT ON a BEGIN SELECT 1; END;",
        ),
        ("2_b.down.sql", "DROP TRIGGER t; ALTER TABLE a DROP COLUMN y;"),
        ("3_c.up.sql", "-- migrate:no-transaction\nCREATE TABLE c(x);"),
        ("3_c.down.sql", "DROP TABLE c;"),
        ("4_d.up.sql", "ALTER TABLE a RENAME TO a2; INSERT INTO c VALUES (1);"),
        ("4_d.down.sql", "ALTER TABLE a2 RENAME TO a;"),
    ])
    .unwrap();
    // The hashes of the forward pass are those of a plain replay.
    assert_hashes_match_real_db(&c);
}

#[test]
fn options_turn_checks_off() {
    let bad_down = [("1_a.up.sql", "CREATE TABLE a(x);"), ("1_a.down.sql", "SELECT 1;")];
    let no_down_check = CompileOptions {
        run_sql: true,
        check_down: false,
        ..CompileOptions::default()
    };
    let c = compile(set(&bad_down), &no_down_check).unwrap();
    assert_eq!(c.migrations[0].down_sql.as_deref(), Some("SELECT 1;"));
    assert!(c.migrations[0].schema_hash.is_some());
    assert!(compile(set(&bad_down), &CompileOptions::default()).is_err());

    let no_sql = CompileOptions {
        run_sql: false,
        check_down: true,
        ..CompileOptions::default()
    };
    let c = compile(
        set(&[
            ("1_i.sql", "CREATE INDEX i ON missing(x);"),
            ("2_a.up.sql", "CREATE TABLE a(x);"),
            ("2_a.down.sql", "SELECT 1;"),
        ]),
        &no_sql,
    )
    .unwrap();
    assert_eq!((c.final_schema, c.sqlite_version), (None, None));
    assert!(c.migrations.iter().all(|m| m.schema_hash.is_none()));
    assert_eq!(c.migrations[1].down_sql.as_deref(), Some("SELECT 1;"));
    assert_eq!(c.migrations[0].up_sql, "CREATE INDEX i ON missing(x);");
}

#[test]
fn code_migrations_keep_the_schema_hash() {
    let mut s = set(&[
        ("1_a.up.sql", "CREATE TABLE a(x);"),
        ("1_a.down.sql", "DROP TABLE a;"),
        ("3_c.up.sql", "CREATE TABLE c(x);"),
        ("3_c.down.sql", "DROP TABLE c;"),
    ]);
    add_code_migrations(
        &mut s,
        &[CodeMigration {
            version: 2,
            name: "backfill".into(),
            path: "app::backfill".into(),
            reversible: true,
        }],
    )
    .unwrap();
    let c = compile(s, &CompileOptions::default()).unwrap();
    assert_eq!(c.migrations[1].schema_hash, c.migrations[0].schema_hash);
    assert_eq!(
        (c.migrations[1].up_sql.as_str(), c.migrations[1].down_sql.as_deref()),
        ("", None)
    );
    assert_ne!(c.migrations[2].schema_hash, c.migrations[1].schema_hash);
}

#[test]
fn transactions_are_mirrored() {
    // The runtime wraps each migration in a transaction, so a BEGIN in a file is refused when the set is loaded,
    // before any SQL runs (crate::safety), naming its line.
    let err = load_in_memory("migrations", &[("1_a.sql", "BEGIN;\nCREATE TABLE a(x);\nCOMMIT;")]).unwrap_err();
    assert!(matches!(&err, crate::load::LoadError::Refused { line: 1, .. }), "{err}");
    // `no-transaction` migrations run outside one.
    run(&[("1_a.sql", "-- migrate:no-transaction\nCREATE TABLE a(x);\nVACUUM;")]).unwrap();
}

#[test]
fn foreign_keys_are_checked_after_a_foreign_keys_off_migration() {
    let parent = (
        "1_p.sql",
        "CREATE TABLE p(id INTEGER PRIMARY KEY);\nCREATE TABLE c(p_id INT REFERENCES p(id));",
    );
    // Enforced normally: the insert itself fails.
    let err = run(&[parent, ("2_seed.sql", "INSERT INTO c VALUES (7);")]).unwrap_err();
    assert!(
        matches!(&err, CompileError::Statement { message, .. } if message.contains("FOREIGN KEY")),
        "{err}"
    );
    // Off for the migration, checked at its end, like the runtime does before commit.
    let err = run(&[
        parent,
        ("2_seed.sql", "-- migrate:foreign-keys=off\nINSERT INTO c VALUES (7);"),
    ])
    .unwrap_err();
    assert_eq!(
        err,
        CompileError::ForeignKeyViolation {
            file: "migrations/2_seed.sql".into(),
            violations: vec!["table \"c\" rowid 1 references \"p\"".into()],
            sqlite_version: rusqlite::version().into(),
        }
    );
    run(&[
        parent,
        (
            "2_seed.sql",
            "-- migrate:foreign-keys=off\nINSERT INTO c VALUES (7);\nINSERT INTO p VALUES (7);",
        ),
    ])
    .unwrap();
}

#[test]
fn generated_chunks_name_the_directive_line() {
    let mut db = Tracked::open(0, Vec::new().into()).unwrap();
    let m = &set(&[("1_a.sql", "SELECT 1;")])[0];
    let chunks = [
        Chunk {
            sql: "CREATE TABLE a(x);\n".into(),
            line: 1,
            generated: false,
        },
        Chunk {
            sql: "-- generated\nCREATE TABLE a(x);".into(),
            line: 3,
            generated: true,
        },
    ];
    let err = db.run_migration(m, &chunks, Direction::Up).unwrap_err();
    let CompileError::Statement {
        file, line, generated, ..
    } = &err
    else {
        panic!("{err}")
    };
    assert_eq!((file.as_str(), *line, *generated), ("migrations/1_a.sql", 3, true));
    assert!(
        err.to_string().contains("generated by the directive on line 3"),
        "{err}"
    );
}

/// The incremental hash after every single statement equals a full `Schema::read`.
#[test]
fn incremental_tracking_matches_a_full_read_after_every_statement() {
    let script = "
        CREATE TABLE p(id INTEGER PRIMARY KEY, name TEXT UNIQUE);
        CREATE TABLE c(id INTEGER PRIMARY KEY, p_id INT REFERENCES p(id), v TEXT CHECK (v <> ''));
        CREATE INDEX c_p ON c(p_id);
        CREATE INDEX c_expr ON c(lower(v)) WHERE v IS NOT NULL;
        CREATE TRIGGER c_ai AFTER INSERT ON c BEGIN UPDATE p SET name = name WHERE id = new.p_id; END;
        CREATE VIEW pc AS SELECT p.name, c.v FROM p JOIN c ON c.p_id = p.id;
        CREATE TABLE IF NOT EXISTS p(x);
        ALTER TABLE c ADD COLUMN extra INT DEFAULT 0;
        ALTER TABLE c RENAME COLUMN v TO value;
        ALTER TABLE p RENAME TO parent;
        ALTER TABLE c DROP COLUMN extra;
        CREATE VIRTUAL TABLE docs USING fts5(body);
        ALTER TABLE docs RENAME TO documents;
        DROP TABLE documents;
        DROP VIEW pc;
        DROP TRIGGER c_ai;
        CREATE TRIGGER c_ai AFTER DELETE ON c BEGIN SELECT 1; END;
        DROP INDEX c_p;
        DROP TABLE c;
        SAVEPOINT s;
        CREATE TABLE gone(x);
        DROP TABLE parent;
        ROLLBACK TO s;
        RELEASE s;
        BEGIN;
        DROP TABLE parent;
        CREATE TABLE z(\"odd \"\" name\" TEXT);
        ROLLBACK;
        ANALYZE;
        VACUUM;
        CREATE TABLE last(x INT) STRICT;
    ";
    let batches = [
        // The newest row goes and its rowid is reused within one batch.
        "CREATE TABLE top1(a); CREATE INDEX top1_a ON top1(a); DROP TABLE top1; CREATE TABLE reuse(b);",
        "DROP TABLE reuse; CREATE TABLE reuse(c); CREATE INDEX reuse_c ON reuse(c); DROP INDEX reuse_c;",
        // A table of the same name in an attached database is not the main one.
        "ATTACH ':memory:' AS aux; CREATE TABLE aux.last(x); DROP TABLE aux.last; DETACH aux;",
        "CREATE TEMP TABLE last(y); DROP TABLE last; CREATE TEMP VIEW tv AS SELECT 1;",
        "CREATE VIRTUAL TABLE v2 USING fts5(x); DROP TABLE v2; CREATE TABLE v2_data(x);",
    ];
    let mut db = Tracked::open(0, Vec::new().into()).unwrap();
    for st in split::statements(script) {
        if db.execute(st.sql).is_err() {
            panic!("statement failed: {}", st.sql);
        }
        let read = Schema::read(&db.conn).unwrap();
        assert_eq!(db.schema(), read, "after {}", st.sql);
        assert_eq!(db.hash(), read.hash(), "after {}", st.sql);
    }
    for b in batches {
        db.execute(b).unwrap();
        let read = Schema::read(&db.conn).unwrap();
        assert_eq!(db.schema(), read, "after {b}");
        assert_eq!(db.hash(), read.hash(), "after {b}");
    }
    let has = |name: &str| db.schema().get(crate::schema::ObjectKind::Table, name).is_some();
    assert!(has("reuse") && has("last") && has("v2_data") && has("parent"));
    assert!(!has("z") && !has("top1"));
}

/// 2000 small migrations, everything on, against plain execution of the same SQL (ups, then downs newest
/// first) on a connection without any bookkeeping. Run with `--ignored --nocapture` to see the times; in the
/// test profile this is unoptimized, like the proc macro.
#[test]
#[ignore]
fn perf_2000_migrations() {
    let files = perf_files(2000);
    let refs: Vec<(&str, &str)> = files.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let s = set(&refs);

    // CPU time of this thread (Linux), which a busy machine distorts less than wall time.
    let cpu = || {
        std::fs::read_to_string("/proc/thread-self/schedstat")
            .ok()
            .and_then(|s| s.split_whitespace().next().and_then(|n| n.parse::<u64>().ok()))
            .map(std::time::Duration::from_nanos)
    };
    let (t, c0) = (std::time::Instant::now(), cpu());
    let plain = Connection::open_in_memory().unwrap();
    for m in &s {
        plain.execute_batch(&format!("BEGIN;\n{}\nCOMMIT;", m.up.sql)).unwrap();
    }
    for m in s.iter().rev() {
        plain
            .execute_batch(&format!("BEGIN;\n{}\nCOMMIT;", m.down.as_ref().unwrap().sql))
            .unwrap();
    }
    let (baseline, baseline_cpu) = (t.elapsed(), cpu().zip(c0).map(|(b, a)| b - a));

    let (t, c0) = (std::time::Instant::now(), cpu());
    let c = compile(s, &CompileOptions::default()).unwrap();
    let (full, full_cpu) = (t.elapsed(), cpu().zip(c0).map(|(b, a)| b - a));
    eprintln!(
        "2000 migrations: compile() {full:?} (CPU {full_cpu:?}); executing the same SQL without bookkeeping \
         {baseline:?} (CPU {baseline_cpu:?})"
    );
    assert_eq!(c.migrations.len(), 2000);
    assert!(
        c.migrations
            .iter()
            .all(|m| m.schema_hash.is_some() && m.down_sql.is_some())
    );
}

fn perf_files(n: usize) -> Vec<(String, String)> {
    let mut files = Vec::new();
    for i in 1..=n {
        files.push((
            format!("{i:04}_t{i}.up.sql"),
            format!(
                "CREATE TABLE t_{i}(id INTEGER PRIMARY KEY, name TEXT NOT NULL, created_at TEXT);\n\
                 CREATE INDEX t_{i}_name ON t_{i}(name);\n"
            ),
        ));
        files.push((format!("{i:04}_t{i}.down.sql"), format!("DROP TABLE t_{i};\n")));
    }
    files
}

#[test]
fn validation_touches_nothing_outside_memory() {
    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("other.db");
    let copy = dir.path().join("copy.db");
    let attach = format!(
        "-- migrate:no-transaction\nATTACH DATABASE {} AS o;\nCREATE TABLE o.t(x);\nINSERT INTO o.t VALUES (1);\nDETACH o;",
        crate::sql::quote_str(&other.to_string_lossy())
    );
    let vacuum = format!(
        "-- migrate:no-transaction\nVACUUM INTO {};",
        crate::sql::quote_str(&copy.to_string_lossy())
    );
    let c = run(&[
        ("1_a.sql", "CREATE TABLE a(x);"),
        ("2_attach.sql", &attach),
        ("3_vacuum.sql", &vacuum),
    ])
    .unwrap();
    assert_eq!(c.migrations.len(), 3);
    assert!(
        !other.exists() && !copy.exists(),
        "validation wrote {:?}",
        std::fs::read_dir(dir.path()).unwrap().collect::<Vec<_>>()
    );
    // An attached file's tables are not there at build time, and the error says why.
    let read = format!(
        "-- migrate:no-transaction\nATTACH {} AS o;\nINSERT INTO a SELECT x FROM o.t;",
        crate::sql::quote_str(&other.to_string_lossy())
    );
    let err = run(&[("1_a.sql", "CREATE TABLE a(x);"), ("2_read.sql", &read)]).unwrap_err();
    assert!(err.to_string().contains("in-memory database"), "{err}");
    assert!(!other.exists());
    // No extension loading.
    let lib = dir.path().join("evil.so");
    let err = run(&[(
        "1_a.sql",
        &format!(
            "SELECT load_extension({});",
            crate::sql::quote_str(&lib.to_string_lossy())
        ),
    )])
    .unwrap_err();
    assert!(matches!(err, CompileError::Statement { line: 1, .. }), "{err}");
}

#[test]
fn validation_is_bounded() {
    let forever =
        "CREATE TABLE a(x);\nWITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c) SELECT count(*) FROM c;";
    let opts = CompileOptions {
        max_steps: 200_000,
        ..CompileOptions::default()
    };
    let err = compile(set(&[("1_forever.sql", forever)]), &opts).unwrap_err();
    match &err {
        CompileError::Statement {
            file, line, message, ..
        } => {
            assert_eq!((file.as_str(), *line), ("migrations/1_forever.sql", 2));
            assert!(
                message.contains("did not finish within 200000 SQLite steps"),
                "{message}"
            );
            assert!(message.contains("validation_steps"), "{message}");
        }
        other => panic!("{other}"),
    }
    // The same statement with a bound it fits in, and a finite recursive query under the default bound.
    let finite = "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c LIMIT 1000) SELECT count(*) FROM c;";
    compile(set(&[("1_finite.sql", finite)]), &opts).unwrap();
    compile(set(&[("1_finite.sql", finite)]), &CompileOptions::default()).unwrap();
}

#[test]
fn common_mistakes_say_what_to_do() {
    let err = run(&[
        ("1_t.sql", "CREATE TABLE t(a, b);\nCREATE INDEX t_b ON t(b);"),
        ("2_drop.sql", "ALTER TABLE t DROP COLUMN b;"),
    ])
    .unwrap_err();
    let text = err.to_string();
    assert!(text.starts_with("migrations/2_drop.sql:1:"), "{text}");
    assert!(
        text.contains("drop it first") && text.contains("-- migrate:rebuild"),
        "{text}"
    );
}

#[test]
fn runs_of_downs_below_irreversible_migrations_are_proven_on_a_copy() {
    let good = [
        ("1_a.up.sql", "CREATE TABLE a(x);"),
        ("1_a.down.sql", "DROP TABLE a;"),
        ("2_b.up.sql", "-- migrate:no-transaction\nCREATE TABLE b(x);"),
        ("2_b.down.sql", "DROP TABLE b;"),
        ("3_c.sql", "CREATE TABLE c(x); INSERT INTO a VALUES (1);"),
        ("4_d.up.sql", "ALTER TABLE a RENAME TO a2;"),
        ("4_d.down.sql", "ALTER TABLE a2 RENAME TO a;"),
        ("5_e.sql", "CREATE INDEX a2_x ON a2(x);"),
        ("6_f.up.sql", "CREATE VIEW v AS SELECT x FROM a2;"),
        ("6_f.down.sql", "DROP VIEW v;"),
    ];
    let c = run(&good).unwrap();
    // The copies did not disturb the forward pass: every hash is a plain replay's.
    assert_hashes_match_real_db(&c);
    // A wrong down in the middle of a run below an irreversible migration is named.
    let mut bad = good;
    bad[1] = ("1_a.down.sql", "SELECT 1;");
    let err = run(&bad).unwrap_err();
    assert!(matches!(err, CompileError::DownMismatch { version: 1, .. }), "{err}");
    let mut bad = good;
    bad[6] = ("4_d.down.sql", "CREATE TABLE stray(x); ALTER TABLE a2 RENAME TO a;");
    let err = run(&bad).unwrap_err();
    assert!(matches!(err, CompileError::DownMismatch { version: 4, .. }), "{err}");
    assert!(err.to_string().contains("stray"), "{err}");
}
