//! The build's side of a squash: the loader's placement rules and the proof that the file still produces the
//! schema and rows its directive records.
#![cfg(feature = "sqlite")]

use litemigrate_core::compile::{CompileError, CompileOptions, compile};
use litemigrate_core::load::{LoadError, load_in_memory};
use litemigrate_core::squash::generate::squash;

const OLD: &[(&str, &str)] = &[
    (
        "0001_kinds.sql",
        "CREATE TABLE kinds(id INTEGER PRIMARY KEY, name TEXT);\nINSERT INTO kinds VALUES (1, 'a');\n",
    ),
    ("0002_idx.sql", "CREATE INDEX kinds_name ON kinds(name);\n"),
    ("0003_more.sql", "CREATE TABLE more(x);\n"),
];

fn squash_text(v: u64) -> (String, String) {
    let compiled = compile(load_in_memory("m", OLD).unwrap(), &CompileOptions::default()).unwrap();
    let s = squash(&compiled, v).unwrap();
    (s.file_name, s.text)
}

#[test]
fn the_squash_takes_the_old_chain_and_compiles_to_the_old_hashes() {
    let old = compile(load_in_memory("m", OLD).unwrap(), &CompileOptions::default()).unwrap();
    let (name, text) = squash_text(2);
    let new = compile(
        load_in_memory("m", &[(&name, &text), OLD[2]]).unwrap(),
        &CompileOptions::default(),
    )
    .unwrap();
    for (o, n) in old.migrations[1..].iter().zip(&new.migrations) {
        assert_eq!(o.source.version, n.source.version);
        assert_eq!(o.source.chain, n.source.chain, "chain at {}", o.source.version);
        assert_eq!(o.schema_hash, n.schema_hash, "schema at {}", o.source.version);
    }
    assert_ne!(old.migrations[1].source.checksum, new.migrations[0].source.checksum);
}

#[test]
fn an_edited_squash_fails_the_build_naming_the_file() {
    let (name, text) = squash_text(2);
    let schema = text
        .replace("CREATE INDEX \"kinds_name\"", "CREATE INDEX \"kinds_nom\"")
        .replace("CREATE INDEX kinds_name", "CREATE INDEX kinds_nom");
    assert_ne!(schema, text);
    let err = compile(
        load_in_memory("m", &[(&name, &schema)]).unwrap(),
        &CompileOptions::default(),
    )
    .unwrap_err();
    assert!(
        matches!(&err, CompileError::SquashMismatch { what, .. } if what == "schema"),
        "{err}"
    );
    assert_eq!(err.files(), ["m/0002_squashed.sql"]);

    let data = text.replace("'a'", "'b'");
    assert_ne!(data, text);
    let err = compile(
        load_in_memory("m", &[(&name, &data)]).unwrap(),
        &CompileOptions::default(),
    )
    .unwrap_err();
    assert!(
        matches!(&err, CompileError::SquashMismatch { what, .. } if what == "data"),
        "{err}"
    );
    assert!(
        err.to_string()
            .starts_with("m/0002_squashed.sql: this squash does not reproduce the data"),
        "{err}"
    );
}

#[test]
fn a_squash_must_come_first_and_end_at_its_own_version() {
    let (name, text) = squash_text(2);
    let err = load_in_memory("m", &[OLD[0], (&name, &text)]).unwrap_err();
    assert!(
        matches!(&err, LoadError::Squash { file, .. } if file == "m/0002_squashed.sql"),
        "{err}"
    );
    assert!(
        err.to_string().contains("m/0001_kinds.sql is still in the set"),
        "{err}"
    );

    let err = load_in_memory("m", &[("0005_squashed.sql", text.as_str())]).unwrap_err();
    assert!(
        err.to_string().contains("must end at the file's own version 5"),
        "{err}"
    );
}

#[test]
fn a_code_migration_cannot_be_squashed() {
    let mut set = load_in_memory("m", &OLD[..2]).unwrap();
    litemigrate_core::load::add_code_migrations(
        &mut set,
        &[litemigrate_core::CodeMigration {
            version: 5,
            name: "backfill".into(),
            path: "app::backfill".into(),
            reversible: false,
        }],
    )
    .unwrap();
    let compiled = compile(set, &CompileOptions::default()).unwrap();
    let err = squash(&compiled, 5).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("app::backfill: a Rust-code migration cannot be squashed"),
        "{err}"
    );
}
