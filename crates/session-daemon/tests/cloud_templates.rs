//! The `message_template_status_update` webhook, end to end: a real `wabot
//! daemon` takes Meta's documented notification on `/cloud/webhook`, signed
//! with the app secret, and the synced template's status changes in the
//! real local Postgres; an unsigned delivery changes nothing. Needs the
//! local stack (`scripts/test.sh` sets `WABOT_TEST_DATABASE_URL`,
//! `WABOT_TEST_FUNCTIONS_URL`, `WABOT_TEST_SERVICE_ROLE_KEY`).

mod support;

use reqwest::StatusCode;
use serde_json::{json, Value};
use support::*;
use uuid::Uuid;

const APP_SECRET: &str = "template-test-meta-app-secret";

async fn deliver(daemon: &Daemon, payload: &Value, signed: bool) -> (StatusCode, Value) {
    let body = payload.to_string();
    let signature = if signed {
        session_daemon::cloud_webhook::sign(APP_SECRET, body.as_bytes())
    } else {
        "sha256=00".to_owned()
    };
    let response = reqwest::Client::new()
        .post(format!("{}/cloud/webhook", daemon.base_url))
        .header("content-type", "application/json")
        .header("x-hub-signature-256", signature)
        .body(body)
        .send()
        .await
        .expect("post the webhook");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Meta's documented `message_template_status_update` notification.
fn status_update(template_id: u64, event: &str, reason: &str) -> Value {
    json!({
        "object": "whatsapp_business_account",
        "entry": [{
            "id": "102290129340398",
            "time": 1674864290,
            "changes": [{
                "value": {
                    "event": event,
                    "message_template_id": template_id,
                    "message_template_name": "order_update",
                    "message_template_language": "en_US",
                    "reason": reason
                },
                "field": "message_template_status_update"
            }]
        }]
    })
}

#[tokio::test]
#[ignore = "needs the local stack: run through scripts/test.sh"]
async fn a_signed_template_status_update_changes_the_synced_template() {
    let stack = stack();
    let database = connect_database(&stack.database_url).await;
    let number = create_number(&database, "cloud", None).await;
    let template_id = Uuid::new_v4().as_u128() % 1_000_000_000_000_000;
    database
        .execute(
            "insert into public.message_templates (number_id, waba_id, template_id, name, language, status)
             values ($1, '102290129340398', $2, 'order_update', 'en_US', 'APPROVED')",
            &[&number.number_id, &template_id.to_string()],
        )
        .await
        .expect("a synced template");
    let status_of = || async {
        let row = database
            .query_one(
                "select status, status_reason from public.message_templates where number_id = $1",
                &[&number.number_id],
            )
            .await
            .expect("read the template");
        (row.get::<_, String>(0), row.get::<_, Option<String>>(1))
    };
    let mut daemon = Daemon::spawn(
        &stack,
        // A number no row has: the daemon holds nothing (an empty list means every number).
        DaemonOptions::holding(&[&random_phone_number('8')])
            .with("WABOT_CLOUD_APP_SECRET", APP_SECRET),
    );
    daemon.wait_until_answering().await;
    let template_id = u64::try_from(template_id).expect("a 15-digit id");

    let (status, _) = deliver(
        &daemon,
        &status_update(template_id, "PAUSED", "Low quality"),
        false,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        status_of().await,
        ("APPROVED".to_owned(), None),
        "an unsigned delivery changes nothing"
    );

    let (status, body) = deliver(
        &daemon,
        &status_update(template_id, "PAUSED", "Low quality"),
        true,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["templates"], 1, "{body}");
    assert_eq!(
        status_of().await,
        ("PAUSED".to_owned(), Some("Low quality".to_owned()))
    );

    let (status, body) = deliver(
        &daemon,
        &status_update(template_id, "APPROVED", "NONE"),
        true,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        status_of().await,
        ("APPROVED".to_owned(), None),
        "reinstated"
    );

    // A malformed value is skipped, not refused (Meta would redeliver it forever).
    let mut malformed = status_update(template_id, "REJECTED", "NONE");
    malformed["entry"][0]["changes"][0]["value"]["message_template_id"] = json!("not an id");
    let (status, body) = deliver(&daemon, &malformed, true).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["templates"], 0, "{body}");
    assert_eq!(status_of().await.0, "APPROVED");

    database
        .execute(
            "delete from public.numbers where id = $1",
            &[&number.number_id],
        )
        .await
        .expect("clean up");
    assert!(
        daemon.terminate(std::time::Duration::from_secs(10)).await,
        "the daemon stops"
    );
}
