//! The committed JSON Schema of the message model
//! (`message-content.schema.json`) and limits (`message-limits.json`), from which `scripts/gen-message-types.sh`
//! generates the TypeScript types of the functions and the admin UI.
//!
//! The test fails when the file is stale; run
//! `MESSAGE_MODEL_UPDATE_SCHEMA=1 cargo test -p message-model --all-features --test generated`
//! to rewrite it (then `scripts/gen-message-types.sh`).

// Test helpers outside #[test] functions unwrap too; a panic is a failure.
#![allow(clippy::unwrap_used)]

fn check_or_write(name: &str, value: &serde_json::Value) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(name);
    let text = serde_json::to_string_pretty(value).unwrap() + "\n";
    if std::env::var("MESSAGE_MODEL_UPDATE_SCHEMA").is_ok_and(|value| value == "1") {
        std::fs::write(&path, &text).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == text,
        "{} is stale: run MESSAGE_MODEL_UPDATE_SCHEMA=1 cargo test -p message-model --all-features --test generated, then scripts/gen-message-types.sh",
        path.display()
    );
}

#[cfg(feature = "schema")]
#[test]
fn the_json_schema_is_up_to_date() {
    let schema = schemars::schema_for!(message_model::Content);
    check_or_write(
        "message-content.schema.json",
        &serde_json::to_value(&schema).unwrap(),
    );
}

#[test]
fn the_limits_file_is_up_to_date() {
    check_or_write("message-limits.json", &message_model::limits::as_json());
}
