//! The HTTP server of the daemon's API, with limits a public listener needs.
//!
//! `axum::serve` has no timeouts, so one slow or idle client could hold a
//! connection for ever, and enough of them exhaust the daemon's file
//! descriptors. This server (hyper's HTTP/1 connection with a timer) adds:
//!
//! - a **header read timeout**: a connection whose request head has not
//!   arrived in full within [`ServerLimits::header_read_timeout`] is closed.
//!   It applies to every request of a keep-alive connection too, so it is
//!   also the idle timeout (a slow-loris client is cut off by it);
//! - a **request timeout**: a handler that has not answered within
//!   [`ServerLimits::request_timeout`] is dropped and the client gets 503;
//! - a **concurrency limit**: beyond [`ServerLimits::max_concurrent_requests`]
//!   requests in flight, further requests get 503 at once with
//!   `Retry-After: 1` (except `GET /status` and `GET /metrics`, which are
//!   cheap and must keep answering for monitoring); beyond
//!   [`ServerLimits::max_connections`] open connections, new ones are closed
//!   on accept.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tower::ServiceExt;

/// The limits of the HTTP server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerLimits {
    /// How long a client has to send a request's head (and how long an idle
    /// keep-alive connection stays open).
    pub header_read_timeout: Duration,
    /// How long a handler may take.
    pub request_timeout: Duration,
    /// The most requests handled at once (monitoring endpoints excepted).
    pub max_concurrent_requests: usize,
    /// The most connections open at once.
    pub max_connections: usize,
    /// How long in-flight requests get at shutdown.
    pub shutdown_timeout: Duration,
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits {
            header_read_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_concurrent_requests: 64,
            max_connections: 512,
            shutdown_timeout: Duration::from_secs(5),
        }
    }
}

/// Adds the request timeout and the concurrency limit to `router`.
pub fn limited(router: Router, limits: ServerLimits) -> Router {
    let in_flight = Arc::new(Semaphore::new(limits.max_concurrent_requests));
    let timeout = limits.request_timeout;
    router.layer(middleware::from_fn(move |request: Request, next: Next| {
        let in_flight = in_flight.clone();
        async move {
            let monitoring = request.method() == axum::http::Method::GET
                && matches!(request.uri().path(), "/status" | "/metrics");
            let permit = if monitoring {
                None
            } else {
                match in_flight.try_acquire_owned() {
                    Ok(permit) => Some(permit),
                    Err(_) => return busy("too many requests in flight; retry shortly"),
                }
            };
            let response = match tokio::time::timeout(timeout, next.run(request)).await {
                Ok(response) => response,
                Err(_) => busy("the request took too long and was abandoned"),
            };
            drop(permit);
            response
        }
    }))
}

fn busy(message: &str) -> Response {
    let mut response = (
        StatusCode::SERVICE_UNAVAILABLE,
        axum::Json(serde_json::json!({ "error": message })),
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    response
}

/// Serves `router` (with [`limited`] applied) on `listener` until `shutdown`
/// turns true, then gives in-flight requests
/// [`ServerLimits::shutdown_timeout`].
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ServerLimits,
    mut shutdown: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let router = limited(router, limits);
    let connections = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = shutdown.wait_for(|stopping| *stopping) => break,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(error) => {
                // Out of file descriptors and the like: wait, do not spin.
                tracing::warn!("could not accept a connection: {error}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(permit) = connections.clone().try_acquire_owned() else {
            tracing::warn!("refusing a connection: {} are open", limits.max_connections);
            drop(stream);
            continue;
        };
        let service = TowerToHyperService::new(
            router
                .clone()
                .map_request(|request: Request<Incoming>| request.map(Body::new)),
        );
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_read_timeout)
            .keep_alive(true);
        let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::trace!("connection ended: {error}");
            }
            drop(permit);
        });
    }
    drop(listener);
    if tokio::time::timeout(limits.shutdown_timeout, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("some http connections were still open at shutdown");
    }
    Ok(())
}
