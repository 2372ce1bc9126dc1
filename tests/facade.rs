//! Everything an application names is reachable through `litemigrate::…` alone: this file uses no other crate of the
//! workspace (only `tempfile` for scratch directories).

use litemigrate::rusqlite::Connection;

static TODO: litemigrate::Migrations = litemigrate::embed_migrations!("examples/todo/migrations");

fn dir(files: &[(&str, &str)]) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    for (name, sql) in files {
        std::fs::write(d.path().join(name), sql).unwrap();
    }
    d
}

#[test]
fn from_dir_takes_the_compile_options_from_the_facade() {
    let d = dir(&[("0001_a.sql", "CREATE TABLE a(x);")]);
    let options = litemigrate::CompileOptions {
        check_down: false,
        ..litemigrate::CompileOptions::default()
    };
    let set = litemigrate::Migrations::from_dir(d.path(), &options).unwrap();
    let mut conn = Connection::open_in_memory().unwrap();
    set.migrate(&mut conn).unwrap();
    assert!(set.status(&conn).unwrap().is_up_to_date());
}

#[test]
fn from_sources_takes_sources_built_with_the_facade() {
    let file = litemigrate::SourceFile {
        file_name: "1_a.sql".into(),
        display: "migrations/1_a.sql".into(),
        contents: litemigrate::load::Entry::File(b"CREATE TABLE a(x);".to_vec()),
    };
    let sources: Vec<litemigrate::MigrationSource> = litemigrate::load::load_files(vec![file]).unwrap();
    let set = litemigrate::Migrations::from_sources("default", sources);
    let m: litemigrate::Migration<'_> = set.get(1).unwrap();
    assert_eq!(m.name(), "a");
}

#[test]
fn load_and_compile_errors_can_be_matched_through_the_facade() {
    let bad_name = dir(&[("one_a.sql", "CREATE TABLE a(x);")]);
    let err = litemigrate::Migrations::from_dir(bad_name.path(), &litemigrate::CompileOptions::default()).unwrap_err();
    assert!(
        matches!(
            &err,
            litemigrate::Error::Load(litemigrate::LoadError::BadName {
                reason: litemigrate::name::NameError::VersionNotDigits(_),
                ..
            })
        ),
        "{err:?}"
    );
    assert_eq!(err.kind().as_str(), "load");

    let bad_sql = dir(&[("0001_a.sql", "CREATE TABLE a(x);\nCREATE TABLE (;")]);
    let err = litemigrate::Migrations::from_dir(bad_sql.path(), &litemigrate::CompileOptions::default()).unwrap_err();
    match &err {
        litemigrate::Error::Compile(litemigrate::CompileError::Statement { line, direction, .. }) => {
            assert_eq!((*line, *direction), (2, litemigrate::compile::Direction::Up));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(err.kind(), litemigrate::ErrorKind::Compile);
}

#[test]
fn the_fts5_builder_is_the_one_fts_maintains() {
    let db = Connection::open_in_memory().unwrap();
    db.execute_batch("CREATE TABLE docs(id INTEGER PRIMARY KEY, body TEXT)")
        .unwrap();
    let idx = litemigrate::fts5::Fts5Index::external("docs_fts", "docs")
        .rowid("id")
        .columns(["body"]);
    db.execute_batch(&idx.up_sql().unwrap()).unwrap();
    db.execute("INSERT INTO docs(body) VALUES ('hello')", []).unwrap();
    assert!(litemigrate::fts::sync_check(&db, "docs_fts").unwrap().in_sync());
    assert_eq!(idx.kind(), litemigrate::fts5::Kind::External);
}

#[test]
fn schema_drift_carries_the_structured_difference() {
    let mut conn = Connection::open_in_memory().unwrap();
    TODO.migrate(&mut conn).unwrap();
    conn.execute_batch("CREATE TABLE hotfix(x); DROP INDEX todos_open_by_due;")
        .unwrap();
    let err = TODO.verify(&conn).unwrap_err();
    let text = err.to_string();
    let litemigrate::Error::SchemaDrift {
        version,
        diff,
        schema_diff: Some(facts),
        ..
    } = err
    else {
        panic!("{text}");
    };
    let facts: Box<litemigrate::SchemaDiff> = facts;
    assert_eq!(version, 3);
    assert_eq!(diff, facts.to_string(), "the text is the structured diff's");
    assert!(
        facts.missing.iter().any(|f| f.contains("todos_open_by_due")),
        "{facts:?}"
    );
    assert!(facts.unexpected.iter().any(|f| f.contains("hotfix")), "{facts:?}");
    assert!(facts.missing.iter().all(|f| !f.contains("hotfix")), "{facts:?}");
}

#[test]
fn an_embedded_set_is_a_static() {
    // A `static` (not a `LazyLock`): built at compile time, borrowed for `'static`.
    let m: litemigrate::Migration<'static> = TODO.get(1).unwrap();
    assert_eq!(m.name(), "create_todos");
    let up: Option<&'static str> = m.up_sql();
    assert!(up.is_some_and(|sql| sql.contains("CREATE TABLE todos")));
    assert_eq!(TODO.iter().len(), 3);
}
