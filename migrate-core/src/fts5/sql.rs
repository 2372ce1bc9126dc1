//! The SQL an FTS5 declaration generates: the table, its sync triggers, the first fill, and their reverse. Every
//! name goes through [`quote_ident`](crate::sql::quote_ident) and every value through
//! [`quote_str`](crate::sql::quote_str); the declaration is validated first, so nothing that cannot work is
//! generated.

use super::{Fts5Error, Fts5Index, Kind};
use crate::sql::{quote_ident as qi, quote_str as qs};
use std::fmt::Write as _;

impl Fts5Index {
    /// `CREATE VIRTUAL TABLE … USING fts5(…)`.
    pub fn create_sql(&self) -> Result<String, Fts5Error> {
        self.validate()?;
        let mut args: Vec<String> = self
            .columns
            .iter()
            .map(|c| {
                if self.unindexed.iter().any(|u| u.eq_ignore_ascii_case(c)) {
                    format!("{} UNINDEXED", qi(c))
                } else {
                    qi(c)
                }
            })
            .collect();
        match self.kind {
            Kind::External => {
                // validate() proved both are set for an external index.
                if let (Some(t), Some(r)) = (&self.table, &self.rowid) {
                    args.push(format!("content={}", qs(t)));
                    args.push(format!("content_rowid={}", qs(r)));
                }
            }
            Kind::ContentlessDelete => args.push("content='', contentless_delete=1".into()),
            Kind::Standalone => {}
        }
        if let Some(t) = &self.tokenize {
            args.push(format!("tokenize={}", qs(t)));
        }
        if !self.prefix.is_empty() {
            let p: Vec<String> = self.prefix.iter().map(u16::to_string).collect();
            args.push(format!("prefix={}", qs(&p.join(" "))));
        }
        if let Some(d) = self.detail {
            args.push(format!("detail={}", d.as_str()));
        }
        Ok(format!(
            "CREATE VIRTUAL TABLE {} USING fts5({});\n",
            qi(&self.name),
            args.join(", ")
        ))
    }

    /// The three sync triggers (empty for a contentless-delete index without [`sync_from`](Self::sync_from)).
    pub fn triggers_sql(&self) -> Result<String, Fts5Error> {
        self.validate()?;
        let (Some(table), Some(rowid)) = (&self.table, &self.rowid) else {
            return Ok(String::new());
        };
        let idx = qi(&self.name);
        let cols: Vec<String> = self.columns.iter().map(|c| qi(c)).collect();
        let cols = cols.join(", ");
        let values = |row: &str| {
            let mut v = vec![format!("{row}.{}", qi(rowid))];
            v.extend(self.columns.iter().map(|c| format!("{row}.{}", qi(c))));
            v.join(", ")
        };
        let insert = format!("  INSERT INTO {idx}(rowid, {cols}) VALUES ({});\n", values("new"));
        let delete = match self.kind {
            Kind::External => format!(
                "  INSERT INTO {idx}({idx}, rowid, {cols}) VALUES ('delete', {});\n",
                values("old")
            ),
            Kind::ContentlessDelete | Kind::Standalone => {
                format!("  DELETE FROM {idx} WHERE rowid = old.{};\n", qi(rowid))
            }
        };
        let [ai, ad, au] = self.trigger_names().map(|n| qi(&n));
        let table = qi(table);
        Ok(format!(
            "CREATE TRIGGER {ai} AFTER INSERT ON {table} BEGIN\n{insert}END;\n\
             CREATE TRIGGER {ad} AFTER DELETE ON {table} BEGIN\n{delete}END;\n\
             CREATE TRIGGER {au} AFTER UPDATE ON {table} BEGIN\n{delete}{insert}END;\n"
        ))
    }

    /// Indexes the rows that already exist: the `'rebuild'` command for an external-content index, an
    /// `INSERT … SELECT` from the source table for a synced contentless-delete index (empty otherwise).
    pub fn rebuild_sql(&self) -> Result<String, Fts5Error> {
        self.validate()?;
        let idx = qi(&self.name);
        Ok(match (self.kind, &self.table, &self.rowid) {
            (Kind::External, _, _) => format!("INSERT INTO {idx}({idx}) VALUES ('rebuild');\n"),
            (Kind::ContentlessDelete, Some(t), Some(r)) => {
                let cols: Vec<String> = self.columns.iter().map(|c| qi(c)).collect();
                let cols = cols.join(", ");
                format!(
                    "INSERT INTO {idx}(rowid, {cols}) SELECT {}, {cols} FROM {};\n",
                    qi(r),
                    qi(t)
                )
            }
            (Kind::ContentlessDelete | Kind::Standalone, _, _) => String::new(),
        })
    }

    /// Everything an up migration runs: create, triggers, then index the existing rows.
    pub fn up_sql(&self) -> Result<String, Fts5Error> {
        Ok(self.create_sql()? + &self.triggers_sql()? + &self.rebuild_sql()?)
    }

    /// Drops the sync triggers (`IF EXISTS`: a table rebuild or a hand edit may have removed them already).
    pub fn drop_triggers_sql(&self) -> Result<String, Fts5Error> {
        self.validate()?;
        let mut out = String::new();
        for t in self.trigger_names().iter().rev() {
            let _ = writeln!(out, "DROP TRIGGER IF EXISTS {};", qi(t));
        }
        Ok(out)
    }

    /// The reverse of [`up_sql`](Self::up_sql): drop the triggers, then the index.
    pub fn drop_sql(&self) -> Result<String, Fts5Error> {
        self.validate()?;
        let mut out = String::new();
        if self.table.is_some() {
            for t in self.trigger_names().iter().rev() {
                let _ = writeln!(out, "DROP TRIGGER {};", qi(t));
            }
        }
        let _ = writeln!(out, "DROP TABLE {};", qi(&self.name));
        Ok(out)
    }

    /// Drops and recreates the sync triggers, then re-indexes every row: repairs an index whose triggers refer to
    /// columns that no longer exist or were lost with a rebuilt content table.
    pub fn resync_sql(&self) -> Result<String, Fts5Error> {
        let refill = match self.kind {
            Kind::External => self.rebuild_sql()?,
            Kind::ContentlessDelete if self.table.is_some() => {
                let idx = qi(&self.name);
                format!(
                    "INSERT INTO {idx}({idx}) VALUES ('delete-all');\n{}",
                    self.rebuild_sql()?
                )
            }
            Kind::ContentlessDelete | Kind::Standalone => String::new(),
        };
        Ok(self.drop_triggers_sql()? + &self.triggers_sql()? + &refill)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fts5::Detail;

    use crate::fts5::tests::knowledge;

    // Pinned text, backed by the behavioural tests in tests/fts5_behaviour.rs that run it.
    #[test]
    fn external_sql_text() {
        let idx = knowledge();
        assert_eq!(
            idx.create_sql().unwrap(),
            "CREATE VIRTUAL TABLE \"knowledge_fts\" USING fts5(\"title\", \"content\", content='knowledge_entries', \
             content_rowid='id', tokenize='porter unicode61');\n"
        );
        assert_eq!(
            idx.triggers_sql().unwrap(),
            "CREATE TRIGGER \"knowledge_fts_ai\" AFTER INSERT ON \"knowledge_entries\" BEGIN\n  \
             INSERT INTO \"knowledge_fts\"(rowid, \"title\", \"content\") VALUES (new.\"id\", new.\"title\", new.\"content\");\nEND;\n\
             CREATE TRIGGER \"knowledge_fts_ad\" AFTER DELETE ON \"knowledge_entries\" BEGIN\n  \
             INSERT INTO \"knowledge_fts\"(\"knowledge_fts\", rowid, \"title\", \"content\") VALUES ('delete', old.\"id\", old.\"title\", old.\"content\");\nEND;\n\
             CREATE TRIGGER \"knowledge_fts_au\" AFTER UPDATE ON \"knowledge_entries\" BEGIN\n  \
             INSERT INTO \"knowledge_fts\"(\"knowledge_fts\", rowid, \"title\", \"content\") VALUES ('delete', old.\"id\", old.\"title\", old.\"content\");\n  \
             INSERT INTO \"knowledge_fts\"(rowid, \"title\", \"content\") VALUES (new.\"id\", new.\"title\", new.\"content\");\nEND;\n"
        );
        assert_eq!(
            idx.rebuild_sql().unwrap(),
            "INSERT INTO \"knowledge_fts\"(\"knowledge_fts\") VALUES ('rebuild');\n"
        );
        assert_eq!(
            idx.drop_sql().unwrap(),
            "DROP TRIGGER \"knowledge_fts_au\";\nDROP TRIGGER \"knowledge_fts_ad\";\nDROP TRIGGER \"knowledge_fts_ai\";\n\
             DROP TABLE \"knowledge_fts\";\n"
        );
    }

    #[test]
    fn options_text() {
        let sql = Fts5Index::external("f", "t")
            .rowid("id")
            .columns(["a", "b"])
            .unindexed(["b"])
            .prefix([2, 3])
            .detail(Detail::Column)
            .tokenize("unicode61 tokenchars '-'")
            .create_sql()
            .unwrap();
        assert!(sql.contains("\"b\" UNINDEXED"), "{sql}");
        assert!(sql.contains("prefix='2 3'") && sql.contains("detail=column"), "{sql}");
        assert!(sql.contains("tokenize='unicode61 tokenchars ''-'''"), "{sql}");
    }
}
