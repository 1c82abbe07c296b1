//! The dedicated `LISTEN` connection that wakes the workers.
//!
//! The schema's triggers call `pg_notify('outbox', <outbox id>)` for every
//! outbox row, `pg_notify('outbound', <number id>)` when a reply is queued
//! and `pg_notify('session_commands', <number id>)` when an operator asks
//! for a session command. One connection outside the pool listens on the
//! three channels: its [`tokio_postgres::Connection`] is driven with
//! `poll_message`, and every notification wakes the matching worker through a
//! [`Notify`]. When the connection breaks (Postgres restarted) it is re-opened
//! with backoff, and every worker is woken after each (re)connect so nothing
//! notified in between waits for the next poll.

use std::sync::Arc;

use futures_util::StreamExt;
use tokio::sync::{mpsc, watch, Notify};
use tokio_postgres::AsyncMessage;

use crate::database_tls::DatabaseConnector;

use crate::backoff::reconnect_delay;

/// The channel the outbox trigger notifies.
pub const OUTBOX_CHANNEL: &str = "outbox";

/// The channel the outbound trigger notifies.
pub const OUTBOUND_CHANNEL: &str = "outbound";

/// The channel the session-command trigger notifies.
pub const SESSION_COMMANDS_CHANNEL: &str = "session_commands";

/// The wake-ups of the workers.
#[derive(Debug, Clone, Default)]
pub struct Wakeups {
    /// Wakes the outbox relay.
    pub outbox: Arc<Notify>,
    /// Wakes the outbound sender.
    pub outbound: Arc<Notify>,
    /// Wakes the session-command worker.
    pub commands: Arc<Notify>,
}

impl Wakeups {
    /// Wakes every worker.
    pub fn wake_all(&self) {
        self.outbox.notify_one();
        self.outbound.notify_one();
        self.commands.notify_one();
    }

    fn wake_channel(&self, channel: &str) {
        match channel {
            OUTBOX_CHANNEL => self.outbox.notify_one(),
            OUTBOUND_CHANNEL => self.outbound.notify_one(),
            SESSION_COMMANDS_CHANNEL => self.commands.notify_one(),
            _ => {}
        }
    }
}

/// Listens on the `outbox`, `outbound` and `session_commands` channels until
/// `shutdown` turns true, reconnecting with backoff.
pub async fn run_listener(
    database: DatabaseConnector,
    wakeups: Wakeups,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut n_consecutive_failures: u32 = 0;
    loop {
        let outcome = tokio::select! {
            outcome = listen_once(&database, &wakeups, &mut n_consecutive_failures) => outcome,
            _ = shutdown.changed() => return,
        };
        if let Err(error) = outcome {
            if n_consecutive_failures % 30 == 0 {
                tracing::warn!(
                    "the LISTEN connection failed: {}",
                    crate::database::error_chain(&error)
                );
            }
        }
        let delay = reconnect_delay(n_consecutive_failures);
        n_consecutive_failures = n_consecutive_failures.saturating_add(1);
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = shutdown.changed() => return,
        }
    }
}

/// Opens one listening connection and forwards its notifications until it
/// ends.
async fn listen_once(
    database: &DatabaseConnector,
    wakeups: &Wakeups,
    n_consecutive_failures: &mut u32,
) -> Result<(), tokio_postgres::Error> {
    let (client, mut connection) = database.connect().await?;
    let (notifications_sender, mut notifications) = mpsc::unbounded_channel();
    let driver = tokio::spawn(async move {
        let mut messages =
            futures_util::stream::poll_fn(move |context| connection.poll_message(context));
        while let Some(message) = messages.next().await {
            match message {
                Ok(AsyncMessage::Notification(notification)) => {
                    if notifications_sender.send(notification).is_err() {
                        return Ok(());
                    }
                }
                Ok(_) => {}
                Err(error) => return Err(error),
            }
        }
        Ok(())
    });

    let listening = client
        .batch_execute(&format!(
            "listen {OUTBOX_CHANNEL}; listen {OUTBOUND_CHANNEL}; listen {SESSION_COMMANDS_CHANNEL}"
        ))
        .await;
    if let Err(error) = listening {
        driver.abort();
        return Err(error);
    }
    tracing::info!("listening for outbox, outbound and session_commands notifications");
    *n_consecutive_failures = 0;
    wakeups.wake_all();

    while let Some(notification) = notifications.recv().await {
        tracing::trace!(
            channel = notification.channel(),
            payload = notification.payload(),
            "notification"
        );
        wakeups.wake_channel(notification.channel());
    }
    // The client must live until here: dropping it closes the connection.
    drop(client);
    match driver.await {
        Ok(result) => result,
        Err(_) => Ok(()),
    }
}
