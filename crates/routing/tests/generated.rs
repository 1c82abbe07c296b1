//! Generated files that are committed: the benchmark bot
//! (`fixtures/bench-500-nodes.json`) and, with the `schema` feature, the
//! JSON Schema of the definition format (`bot-definition.schema.json`).
//!
//! Each test fails when its file is stale; run
//! `ROUTING_UPDATE_FIXTURES=1 cargo test -p routing --all-features --test generated`
//! to rewrite them.

// Test helpers outside #[test] functions unwrap too; a panic is a failure.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

fn crate_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn check_or_write(path: PathBuf, expected: &str) {
    if std::env::var("ROUTING_UPDATE_FIXTURES").is_ok_and(|value| value == "1") {
        std::fs::write(&path, expected).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == expected,
        "{} is stale: run ROUTING_UPDATE_FIXTURES=1 cargo test -p routing --all-features --test generated",
        path.display()
    );
}

#[test]
fn the_benchmark_bot_fixture_is_up_to_date() {
    let definition = routing::bench_support::bench_definition();
    let text = serde_json::to_string_pretty(&definition).unwrap() + "\n";
    check_or_write(crate_dir().join("fixtures/bench-500-nodes.json"), &text);
    let bot = routing::CompiledBot::compile(&definition).unwrap();
    assert_eq!(bot.definition().nodes.len(), 500);
    assert_eq!(bot.definition().triggers.len(), 200);
}

#[cfg(feature = "schema")]
#[test]
fn the_json_schema_is_up_to_date() {
    let schema = schemars::schema_for!(routing::BotDefinition);
    let text = serde_json::to_string_pretty(&schema).unwrap() + "\n";
    check_or_write(crate_dir().join("bot-definition.schema.json"), &text);
}
