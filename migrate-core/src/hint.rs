//! What to do about SQLite's messages for common migration mistakes. The build's validation errors and the runtime's
//! migration failures both append these, so the advice is the same wherever the mistake shows up.

/// Advice for an SQLite error message, when there is some.
///
/// ```
/// let hint = litemigrate_core::hint::for_sqlite_message("error in index i after drop column: no such column: b");
/// assert!(hint.unwrap().contains("-- migrate:rebuild"));
/// assert_eq!(litemigrate_core::hint::for_sqlite_message("no such table: t"), None);
/// ```
pub fn for_sqlite_message(message: &str) -> Option<&'static str> {
    let m = message.to_ascii_lowercase();
    if m.contains("after drop column") {
        Some(
            "an index, trigger or view still uses the dropped column: drop it first (and recreate it without the \
             column after the DROP COLUMN), or rebuild the table with `-- migrate:rebuild <table>`",
        )
    } else if m.starts_with("cannot drop unique column") || m.starts_with("cannot drop primary key column") {
        Some(
            "SQLite cannot drop a UNIQUE or PRIMARY KEY column in place: rebuild the table with `-- migrate:rebuild <table>`",
        )
    } else if m.contains("within transaction") || m.contains("within a transaction") {
        Some("this statement cannot run inside a transaction: put `-- migrate:no-transaction` at the top of the file")
    } else if m.starts_with("no such function") {
        Some(
            "the SQLite that ran it does not have this function: it may be newer than the SQLite the application \
             links, or come from an extension",
        )
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints() {
        assert!(for_sqlite_message("cannot drop UNIQUE column: \"b\"").is_some());
        assert!(
            for_sqlite_message("cannot ATTACH database within transaction")
                .unwrap()
                .contains("no-transaction")
        );
        assert!(for_sqlite_message("no such function: concat").is_some());
        assert_eq!(for_sqlite_message("syntax error"), None);
    }
}
