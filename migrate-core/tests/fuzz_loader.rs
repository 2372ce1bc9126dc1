//! A bounded fuzz run over the loader and validation: random directories (file names near and far from the naming
//! rules, bytes that are SQL, directives, transaction control, NUL, invalid UTF-8 or noise) go through `load_files`
//! and, when they load, through `compile` with a small step bound. Each returns `Ok` or `Err`; none panics or hangs
//! (the step bound is what keeps a generated recursive CTE finite). Part of `cargo test --workspace`, hence of CI;
//! 256 directories per test by default (1,024 for validation), `PROPTEST_CASES` raises it.

use litemigrate_core::load::{Entry, SourceFile, load_files, load_in_memory};
use proptest::prelude::*;

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

/// File names: valid ones in every form, the edges of the version range, and near misses.
fn file_name() -> impl Strategy<Value = String> {
    let version = prop_oneof![
        4 => (1u64..12).prop_map(|v| format!("{v:04}")),
        1 => Just("0".to_owned()),
        1 => Just("9223372036854775807".to_owned()),
        1 => Just("9223372036854775808".to_owned()),
        1 => Just("18446744073709551616".to_owned()),
        1 => "[0-9]{1,22}",
    ];
    let name = prop_oneof![
        4 => prop::sample::select(vec!["a", "users", "add_tags", "x1"]).prop_map(str::to_owned),
        1 => "[a-zA-Z0-9_.é日-]{0,8}",
    ];
    let suffix = prop::sample::select(vec![
        ".sql",
        ".up.sql",
        ".down.sql",
        ".SQL",
        ".md",
        "",
        ".sql.bak",
        ".up.down.sql",
    ]);
    prop_oneof![
        8 => (version, name, suffix).prop_map(|(v, n, s)| format!("{v}_{n}{s}")),
        1 => prop::sample::select(vec![".hidden.sql", "README.md", "_x.sql", "1.sql", "1_.sql", "日本.sql"])
            .prop_map(str::to_owned),
        1 => any::<String>(),
    ]
}

/// File contents: SQL-shaped text with the constructs the loader and validation treat specially.
fn contents() -> impl Strategy<Value = Vec<u8>> {
    let fragment = prop_oneof![
        10 => prop::sample::select(vec![
            "CREATE TABLE t (id INTEGER PRIMARY KEY, x TEXT);\n",
            "CREATE TABLE u (a, b);\n",
            "CREATE INDEX t_x ON t(x);\n",
            "DROP TABLE t;\n",
            "ALTER TABLE t ADD COLUMN y INTEGER;\n",
            "INSERT INTO t (x) VALUES ('a;b');\n",
            "CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; END;\n",
            "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c) SELECT count(*) FROM c;\n",
            "BEGIN;\n", "COMMIT;\n", "ROLLBACK;\n", "END;\n", "SAVEPOINT s;\n", "RELEASE s;\n",
            "PRAGMA foreign_keys = OFF;\n", "PRAGMA journal_mode = WAL;\n", "PRAGMA user_version = 5;\n", "VACUUM;\n",
            "ATTACH 'other.db' AS o;\n", "VACUUM INTO 'copy.db';\n", "DELETE FROM _migrations;\n",
            "-- migrate:no-transaction\n", "-- migrate:foreign-keys=off\n", "-- migrate:rebuild t\n",
            "-- migrate:fts5 t_fts content=t content_rowid=id columns=x\n", "-- migrate:bogus\n",
            "-- a comment\n", "/* unterminated", "'unterminated", "\"q", ";", "\n", "\r\n", " ",
        ])
        .prop_map(|s| s.as_bytes().to_vec()),
        1 => Just(vec![0u8]),
        1 => Just(vec![0xEF, 0xBB, 0xBF]),
        1 => Just(vec![0xFF, 0xFE]),
        1 => any::<String>().prop_map(String::into_bytes),
    ];
    prop::collection::vec(fragment, 0..8).prop_map(|parts| parts.concat())
}

/// Statements that load, in random order and number: most sets built from them reach validation, where the order
/// decides what fails (a table created twice, an index on a missing table, a CTE stopped by the step bound).
fn statements() -> impl Strategy<Value = Vec<u8>> {
    let statement = prop::sample::select(vec![
        "CREATE TABLE t (id INTEGER PRIMARY KEY, x TEXT);\n",
        "CREATE TABLE IF NOT EXISTS u (a, b);\n",
        "CREATE INDEX IF NOT EXISTS t_x ON t(x);\n",
        "DROP TABLE IF EXISTS u;\n",
        "ALTER TABLE t ADD COLUMN y INTEGER;\n",
        "ALTER TABLE t DROP COLUMN x;\n",
        "INSERT INTO t (x) VALUES ('a;b');\n",
        "CREATE TRIGGER IF NOT EXISTS tr AFTER INSERT ON t BEGIN SELECT 1; END;\n",
        "CREATE VIEW IF NOT EXISTS v AS SELECT * FROM t;\n",
        "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c) SELECT count(*) FROM c;\n",
        "SELECT 1;\n",
        "-- migrate:rebuild t\n",
        "-- migrate:fts5 t_fts content=t content_rowid=id columns=x\n",
    ]);
    prop::collection::vec(statement, 1..5).prop_map(|parts| parts.concat().into_bytes())
}

fn directory() -> impl Strategy<Value = Vec<SourceFile>> {
    let entry = prop_oneof![
        12 => contents().prop_map(Entry::File),
        1 => Just(Entry::Dir),
    ];
    prop::collection::vec((file_name(), entry), 0..6).prop_map(|files| {
        files
            .into_iter()
            .map(|(file_name, contents)| SourceFile {
                display: format!("migrations/{file_name}"),
                file_name,
                contents,
            })
            .collect()
    })
}

/// Directories that follow the naming rules (versions 1..=n, some reversible), so most of them load and validation
/// gets the generated SQL.
fn plausible_directory() -> impl Strategy<Value = Vec<SourceFile>> {
    let body = || prop_oneof![3 => statements(), 1 => contents()];
    prop::collection::vec((body(), prop::option::of(body())), 1..5).prop_map(|migrations| {
        let mut files = Vec::new();
        for (i, (up, down)) in migrations.into_iter().enumerate() {
            let v = i + 1;
            let mut add = |name: String, bytes: Vec<u8>| {
                files.push(SourceFile {
                    display: format!("migrations/{name}"),
                    file_name: name,
                    contents: Entry::File(bytes),
                })
            };
            match down {
                Some(down) => {
                    add(format!("{v:04}_m{v}.up.sql"), up);
                    add(format!("{v:04}_m{v}.down.sql"), down);
                }
                None => add(format!("{v:04}_m{v}.sql"), up),
            }
        }
        files
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn the_loader_returns_ok_or_err_for_any_directory(files in directory()) {
        let _ = load_files(files);
    }

    #[test]
    fn the_loader_takes_any_text_under_any_name(names in prop::collection::vec((file_name(), any::<String>()), 0..4)) {
        let files: Vec<(&str, &str)> = names.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
        let _ = load_in_memory("migrations", &files);
    }
}

#[cfg(feature = "sqlite")]
mod validation {
    use super::*;
    use litemigrate_core::compile::{CompileOptions, compile};
    use std::time::{Duration, Instant};

    /// Enough for every generated statement but the unbounded CTE, which it stops within milliseconds.
    const STEPS: u64 = 200_000;

    proptest! {
        // About a quarter of the generated sets load; four times the cases give validation as many to run.
        #![proptest_config(ProptestConfig { cases: cases() * 4, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn validation_returns_ok_or_err_and_finishes(files in prop_oneof![1 => directory(), 3 => plausible_directory()]) {
            if let Ok(set) = load_files(files) {
                let opts = CompileOptions { max_steps: STEPS, ..CompileOptions::default() };
                let start = Instant::now();
                let _ = compile(set, &opts);
                // A generous wall-clock guard for a debug build on a loaded machine: the step bound must hold.
                prop_assert!(start.elapsed() < Duration::from_secs(20), "validation took {:?}", start.elapsed());
            }
        }
    }
}
