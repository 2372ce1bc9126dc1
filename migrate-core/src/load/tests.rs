// This file is the parent module's `#[cfg(test)] mod tests;`: test code only.
#[cfg(test)]
use super::*;
use crate::directive::DirectiveErrorKind;
use crate::name::NameError;

fn f(n: &str, sql: &str) -> SourceFile {
    SourceFile::in_memory("m", n, sql)
}

#[test]
fn orders_numerically_and_pairs() {
    let set = load_files(vec![
        f("10_c.sql", "SELECT 3;"),
        f("9_b.up.sql", "SELECT 2;"),
        f("9_b.down.sql", "SELECT -2;"),
        f("0001_a.sql", "SELECT 1;"),
        f("README.md", "notes"),
    ])
    .unwrap();
    let v: Vec<(u64, &str, bool)> = set
        .iter()
        .map(|m| (m.version, m.name.as_str(), m.down.is_some()))
        .collect();
    assert_eq!(v, [(1, "a", false), (9, "b", true), (10, "c", false)]);
    assert_eq!(set[1].up.path, "m/9_b.up.sql");
    assert_eq!(set[1].down.as_ref().unwrap().path, "m/9_b.down.sql");
    // The chain links each migration to the one before.
    assert_eq!(set[0].chain, checksum::chain(&Checksum::ZERO, 1, &set[0].checksum));
    assert_eq!(set[2].chain, checksum::chain(&set[1].chain, 10, &set[2].checksum));
}

#[test]
fn crlf_and_bom_do_not_change_checksums() {
    let a = load_files(vec![f("1_a.sql", "CREATE TABLE t(x);\nSELECT 1;\n")]).unwrap();
    let b = load_files(vec![f("1_a.sql", "\u{feff}CREATE TABLE t(x);\r\nSELECT 1;\r\n")]).unwrap();
    assert_eq!(a[0].checksum, b[0].checksum);
    assert_eq!(a[0].chain, b[0].chain);
    assert_eq!(b[0].up.sql, "CREATE TABLE t(x);\nSELECT 1;\n");
}

#[test]
fn down_edit_keeps_checksum() {
    let a = load_files(vec![f("1_a.up.sql", "SELECT 1;"), f("1_a.down.sql", "SELECT 2;")]).unwrap();
    let b = load_files(vec![f("1_a.up.sql", "SELECT 1;"), f("1_a.down.sql", "SELECT 3;")]).unwrap();
    assert_eq!(a[0].checksum, b[0].checksum);
}

#[test]
fn every_set_rule() {
    let err = |files| load_files(files).unwrap_err();
    assert!(matches!(err(vec![f("1-a.sql", "x")]), LoadError::BadName { file, .. } if file == "m/1-a.sql"));
    assert!(matches!(
        err(vec![f("notes.txt", "x")]),
        LoadError::BadName {
            reason: NameError::NotSql,
            ..
        }
    ));
    assert_eq!(
        err(vec![f("1_a.sql", "SELECT 1;"), f("01_b.up.sql", "SELECT 1;")]),
        LoadError::DuplicateVersion {
            version: 1,
            files: vec!["m/01_b.up.sql".into(), "m/1_a.sql".into()]
        }
    );
    // Same name, different spelling of the version: still a duplicate.
    assert!(matches!(
        err(vec![f("1_a.sql", "SELECT 1;"), f("001_a.sql", "SELECT 1;")]),
        LoadError::DuplicateVersion { version: 1, .. }
    ));
    assert_eq!(
        err(vec![f("2_a.down.sql", "SELECT 1;")]),
        LoadError::DownWithoutUp {
            file: "m/2_a.down.sql".into(),
            expected: "2_a.up.sql".into()
        }
    );
    assert!(matches!(
        err(vec![f("2_a.sql", "SELECT 1;"), f("2_a.down.sql", "SELECT 1;")]),
        LoadError::DownWithoutUp { .. }
    ));
    assert_eq!(
        err(vec![f("3_a.sql", "SELECT 1;"), f("3_a.up.sql", "SELECT 1;")]),
        LoadError::SimpleAndUp {
            version: 3,
            simple: "m/3_a.sql".into(),
            up: "m/3_a.up.sql".into()
        }
    );
    assert_eq!(
        err(vec![f("4_a.sql", "")]),
        LoadError::EmptyUp {
            file: "m/4_a.sql".into()
        }
    );
    assert_eq!(
        err(vec![f("4_a.sql", "-- todo\n/* later */\n")]),
        LoadError::EmptyUp {
            file: "m/4_a.sql".into()
        }
    );
    let mut bad = f("5_a.sql", "");
    bad.contents = Entry::File(b"SELECT 1;\nSELECT '\xff';".to_vec());
    assert_eq!(
        err(vec![bad]),
        LoadError::NotUtf8 {
            file: "m/5_a.sql".into(),
            offset: 18,
            line: 2
        }
    );
    assert!(matches!(
        err(vec![f("6_a.sql", "-- migrate:nope\nSELECT 1;")]),
        LoadError::Directive { file, error } if file == "m/6_a.sql"
            && error.line == 1 && matches!(error.kind, DirectiveErrorKind::Unknown { .. })
    ));
    let mut dir = f("sub", "");
    dir.contents = Entry::Dir;
    assert_eq!(err(vec![dir]), LoadError::Subdirectory { file: "m/sub".into() });
}

#[test]
fn code_migrations_join_the_chain() {
    let mut set = load_files(vec![f("1_a.sql", "SELECT 1;"), f("3_c.sql", "SELECT 3;")]).unwrap();
    let decl = |v: u64, n: &str| CodeMigration {
        version: v,
        name: n.into(),
        path: format!("app::{n}"),
        reversible: false,
    };
    add_code_migrations(&mut set, &[decl(2, "backfill")]).unwrap();
    assert_eq!(
        set.iter().map(|m| (m.version, m.code)).collect::<Vec<_>>(),
        [(1, false), (2, true), (3, false)]
    );
    assert_eq!(set[1].checksum, code_checksum(2, "backfill"));
    assert_eq!(set[2].chain, checksum::chain(&set[1].chain, 3, &set[2].checksum));
    assert!(matches!(
        add_code_migrations(&mut set, &[decl(3, "clash")]),
        Err(LoadError::DuplicateVersion { version: 3, files }) if files == ["m/3_c.sql", "app::clash"]
    ));
    assert!(matches!(
        add_code_migrations(&mut set, &[decl(9, "Bad")]),
        Err(LoadError::BadName { .. })
    ));
}

#[cfg(feature = "include-dir")]
#[test]
fn include_dir_follows_the_same_rules() {
    static GOOD: include_dir::Dir<'_> = include_dir::include_dir!("$CARGO_MANIFEST_DIR/../examples/todo/migrations");
    let set = load_files(read_include_dir(&GOOD)).unwrap();
    assert_eq!(set.iter().map(|m| m.version).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(set[0].up.path, "0001_create_todos.up.sql");
    let on_disk =
        load_dir(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/todo/migrations")).unwrap();
    assert_eq!(set.last().unwrap().chain, on_disk.last().unwrap().chain);

    static BAD: include_dir::Dir<'_> =
        include_dir::include_dir!("$CARGO_MANIFEST_DIR/../tests/ui/fixtures/duplicate_version");
    assert!(matches!(
        load_files(read_include_dir(&BAD)),
        Err(LoadError::DuplicateVersion { version: 1, .. })
    ));
}

#[test]
fn empty_set_is_fine() {
    assert!(load_files(vec![]).unwrap().is_empty());
}

#[test]
fn reads_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("0001_a.sql"), "CREATE TABLE a(x);").unwrap();
    std::fs::write(dir.path().join(".hidden"), "x").unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    let set = load_dir(dir.path()).unwrap();
    assert_eq!(set.len(), 1);
    assert!(set[0].up.path.ends_with("0001_a.sql"));
    std::fs::create_dir(dir.path().join("old")).unwrap();
    assert!(matches!(load_dir(dir.path()), Err(LoadError::Subdirectory { .. })));
    assert!(matches!(
        load_dir(&dir.path().join("missing")),
        Err(LoadError::ReadDir { .. })
    ));
}

#[cfg(unix)]
#[test]
fn a_fifo_is_refused_not_read() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("0001_a.sql"), "CREATE TABLE a(x);").unwrap();
    let fifo = dir.path().join("0002_b.sql");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    // Reading it would block forever: nobody writes to it.
    match load_dir(dir.path()) {
        Err(LoadError::ReadFile { file, message }) => {
            assert!(file.ends_with("0002_b.sql"), "{file}");
            assert!(message.contains("not a regular file"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn versions_fit_in_sqlite_integers() {
    let err = load_in_memory("m", &[("9223372036854775808_big.sql", "SELECT 1;")]).unwrap_err();
    assert!(err.to_string().contains("largest integer SQLite stores"), "{err}");
    let set = load_in_memory("m", &[("9223372036854775807_big.sql", "SELECT 1;")]).unwrap();
    assert_eq!(set[0].version, i64::MAX as u64);
}

#[test]
fn nul_bytes_are_refused_with_their_position() {
    let err = load_in_memory("m", &[("1_n.sql", "CREATE TABLE n1(x);\n  \0CREATE TABLE n2(x);")]).unwrap_err();
    assert_eq!(
        err,
        LoadError::NulByte {
            file: "m/1_n.sql".into(),
            line: 2,
            column: 3
        }
    );
    // In a down file too.
    let err = load_in_memory(
        "m",
        &[
            ("1_n.up.sql", "CREATE TABLE n(x);"),
            ("1_n.down.sql", "DROP TABLE n;\0"),
        ],
    )
    .unwrap_err();
    assert!(
        matches!(err, LoadError::NulByte { ref file, .. } if file == "m/1_n.down.sql"),
        "{err}"
    );
}

#[test]
fn refusals_name_the_down_file_and_respect_no_transaction() {
    let err = load_in_memory(
        "m",
        &[
            ("1_a.up.sql", "CREATE TABLE a(x);"),
            ("1_a.down.sql", "DROP TABLE a;\nCOMMIT;"),
        ],
    )
    .unwrap_err();
    assert!(
        matches!(err, LoadError::Refused { ref file, line: 2, .. } if file == "m/1_a.down.sql"),
        "{err}"
    );
    load_in_memory(
        "m",
        &[
            (
                "1_a.up.sql",
                "-- migrate:no-transaction\nBEGIN; CREATE TABLE a(x); COMMIT;",
            ),
            ("1_a.down.sql", "BEGIN; DROP TABLE a; COMMIT;"),
        ],
    )
    .unwrap();
}
