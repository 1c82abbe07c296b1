//! End-to-end tests of the real `wabot daemon` process against the local
//! stack: Postgres with the migrations applied, the functions gateway and the
//! `route-message` function.
//!
//! Every test is ignored by default; `scripts/test.sh` starts the stack and
//! runs them with `--include-ignored`, passing the stack through
//! `WABOT_TEST_DATABASE_URL`, `WABOT_TEST_FUNCTIONS_URL` and
//! `WABOT_TEST_SERVICE_ROLE_KEY`.
//!
//! Each test makes its own bot, published version (the shared
//! `crates/routing/fixtures/demo-bot.json`) and number with a random phone
//! number, and starts its own daemons on free ports, holding only that
//! number (`WABOT_HOLD_NUMBERS`), so tests can share a database. The test
//! that kills a daemon between storing and routing needs to be the only one
//! relaying the outbox, so it runs alone (a write lock); the others share a
//! read lock.

mod support;

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::sync::RwLock;
use uuid::Uuid;

use support::{
    connect_database, demo_bot_definition, free_port, media_store, random_phone_number, stack,
    wait_for, Daemon, DaemonOptions, TestNumber, DAEMON_TOKEN,
};

/// The name the test contacts give.
const CONTACT_NAME: &str = "Ada";

/// Tests that relay the outbox share this lock; the one that needs to be the
/// only relay takes it exclusively.
static OUTBOX_RELAYS: RwLock<()> = RwLock::const_new(());

/// The bot's first reply to "hi": the `welcome` node's text, templated with
/// the contact's name.
fn expected_welcome_reply(contact_name: Option<&str>) -> String {
    let definition = demo_bot_definition();
    let welcome = definition["nodes"]
        .as_array()
        .expect("the demo bot has nodes")
        .iter()
        .find(|node| node["id"] == "welcome")
        .expect("the demo bot has a welcome node");
    welcome["text"]
        .as_str()
        .expect("the welcome node has a text")
        .replace("{{contact.name|there}}", contact_name.unwrap_or("there"))
}

async fn create_bot_and_number(database: &tokio_postgres::Client) -> TestNumber {
    let bot_id: Uuid = database
        .query_one(
            "insert into public.bots (name) values ('end-to-end demo bot') returning id",
            &[],
        )
        .await
        .expect("insert the bot")
        .get(0);
    database
        .execute(
            "insert into public.bot_versions (bot_id, version, definition, status, published_at)
             values ($1, 1, $2, 'published', now())",
            &[&bot_id, &demo_bot_definition()],
        )
        .await
        .expect("insert the published version");
    let phone_number = random_phone_number('9');
    let number_id: Uuid = database
        .query_one(
            "insert into public.numbers (phone_number, label, transport, bot_id)
             values ($1, 'end-to-end test', 'simulator', $2) returning id",
            &[&phone_number, &bot_id],
        )
        .await
        .expect("insert the number")
        .get(0);
    TestNumber {
        number_id,
        phone_number,
    }
}

/// The options of an end-to-end daemon: support's daemon (lease 4 s,
/// heartbeat 1 s), holding one number.
fn daemon_options(
    relay_on: bool,
    database_url: Option<&str>,
    held_phone_number: &str,
) -> DaemonOptions {
    let mut options = DaemonOptions::holding(&[held_phone_number]);
    options.relay_on = relay_on;
    options.database_url = database_url.map(str::to_owned);
    options
}

async fn wait_until_connected(database: &tokio_postgres::Client, number_id: Uuid) {
    wait_for("the number's session to connect", || async {
        let row = database
            .query_one(
                "select session_status from public.numbers where id = $1",
                &[&number_id],
            )
            .await
            .expect("read the number");
        (row.get::<_, String>(0) == "connected").then_some(())
    })
    .await;
}

/// Posts `body` to `POST /simulator/inbound` and returns the status and JSON.
async fn post_inbound(daemon: &Daemon, token: Option<&str>, body: String) -> (StatusCode, Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{}/simulator/inbound", daemon.base_url))
        .header("content-type", "application/json")
        .body(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("post the inbound message");
    let status = response.status();
    let json = response.json().await.expect("the answer is JSON");
    (status, json)
}

fn inbound_body(to: &str, from: &str, text: &str, message_id: Option<&str>) -> String {
    let mut body = json!({ "to": to, "from": from, "name": CONTACT_NAME, "text": text });
    if let Some(message_id) = message_id {
        body["message_id"] = json!(message_id);
    }
    body.to_string()
}

/// Returns the simulator's transcript between the number and the contact.
async fn transcript(daemon: &Daemon, to: &str, from: &str) -> Vec<Value> {
    let answer: Value = reqwest::Client::new()
        .get(format!("{}/simulator/transcript", daemon.base_url))
        .query(&[("to", to), ("from", from)])
        .send()
        .await
        .expect("get the transcript")
        .error_for_status()
        .expect("the transcript answers 200")
        .json()
        .await
        .expect("the transcript is JSON");
    answer["messages"]
        .as_array()
        .expect("the transcript has messages")
        .clone()
}

fn texts_in_direction(transcript: &[Value], direction: &str) -> Vec<String> {
    transcript
        .iter()
        .filter(|message| message["direction"] == direction)
        .map(|message| message["text"].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn inbound_message_id(
    database: &tokio_postgres::Client,
    number_id: Uuid,
    wa_message_id: &str,
) -> Uuid {
    database
        .query_one(
            "select id from public.messages
             where number_id = $1 and wa_message_id = $2 and direction = 'inbound'",
            &[&number_id, &wa_message_id],
        )
        .await
        .expect("the inbound message is stored")
        .get(0)
}

/// The replies to an inbound message, in order: (body, status).
async fn replies_to(database: &tokio_postgres::Client, inbound_id: Uuid) -> Vec<(String, String)> {
    database
        .query(
            "select body, status from public.messages
             where in_reply_to = $1 and direction = 'outbound'
             order by created_at, reply_index",
            &[&inbound_id],
        )
        .await
        .expect("read the replies")
        .into_iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect()
}

/// Waits until the inbound message has replies and all of them are sent.
async fn wait_until_replies_sent(
    database: &tokio_postgres::Client,
    inbound_id: Uuid,
) -> Vec<(String, String)> {
    wait_for("the replies to be sent", || async {
        let replies = replies_to(database, inbound_id).await;
        let all_sent = !replies.is_empty() && replies.iter().all(|(_, status)| status == "sent");
        all_sent.then_some(replies)
    })
    .await
}

#[tokio::test]
#[ignore = "needs the local stack: run by scripts/test.sh"]
async fn a_contact_says_hi_and_gets_the_bots_replies() {
    let stack = stack();
    let _shared = OUTBOX_RELAYS.read().await;
    let database = connect_database(&stack.database_url).await;
    let number = create_bot_and_number(&database).await;
    let contact = random_phone_number('8');
    let mut daemon = Daemon::spawn(&stack, daemon_options(true, None, &number.phone_number));
    daemon.wait_until_answering().await;
    wait_until_connected(&database, number.number_id).await;

    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_wabot"))
        .args([
            "contact",
            "send",
            "--to",
            &number.phone_number,
            "--from",
            &contact,
        ])
        .args(["--name", CONTACT_NAME, "--wait-secs", "20"])
        .args(["--daemon-url", &daemon.base_url, "hi"])
        .env("WABOT_DAEMON_TOKEN", DAEMON_TOKEN)
        .output()
        .await
        .expect("run wabot contact send");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "wabot contact send failed: {}{}",
        stdout,
        String::from_utf8_lossy(&output.stderr)
    );
    let printed_replies: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        printed_replies.first().copied(),
        Some(format!("bot> {}", expected_welcome_reply(Some(CONTACT_NAME))).as_str()),
        "the first reply is the welcome text; printed: {stdout}"
    );

    let contact_wa_id = contact.trim_start_matches('+');
    let inbound_ids: Vec<Uuid> = database
        .query(
            "select id from public.messages
             where number_id = $1 and contact_wa_id = $2 and direction = 'inbound'",
            &[&number.number_id, &contact_wa_id],
        )
        .await
        .expect("read the inbound messages")
        .into_iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(inbound_ids.len(), 1, "exactly one inbound message");
    let replies = wait_until_replies_sent(&database, inbound_ids[0]).await;
    let n_outbound: i64 = database
        .query_one(
            "select count(*) from public.messages
             where number_id = $1 and contact_wa_id = $2 and direction = 'outbound'",
            &[&number.number_id, &contact_wa_id],
        )
        .await
        .expect("count the outbound messages")
        .get(0);
    assert_eq!(n_outbound, i64::try_from(replies.len()).unwrap());

    let transcript = transcript(&daemon, &number.phone_number, &contact).await;
    let reply_bodies: Vec<String> = replies.into_iter().map(|(body, _)| body).collect();
    assert_eq!(texts_in_direction(&transcript, "to_number"), ["hi"]);
    assert_eq!(
        texts_in_direction(&transcript, "to_contact"),
        reply_bodies,
        "the transcript shows exactly the bot's replies, in order"
    );
    let printed: Vec<String> = printed_replies
        .iter()
        .map(|line| line.trim_start_matches("bot> ").to_owned())
        .collect();
    assert_eq!(printed, reply_bodies, "the command printed every reply");
}

#[tokio::test]
#[ignore = "needs the local stack: run by scripts/test.sh"]
async fn a_redelivered_inbound_message_is_answered_once() {
    let stack = stack();
    let _shared = OUTBOX_RELAYS.read().await;
    let database = connect_database(&stack.database_url).await;
    let number = create_bot_and_number(&database).await;
    let contact = random_phone_number('8');
    let mut daemon = Daemon::spawn(&stack, daemon_options(true, None, &number.phone_number));
    daemon.wait_until_answering().await;
    wait_until_connected(&database, number.number_id).await;

    let wa_message_id = format!("E2E-DUPLICATE-{}", Uuid::new_v4());
    let body = inbound_body(&number.phone_number, &contact, "hi", Some(&wa_message_id));
    let (status, first) = post_inbound(&daemon, Some(DAEMON_TOKEN), body.clone()).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{first}");
    assert_eq!(
        first,
        json!({ "wa_message_id": wa_message_id, "duplicate": false })
    );

    let inbound_id = inbound_message_id(&database, number.number_id, &wa_message_id).await;
    let replies = wait_until_replies_sent(&database, inbound_id).await;

    let (status, second) = post_inbound(&daemon, Some(DAEMON_TOKEN), body).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{second}");
    assert_eq!(
        second,
        json!({ "wa_message_id": wa_message_id, "duplicate": true })
    );

    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        replies_to(&database, inbound_id).await,
        replies,
        "no second set of replies"
    );
    let transcript = transcript(&daemon, &number.phone_number, &contact).await;
    assert_eq!(texts_in_direction(&transcript, "to_number"), ["hi"]);
    let reply_bodies: Vec<String> = replies.into_iter().map(|(body, _)| body).collect();
    assert_eq!(texts_in_direction(&transcript, "to_contact"), reply_bodies);
}

#[tokio::test]
#[ignore = "needs the local stack: run by scripts/test.sh"]
async fn a_message_stored_before_a_sigkill_is_answered_after_the_restart() {
    let stack = stack();
    // This test checks that the outbox row waits undelivered, so no other
    // test's daemon may relay while it runs.
    let _exclusive = OUTBOX_RELAYS.write().await;
    let database = connect_database(&stack.database_url).await;
    let number = create_bot_and_number(&database).await;
    let contact = random_phone_number('8');

    let mut daemon_a = Daemon::spawn(&stack, daemon_options(false, None, &number.phone_number));
    daemon_a.wait_until_answering().await;
    wait_until_connected(&database, number.number_id).await;
    let (status, answer) = post_inbound(
        &daemon_a,
        Some(DAEMON_TOKEN),
        inbound_body(&number.phone_number, &contact, "hi", None),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    let wa_message_id = answer["wa_message_id"].as_str().expect("an id").to_owned();
    let inbound_id = inbound_message_id(&database, number.number_id, &wa_message_id).await;
    let outbox_id: i64 = database
        .query_one(
            "select id from public.outbox
             where topic = 'route-message' and payload ->> 'message_id' = $1
               and delivered_at is null",
            &[&inbound_id.to_string()],
        )
        .await
        .expect("an undelivered outbox row routes the inbound message")
        .get(0);

    daemon_a.kill();

    let mut daemon_b = Daemon::spawn(&stack, daemon_options(true, None, &number.phone_number));
    daemon_b.wait_until_answering().await;
    let replies = wait_until_replies_sent(&database, inbound_id).await;
    wait_for("the outbox row to be marked delivered", || async {
        let row = database
            .query_one(
                "select delivered_at is not null from public.outbox where id = $1",
                &[&outbox_id],
            )
            .await
            .expect("read the outbox row");
        row.get::<_, bool>(0).then_some(())
    })
    .await;

    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        replies_to(&database, inbound_id).await,
        replies,
        "exactly one set of replies, all sent"
    );
    let n_outbox_rows: i64 = database
        .query_one(
            "select count(*) from public.outbox where payload ->> 'message_id' = $1",
            &[&inbound_id.to_string()],
        )
        .await
        .expect("count the outbox rows")
        .get(0);
    assert_eq!(n_outbox_rows, 1);
    let transcript = transcript(&daemon_b, &number.phone_number, &contact).await;
    let reply_bodies: Vec<String> = replies.into_iter().map(|(body, _)| body).collect();
    assert_eq!(texts_in_direction(&transcript, "to_contact"), reply_bodies);
}

#[tokio::test]
#[ignore = "needs the local stack: run by scripts/test.sh"]
async fn status_reports_the_database() {
    let stack = stack();
    let _shared = OUTBOX_RELAYS.read().await;
    let database = connect_database(&stack.database_url).await;
    let number = create_bot_and_number(&database).await;
    let mut daemon = Daemon::spawn(&stack, daemon_options(true, None, &number.phone_number));
    daemon.wait_until_answering().await;
    wait_until_connected(&database, number.number_id).await;

    let response = reqwest::get(format!("{}/status", daemon.base_url))
        .await
        .expect("get /status");
    assert_eq!(response.status(), StatusCode::OK);
    let status: Value = response.json().await.expect("/status is JSON");
    assert_eq!(status["database"], json!({ "reachable": true }));
    assert_eq!(status["relay"], "on");
    assert_eq!(status["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(status["instance_id"], daemon.instance_id.as_str());
    assert!(status["uptime_seconds"].is_u64());
    assert_eq!(status["sessions"]["total"], 1);
    assert_eq!(status["sessions"]["by_state"]["connected"], 1);

    let closed_port = free_port();
    let unreachable_url =
        format!("postgresql://postgres:postgres@127.0.0.1:{closed_port}/postgres");
    let mut cut_off = Daemon::spawn(
        &stack,
        daemon_options(true, Some(&unreachable_url), &number.phone_number),
    );
    assert_eq!(
        cut_off.wait_until_answering().await,
        StatusCode::SERVICE_UNAVAILABLE
    );
    let response = reqwest::get(format!("{}/status", cut_off.base_url))
        .await
        .expect("get /status");
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let status: Value = response.json().await.expect("/status is JSON");
    assert_eq!(status["database"]["reachable"], false);
    assert!(
        status["database"]["error"]
            .as_str()
            .is_some_and(|error| !error.is_empty()),
        "{status}"
    );
    assert_eq!(status["sessions"]["total"], 0);
}

#[tokio::test]
#[ignore = "needs the local stack: run by scripts/test.sh"]
async fn the_runbook_restart_needs_the_token_and_records_an_event() {
    let stack = stack();
    let _shared = OUTBOX_RELAYS.read().await;
    let database = connect_database(&stack.database_url).await;
    let number = create_bot_and_number(&database).await;
    let mut daemon = Daemon::spawn(&stack, daemon_options(true, None, &number.phone_number));
    daemon.wait_until_answering().await;
    wait_until_connected(&database, number.number_id).await;
    let http = reqwest::Client::new();
    let command_url = |number_id: &str, action: &str| {
        format!("{}/numbers/{number_id}/session/{action}", daemon.base_url)
    };
    let number_id = number.number_id.to_string();

    let response = http
        .post(command_url(&number_id, "restart"))
        .send()
        .await
        .expect("post restart");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let answer: Value = response.json().await.expect("JSON");
    assert!(answer["error"].is_string(), "{answer}");

    let response = http
        .post(command_url(&number_id, "restart"))
        .bearer_auth("not-the-token-not-the-token")
        .send()
        .await
        .expect("post restart");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    let response = http
        .post(command_url(&number_id, "restart"))
        .bearer_auth(DAEMON_TOKEN)
        .send()
        .await
        .expect("post restart");
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let answer: Value = response.json().await.expect("JSON");
    assert_eq!(
        answer,
        json!({ "number_id": number_id, "action": "restart", "session_status": "connected" })
    );
    let n_restarted: i64 = database
        .query_one(
            "select count(*) from public.number_connection_events
             where number_id = $1 and event = 'restarted'",
            &[&number.number_id],
        )
        .await
        .expect("count the events")
        .get(0);
    assert_eq!(n_restarted, 1);

    // Stop, then a contact cannot reach the number; start brings it back.
    let response = http
        .post(command_url(&number_id, "stop"))
        .bearer_auth(DAEMON_TOKEN)
        .send()
        .await
        .expect("post stop");
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let answer: Value = response.json().await.expect("JSON");
    assert_eq!(answer["session_status"], "stopped");
    let session_status: String = database
        .query_one(
            "select session_status from public.numbers where id = $1",
            &[&number.number_id],
        )
        .await
        .expect("read the number")
        .get(0);
    assert_eq!(session_status, "stopped");
    let contact = random_phone_number('8');
    let (status, answer) = post_inbound(
        &daemon,
        Some(DAEMON_TOKEN),
        inbound_body(&number.phone_number, &contact, "hi", None),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");

    let response = http
        .post(command_url(&number_id, "start"))
        .bearer_auth(DAEMON_TOKEN)
        .send()
        .await
        .expect("post start");
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let answer: Value = response.json().await.expect("JSON");
    assert_eq!(answer["session_status"], "connected");

    // Ids that are not UUIDs, unknown numbers and unknown actions.
    let response = http
        .post(command_url("not-a-uuid", "restart"))
        .bearer_auth(DAEMON_TOKEN)
        .send()
        .await
        .expect("post restart");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let unknown_id = Uuid::new_v4().to_string();
    let response = http
        .post(command_url(&unknown_id, "restart"))
        .bearer_auth(DAEMON_TOKEN)
        .send()
        .await
        .expect("post restart");
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let answer: Value = response.json().await.expect("JSON");
    assert!(
        answer["error"]
            .as_str()
            .is_some_and(|error| error.contains(&unknown_id)),
        "{answer}"
    );
    let response = http
        .post(command_url(&number_id, "reboot"))
        .bearer_auth(DAEMON_TOKEN)
        .send()
        .await
        .expect("post reboot");
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
#[ignore = "needs the local stack: run by scripts/test.sh"]
async fn bad_inbound_requests_are_refused_with_json_errors() {
    let stack = stack();
    let _shared = OUTBOX_RELAYS.read().await;
    let database = connect_database(&stack.database_url).await;
    let number = create_bot_and_number(&database).await;
    let mut daemon = Daemon::spawn(&stack, daemon_options(true, None, &number.phone_number));
    daemon.wait_until_answering().await;
    wait_until_connected(&database, number.number_id).await;
    let contact = random_phone_number('8');

    let unknown_number = random_phone_number('7');
    let (status, answer) = post_inbound(
        &daemon,
        Some(DAEMON_TOKEN),
        inbound_body(&unknown_number, &contact, "hi", None),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        answer["error"],
        format!("unknown number {unknown_number}: no simulator session holds it")
    );

    let (status, answer) = post_inbound(&daemon, Some(DAEMON_TOKEN), "{\"to\": ".to_owned()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        answer["error"]
            .as_str()
            .is_some_and(|error| error.contains("JSON")),
        "{answer}"
    );

    let (status, answer) = post_inbound(
        &daemon,
        Some(DAEMON_TOKEN),
        json!({ "to": number.phone_number, "from": contact }).to_string(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        answer["error"]
            .as_str()
            .is_some_and(|error| error.contains("\"text\"")),
        "{answer}"
    );

    let (status, answer) = post_inbound(
        &daemon,
        Some(DAEMON_TOKEN),
        json!({ "to": "5550100", "from": contact, "text": "hi" }).to_string(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        answer["error"]
            .as_str()
            .is_some_and(|error| error.contains("\"to\"")),
        "{answer}"
    );

    let huge_text = "x".repeat(70 * 1024);
    let (status, answer) = post_inbound(
        &daemon,
        Some(DAEMON_TOKEN),
        inbound_body(&number.phone_number, &contact, &huge_text, None),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(answer["error"].is_string(), "{answer}");

    let (status, answer) = post_inbound(
        &daemon,
        None,
        inbound_body(&number.phone_number, &contact, "hi", None),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(answer["error"].is_string(), "{answer}");

    let n_messages: i64 = database
        .query_one(
            "select count(*) from public.messages where number_id = $1",
            &[&number.number_id],
        )
        .await
        .expect("count the messages")
        .get(0);
    assert_eq!(n_messages, 0, "no refused request stored anything");
}

#[tokio::test]
#[ignore = "needs the local stack: run by scripts/test.sh"]
async fn an_inbound_message_is_stored_with_its_outbox_row() {
    let stack = stack();
    let _shared = OUTBOX_RELAYS.read().await;
    let database = connect_database(&stack.database_url).await;
    let number = create_bot_and_number(&database).await;
    let mut daemon = Daemon::spawn(&stack, daemon_options(false, None, &number.phone_number));
    daemon.wait_until_answering().await;
    wait_until_connected(&database, number.number_id).await;
    let contact = random_phone_number('8');

    let (status, answer) = post_inbound(
        &daemon,
        Some(DAEMON_TOKEN),
        inbound_body(&number.phone_number, &contact, "hello there", None),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    let wa_message_id = answer["wa_message_id"].as_str().expect("an id").to_owned();
    assert!(wa_message_id.starts_with("SIM-"), "{wa_message_id}");
    assert_eq!(answer["duplicate"], false);

    let row = database
        .query_one(
            "select id, status, contact_wa_id, contact_name, body from public.messages
             where number_id = $1 and wa_message_id = $2 and direction = 'inbound'",
            &[&number.number_id, &wa_message_id],
        )
        .await
        .expect("the inbound message is stored");
    let inbound_id: Uuid = row.get(0);
    assert_eq!(row.get::<_, String>(1), "received");
    assert_eq!(row.get::<_, String>(2), contact.trim_start_matches('+'));
    assert_eq!(
        row.get::<_, Option<String>>(3).as_deref(),
        Some(CONTACT_NAME)
    );
    assert_eq!(row.get::<_, String>(4), "hello there");
    let n_outbox_rows: i64 = database
        .query_one(
            "select count(*) from public.outbox
             where topic = 'route-message' and payload ->> 'message_id' = $1",
            &[&inbound_id.to_string()],
        )
        .await
        .expect("count the outbox rows")
        .get(0);
    assert_eq!(n_outbox_rows, 1);

    let transcript = transcript(&daemon, &number.phone_number, &contact).await;
    assert_eq!(
        texts_in_direction(&transcript, "to_number"),
        ["hello there"]
    );
    assert_eq!(transcript[0]["seq"], 1);
    assert_eq!(transcript[0]["wa_message_id"], wa_message_id.as_str());

    let connected_events: i64 = database
        .query_one(
            "select count(*) from public.number_connection_events
             where number_id = $1 and event = 'connected'",
            &[&number.number_id],
        )
        .await
        .expect("count the events")
        .get(0);
    assert_eq!(connected_events, 1);
}

/// Posts a simulated contact's message of any kind; returns its WhatsApp id.
async fn contact_sends_content(daemon: &Daemon, body: Value) -> String {
    let (status, answer) = daemon.post("/simulator/inbound", body).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    answer["wa_message_id"]
        .as_str()
        .expect("the simulator names the message")
        .to_owned()
}

/// The content of each reply to an inbound message, once all are sent.
async fn sent_reply_contents(database: &tokio_postgres::Client, inbound_id: Uuid) -> Vec<Value> {
    wait_until_replies_sent(database, inbound_id).await;
    database
        .query(
            "select content from public.messages
             where in_reply_to = $1 and direction = 'outbound' order by reply_index",
            &[&inbound_id],
        )
        .await
        .expect("read the replies' content")
        .into_iter()
        .map(|row| row.get(0))
        .collect()
}

#[tokio::test]
#[ignore = "needs the local stack and its S3 server: run by scripts/test.sh"]
async fn rich_messages_travel_through_the_whole_stack() {
    use base64::Engine as _;

    let stack = stack();
    let _shared = OUTBOX_RELAYS.read().await;
    let database = connect_database(&stack.database_url).await;
    let number = create_bot_and_number(&database).await;
    let contact = random_phone_number('6');
    let mut daemon = Daemon::spawn(&stack, daemon_options(true, None, &number.phone_number));
    daemon.wait_until_answering().await;
    wait_until_connected(&database, number.number_id).await;
    let to = number.phone_number.as_str();

    // A picture with its bytes: stored whole (content, the bucket's bytes,
    // media_objects), and the demo bot's `kind: media` trigger answers it.
    let mut picture = b"\x89PNG\r\n\x1a\n".to_vec();
    picture.extend(Uuid::new_v4().as_bytes().repeat(2_000));
    let picture_id = contact_sends_content(
        &daemon,
        json!({"to": to, "from": contact, "name": CONTACT_NAME,
               "content": {"kind": "image", "mime_type": "image/png", "caption": "my receipt"},
               "media_base64": base64::engine::general_purpose::STANDARD.encode(&picture)}),
    )
    .await;
    let picture_row = inbound_message_id(&database, number.number_id, &picture_id).await;
    let stored: Value = wait_for("the picture to reach the bucket", || async {
        let row = database
            .query_one(
                "select content from public.messages where id = $1",
                &[&picture_row],
            )
            .await
            .expect("read the picture's content");
        let content: Value = row.get(0);
        assert!(content.get("storage_error").is_none(), "{content}");
        content.get("storage_key").is_some().then_some(content)
    })
    .await;
    assert_eq!(stored["kind"], "image");
    assert_eq!(stored["caption"], "my receipt");
    let key = stored["storage_key"].as_str().expect("a storage key");
    let in_bucket = media_store()
        .get(key, 1 << 20)
        .await
        .expect("the object is in the bucket");
    assert_eq!(
        &*in_bucket,
        picture.as_slice(),
        "the bucket holds the very bytes sent"
    );
    let (n_objects, size): (i64, i64) = database
        .query_one(
            "select count(*), coalesce(max(size_bytes), 0) from public.media_objects where message_id = $1",
            &[&picture_row],
        )
        .await
        .map(|row| (row.get(0), row.get(1)))
        .expect("read media_objects");
    assert_eq!((n_objects, size), (1, picture.len() as i64));
    let replies = sent_reply_contents(&database, picture_row).await;
    assert_eq!(replies.len(), 1, "{replies:?}");
    assert!(
        replies[0]["text"]
            .as_str()
            .is_some_and(|text| text.starts_with("Thanks for the file, Ada!")),
        "{replies:?}"
    );

    // A location: the bot answers with the shop's pin, sent as a location.
    let location_id = contact_sends_content(
        &daemon,
        json!({"to": to, "from": contact,
               "content": {"kind": "location", "latitude": 38.7223, "longitude": -9.1393}}),
    )
    .await;
    let location_row = inbound_message_id(&database, number.number_id, &location_id).await;
    let replies = sent_reply_contents(&database, location_row).await;
    assert_eq!(
        replies,
        vec![
            json!({"kind": "location", "latitude": 38.7104, "longitude": -9.1368,
                    "name": "Demo shop", "address": "1 Demo Street, Springfield"})
        ]
    );
    let sent = transcript(&daemon, to, &contact).await;
    assert!(
        sent.iter().any(|entry| entry["direction"] == "to_contact"
            && entry["content"]["kind"] == "location"
            && entry["content"]["name"] == "Demo shop"),
        "the contact received a location, not text: {sent:?}"
    );

    // A reaction is kept and routed, and gets no reply at all.
    let reaction_id = contact_sends_content(
        &daemon,
        json!({"to": to, "from": contact,
               "content": {"kind": "reaction", "message_id": location_id, "emoji": "\u{1f44d}"}}),
    )
    .await;
    let reaction_row = inbound_message_id(&database, number.number_id, &reaction_id).await;
    wait_for("the reaction to be routed", || async {
        let row = database
            .query_one(
                "select routed_at is not null from public.messages where id = $1",
                &[&reaction_row],
            )
            .await
            .expect("read the reaction");
        row.get::<_, bool>(0).then_some(())
    })
    .await;
    assert!(replies_to(&database, reaction_row).await.is_empty());

    // "hi" shows the menu; a list pick whose title is no menu key routes by
    // its id.
    let hi_id =
        contact_sends_content(&daemon, json!({"to": to, "from": contact, "text": "hi"})).await;
    let hi_row = inbound_message_id(&database, number.number_id, &hi_id).await;
    wait_until_replies_sent(&database, hi_row).await;
    let pick_id = contact_sends_content(
        &daemon,
        json!({"to": to, "from": contact,
               "content": {"kind": "list_reply", "id": "2", "title": "Where is the shop?"}}),
    )
    .await;
    let pick_row = inbound_message_id(&database, number.number_id, &pick_id).await;
    let replies = sent_reply_contents(&database, pick_row).await;
    assert_eq!(
        replies,
        vec![json!({"kind": "text", "text": "You can find us at 1 Demo Street, Springfield."})]
    );
    daemon.terminate(Duration::from_secs(10)).await;
}
