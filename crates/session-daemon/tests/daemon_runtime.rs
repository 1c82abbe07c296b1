//! Runtime tests of the real `wabot daemon` process: many numbers, leases
//! and failover between daemons, crashes during sends, a Postgres restart,
//! send pacing, the Cloud API against a fake Graph API, the watchdog and
//! reconnects, session commands, and the WhatsApp Web durability hook.
//!
//! Every test is ignored by default; `scripts/test.sh` runs them with
//! `--include-ignored` against the local stack (see `support`). Daemons run
//! with a 4-second lease and a 1-second heartbeat, so failovers take
//! seconds.

mod support;

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};
use support::*;
use uuid::Uuid;

// ---------------------------------------------------------------------------
// Many numbers on one daemon
// ---------------------------------------------------------------------------

#[tokio::test]
#[ignore = "needs the local stack: run by scripts/test.sh"]
async fn many_numbers_on_one_daemon_answer_their_contacts() {
    const N_NUMBERS: usize = 12;
    let stack = stack();
    let database = connect_database(&stack.database_url).await;
    let bot_id = create_demo_bot(&database).await;
    let mut numbers = Vec::new();
    for _ in 0..N_NUMBERS {
        numbers.push(create_number(&database, "simulator", Some(bot_id)).await);
    }
    let phones: Vec<&str> = numbers.iter().map(|n| n.phone_number.as_str()).collect();
    let mut daemon = Daemon::spawn(&stack, DaemonOptions::holding(&phones).relaying());
    daemon.wait_until_answering().await;
    for number in &numbers {
        wait_until_status(&database, number.number_id, "connected").await;
    }

    let contact = random_phone_number('8');
    let sends = numbers
        .iter()
        .map(|number| daemon.contact_sends(&number.phone_number, &contact, "hi"));
    for (status, answer) in futures_util::future::join_all(sends).await {
        assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    }
    for number in &numbers {
        wait_for("the two replies of every number to be sent", || async {
            let replies = outbound(&database, number.number_id).await;
            (replies.len() == 2 && replies.iter().all(|(_, status, _)| status == "sent"))
                .then_some(())
        })
        .await;
        let (status, transcript) = daemon
            .get(&format!(
                "/simulator/transcript?to={}&from={}",
                number.phone_number.replace('+', "%2B"),
                contact.replace('+', "%2B")
            ))
            .await;
        assert_eq!(status, StatusCode::OK);
        let directions: Vec<&str> = transcript["messages"]
            .as_array()
            .expect("messages")
            .iter()
            .map(|message| message["direction"].as_str().unwrap_or_default())
            .collect();
        assert_eq!(directions, ["to_number", "to_contact", "to_contact"]);
    }

    let (status, body) = daemon.get("/status").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["sessions"]["total"], N_NUMBERS);
    assert_eq!(body["sessions"]["by_state"]["connected"], N_NUMBERS);
    assert_eq!(body["sessions"]["by_transport"]["simulator"], N_NUMBERS);

    let metrics = reqwest::get(format!("{}/metrics", daemon.base_url))
        .await
        .expect("get /metrics")
        .text()
        .await
        .expect("the metrics");
    let sample = |name: &str| -> f64 {
        metrics
            .lines()
            .find(|line| line.starts_with(name))
            .and_then(|line| line.rsplit(' ').next())
            .and_then(|value| value.parse().ok())
            .unwrap_or_else(|| panic!("no sample {name} in {metrics}"))
    };
    assert_eq!(
        sample("wabot_sessions{state=\"connected\"}"),
        N_NUMBERS as f64
    );
    assert_eq!(sample("wabot_messages_inbound_total"), N_NUMBERS as f64);
    assert_eq!(
        sample("wabot_messages_outbound_total{result=\"sent\"}"),
        (2 * N_NUMBERS) as f64
    );
    assert_eq!(
        sample("wabot_send_latency_seconds_count"),
        (2 * N_NUMBERS) as f64
    );
    assert_eq!(sample("wabot_leases_held"), N_NUMBERS as f64);
    assert_eq!(sample("wabot_database_up"), 1.0);
    assert!(sample("wabot_outbox_lag_seconds") >= 0.0);

    // The daemon is registered, and its leases are in the database.
    let row = database
        .query_one(
            "select status_url, (select count(*) from public.numbers where lease_holder = r.id)
             from public.runtime_instances as r where id = $1",
            &[&daemon.instance_id],
        )
        .await
        .expect("the daemon's runtime_instances row");
    assert_eq!(
        row.get::<_, Option<String>>(0),
        Some(format!("{}/status", daemon.base_url))
    );
    assert_eq!(row.get::<_, i64>(1), N_NUMBERS as i64);
}

// ---------------------------------------------------------------------------
// Leases and failover
// ---------------------------------------------------------------------------

/// Watches two daemons and records every moment both claim one number.
fn watch_for_double_holders(
    daemons: Vec<String>,
    numbers: Vec<Uuid>,
) -> (
    Arc<AtomicBool>,
    Arc<Mutex<Vec<String>>>,
    tokio::task::JoinHandle<()>,
) {
    let stop = Arc::new(AtomicBool::new(false));
    let violations = Arc::new(Mutex::new(Vec::new()));
    let task = {
        let stop = stop.clone();
        let violations = violations.clone();
        tokio::spawn(async move {
            let http = reqwest::Client::new();
            while !stop.load(Ordering::SeqCst) {
                for number_id in &numbers {
                    let mut holders = Vec::new();
                    for base_url in &daemons {
                        let held = async {
                            let response = http
                                .get(format!("{base_url}/numbers/{number_id}/session"))
                                .bearer_auth(DAEMON_TOKEN)
                                .timeout(Duration::from_millis(500))
                                .send()
                                .await
                                .ok()?;
                            let body: Value = response.json().await.ok()?;
                            body["held_here"].as_bool()
                        }
                        .await;
                        if held == Some(true) {
                            holders.push(base_url.clone());
                        }
                    }
                    if holders.len() > 1 {
                        violations
                            .lock()
                            .expect("the violations")
                            .push(format!("{number_id} held by {holders:?}"));
                    }
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };
    (stop, violations, task)
}

#[tokio::test]
#[ignore = "needs the local stack: run by scripts/test.sh"]
async fn two_daemons_share_the_numbers_and_take_over_each_others() {
    const N_NUMBERS: usize = 6;
    const LEASE: Duration = Duration::from_secs(4);
    let stack = stack();
    let database = connect_database(&stack.database_url).await;
    let mut numbers = Vec::new();
    for _ in 0..N_NUMBERS {
        numbers.push(create_number(&database, "simulator", None).await);
    }
    let phones: Vec<&str> = numbers.iter().map(|n| n.phone_number.as_str()).collect();
    let number_ids: Vec<Uuid> = numbers.iter().map(|n| n.number_id).collect();
    // a takes all but one number; b takes the rest.
    let mut daemon_a = Daemon::spawn(
        &stack,
        DaemonOptions::holding(&phones).with("WABOT_MAX_SESSIONS", &(N_NUMBERS - 1).to_string()),
    );
    daemon_a.wait_until_answering().await;
    wait_for("a to take its numbers", || async {
        let mut n_held = 0;
        for number in &numbers {
            if lease_holder(&database, number.number_id).await.as_deref()
                == Some(daemon_a.instance_id.as_str())
            {
                n_held += 1;
            }
        }
        (n_held == N_NUMBERS - 1).then_some(())
    })
    .await;
    let mut daemon_b = Daemon::spawn(&stack, DaemonOptions::holding(&phones));
    daemon_b.wait_until_answering().await;
    for number in &numbers {
        wait_until_status(&database, number.number_id, "connected").await;
    }
    wait_for("b to take the last number", || async {
        let mut all_held = true;
        for number in &numbers {
            all_held &= lease_holder(&database, number.number_id).await.is_some();
        }
        all_held.then_some(())
    })
    .await;
    let (stop, violations, watcher) = watch_for_double_holders(
        vec![daemon_a.base_url.clone(), daemon_b.base_url.clone()],
        number_ids.clone(),
    );

    // Every number is held by exactly one daemon, in the database and in
    // the daemons' own views.
    let mut held_by_a = Vec::new();
    for number in &numbers {
        let holder = lease_holder(&database, number.number_id)
            .await
            .expect("a live lease");
        let a = daemon_a.holds(number.number_id).await;
        let b = daemon_b.holds(number.number_id).await;
        if holder == daemon_a.instance_id {
            assert_eq!((a, b), (Some(true), Some(false)));
            held_by_a.push(number.number_id);
        } else {
            assert_eq!(holder, daemon_b.instance_id);
            assert_eq!((a, b), (Some(false), Some(true)));
        }
    }
    assert_eq!(held_by_a.len(), N_NUMBERS - 1);

    // SIGKILL a: its numbers move to b within the lease (plus a poll and
    // the connect), and no number is ever held by both.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let killed_at = Instant::now();
    daemon_a.kill();
    for number_id in &held_by_a {
        wait_for("a's numbers to move to b", || async {
            let holder = lease_holder(&database, *number_id).await;
            let connected = session_status(&database, *number_id).await == "connected";
            let held = daemon_b.holds(*number_id).await == Some(true);
            (connected && held && holder.as_deref() == Some(daemon_b.instance_id.as_str()))
                .then_some(())
        })
        .await;
    }
    let takeover = killed_at.elapsed();
    assert!(
        takeover < LEASE + Duration::from_secs(3),
        "the numbers moved after {takeover:?}, more than the lease and a poll"
    );
    assert!(
        takeover > Duration::from_millis(1000),
        "the numbers moved after {takeover:?}: before a's lease could have expired"
    );
    stop.store(true, Ordering::SeqCst);
    watcher.await.expect("the watcher");
    assert_eq!(
        violations.lock().expect("the violations").clone(),
        Vec::<String>::new(),
        "no number was ever held by two daemons at once"
    );
    let mut daemon_b_unlimited = Daemon::spawn(&stack, DaemonOptions::holding(&phones));
    daemon_b_unlimited.wait_until_answering().await;

    // A graceful shutdown hands the numbers over at once: SIGTERM b; its
    // numbers go to the third daemon well within the lease.
    let (stop, violations, watcher) = watch_for_double_holders(
        vec![
            daemon_b.base_url.clone(),
            daemon_b_unlimited.base_url.clone(),
        ],
        number_ids.clone(),
    );
    let mut held_by_b = Vec::new();
    for number in &numbers {
        if lease_holder(&database, number.number_id).await.as_deref()
            == Some(daemon_b.instance_id.as_str())
        {
            held_by_b.push(number.number_id);
        }
    }
    assert!(!held_by_b.is_empty());
    let terminated_at = Instant::now();
    assert!(
        daemon_b.terminate(Duration::from_secs(30)).await,
        "b stops cleanly on SIGTERM"
    );
    for number_id in &held_by_b {
        assert!(
            count_events(&database, *number_id, "stopped").await >= 1,
            "b recorded its sessions stopped"
        );
        wait_for("b's numbers to move to the third daemon", || async {
            let holder = lease_holder(&database, *number_id).await;
            let connected = session_status(&database, *number_id).await == "connected";
            (connected && holder.as_deref() == Some(daemon_b_unlimited.instance_id.as_str()))
                .then_some(())
        })
        .await;
    }
    let handover = terminated_at.elapsed();
    assert!(
        handover < LEASE,
        "a graceful handover took {handover:?}, not less than the lease"
    );
    let status_url: Option<String> = database
        .query_one(
            "select status_url from public.runtime_instances where id = $1",
            &[&daemon_b.instance_id],
        )
        .await
        .expect("b's row")
        .get(0);
    assert_eq!(status_url, None, "b retired its status url");
    stop.store(true, Ordering::SeqCst);
    watcher.await.expect("the watcher");
    assert_eq!(
        violations.lock().expect("the violations").clone(),
        Vec::<String>::new()
    );
}

// ---------------------------------------------------------------------------
// Crashes during sends
// ---------------------------------------------------------------------------

#[tokio::test]
#[ignore = "needs the local stack: run by scripts/test.sh"]
async fn a_sigkill_during_sends_loses_nothing_and_sends_nothing_twice() {
    const N_MESSAGES: usize = 30;
    let stack = stack();
    let database = connect_database(&stack.database_url).await;
    let number = create_number(&database, "simulator", None).await;
    let send_log = |name: &str| {
        let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("send-log-{}-{name}.tsv", number.number_id));
        let _ = std::fs::remove_file(&path);
        path
    };
    let log_a = send_log("a");
    let log_b = send_log("b");
    let mut daemon_a = Daemon::spawn(
        &stack,
        DaemonOptions::holding(&[&number.phone_number])
            .with("WABOT_SIMULATOR_SEND_LOG", &log_a.to_string_lossy()),
    );
    daemon_a.wait_until_answering().await;
    wait_until_status(&database, number.number_id, "connected").await;
    daemon_a
        .script(&number.phone_number, json!({"send_latency_ms": 150}))
        .await;

    let contacts = ["15550170001", "15550170002", "15550170003"];
    let mut queued = Vec::new();
    for index in 0..N_MESSAGES {
        let body = format!("burst-{index:02}");
        queue_outbound(&database, number.number_id, contacts[index % 3], &body).await;
        queued.push(body);
    }
    wait_for("a few sends", || async {
        let sent = outbound(&database, number.number_id)
            .await
            .into_iter()
            .filter(|(_, status, _)| status == "sent")
            .count();
        (sent >= 6).then_some(())
    })
    .await;
    daemon_a.kill();

    let mut daemon_b = Daemon::spawn(
        &stack,
        DaemonOptions::holding(&[&number.phone_number])
            .with("WABOT_SIMULATOR_SEND_LOG", &log_b.to_string_lossy()),
    );
    daemon_b.wait_until_answering().await;
    let messages = wait_for("every message to reach an outcome", || async {
        let messages = outbound(&database, number.number_id).await;
        messages
            .iter()
            .all(|(_, status, _)| status == "sent" || status == "failed")
            .then_some(messages)
    })
    .await;

    let mut deliveries: HashMap<String, usize> = HashMap::new();
    for log in [&log_a, &log_b] {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        for line in text.lines() {
            let body = line.rsplit('\t').next().unwrap_or_default().to_owned();
            *deliveries.entry(body).or_default() += 1;
        }
    }
    let mut n_interrupted = 0;
    for (body, status, error) in &messages {
        let delivered = deliveries.get(body).copied().unwrap_or(0);
        assert!(delivered <= 1, "{body} was delivered {delivered} times");
        match status.as_str() {
            "sent" => assert_eq!(delivered, 1, "{body} is sent but was not delivered"),
            _ => {
                n_interrupted += 1;
                let error = error.as_deref().unwrap_or_default();
                assert!(
                    error.starts_with("interrupted:") && error.contains("may or may not"),
                    "{body} failed for another reason: {error}"
                );
            }
        }
    }
    assert_eq!(messages.len(), N_MESSAGES, "nothing was lost");
    assert!(
        n_interrupted <= 1,
        "only the send in flight at the kill may be interrupted, not {n_interrupted}"
    );
    let bodies: HashSet<&String> = messages.iter().map(|(body, _, _)| body).collect();
    assert_eq!(bodies.len(), N_MESSAGES);
    for body in &queued {
        assert!(bodies.contains(body));
    }
}

// ---------------------------------------------------------------------------
// A Postgres restart
// ---------------------------------------------------------------------------

/// A Postgres cluster of the test's own, made with `scripts/lib/db.sh`
/// (initdb, the Supabase bootstrap, `supabase db push`) and stopped when
/// dropped.
struct PrivateCluster {
    state_dir: PathBuf,
    port: u16,
}

impl PrivateCluster {
    fn script(&self, body: &str) -> std::process::Output {
        let repository = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
        std::process::Command::new("bash")
            .arg("-c")
            .arg(format!(
                "set -euo pipefail; source scripts/lib/common.sh; source scripts/lib/db.sh; {body}"
            ))
            .current_dir(repository)
            .env("STATE_DIR", &self.state_dir)
            .env("PORT", self.port.to_string())
            .env("WABOT_PG_FSYNC", "off")
            .output()
            .expect("run bash")
    }

    fn start() -> PrivateCluster {
        let port = free_port();
        let state_dir =
            PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("private-cluster-{port}"));
        let _ = std::fs::remove_dir_all(&state_dir);
        let cluster = PrivateCluster { state_dir, port };
        let output = cluster.script(r#"db_start "$STATE_DIR" "$PORT" && db_migrate "$PORT""#);
        assert!(
            output.status.success(),
            "could not start the private cluster: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        cluster
    }

    fn url(&self) -> String {
        format!(
            "postgresql://postgres:postgres@127.0.0.1:{}/postgres",
            self.port
        )
    }

    fn pg_ctl(&self, action: &str) {
        let output = self.script(&format!(
            r#"as_postgres pg_ctl -D "$STATE_DIR/pgdata" -m fast -w -t 60 -l "$STATE_DIR/postgres.log" {action} >/dev/null"#
        ));
        assert!(
            output.status.success(),
            "could not {action} the private cluster: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        let _ = self.script(r#"db_stop "$STATE_DIR""#);
        let _ = std::fs::remove_dir_all(&self.state_dir);
    }
}

#[tokio::test]
#[ignore = "needs the local stack: run by scripts/test.sh"]
async fn a_postgres_restart_is_survived_without_restarting_the_daemon() {
    let stack = stack();
    let cluster = tokio::task::spawn_blocking(PrivateCluster::start)
        .await
        .expect("start the cluster");
    let database = connect_database(&cluster.url()).await;
    let number = create_number(&database, "simulator", None).await;
    let mut daemon = Daemon::spawn(
        &stack,
        DaemonOptions {
            database_url: Some(cluster.url()),
            ..DaemonOptions::holding(&[&number.phone_number])
        }
        // A lease longer than the restart, so the session stays up.
        .with("WABOT_LEASE_SECONDS", "30")
        .with("WABOT_HEARTBEAT_SECONDS", "2"),
    );
    daemon.wait_until_answering().await;
    wait_until_status(&database, number.number_id, "connected").await;
    let contact = random_phone_number('8');
    let (status, answer) = daemon
        .contact_sends(&number.phone_number, &contact, "before the restart")
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    drop(database);

    // Postgres goes away for a few seconds, then comes back.
    let pg_ctl = |action: &'static str| {
        let state_dir = cluster.state_dir.clone();
        let port = cluster.port;
        tokio::task::spawn_blocking(move || {
            let cluster = PrivateCluster { state_dir, port };
            cluster.pg_ctl(action);
            std::mem::forget(cluster);
        })
    };
    pg_ctl("stop").await.expect("stop the cluster");
    wait_for("/status to report the database unreachable", || async {
        (daemon.get("/status").await.0 == StatusCode::SERVICE_UNAVAILABLE).then_some(())
    })
    .await;
    let (status, _) = daemon
        .contact_sends(&number.phone_number, &contact, "during the outage")
        .await;
    assert_eq!(
        status,
        StatusCode::SERVICE_UNAVAILABLE,
        "nothing is acknowledged that was not stored"
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    pg_ctl("start").await.expect("start the cluster again");
    let database = connect_database(&cluster.url()).await;

    wait_for("/status to answer 200 again", || async {
        (daemon.get("/status").await.0 == StatusCode::OK).then_some(())
    })
    .await;
    wait_for("an inbound message to be stored again", || async {
        let (status, _) = daemon
            .contact_sends(&number.phone_number, &contact, "after the restart")
            .await;
        (status == StatusCode::ACCEPTED).then_some(())
    })
    .await;
    let n_inbound: i64 = database
        .query_one(
            "select count(*) from public.messages where number_id = $1 and direction = 'inbound'",
            &[&number.number_id],
        )
        .await
        .expect("count")
        .get(0);
    assert_eq!(n_inbound, 2);

    // LISTEN came back: a queued message and a session command are served.
    queue_outbound(
        &database,
        number.number_id,
        "15550170009",
        "after the restart",
    )
    .await;
    wait_for("the queued message to be sent", || async {
        let messages = outbound(&database, number.number_id).await;
        (messages.len() == 1 && messages[0].1 == "sent").then_some(())
    })
    .await;
    database
        .execute(
            "insert into public.session_commands (number_id, command) values ($1, 'restart')",
            &[&number.number_id],
        )
        .await
        .expect("queue a restart");
    wait_for("the restart command to be done", || async {
        let row = database
            .query_one(
                "select status from public.session_commands where number_id = $1",
                &[&number.number_id],
            )
            .await
            .ok()?;
        (row.get::<_, String>(0) == "done").then_some(())
    })
    .await;
    assert_eq!(
        session_status(&database, number.number_id).await,
        "connected"
    );
    wait_for("the LISTEN connection to be re-opened", || async {
        (daemon.log().matches("listening for outbox").count() >= 2).then_some(())
    })
    .await;
    assert!(
        daemon.is_running(),
        "the same daemon process served throughout"
    );
    drop(daemon);
    drop(cluster);
}

// ---------------------------------------------------------------------------
// Pacing
// ---------------------------------------------------------------------------

/// The `sent_at` times of a number's outbound messages, in milliseconds.
async fn sent_times_ms(database: &tokio_postgres::Client, number_id: Uuid) -> Vec<i64> {
    database
        .query(
            "select (extract(epoch from sent_at) * 1000)::int8 from public.messages
             where number_id = $1 and direction = 'outbound' and status = 'sent'
             order by sent_at",
            &[&number_id],
        )
        .await
        .expect("the sent times")
        .into_iter()
        .map(|row| row.get(0))
        .collect()
}

#[tokio::test]
#[ignore = "needs the local stack: run by scripts/test.sh"]
async fn a_burst_is_paced_and_a_rate_limit_pauses_only_its_number() {
    const BURST: usize = 8;
    let stack = stack();
    let database = connect_database(&stack.database_url).await;
    let paced = create_number(&database, "simulator", None).await;
    let other = create_number(&database, "simulator", None).await;
    // Two tokens, two a second; a rate-limit error pauses for 3 s.
    let policy = json!({
        "capacity": 2, "refill_per_second": 2.0, "warm_up": [],
        "new_contacts_per_day": 1000, "rate_limit_pauses_ms": [3000]
    });
    let mut daemon = Daemon::spawn(
        &stack,
        DaemonOptions::holding(&[&paced.phone_number, &other.phone_number])
            .with("WABOT_PACING_SIMULATOR", &policy.to_string()),
    );
    daemon.wait_until_answering().await;
    wait_until_status(&database, paced.number_id, "connected").await;
    wait_until_status(&database, other.number_id, "connected").await;

    // A burst to one number goes out at the bucket's pace: two at once,
    // then one every 500 ms.
    for index in 0..BURST {
        queue_outbound(
            &database,
            paced.number_id,
            "15550170101",
            &format!("paced-{index}"),
        )
        .await;
    }
    let times = wait_for("the burst to be sent", || async {
        let times = sent_times_ms(&database, paced.number_id).await;
        (times.len() == BURST).then_some(times)
    })
    .await;
    let first = times[0];
    for (index, time) in times.iter().enumerate().skip(2) {
        let earliest = i64::try_from(index - 1).expect("small") * 500 - 100;
        assert!(
            time - first >= earliest,
            "message {index} went {} ms after the first, before the bucket allowed ({earliest} ms): {times:?}",
            time - first
        );
    }
    let span = times[BURST - 1] - first;
    assert!(
        (2_900..6_000).contains(&span),
        "the burst took {span} ms; the policy spreads it over 3 s"
    );

    // A rate-limit error on one number pauses that number only.
    daemon
        .script(&paced.phone_number, json!({"rate_limit_sends": 1}))
        .await;
    tokio::time::sleep(Duration::from_millis(1200)).await; // refill
    let queued_at = Instant::now();
    for index in 0..3 {
        queue_outbound(
            &database,
            paced.number_id,
            "15550170102",
            &format!("after-limit-{index}"),
        )
        .await;
        queue_outbound(
            &database,
            other.number_id,
            "15550170103",
            &format!("unaffected-{index}"),
        )
        .await;
    }
    wait_for("the other number's messages to be sent", || async {
        let messages = outbound(&database, other.number_id).await;
        (messages.len() == 3 && messages.iter().all(|(_, status, _)| status == "sent"))
            .then_some(())
    })
    .await;
    let other_done = queued_at.elapsed();
    assert!(
        other_done < Duration::from_millis(2500),
        "the other number was held up for {other_done:?}"
    );
    wait_until_status(&database, paced.number_id, "rate_limited").await;
    let (_, session) = daemon
        .get(&format!("/numbers/{}/session", paced.number_id))
        .await;
    assert!(session["pacing"]["paused_until"].is_string(), "{session}");
    assert_eq!(session["pacing"]["rate_limit_errors"], 1, "{session}");
    wait_for("the paused number's messages to be sent", || async {
        let messages = outbound(&database, paced.number_id).await;
        messages
            .iter()
            .filter(|(body, status, _)| body.starts_with("after-limit") && status == "sent")
            .count()
            .eq(&3)
            .then_some(())
    })
    .await;
    let paused_for = queued_at.elapsed();
    assert!(
        paused_for >= Duration::from_millis(2900),
        "the number resumed after {paused_for:?}, before its 3-second pause ended"
    );
    assert_eq!(
        count_events(&database, paced.number_id, "rate_limited").await,
        1
    );
    assert_eq!(
        count_events(&database, paced.number_id, "rate_limit_cleared").await,
        1
    );
    assert_eq!(
        count_events(&database, other.number_id, "rate_limited").await,
        0
    );
    assert_eq!(
        session_status(&database, paced.number_id).await,
        "connected"
    );
    let saved: i64 = database
        .query_one(
            "select (state ->> 'rate_limit_errors')::int8 from public.number_pacing_states
             where number_id = $1",
            &[&paced.number_id],
        )
        .await
        .expect("the saved pacing state")
        .get(0);
    assert_eq!(saved, 1, "the pause is saved for a successor");
}

// ---------------------------------------------------------------------------
// The Cloud API
// ---------------------------------------------------------------------------

/// What the fake Graph API received: (phone number id, bearer, body).
type GraphRequests = Arc<Mutex<Vec<(String, String, Value)>>>;

/// A fake of the Graph API's `POST /v21.0/{phone_number_id}/messages`: it
/// answers with a `wamid`, or with the error code scripted for the
/// recipient (once).
async fn spawn_fake_graph_api(
    scripted_errors: Arc<Mutex<HashMap<String, Vec<i64>>>>,
) -> (SocketAddr, GraphRequests) {
    use axum::extract::{Path, State};
    use axum::http::HeaderMap;
    use axum::routing::post;

    #[derive(Clone)]
    struct Fake {
        requests: GraphRequests,
        errors: Arc<Mutex<HashMap<String, Vec<i64>>>>,
    }
    async fn messages(
        State(fake): State<Fake>,
        Path(phone_number_id): Path<String>,
        headers: HeaderMap,
        body: axum::Json<Value>,
    ) -> (axum::http::StatusCode, axum::Json<Value>) {
        let bearer = headers
            .get("authorization")
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let recipient = body["to"].as_str().unwrap_or_default().to_owned();
        fake.requests
            .lock()
            .expect("requests")
            .push((phone_number_id, bearer, body.0.clone()));
        let scripted = fake
            .errors
            .lock()
            .expect("errors")
            .get_mut(&recipient)
            .and_then(|codes| (!codes.is_empty()).then(|| codes.remove(0)));
        if let Some(code) = scripted {
            let status = if code == 130429 {
                axum::http::StatusCode::TOO_MANY_REQUESTS
            } else {
                axum::http::StatusCode::BAD_REQUEST
            };
            return (
                status,
                axum::Json(json!({"error": {
                    "message": format!("(#{code}) scripted"), "type": "OAuthException", "code": code,
                    "error_data": {"messaging_product": "whatsapp", "details": "scripted by the test"},
                    "fbtrace_id": "AbCdEf"}})),
            );
        }
        (
            axum::http::StatusCode::OK,
            axum::Json(json!({
                "messaging_product": "whatsapp",
                "contacts": [{"input": recipient, "wa_id": recipient}],
                "messages": [{"id": format!("wamid.{}", Uuid::new_v4().simple())}]
            })),
        )
    }
    let requests: GraphRequests = Arc::new(Mutex::new(Vec::new()));
    let app = axum::Router::new()
        .route("/v21.0/{phone_number_id}/messages", post(messages))
        .with_state(Fake {
            requests: requests.clone(),
            errors: scripted_errors,
        });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the fake graph api");
    let address = listener.local_addr().expect("its address");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (address, requests)
}

/// A `messages` notification as in Meta's webhook reference.
fn cloud_text_notification(phone_number_id: &str, from: &str, wamid: &str, text: &str) -> Value {
    json!({
      "object": "whatsapp_business_account",
      "entry": [{
        "id": "102290129340398",
        "changes": [{
          "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": phone_number_id},
            "contacts": [{"profile": {"name": "Sheena Nelson"}, "wa_id": from}],
            "messages": [{"from": from, "id": wamid, "timestamp": "1749416383", "type": "text",
                          "text": {"body": text}}]
          },
          "field": "messages"
        }]
      }]
    })
}

/// A `statuses` notification as in Meta's webhook reference.
fn cloud_status_notification(
    phone_number_id: &str,
    recipient: &str,
    wamid: &str,
    status: &str,
    errors: Option<Value>,
) -> Value {
    let mut entry = json!({"id": wamid, "status": status, "timestamp": "1750263773",
                           "recipient_id": recipient,
                           "pricing": {"billable": true, "pricing_model": "PMP", "category": "service"}});
    if let Some(errors) = errors {
        entry["errors"] = errors;
    }
    json!({
      "object": "whatsapp_business_account",
      "entry": [{"id": "102290129340398", "changes": [{"value": {
          "messaging_product": "whatsapp",
          "metadata": {"display_phone_number": "15550783881", "phone_number_id": phone_number_id},
          "statuses": [entry]}, "field": "messages"}]}]
    })
}

const APP_SECRET: &str = "test-meta-app-secret";

async fn deliver_webhook(
    daemon: &Daemon,
    payload: &Value,
    signature: Option<String>,
) -> StatusCode {
    let body = payload.to_string();
    let signature = signature
        .unwrap_or_else(|| session_daemon::cloud_webhook::sign(APP_SECRET, body.as_bytes()));
    reqwest::Client::new()
        .post(format!("{}/cloud/webhook", daemon.base_url))
        .header("content-type", "application/json")
        .header("x-hub-signature-256", signature)
        .body(body)
        .send()
        .await
        .expect("post the webhook")
        .status()
}

#[tokio::test]
#[ignore = "needs the local stack: run by scripts/test.sh"]
async fn the_cloud_api_transport_talks_to_the_graph_api_and_takes_signed_webhooks() {
    let stack = stack();
    let database = connect_database(&stack.database_url).await;
    let bot_id = create_demo_bot(&database).await;
    let number = create_number(&database, "cloud", Some(bot_id)).await;
    let phone_number_id = format!("{}", Uuid::new_v4().as_u128() % 1_000_000_000_000_000);
    database
        .execute(
            "insert into public.session_credentials (number_id, credentials) values ($1, $2)",
            &[
                &number.number_id,
                &json!({"phone_number_id": phone_number_id}),
            ],
        )
        .await
        .expect("the cloud credentials");
    let scripted_errors = Arc::new(Mutex::new(HashMap::new()));
    let (graph_address, requests) = spawn_fake_graph_api(scripted_errors.clone()).await;
    let mut daemon = Daemon::spawn(
        &stack,
        DaemonOptions::holding(&[&number.phone_number])
            .relaying()
            .with(
                "WABOT_CLOUD_API_BASE_URL",
                &format!("http://{graph_address}/v21.0"),
            )
            .with("WABOT_CLOUD_ACCESS_TOKEN", "system-user-token")
            .with("WABOT_CLOUD_APP_SECRET", APP_SECRET)
            .with("WABOT_CLOUD_VERIFY_TOKEN", "verify-me")
            .with("WABOT_PACING_CLOUD", r#"{"rate_limit_pauses_ms": [1500]}"#),
    );
    daemon.wait_until_answering().await;
    wait_until_status(&database, number.number_id, "connected").await;

    // The verification handshake.
    let verify = |token: &str| {
        reqwest::Client::new()
            .get(format!("{}/cloud/webhook", daemon.base_url))
            .query(&[
                ("hub.mode", "subscribe"),
                ("hub.verify_token", token),
                ("hub.challenge", "1158201444"),
            ])
            .send()
    };
    let response = verify("verify-me").await.expect("verify");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.text().await.expect("the challenge"), "1158201444");
    assert_eq!(
        verify("wrong").await.expect("verify").status(),
        StatusCode::FORBIDDEN
    );

    // A badly signed delivery is refused and stores nothing.
    let contact = format!("1650555{:04}", Uuid::new_v4().as_u128() % 10_000);
    let forged = cloud_text_notification(&phone_number_id, &contact, "wamid.FORGED", "hi");
    let status = deliver_webhook(
        &daemon,
        &forged,
        Some(session_daemon::cloud_webhook::sign(
            "another-secret",
            forged.to_string().as_bytes(),
        )),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        deliver_webhook(&daemon, &forged, Some("sha256=00".to_owned())).await,
        StatusCode::UNAUTHORIZED
    );
    let unsigned = reqwest::Client::new()
        .post(format!("{}/cloud/webhook", daemon.base_url))
        .body(forged.to_string())
        .send()
        .await
        .expect("post")
        .status();
    assert_eq!(unsigned, StatusCode::UNAUTHORIZED);
    let n_forged: i64 = database
        .query_one(
            "select count(*) from public.messages where number_id = $1",
            &[&number.number_id],
        )
        .await
        .expect("count")
        .get(0);
    assert_eq!(n_forged, 0, "nothing from a bad signature is stored");

    // A signed message is stored once (redelivery included), routed, and
    // the bot's replies go out through the Graph API.
    let wamid = format!("wamid.{}", Uuid::new_v4().simple());
    let message = cloud_text_notification(&phone_number_id, &contact, &wamid, "hi");
    assert_eq!(
        deliver_webhook(&daemon, &message, None).await,
        StatusCode::OK
    );
    assert_eq!(
        deliver_webhook(&daemon, &message, None).await,
        StatusCode::OK
    );
    let row = database
        .query_one(
            "select contact_wa_id, contact_name, body from public.messages
             where number_id = $1 and wa_message_id = $2 and direction = 'inbound'",
            &[&number.number_id, &wamid],
        )
        .await
        .expect("the inbound message is stored once");
    assert_eq!(row.get::<_, String>(0), contact);
    assert_eq!(
        row.get::<_, Option<String>>(1).as_deref(),
        Some("Sheena Nelson")
    );
    assert_eq!(row.get::<_, String>(2), "hi");
    wait_for(
        "the two replies to be sent through the graph api",
        || async {
            let replies = outbound(&database, number.number_id).await;
            (replies.len() == 2 && replies.iter().all(|(_, status, _)| status == "sent"))
                .then_some(())
        },
    )
    .await;
    {
        let requests = requests.lock().expect("requests");
        assert_eq!(requests.len(), 2);
        for (requested_phone_number_id, bearer, body) in requests.iter() {
            assert_eq!(requested_phone_number_id, &phone_number_id);
            assert_eq!(bearer, "Bearer system-user-token");
            assert_eq!(body["messaging_product"], "whatsapp");
            assert_eq!(body["to"], contact.as_str());
            assert_eq!(body["type"], "text");
        }
        assert!(requests[0].2["text"]["body"]
            .as_str()
            .is_some_and(|text| text.starts_with("Hi Sheena Nelson!")));
    }

    // Status webhooks become receipts.
    let reply_wamid: String = database
        .query_one(
            "select wa_message_id from public.messages
             where number_id = $1 and direction = 'outbound' order by created_at, reply_index limit 1",
            &[&number.number_id],
        )
        .await
        .expect("the first reply")
        .get(0);
    for status in ["delivered", "read"] {
        let payload =
            cloud_status_notification(&phone_number_id, &contact, &reply_wamid, status, None);
        assert_eq!(
            deliver_webhook(&daemon, &payload, None).await,
            StatusCode::OK
        );
    }
    let row = database
        .query_one(
            "select status, delivered_at is not null, read_at is not null from public.messages
             where number_id = $1 and wa_message_id = $2",
            &[&number.number_id, &reply_wamid],
        )
        .await
        .expect("the reply");
    assert_eq!(row.get::<_, String>(0), "read");
    assert!(row.get::<_, bool>(1) && row.get::<_, bool>(2));

    // A failed status (re-engagement window) fails the message with Meta's
    // reason.
    let second_reply: (String,) = database
        .query_one(
            "select wa_message_id from public.messages
             where number_id = $1 and direction = 'outbound' order by created_at, reply_index offset 1 limit 1",
            &[&number.number_id],
        )
        .await
        .map(|row| (row.get(0),))
        .expect("the second reply");
    let failed = cloud_status_notification(
        &phone_number_id,
        &contact,
        &second_reply.0,
        "failed",
        Some(
            json!([{"code": 131047, "title": "Re-engagement message", "message": "Re-engagement message",
                     "error_data": {"details": "Message failed to send because more than 24 hours have passed since the customer last replied to this number."}}]),
        ),
    );
    assert_eq!(
        deliver_webhook(&daemon, &failed, None).await,
        StatusCode::OK
    );
    let (status, error): (String, Option<String>) = database
        .query_one(
            "select status, error from public.messages where number_id = $1 and wa_message_id = $2",
            &[&number.number_id, &second_reply.0],
        )
        .await
        .map(|row| (row.get(0), row.get(1)))
        .expect("the second reply");
    assert_eq!(status, "failed");
    assert!(error.is_some_and(|error| error.contains("131047")));

    // Graph API errors: the re-engagement window fails the message; the pair
    // rate limit holds the contact and retries; a throughput error pauses
    // the number, then the message goes out.
    let stale_contact = "16505550001";
    let pair_contact = "16505550002";
    let busy_contact = "16505550003";
    scripted_errors.lock().expect("errors").extend([
        (stale_contact.to_owned(), vec![131047]),
        (pair_contact.to_owned(), vec![131056]),
        (busy_contact.to_owned(), vec![130429]),
    ]);
    // Each contact wrote first (a free-form send needs the 24-hour window
    // open on the platform's side; Meta may still say 131047).
    for contact in [stale_contact, pair_contact, busy_contact] {
        contact_wrote(&database, number.number_id, contact).await;
    }
    let stale = queue_outbound(&database, number.number_id, stale_contact, "too late").await;
    wait_for("the re-engagement error to fail the message", || async {
        let row = database
            .query_one(
                "select status, error from public.messages where id = $1",
                &[&stale],
            )
            .await
            .ok()?;
        let error: Option<String> = row.get(1);
        (row.get::<_, String>(0) == "failed"
            && error.is_some_and(|error| error.contains("24 hours")))
        .then_some(())
    })
    .await;
    let paired = queue_outbound(&database, number.number_id, pair_contact, "slow down").await;
    wait_for(
        "the pair-rate-limited message to go out on a retry",
        || async {
            let row = database
                .query_one(
                    "select status, attempts from public.messages where id = $1",
                    &[&paired],
                )
                .await
                .ok()?;
            (row.get::<_, String>(0) == "sent").then_some(row.get::<_, i32>(1))
        },
    )
    .await;
    let busy = queue_outbound(&database, number.number_id, busy_contact, "busy").await;
    wait_until_status(&database, number.number_id, "rate_limited").await;
    wait_for(
        "the throughput-limited message to go out after the pause",
        || async {
            let row = database
                .query_one("select status from public.messages where id = $1", &[&busy])
                .await
                .ok()?;
            (row.get::<_, String>(0) == "sent").then_some(())
        },
    )
    .await;
    wait_until_status(&database, number.number_id, "connected").await;
    let requested: Vec<String> = requests
        .lock()
        .expect("requests")
        .iter()
        .map(|(_, _, body)| body["to"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        requested.iter().filter(|to| *to == stale_contact).count(),
        1
    );
    assert_eq!(requested.iter().filter(|to| *to == pair_contact).count(), 2);
    assert_eq!(requested.iter().filter(|to| *to == busy_contact).count(), 2);

    // Later suites' daemons should not try this number against a Graph API
    // that is gone.
    drop(daemon);
    remove_number(&database, number.number_id).await;
}

// ---------------------------------------------------------------------------
// Rich messages: every kind in and out, stored whole (issue 13)
// ---------------------------------------------------------------------------

/// Queues an outbound message with the model's content (and the message it
/// quotes); `body` is left to the schema's trigger (the summary).
async fn queue_content(
    database: &tokio_postgres::Client,
    number_id: Uuid,
    contact_wa_id: &str,
    content: Value,
    context_wa_message_id: Option<&str>,
) -> Uuid {
    database
        .query_one(
            "insert into public.messages
                 (number_id, direction, status, contact_wa_id, body, content, context_wa_message_id)
             values ($1, 'outbound', 'queued', $2, '', $3, $4) returning id",
            &[&number_id, &contact_wa_id, &content, &context_wa_message_id],
        )
        .await
        .expect("queue an outbound message with content")
        .get(0)
}

/// The stored row of an inbound message: type, body, content, quoted id,
/// payload.
async fn stored_inbound(
    database: &tokio_postgres::Client,
    number_id: Uuid,
    wa_message_id: &str,
) -> (String, String, Value, Option<String>, Value) {
    let row = database
        .query_one(
            "select type, body, content, context_wa_message_id, payload from public.messages
             where number_id = $1 and wa_message_id = $2 and direction = 'inbound'",
            &[&number_id, &wa_message_id],
        )
        .await
        .unwrap_or_else(|error| panic!("the inbound message {wa_message_id} is stored: {error}"));
    (row.get(0), row.get(1), row.get(2), row.get(3), row.get(4))
}

/// Waits until every message is out of the queue; returns (status, error).
async fn settled(
    database: &tokio_postgres::Client,
    ids: &[Uuid],
) -> HashMap<Uuid, (String, Option<String>)> {
    wait_for("the queued messages to be sent or failed", || async {
        let rows = database
            .query(
                "select id, status, error from public.messages where id = any($1)",
                &[&ids],
            )
            .await
            .ok()?;
        let states: HashMap<Uuid, (String, Option<String>)> = rows
            .into_iter()
            .map(|row| (row.get(0), (row.get(1), row.get(2))))
            .collect();
        (states.len() == ids.len()
            && states
                .values()
                .all(|(status, _)| status == "sent" || status == "failed"))
        .then_some(states)
    })
    .await
}

#[tokio::test]
#[ignore = "needs the local stack: run by scripts/test.sh"]
async fn every_kind_travels_whole_through_the_cloud_api() {
    let stack = stack();
    let database = connect_database(&stack.database_url).await;
    let number = create_number(&database, "cloud", None).await;
    let phone_number_id = format!("{}", Uuid::new_v4().as_u128() % 1_000_000_000_000_000);
    database
        .execute(
            "insert into public.session_credentials (number_id, credentials) values ($1, $2)",
            &[
                &number.number_id,
                &json!({"phone_number_id": phone_number_id}),
            ],
        )
        .await
        .expect("the cloud credentials");
    let (graph_address, requests) =
        spawn_fake_graph_api(Arc::new(Mutex::new(HashMap::new()))).await;
    let mut daemon = Daemon::spawn(
        &stack,
        DaemonOptions::holding(&[&number.phone_number])
            .with(
                "WABOT_CLOUD_API_BASE_URL",
                &format!("http://{graph_address}/v21.0"),
            )
            .with("WABOT_CLOUD_ACCESS_TOKEN", "system-user-token")
            .with("WABOT_CLOUD_APP_SECRET", APP_SECRET),
    );
    daemon.wait_until_answering().await;
    wait_until_status(&database, number.number_id, "connected").await;

    // Inbound: Meta's documented webhook payloads, one message per kind.
    let contact = format!("1650555{:04}", Uuid::new_v4().as_u128() % 10_000);
    let id = |kind: &str| format!("wamid.{kind}.{}", Uuid::new_v4().simple());
    let ids: HashMap<&str, String> = [
        "image",
        "voice",
        "document",
        "location",
        "contacts",
        "reaction",
        "button",
        "list",
        "template",
        "system",
        "unsupported",
        "far_away",
    ]
    .into_iter()
    .map(|kind| (kind, id(kind)))
    .collect();
    let messages = json!([
        {"from": contact, "id": ids["image"], "timestamp": "1750020000", "type": "image",
         "image": {"caption": "my order", "mime_type": "image/jpeg", "sha256": "qZ9lVTK4Fq/9Ek8m5U4yE1p8f8A=", "id": "1003383421387256"}},
        {"from": contact, "id": ids["voice"], "timestamp": "1750020000", "type": "audio",
         "audio": {"mime_type": "audio/ogg; codecs=opus", "sha256": "def=", "id": "1003383421387257", "voice": true}},
        {"from": contact, "id": ids["document"], "timestamp": "1750020000", "type": "document",
         "document": {"filename": "invoice.pdf", "mime_type": "application/pdf", "sha256": "pdf=", "id": "1003383421387258"}},
        {"from": contact, "id": ids["location"], "timestamp": "1750020000", "type": "location",
         "location": {"address": "1 Hacker Way, Menlo Park, CA 94025", "latitude": 37.483307, "longitude": -122.148981, "name": "Main Street Beach"}},
        {"from": contact, "id": ids["contacts"], "timestamp": "1750020000", "type": "contacts",
         "contacts": [{"name": {"formatted_name": "Barbara J. Johnson", "first_name": "Barbara"},
                       "phones": [{"phone": "+1 (415) 555-0123", "wa_id": "14155550123", "type": "CELL"}]}]},
        {"from": contact, "id": ids["reaction"], "timestamp": "1750020000", "type": "reaction",
         "reaction": {"message_id": "wamid.REACTED", "emoji": "\u{1f44d}"}},
        {"context": {"from": "15550783881", "id": "wamid.BUTTONS"}, "from": contact, "id": ids["button"],
         "timestamp": "1750020000", "type": "interactive",
         "interactive": {"type": "button_reply", "button_reply": {"id": "1", "title": "Opening hours"}}},
        {"context": {"from": "15550783881", "id": "wamid.LIST"}, "from": contact, "id": ids["list"],
         "timestamp": "1750020000", "type": "interactive",
         "interactive": {"type": "list_reply", "list_reply": {"id": "priority_express", "title": "Priority Mail Express", "description": "Next Day to 2 Days"}}},
        {"context": {"from": "15550783881", "id": "wamid.TEMPLATE"}, "from": contact, "id": ids["template"],
         "timestamp": "1750020000", "type": "button", "button": {"payload": "STOP_PROMOS", "text": "Stop promotions"}},
        {"from": contact, "id": ids["system"], "timestamp": "1750020000", "type": "system",
         "system": {"body": "Sheena changed from 16505551234 to 16505559999", "new_wa_id": "16505559999", "type": "user_changed_number"}},
        {"context": {"from": "15550783881", "id": "x".repeat(300)}, "from": contact, "id": ids["far_away"],
         "timestamp": "1750020000", "type": "location", "location": {"latitude": 999.0, "longitude": 0.0}},
        {"from": contact, "id": ids["unsupported"], "timestamp": "1750020000", "type": "unsupported",
         "errors": [{"code": 131051, "title": "Message type unknown", "message": "Message type unknown",
                     "error_data": {"details": "Message type is currently not supported."}}]}
    ]);
    let notification = json!({
      "object": "whatsapp_business_account",
      "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": {
          "messaging_product": "whatsapp",
          "metadata": {"display_phone_number": "15550783881", "phone_number_id": phone_number_id},
          "contacts": [{"profile": {"name": "Sheena Nelson"}, "wa_id": contact}],
          "messages": messages}}]}]
    });
    assert_eq!(
        deliver_webhook(&daemon, &notification, None).await,
        StatusCode::OK
    );

    let (kind, body, content, _, _) =
        stored_inbound(&database, number.number_id, &ids["image"]).await;
    assert_eq!((kind.as_str(), body.as_str()), ("image", "my order"));
    assert_eq!(
        content,
        json!({"kind": "image", "media_id": "1003383421387256", "mime_type": "image/jpeg",
               "sha256": "qZ9lVTK4Fq/9Ek8m5U4yE1p8f8A=", "caption": "my order"})
    );
    let (kind, _, content, _, _) = stored_inbound(&database, number.number_id, &ids["voice"]).await;
    assert_eq!(kind, "voice");
    assert_eq!(content["media_id"], "1003383421387257");
    let (_, body, content, _, _) =
        stored_inbound(&database, number.number_id, &ids["document"]).await;
    assert_eq!(body, "invoice.pdf");
    assert_eq!(content["filename"], "invoice.pdf");
    let (kind, body, content, _, _) =
        stored_inbound(&database, number.number_id, &ids["location"]).await;
    assert_eq!(kind, "location");
    assert_eq!(
        body,
        "Main Street Beach, 1 Hacker Way, Menlo Park, CA 94025"
    );
    assert_eq!(
        (content["latitude"].as_f64(), content["longitude"].as_f64()),
        (Some(37.483307), Some(-122.148981))
    );
    let (_, _, content, _, _) = stored_inbound(&database, number.number_id, &ids["contacts"]).await;
    assert_eq!(content["contacts"][0]["phones"][0]["wa_id"], "14155550123");
    let (kind, body, content, _, _) =
        stored_inbound(&database, number.number_id, &ids["reaction"]).await;
    assert_eq!((kind.as_str(), body.as_str()), ("reaction", "\u{1f44d}"));
    assert_eq!(content["message_id"], "wamid.REACTED");
    let (kind, body, content, context, payload) =
        stored_inbound(&database, number.number_id, &ids["button"]).await;
    assert_eq!(
        (kind.as_str(), body.as_str()),
        ("button_reply", "Opening hours")
    );
    assert_eq!(
        content,
        json!({"kind": "button_reply", "id": "1", "title": "Opening hours"})
    );
    assert_eq!(context.as_deref(), Some("wamid.BUTTONS"));
    assert_eq!(payload["reply_id"], "1");
    let (kind, _, content, context, _) =
        stored_inbound(&database, number.number_id, &ids["list"]).await;
    assert_eq!(kind, "list_reply");
    assert_eq!(content["id"], "priority_express");
    assert_eq!(content["description"], "Next Day to 2 Days");
    assert_eq!(context.as_deref(), Some("wamid.LIST"));
    let (kind, _, content, context, _) =
        stored_inbound(&database, number.number_id, &ids["template"]).await;
    assert_eq!(kind, "button_reply");
    assert_eq!(content["id"], "STOP_PROMOS");
    assert_eq!(context.as_deref(), Some("wamid.TEMPLATE"));
    let (kind, _, content, _, _) =
        stored_inbound(&database, number.number_id, &ids["system"]).await;
    assert_eq!(kind, "system");
    assert_eq!(
        content,
        json!({"kind": "system", "system_type": "user_changed_number",
               "text": "Sheena changed from 16505551234 to 16505559999", "new_wa_id": "16505559999"})
    );
    let (kind, _, content, _, payload) =
        stored_inbound(&database, number.number_id, &ids["unsupported"]).await;
    assert_eq!(kind, "unknown");
    assert_eq!(content["original_type"], "unsupported");
    assert_eq!(payload["unsupported"], true);
    assert_eq!(payload["raw"]["errors"][0]["code"], 131051);

    // A message the schema would refuse as it is (coordinates out of range,
    // a quoted id over 256 characters) is stored as unknown instead of
    // failing the whole delivery, which Meta would retry for days.
    let (kind, _, content, context, payload) =
        stored_inbound(&database, number.number_id, &ids["far_away"]).await;
    assert_eq!(kind, "unknown");
    assert_eq!(content["original_type"], "location");
    assert_eq!(context, None);
    assert_eq!(payload["raw"]["location"]["latitude"], 999.0);

    // Outbound: each kind queued with its content reaches the Graph API as
    // Meta documents it; content breaking WhatsApp's limits, or not the
    // model's shape, fails for good with its path and is never sent.
    let buttons = json!({"kind": "buttons", "text": "How can we help?", "footer": "Acme",
                         "buttons": [{"id": "hours", "title": "Opening hours"}, {"id": "address", "title": "Address"}]});
    let list = json!({"kind": "list", "text": "Which shipping option do you prefer?", "button": "Shipping Options",
                      "sections": [{"title": "I want it ASAP!", "rows": [
                          {"id": "priority_express", "title": "Priority Mail Express", "description": "Next Day to 2 Days"}]}]});
    let location = json!({"kind": "location", "latitude": 37.44216251868683, "longitude": -122.16153582049394,
                          "name": "Philz Coffee", "address": "101 Forest Ave, Palo Alto, CA 94301"});
    let reaction = json!({"kind": "reaction", "message_id": ids["image"], "emoji": "\u{2705}"});
    let image = json!({"kind": "image", "url": "https://example.com/images/succulent.png", "mime_type": "image/png",
                       "caption": "Your order"});
    let template = json!({"kind": "template", "name": "order_update", "language": "en_US",
                          "components": [{"type": "body", "parameters": [{"type": "text", "text": "Sheena"}]}]});
    let reply = json!({"kind": "text", "text": "Thanks for the picture!"});
    let too_long = json!({"kind": "buttons", "text": "Pick one",
                          "buttons": [{"id": "a", "title": "A title well over twenty characters"}]});
    let not_the_model = json!({"kind": "template", "name": "order_update", "language": "en_US",
                               "components": [{"type": "body", "parameters": [{"type": "bogus"}]}]});
    let mut queued = Vec::new();
    for (content, context) in [
        (buttons.clone(), None),
        (list, None),
        (location, None),
        (reaction, None),
        (image, None),
        (template.clone(), None),
        (reply, Some(ids["image"].as_str())),
    ] {
        queued.push(queue_content(&database, number.number_id, &contact, content, context).await);
    }
    let refused_limits = queue_content(&database, number.number_id, &contact, too_long, None).await;
    let refused_shape =
        queue_content(&database, number.number_id, &contact, not_the_model, None).await;
    let mut all = queued.clone();
    all.extend([refused_limits, refused_shape]);
    let states = settled(&database, &all).await;
    for id in &queued {
        assert_eq!(states[id].0, "sent", "{:?}", states[id]);
    }
    let (status, error) = &states[&refused_limits];
    assert_eq!(status, "failed");
    let error = error.as_deref().unwrap_or_default();
    assert!(
        error.contains(
            "content.buttons[0].title: a button title is 35 characters; WhatsApp allows at most 20"
        ),
        "{error}"
    );
    let (status, error) = &states[&refused_shape];
    assert_eq!(status, "failed");
    let error = error.as_deref().unwrap_or_default();
    assert!(
        error.starts_with(
            "invalid message content: content.components[0].parameters[0].type: unknown variant `bogus`"
        ),
        "{error}"
    );

    let bodies: Vec<Value> = requests
        .lock()
        .expect("requests")
        .iter()
        .map(|(_, _, body)| body.clone())
        .collect();
    assert_eq!(
        bodies.len(),
        queued.len(),
        "the refused two were never sent: {bodies:#?}"
    );
    let of_type =
        |kind: &str| -> Vec<&Value> { bodies.iter().filter(|body| body["type"] == kind).collect() };
    assert_eq!(
        of_type("interactive")[0]["interactive"],
        json!({"type": "button", "body": {"text": "How can we help?"}, "footer": {"text": "Acme"},
               "action": {"buttons": [
                   {"type": "reply", "reply": {"id": "hours", "title": "Opening hours"}},
                   {"type": "reply", "reply": {"id": "address", "title": "Address"}}]}})
    );
    assert_eq!(
        of_type("interactive")[1]["interactive"]["action"]["sections"][0]["rows"][0]["id"],
        "priority_express"
    );
    assert_eq!(of_type("location")[0]["location"]["name"], "Philz Coffee");
    assert_eq!(
        of_type("reaction")[0]["reaction"],
        json!({"message_id": ids["image"], "emoji": "\u{2705}"})
    );
    assert_eq!(
        of_type("image")[0]["image"],
        json!({"link": "https://example.com/images/succulent.png", "caption": "Your order"})
    );
    assert_eq!(
        of_type("template")[0]["template"],
        json!({"name": "order_update", "language": {"code": "en_US"},
               "components": [{"type": "body", "parameters": [{"type": "text", "text": "Sheena"}]}]})
    );
    let text = of_type("text");
    assert_eq!(text[0]["text"]["body"], "Thanks for the picture!");
    assert_eq!(text[0]["context"], json!({"message_id": ids["image"]}));
    // The stored rows keep their kind, and the summary as body.
    let row = database
        .query_one(
            "select type, body from public.messages where id = $1",
            &[&queued[0]],
        )
        .await
        .expect("the buttons row");
    assert_eq!(
        (row.get::<_, String>(0), row.get::<_, String>(1)),
        ("buttons".to_owned(), "How can we help?".to_owned())
    );

    drop(daemon);
    remove_number(&database, number.number_id).await;
}

#[tokio::test]
#[ignore = "needs the local stack: run by scripts/test.sh"]
async fn every_kind_travels_whole_through_the_simulator() {
    use base64::Engine as _;
    use sha2::Digest as _;

    let stack = stack();
    let database = connect_database(&stack.database_url).await;
    let number = create_number(&database, "simulator", None).await;
    let mut daemon = Daemon::spawn(&stack, DaemonOptions::holding(&[&number.phone_number]));
    daemon.wait_until_answering().await;
    wait_until_status(&database, number.number_id, "connected").await;
    let contact = random_phone_number('7');
    let contact_wa_id = contact.trim_start_matches('+').to_owned();

    // A picture with its bytes inline: the simulator keeps them under the
    // media id it puts in the content, with their size and hex SHA-256.
    // Over the API's 64 KiB body limit once in base64: inline media has its own.
    let picture: Vec<u8> = (0..=255u8).cycle().take(100_000).collect();
    let picture_sha256: String = sha2::Sha256::digest(&picture)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    let (status, answer) = daemon
        .post(
            "/simulator/inbound",
            json!({"to": number.phone_number, "from": contact, "name": "Ada",
                   "content": {"kind": "image", "mime_type": "image/png", "caption": "my order"},
                   "media_base64": base64::engine::general_purpose::STANDARD.encode(&picture)}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    let picture_id = answer["wa_message_id"].as_str().expect("an id").to_owned();
    let (kind, body, content, _, _) =
        stored_inbound(&database, number.number_id, &picture_id).await;
    assert_eq!((kind.as_str(), body.as_str()), ("image", "my order"));
    assert!(
        content["media_id"]
            .as_str()
            .is_some_and(|id| id.starts_with("SIMMEDIA-")),
        "{content}"
    );
    assert_eq!(content["size_bytes"], 100_000);
    assert_eq!(content["sha256"], picture_sha256.as_str());
    assert_eq!(content["mime_type"], "image/png");

    // A location, and a button tap quoting a message.
    let (status, answer) = daemon
        .post(
            "/simulator/inbound",
            json!({"to": number.phone_number, "from": contact,
                   "content": {"kind": "location", "latitude": 38.7223, "longitude": -9.1393, "name": "Shop"}}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    let location_id = answer["wa_message_id"].as_str().expect("an id").to_owned();
    let (kind, _, content, _, _) = stored_inbound(&database, number.number_id, &location_id).await;
    assert_eq!(kind, "location");
    assert_eq!(content["latitude"].as_f64(), Some(38.7223));
    let (status, answer) = daemon
        .post(
            "/simulator/inbound",
            json!({"to": number.phone_number, "from": contact,
                   "content": {"kind": "button_reply", "id": "hours", "title": "Opening hours"},
                   "context_wa_message_id": "SIM-BUTTONS"}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    let tap_id = answer["wa_message_id"].as_str().expect("an id").to_owned();
    let (kind, body, content, context, _) =
        stored_inbound(&database, number.number_id, &tap_id).await;
    assert_eq!(
        (kind.as_str(), body.as_str()),
        ("button_reply", "Opening hours")
    );
    assert_eq!(content["id"], "hours");
    assert_eq!(context.as_deref(), Some("SIM-BUTTONS"));

    // Hostile content is refused with the field's path, and nothing stored.
    for (bad, expected) in [
        (
            json!({"kind": "location", "latitude": 200.0, "longitude": 0.0}),
            "field \"content.latitude\"",
        ),
        (
            json!({"kind": "image", "caption": 5}),
            "field \"content.caption\"",
        ),
        (
            json!({"kind": "buttons", "text": "x", "buttons": []}),
            "field \"content.kind\"",
        ),
    ] {
        let (status, answer) = daemon
            .post(
                "/simulator/inbound",
                json!({"to": number.phone_number, "from": contact, "content": bad}),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
        let error = answer["error"].as_str().unwrap_or_default();
        assert!(error.starts_with(expected), "{answer}");
    }

    // The number sends buttons, a location, a reaction and a quoted reply:
    // the transcript records each whole.
    let buttons = json!({"kind": "buttons", "text": "How can we help?",
                         "buttons": [{"id": "hours", "title": "Opening hours"}]});
    let location =
        json!({"kind": "location", "latitude": 38.7223, "longitude": -9.1393, "name": "Shop"});
    let reaction = json!({"kind": "reaction", "message_id": picture_id, "emoji": "\u{1f44d}"});
    let reply = json!({"kind": "text", "text": "Got your picture"});
    let mut queued = Vec::new();
    for (content, context) in [
        (buttons.clone(), None),
        (location.clone(), None),
        (reaction.clone(), None),
        (reply.clone(), Some(picture_id.as_str())),
    ] {
        queued.push(
            queue_content(
                &database,
                number.number_id,
                &contact_wa_id,
                content,
                context,
            )
            .await,
        );
    }
    let states = settled(&database, &queued).await;
    assert!(
        states.values().all(|(status, _)| status == "sent"),
        "{states:?}"
    );
    let (status, transcript) = daemon
        .get(&format!(
            "/simulator/transcript?to={}&from={}",
            number.phone_number.replace('+', "%2B"),
            contact.replace('+', "%2B")
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    let entries = transcript["messages"].as_array().expect("messages");
    let inbound_picture = &entries[0];
    assert_eq!(inbound_picture["direction"], "to_number");
    assert_eq!(
        inbound_picture["media"],
        json!({"sha256": picture_sha256, "size_bytes": 100_000})
    );
    let sent: Vec<&Value> = entries
        .iter()
        .filter(|entry| entry["direction"] == "to_contact")
        .collect();
    assert_eq!(sent.len(), 4, "{transcript}");
    assert_eq!(sent[0]["content"], buttons);
    assert_eq!(sent[0]["text"], "How can we help?");
    assert_eq!(sent[1]["content"], location);
    assert_eq!(sent[2]["content"], reaction);
    assert_eq!(sent[3]["content"], reply);
    assert_eq!(sent[3]["context_wa_message_id"], picture_id.as_str());
    assert!(sent[3]["media"].is_null());

    drop(daemon);
    remove_number(&database, number.number_id).await;
}

// ---------------------------------------------------------------------------
// Health: reconnects, the watchdog, logouts, pairing, JSON logs
// ---------------------------------------------------------------------------

#[tokio::test]
#[ignore = "needs the local stack: run by scripts/test.sh"]
async fn sessions_reconnect_get_restarted_by_the_watchdog_and_pair() {
    let stack = stack();
    let database = connect_database(&stack.database_url).await;
    let number = create_number(&database, "simulator", None).await;
    let mut daemon = Daemon::spawn(
        &stack,
        DaemonOptions::holding(&[&number.phone_number])
            .with(
                "WABOT_RECONNECT_POLICY",
                r#"{"base_delay_ms": 300, "max_delay_ms": 1000}"#,
            )
            .with(
                "WABOT_HEALTH_THRESHOLDS",
                r#"{"heartbeat_stale_after_ms": 2500, "start_timeout_ms": 60000}"#,
            )
            .with("WABOT_LOG_FORMAT", "json"),
    );
    daemon.wait_until_answering().await;
    wait_until_status(&database, number.number_id, "connected").await;
    let phone = &number.phone_number;

    // A drop is followed by a reconnect under the policy.
    let (status, answer) = daemon
        .post(
            &format!("/simulator/numbers/{phone}/events"),
            json!({"kind": "disconnected", "reason": "stream errored", "code": "515"}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    wait_for("the reconnect", || async {
        (count_events(&database, number.number_id, "connected").await == 2).then_some(())
    })
    .await;
    let timeline = events(&database, number.number_id).await;
    assert!(
        timeline.contains(&("disconnected".to_owned(), Some("stream errored".to_owned()))),
        "{timeline:?}"
    );
    let code: Option<String> = database
        .query_one(
            "select code from public.number_connection_events where number_id = $1 and event = 'disconnected'",
            &[&number.number_id],
        )
        .await
        .expect("the drop")
        .get(0);
    assert_eq!(code.as_deref(), Some("515"));

    // A stalled line (a zombie: connected, nothing flows, no sign of life)
    // is restarted by the watchdog, which clears the stall.
    daemon.script(phone, json!({"stalled": true})).await;
    wait_for("the watchdog's restart", || async {
        events(&database, number.number_id)
            .await
            .into_iter()
            .any(|(event, reason)| {
                event == "restarted"
                    && reason.is_some_and(|reason| reason.starts_with("watchdog: stale_heartbeat"))
            })
            .then_some(())
    })
    .await;
    let (_, line) = daemon.get(&format!("/simulator/numbers/{phone}")).await;
    assert_eq!(line["script"]["stalled"], false, "{line}");
    let contact = random_phone_number('8');
    let (status, answer) = daemon.contact_sends(phone, &contact, "alive?").await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");

    // A logout is not retried; the line must pair again, showing a QR code
    // and a pair code through GET /numbers/{id}/session.
    daemon.script(phone, json!({"require_pairing": true})).await;
    let (status, _) = daemon
        .post(
            &format!("/simulator/numbers/{phone}/events"),
            json!({"kind": "logged_out"}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    wait_until_status(&database, number.number_id, "logged_out").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        session_status(&database, number.number_id).await,
        "logged_out",
        "a logout is not reconnected"
    );
    let (status, answer) = daemon
        .post(
            &format!("/numbers/{}/session/start", number.number_id),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    wait_until_status(&database, number.number_id, "pairing").await;
    let (status, session) = daemon
        .get(&format!("/numbers/{}/session", number.number_id))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(session["session_status"], "pairing", "{session}");
    assert!(
        session["pairing"]["qr_code"]
            .as_str()
            .is_some_and(|qr| qr.starts_with("2@")),
        "{session}"
    );
    assert!(
        session["pairing"]["pair_code"]
            .as_str()
            .is_some_and(|code| code.len() == 8),
        "{session}"
    );
    assert!(
        session["pairing"]["qr_code_expires_at"].is_string(),
        "{session}"
    );
    // The code moves out of the event into number_pairing_codes, which only
    // operators may read (migration 20261203000100_pairing_secrets.sql).
    let qr_row = database
        .query_one(
            "select e.detail, p.qr from public.number_connection_events as e
             join public.number_pairing_codes as p on p.event_id = e.id
             where e.number_id = $1 and e.event = 'qr_shown' order by e.id desc limit 1",
            &[&number.number_id],
        )
        .await
        .expect("the qr_shown event and its code");
    let qr_detail: Value = qr_row.get(0);
    let qr_code: String = qr_row.get(1);
    assert_eq!(Value::from(qr_code), session["pairing"]["qr_code"]);
    assert_eq!(qr_detail["secret_redacted"], Value::Bool(true));
    assert!(qr_detail.get("qr").is_none(), "{qr_detail}");
    let unauthorized = reqwest::get(format!(
        "{}/numbers/{}/session",
        daemon.base_url, number.number_id
    ))
    .await
    .expect("get")
    .status();
    assert_eq!(
        unauthorized,
        StatusCode::UNAUTHORIZED,
        "pairing codes need the token"
    );
    // A pairing by another WhatsApp account is refused: the device is
    // logged out, `pairing_refused` names both numbers, the session stays
    // logged_out (the health check's critical logged_out alert) and does not
    // connect.
    let stranger = random_phone_number('9');
    let (status, _) = daemon
        .post(
            &format!("/simulator/numbers/{phone}/pair"),
            json!({"linked_phone_number": stranger}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    wait_until_status(&database, number.number_id, "logged_out").await;
    let refused = database
        .query_one(
            "select code, reason, detail from public.number_connection_events
             where number_id = $1 and event = 'pairing_refused' order by id desc limit 1",
            &[&number.number_id],
        )
        .await
        .expect("the pairing_refused event");
    assert_eq!(
        refused.get::<_, Option<String>>(0).as_deref(),
        Some("wrong_account")
    );
    let detail: Value = refused.get(2);
    assert_eq!(detail["linked_phone_number"], stranger.as_str(), "{detail}");
    assert_eq!(detail["expected_phone_number"], *phone, "{detail}");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        session_status(&database, number.number_id).await,
        "logged_out",
        "a refused pairing does not connect"
    );
    assert_eq!(count_events(&database, number.number_id, "paired").await, 0);
    let (status, answer) = daemon
        .post(
            &format!("/simulator/numbers/{phone}/pair"),
            json!({"linked_phone_number": "12"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(
        answer.to_string().contains("linked_phone_number"),
        "{answer}"
    );
    let (status, answer) = daemon
        .post(
            &format!("/numbers/{}/session/start", number.number_id),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    wait_until_status(&database, number.number_id, "pairing").await;

    // The number's own account pairs.
    let (status, _) = daemon
        .post(&format!("/simulator/numbers/{phone}/pair"), json!({}))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    wait_until_status(&database, number.number_id, "connected").await;
    assert!(count_events(&database, number.number_id, "paired").await >= 1);

    // Receipts move the message's status.
    let message_id = queue_outbound(&database, number.number_id, "15550170201", "receipt me").await;
    let wa_message_id = wait_for("the message to be sent", || async {
        let row = database
            .query_one(
                "select status, wa_message_id from public.messages where id = $1",
                &[&message_id],
            )
            .await
            .ok()?;
        (row.get::<_, String>(0) == "sent").then(|| row.get::<_, String>(1))
    })
    .await;
    let (status, _) = daemon
        .post(
            &format!("/simulator/numbers/{phone}/receipts"),
            json!({"wa_message_id": wa_message_id, "status": "read"}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    wait_for("the read receipt", || async {
        let row = database
            .query_one(
                "select status, read_at is not null from public.messages where id = $1",
                &[&message_id],
            )
            .await
            .ok()?;
        (row.get::<_, String>(0) == "read" && row.get::<_, bool>(1)).then_some(())
    })
    .await;

    // Stream replaced: no reconnect (it would fight the other client).
    let (status, _) = daemon
        .post(
            &format!("/simulator/numbers/{phone}/events"),
            json!({"kind": "stream_replaced"}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    wait_until_status(&database, number.number_id, "disconnected").await;
    let connected_before = count_events(&database, number.number_id, "connected").await;
    tokio::time::sleep(Duration::from_millis(2000)).await;
    assert_eq!(
        count_events(&database, number.number_id, "connected").await,
        connected_before
    );

    // The metrics count the reconnects and the watchdog's restart; every
    // session line of the JSON log names the number.
    let metrics = reqwest::get(format!("{}/metrics", daemon.base_url))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(metrics.contains("wabot_reconnects_total 1\n"), "{metrics}");
    assert!(
        metrics.contains("wabot_watchdog_restarts_total 1\n"),
        "{metrics}"
    );
    let log = daemon.log();
    let session_lines: Vec<Value> = log
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line["span"]["name"] == "session")
        .collect();
    assert!(!session_lines.is_empty(), "the log is JSON: {log}");
    for line in &session_lines {
        assert_eq!(
            line["span"]["number_id"],
            number.number_id.to_string(),
            "{line}"
        );
    }
}

// ---------------------------------------------------------------------------
// Session commands
// ---------------------------------------------------------------------------

#[tokio::test]
#[ignore = "needs the local stack: run by scripts/test.sh"]
async fn session_commands_reach_the_daemon_holding_the_number() {
    let stack = stack();
    let database = connect_database(&stack.database_url).await;
    let number = create_number(&database, "simulator", None).await;
    let mut holder = Daemon::spawn(&stack, DaemonOptions::holding(&[&number.phone_number]));
    holder.wait_until_answering().await;
    wait_until_status(&database, number.number_id, "connected").await;
    // A daemon that holds nothing of it (another number filter).
    let mut bystander = Daemon::spawn(&stack, DaemonOptions::holding(&["+10000000002"]));
    bystander.wait_until_answering().await;

    // The runbook's restart on the bystander is queued for the holder.
    let (status, answer) = bystander
        .post(
            &format!("/numbers/{}/session/restart", number.number_id),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    assert!(answer["command_id"].is_i64(), "{answer}");
    assert_eq!(answer["held_by"], holder.instance_id.as_str());
    let command_id = answer["command_id"].as_i64().expect("an id");
    wait_for("the holder to carry out the command", || async {
        let row = database
            .query_one(
                "select status, claimed_by from public.session_commands where id = $1",
                &[&command_id],
            )
            .await
            .ok()?;
        let claimed_by: Option<String> = row.get(1);
        (row.get::<_, String>(0) == "done"
            && claimed_by.as_deref() == Some(holder.instance_id.as_str()))
        .then_some(())
    })
    .await;
    assert_eq!(
        count_events(&database, number.number_id, "restarted").await,
        1
    );

    // A stop through session_commands is sticky: after a graceful shutdown
    // of the holder, a new daemon taking the number over keeps it stopped.
    database
        .execute(
            "insert into public.session_commands (number_id, command) values ($1, 'stop')",
            &[&number.number_id],
        )
        .await
        .expect("queue a stop");
    wait_until_status(&database, number.number_id, "stopped").await;
    assert!(holder.terminate(Duration::from_secs(30)).await);
    let mut successor = Daemon::spawn(&stack, DaemonOptions::holding(&[&number.phone_number]));
    successor.wait_until_answering().await;
    wait_for("the successor to take the lease", || async {
        (lease_holder(&database, number.number_id).await.as_deref()
            == Some(successor.instance_id.as_str()))
        .then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(session_status(&database, number.number_id).await, "stopped");
    let (_, session) = successor
        .get(&format!("/numbers/{}/session", number.number_id))
        .await;
    assert_eq!(session["session_status"], "stopped", "{session}");
    assert_eq!(session["held_here"], true, "{session}");
    let (status, answer) = successor
        .post(
            &format!("/numbers/{}/session/start", number.number_id),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    assert_eq!(answer["session_status"], "connected");
}

// ---------------------------------------------------------------------------
// WhatsApp Web: the durability hook, with the crate's public types
// ---------------------------------------------------------------------------

#[cfg(feature = "whatsapp-web")]
#[tokio::test]
#[ignore = "needs the local stack: run by scripts/test.sh"]
async fn the_whatsapp_web_hook_commits_before_acknowledging() {
    use session_daemon::database::build_pool;
    use session_daemon::database_tls::{DatabaseConnector, TlsSettings};
    use session_daemon::transport::web::WebInboundHook;
    use session_daemon::transport::TransportEvent;
    use whatsapp_rust::prelude::{wa, MessageBuilderExt};
    use whatsapp_rust::types::events::InboundMessage;
    use whatsapp_rust::types::message::{MessageInfo, MessageSource};

    let stack = stack();
    let database = connect_database(&stack.database_url).await;
    let number = create_number(&database, "web", None).await;
    let lid_user = format!(
        "{}",
        100_000_000_000_000 + Uuid::new_v4().as_u128() % 100_000_000_000
    );
    let phone_user = format!("1650{}", Uuid::new_v4().as_u128() % 10_000_000);
    let inbound = |id: &str, text: &str| {
        let info = MessageInfo {
            source: MessageSource {
                chat: format!("{lid_user}@lid").parse().expect("a jid"),
                sender: format!("{lid_user}@lid").parse().expect("a jid"),
                sender_alt: Some(
                    format!("{phone_user}@s.whatsapp.net")
                        .parse()
                        .expect("a jid"),
                ),
                ..MessageSource::default()
            },
            id: id.to_owned(),
            push_name: "Grace".to_owned(),
            ..MessageInfo::default()
        };
        InboundMessage::builder()
            .message(Arc::new(wa::Message::text(text)))
            .info(Arc::new(info))
            .build()
    };
    let batch = vec![
        inbound(&format!("3EB0{}", Uuid::new_v4().simple()), "first"),
        inbound(&format!("3EB0{}", Uuid::new_v4().simple()), "second"),
    ];

    let config =
        DatabaseConnector::from_url(&stack.database_url, &TlsSettings::default()).expect("the url");
    let pool = build_pool(&config, Some("service_role")).expect("a pool");
    let (events, mut committed) = tokio::sync::mpsc::channel(8);
    let hook = WebInboundHook::new(pool, number.number_id, events);
    assert_eq!(hook.commit(&batch).await.expect("the commit"), 2);
    assert!(matches!(
        committed.recv().await,
        Some(TransportEvent::InboundCommitted { n_messages: 2 })
    ));
    let rows = database
        .query(
            "select m.body, m.contact_wa_id, m.type,
                    (select count(*) from public.outbox where payload ->> 'message_id' = m.id::text)
             from public.messages as m where m.number_id = $1 order by m.body",
            &[&number.number_id],
        )
        .await
        .expect("the stored messages");
    assert_eq!(
        rows.len(),
        2,
        "the batch was committed before the hook returned"
    );
    assert_eq!(rows[0].get::<_, String>(0), "first");
    assert_eq!(rows[0].get::<_, String>(1), phone_user);
    assert_eq!(rows[0].get::<_, String>(2), "text");
    assert_eq!(
        rows[0].get::<_, i64>(3),
        1,
        "the routing was enqueued in the same commit"
    );
    let contact = database
        .query_one(
            "select phone_number, wa_id, lid, display_name from public.contacts where lid = $1",
            &[&format!("{lid_user}@lid")],
        )
        .await
        .expect("the contact is known by phone and LID");
    assert_eq!(
        contact.get::<_, Option<String>>(0),
        Some(format!("+{phone_user}"))
    );
    assert_eq!(
        contact.get::<_, Option<String>>(1),
        Some(phone_user.clone())
    );
    assert_eq!(
        contact.get::<_, Option<String>>(3).as_deref(),
        Some("Grace")
    );

    // A redelivery (the ack was lost) commits again without duplicating.
    assert_eq!(hook.commit(&batch).await.expect("the replay"), 2);
    let n_rows: i64 = database
        .query_one(
            "select count(*) from public.messages where number_id = $1",
            &[&number.number_id],
        )
        .await
        .expect("count")
        .get(0);
    assert_eq!(n_rows, 2);

    // With the database unreachable the hook fails, so the crate does not
    // acknowledge and WhatsApp delivers again.
    let unreachable = DatabaseConnector::from_url(
        &format!(
            "postgresql://postgres:postgres@127.0.0.1:{}/postgres",
            free_port()
        ),
        &TlsSettings::default(),
    )
    .expect("a url");
    let (events, _) = tokio::sync::mpsc::channel(8);
    let cut_off = WebInboundHook::new(
        build_pool(&unreachable, None).expect("a pool"),
        number.number_id,
        events,
    );
    assert!(cut_off.commit(&batch).await.is_err());

    // No daemon of a later suite should try to connect this number to
    // WhatsApp.
    remove_number(&database, number.number_id).await;
}
