//! Routing decisions per second on the generated 500-node, 200-trigger bot
//! (`routing::bench_support`, also stored as `fixtures/bench-500-nodes.json`
//! so the WebAssembly benchmark routes the same bot).
//!
//! `cargo bench -p routing` runs it; one group per kind of message, plus
//! compiling the bot once.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use routing::bench_support::{bench_definition, bench_requests};
use routing::{route, CompiledBot};

fn routing_decisions(criterion: &mut Criterion) {
    let definition = bench_definition();
    let bot = CompiledBot::compile(&definition).expect("the benchmark bot compiles");
    let mut group = criterion.benchmark_group("route_500_nodes_200_triggers");
    group.throughput(Throughput::Elements(1));
    for (name, request) in bench_requests() {
        group.bench_function(name, |bencher| {
            bencher.iter(|| route(&bot, std::hint::black_box(&request)))
        });
    }
    group.finish();
    criterion.bench_function("compile_500_nodes_200_triggers", |bencher| {
        bencher.iter(|| CompiledBot::compile(std::hint::black_box(&definition)))
    });
}

criterion_group!(benches, routing_decisions);
criterion_main!(benches);
