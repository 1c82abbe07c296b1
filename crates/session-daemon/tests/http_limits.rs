//! The limits of the daemon's HTTP server, over real TCP against the server
//! the daemon runs (`http_server::serve`), with short limits: a slow-loris
//! client that never finishes its request head is disconnected after the
//! header read timeout, an idle keep-alive connection likewise, a handler
//! that runs past the request timeout is answered 503, and requests beyond
//! the concurrency limit get 503 at once while `/status` still answers.
//!
//! The last test runs the `wabot` binary itself against a database on
//! another host name and checks that it refuses a loopback status URL.

use std::process::Command;
use std::time::{Duration, Instant};

use axum::routing::get;
use axum::Router;
use session_daemon::http_server::{serve, ServerLimits};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const LIMITS: ServerLimits = ServerLimits {
    header_read_timeout: Duration::from_millis(400),
    request_timeout: Duration::from_millis(800),
    max_concurrent_requests: 2,
    max_connections: 64,
    shutdown_timeout: Duration::from_secs(1),
};

async fn start(limits: ServerLimits) -> (u16, tokio::sync::watch::Sender<bool>) {
    let app = Router::new()
        .route("/status", get(|| async { "ok" }))
        .route("/fast", get(|| async { "fast" }))
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                "slow"
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a listener");
    let port = listener.local_addr().expect("an address").port();
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    tokio::spawn(serve(listener, app, limits, shutdown));
    (port, stop)
}

/// Reads until the server closes the connection; returns how long it took
/// (or `None` after `patience`) and what was read.
async fn wait_for_close(stream: &mut TcpStream, patience: Duration) -> Option<(Duration, String)> {
    let started = Instant::now();
    let mut read = Vec::new();
    let mut buffer = [0_u8; 1024];
    loop {
        match tokio::time::timeout(
            patience.saturating_sub(started.elapsed()),
            stream.read(&mut buffer),
        )
        .await
        {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => {
                return Some((
                    started.elapsed(),
                    String::from_utf8_lossy(&read).into_owned(),
                ))
            }
            Ok(Ok(n)) => read.extend_from_slice(&buffer[..n]),
        }
    }
}

async fn get_status_code(port: u16, path: &str) -> u16 {
    let mut stream = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("a connection");
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await
        .expect("a request");
    let (_, answer) = wait_for_close(&mut stream, Duration::from_secs(10))
        .await
        .expect("an answer");
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {answer:?}"))
}

#[tokio::test]
async fn a_slow_loris_is_disconnected_after_the_header_timeout() {
    let (port, _stop) = start(LIMITS).await;
    let mut stream = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("a connection");
    // Half a request head, then a byte now and then, never the blank line.
    stream
        .write_all(b"GET /status HTTP/1.1\r\nHost: x\r\n")
        .await
        .expect("a write");
    let dribble = async {
        for _ in 0..20 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if stream.write_all(b"X-Slow: 1\r\n").await.is_err() {
                break;
            }
        }
    };
    dribble.await;
    let closed = wait_for_close(&mut stream, Duration::from_secs(3)).await;
    let (_, answer) = closed.expect("the server closed the slow connection");
    assert!(
        !answer.contains("200 OK"),
        "a slow head was served: {answer}"
    );
}

#[tokio::test]
async fn an_idle_connection_is_closed() {
    let (port, _stop) = start(LIMITS).await;
    let mut stream = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("a connection");
    let (elapsed, _) = wait_for_close(&mut stream, Duration::from_secs(5))
        .await
        .expect("the server closed the idle connection");
    assert!(
        elapsed >= Duration::from_millis(300),
        "closed after {elapsed:?}"
    );
}

#[tokio::test]
async fn a_request_past_its_timeout_is_answered_503() {
    let (port, _stop) = start(LIMITS).await;
    let started = Instant::now();
    assert_eq!(get_status_code(port, "/slow").await, 503);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn excess_concurrent_requests_are_refused_and_status_still_answers() {
    let limits = ServerLimits {
        request_timeout: Duration::from_secs(3),
        header_read_timeout: Duration::from_secs(5),
        ..LIMITS
    };
    let (port, _stop) = start(limits).await;
    let slow: Vec<_> = (0..2)
        .map(|_| tokio::spawn(get_status_code(port, "/slow")))
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(get_status_code(port, "/fast").await, 503, "over the limit");
    assert_eq!(
        get_status_code(port, "/status").await,
        200,
        "monitoring is exempt"
    );
    for request in slow {
        // The two in flight run into the request timeout.
        assert_eq!(request.await.expect("a task"), 503);
    }
    assert_eq!(get_status_code(port, "/fast").await, 200, "free again");
}

#[test]
fn the_binary_refuses_a_loopback_status_url_against_a_remote_database() {
    let mut daemon = Command::new(env!("CARGO_BIN_EXE_wabot"))
        .arg("daemon")
        .env_clear()
        .env(
            "WABOT_DATABASE_URL",
            "postgresql://postgres:pw@db.abcdefghijkl.supabase.co:5432/postgres",
        )
        .env("WABOT_DAEMON_TOKEN", "0123456789abcdef0123")
        .env("WABOT_RELAY", "off")
        .env("WABOT_LISTEN", "127.0.0.1:0")
        .env("WABOT_SESSION_STORAGE_PATH", env!("CARGO_TARGET_TMPDIR"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the wabot binary");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = daemon.try_wait().expect("the daemon's status") {
            break status;
        }
        if started.elapsed() > Duration::from_secs(10) {
            let _ = daemon.kill();
            let _ = daemon.wait();
            panic!("the daemon started with a loopback status URL against a remote database");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(!status.success(), "the daemon exited successfully");
    let mut stderr = String::new();
    std::io::Read::read_to_string(
        &mut daemon.stderr.take().expect("the daemon's stderr"),
        &mut stderr,
    )
    .expect("the daemon's stderr");
    assert!(stderr.contains("WABOT_STATUS_URL"), "{stderr}");
    assert!(
        stderr.contains("WABOT_ALLOW_LOOPBACK_STATUS_URL"),
        "{stderr}"
    );
}
