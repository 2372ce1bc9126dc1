//! `fn main() -> Result<(), Box<dyn std::error::Error>>`, the README's pattern, prints a returned error with
//! `Debug`: the runtime's errors show their readable message there (and their kind), not the variant's fields.

static MIGRATIONS: litemigrate_runtime::Migrations = litemigrate_runtime::Migrations::empty();

fn run(table: &str) -> Result<(), Box<dyn std::error::Error>> {
    let mut conn = rusqlite::Connection::open_in_memory()?;
    MIGRATIONS.migrator().history_table(table).run(&mut conn)?;
    Ok(())
}

#[test]
fn debug_is_the_message_and_the_kind() {
    let err = run("not valid").unwrap_err();
    let debug = format!("{err:?}");
    let display = err.to_string();
    assert!(display.contains("invalid history table name"), "{display}");
    assert_eq!(debug, format!("{display} [invalid_table_name]"));
    assert!(!debug.contains("InvalidTableName {"), "{debug}");
}
