//! The table invariant (`check`) and total decoding.

// This file is the parent module's `#[cfg(test)] mod tests;`: test code only.
#[cfg(test)]
use super::*;
use litemigrate_core::layout;

fn code_fn(_: &rusqlite::Transaction<'_>) -> Result<(), CodeError> {
    Ok(())
}

/// `meta` and `files` for rows `(version, flags, file)`.
fn table(rows: &[(u64, u8, &str)]) -> (Vec<u8>, String) {
    let (mut meta, mut files) = (Vec::new(), String::new());
    for &(v, f, file) in rows {
        layout::push(&mut meta, &mut files, v, f, file, [&Checksum::ZERO; 3]);
    }
    (meta, files)
}

fn check_static(sql: &[&str], meta: &[u8], files: &str, code: &[Code]) -> Result<(), TableError> {
    check(sql.len(), meta, files, code.iter().map(|c| c.version))
}

#[test]
fn the_check_accepts_what_the_writer_writes() {
    let (meta, files) = table(&[(1, 0, "m/1_a.sql"), (2, flags::CODE, "rust:f"), (3, 0, "m/3_é.sql")]);
    let code = [Code {
        version: 2,
        name: "f",
        up: code_fn,
        down: None,
    }];
    assert_eq!(check_static(&["", "", "", "", "", ""], &meta, &files, &code), Ok(()));
}

#[test]
fn the_check_rejects_each_broken_piece() {
    let (meta, files) = table(&[(1, 0, "m/1_a.sql"), (2, 0, "m/2_b.sql")]);
    let sql = ["", "", "", ""];
    assert_eq!(check_static(&sql[..2], &meta, &files, &[]), Err(TableError::Lengths));
    assert_eq!(
        check_static(&sql, &meta[..meta.len() - 1], &files, &[]),
        Err(TableError::Lengths)
    );
    assert_eq!(
        check_static(&sql, &meta, &files[..files.len() - 1], &[]),
        Err(TableError::FileRange)
    );

    let (meta, files) = table(&[(1, 0, "m/1_é.sql")]);
    let mut cut = meta.clone();
    cut[at::FILE_LEN] = 5; // ends inside the two bytes of `é`
    assert_eq!(check_static(&sql[..2], &cut, &files, &[]), Err(TableError::FileRange));

    let (meta, files) = table(&[(2, 0, "m/2_b.sql"), (1, 0, "m/1_a.sql")]);
    assert_eq!(check_static(&sql, &meta, &files, &[]), Err(TableError::Order));

    let (meta, files) = table(&[(1, flags::CODE, "rust:f")]);
    assert_eq!(check_static(&sql[..2], &meta, &files, &[]), Err(TableError::Code));
    let stray = [Code {
        version: 1,
        name: "f",
        up: code_fn,
        down: None,
    }];
    let (plain, plain_files) = table(&[(1, 0, "m/1_a.sql")]);
    assert_eq!(
        check_static(&sql[..2], &plain, &plain_files, &stray),
        Err(TableError::Code)
    );
}

/// A table that breaks the invariant can only be written by hand (the hidden constructor); its rows still all
/// come out, and nothing panics.
#[test]
fn a_hand_made_bad_table_still_yields_every_row() {
    static META: &[u8] = &{
        let mut m = [0u8; 2 * STRIDE];
        m[at::VERSION] = 1;
        m[at::FILE_AT] = 200; // outside `files`
        m[at::FILE_LEN] = 3;
        m[STRIDE + at::VERSION] = 2;
        m[STRIDE + at::FLAGS] = flags::CODE; // and no entry in `code`
        m
    };
    static BAD: Migrations =
        Migrations::__embedded("default", &["SELECT 1;", "", "", ""], META, "abc", &[], None, None);
    assert_eq!(BAD.iter().len(), 2);
    let rows: Vec<_> = BAD.iter().collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(
        (rows[0].version(), rows[0].up_file(), rows[0].up_sql()),
        (1, "", Some("SELECT 1;"))
    );
    assert!(rows[1].is_code());
    let Up::Code(f) = rows[1].up() else {
        panic!("a code row")
    };
    let mut conn = rusqlite::Connection::open_in_memory().unwrap();
    let tx = conn.transaction().unwrap();
    assert!(
        f(&tx).is_err(),
        "a code row without its function fails when run, it does not pass as done"
    );
}

#[test]
fn iter_yields_every_row_from_both_ends() {
    let (meta, files) = table(&[(1, 0, "m/1_a.sql"), (2, flags::CODE, "rust:f"), (3, 0, "m/3_c.sql")]);
    let rows = OwnedRows {
        sql: ["a", "", "", "", "c", ""].map(String::from).to_vec(),
        meta,
        files,
        code: vec![OwnedCode {
            version: 2,
            name: "f".into(),
            up: code_fn,
            down: None,
        }],
    };
    assert_eq!(check_owned(&rows), Ok(()));
    let set = Migrations {
        set: Cow::Borrowed("default"),
        rows: Rows::Owned(Arc::new(rows)),
        final_schema: None,
        sqlite_version: None,
        repeatables: Cow::Borrowed(&[]),
        repeat_digest: None,
        requires_sets: true,
    };
    let mut it = set.iter();
    assert_eq!(it.len(), 3);
    assert_eq!(it.next().map(|m| m.name()), Some("a"));
    assert_eq!(it.next_back().map(|m| m.name()), Some("c"));
    assert_eq!(it.len(), 1);
    let code = it.next().unwrap();
    assert!(code.is_code() && code.name() == "f" && code.up_sql().is_none());
    assert!(it.next().is_none() && it.next_back().is_none());
    assert_eq!(set.iter().rev().map(|m| m.version()).collect::<Vec<_>>(), [3, 2, 1]);
}
