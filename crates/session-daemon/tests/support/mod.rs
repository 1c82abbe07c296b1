//! The harness of the daemon's runtime tests: the local stack, real `wabot
//! daemon` processes on free ports, numbers made for each test, and polling
//! helpers.
//!
//! Every test makes its own numbers with random phone numbers and starts
//! daemons holding only those (`WABOT_HOLD_NUMBERS`), so tests share one
//! database without seeing each other's numbers.

#![allow(dead_code)]

use std::future::Future;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};
use session_daemon::media_store::{MediaStore, MediaStoreArguments, MediaStoreConfig};
use tokio_postgres::NoTls;
use uuid::Uuid;

/// The bearer token every test daemon is started with.
pub const DAEMON_TOKEN: &str = "runtime-test-token-0123456789abcdef";

/// How long a test waits for something the stack does asynchronously.
pub const PATIENCE: Duration = Duration::from_secs(40);

/// Where the local stack is.
#[derive(Debug, Clone)]
pub struct Stack {
    /// The test database.
    pub database_url: String,
    /// The functions gateway.
    pub functions_url: String,
    /// The service-role key.
    pub service_role_key: String,
}

fn required_variable(name: &str) -> String {
    match std::env::var(name) {
        Ok(value) if !value.is_empty() => value,
        _ => panic!(
            "{name} is not set: these tests need the local stack; run them through scripts/test.sh, \
             which starts Postgres, the functions gateway and route-message and sets \
             WABOT_TEST_DATABASE_URL, WABOT_TEST_FUNCTIONS_URL and WABOT_TEST_SERVICE_ROLE_KEY"
        ),
    }
}

/// Reads the stack from the environment `scripts/test.sh` sets.
pub fn stack() -> Stack {
    Stack {
        database_url: required_variable("WABOT_TEST_DATABASE_URL"),
        functions_url: required_variable("WABOT_TEST_FUNCTIONS_URL"),
        service_role_key: required_variable("WABOT_TEST_SERVICE_ROLE_KEY"),
    }
}

/// Opens a plain connection (as `postgres`).
pub async fn connect_database(database_url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(database_url, NoTls)
        .await
        .unwrap_or_else(|error| panic!("could not connect to {database_url}: {error}"));
    tokio::spawn(async move {
        if let Err(error) = connection.await {
            eprintln!("the test's database connection ended: {error}");
        }
    });
    client
}

/// The demo bot's definition, shared with the routing crate's tests.
pub fn demo_bot_definition() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../routing/fixtures/demo-bot.json"
    );
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|error| panic!("could not read the demo bot at {path}: {error}"));
    serde_json::from_str(&text).expect("the demo bot is JSON")
}

/// A random E.164 number starting with `+1` and `prefix`.
pub fn random_phone_number(prefix: char) -> String {
    let digits = Uuid::new_v4().as_u128() % 1_000_000_000_000;
    format!("+1{prefix}{digits:012}")
}

/// A number made for a test.
#[derive(Debug, Clone)]
pub struct TestNumber {
    /// `numbers.id`.
    pub number_id: Uuid,
    /// `numbers.phone_number`.
    pub phone_number: String,
}

/// Makes a bot with the demo definition published.
pub async fn create_demo_bot(database: &tokio_postgres::Client) -> Uuid {
    let bot_id: Uuid = database
        .query_one(
            "insert into public.bots (name) values ('runtime test bot') returning id",
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
    bot_id
}

/// Makes a number of a transport, serving `bot_id` if given.
pub async fn create_number(
    database: &tokio_postgres::Client,
    transport: &str,
    bot_id: Option<Uuid>,
) -> TestNumber {
    let phone_number = random_phone_number('9');
    let number_id: Uuid = database
        .query_one(
            "insert into public.numbers (phone_number, label, transport, bot_id)
             values ($1, 'runtime test', $2, $3) returning id",
            &[&phone_number, &transport, &bot_id],
        )
        .await
        .expect("insert the number")
        .get(0);
    TestNumber {
        number_id,
        phone_number,
    }
}

/// Queues an outbound text the way `route-message` does.
pub async fn queue_outbound(
    database: &tokio_postgres::Client,
    number_id: Uuid,
    contact_wa_id: &str,
    body: &str,
) -> Uuid {
    database
        .query_one(
            "insert into public.messages (number_id, direction, status, contact_wa_id, body)
             values ($1, 'outbound', 'queued', $2, $3) returning id",
            &[&number_id, &contact_wa_id, &body],
        )
        .await
        .expect("queue an outbound message")
        .get(0)
}

/// Stores an inbound text from the contact, as a transport would: on a
/// Cloud API number it opens the 24-hour window that free-form sends need
/// (the database refuses them otherwise, SQLSTATE WA024).
pub async fn contact_wrote(
    database: &tokio_postgres::Client,
    number_id: Uuid,
    contact_wa_id: &str,
) {
    database
        .execute(
            "insert into public.messages (number_id, direction, status, contact_wa_id, wa_message_id, body, routed_at)
             values ($1, 'inbound', 'received', $2, $3, 'hello', now())",
            &[&number_id, &contact_wa_id, &format!("wamid.TEST-{}", Uuid::new_v4())],
        )
        .await
        .expect("store the contact's message");
}

/// How a test daemon is started.
#[derive(Debug, Clone)]
pub struct DaemonOptions {
    /// Whether it relays the outbox.
    pub relay_on: bool,
    /// The database, when not the stack's.
    pub database_url: Option<String>,
    /// The numbers it may hold.
    pub held_phone_numbers: Vec<String>,
    /// More environment variables.
    pub env: Vec<(String, String)>,
}

impl DaemonOptions {
    /// A daemon holding `held_phone_numbers`, relay off.
    pub fn holding(held_phone_numbers: &[&str]) -> Self {
        DaemonOptions {
            relay_on: false,
            database_url: None,
            held_phone_numbers: held_phone_numbers.iter().map(|n| (*n).to_owned()).collect(),
            env: Vec::new(),
        }
    }

    /// Sets an environment variable.
    pub fn with(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Turns the relay on.
    pub fn relaying(mut self) -> Self {
        self.relay_on = true;
        self
    }
}

/// A running `wabot daemon`, killed (SIGKILL) when dropped.
pub struct Daemon {
    child: Child,
    /// Its HTTP API.
    pub base_url: String,
    /// Its instance id.
    pub instance_id: String,
    /// Its log file.
    pub log_path: PathBuf,
}

/// Returns a free TCP port on the loopback interface.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("bind a free port")
        .port()
}

impl Daemon {
    /// Starts a daemon: lease 4 s, heartbeat 1 s, polling every 200 ms.
    pub fn spawn(stack: &Stack, options: DaemonOptions) -> Daemon {
        let port = free_port();
        let log_path =
            PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("runtime-daemon-{port}.log"));
        let log = std::fs::File::create(&log_path).expect("create the daemon's log");
        let storage =
            PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("runtime-sessions-{port}"));
        let instance_id = format!("runtime-{port}");
        let mut command = Command::new(env!("CARGO_BIN_EXE_wabot"));
        command
            .arg("daemon")
            .env(
                "WABOT_DATABASE_URL",
                options
                    .database_url
                    .as_deref()
                    .unwrap_or(&stack.database_url),
            )
            .env("WABOT_DB_ROLE", "service_role")
            .env("WABOT_FUNCTIONS_URL", &stack.functions_url)
            .env("SUPABASE_SERVICE_ROLE_KEY", &stack.service_role_key)
            .env("WABOT_LISTEN", format!("127.0.0.1:{port}"))
            .env("WABOT_DAEMON_TOKEN", DAEMON_TOKEN)
            .env("WABOT_RELAY", if options.relay_on { "on" } else { "off" })
            .env("WABOT_INSTANCE_ID", &instance_id)
            .env("WABOT_SESSION_STORAGE_PATH", storage)
            .env("WABOT_POLL_INTERVAL_MS", "200")
            .env("WABOT_LEASE_SECONDS", "4")
            .env("WABOT_HEARTBEAT_SECONDS", "1")
            .env("WABOT_HOLD_NUMBERS", options.held_phone_numbers.join(","))
            .env("RUST_LOG", "info");
        for (name, value) in &options.env {
            command.env(name, value);
        }
        let child = command
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone the log handle"))
            .stderr(log)
            .spawn()
            .expect("start wabot daemon");
        Daemon {
            child,
            base_url: format!("http://127.0.0.1:{port}"),
            instance_id,
            log_path,
        }
    }

    /// Waits until `GET /status` answers at all, and returns its status.
    pub async fn wait_until_answering(&mut self) -> StatusCode {
        let http = reqwest::Client::new();
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("the daemon exited early with {status}: {}", self.log_tail());
            }
            if let Ok(response) = http.get(format!("{}/status", self.base_url)).send().await {
                return response.status();
            }
            assert!(Instant::now() < deadline, "the daemon never answered");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Tells whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Kills the process with SIGKILL and reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends SIGTERM and waits for the process to exit; returns whether it
    /// exited successfully within `patience`.
    pub async fn terminate(&mut self, patience: Duration) -> bool {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + patience;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.success();
            }
            if Instant::now() > deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Returns the end of the daemon's log.
    pub fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log_path).unwrap_or_default();
        let start = log.len().saturating_sub(8000);
        let start = (start..log.len())
            .find(|index| log.is_char_boundary(*index))
            .unwrap_or(log.len());
        log[start..].to_owned()
    }

    /// Returns the whole log.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// GETs a path and returns the status and JSON.
    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        let response = reqwest::Client::new()
            .get(format!("{}{path}", self.base_url))
            .bearer_auth(DAEMON_TOKEN)
            .send()
            .await
            .expect("a GET to the daemon");
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// POSTs JSON to a path (with the bearer token) and returns the status
    /// and JSON.
    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let response = reqwest::Client::new()
            .post(format!("{}{path}", self.base_url))
            .bearer_auth(DAEMON_TOKEN)
            .json(&body)
            .send()
            .await
            .expect("a POST to the daemon");
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// A simulated contact writes to a number.
    pub async fn contact_sends(&self, to: &str, from: &str, text: &str) -> (StatusCode, Value) {
        self.post(
            "/simulator/inbound",
            json!({ "to": to, "from": from, "name": "Ada", "text": text }),
        )
        .await
    }

    /// Changes a simulated line's script.
    pub async fn script(&self, phone_number: &str, script: Value) {
        let (status, answer) = self
            .post(&format!("/simulator/numbers/{phone_number}/script"), script)
            .await;
        assert_eq!(status, StatusCode::OK, "{answer}");
    }

    /// Returns whether the daemon holds the number's session right now.
    pub async fn holds(&self, number_id: Uuid) -> Option<bool> {
        let response = reqwest::Client::new()
            .get(format!("{}/numbers/{number_id}/session", self.base_url))
            .bearer_auth(DAEMON_TOKEN)
            .timeout(Duration::from_secs(2))
            .send()
            .await
            .ok()?;
        let body: Value = response.json().await.ok()?;
        body["held_here"].as_bool()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            eprintln!(
                "--- the daemon's log ({}) ---\n{}",
                self.log_path.display(),
                self.log_tail()
            );
        }
    }
}

/// Polls `check` until it returns something, or panics naming `what`.
pub async fn wait_for<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {PATIENCE:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Returns a number's session status.
pub async fn session_status(database: &tokio_postgres::Client, number_id: Uuid) -> String {
    database
        .query_one(
            "select session_status from public.numbers where id = $1",
            &[&number_id],
        )
        .await
        .expect("read the number")
        .get(0)
}

/// Waits until a number's session status is `status`.
pub async fn wait_until_status(database: &tokio_postgres::Client, number_id: Uuid, status: &str) {
    wait_for(&format!("the session to be {status}"), || async {
        (session_status(database, number_id).await == status).then_some(())
    })
    .await;
}

/// Returns the events of a number's timeline, oldest first: (event,
/// reason).
pub async fn events(
    database: &tokio_postgres::Client,
    number_id: Uuid,
) -> Vec<(String, Option<String>)> {
    database
        .query(
            "select event, reason from public.number_connection_events
             where number_id = $1 order by id",
            &[&number_id],
        )
        .await
        .expect("read the events")
        .into_iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect()
}

/// Counts a number's events of one kind.
pub async fn count_events(
    database: &tokio_postgres::Client,
    number_id: Uuid,
    event: &str,
) -> usize {
    events(database, number_id)
        .await
        .into_iter()
        .filter(|(name, _)| name == event)
        .count()
}

/// Returns the outbound messages of a number: (body, status, error).
pub async fn outbound(
    database: &tokio_postgres::Client,
    number_id: Uuid,
) -> Vec<(String, String, Option<String>)> {
    database
        .query(
            "select body, status, error from public.messages
             where number_id = $1 and direction = 'outbound' order by created_at, id",
            &[&number_id],
        )
        .await
        .expect("read the outbound messages")
        .into_iter()
        .map(|row| (row.get(0), row.get(1), row.get(2)))
        .collect()
}

/// Removes a number a test made (best effort: a function still routing its
/// messages may hold their rows, so a deadlock is retried a few times).
pub async fn remove_number(database: &tokio_postgres::Client, number_id: Uuid) {
    for _ in 0..10 {
        match database
            .execute("delete from public.numbers where id = $1", &[&number_id])
            .await
        {
            Ok(_) => return,
            Err(error) => {
                eprintln!("could not remove the test number yet: {error}");
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        }
    }
}

/// Returns the lease holder of a number, when the lease is live.
pub async fn lease_holder(database: &tokio_postgres::Client, number_id: Uuid) -> Option<String> {
    database
        .query_one(
            "select case when lease_expires_at > now() then lease_holder end
             from public.numbers where id = $1",
            &[&number_id],
        )
        .await
        .expect("read the lease")
        .get(0)
}

/// The media bucket's settings from the `WABOT_MEDIA_S3_*` that
/// `scripts/test.sh` exports (another bucket when `bucket` is given).
pub fn media_store_config(bucket: Option<&str>) -> MediaStoreConfig {
    let variable = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
    let endpoint = variable("WABOT_MEDIA_S3_ENDPOINT").unwrap_or_else(|| {
        panic!(
            "WABOT_MEDIA_S3_ENDPOINT is not set: these tests need the stack's S3 server; run them \
             through scripts/test.sh, which starts it and exports WABOT_MEDIA_S3_*"
        )
    });
    MediaStoreConfig::resolve(&MediaStoreArguments {
        endpoint: Some(endpoint),
        region: variable("WABOT_MEDIA_S3_REGION"),
        bucket: bucket
            .map(str::to_owned)
            .or_else(|| variable("WABOT_MEDIA_S3_BUCKET")),
        access_key_id: variable("WABOT_MEDIA_S3_ACCESS_KEY_ID"),
        secret_access_key: variable("WABOT_MEDIA_S3_SECRET_ACCESS_KEY"),
    })
    .expect("valid media settings")
    .expect("media storage on")
}

/// A client of the stack's media bucket.
pub fn media_store() -> MediaStore {
    MediaStore::new(&media_store_config(None)).expect("the media bucket's client")
}
