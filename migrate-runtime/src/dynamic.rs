//! Sets built at run time (the CLI, tests): from loaded sources, and the table builder `from_dir.rs` shares.

use crate::table::{CodeError, CodeFn, Migrations, OwnedCode, OwnedRows, Rows};
use litemigrate_core::Checksum;
use litemigrate_core::MigrationSource;
use litemigrate_core::layout;
use std::borrow::Cow;
use std::sync::Arc;

fn unavailable(_: &rusqlite::Transaction<'_>) -> Result<(), CodeError> {
    Err("this Rust-code migration has no function in a set loaded at run time (see Migrations::set_code)".into())
}

/// Builds the flat pieces of a [`Migrations`] table (see `table`'s module docs) from run-time data, owned by the
/// set it becomes.
#[derive(Default)]
pub(crate) struct Builder {
    rows: OwnedRows,
}

impl Builder {
    pub(crate) fn push(
        &mut self,
        s: MigrationSource,
        up_sql: String,
        down_sql: Option<String>,
        schema_hash: Option<Checksum>,
    ) {
        let flags = layout::flags_of(&s, s.down.is_some(), schema_hash.is_some());
        let hash = schema_hash.unwrap_or_default();
        let rows = &mut self.rows;
        layout::push(
            &mut rows.meta,
            &mut rows.files,
            s.version,
            flags,
            &s.up.path,
            [&s.checksum, &s.chain, &hash],
        );
        if s.code {
            rows.code.push(OwnedCode {
                version: s.version,
                down: s.down.as_ref().map(|_| unavailable as CodeFn),
                name: s.name,
                up: unavailable,
            });
            rows.sql.extend([String::new(), String::new()]);
        } else {
            rows.sql.push(up_sql);
            rows.sql.push(down_sql.unwrap_or_default());
        }
    }

    pub(crate) fn build(
        self,
        set_name: &str,
        final_schema: Option<String>,
        sqlite_version: Option<String>,
    ) -> Migrations {
        // Rows are pushed in version order (the callers sort), each with its file name range and, for a code row,
        // its code entry, so the table invariant holds by construction.
        debug_assert_eq!(crate::table::check_owned(&self.rows), Ok(()));
        Migrations {
            set: Cow::Owned(set_name.to_owned()),
            rows: Rows::Owned(Arc::new(self.rows)),
            final_schema: final_schema.map(Cow::Owned),
            sqlite_version: sqlite_version.map(Cow::Owned),
            repeatables: Cow::Borrowed(&[]),
            repeat_digest: None,
            requires_sets: true,
        }
    }
}

impl Migrations {
    /// A set from loaded (not compiled) sources: the SQL runs as written, and there are no schema hashes, so
    /// `verify` and `baseline` cannot compare schemas. Rust-code migrations get a function that fails until
    /// [`Migrations::set_code`] provides the real one.
    ///
    /// ```
    /// use litemigrate_core::load::{load_files, Entry, SourceFile};
    /// let file = SourceFile {
    ///     file_name: "1_a.sql".into(),
    ///     display: "migrations/1_a.sql".into(),
    ///     contents: Entry::File(b"CREATE TABLE a(x);".to_vec()),
    /// };
    /// let set = litemigrate_runtime::Migrations::from_sources("default", load_files(vec![file]).unwrap());
    /// let mut conn = rusqlite::Connection::open_in_memory().unwrap();
    /// set.migrate(&mut conn).unwrap();
    /// assert!(set.status(&conn).unwrap().is_up_to_date());
    /// ```
    pub fn from_sources(set_name: &str, mut sources: Vec<MigrationSource>) -> Migrations {
        // `load_files` returns them sorted; a hand-made list may not be, and lookup is a binary search.
        sources.sort_by_key(|s| s.version);
        let mut b = Builder::default();
        for s in sources {
            let up = s.up.sql.clone();
            let down = s.down.as_ref().map(|d| d.sql.clone());
            b.push(s, up, down, None);
        }
        b.build(set_name, None, None)
    }

    /// The same set with these repeatable migrations (from `litemigrate_core::repeatable::load_repeatables`,
    /// already checked with `litemigrate_core::repeatable::check`).
    pub fn with_repeatables(mut self, repeatables: Vec<litemigrate_core::repeatable::Repeatable>) -> Migrations {
        let mut list: Vec<crate::repeat::Repeatable> = repeatables
            .into_iter()
            .map(crate::repeat::Repeatable::from_loaded)
            .collect();
        list.sort_by(|a, b| a.name().cmp(b.name()));
        let named: Vec<(&str, Checksum)> = list.iter().map(|r| (r.name(), r.checksum())).collect();
        self.repeat_digest = litemigrate_core::repeatable::digest(&named);
        self.repeatables = Cow::Owned(list);
        self
    }

    /// The same set under another set name.
    pub fn with_set_name(mut self, set_name: &str) -> Migrations {
        self.set = Cow::Owned(set_name.to_owned());
        self
    }

    /// Provides the functions of a Rust-code migration. Returns `false` (and changes nothing) when `version` is not
    /// a Rust-code migration of the set. Meant for sets built at run time, whose code migrations have no function
    /// until given one; on a clone of an embedded set it works too, by first copying the table into the clone.
    pub fn set_code(&mut self, version: u64, up: CodeFn, down: Option<CodeFn>) -> bool {
        let Some(i) = self.code_index(version) else {
            return false;
        };
        if let Rows::Static { sql, meta, files, code } = &self.rows {
            let owned = OwnedRows {
                sql: sql.iter().map(|s| (*s).to_owned()).collect(),
                meta: meta.to_vec(),
                files: (*files).to_owned(),
                code: code
                    .iter()
                    .map(|c| OwnedCode {
                        version: c.version,
                        name: c.name.to_owned(),
                        up: c.up,
                        down: c.down,
                    })
                    .collect(),
            };
            self.rows = Rows::Owned(Arc::new(owned));
        }
        if let Rows::Owned(rows) = &mut self.rows {
            // Shared with clones of this set: copied first if it is (the clones keep the old functions).
            let code = &mut Arc::make_mut(rows).code[i];
            code.up = up;
            code.down = down;
        }
        true
    }

    /// The position of `version`'s entry in the code table.
    fn code_index(&self, version: u64) -> Option<usize> {
        match &self.rows {
            Rows::Static { code, .. } => code.binary_search_by_key(&version, |c| c.version).ok(),
            Rows::Owned(rows) => rows.code.binary_search_by_key(&version, |c| c.version).ok(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use litemigrate_core::load::{Entry, SourceFile, load_files};

    fn sources() -> Vec<MigrationSource> {
        let file = |name: &str, sql: &str| SourceFile {
            file_name: name.into(),
            display: format!("migrations/{name}"),
            contents: Entry::File(sql.as_bytes().to_vec()),
        };
        load_files(vec![
            file("1_a.sql", "CREATE TABLE a(x);"),
            file("2_b.sql", "CREATE TABLE b(x);"),
        ])
        .unwrap()
    }

    /// A hand-made list in the wrong order still makes a table the decoder and the binary search can trust.
    #[test]
    fn sources_out_of_order_are_sorted_into_a_valid_table() {
        let mut reversed = sources();
        reversed.reverse();
        let set = Migrations::from_sources("default", reversed);
        let Rows::Owned(rows) = &set.rows else {
            panic!("a run-time set owns its rows")
        };
        assert_eq!(crate::table::check_owned(rows), Ok(()));
        assert_eq!(set.iter().map(|m| m.version()).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(set.get(2).map(|m| m.name()), Some("b"));
    }

    /// Clones share the rows; `set_code` copies them first, so the clone keeps what it had.
    #[test]
    fn set_code_does_not_reach_into_clones() {
        fn up(_: &rusqlite::Transaction<'_>) -> Result<(), CodeError> {
            Ok(())
        }
        let mut with_code = sources();
        let code = litemigrate_core::CodeMigration {
            version: 3,
            name: "c".into(),
            path: "app::c".into(),
            reversible: false,
        };
        litemigrate_core::load::add_code_migrations(&mut with_code, &[code]).unwrap();
        let mut set = Migrations::from_sources("default", with_code);
        let before = set.clone();
        assert!(set.set_code(3, up, None) && !set.set_code(1, up, None));
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        let tx = conn.transaction().unwrap();
        let run = |s: &Migrations| match s.get(3).unwrap().up() {
            crate::Up::Code(f) => f(&tx).is_ok(),
            crate::Up::Sql(_) => panic!("a code migration"),
        };
        assert!(run(&set) && !run(&before));
    }
}
