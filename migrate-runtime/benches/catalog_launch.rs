//! The launch of a five-database catalog with nothing pending (`Databases::migrate_all`: one open and one cheap
//! check per file) against the floor it is held to: five times `Connection::open` + `PRAGMA user_version`.
//! Both run side by side, interleaved in rounds, on the same files. Prints a table; `cargo bench --bench
//! catalog_launch`. The bound: catalog ≤ 1.5 × floor.

use litemigrate_runtime::CompileOptions;
use litemigrate_runtime::catalog::Databases;
use rusqlite::Connection;
use std::path::Path;
use std::time::{Duration, Instant};

const NAMES: [&str; 5] = ["actions", "knowledge", "performance", "tasks", "workflows"];

fn catalog() -> Databases {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/assistant/migrations");
    let cat = Databases::from_dir(root, &CompileOptions::default()).expect("the example compiles");
    let names: Vec<&str> = cat.databases().iter().map(|d| d.name()).collect();
    assert_eq!(names, NAMES);
    cat
}

fn floor(data: &Path) {
    for n in NAMES {
        let c = Connection::open(data.join(format!("{n}.db"))).expect("open");
        let v: i64 = c
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .expect("user_version");
        std::hint::black_box(v);
    }
}

fn time(iters: u32, mut f: impl FnMut()) -> Duration {
    let t = Instant::now();
    for _ in 0..iters {
        f();
    }
    t.elapsed() / iters
}

fn main() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path();
    let cat = catalog();
    let first = cat.migrate_all(data).expect("first launch");
    assert!(!first.is_noop());
    let iters = 400;
    let mut cat_t = Vec::new();
    let mut floor_t = Vec::new();
    for _ in 0..9 {
        floor_t.push(time(iters, || floor(data)));
        cat_t.push(time(iters, || {
            let r = cat.migrate_all(data).expect("launch");
            std::hint::black_box(r.is_noop());
        }));
    }
    cat_t.sort();
    floor_t.sort();
    let (c, f) = (cat_t[cat_t.len() / 2], floor_t[floor_t.len() / 2]);
    println!("| launch, 5 databases, nothing pending | median of 9 rounds × {iters} |");
    println!("|---|---|");
    println!("| 5 × (open + PRAGMA user_version) | {:.1} µs |", f.as_secs_f64() * 1e6);
    println!("| Databases::migrate_all | {:.1} µs |", c.as_secs_f64() * 1e6);
    println!("| ratio | {:.2}× |", c.as_secs_f64() / f.as_secs_f64());
}
