//! Times `evaluate_all` over the committed 10,000-number sweep.
//!
//! The sweep comes from `health::bench_support`, the same generator that
//! writes `fixtures/bench-10000-snapshots.json` for the Wasm benchmark, so
//! the native and Wasm numbers measure the same work. The budget is 50 ms
//! per sweep in Wasm; natively it should take a few milliseconds.

use criterion::{black_box, criterion_group, criterion_main, Criterion};

fn sweep(criterion: &mut Criterion) {
    let sweep = health::bench_support::bench_sweep();
    criterion.bench_function("evaluate_all over 10,000 snapshots", |bencher| {
        bencher.iter(|| {
            health::evaluate_all(
                black_box(&sweep.snapshots),
                black_box(&sweep.thresholds),
                black_box(sweep.now_ms),
            )
        })
    });
}

criterion_group!(benches, sweep);
criterion_main!(benches);
