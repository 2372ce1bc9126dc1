//! Criterion benchmarks of the launch check (cold and warm) and of batch apply, at 100 and 2000 migrations.
//! `cargo bench -p litemigrate-runtime --bench runtime`. The side-by-side table with the peers is `--bench launch`.

#[path = "support/mod.rs"]
mod support;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use litemigrate_runtime::Mode;
use rusqlite::Connection;
use support::*;

fn launch(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    for n in [100usize, 2000] {
        let sqls = sqls(n);
        let set = ours(&sqls);
        let db = dir.path().join(format!("l{n}.db"));
        apply_ours(&set, &db, Mode::Batch);
        c.bench_function(&format!("open + PRAGMA user_version ({n})"), |b| {
            b.iter(|| launch_user_version(&db))
        });
        c.bench_function(&format!("open + launch check ({n})"), |b| {
            b.iter(|| launch_ours(&set, &db))
        });
        let mut conn = Connection::open(&db).unwrap();
        first_app_query(&conn);
        c.bench_function(&format!("launch check, open connection ({n})"), |b| {
            b.iter(|| set.migrate(&mut conn).unwrap())
        });
    }
}

fn apply(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let sqls = sqls(100);
    let set = ours(&sqls);
    let mut k = 0;
    let mut g = c.benchmark_group("apply 100");
    g.sample_size(20);
    g.bench_function("migrate batch", |b| {
        b.iter_batched(
            || {
                k += 1;
                dir.path().join(format!("a{k}.db"))
            },
            |p| apply_ours(&set, &p, Mode::Batch),
            BatchSize::PerIteration,
        )
    });
    g.bench_function("raw execute_batch, one transaction", |b| {
        b.iter_batched(
            || {
                k += 1;
                dir.path().join(format!("a{k}.db"))
            },
            |p| apply_raw_batch(&sqls, &p),
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

criterion_group!(benches, launch, apply);
criterion_main!(benches);
