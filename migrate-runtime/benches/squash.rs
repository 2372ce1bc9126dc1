//! Squash at scale: a 2000-migration set squashed at 1900, measured side by side in one run against the unsquashed
//! set — validating the set (what `embed_migrations!` does at build time; optimized here, the macro runs
//! unoptimized) and a fresh database's first migrate — and checked: the schema and rows equal the unsquashed path's,
//! and a database at 1950 continues to 2000. `cargo bench -p litemigrate-runtime --bench squash` prints a table.

use litemigrate_core::compile::{CompileOptions, compile};
use litemigrate_core::load::{MigrationSource, load_in_memory};
use litemigrate_core::squash::generate::squash;
use litemigrate_runtime::{Migrations, Target};
use rusqlite::Connection;
use std::time::{Duration, Instant};

const N: usize = 2000;
const AT: u64 = 1900;
const RUNS: usize = 3;

/// Migration `i` (1-based): tables with reference rows, columns added, indexes, views, in turn.
fn sql(i: usize) -> String {
    let t = i - (i - 1) % 4;
    match (i - 1) % 4 {
        0 => format!(
            "CREATE TABLE t{t}(id INTEGER PRIMARY KEY, a TEXT);\nINSERT INTO t{t}(a) VALUES ('r{i}'), ('s{i}');\n"
        ),
        1 => format!("ALTER TABLE t{t} ADD COLUMN b INTEGER NOT NULL DEFAULT {i};\n"),
        2 => format!("CREATE INDEX t{t}_a ON t{t}(a);\n"),
        _ => format!("CREATE VIEW v{t} AS SELECT id, a, b FROM t{t} WHERE b > 0;\n"),
    }
}

fn sources(files: &[(String, String)]) -> Vec<MigrationSource> {
    let pairs: Vec<(&str, &str)> = files.iter().map(|(n, s)| (n.as_str(), s.as_str())).collect();
    load_in_memory("migrations", &pairs).unwrap()
}

fn median(mut d: Vec<Duration>) -> Duration {
    d.sort();
    d[d.len() / 2]
}

fn time<T>(mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut out = None;
    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let start = Instant::now();
        out = Some(f());
        times.push(start.elapsed());
    }
    (median(times), out.expect("ran")) // invariant: RUNS > 0, so `f` ran.
}

fn dump(conn: &Connection) -> Vec<String> {
    let mut out: Vec<String> = conn
        .prepare("SELECT type || ' ' || name || ' ' || coalesce(sql, '') FROM sqlite_schema WHERE name NOT LIKE '\\_migrations%' ESCAPE '\\' ORDER BY 1")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for i in (1..=N).step_by(4) {
        let rows: Vec<String> = conn
            .prepare(&format!("SELECT id || a || b FROM t{i} ORDER BY id"))
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        out.extend(rows);
    }
    out
}

fn main() {
    let old: Vec<(String, String)> = (1..=N).map(|i| (format!("{i:04}_m.sql"), sql(i))).collect();
    let opts = CompileOptions::default();
    let compiled_old = compile(sources(&old), &opts).unwrap();
    let start = Instant::now();
    let s = squash(&compiled_old, AT).unwrap();
    let generate = start.elapsed();
    let mut new = vec![(s.file_name.clone(), s.text.clone())];
    new.extend(old.iter().skip(AT as usize).cloned());

    // Side by side, alternating, in one run.
    let (compile_old, c_old) = time(|| compile(sources(&old), &opts).unwrap());
    let (compile_new, c_new) = time(|| compile(sources(&new), &opts).unwrap());
    let (set_old, set_new) = (
        Migrations::from_compiled("default", c_old),
        Migrations::from_compiled("default", c_new),
    );
    let fresh = |set: &Migrations| {
        let mut conn = Connection::open_in_memory().unwrap();
        set.migrate(&mut conn).unwrap();
        conn
    };
    let (apply_old, db_old) = time(|| fresh(&set_old));
    let (apply_new, db_new) = time(|| fresh(&set_new));

    // What the numbers are worth: both paths end in the same place.
    assert_eq!(dump(&db_old), dump(&db_new), "the squashed path's schema and rows");
    let mut at_1950 = Connection::open_in_memory().unwrap();
    set_old
        .migrator()
        .target(Target::Version(1950))
        .run(&mut at_1950)
        .unwrap();
    let report = set_new.migrate(&mut at_1950).unwrap();
    assert_eq!(report.applied.len(), 50);
    assert_eq!(dump(&at_1950), dump(&db_old), "a database at 1950 continued to 2000");

    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "squash of {N} migrations at {AT} ({} bytes, generated in {:.1} ms); median of {RUNS} runs",
        s.text.len(),
        ms(generate)
    );
    println!("| | {N} files | squash + {} files | ratio |", N - AT as usize);
    println!("|---|---:|---:|---:|");
    for (what, a, b) in [
        ("validate the set (compile)", compile_old, compile_new),
        ("fresh database, first migrate", apply_old, apply_new),
    ] {
        println!("| {what} | {:.1} ms | {:.1} ms | {:.1}× |", ms(a), ms(b), ms(a) / ms(b));
    }
    println!("checked: same schema and rows on both paths; a database at 1950 continued to {N} (50 applied)");
}
