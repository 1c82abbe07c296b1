//! The integration API end to end (issue 14): another system sends through
//! the messaging API (`messages-api`, an API key, through the real gateway),
//! the real daemon sends the message on a simulator line, the line reports
//! it delivered and read, and the `message.sent`, `message.delivered` and
//! `message.read` events reach a receiver through the outbox, the daemon's
//! relay and `webhook-dispatch`, signed per Standard Webhooks and in order.
//!
//! The signatures are checked here with HMAC-SHA256 as the specification
//! writes it; `functions/tests/webhooks_test.ts` checks every event type
//! with the published `standardwebhooks` npm package.
//!
//! Ignored by default; `scripts/test.sh` runs it against the local stack
//! with `--include-ignored`.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::{extract::State, http::HeaderMap, routing::post, Router};
use base64::{engine::general_purpose::STANDARD as BASE64, Engine as _};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use support::{
    connect_database, random_phone_number, stack, wait_for, Daemon, DaemonOptions, DAEMON_TOKEN,
};

/// A request the receiver got: its headers of interest and its body.
#[derive(Clone, Debug)]
struct Received {
    id: String,
    timestamp: String,
    signature: String,
    body: String,
}

type Inbox = Arc<Mutex<Vec<Received>>>;

async fn receive(State(inbox): State<Inbox>, headers: HeaderMap, body: String) -> &'static str {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    inbox.lock().expect("the inbox lock").push(Received {
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
        body,
    });
    "ok"
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[tokio::test]
#[ignore = "needs the local stack: run by scripts/test.sh"]
async fn an_api_send_goes_out_and_its_events_arrive_signed_and_in_order() {
    let stack = stack();
    let database = connect_database(&stack.database_url).await;
    let phone_number = random_phone_number('6');
    let number_id: Uuid = database
        .query_one(
            "insert into public.numbers (phone_number, label, transport)
             values ($1, 'integration API test', 'simulator') returning id",
            &[&phone_number],
        )
        .await
        .expect("insert the number")
        .get(0);
    let mut daemon = Daemon::spawn(&stack, DaemonOptions::holding(&[&phone_number]).relaying());
    daemon.wait_until_answering().await;
    wait_for("the number's session to connect", || async {
        let status: String = database
            .query_one(
                "select session_status from public.numbers where id = $1",
                &[&number_id],
            )
            .await
            .expect("read the number")
            .get(0);
        (status == "connected").then_some(())
    })
    .await;
    // The line reports every message delivered, then read.
    let script = reqwest::Client::new()
        .post(format!(
            "{}/simulator/numbers/{}/script",
            daemon.base_url,
            phone_number.replace('+', "%2B")
        ))
        .bearer_auth(DAEMON_TOKEN)
        .json(&json!({"auto_deliver": true, "auto_read": true}))
        .send()
        .await
        .expect("set the line's script");
    assert!(script.status().is_success(), "{:?}", script.text().await);

    // The receiver, and a subscription to the message statuses of this number.
    let inbox: Inbox = Arc::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the receiver");
    let receiver_url = format!(
        "http://{}/hook",
        listener.local_addr().expect("the receiver's address")
    );
    let app = Router::new()
        .route("/hook", post(receive))
        .with_state(inbox.clone());
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let mut secret_bytes = [0u8; 32];
    secret_bytes[..16].copy_from_slice(Uuid::new_v4().as_bytes());
    secret_bytes[16..].copy_from_slice(Uuid::new_v4().as_bytes());
    let secret = format!("whsec_{}", BASE64.encode(secret_bytes));
    let subscription_id: Uuid = database
        .query_one(
            "insert into public.webhook_subscriptions (name, url, events, number_ids)
             values ('end-to-end', $1, '{message.sent,message.delivered,message.read}', array[$2::uuid])
             returning id",
            &[&receiver_url, &number_id],
        )
        .await
        .expect("subscribe")
        .get(0);
    database
        .execute(
            "insert into private.webhook_secrets (subscription_id, secret) values ($1, $2)",
            &[&subscription_id, &secret],
        )
        .await
        .expect("store the secret");

    // An API key, stored as its SHA-256 like the admin API stores keys.
    let random = hex(Uuid::new_v4().as_bytes()) + &hex(Uuid::new_v4().as_bytes());
    let prefix = format!("wbk_{}", &random[..8]);
    let key = format!("{prefix}_{}", &random[8..56]);
    let key_hash = hex(&Sha256::digest(key.as_bytes()));
    let key_id: Uuid = database
        .query_one(
            "insert into public.api_keys (name, prefix, key_hash, scopes)
             values ('end-to-end', $1, $2, '{messages:send,messages:read}') returning id",
            &[&prefix, &key_hash],
        )
        .await
        .expect("insert the API key")
        .get(0);

    // Send through the messaging API, twice with the same Idempotency-Key.
    let contact = random_phone_number('5');
    let send = || async {
        let response = reqwest::Client::new()
            .post(format!("{}/messages-api/v1/messages", stack.functions_url))
            .bearer_auth(&key)
            .header("idempotency-key", format!("e2e-{key_id}"))
            .json(&json!({
                "number_id": number_id,
                "to": contact,
                "content": {"kind": "text", "text": "Your order has shipped."},
            }))
            .send()
            .await
            .expect("send through the messaging API");
        let status = response.status();
        let body: Value = response.json().await.expect("a JSON answer");
        assert_eq!(status.as_u16(), 202, "{body}");
        body
    };
    let first = send().await;
    let second = send().await;
    assert_eq!(first, second, "the retry answers the first send");
    let message_id = first["id"].as_str().expect("the message id").to_owned();

    let expected = ["message.sent", "message.delivered", "message.read"];
    let events = wait_for("the three status events at the receiver", || async {
        let got = inbox.lock().expect("the inbox lock").clone();
        (got.len() >= expected.len()).then_some(got)
    })
    .await;
    // Nothing more arrives (each event once).
    tokio::time::sleep(Duration::from_secs(2)).await;
    let events_after = inbox.lock().expect("the inbox lock").clone();
    assert_eq!(events_after.len(), expected.len(), "{events_after:?}");

    let mut types = Vec::new();
    for event in &events {
        let mut mac = Hmac::<Sha256>::new_from_slice(&secret_bytes).expect("an HMAC key");
        mac.update(format!("{}.{}.{}", event.id, event.timestamp, event.body).as_bytes());
        let signature = format!("v1,{}", BASE64.encode(mac.finalize().into_bytes()));
        assert_eq!(event.signature, signature, "the signature of {}", event.id);
        let body: Value = serde_json::from_str(&event.body).expect("a JSON event");
        assert_eq!(body["id"], event.id.as_str());
        assert_eq!(body["api_version"], "v1");
        assert_eq!(body["data"]["message"]["id"], message_id.as_str());
        assert_eq!(body["data"]["message"]["api_key_id"], key_id.to_string());
        types.push(body["type"].as_str().unwrap_or_default().to_owned());
    }
    assert_eq!(types, expected, "sent, delivered, read, in order");

    let n_outbound: i64 = database
        .query_one(
            "select count(*) from public.messages where api_key_id = $1",
            &[&key_id],
        )
        .await
        .expect("count the key's messages")
        .get(0);
    assert_eq!(n_outbound, 1, "two calls, one message");

    drop(daemon);
    server.abort();
    database
        .execute(
            "delete from public.webhook_subscriptions where id = $1",
            &[&subscription_id],
        )
        .await
        .expect("delete the subscription");
    database
        .execute("delete from public.numbers where id = $1", &[&number_id])
        .await
        .expect("delete the number");
    database
        .execute("delete from public.api_keys where id = $1", &[&key_id])
        .await
        .expect("delete the key");
}
