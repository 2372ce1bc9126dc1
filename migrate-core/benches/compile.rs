//! `compile()` of 2000 small reversible migrations with everything on (SQL validation, schema hashes, down proof):
//! what `embed_migrations!` adds to a build of a large project. Run with
//! `cargo bench -p litemigrate-core --features bundled --bench compile`.
//!
//! This measures the optimized build. The proc macro runs unoptimized (opt-level 0, bundled SQLite at -O0); for
//! that number run the ignored test: `cargo test -p litemigrate-core --features bundled --lib perf_2000 -- --ignored
//! --nocapture`.

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use litemigrate_core::compile::{Analysis, CompileOptions, compile, compile_with};
use litemigrate_core::load::{Entry, MigrationSource, SourceFile, load_files};
use std::hint::black_box;
use std::time::Duration;

fn migrations(n: usize) -> Vec<MigrationSource> {
    let file = |name: String, sql: String| SourceFile {
        display: format!("migrations/{name}"),
        file_name: name,
        contents: Entry::File(sql.into_bytes()),
    };
    let mut files = Vec::with_capacity(2 * n);
    for i in 1..=n {
        files.push(file(
            format!("{i:04}_t{i}.up.sql"),
            format!(
                "CREATE TABLE t_{i}(id INTEGER PRIMARY KEY, name TEXT NOT NULL, created_at TEXT);\n\
                 CREATE INDEX t_{i}_name ON t_{i}(name);\n"
            ),
        ));
        files.push(file(format!("{i:04}_t{i}.down.sql"), format!("DROP TABLE t_{i};\n")));
    }
    match load_files(files) {
        Ok(set) => set,
        Err(e) => panic!("benchmark migrations do not load: {e}"),
    }
}

fn bench(c: &mut Criterion) {
    let set = migrations(2000);
    let mut group = c.benchmark_group("compile");
    group.sample_size(10).measurement_time(Duration::from_secs(20));
    group.bench_function("2000 migrations, all checks", |b| {
        b.iter_batched(
            || set.clone(),
            |set| black_box(compile(set, &CompileOptions::default())),
            BatchSize::PerIteration,
        )
    });
    // The generated rows and their checks, side by side with the line above: the same validation on empty tables.
    group.bench_function("2000 migrations, all checks, no rows", |b| {
        let no_rows = Analysis {
            generate: false,
            ..Analysis::default()
        };
        b.iter_batched(
            || set.clone(),
            |set| black_box(compile_with(set, &CompileOptions::default(), &no_rows)),
            BatchSize::PerIteration,
        )
    });
    group.bench_function("2000 migrations, no SQL", |b| {
        let opts = CompileOptions {
            run_sql: false,
            check_down: false,
            ..CompileOptions::default()
        };
        b.iter_batched(
            || set.clone(),
            |set| black_box(compile(set, &opts)),
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
