// This file is the parent module's `#[cfg(test)] mod tests;`: test code only.
#[cfg(test)]
use super::*;
use rusqlite::Connection;

fn db(sql: &str) -> Connection {
    let c = Connection::open_in_memory().unwrap();
    c.execute_batch(sql).unwrap();
    c
}

fn schema(sql: &str) -> Schema {
    Schema::read(&db(sql)).unwrap()
}

/// Asserts the schemas differ, that the difference shows in the diff, and in the hash.
fn assert_differs(a: &str, b: &str, expect_in_diff: &str) {
    let (sa, sb) = (schema(a), schema(b));
    let d = sa.diff(&sb);
    assert!(!d.is_empty(), "{a} vs {b}");
    assert_ne!(sa.hash(), sb.hash());
    assert!(d.to_string().contains(expect_in_diff), "diff of {a} vs {b}:\n{d}");
}

#[test]
fn describes_tables_columns_and_indexes() {
    let s = schema(
        "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT NOT NULL DEFAULT 'x' UNIQUE, deleted_at TEXT);
         CREATE INDEX users_live ON users(email DESC) WHERE deleted_at IS NULL;",
    );
    let text = s.to_text();
    assert_eq!(
        text,
        "column \"users\".\"deleted_at\" pos=2 type=\"TEXT\" pk=0\n\
         column \"users\".\"email\" pos=1 type=\"TEXT\" notnull default=\"'x'\" pk=0\n\
         column \"users\".\"id\" pos=0 type=\"INTEGER\" pk=1\n\
         index \"users_live\" on \"users\"(\"email\" desc) where=\"deleted_at is null\"\n\
         table \"users\"\n\
         unique \"users\"(\"email\")\n"
    );
    assert_eq!(s.len(), 2);
    assert_eq!(s.get(ObjectKind::Table, "users").unwrap().lines().len(), 5);
}

#[test]
fn add_then_drop_column_is_the_same_table() {
    let before = "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT NOT NULL);
                  CREATE INDEX t_name ON t(name);
                  CREATE TRIGGER t_ai AFTER INSERT ON t BEGIN UPDATE t SET name = name WHERE id = new.id; END;";
    let c = db(before);
    let original = Schema::read(&c).unwrap();
    c.execute_batch("ALTER TABLE t ADD COLUMN tmp INTEGER DEFAULT 3")
        .unwrap();
    let added = Schema::read(&c).unwrap();
    let d = added.diff(&original);
    assert_eq!(d.missing, Vec::<String>::new());
    assert_eq!(
        d.unexpected,
        ["column \"t\".\"tmp\" pos=2 type=\"INTEGER\" default=\"3\" pk=0"]
    );
    c.execute_batch("ALTER TABLE t DROP COLUMN tmp").unwrap();
    let sql: String = c
        .query_row("SELECT sql FROM sqlite_master WHERE name = 't'", [], |r| r.get(0))
        .unwrap();
    let after = Schema::read(&c).unwrap();
    assert!(after.diff(&original).is_empty(), "{}", after.diff(&original));
    assert_eq!(after.hash(), original.hash());
    // Renames rewrite the stored SQL of dependents; renaming back compares equal again.
    c.execute_batch("ALTER TABLE t RENAME COLUMN name TO n2; ALTER TABLE t RENAME COLUMN n2 TO name;")
        .unwrap();
    c.execute_batch("ALTER TABLE t RENAME TO t2; ALTER TABLE t2 RENAME TO t;")
        .unwrap();
    let sql2: String = c
        .query_row("SELECT sql FROM sqlite_master WHERE name = 't'", [], |r| r.get(0))
        .unwrap();
    assert_ne!(
        sql, sql2,
        "SQLite did not rewrite the table, so this test shows nothing"
    );
    let renamed = Schema::read(&c).unwrap();
    assert!(renamed.diff(&original).is_empty(), "{}", renamed.diff(&original));
    assert_eq!(renamed.hash(), original.hash());
}

#[test]
fn detects_each_structural_difference() {
    assert_differs(
        "CREATE TABLE t(a TEXT)",
        "CREATE TABLE t(a INTEGER)",
        "type=\"INTEGER\"",
    );
    assert_differs("CREATE TABLE t(a TEXT)", "CREATE TABLE t(a TEXT NOT NULL)", "notnull");
    assert_differs(
        "CREATE TABLE t(a TEXT DEFAULT 'x')",
        "CREATE TABLE t(a TEXT DEFAULT 'y')",
        "'y'",
    );
    assert_differs(
        "CREATE TABLE t(a TEXT)",
        "CREATE TABLE t(a TEXT DEFAULT NULL)",
        "default=\"null\"",
    );
    assert_differs(
        "CREATE TABLE t(a INT, b INT)",
        "CREATE TABLE t(a INT PRIMARY KEY, b INT)",
        "pk=1",
    );
    assert_differs(
        "CREATE TABLE t(a INT, b INT, PRIMARY KEY(a, b))",
        "CREATE TABLE t(a INT, b INT, PRIMARY KEY(b, a))",
        "pk=2",
    );
    assert_differs(
        "CREATE TABLE t(a INT); CREATE INDEX i ON t(a)",
        "CREATE TABLE t(a INT); CREATE UNIQUE INDEX i ON t(a)",
        "unique",
    );
    assert_differs(
        "CREATE TABLE t(a INT); CREATE INDEX i ON t(a) WHERE a > 0",
        "CREATE TABLE t(a INT); CREATE INDEX i ON t(a) WHERE a > 1",
        "where=\"a > 1\"",
    );
    assert_differs(
        "CREATE TABLE t(a INT); CREATE INDEX i ON t(a)",
        "CREATE TABLE t(a INT); CREATE INDEX i ON t(a) WHERE a > 1",
        "where",
    );
    assert_differs(
        "CREATE TABLE t(a INT, b INT); CREATE INDEX i ON t(a, b)",
        "CREATE TABLE t(a INT, b INT); CREATE INDEX i ON t(b, a)",
        "(\"b\", \"a\")",
    );
    assert_differs(
        "CREATE TABLE t(a INT)",
        "CREATE TABLE t(a INT UNIQUE)",
        "unique \"t\"(\"a\")",
    );
    assert_differs(
        "CREATE TABLE t(a INT CHECK (a > 0))",
        "CREATE TABLE t(a INT CHECK (a > 1))",
        "check \"t\" \"a > 1\"",
    );
    assert_differs(
        "CREATE TABLE t(a TEXT)",
        "CREATE TABLE t(a TEXT COLLATE NOCASE)",
        "collate=\"nocase\"",
    );
    assert_differs("CREATE TABLE t(a INT) STRICT", "CREATE TABLE t(a INT)", "table \"t\"");
    assert_differs(
        "CREATE TABLE t(a INTEGER PRIMARY KEY)",
        "CREATE TABLE t(a INTEGER PRIMARY KEY AUTOINCREMENT)",
        "table \"t\" autoincrement",
    );
    assert_differs(
        "CREATE TABLE p(id INTEGER PRIMARY KEY); CREATE TABLE c(p INT REFERENCES p(id))",
        "CREATE TABLE p(id INTEGER PRIMARY KEY); CREATE TABLE c(p INT REFERENCES p(id) ON DELETE CASCADE)",
        "on-delete=\"CASCADE\"",
    );
    assert_differs(
        "CREATE VIEW v AS SELECT 1 AS x",
        "CREATE VIEW v AS SELECT 2 AS x",
        "select 2 as x",
    );
    assert_differs(
        "CREATE TABLE t(a INT)",
        "CREATE TABLE t(a INT, b AS (a + 1))",
        "as=\"a + 1\"",
    );
}

#[test]
fn spelling_does_not_matter() {
    let a = schema(
        "CREATE TABLE t(a INT, b TEXT); CREATE INDEX i ON t(a) WHERE b IS NULL;
         CREATE VIEW v AS SELECT a FROM t WHERE b = 'X';
         CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; END;",
    );
    let b = schema(
        "create table \"t\" ( \"a\"   INT ,[b] TEXT ) ; create index I on T(A) where B is null;
         CREATE VIEW \"v\" AS /* c */ SELECT \"a\" FROM t WHERE b='X';
         CREATE TRIGGER tr AFTER INSERT ON t BEGIN\n  SELECT 1;\nEND;",
    );
    // Names keep their stored spelling: only the index name differs in case.
    let d = a.diff(&b);
    assert_eq!(d.missing, ["index \"I\" on \"t\"(\"a\") where=\"b is null\""]);
    assert_eq!(d.unexpected, ["index \"i\" on \"t\"(\"a\") where=\"b is null\""]);
    // String literals keep their case.
    assert_differs(
        "CREATE VIEW v AS SELECT 'a' AS x",
        "CREATE VIEW v AS SELECT 'A' AS x",
        "'A'",
    );
}

#[test]
fn odd_schemas_do_not_break_it() {
    let s = schema(
        "CREATE TABLE \"we\"\"ird \n name\"(\"col \"\"q\"\"\" TEXT, [x y] INT, id INT PRIMARY KEY) WITHOUT ROWID;
         CREATE TABLE g(a INT, b INT GENERATED ALWAYS AS (a * 2) STORED, c AS (a || 'x'));
         CREATE INDEX gi ON g(a + b, lower(c) COLLATE NOCASE DESC, a);
         CREATE VIEW broken AS SELECT * FROM missing_table;
         CREATE TABLE weird_types(a, b VARCHAR(10), c \"custom type\");",
    );
    let text = s.to_text();
    assert!(text.contains("table \"we\\\"ird \\n name\" without-rowid\n"), "{text}");
    assert!(
        text.contains("column \"we\\\"ird \\n name\".\"col \\\"q\\\"\" pos=0"),
        "{text}"
    );
    assert!(
        text.contains("column \"g\".\"b\" pos=1 type=\"INT\" pk=0 generated=stored as=\"a * 2\""),
        "{text}"
    );
    assert!(
        text.contains("column \"g\".\"c\" pos=2 type=\"\" pk=0 generated=virtual as=\"a || 'x'\""),
        "{text}"
    );
    assert!(
        text.contains("index \"gi\" on \"g\"(expr=\"a + b\", expr=\"lower(c)\" desc collate=\"nocase\", \"a\")"),
        "{text}"
    );
    assert!(
        text.contains("view \"broken\" sql=\"create view broken as select * from missing_table\""),
        "{text}"
    );
    let back = Schema::from_text(&text).unwrap();
    assert_eq!(back, s);
    assert_eq!(back.to_text(), text);
    assert_eq!(back.hash(), s.hash());
}

#[test]
fn internal_and_shadow_objects_are_excluded() {
    let s = schema(
        "CREATE VIRTUAL TABLE docs USING fts5(title, body);
         CREATE TABLE seq(id INTEGER PRIMARY KEY AUTOINCREMENT, u TEXT UNIQUE);
         INSERT INTO seq(u) VALUES ('a');
         ANALYZE;",
    );
    let names: Vec<&str> = s.objects().map(Object::name).collect();
    assert_eq!(names, ["seq", "docs"]);
    assert_eq!(s.objects().nth(1).unwrap().kind(), ObjectKind::VirtualTable);
    // The shadow tables exist, they are just not part of the schema.
    let c = db("CREATE VIRTUAL TABLE docs USING fts5(title, body);");
    let n: i64 = c
        .query_row("SELECT count(*) FROM sqlite_master WHERE name LIKE 'docs_%'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(n >= 3);
}

#[test]
fn ignoring_a_table_ignores_its_indexes_and_triggers() {
    let c = db("CREATE TABLE _migrations(v INT); CREATE INDEX _m_v ON _migrations(v);
                CREATE TRIGGER _m_t AFTER INSERT ON _migrations BEGIN SELECT 1; END;
                CREATE TABLE app(x INT);");
    let s = Schema::read_ignoring(&c, &["_MIGRATIONS"]).unwrap();
    assert_eq!(s.objects().map(Object::name).collect::<Vec<_>>(), ["app"]);
    assert_eq!(Schema::read(&c).unwrap().len(), 4);
}

#[test]
fn text_round_trip_and_errors() {
    let s = schema(
        "CREATE TABLE \"a\\b\"(\"tab\tcol\" TEXT DEFAULT 'é\u{1}'); CREATE TRIGGER \"x y\" AFTER DELETE ON \"a\\b\" BEGIN SELECT 1; END;",
    );
    let text = s.to_text();
    assert!(text.contains("\"tab\\tcol\""), "{text}");
    assert!(text.contains("\\u{1}"), "{text}");
    assert_eq!(Schema::from_text(&text).unwrap(), s);
    assert_eq!(Schema::from_text("").unwrap(), Schema::default());
    let e = Schema::from_text("table \"a\"\nbogus \"x\"\n").unwrap_err();
    assert_eq!((e.line, e.message), (2, "unknown fact kind"));
    assert_eq!(
        Schema::from_text("table a").unwrap_err().message,
        "expected a quoted name"
    );
    assert_eq!(
        Schema::from_text("table \"a").unwrap_err().message,
        "expected a quoted name"
    );
    assert_eq!(
        Schema::from_text("table").unwrap_err().message,
        "expected a kind and a quoted name"
    );
}

#[test]
fn diff_display() {
    let a = schema("CREATE TABLE t(a INT, tmp INT)");
    let b = schema("CREATE TABLE t(a INT); CREATE INDEX i ON t(a)");
    assert_eq!(
        a.diff(&b).to_string(),
        "missing: index \"i\" on \"t\"(\"a\")\nunexpected: column \"t\".\"tmp\" pos=1 type=\"INT\" pk=0"
    );
}

#[test]
fn hash_sum_is_order_independent_and_reversible() {
    let hs: Vec<Checksum> = (0..5u8).map(|i| checksum::sha256(&[i])).collect();
    let mut a = HashSum::default();
    let mut b = HashSum::default();
    for h in &hs {
        a.add(h);
    }
    for h in hs.iter().rev() {
        b.add(h);
    }
    assert_eq!(a.finish(), b.finish());
    b.remove(&hs[2]);
    assert_ne!(a.finish(), b.finish());
    b.add(&hs[2]);
    assert_eq!(a, b);
    for h in &hs {
        b.remove(h);
    }
    assert_eq!(b, HashSum::default());
    // Carries: ff…ff + 1 wraps to zero.
    let mut c = HashSum::default();
    c.add(&Checksum([0xff; 32]));
    let mut one = [0u8; 32];
    one[31] = 1;
    c.add(&Checksum(one));
    assert_eq!(c.sum, [0u8; 32]);
    assert_eq!(Schema::default().hash(), HashSum::default().finish());
}

#[test]
fn normalization() {
    assert_eq!(
        normalize_sql("SELECT  a,b FROM \"T\" -- x\n WHERE c>=1e+5"),
        "select a, b from t where c >= 1e+5"
    );
    assert_eq!(normalize_sql("f( x )"), "f(x)");
    assert_eq!(normalize_sql("\"a b\" . [C]"), "\"a b\".c");
    assert_eq!(normalize_sql("x'AB' || 'It''s'"), "x 'AB' || 'It''s'");
    for s in ["'unterminated", "\"x", "[x", "/* x", "é", "((", "))"] {
        let _ = normalize_sql(s);
    }
}
