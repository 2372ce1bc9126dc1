// This file is the parent module's `#[cfg(test)] mod tests;`: test code only.
#[cfg(test)]
use super::*;
use crate::load::{Entry, LoadError, MigrationSource, SourceFile, load_files, load_files_as};

fn f(n: &str, sql: &str) -> SourceFile {
    SourceFile::in_memory("m", n, sql)
}

fn dir(n: &str) -> SourceFile {
    SourceFile {
        file_name: n.into(),
        display: format!("m/{n}"),
        contents: Entry::Dir,
    }
}

fn versions(set: &[MigrationSource]) -> Vec<(u64, &str)> {
    set.iter().map(|m| (m.version, m.name.as_str())).collect()
}

#[test]
fn diesel_orders_versions_as_text_and_keeps_names() {
    // As integers 20240313 < 20180114171611; diesel (and this loader) order them as text.
    let set = load_files(vec![
        dir("2024-03-13_170000_add_tags"),
        f(
            "2024-03-13_170000_add_tags/up.sql",
            "CREATE TABLE tags(id INTEGER PRIMARY KEY);",
        ),
        f("2024-03-13_170000_add_tags/down.sql", "DROP TABLE tags;"),
        dir("2018-01-14-171611_create_users"),
        f(
            "2018-01-14-171611_create_users/up.sql",
            "CREATE TABLE users(id INTEGER PRIMARY KEY);",
        ),
        f("2018-01-14-171611_create_users/down.sql", "-- irreversible\n"),
        f(
            "2018-01-14-171611_create_users/metadata.toml",
            "# diesel\nrun_in_transaction = false\n",
        ),
    ])
    .unwrap();
    assert_eq!(
        versions(&set),
        [(20180114171611, "create_users"), (20240313000000, "170000_add_tags")]
    );
    assert_eq!(set[0].up.path, "m/2018-01-14-171611_create_users/up.sql");
    assert!(
        set[0].down.is_none(),
        "a comment-only down.sql is diesel's irreversible"
    );
    assert!(set[0].up.directives.no_transaction(), "run_in_transaction = false");
    assert!(set[1].down.is_some() && !set[1].up.directives.no_transaction());
}

#[test]
fn diesel_comment_only_up_is_a_no_op_and_missing_up_is_named() {
    let set = load_files(vec![
        f("2020-01-01-000000_mysql_only/up.sql", "-- only for MySQL\n"),
        f("2020-01-01-000000_mysql_only/down.sql", ""),
    ])
    .unwrap();
    assert_eq!(set.len(), 1);
    let err = load_files(vec![
        dir("2020-01-01-000000_a"),
        f("2020-01-01-000000_a/up.sql", "SELECT 1;"),
        dir("2020-01-02-000000_b"),
        f("2020-01-02-000000_b/down.sql", "SELECT 1;"),
    ])
    .unwrap_err();
    assert_eq!(
        err,
        LoadError::MissingUp {
            dir: "m/2020-01-02-000000_b".into(),
            expected: "m/2020-01-02-000000_b/up.sql".into()
        }
    );
}

#[test]
fn diesel_versions_that_pad_alike_are_a_duplicate() {
    let err = load_files(vec![
        f("20240313_a/up.sql", "SELECT 1;"),
        f("2024031300_b/up.sql", "SELECT 2;"),
    ])
    .unwrap_err();
    assert!(
        matches!(
            err,
            LoadError::DuplicateVersion {
                version: 20240313000000,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn sqlx_names_and_no_transaction() {
    let set = load_files(vec![
        f(
            "20240101000000_Create-Users table.sql",
            "CREATE TABLE users(id INTEGER PRIMARY KEY);",
        ),
        f("20240102000000_vacuum.sql", "-- no-transaction\nVACUUM;\n"),
    ])
    .unwrap();
    assert_eq!(versions(&set)[0], (20240101000000, "Create-Users table"));
    assert!(set[1].up.directives.no_transaction());
    assert_eq!(detect(&[f("1_Add.sql", "SELECT 1;")]).unwrap(), Layout::Sqlx);
    // Plain lowercase names stay this library's layout.
    assert_eq!(detect(&[f("1_add.sql", "SELECT 1;")]).unwrap(), Layout::Native);
}

#[test]
fn refinery_and_flyway_read_u_files_differently_and_detection_refuses_to_guess() {
    let files = || {
        vec![
            f("V1__create.sql", "CREATE TABLE a(x);"),
            f("U1__create.sql", "DROP TABLE a;"),
            f("V2__more.sql", "CREATE TABLE b(x);"),
        ]
    };
    assert_eq!(
        load_files(files()).unwrap_err(),
        LoadError::AmbiguousUndo {
            file: "m/U1__create.sql".into()
        }
    );
    let flyway = load_files_as(files(), Some(Layout::Flyway)).unwrap();
    assert_eq!(versions(&flyway), [(1, "create"), (2, "more")]);
    assert_eq!(flyway[0].down.as_ref().unwrap().sql, "DROP TABLE a;");
    // To refinery U1 is a migration of its own, so it clashes with V1.
    assert!(matches!(
        load_files_as(files(), Some(Layout::Refinery)),
        Err(LoadError::DuplicateVersion { version: 1, .. })
    ));
    assert!(matches!(
        load_files(vec![f("V1__a.sql", "SELECT 1;"), f("R__views.sql", "SELECT 1;")]),
        Err(LoadError::Repeatable { file }) if file == "m/R__views.sql"
    ));
    assert!(matches!(
        load_files(vec![f("V1.1__a.sql", "SELECT 1;")]),
        Err(LoadError::NotInLayout { .. })
    ));
}

#[test]
fn dbmate_sections_keep_line_numbers() {
    let text = "-- migrate:up\nCREATE TABLE a(x);\n\n-- migrate:down\nDROP TABLE a;\n";
    let set = load_files(vec![f("20240101000000_a.sql", text)]).unwrap();
    assert_eq!(detect(&[f("20240101000000_a.sql", text)]).unwrap(), Layout::Dbmate);
    assert_eq!(set[0].up.sql, "\nCREATE TABLE a(x);\n\n");
    assert_eq!(set[0].down.as_ref().unwrap().sql, "\n\n\n\nDROP TABLE a;\n");
    assert_eq!(set[0].checksum, crate::checksum::checksum("\nCREATE TABLE a(x);\n\n"));
    // CRLF changes neither the sections nor the checksum.
    let crlf = load_files(vec![f("20240101000000_a.sql", &text.replace('\n', "\r\n"))]).unwrap();
    assert_eq!(crlf[0].checksum, set[0].checksum);
    let no_tx = load_files(vec![f(
        "1_v.sql",
        "-- migrate:up transaction:false\nVACUUM;\n-- migrate:down\n",
    )])
    .unwrap();
    assert!(no_tx[0].up.directives.no_transaction() && no_tx[0].down.is_none());
    // A marker inside a string is text.
    let err = load_files(vec![f("1_v.sql", "-- migrate:down\nSELECT '-- migrate:up';\n")]).unwrap_err();
    assert!(matches!(err, LoadError::Section { line: 1, .. }), "{err}");
}

#[test]
fn goose_sections_statement_blocks_and_no_transaction() {
    let text = "-- +goose NO TRANSACTION\n-- +goose Up\n-- +goose StatementBegin\nCREATE TABLE a(x);\n\
CREATE TRIGGER t AFTER INSERT ON a BEGIN SELECT 1; END;\n-- +goose StatementEnd\n\n-- +goose Down\nDROP TABLE a;\n";
    let set = load_files(vec![f("00001_a.sql", text)]).unwrap();
    assert_eq!(versions(&set), [(1, "a")]);
    assert!(set[0].up.directives.no_transaction());
    assert!(set[0].down.as_ref().unwrap().sql.ends_with("DROP TABLE a;\n"));
    assert!(!set[0].up.sql.contains("goose"));
}

#[test]
fn two_layouts_in_one_directory_name_a_file_of_each() {
    let err = load_files(vec![f("V1__a.sql", "SELECT 1;"), f("2_b.sql", "SELECT 2;")]).unwrap_err();
    assert_eq!(err.files(), ["m/2_b.sql", "m/V1__a.sql"]);
    assert!(matches!(err, LoadError::MixedLayouts { .. }));
    let err = load_files(vec![
        f("1_a.sql", "-- +goose Up\nSELECT 1;"),
        f("2_b.sql", "-- migrate:up\nSELECT 2;"),
    ])
    .unwrap_err();
    assert!(matches!(err, LoadError::MixedLayouts { .. }), "{err}");
}

#[test]
fn names_from_files() {
    assert_eq!(name_of_file("m/1_Add users.up.sql"), "Add users");
    assert_eq!(name_of_file("m/U3__drop.sql"), "drop");
    assert_eq!(name_of_file("m/20240101000000_a.sql"), "a");
}
