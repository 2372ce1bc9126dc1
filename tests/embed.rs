//! The static table `embed_migrations!` emits, checked against what litemigrate-core computes from the same files.

use litemigrate_core::checksum;
use std::path::Path;

static TODO: litemigrate::Migrations = litemigrate::embed_migrations!("examples/todo/migrations");

fn backfill(tx: &rusqlite::Transaction<'_>) -> Result<(), litemigrate::CodeError> {
    tx.execute("UPDATE todos SET title = trim(title)", [])?;
    Ok(())
}

fn unbackfill(_tx: &rusqlite::Transaction<'_>) -> Result<(), litemigrate::CodeError> {
    Ok(())
}

static WITH_CODE: litemigrate::Migrations = litemigrate::embed_migrations!(
    "examples/todo/migrations",
    set = "todo",
    code = [(4, "noop", unbackfill), (10, "trim_titles", backfill, unbackfill)],
);

fn read(file: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(file)).unwrap()
}

#[test]
fn table_matches_the_files() {
    let versions: Vec<(u64, &str)> = TODO.iter().map(|m| (m.version(), m.name())).collect();
    assert_eq!(versions, [(1, "create_todos"), (2, "add_tags"), (3, "todo_due_date")]);
    assert_eq!(TODO.set_name(), "default");
    assert_eq!(TODO.latest_version(), 3);

    let m = TODO.get(3).unwrap();
    assert_eq!(m.up_file(), "examples/todo/migrations/0003_todo_due_date.up.sql");
    assert_eq!(
        m.down_file().as_deref(),
        Some("examples/todo/migrations/0003_todo_due_date.down.sql")
    );
    assert_eq!(m.up_sql(), Some(read(m.up_file()).as_str()));
    assert_eq!(m.down_sql(), Some(read(&m.down_file().unwrap()).as_str()));
    assert!(m.is_reversible() && !m.is_code() && !m.no_transaction());

    let mut chain = litemigrate::Checksum::ZERO;
    for m in &TODO {
        let sum = checksum::checksum(&read(m.up_file()));
        assert_eq!(m.checksum(), sum, "{}", m.up_file());
        chain = checksum::chain(&chain, m.version(), &sum);
        assert_eq!(m.chain(), chain, "{}", m.up_file());
        assert!(m.schema_hash().is_some());
    }
    assert!(TODO.get(4).is_none());
}

#[test]
fn schema_data_is_embedded() {
    let schema = TODO.final_schema().unwrap();
    assert!(
        schema.contains("todos") && schema.contains("due_at") && schema.contains("tags_by_tag"),
        "{schema}"
    );
    let hashes: Vec<_> = TODO.iter().map(|m| m.schema_hash().unwrap()).collect();
    assert_ne!(hashes[0], hashes[1]);
    assert_ne!(hashes[1], hashes[2]);
    assert!(TODO.build_sqlite_version().unwrap().starts_with("3."));
}

#[test]
fn code_migrations_sit_among_the_files() {
    let v: Vec<(u64, bool, bool)> = WITH_CODE
        .iter()
        .map(|m| (m.version(), m.is_code(), m.is_reversible()))
        .collect();
    assert_eq!(
        v,
        [
            (1, false, true),
            (2, false, true),
            (3, false, true),
            (4, true, false),
            (10, true, true)
        ]
    );
    assert_eq!(WITH_CODE.set_name(), "todo");
    let code = WITH_CODE.get(10).unwrap();
    assert_eq!(
        code.checksum(),
        litemigrate_core::load::code_checksum(10, "trim_titles")
    );
    assert!(code.up_sql().is_none());
    // The chain continues through the code migrations.
    assert_eq!(WITH_CODE.get(3).unwrap().chain(), TODO.get(3).unwrap().chain());
    let c4 = checksum::chain(
        &TODO.get(3).unwrap().chain(),
        4,
        &litemigrate_core::load::code_checksum(4, "noop"),
    );
    assert_eq!(WITH_CODE.get(4).unwrap().chain(), c4);
    assert_eq!(
        WITH_CODE.get(10).unwrap().chain(),
        checksum::chain(&c4, 10, &code.checksum())
    );
    // The build does not run code migrations, so it records the schema as unchanged by them.
    assert_eq!(
        WITH_CODE.get(10).unwrap().schema_hash(),
        TODO.get(3).unwrap().schema_hash()
    );
}

static CRLF: litemigrate::Migrations = litemigrate::embed_migrations!("tests/fixtures/crlf");

#[test]
fn crlf_and_bom_files_embed_normalized_sql_with_the_lf_checksum() {
    let raw = read("tests/fixtures/crlf/0001_init.sql");
    assert!(
        raw.starts_with('\u{feff}') && raw.contains("\r\n"),
        "the fixture lost its CRLF/BOM bytes"
    );
    let lf = "-- written on Windows\nCREATE TABLE a (\n    id INTEGER PRIMARY KEY\n);\n";
    let m = CRLF.get(1).unwrap();
    assert_eq!(m.up_sql(), Some(lf));
    assert_eq!(m.checksum(), checksum::checksum(lf));
    assert_eq!(CRLF.get(2).unwrap().down_sql(), Some("DROP TABLE b;\n"));
}
