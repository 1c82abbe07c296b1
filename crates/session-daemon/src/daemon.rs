//! Wires the daemon together and shuts it down gracefully.
//!
//! Start-up order: the HTTP API listens first (so `GET /status` answers 503
//! while the database is still unreachable), then the daemon waits for the
//! database with backoff, then it starts its workers: the supervisor
//! (registration, leases, heartbeats, watchdog) and its lease guard, the
//! `LISTEN` connection, the outbound sender, the session-command worker and,
//! when `WABOT_RELAY=on`, the outbox relay. Every worker survives the
//! database going away and coming back (a Postgres restart): pooled
//! connections that broke are replaced, the `LISTEN` connection reconnects
//! with backoff, and each loop retries on its next tick.
//!
//! On SIGTERM or SIGINT the API stops accepting requests; the workers finish
//! the round in hand (so sends in flight complete and are recorded); then
//! every session is disconnected and recorded `stopped`, every lease is
//! given back and the daemon's status URL is cleared, each step within a
//! bounded time.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::backoff::reconnect_delay;
use crate::commands::run_session_commands;
use crate::config::{DaemonConfig, RelayMode};
use crate::database::{
    build_pool, build_pool_of_size, check_reachable, DatabaseError, DatabasePool, CONTROL_POOL_SIZE,
};
use crate::http_api::{router, run_gauge_sampler, ApiState, GAUGE_SAMPLE_INTERVAL};
use crate::http_server::{serve, ServerLimits};
use crate::metrics::Metrics;
use crate::notifications::{run_listener, Wakeups};
use crate::outbound_sender::OutboundSender;
use crate::outbox_relay::{OutboxRelay, RelayError};
use crate::sessions::{SessionContext, SessionRegistry};
use crate::supervisor::{Supervisor, SupervisorSettings, TransportFactory};
use crate::transport::cloud::{build_http_client, CloudSettings};
use crate::transport::simulator::SimulatorNetwork;

/// How long the workers get to finish their round at shutdown.
const WORKER_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(25);

/// How long stopping the sessions and giving the leases back may take.
const SESSION_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(15);

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

    /// The simulator's send log could not be opened.
    #[error("could not open the simulator's send log {path}: {source}")]
    SendLog {
        /// The file.
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

    /// The Cloud API's HTTP client could not be built.
    #[error("could not build the cloud api's http client: {0}")]
    CloudClient(reqwest::Error),

    /// The media bucket's client could not be built.
    #[error(transparent)]
    MediaStore(#[from] crate::media_store::MediaStoreError),
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
    let control_pool = build_pool_of_size(
        &config.database,
        config.database_role.as_deref(),
        CONTROL_POOL_SIZE,
    )?;
    let wakeups = Wakeups::default();
    let metrics = Arc::new(Metrics::default());
    if !config.simulator_enabled {
        tracing::info!(
            "the simulator transport and the /simulator endpoints are off (WABOT_SIMULATOR)"
        );
    }
    tracing::info!(sslmode = %config.database.ssl_mode(), "database connections");
    let simulator = match &config.simulator_send_log {
        Some(path) => {
            SimulatorNetwork::with_send_log(path).map_err(|source| DaemonError::SendLog {
                path: path.clone(),
                source,
            })?
        }
        None => SimulatorNetwork::new(),
    };
    let context = Arc::new(SessionContext {
        pool: pool.clone(),
        instance_id: config.instance_id.clone(),
        reconnect_policy: config.reconnect_policy.clone(),
        health_thresholds: config.health_thresholds.clone(),
        pacing: config.pacing.clone(),
        metrics: metrics.clone(),
        outbound_wakeup: wakeups.outbound.clone(),
    });
    let registry = SessionRegistry::new(context);
    let media_store = match &config.media_store {
        Some(media) => Some(crate::media_store::MediaStore::new(media)?),
        None => {
            tracing::info!(
                "media storage is off (WABOT_MEDIA_S3_ENDPOINT is not set): inbound media stays at whatsapp, outbound media from the bucket fails"
            );
            None
        }
    };
    let factory = TransportFactory {
        simulator: simulator.clone(),
        cloud: CloudSettings {
            http: build_http_client(config.send_timeout).map_err(DaemonError::CloudClient)?,
            base_url: config.cloud_api_base_url.clone(),
            default_access_token: config.cloud_access_token.clone(),
        },
        #[cfg(feature = "whatsapp-web")]
        web: crate::transport::web::WebSettings {
            storage_path: config.session_storage_path.clone(),
        },
        pool: pool.clone(),
    };
    let supervisor = Supervisor::new(
        registry.clone(),
        control_pool.clone(),
        factory,
        SupervisorSettings {
            lease: config.lease,
            heartbeat: config.heartbeat,
            poll_interval: config.poll_interval,
            transports: config.transports.clone(),
            held_phone_numbers: config.held_phone_numbers.clone(),
            max_sessions: config.max_sessions,
            version: env!("CARGO_PKG_VERSION").to_owned(),
            status_url: config.status_url.clone(),
        },
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
        transports = ?config.transports.iter().map(|kind| kind.as_str()).collect::<Vec<_>>(),
        lease_seconds = config.lease.as_secs(),
        version = env!("CARGO_PKG_VERSION"),
        "the daemon's http api is listening"
    );
    let api_state = Arc::new(ApiState {
        pool: pool.clone(),
        control_pool: control_pool.clone(),
        registry: registry.clone(),
        simulator,
        instance_id: config.instance_id.clone(),
        relay_mode: config.relay_mode,
        daemon_token: config.daemon_token.clone(),
        started_at,
        metrics: metrics.clone(),
        cloud_app_secret: config.cloud_app_secret.clone(),
        cloud_verify_token: config.cloud_verify_token.clone(),
        cloud_numbers: Mutex::new(HashMap::new()),
        simulator_enabled: config.simulator_enabled,
    });
    let server_shutdown = shutdown.clone();
    let mut server = tokio::spawn(serve(
        listener,
        router(api_state),
        ServerLimits::default(),
        server_shutdown,
    ));

    let mut workers = JoinSet::new();
    // The supervisor (leases, heartbeats) keeps going until the sessions are
    // stopped, so no lease lapses while the other workers finish.
    let mut supervision = JoinSet::new();
    let (supervision_stop, supervision_shutdown) = watch::channel(false);
    let database_ready = wait_for_database(&control_pool, shutdown.clone()).await;
    if database_ready {
        supervision.spawn(supervisor.clone().run(supervision_shutdown.clone()));
        supervision.spawn(
            supervisor
                .clone()
                .run_lease_guard(supervision_shutdown.clone()),
        );
        workers.spawn(run_gauge_sampler(
            pool.clone(),
            config.instance_id.clone(),
            metrics.clone(),
            GAUGE_SAMPLE_INTERVAL,
            shutdown.clone(),
        ));
        workers.spawn(run_listener(
            config.database.clone(),
            wakeups.clone(),
            shutdown.clone(),
        ));
        workers.spawn(
            OutboundSender::new(
                pool.clone(),
                registry.clone(),
                config.instance_id.clone(),
                config.send_timeout,
            )
            .with_media_store(media_store.clone())
            .run(
                config.poll_interval,
                wakeups.outbound.clone(),
                shutdown.clone(),
            ),
        );
        workers.spawn(run_session_commands(
            pool.clone(),
            registry.clone(),
            config.poll_interval,
            wakeups.commands.clone(),
            shutdown.clone(),
        ));
        if let Some(media_store) = media_store.clone() {
            workers.spawn(
                crate::media::MediaDownloader::new(
                    pool.clone(),
                    registry.clone(),
                    media_store,
                    config.instance_id.clone(),
                )
                .run(config.poll_interval, shutdown.clone()),
            );
        }
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
    supervisor.stop_acquiring();

    if tokio::time::timeout(WORKER_SHUTDOWN_TIMEOUT, async {
        while workers.join_next().await.is_some() {}
    })
    .await
    .is_err()
    {
        tracing::warn!("some workers did not stop in time");
        workers.abort_all();
    }
    if database_ready
        && tokio::time::timeout(SESSION_SHUTDOWN_TIMEOUT, supervisor.shut_down())
            .await
            .is_err()
    {
        tracing::warn!("could not stop every session and give the leases back in time");
    }
    let _ = supervision_stop.send(true);
    if tokio::time::timeout(SERVER_SHUTDOWN_TIMEOUT, async {
        while supervision.join_next().await.is_some() {}
    })
    .await
    .is_err()
    {
        supervision.abort_all();
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
                    tracing::warn!(
                        "the database is unreachable, retrying: {}",
                        crate::database::error_chain(&error)
                    );
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
