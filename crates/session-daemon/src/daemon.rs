//! Wires the daemon together and shuts it down gracefully.
//!
//! Start-up order: the HTTP API listens first (so `GET /status` answers 503
//! while the database is still unreachable), then the daemon waits for the
//! database with backoff, then it starts its workers: the numbers-table
//! synchronisation, heartbeats, the `LISTEN` connection, the outbound sender
//! and, when `WABOT_RELAY=on`, the outbox relay.
//!
//! On SIGTERM or SIGINT the API stops accepting requests, the workers finish
//! the batch in hand, and every session is disconnected and recorded
//! `stopped`, each step within a bounded time.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::backoff::reconnect_delay;
use crate::config::{DaemonConfig, RelayMode};
use crate::database::{build_pool, check_reachable, DatabaseError, DatabasePool};
use crate::http_api::{router, ApiState};
use crate::notifications::{run_listener, Wakeups};
use crate::outbound_sender::OutboundSender;
use crate::outbox_relay::{OutboxRelay, RelayError};
use crate::sessions::SessionRegistry;
use crate::transport::simulator::SimulatorNetwork;

/// How long the workers get to finish their batch at shutdown.
const WORKER_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(12);

/// How long recording the sessions stopped may take at shutdown.
const SESSION_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// How long in-flight HTTP requests get at shutdown.
const SERVER_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// A failure that stops the daemon.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// The session storage folder could not be created.
    #[error("could not create the session storage folder {path}: {source}")]
    SessionStorage {
        /// The folder.
        path: PathBuf,
        /// The file system's error.
        source: std::io::Error,
    },

    /// The HTTP API could not listen.
    #[error("could not listen on {address}: {source}")]
    Bind {
        /// The address.
        address: SocketAddr,
        /// The socket's error.
        source: std::io::Error,
    },

    /// The HTTP server failed.
    #[error("the http server failed: {0}")]
    Serve(std::io::Error),

    /// The signal handlers could not be installed.
    #[error("could not install the signal handlers: {0}")]
    Signals(std::io::Error),

    /// The database pool could not be built.
    #[error(transparent)]
    Database(#[from] DatabaseError),

    /// The outbox relay could not be built.
    #[error(transparent)]
    Relay(#[from] RelayError),
}

/// Runs the daemon until SIGTERM or SIGINT.
pub async fn run_daemon(config: DaemonConfig) -> Result<(), DaemonError> {
    let started_at = Instant::now();
    tracing::debug!(?config, "configuration");
    std::fs::create_dir_all(&config.session_storage_path).map_err(|source| {
        DaemonError::SessionStorage {
            path: config.session_storage_path.clone(),
            source,
        }
    })?;

    let pool = build_pool(&config.database, config.database_role.as_deref())?;
    let wakeups = Wakeups::default();
    let simulator = SimulatorNetwork::new();
    let registry = SessionRegistry::new(
        pool.clone(),
        config.instance_id.clone(),
        simulator.clone(),
        config.held_phone_numbers.clone(),
        wakeups.outbound.clone(),
    );
    let relay = match (config.relay_mode, config.service_role_key.as_deref()) {
        (RelayMode::On, Some(service_role_key)) => Some(OutboxRelay::new(
            pool.clone(),
            &config.functions_url,
            service_role_key,
        )?),
        _ => None,
    };

    let (shutdown_sender, shutdown) = watch::channel(false);
    let signals = tokio::spawn(wait_for_signal(install_signal_handlers()?, shutdown_sender));

    let listener = tokio::net::TcpListener::bind(config.listen_address)
        .await
        .map_err(|source| DaemonError::Bind {
            address: config.listen_address,
            source,
        })?;
    let listen_address = listener.local_addr().unwrap_or(config.listen_address);
    tracing::info!(
        address = %listen_address,
        instance_id = %config.instance_id,
        relay = config.relay_mode.as_str(),
        version = env!("CARGO_PKG_VERSION"),
        "the daemon's http api is listening"
    );
    let api_state = Arc::new(ApiState {
        pool: pool.clone(),
        registry: registry.clone(),
        simulator,
        instance_id: config.instance_id.clone(),
        relay_mode: config.relay_mode,
        daemon_token: config.daemon_token.clone(),
        started_at,
    });
    let server_shutdown = shutdown.clone();
    let mut server = tokio::spawn(async move {
        axum::serve(listener, router(api_state))
            .with_graceful_shutdown(wait_for_shutdown(server_shutdown))
            .await
    });

    let mut workers = JoinSet::new();
    if wait_for_database(&pool, shutdown.clone()).await {
        workers.spawn(
            registry
                .clone()
                .run_synchronisation(config.poll_interval, shutdown.clone()),
        );
        workers.spawn(registry.clone().run_heartbeats(shutdown.clone()));
        workers.spawn(run_listener(
            config.database.clone(),
            wakeups.clone(),
            shutdown.clone(),
        ));
        workers.spawn(
            OutboundSender::new(pool.clone(), registry.clone(), config.instance_id.clone()).run(
                config.poll_interval,
                wakeups.outbound.clone(),
                shutdown.clone(),
            ),
        );
        match relay {
            Some(relay) => {
                workers.spawn(relay.run(
                    config.poll_interval,
                    wakeups.outbox.clone(),
                    shutdown.clone(),
                ));
            }
            None => tracing::info!("the outbox relay is off (WABOT_RELAY=off)"),
        }
    }

    // Run until a signal arrives, or until the server stops by itself.
    let server_outcome = tokio::select! {
        _ = wait_for_shutdown(shutdown.clone()) => None,
        outcome = &mut server => Some(outcome),
    };
    tracing::info!("shutting down");

    if tokio::time::timeout(WORKER_SHUTDOWN_TIMEOUT, async {
        while workers.join_next().await.is_some() {}
    })
    .await
    .is_err()
    {
        tracing::warn!("some workers did not stop in time");
        workers.abort_all();
    }
    if tokio::time::timeout(SESSION_SHUTDOWN_TIMEOUT, registry.shut_down_all())
        .await
        .is_err()
    {
        tracing::warn!("could not record every session stopped in time");
    }
    let server_outcome = match server_outcome {
        Some(outcome) => Some(outcome),
        None => tokio::time::timeout(SERVER_SHUTDOWN_TIMEOUT, &mut server)
            .await
            .ok(),
    };
    signals.abort();
    match server_outcome {
        Some(Ok(Ok(()))) | None => {}
        Some(Ok(Err(error))) => return Err(DaemonError::Serve(error)),
        Some(Err(join_error)) => {
            return Err(DaemonError::Serve(std::io::Error::other(join_error)));
        }
    }
    tracing::info!("stopped");
    Ok(())
}

/// Waits until the database answers, backing off between tries; returns
/// false when shutdown comes first.
async fn wait_for_database(pool: &DatabasePool, mut shutdown: watch::Receiver<bool>) -> bool {
    let mut n_failures: u32 = 0;
    loop {
        match check_reachable(pool).await {
            Ok(()) => {
                tracing::info!("the database is reachable");
                return true;
            }
            Err(error) => {
                if n_failures % 10 == 0 {
                    tracing::warn!("the database is unreachable, retrying: {error}");
                }
            }
        }
        let delay = reconnect_delay(n_failures);
        n_failures = n_failures.saturating_add(1);
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = shutdown.wait_for(|stopping| *stopping) => return false,
        }
    }
}

/// Resolves once `shutdown` is (or already was) true, or its sender is gone.
async fn wait_for_shutdown(mut shutdown: watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stopping| *stopping).await;
}

/// The SIGTERM and SIGINT streams.
struct SignalHandlers {
    terminate: tokio::signal::unix::Signal,
    interrupt: tokio::signal::unix::Signal,
}

fn install_signal_handlers() -> Result<SignalHandlers, DaemonError> {
    use tokio::signal::unix::{signal, SignalKind};
    Ok(SignalHandlers {
        terminate: signal(SignalKind::terminate()).map_err(DaemonError::Signals)?,
        interrupt: signal(SignalKind::interrupt()).map_err(DaemonError::Signals)?,
    })
}

/// Sets `shutdown` to true on the first SIGTERM or SIGINT, then keeps the
/// sender alive so receivers never see it dropped.
async fn wait_for_signal(mut handlers: SignalHandlers, shutdown: watch::Sender<bool>) {
    tokio::select! {
        _ = handlers.terminate.recv() => tracing::info!("received SIGTERM"),
        _ = handlers.interrupt.recv() => tracing::info!("received SIGINT"),
    }
    let _ = shutdown.send(true);
    std::future::pending::<()>().await;
}
