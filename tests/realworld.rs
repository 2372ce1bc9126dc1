//! A real-world style set (tests/fixtures/realworld: 56 migrations of a task tracker — tables, foreign keys, indexes,
//! FTS5 indexes, rebuilds, backfills, views, triggers, a deliberate drop and rename with their allow directives)
//! builds with every row check and lint on and no finding: `deny(deprecated)` turns any lint warning into an error.
#![deny(deprecated)]

use litemigrate_core::compile::{Analysis, CompileOptions, compile_with};
use litemigrate_core::lint::{LintOptions, SqliteVersion};

static MIGRATIONS: litemigrate::Migrations = litemigrate::embed_migrations!("tests/fixtures/realworld");

#[test]
fn builds_and_applies_with_its_rows() {
    assert_eq!(MIGRATIONS.len(), 56);
    let mut conn = litemigrate::rusqlite::Connection::open_in_memory().unwrap();
    MIGRATIONS.migrate(&mut conn).unwrap();
    let n: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_schema WHERE name = 'tasks_fts'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(n, 1);
}

#[test]
fn no_findings_even_for_an_app_on_sqlite_3_35() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/realworld");
    let sources = litemigrate_core::load::load_dir(std::path::Path::new(dir)).unwrap();
    let analysis = Analysis {
        lint: LintOptions {
            min_sqlite: SqliteVersion::parse("3.35"),
            ..Default::default()
        },
        ..Default::default()
    };
    let c = compile_with(sources, &CompileOptions::default(), &analysis).unwrap();
    assert_eq!(c.migrations.len(), 56);
    assert!(c.findings.is_empty(), "{:#?}", c.findings);
}
