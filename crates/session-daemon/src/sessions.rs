//! The sessions this daemon holds: one actor per number, its state machine,
//! reconnects, and the runbook's commands.
//!
//! Each held number has a [`Session`]: its transport, what the daemon knows
//! about its health ([`SessionStatus`]), its send pacing, and an actor task
//! that owns every change to it. The actor consumes, one at a time, the
//! commands of the runbook and of the supervisor ([`SessionAction`], rate
//! limits, watchdog restarts, release) and the transport's events, and
//! fires two timers: the next reconnect and the end of a rate-limit pause.
//! Serialising everything through the actor keeps a session's state, its
//! transport and its timeline consistent without locks held across awaits.
//!
//! # States and events
//!
//! States are the core's ([`health::SessionState`], the values of
//! `numbers.session_status`), moved by [`health::transition`] (an
//! unexpected event still moves the state, and the anomaly is logged). Each
//! change is written to `numbers.session_status` with a
//! `number_connection_events` row in one transaction. The events written:
//!
//! | event | when | status |
//! |---|---|---|
//! | `starting` | a connect is under way (Web) | starting |
//! | `qr_shown`, `pair_code_shown` | a pairing code shows (`detail.qr` / `detail.pair_code`, `detail.expires_at`) | pairing |
//! | `paired` | a person linked the number | connecting |
//! | `connected` | the session is up | connected |
//! | `disconnected` | the connection dropped or a connect failed (`reason`, `code`) | disconnected |
//! | `stream_replaced`, `client_outdated` | another client took over; the client is too old | disconnected |
//! | `logged_out` | WhatsApp unlinked the device; its credentials are deleted | logged_out |
//! | `temporary_ban` | a ban with an end (`detail.expires_at`) | rate_limited |
//! | `banned` | a permanent ban | banned |
//! | `rate_limited`, `rate_limit_cleared` | a send was refused for rate; the pause ended | rate_limited, connected |
//! | `restarted` | a restart (runbook, command, watchdog), with the status it reached | connected, starting, … |
//! | `stopped` | stopped; `detail.sticky` is true when an operator asked, so the number stays stopped across restarts and failovers | stopped |
//!
//! # Reconnects
//!
//! A drop the daemon did not ask for schedules a reconnect under the core's
//! policy ([`health::reconnect_delay`]: exponential backoff with full
//! jitter, reset after a stable connection, and no retry after a logout, a
//! ban, a replaced stream or an outdated client).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use health::{
    reconnect_delay, transition, ConnectionEvent, ConnectionEventKind, HealthThresholds,
    RecentEvent, ReconnectDecision, ReconnectPolicy, ReconnectRequest, SessionState,
};
use serde::Serialize;
use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot, Notify};
use tracing::Instrument;
use uuid::Uuid;

use crate::database::{DatabaseError, DatabasePool};
use crate::metrics::Metrics;
use crate::pacing::{NumberPacing, PacingPolicies};
use crate::phone::{check_linked_account, LinkedAccount};
use crate::store;
use crate::transport::{ConnectOutcome, Transport, TransportError, TransportEvent, TransportKind};

/// How many transport events may wait for a session's actor.
pub const EVENT_CHANNEL_CAPACITY: usize = 64;

/// How many commands may wait for a session's actor.
const COMMAND_CHANNEL_CAPACITY: usize = 8;

/// How many recent connection events and send failures a session remembers
/// for the watchdog.
const RECENT_MEMORY: usize = 32;

/// How long a transport's connect may take before it counts as failed.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);

/// How long a runbook command may take before the API gives up waiting.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

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
    /// Returns the action as written in the URL and in `session_commands`.
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

/// A failure of a session command.
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

    /// The session's actor is gone (the number was let go of) or did not
    /// answer in time.
    #[error("the session of {phone_number} is not available: {reason}")]
    Unavailable {
        /// The number.
        phone_number: String,
        /// Why.
        reason: &'static str,
    },

    /// The database could not be read or written.
    #[error(transparent)]
    Database(#[from] DatabaseError),
}

/// The QR code and pair code of a session that is pairing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Pairing {
    /// The QR payload to render, if one shows.
    pub qr_code: Option<String>,
    /// When the QR code expires, in Unix milliseconds.
    pub qr_code_expires_at_ms: Option<i64>,
    /// The eight-character pair code, if one shows.
    pub pair_code: Option<String>,
    /// When the pair code expires, in Unix milliseconds.
    pub pair_code_expires_at_ms: Option<i64>,
}

/// The last connection event a session recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LastEvent {
    /// The event, as written in the timeline.
    pub event: String,
    /// Its reason.
    pub reason: Option<String>,
    /// WhatsApp's code.
    pub code: Option<String>,
    /// When, in Unix milliseconds.
    pub at_ms: i64,
}

/// What the daemon knows about one session's health.
#[derive(Debug, Clone)]
pub struct SessionStatus {
    /// The state.
    pub state: SessionState,
    /// When the session entered the state, in Unix milliseconds.
    pub since_ms: i64,
    /// Whether the transport's connection is up (a rate-limited session can
    /// be connected; a disconnected one cannot).
    pub transport_connected: bool,
    /// The codes showing while pairing.
    pub pairing: Option<Pairing>,
    /// The last sign of life of the connection, in Unix milliseconds.
    pub last_alive_ms: Option<i64>,
    /// The last inbound message, in Unix milliseconds.
    pub last_inbound_ms: Option<i64>,
    /// The last successful send, in Unix milliseconds.
    pub last_send_success_ms: Option<i64>,
    /// Recent failed sends, in Unix milliseconds.
    pub recent_send_failures_ms: VecDeque<i64>,
    /// Recent connection events.
    pub recent_events: VecDeque<RecentEvent>,
    /// Until when WhatsApp limits the number, in Unix milliseconds.
    pub rate_limited_until_ms: Option<i64>,
    /// Reconnect attempts since the last stable connection.
    pub reconnect_attempts: u32,
    /// When the next reconnect happens, in Unix milliseconds.
    pub reconnect_at_ms: Option<i64>,
    /// When the current connection came up, in Unix milliseconds.
    pub connected_at_ms: Option<i64>,
    /// The last event recorded.
    pub last_event: Option<LastEvent>,
    /// Whether the database missed the latest status (it was unreachable).
    pub status_dirty: bool,
    /// When the watchdog last restarted the session, in Unix milliseconds.
    pub last_watchdog_restart_ms: Option<i64>,
}

impl SessionStatus {
    fn new(state: SessionState, now_ms: i64) -> Self {
        SessionStatus {
            state,
            since_ms: now_ms,
            transport_connected: false,
            pairing: None,
            last_alive_ms: None,
            last_inbound_ms: None,
            last_send_success_ms: None,
            recent_send_failures_ms: VecDeque::new(),
            recent_events: VecDeque::new(),
            rate_limited_until_ms: None,
            reconnect_attempts: 0,
            reconnect_at_ms: None,
            connected_at_ms: None,
            last_event: None,
            status_dirty: false,
            last_watchdog_restart_ms: None,
        }
    }

    fn remember_event(&mut self, kind: ConnectionEventKind, at_ms: i64) {
        if self.recent_events.len() == RECENT_MEMORY {
            self.recent_events.pop_front();
        }
        self.recent_events.push_back(RecentEvent { at_ms, kind });
    }
}

/// What the sessions of one daemon share.
pub struct SessionContext {
    /// The database pool.
    pub pool: DatabasePool,
    /// This daemon's instance id.
    pub instance_id: String,
    /// The reconnect policy.
    pub reconnect_policy: ReconnectPolicy,
    /// The watchdog's thresholds.
    pub health_thresholds: HealthThresholds,
    /// The pacing configuration per transport.
    pub pacing: PacingPolicies,
    /// The counters.
    pub metrics: Arc<Metrics>,
    /// Wakes the outbound sender (a session connected, a pause ended).
    pub outbound_wakeup: Arc<Notify>,
}

impl fmt::Debug for SessionContext {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("SessionContext")
            .field("instance_id", &self.instance_id)
            .field("reconnect_policy", &self.reconnect_policy)
            .finish_non_exhaustive()
    }
}

/// A command for a session's actor.
enum Command {
    Perform {
        action: SessionAction,
        reason: String,
        reply: oneshot::Sender<Result<SessionState, SessionError>>,
    },
    RateLimited {
        until_ms: i64,
        reason: String,
    },
    WatchdogRestart {
        reason: String,
    },
    Release {
        stop_reason: Option<String>,
        reply: oneshot::Sender<()>,
    },
}

/// One held session.
pub struct Session {
    /// `numbers.id`.
    pub number_id: Uuid,
    /// `numbers.phone_number`.
    pub phone_number: String,
    /// `numbers.transport`.
    pub kind: TransportKind,
    /// When the number was created, in Unix milliseconds.
    pub created_at_ms: i64,
    transport: Arc<dyn Transport>,
    status: Mutex<SessionStatus>,
    pacing: Mutex<NumberPacing>,
    lease_deadline: Mutex<Instant>,
    commands: mpsc::Sender<Command>,
}

impl fmt::Debug for Session {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Session")
            .field("number_id", &self.number_id)
            .field("phone_number", &self.phone_number)
            .field("transport", &self.kind)
            .field("state", &self.state())
            .finish_non_exhaustive()
    }
}

impl Session {
    /// Returns the session's current state.
    pub fn state(&self) -> SessionState {
        lock(&self.status).state
    }

    /// Returns a copy of what the daemon knows about the session.
    pub fn status(&self) -> SessionStatus {
        lock(&self.status).clone()
    }

    /// Tells whether the session may send now: connected, transport up.
    pub fn can_send(&self) -> bool {
        let status = lock(&self.status);
        status.state == SessionState::Connected && status.transport_connected
    }

    /// Returns the session's transport.
    pub fn transport(&self) -> &Arc<dyn Transport> {
        &self.transport
    }

    /// Runs `change` on the session's pacing state.
    pub fn with_pacing<T>(&self, change: impl FnOnce(&mut NumberPacing) -> T) -> T {
        change(&mut lock(&self.pacing))
    }

    /// Notes a successful send.
    pub fn note_send_success(&self, now_ms: i64) {
        lock(&self.status).last_send_success_ms = Some(now_ms);
    }

    /// Notes a failed send (for the zombie test).
    pub fn note_send_failure(&self, now_ms: i64) {
        let mut status = lock(&self.status);
        if status.recent_send_failures_ms.len() == RECENT_MEMORY {
            status.recent_send_failures_ms.pop_front();
        }
        status.recent_send_failures_ms.push_back(now_ms);
    }

    /// Notes an inbound message stored outside the actor (the Cloud API
    /// webhook).
    pub fn note_inbound(&self, now_ms: i64) {
        let mut status = lock(&self.status);
        status.last_inbound_ms = Some(now_ms);
        status.last_alive_ms = Some(now_ms);
    }

    /// Notes a sign of life of the connection.
    pub fn note_alive(&self, now_ms: i64) {
        lock(&self.status).last_alive_ms = Some(now_ms);
    }

    /// Returns when the local view of the lease ends.
    pub fn lease_deadline(&self) -> Instant {
        *lock(&self.lease_deadline)
    }

    /// Moves the local view of the lease's end.
    pub fn extend_lease(&self, deadline: Instant) {
        let mut current = lock(&self.lease_deadline);
        if deadline > *current {
            *current = deadline;
        }
    }

    /// Asks the actor to pause the session after a rate-limit error.
    pub fn report_rate_limit(&self, until_ms: i64, reason: String) {
        let _ = self
            .commands
            .try_send(Command::RateLimited { until_ms, reason });
    }

    /// Asks the actor to restart the session for the watchdog; false when the
    /// actor is busy or gone.
    pub fn request_watchdog_restart(&self, reason: String) -> bool {
        self.commands
            .try_send(Command::WatchdogRestart { reason })
            .is_ok()
    }

    /// Performs a runbook command and returns the state it reached.
    pub async fn perform(
        &self,
        action: SessionAction,
        reason: String,
    ) -> Result<SessionState, SessionError> {
        let (reply, answer) = oneshot::channel();
        let unavailable = |reason| SessionError::Unavailable {
            phone_number: self.phone_number.clone(),
            reason,
        };
        self.commands
            .send(Command::Perform {
                action,
                reason,
                reply,
            })
            .await
            .map_err(|_| unavailable("its task ended"))?;
        match tokio::time::timeout(COMMAND_TIMEOUT, answer).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(unavailable("its task ended")),
            Err(_) => Err(unavailable("the command did not finish in time")),
        }
    }

    /// Lets go of the session: disconnects it and ends its actor. With a
    /// reason, the session is also recorded `stopped` (a graceful shutdown);
    /// without, nothing is written (the lease was lost: the new holder
    /// writes).
    pub async fn release(&self, stop_reason: Option<String>) {
        let (reply, done) = oneshot::channel();
        if self
            .commands
            .send(Command::Release { stop_reason, reply })
            .await
            .is_ok()
        {
            let _ = tokio::time::timeout(COMMAND_TIMEOUT, done).await;
        }
    }
}

/// How a new session starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitialCommand {
    /// Connect it.
    Start,
    /// Leave it stopped (an operator stopped it).
    StayStopped,
}

/// Creates a session and spawns its actor.
#[allow(clippy::too_many_arguments)]
pub fn spawn_session(
    context: Arc<SessionContext>,
    number_id: Uuid,
    phone_number: String,
    kind: TransportKind,
    created_at_ms: i64,
    transport: Arc<dyn Transport>,
    events: mpsc::Receiver<TransportEvent>,
    pacing: NumberPacing,
    lease_deadline: Instant,
    initial: InitialCommand,
) -> Arc<Session> {
    let (commands_sender, commands) = mpsc::channel(COMMAND_CHANNEL_CAPACITY);
    let now_ms = now_ms();
    let session = Arc::new(Session {
        number_id,
        phone_number,
        kind,
        created_at_ms,
        transport,
        status: Mutex::new(SessionStatus::new(SessionState::Stopped, now_ms)),
        pacing: Mutex::new(pacing),
        lease_deadline: Mutex::new(lease_deadline),
        commands: commands_sender,
    });
    let span = tracing::info_span!(
        "session",
        number_id = %number_id,
        number = %session.phone_number,
        transport = kind.as_str()
    );
    let actor = Actor {
        context,
        session: session.clone(),
        reconnect_at: None,
        pause_ends_at: None,
    };
    tokio::spawn(actor.run(commands, events, initial).instrument(span));
    session
}

/// The task that owns a session.
struct Actor {
    context: Arc<SessionContext>,
    session: Arc<Session>,
    reconnect_at: Option<tokio::time::Instant>,
    pause_ends_at: Option<tokio::time::Instant>,
}

/// Whether the actor keeps running.
enum Flow {
    Continue,
    Exit,
}

impl Actor {
    async fn run(
        mut self,
        mut commands: mpsc::Receiver<Command>,
        mut events: mpsc::Receiver<TransportEvent>,
        initial: InitialCommand,
    ) {
        match initial {
            InitialCommand::Start => {
                let reason = format!("held by daemon {}", self.context.instance_id);
                if let Err(error) = self.start("connected", &reason).await {
                    tracing::warn!("could not bring up the session: {error}");
                }
            }
            InitialCommand::StayStopped => {
                tracing::info!("the session stays stopped: an operator stopped it");
            }
        }
        // A transport without events (the Cloud API's arrive on the
        // webhook) closes its channel at once; the actor keeps serving
        // commands and timers.
        let mut events_open = true;
        loop {
            let reconnect_at = self.reconnect_at;
            let pause_ends_at = self.pause_ends_at;
            tokio::select! {
                biased;
                command = commands.recv() => {
                    let Some(command) = command else { break };
                    if let Flow::Exit = self.handle_command(command).await {
                        break;
                    }
                }
                event = events.recv(), if events_open => {
                    match event {
                        Some(event) => self.handle_event(event).await,
                        None => events_open = false,
                    }
                }
                _ = sleep_until(reconnect_at), if reconnect_at.is_some() => {
                    self.reconnect_at = None;
                    self.reconnect().await;
                }
                _ = sleep_until(pause_ends_at), if pause_ends_at.is_some() => {
                    self.pause_ends_at = None;
                    self.end_pause().await;
                }
            }
        }
        tracing::debug!("the session's task ended");
    }

    async fn handle_command(&mut self, command: Command) -> Flow {
        match command {
            Command::Perform {
                action,
                reason,
                reply,
            } => {
                let result = match action {
                    SessionAction::Start => self.start("connected", &reason).await,
                    SessionAction::Stop => self.stop(&reason, true).await,
                    SessionAction::Restart => self.restart(&reason).await,
                };
                let _ = reply.send(result);
                Flow::Continue
            }
            Command::RateLimited { until_ms, reason } => {
                self.rate_limited(until_ms, &reason, "rate_limited", None)
                    .await;
                Flow::Continue
            }
            Command::WatchdogRestart { reason } => {
                let state = self.session.state();
                if matches!(
                    state,
                    SessionState::Connected | SessionState::Starting | SessionState::Connecting
                ) {
                    self.context
                        .metrics
                        .watchdog_restarts
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    lock(&self.session.status).last_watchdog_restart_ms = Some(now_ms());
                    tracing::warn!(%reason, "the watchdog restarts the session");
                    if let Err(error) = self.restart(&reason).await {
                        tracing::warn!("the watchdog's restart failed: {error}");
                    }
                }
                Flow::Continue
            }
            Command::Release { stop_reason, reply } => {
                self.reconnect_at = None;
                self.pause_ends_at = None;
                if let Err(error) = self.session.transport.disconnect().await {
                    tracing::warn!("could not disconnect while letting go: {error}");
                }
                {
                    let mut status = lock(&self.session.status);
                    status.transport_connected = false;
                    status.pairing = None;
                }
                let already_stopped = self.session.state() == SessionState::Stopped;
                match stop_reason {
                    // A stopped session keeps its last `stopped` event (an
                    // operator's sticky stop must survive the shutdown).
                    Some(_) if already_stopped => {}
                    Some(reason) => {
                        self.move_to(
                            ConnectionEvent::StopRequested {},
                            "stopped",
                            Some(&reason),
                            None,
                            json!({ "sticky": false }),
                        )
                        .await;
                    }
                    None => {
                        let mut status = lock(&self.session.status);
                        status.state = SessionState::Stopped;
                        tracing::info!("let go of the session (its lease is gone)");
                    }
                }
                let _ = reply.send(());
                Flow::Exit
            }
        }
    }

    /// Connects the session, recording `event` (with the status reached) on
    /// success.
    async fn start(&mut self, event: &str, reason: &str) -> Result<SessionState, SessionError> {
        self.reconnect_at = None;
        if self.session.can_send() && event == "connected" {
            return Ok(SessionState::Connected);
        }
        {
            // The request itself is not written to the timeline; the outcome
            // is. The state machine still sees it, so connecting from
            // `stopped` is no anomaly.
            let mut status = lock(&self.session.status);
            let change = transition(status.state, &ConnectionEvent::StartRequested {});
            status.state = change.next_state;
        }
        let outcome =
            match tokio::time::timeout(CONNECT_TIMEOUT, self.session.transport.connect()).await {
                Ok(outcome) => outcome,
                Err(_) => Err(TransportError::Failed {
                    reason: format!("no answer within {} s", CONNECT_TIMEOUT.as_secs()),
                }),
            };
        match outcome {
            Ok(ConnectOutcome::Connected) => {
                self.connected(event, Some(reason)).await;
                Ok(self.session.state())
            }
            Ok(ConnectOutcome::Pending {
                reason: waiting_for,
            }) => {
                let event = if event == "connected" {
                    "starting"
                } else {
                    event
                };
                self.move_to(
                    ConnectionEvent::StartRequested {},
                    event,
                    Some(reason),
                    None,
                    json!({ "waiting_for": waiting_for }),
                )
                .await;
                Ok(self.session.state())
            }
            Err(error) => {
                let failure = format!("connect failed: {error}");
                self.move_to(
                    ConnectionEvent::Disconnected {
                        reason: failure.clone(),
                    },
                    "disconnected",
                    Some(&failure),
                    None,
                    json!({}),
                )
                .await;
                self.schedule_reconnect(ConnectionEventKind::Disconnected, None);
                Err(SessionError::Transport {
                    action: "connect",
                    phone_number: self.session.phone_number.clone(),
                    source: error,
                })
            }
        }
    }

    async fn connected(&mut self, event: &str, reason: Option<&str>) {
        let now_ms = now_ms();
        {
            let mut status = lock(&self.session.status);
            status.transport_connected = true;
            status.pairing = None;
            status.connected_at_ms = Some(now_ms);
            status.last_alive_ms = Some(now_ms);
            status.reconnect_at_ms = None;
        }
        self.reconnect_at = None;
        let paused_until = self
            .session
            .with_pacing(|pacing| pacing.paused_until(now_ms));
        match paused_until {
            Some(until_ms) => {
                // Still paused after a rate-limit error: connected, but not
                // sending until the pause ends.
                self.move_to(
                    ConnectionEvent::Connected {},
                    event,
                    reason,
                    None,
                    json!({}),
                )
                .await;
                self.rate_limited(
                    until_ms,
                    "still paused after a rate-limit error",
                    "rate_limited",
                    None,
                )
                .await;
            }
            None => {
                self.move_to(
                    ConnectionEvent::Connected {},
                    event,
                    reason,
                    None,
                    json!({}),
                )
                .await;
                self.context.outbound_wakeup.notify_one();
            }
        }
    }

    async fn stop(&mut self, reason: &str, sticky: bool) -> Result<SessionState, SessionError> {
        self.reconnect_at = None;
        self.pause_ends_at = None;
        self.session
            .transport
            .disconnect()
            .await
            .map_err(|source| SessionError::Transport {
                action: "disconnect",
                phone_number: self.session.phone_number.clone(),
                source,
            })?;
        {
            let mut status = lock(&self.session.status);
            status.transport_connected = false;
            status.pairing = None;
            status.reconnect_at_ms = None;
        }
        tracing::info!(reason, "session stopped");
        self.move_to(
            ConnectionEvent::StopRequested {},
            "stopped",
            Some(reason),
            None,
            json!({ "sticky": sticky }),
        )
        .await;
        Ok(SessionState::Stopped)
    }

    async fn restart(&mut self, reason: &str) -> Result<SessionState, SessionError> {
        self.reconnect_at = None;
        self.session
            .transport
            .disconnect()
            .await
            .map_err(|source| SessionError::Transport {
                action: "disconnect",
                phone_number: self.session.phone_number.clone(),
                source,
            })?;
        {
            let mut status = lock(&self.session.status);
            status.transport_connected = false;
            status.pairing = None;
            // A restart is a fresh start for the reconnect policy too.
            status.reconnect_attempts = 0;
            status.state = SessionState::Stopped;
        }
        self.start("restarted", reason).await
    }

    async fn reconnect(&mut self) {
        let state = self.session.state();
        if !matches!(
            state,
            SessionState::Disconnected | SessionState::RateLimited
        ) {
            return;
        }
        self.context
            .metrics
            .reconnects
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let attempt = lock(&self.session.status).reconnect_attempts;
        tracing::info!(attempt, "reconnecting");
        let reason = format!("reconnect attempt {attempt}");
        let _ = self.start("connected", &reason).await;
    }

    async fn end_pause(&mut self) {
        let now_ms = now_ms();
        let (state, transport_connected) = {
            let status = lock(&self.session.status);
            (status.state, status.transport_connected)
        };
        if state != SessionState::RateLimited {
            return;
        }
        if let Some(until_ms) = self
            .session
            .with_pacing(|pacing| pacing.paused_until(now_ms))
        {
            self.pause_ends_at = Some(instant_at(until_ms));
            return;
        }
        lock(&self.session.status).rate_limited_until_ms = None;
        if transport_connected {
            self.move_to(
                ConnectionEvent::RateLimitCleared {},
                "rate_limit_cleared",
                Some("the pause after the rate-limit error ended"),
                None,
                json!({}),
            )
            .await;
            self.context.outbound_wakeup.notify_one();
        } else {
            self.reconnect_at = Some(tokio::time::Instant::now());
        }
    }

    /// Pauses the session after a rate-limit error until `until_ms`.
    async fn rate_limited(&mut self, until_ms: i64, reason: &str, event: &str, code: Option<&str>) {
        let state = self.session.state();
        if matches!(
            state,
            SessionState::Stopped | SessionState::Banned | SessionState::LoggedOut
        ) {
            return;
        }
        lock(&self.session.status).rate_limited_until_ms = Some(until_ms);
        self.pause_ends_at = Some(instant_at(until_ms));
        let connection_event = if event == "temporary_ban" {
            ConnectionEvent::TemporaryBan {
                expires_at_ms: until_ms,
            }
        } else {
            ConnectionEvent::RateLimited { until_ms }
        };
        self.move_to(
            connection_event,
            event,
            Some(reason),
            code,
            json!({ "until": iso_time(until_ms), "until_ms": until_ms }),
        )
        .await;
        self.save_pacing().await;
    }

    async fn send_rejected(&mut self, wa_message_id: &str, code: &str, rate_limited: bool) {
        let error = format!("whatsapp refused the message after it was sent (code {code})");
        let result = async {
            let client = self.context.pool.get().await?;
            store::fail_sent_message(&client, self.session.number_id, wa_message_id, &error).await
        }
        .await;
        if let Err(error) = result {
            tracing::warn!(%wa_message_id, "could not record a rejected message: {error}");
        }
        self.session.note_send_failure(now_ms());
        if rate_limited {
            let config = self.context.pacing.for_kind(self.session.kind).clone();
            let now = now_ms();
            let until_ms = self
                .session
                .with_pacing(|pacing| pacing.rate_limited(&config, now, None));
            let reason = if code == "463" {
                "reach-out timelock (463): new contacts are refused for now".to_owned()
            } else {
                format!("rate limited by whatsapp ({code})")
            };
            self.rate_limited(until_ms, &reason, "rate_limited", Some(code))
                .await;
        }
    }

    async fn save_pacing(&self) {
        let now = now_ms();
        let (state, paused_until) = self.session.with_pacing(|pacing| {
            pacing.dirty = false;
            (pacing.state.clone(), pacing.paused_until(now))
        });
        let result = async {
            let client = self.context.pool.get().await?;
            let state = serde_json::to_value(&state).unwrap_or(Value::Null);
            store::save_pacing_state(&client, self.session.number_id, &state, paused_until).await
        }
        .await;
        if let Err(error) = result {
            self.session.with_pacing(|pacing| pacing.dirty = true);
            tracing::warn!("could not save the pacing state: {error}");
        }
    }

    async fn handle_event(&mut self, event: TransportEvent) {
        let now_ms = now_ms();
        match event {
            TransportEvent::Inbound(delivery) => {
                let delivery = *delivery;
                let result = async {
                    let mut client = self.context.pool.get().await?;
                    store::store_inbound_messages(
                        &mut client,
                        self.session.number_id,
                        std::slice::from_ref(&delivery.message),
                    )
                    .await
                }
                .await;
                let result = match result {
                    Ok(stored) => match stored.into_iter().next() {
                        Some(stored) => {
                            tracing::info!(
                                contact = %delivery.message.contact_wa_id,
                                wa_message_id = %delivery.message.wa_message_id,
                                message_id = %stored.message_id,
                                duplicate = stored.duplicate,
                                "stored an inbound message"
                            );
                            if !stored.duplicate {
                                self.context
                                    .metrics
                                    .messages_inbound
                                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            }
                            let mut status = lock(&self.session.status);
                            status.last_inbound_ms = Some(now_ms);
                            status.last_alive_ms = Some(now_ms);
                            Ok(stored)
                        }
                        None => Err("nothing was stored".to_owned()),
                    },
                    Err(error) => {
                        tracing::warn!(
                            wa_message_id = %delivery.message.wa_message_id,
                            "could not store an inbound message: {error}"
                        );
                        Err(error.to_string())
                    }
                };
                if let Some(acknowledgement) = delivery.acknowledgement {
                    let _ = acknowledgement.send(result);
                }
            }
            TransportEvent::InboundCommitted { n_messages } => {
                self.context.metrics.messages_inbound.fetch_add(
                    u64::try_from(n_messages).unwrap_or(0),
                    std::sync::atomic::Ordering::Relaxed,
                );
                let mut status = lock(&self.session.status);
                status.last_inbound_ms = Some(now_ms);
                status.last_alive_ms = Some(now_ms);
            }
            TransportEvent::Receipt(receipt) => {
                let result = async {
                    let client = self.context.pool.get().await?;
                    store::apply_receipt(&client, self.session.number_id, &receipt).await
                }
                .await;
                if let Err(error) = result {
                    tracing::warn!("could not apply a receipt: {error}");
                }
                lock(&self.session.status).last_alive_ms = Some(now_ms);
            }
            TransportEvent::SendRejected {
                wa_message_id,
                code,
                rate_limited,
            } => {
                self.send_rejected(&wa_message_id, &code, rate_limited)
                    .await;
            }
            TransportEvent::Connected => {
                // A refused pairing leaves the session logged out: the
                // connection the crate brings up after it does not count.
                if matches!(
                    self.session.state(),
                    SessionState::Stopped | SessionState::LoggedOut
                ) {
                    return;
                }
                self.connected("connected", None).await;
            }
            TransportEvent::Disconnected { reason, code } => {
                self.connection_lost(
                    ConnectionEvent::Disconnected {
                        reason: reason.clone(),
                    },
                    "disconnected",
                    &reason,
                    code.as_deref(),
                )
                .await;
            }
            TransportEvent::StreamReplaced => {
                self.connection_lost(
                    ConnectionEvent::StreamReplaced {},
                    "stream_replaced",
                    "another client took the session over; not reconnecting, so as not to fight it",
                    Some("440"),
                )
                .await;
            }
            TransportEvent::ClientOutdated { reason } => {
                self.connection_lost(
                    ConnectionEvent::ClientOutdated {},
                    "client_outdated",
                    &reason,
                    Some("405"),
                )
                .await;
            }
            TransportEvent::LoggedOut { reason, code } => {
                self.reconnect_at = None;
                {
                    let mut status = lock(&self.session.status);
                    status.transport_connected = false;
                    status.pairing = None;
                }
                if self.session.state() == SessionState::Stopped {
                    return;
                }
                self.move_to(
                    ConnectionEvent::LoggedOut {},
                    "logged_out",
                    Some(&reason),
                    code.as_deref(),
                    json!({}),
                )
                .await;
                if let Err(error) = self.session.transport.forget_credentials().await {
                    tracing::warn!(
                        "could not remove the logged-out session's credentials: {error}"
                    );
                }
            }
            TransportEvent::TemporaryBan {
                code,
                reason,
                expires_in_ms,
            } => {
                lock(&self.session.status).transport_connected = false;
                let until_ms = now_ms.saturating_add(expires_in_ms);
                let config = self.context.pacing.for_kind(self.session.kind).clone();
                self.session
                    .with_pacing(|pacing| pacing.rate_limited(&config, now_ms, Some(until_ms)));
                self.rate_limited(until_ms, &reason, "temporary_ban", code.as_deref())
                    .await;
                self.schedule_reconnect(ConnectionEventKind::TemporaryBan, Some(until_ms));
            }
            TransportEvent::Banned { reason } => {
                self.reconnect_at = None;
                lock(&self.session.status).transport_connected = false;
                self.move_to(
                    ConnectionEvent::Banned {},
                    "banned",
                    Some(&reason),
                    None,
                    json!({}),
                )
                .await;
            }
            TransportEvent::QrCode {
                code,
                expires_in_ms,
            } => {
                let expires_at_ms = now_ms.saturating_add(expires_in_ms);
                {
                    let mut status = lock(&self.session.status);
                    let pairing = status.pairing.get_or_insert_with(Pairing::default);
                    pairing.qr_code = Some(code.clone());
                    pairing.qr_code_expires_at_ms = Some(expires_at_ms);
                }
                self.move_to(
                    ConnectionEvent::QrShown {},
                    "qr_shown",
                    Some("scan the qr code with whatsapp on the phone"),
                    None,
                    json!({ "qr": code, "expires_at": iso_time(expires_at_ms) }),
                )
                .await;
            }
            TransportEvent::PairCode {
                code,
                expires_in_ms,
            } => {
                let expires_at_ms = now_ms.saturating_add(expires_in_ms);
                {
                    let mut status = lock(&self.session.status);
                    let pairing = status.pairing.get_or_insert_with(Pairing::default);
                    pairing.pair_code = Some(code.clone());
                    pairing.pair_code_expires_at_ms = Some(expires_at_ms);
                }
                self.move_to(
                    ConnectionEvent::PairCodeShown {},
                    "pair_code_shown",
                    Some("enter the pair code in whatsapp on the phone"),
                    None,
                    json!({ "pair_code": code, "expires_at": iso_time(expires_at_ms) }),
                )
                .await;
            }
            TransportEvent::Paired { phone_wa_id, lid } => {
                lock(&self.session.status).pairing = None;
                if let LinkedAccount::Other { linked_digits } =
                    check_linked_account(&self.session.phone_number, phone_wa_id.as_deref())
                {
                    self.refuse_pairing(linked_digits, lid).await;
                    return;
                }
                self.move_to(
                    ConnectionEvent::Paired {},
                    "paired",
                    Some("the number was linked"),
                    None,
                    json!({ "phone_wa_id": phone_wa_id, "lid": lid }),
                )
                .await;
            }
        }
    }

    /// A pairing linked another WhatsApp account than the number's own:
    /// records `pairing_refused` with the session moving to `logged_out`
    /// (which the health check turns into a critical `logged_out` alert), and
    /// unlinks the device and forgets its credentials.
    async fn refuse_pairing(&mut self, linked_digits: Option<String>, lid: Option<String>) {
        self.reconnect_at = None;
        lock(&self.session.status).transport_connected = false;
        let reason = match &linked_digits {
            Some(digits) => format!(
                "refused: the pairing linked the WhatsApp account of +{digits}, not this number's {}; the device was logged out, pair again from the phone of {}",
                self.session.phone_number, self.session.phone_number
            ),
            None => format!(
                "refused: the pairing reported no phone number, so it could not be checked against {}; the device was logged out",
                self.session.phone_number
            ),
        };
        tracing::warn!("{reason}");
        self.move_to(
            ConnectionEvent::LoggedOut {},
            "pairing_refused",
            Some(&reason),
            Some("wrong_account"),
            json!({
                "expected_phone_number": self.session.phone_number,
                "linked_phone_number": linked_digits.map(|digits| format!("+{digits}")),
                "linked_lid": lid,
            }),
        )
        .await;
        if let Err(error) = self.session.transport.log_out().await {
            tracing::warn!("could not log out the wrongly linked device: {error}");
        }
    }

    async fn connection_lost(
        &mut self,
        event: ConnectionEvent,
        name: &str,
        reason: &str,
        code: Option<&str>,
    ) {
        let kind = event.kind();
        {
            let mut status = lock(&self.session.status);
            status.transport_connected = false;
            status.pairing = None;
        }
        if self.session.state() == SessionState::Stopped {
            return;
        }
        self.move_to(event, name, Some(reason), code, json!({}))
            .await;
        self.schedule_reconnect(kind, None);
    }

    fn schedule_reconnect(&mut self, last_event: ConnectionEventKind, wait_until_ms: Option<i64>) {
        let now_ms = now_ms();
        let request = {
            let mut status = lock(&self.session.status);
            let last_connected_for_ms = status
                .connected_at_ms
                .take()
                .map(|connected_at| now_ms.saturating_sub(connected_at));
            ReconnectRequest {
                state: status.state,
                previous_attempts: status.reconnect_attempts,
                last_connected_for_ms,
                last_event: Some(last_event),
                wait_until_ms,
                seed: reconnect_seed(self.session.number_id, now_ms),
                now_ms,
            }
        };
        match reconnect_delay(&self.context.reconnect_policy, &request) {
            ReconnectDecision::Retry {
                attempt,
                delay_ms,
                retry_at_ms,
                ..
            } => {
                {
                    let mut status = lock(&self.session.status);
                    status.reconnect_attempts = attempt;
                    status.reconnect_at_ms = Some(retry_at_ms);
                }
                tracing::info!(attempt, delay_ms, "reconnect scheduled");
                self.reconnect_at = Some(instant_at(retry_at_ms));
            }
            ReconnectDecision::GiveUp { reason } => {
                lock(&self.session.status).reconnect_at_ms = None;
                self.reconnect_at = None;
                tracing::warn!(?reason, "not reconnecting automatically");
            }
            ReconnectDecision::NotNeeded { .. } => {}
        }
    }

    /// Moves the state machine with `event` and records it as `name`.
    async fn move_to(
        &mut self,
        event: ConnectionEvent,
        name: &str,
        reason: Option<&str>,
        code: Option<&str>,
        detail: Value,
    ) {
        let now_ms = now_ms();
        let next_state = {
            let mut status = lock(&self.session.status);
            let change = transition(status.state, &event);
            if let Some(anomaly) = &change.anomaly {
                tracing::warn!(
                    event = name,
                    "unexpected session event: {}",
                    anomaly.description
                );
            }
            if change.next_state != status.state {
                status.since_ms = now_ms;
            }
            status.state = change.next_state;
            status.remember_event(event.kind(), now_ms);
            status.last_event = Some(LastEvent {
                event: name.to_owned(),
                reason: reason.map(str::to_owned),
                code: code.map(str::to_owned),
                at_ms: now_ms,
            });
            change.next_state
        };
        tracing::info!(event = name, reason, code, state = %next_state, "session event");
        let mut detail = detail;
        if let Value::Object(fields) = &mut detail {
            fields.insert("instance_id".to_owned(), json!(self.context.instance_id));
            fields.insert("transport".to_owned(), json!(self.session.kind.as_str()));
        }
        let result = async {
            let mut client = self.context.pool.get().await?;
            store::record_session_event(
                &mut client,
                self.session.number_id,
                next_state.as_str(),
                name,
                reason,
                code,
                &detail,
            )
            .await
        }
        .await;
        let mut status = lock(&self.session.status);
        match result {
            Ok(()) => status.status_dirty = false,
            Err(error) => {
                status.status_dirty = true;
                tracing::warn!(event = name, "could not record a session event: {error}");
            }
        }
    }
}

/// Every session this daemon holds.
pub struct SessionRegistry {
    /// What the sessions share.
    pub context: Arc<SessionContext>,
    sessions: RwLock<HashMap<Uuid, Arc<Session>>>,
}

impl fmt::Debug for SessionRegistry {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("SessionRegistry")
            .field("instance_id", &self.context.instance_id)
            .field("n_sessions", &self.n_sessions())
            .finish_non_exhaustive()
    }
}

impl SessionRegistry {
    /// Creates an empty registry.
    pub fn new(context: Arc<SessionContext>) -> Arc<Self> {
        Arc::new(SessionRegistry {
            context,
            sessions: RwLock::new(HashMap::new()),
        })
    }

    /// Returns the held session of a number.
    pub fn session(&self, number_id: Uuid) -> Option<Arc<Session>> {
        read(&self.sessions).get(&number_id).cloned()
    }

    /// Returns every held session.
    pub fn sessions(&self) -> Vec<Arc<Session>> {
        read(&self.sessions).values().cloned().collect()
    }

    /// Returns the number of held sessions.
    pub fn n_sessions(&self) -> usize {
        read(&self.sessions).len()
    }

    /// Adds a session.
    pub fn insert(&self, session: Arc<Session>) {
        write(&self.sessions).insert(session.number_id, session);
    }

    /// Removes a session (its actor is told separately).
    pub fn remove(&self, number_id: Uuid) -> Option<Arc<Session>> {
        write(&self.sessions).remove(&number_id)
    }

    /// Returns the held session of a phone number.
    pub fn session_by_phone_number(&self, phone_number: &str) -> Option<Arc<Session>> {
        read(&self.sessions)
            .values()
            .find(|session| session.phone_number == phone_number)
            .cloned()
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

    /// Counts the held sessions by transport; every transport is present.
    pub fn count_by_transport(&self) -> BTreeMap<&'static str, usize> {
        let mut counts: BTreeMap<&'static str, usize> = TransportKind::ALL
            .iter()
            .map(|kind| (kind.as_str(), 0))
            .collect();
        for session in read(&self.sessions).values() {
            *counts.entry(session.kind.as_str()).or_default() += 1;
        }
        counts
    }

    /// Performs a runbook command on a held session and returns its new
    /// state.
    pub async fn perform(
        &self,
        number_id: Uuid,
        action: SessionAction,
        reason: String,
    ) -> Result<SessionState, SessionError> {
        let session = self
            .session(number_id)
            .ok_or(SessionError::UnknownNumber { number_id })?;
        session.perform(action, reason).await
    }
}

/// Sleeps until `at`, or forever when there is no `at`.
async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Returns the tokio instant of a Unix time in milliseconds (now if past).
pub fn instant_at(at_ms: i64) -> tokio::time::Instant {
    let delay_ms = at_ms.saturating_sub(now_ms()).max(0);
    tokio::time::Instant::now() + Duration::from_millis(u64::try_from(delay_ms).unwrap_or(0))
}

/// The jitter seed of a reconnect: the number and the moment it dropped.
fn reconnect_seed(number_id: Uuid, now_ms: i64) -> u64 {
    let (high, low) = number_id.as_u64_pair();
    high ^ low ^ u64::try_from(now_ms).unwrap_or(0)
}

/// Returns the current time in Unix milliseconds.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Formats a Unix time in milliseconds as RFC 3339 (UTC).
pub fn iso_time(at_ms: i64) -> String {
    let seconds = at_ms.div_euclid(1000);
    let millis = at_ms.rem_euclid(1000);
    let days = seconds.div_euclid(86_400);
    let seconds_of_day = seconds.rem_euclid(86_400);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        seconds_of_day / 3600,
        (seconds_of_day / 60) % 60,
        seconds_of_day % 60
    )
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
    fn times_are_written_in_rfc_3339() {
        assert_eq!(iso_time(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso_time(1_764_115_200_123), "2025-11-26T00:00:00.123Z");
        assert_eq!(iso_time(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn seeds_differ_by_number_and_time() {
        let number_id = Uuid::new_v4();
        assert_ne!(reconnect_seed(number_id, 1), reconnect_seed(number_id, 2));
        assert_ne!(
            reconnect_seed(number_id, 1),
            reconnect_seed(Uuid::new_v4(), 1)
        );
    }
}
