//! The session-command worker: carries out the `session_commands` operators
//! (and the health check) write for the numbers this daemon holds.
//!
//! An insert into `session_commands` notifies `session_commands`; the
//! worker, woken by the `LISTEN` connection or by its poll, claims the
//! pending commands of the numbers it leases
//! (`private.claim_session_commands`), performs each on its session like
//! the runbook's `POST /numbers/{id}/session/{action}`, and records the
//! outcome (`private.complete_session_command`: done, or failed with the
//! error). Commands run concurrently, so a slow connect does not hold up
//! the others.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{watch, Notify};
use tokio::task::JoinSet;

use crate::database::{DatabaseError, DatabasePool};
use crate::sessions::{SessionAction, SessionRegistry};
use crate::store::{self, ClaimedSessionCommand};

/// Claims and carries out session commands until `shutdown` turns true.
pub async fn run_session_commands(
    pool: DatabasePool,
    registry: Arc<SessionRegistry>,
    poll_interval: Duration,
    wakeup: Arc<Notify>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut in_flight = JoinSet::new();
    let mut n_consecutive_failures: u32 = 0;
    loop {
        while in_flight.try_join_next().is_some() {}
        match claim(&pool, &registry).await {
            Ok(commands) => {
                n_consecutive_failures = 0;
                for command in commands {
                    in_flight.spawn(carry_out(pool.clone(), registry.clone(), command));
                }
            }
            Err(error) => {
                if n_consecutive_failures % 30 == 0 {
                    tracing::warn!("could not claim session commands: {error}");
                }
                n_consecutive_failures = n_consecutive_failures.saturating_add(1);
            }
        }
        tokio::select! {
            _ = wakeup.notified() => {}
            _ = tokio::time::sleep(poll_interval) => {}
            _ = shutdown.changed() => break,
        }
    }
    // Commands under way finish (within the daemon's shutdown bound).
    while in_flight.join_next().await.is_some() {}
}

async fn claim(
    pool: &DatabasePool,
    registry: &SessionRegistry,
) -> Result<Vec<ClaimedSessionCommand>, DatabaseError> {
    let client = pool.get().await?;
    store::claim_session_commands(&client, &registry.context.instance_id).await
}

async fn carry_out(
    pool: DatabasePool,
    registry: Arc<SessionRegistry>,
    command: ClaimedSessionCommand,
) {
    let outcome = match command.command.parse::<SessionAction>() {
        Ok(action) => registry
            .perform(
                command.number_id,
                action,
                format!(
                    "{} requested through session command {}",
                    action.as_str(),
                    command.command_id
                ),
            )
            .await
            .map_err(|error| error.to_string()),
        Err(error) => Err(error.to_string()),
    };
    match &outcome {
        Ok(state) => tracing::info!(
            number_id = %command.number_id,
            command_id = command.command_id,
            command = %command.command,
            state = %state,
            "carried out a session command"
        ),
        Err(error) => tracing::warn!(
            number_id = %command.number_id,
            command_id = command.command_id,
            command = %command.command,
            "a session command failed: {error}"
        ),
    }
    let error = outcome.err();
    let result = async {
        let client = pool.get().await?;
        store::complete_session_command(&client, command.command_id, error.as_deref()).await
    }
    .await;
    if let Err(error) = result {
        tracing::warn!(
            command_id = command.command_id,
            "could not record a session command's outcome: {error}"
        );
    }
}
