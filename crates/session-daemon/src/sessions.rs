//! The registry of held sessions, their states, and the session commands.
//!
//! The daemon holds a session for every row of `numbers` whose transport is
//! `simulator` (or only those listed in `WABOT_HOLD_NUMBERS`).
//! [`SessionRegistry::run_synchronisation`] re-reads the table every poll
//! interval, picks up new numbers (connecting them at once) and lets go of
//! deleted ones. Every change of a session's state is written to
//! `numbers.session_status` together with a `number_connection_events` row,
//! in one transaction; [`SessionRegistry::run_heartbeats`] refreshes
//! `numbers.last_heartbeat_at` of connected sessions every ten seconds.
//!
//! Each session has a task that consumes its transport's events: inbound
//! messages are stored (the store's outcome is acknowledged to the
//! transport), spontaneous connects, drops and logouts are recorded, and
//! receipts update the outbound messages they name.
//!
//! The runbook's commands (`start`, `stop`, `restart`) go through
//! [`SessionRegistry::perform`]; commands on one session are serialised.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::sync::{mpsc, watch, Notify};
use uuid::Uuid;

use crate::database::{DatabaseError, DatabasePool};
use crate::store;
use crate::transport::simulator::SimulatorNetwork;
use crate::transport::{ConnectOutcome, Transport, TransportError, TransportEvent};

/// How often connected sessions refresh `numbers.last_heartbeat_at`.
pub const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(10);

/// How many transport events may wait for a session's event task.
const EVENT_CHANNEL_CAPACITY: usize = 256;

/// The state of a session, as written in `numbers.session_status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SessionState {
    /// Not running, on purpose.
    Stopped,
    /// Connecting.
    Starting,
    /// Waiting for the phone to link the session (QR or pairing code).
    Pairing,
    /// Connected; messages flow.
    Connected,
    /// Connected, but something is wrong.
    Degraded,
    /// The connection dropped.
    Disconnected,
    /// WhatsApp is throttling the number.
    RateLimited,
    /// WhatsApp logged the session out; it must be linked again.
    LoggedOut,
    /// Connecting failed.
    Failed,
}

impl SessionState {
    /// Every state, in the schema's order.
    pub const ALL: [SessionState; 9] = [
        SessionState::Stopped,
        SessionState::Starting,
        SessionState::Pairing,
        SessionState::Connected,
        SessionState::Degraded,
        SessionState::Disconnected,
        SessionState::RateLimited,
        SessionState::LoggedOut,
        SessionState::Failed,
    ];

    /// Returns the state as written in `numbers.session_status`.
    pub fn as_str(self) -> &'static str {
        match self {
            SessionState::Stopped => "stopped",
            SessionState::Starting => "starting",
            SessionState::Pairing => "pairing",
            SessionState::Connected => "connected",
            SessionState::Degraded => "degraded",
            SessionState::Disconnected => "disconnected",
            SessionState::RateLimited => "rate_limited",
            SessionState::LoggedOut => "logged_out",
            SessionState::Failed => "failed",
        }
    }
}

impl fmt::Display for SessionState {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// A command of the runbook on one session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionAction {
    /// Connect the session.
    Start,
    /// Disconnect the session and leave it stopped.
    Stop,
    /// Disconnect and connect again.
    Restart,
}

impl SessionAction {
    /// Returns the action as written in the URL.
    pub fn as_str(self) -> &'static str {
        match self {
            SessionAction::Start => "start",
            SessionAction::Stop => "stop",
            SessionAction::Restart => "restart",
        }
    }
}

/// A session action that is not `start`, `stop` or `restart`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown session action {0:?}: expected start, stop or restart")]
pub struct UnknownSessionAction(pub String);

impl FromStr for SessionAction {
    type Err = UnknownSessionAction;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "start" => Ok(SessionAction::Start),
            "stop" => Ok(SessionAction::Stop),
            "restart" => Ok(SessionAction::Restart),
            _ => Err(UnknownSessionAction(value.to_owned())),
        }
    }
}

/// A failure of a session command or of the synchronisation.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// No held session has the number id.
    #[error("unknown number id {number_id}: no session on this daemon holds it")]
    UnknownNumber {
        /// The requested id.
        number_id: Uuid,
    },

    /// The transport refused the command.
    #[error("could not {action} the session of {phone_number}: {source}")]
    Transport {
        /// What was being done.
        action: &'static str,
        /// The number.
        phone_number: String,
        /// The transport's error.
        source: TransportError,
    },

    /// The database could not be read or written.
    #[error(transparent)]
    Database(#[from] DatabaseError),
}

/// One held session.
pub struct Session {
    /// `numbers.id`.
    pub number_id: Uuid,
    /// `numbers.phone_number`.
    pub phone_number: String,
    transport: Arc<dyn Transport>,
    state: Mutex<SessionState>,
    control: tokio::sync::Mutex<()>,
}

impl fmt::Debug for Session {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Session")
            .field("number_id", &self.number_id)
            .field("phone_number", &self.phone_number)
            .field("transport", &self.transport.kind())
            .field("state", &self.state())
            .finish()
    }
}

impl Session {
    /// Returns the session's current state.
    pub fn state(&self) -> SessionState {
        *lock(&self.state)
    }

    /// Returns the session's transport.
    pub fn transport(&self) -> &Arc<dyn Transport> {
        &self.transport
    }

    fn set_state(&self, state: SessionState) {
        *lock(&self.state) = state;
    }
}

/// Every session this daemon holds.
pub struct SessionRegistry {
    pool: DatabasePool,
    instance_id: String,
    simulator: Arc<SimulatorNetwork>,
    held_phone_numbers: Option<Vec<String>>,
    sessions: RwLock<HashMap<Uuid, Arc<Session>>>,
    outbound_wakeup: Arc<Notify>,
}

impl fmt::Debug for SessionRegistry {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("SessionRegistry")
            .field("instance_id", &self.instance_id)
            .field("held_phone_numbers", &self.held_phone_numbers)
            .field("n_sessions", &self.n_sessions())
            .finish_non_exhaustive()
    }
}

impl SessionRegistry {
    /// Creates an empty registry. `outbound_wakeup` is notified whenever a
    /// session connects, so queued messages go out at once.
    pub fn new(
        pool: DatabasePool,
        instance_id: String,
        simulator: Arc<SimulatorNetwork>,
        held_phone_numbers: Option<Vec<String>>,
        outbound_wakeup: Arc<Notify>,
    ) -> Arc<Self> {
        Arc::new(SessionRegistry {
            pool,
            instance_id,
            simulator,
            held_phone_numbers,
            sessions: RwLock::new(HashMap::new()),
            outbound_wakeup,
        })
    }

    /// Returns the held session of a number.
    pub fn session(&self, number_id: Uuid) -> Option<Arc<Session>> {
        read(&self.sessions).get(&number_id).cloned()
    }

    /// Returns the number of held sessions.
    pub fn n_sessions(&self) -> usize {
        read(&self.sessions).len()
    }

    /// Returns the ids of the numbers whose session is connected.
    pub fn connected_number_ids(&self) -> Vec<Uuid> {
        read(&self.sessions)
            .values()
            .filter(|session| session.state() == SessionState::Connected)
            .map(|session| session.number_id)
            .collect()
    }

    /// Counts the held sessions by state; every state is present, zero or
    /// not.
    pub fn count_by_state(&self) -> BTreeMap<&'static str, usize> {
        let mut counts: BTreeMap<&'static str, usize> = SessionState::ALL
            .iter()
            .map(|state| (state.as_str(), 0))
            .collect();
        for session in read(&self.sessions).values() {
            *counts.entry(session.state().as_str()).or_default() += 1;
        }
        counts
    }

    /// Re-reads the numbers table: holds (and connects) new simulator
    /// numbers and lets go of those that are gone.
    pub async fn synchronise(self: &Arc<Self>) -> Result<(), SessionError> {
        let numbers = {
            let client = self.pool.get().await.map_err(DatabaseError::from)?;
            store::list_simulator_numbers(&client, self.held_phone_numbers.as_deref()).await?
        };
        let wanted: HashMap<Uuid, String> = numbers
            .into_iter()
            .map(|number| (number.number_id, number.phone_number))
            .collect();

        let (gone, new): (Vec<Arc<Session>>, Vec<(Uuid, String)>) = {
            let sessions = read(&self.sessions);
            let gone = sessions
                .values()
                .filter(|session| wanted.get(&session.number_id) != Some(&session.phone_number))
                .cloned()
                .collect();
            let new = wanted
                .iter()
                .filter(|(number_id, phone_number)| {
                    sessions
                        .get(number_id)
                        .is_none_or(|session| &session.phone_number != *phone_number)
                })
                .map(|(number_id, phone_number)| (*number_id, phone_number.clone()))
                .collect();
            (gone, new)
        };

        for session in gone {
            self.release(&session).await;
        }
        for (number_id, phone_number) in new {
            let session = self.hold(number_id, phone_number);
            let _control = session.control.lock().await;
            let reason = format!("held by daemon {}", self.instance_id);
            if let Err(error) = self.connect(&session, "connected", Some(&reason)).await {
                tracing::warn!(number = %session.phone_number, "could not bring up a session: {error}");
            }
        }
        Ok(())
    }

    /// Re-reads the numbers table every `poll_interval` until `shutdown`
    /// turns true.
    pub async fn run_synchronisation(
        self: Arc<Self>,
        poll_interval: Duration,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let mut n_consecutive_failures: u32 = 0;
        loop {
            match self.synchronise().await {
                Ok(()) => {
                    if n_consecutive_failures > 0 {
                        tracing::info!("reading the numbers table works again");
                    }
                    n_consecutive_failures = 0;
                }
                Err(error) => {
                    if n_consecutive_failures % 30 == 0 {
                        tracing::warn!("could not read the numbers table: {error}");
                    }
                    n_consecutive_failures = n_consecutive_failures.saturating_add(1);
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(poll_interval) => {}
                _ = shutdown.changed() => return,
            }
        }
    }

    /// Refreshes `last_heartbeat_at` of connected sessions every
    /// [`HEARTBEAT_INTERVAL`] until `shutdown` turns true.
    pub async fn run_heartbeats(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let mut interval = tokio::time::interval(HEARTBEAT_INTERVAL);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = interval.tick() => {}
                _ = shutdown.changed() => return,
            }
            let number_ids = self.connected_number_ids();
            if number_ids.is_empty() {
                continue;
            }
            let result = async {
                let client = self.pool.get().await?;
                store::record_heartbeats(&client, &number_ids).await
            }
            .await;
            if let Err(error) = result {
                tracing::warn!("could not record heartbeats: {error}");
            }
        }
    }

    /// Performs a runbook command on a held session and returns its new
    /// state. The state and a connection event (`connected`, `stopped` or
    /// `restarted`) are written to the database.
    pub async fn perform(
        self: &Arc<Self>,
        number_id: Uuid,
        action: SessionAction,
    ) -> Result<SessionState, SessionError> {
        let session = self
            .session(number_id)
            .ok_or(SessionError::UnknownNumber { number_id })?;
        let _control = session.control.lock().await;
        let reason = format!("{} requested through the daemon api", action.as_str());
        match action {
            SessionAction::Start => self.connect(&session, "connected", Some(&reason)).await,
            SessionAction::Stop => self.stop(&session, &reason).await,
            SessionAction::Restart => {
                disconnect_transport(&session).await?;
                self.connect(&session, "restarted", Some(&reason)).await
            }
        }
    }

    /// Disconnects every session and records them stopped, for a graceful
    /// shutdown.
    pub async fn shut_down_all(self: &Arc<Self>) {
        let sessions: Vec<Arc<Session>> = read(&self.sessions).values().cloned().collect();
        for session in sessions {
            let _control = session.control.lock().await;
            if session.state() == SessionState::Stopped {
                continue;
            }
            let reason = format!("daemon {} shutting down", self.instance_id);
            if let Err(error) = self.stop(&session, &reason).await {
                tracing::warn!(number = %session.phone_number, "could not record the session stopped: {error}");
            }
        }
    }

    fn hold(self: &Arc<Self>, number_id: Uuid, phone_number: String) -> Arc<Session> {
        let (events_sender, events) = mpsc::channel(EVENT_CHANNEL_CAPACITY);
        let transport = self.simulator.attach(&phone_number, events_sender);
        let session = Arc::new(Session {
            number_id,
            phone_number,
            transport: Arc::new(transport),
            state: Mutex::new(SessionState::Stopped),
            control: tokio::sync::Mutex::new(()),
        });
        write(&self.sessions).insert(number_id, session.clone());
        tracing::info!(number = %session.phone_number, %number_id, "holding the number's session");
        tokio::spawn(run_session_events(self.clone(), session.clone(), events));
        session
    }

    async fn release(&self, session: &Arc<Session>) {
        let _control = session.control.lock().await;
        if let Err(error) = session.transport.disconnect().await {
            tracing::warn!(number = %session.phone_number, "could not disconnect a released session: {error}");
        }
        session.set_state(SessionState::Stopped);
        write(&self.sessions).remove(&session.number_id);
        self.simulator.detach(&session.phone_number);
        tracing::info!(number = %session.phone_number, number_id = %session.number_id, "released the number's session");
    }

    async fn connect(
        &self,
        session: &Session,
        event: &'static str,
        reason: Option<&str>,
    ) -> Result<SessionState, SessionError> {
        session.set_state(SessionState::Starting);
        match session.transport.connect().await {
            Ok(ConnectOutcome::Connected) => {
                session.set_state(SessionState::Connected);
                tracing::info!(number = %session.phone_number, event, "session connected");
                self.outbound_wakeup.notify_one();
                self.record(session, SessionState::Connected, event, reason, json!({}))
                    .await?;
                Ok(SessionState::Connected)
            }
            Ok(ConnectOutcome::Pending {
                reason: waiting_for,
            }) => {
                session.set_state(SessionState::Pairing);
                let event = if event == "connected" {
                    "pairing"
                } else {
                    event
                };
                self.record(
                    session,
                    SessionState::Pairing,
                    event,
                    reason,
                    json!({ "waiting_for": waiting_for }),
                )
                .await?;
                Ok(SessionState::Pairing)
            }
            Err(error) => {
                session.set_state(SessionState::Failed);
                let failure = error.to_string();
                if let Err(record_error) = self
                    .record(
                        session,
                        SessionState::Failed,
                        "connect_failed",
                        Some(&failure),
                        json!({}),
                    )
                    .await
                {
                    tracing::warn!(number = %session.phone_number, "could not record a failed connect: {record_error}");
                }
                Err(SessionError::Transport {
                    action: "connect",
                    phone_number: session.phone_number.clone(),
                    source: error,
                })
            }
        }
    }

    async fn stop(&self, session: &Session, reason: &str) -> Result<SessionState, SessionError> {
        disconnect_transport(session).await?;
        session.set_state(SessionState::Stopped);
        tracing::info!(number = %session.phone_number, "session stopped");
        self.record(
            session,
            SessionState::Stopped,
            "stopped",
            Some(reason),
            json!({}),
        )
        .await?;
        Ok(SessionState::Stopped)
    }

    async fn record(
        &self,
        session: &Session,
        state: SessionState,
        event: &str,
        reason: Option<&str>,
        mut detail: Value,
    ) -> Result<(), DatabaseError> {
        if let Value::Object(fields) = &mut detail {
            fields.insert("instance_id".to_owned(), json!(self.instance_id));
            fields.insert(
                "transport".to_owned(),
                json!(session.transport.kind().as_str()),
            );
        }
        let mut client = self.pool.get().await?;
        store::record_session_status(
            &mut client,
            session.number_id,
            state.as_str(),
            event,
            reason,
            &detail,
        )
        .await
    }
}

async fn disconnect_transport(session: &Session) -> Result<(), SessionError> {
    session
        .transport
        .disconnect()
        .await
        .map_err(|source| SessionError::Transport {
            action: "disconnect",
            phone_number: session.phone_number.clone(),
            source,
        })
}

/// Consumes one session's transport events until its transport goes away.
async fn run_session_events(
    registry: Arc<SessionRegistry>,
    session: Arc<Session>,
    mut events: mpsc::Receiver<TransportEvent>,
) {
    while let Some(event) = events.recv().await {
        match event {
            TransportEvent::Inbound(delivery) => {
                let result = async {
                    let client = registry.pool.get().await?;
                    store::store_inbound_message(&client, session.number_id, &delivery.message)
                        .await
                }
                .await;
                match &result {
                    Ok(stored) => tracing::info!(
                        number = %session.phone_number,
                        contact = %delivery.message.contact_wa_id,
                        wa_message_id = %delivery.message.wa_message_id,
                        message_id = %stored.message_id,
                        duplicate = stored.duplicate,
                        "stored an inbound message"
                    ),
                    Err(error) => tracing::warn!(
                        number = %session.phone_number,
                        wa_message_id = %delivery.message.wa_message_id,
                        "could not store an inbound message: {error}"
                    ),
                }
                if let Some(acknowledgement) = delivery.acknowledgement {
                    let _ = acknowledgement.send(result.map_err(|error| error.to_string()));
                }
            }
            TransportEvent::Receipt(receipt) => {
                let result = async {
                    let client = registry.pool.get().await?;
                    store::apply_receipt(&client, session.number_id, &receipt).await
                }
                .await;
                if let Err(error) = result {
                    tracing::warn!(number = %session.phone_number, "could not apply a receipt: {error}");
                }
            }
            TransportEvent::Connected => {
                let _control = session.control.lock().await;
                session.set_state(SessionState::Connected);
                registry.outbound_wakeup.notify_one();
                record_event(
                    &registry,
                    &session,
                    SessionState::Connected,
                    "connected",
                    None,
                )
                .await;
            }
            TransportEvent::Disconnected { reason } => {
                let _control = session.control.lock().await;
                session.set_state(SessionState::Disconnected);
                record_event(
                    &registry,
                    &session,
                    SessionState::Disconnected,
                    "disconnected",
                    Some(&reason),
                )
                .await;
            }
            TransportEvent::LoggedOut { reason } => {
                let _control = session.control.lock().await;
                session.set_state(SessionState::LoggedOut);
                record_event(
                    &registry,
                    &session,
                    SessionState::LoggedOut,
                    "logged_out",
                    Some(&reason),
                )
                .await;
            }
        }
    }
}

async fn record_event(
    registry: &SessionRegistry,
    session: &Session,
    state: SessionState,
    event: &str,
    reason: Option<&str>,
) {
    tracing::info!(number = %session.phone_number, event, reason, "session event");
    if let Err(error) = registry
        .record(session, state, event, reason, json!({}))
        .await
    {
        tracing::warn!(number = %session.phone_number, "could not record a session event: {error}");
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_parse_from_the_url() {
        assert_eq!("start".parse::<SessionAction>(), Ok(SessionAction::Start));
        assert_eq!("stop".parse::<SessionAction>(), Ok(SessionAction::Stop));
        assert_eq!(
            "restart".parse::<SessionAction>(),
            Ok(SessionAction::Restart)
        );
        let error = "reboot".parse::<SessionAction>().unwrap_err();
        assert_eq!(
            error.to_string(),
            "unknown session action \"reboot\": expected start, stop or restart"
        );
    }

    #[test]
    fn states_are_written_as_the_schema_spells_them() {
        let names: Vec<&str> = SessionState::ALL
            .iter()
            .map(|state| state.as_str())
            .collect();
        assert_eq!(
            names,
            [
                "stopped",
                "starting",
                "pairing",
                "connected",
                "degraded",
                "disconnected",
                "rate_limited",
                "logged_out",
                "failed"
            ]
        );
    }
}
