//! A Cloud API webhook body (and, read as JSON, a Graph API answer or a
//! number's credentials): parsing must never panic, a body signed with the
//! app secret must verify, and what is parsed keeps its promises.
#![no_main]

use libfuzzer_sys::fuzz_target;
use session_daemon::cloud_webhook::{parse_webhook, sign, signature_is_valid};
use session_daemon::transport::cloud::{classify_graph_error, CloudCredentials};

fuzz_target!(|data: &[u8]| {
    if let Ok(changes) = parse_webhook(data) {
        for change in &changes {
            for message in &change.messages {
                assert!(!message.contact_wa_id.starts_with('+'));
            }
        }
    }

    let signature = sign("app-secret", data);
    assert!(signature_is_valid("app-secret", Some(&signature), data));
    // The body's first line as a (forged) signature header.
    let header = String::from_utf8_lossy(data);
    let header = header.lines().next().unwrap_or_default();
    let _ = signature_is_valid("app-secret", Some(header), data);

    let Ok(answer) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    for status in [200, 400, 429, 500] {
        let _ = classify_graph_error(status, &answer);
    }
    if let Ok(credentials) = CloudCredentials::from_json(&answer, None) {
        assert!(!credentials.phone_number_id.is_empty());
        assert_eq!(
            credentials.phone_number_id.trim(),
            credentials.phone_number_id
        );
        assert!(!credentials.access_token.is_empty());
    }
});
