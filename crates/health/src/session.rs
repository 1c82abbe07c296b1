//! The state machine of one number's WhatsApp session.
//!
//! The session daemon reports what happens to a session as
//! [`ConnectionEvent`]s; [`transition`] folds each one into the next
//! [`SessionState`]. The state is what `numbers.session_status` holds, so the
//! strings below are the column's values:
//!
//! | `session_status` | Meaning |
//! |---|---|
//! | `stopped` | Not running, on purpose (an operator stopped it, or it was never started). |
//! | `starting` | The daemon is bringing the session up (loading credentials, opening the socket). |
//! | `pairing` | Waiting for a person to link the number: a QR code or pairing code is showing. |
//! | `connecting` | Credentials exist and the socket is connecting or reconnecting. |
//! | `connected` | Connected; messages flow. |
//! | `disconnected` | The connection dropped; the daemon may be backing off before reconnecting. |
//! | `logged_out` | WhatsApp unlinked the device; a person must pair the number again. |
//! | `banned` | WhatsApp banned the number permanently; nothing automatic will help. |
//! | `rate_limited` | WhatsApp refuses this number's sends, or its connections, until a known time (a rate limit, a reach-out timelock or a temporary ban); sending is paused. |
//!
//! Two older values that the skeleton schema allowed are still accepted on
//! input and read as their nearest state: `degraded` as `connected` (the
//! evaluator judges a connected session by its evidence anyway) and
//! `failed` as `disconnected`. They are never written back.
//!
//! # Reality wins, anomalies are reported
//!
//! The machine watches a session; it does not control one. An event is a
//! fact the daemon observed (or a command it obeyed), so an event that the
//! current state did not expect still moves the machine to where the event
//! says, and the [`Transition`] carries a [`TransitionAnomaly`] naming the
//! state and the event, so that a missed step shows up in the timeline
//! instead of in a panic or a silently frozen state. A few events are
//! *absorbed*: they change nothing and are not anomalies, such as the socket
//! closing (`disconnected`) after an operator stopped the session, a
//! duplicate `start_requested`, or a `stop_requested` on a banned number
//! (which stays `banned`, so the ban stays visible).
//!
//! `temporary_ban` (whatsmeow's `TemporaryBan`, codes 101–106) leads to
//! `rate_limited` rather than `banned`, because it ends by itself at a known
//! time: the right response is to pause, not to give up. `stream_replaced`
//! (another process took the session, Baileys 440) and `client_outdated`
//! lead to `disconnected`; the reconnect policy refuses to retry them
//! ([`crate::reconnect`]), because retrying would fight the other process or
//! fail the same way.
//!
//! # The table
//!
//! Rows are events, columns the current state. A state name is the next
//! state of an expected transition; `·` means the event is absorbed (the
//! state stays, no anomaly); `!name` means the event was not expected in that
//! state: the machine moves to `name` and reports an anomaly.
//! `rate_limit_cleared` leads back to `connected` only from `rate_limited`.
//!
//! | event | stopped | starting | pairing | connecting | connected | disconnected | logged_out | banned | rate_limited |
//! |---|---|---|---|---|---|---|---|---|---|
//! | `start_requested` | starting | · | · | · | · | starting | starting | !starting | · |
//! | `stop_requested` | · | stopped | stopped | stopped | stopped | stopped | stopped | · | stopped |
//! | `qr_shown` | !pairing | pairing | pairing | pairing | !pairing | !pairing | !pairing | !pairing | !pairing |
//! | `pair_code_shown` | !pairing | pairing | pairing | pairing | !pairing | !pairing | !pairing | !pairing | !pairing |
//! | `paired` | !connecting | !connecting | connecting | !connecting | !connecting | !connecting | !connecting | !connecting | !connecting |
//! | `connecting` | !connecting | connecting | connecting | connecting | !connecting | connecting | !connecting | !connecting | connecting |
//! | `connected` | !connected | connected | connected | connected | · | connected | !connected | !connected | connected |
//! | `disconnected` | · | disconnected | disconnected | disconnected | disconnected | · | · | · | disconnected |
//! | `logged_out` | !logged_out | logged_out | logged_out | logged_out | logged_out | logged_out | · | · | logged_out |
//! | `stream_replaced` | !disconnected | disconnected | !disconnected | disconnected | disconnected | · | · | · | disconnected |
//! | `temporary_ban` | !rate_limited | rate_limited | !rate_limited | rate_limited | rate_limited | rate_limited | !rate_limited | · | rate_limited |
//! | `banned` | !banned | banned | banned | banned | banned | banned | banned | · | banned |
//! | `rate_limited` | !rate_limited | !rate_limited | !rate_limited | !rate_limited | rate_limited | !rate_limited | !rate_limited | !rate_limited | rate_limited |
//! | `rate_limit_cleared` | · | · | · | · | · | · | · | · | connected |
//! | `client_outdated` | !disconnected | disconnected | disconnected | disconnected | disconnected | disconnected | · | · | disconnected |
//! | `heartbeat` | !stopped | · | · | · | · | !disconnected | !logged_out | !banned | · |
//!
//! A heartbeat never changes the state: in `stopped`, `disconnected`,
//! `logged_out` and `banned` it is reported (something is alive that should
//! not be), and the machine stays where it is.

use serde::{Deserialize, Serialize};

/// The state of one number's session, as stored in `numbers.session_status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionState {
    /// Not running, on purpose.
    Stopped,
    /// The daemon is bringing the session up.
    Starting,
    /// Waiting for a person to link the number with a QR code or pairing code.
    Pairing,
    /// Credentials exist and the socket is connecting or reconnecting.
    Connecting,
    /// Connected; messages flow. The legacy value `degraded` reads as this.
    #[serde(alias = "degraded")]
    Connected,
    /// The connection dropped. The legacy value `failed` reads as this.
    #[serde(alias = "failed")]
    Disconnected,
    /// WhatsApp unlinked the device; the number must be paired again.
    LoggedOut,
    /// WhatsApp banned the number permanently.
    Banned,
    /// WhatsApp refuses sends or connections until a known time.
    RateLimited,
}

impl SessionState {
    /// Every state, in the order of the table in the module documentation.
    pub const ALL: [SessionState; 9] = [
        SessionState::Stopped,
        SessionState::Starting,
        SessionState::Pairing,
        SessionState::Connecting,
        SessionState::Connected,
        SessionState::Disconnected,
        SessionState::LoggedOut,
        SessionState::Banned,
        SessionState::RateLimited,
    ];

    /// Returns the state as written in `numbers.session_status`.
    pub fn as_str(self) -> &'static str {
        match self {
            SessionState::Stopped => "stopped",
            SessionState::Starting => "starting",
            SessionState::Pairing => "pairing",
            SessionState::Connecting => "connecting",
            SessionState::Connected => "connected",
            SessionState::Disconnected => "disconnected",
            SessionState::LoggedOut => "logged_out",
            SessionState::Banned => "banned",
            SessionState::RateLimited => "rate_limited",
        }
    }
}

impl std::fmt::Display for SessionState {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// Something that happened to a session, as the daemon reports it.
///
/// In JSON an event is an object tagged by `kind`, such as
/// `{"kind": "disconnected", "reason": "connection_lost"}` or
/// `{"kind": "heartbeat"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ConnectionEvent {
    /// An operator (or the supervisor) asked the daemon to start the session.
    StartRequested {},
    /// An operator (or the supervisor) asked the daemon to stop the session.
    StopRequested {},
    /// A QR code for linking the number is showing.
    QrShown {},
    /// A pairing code for linking the number is showing.
    PairCodeShown {},
    /// A person linked the number; the session will now connect.
    Paired {},
    /// The socket is connecting or reconnecting.
    Connecting {},
    /// The socket is open and the session is logged in.
    Connected {},
    /// The socket closed.
    Disconnected {
        /// Why, in the daemon's words, such as `connection_lost`,
        /// `timed_out` or `restart_required`.
        reason: String,
    },
    /// WhatsApp unlinked the device (Baileys 401, whatsmeow `LoggedOut`).
    LoggedOut {},
    /// Another client took over the session (Baileys 440, whatsmeow
    /// `StreamReplaced`).
    StreamReplaced {},
    /// WhatsApp banned the number until a known time (whatsmeow
    /// `TemporaryBan`).
    TemporaryBan {
        /// When the ban ends, in Unix milliseconds.
        expires_at_ms: i64,
    },
    /// WhatsApp banned the number permanently.
    Banned {},
    /// WhatsApp refused a send with a rate-limit error (such as 429 or 463).
    RateLimited {
        /// When sending may resume, in Unix milliseconds.
        until_ms: i64,
    },
    /// The rate limit ended.
    RateLimitCleared {},
    /// WhatsApp refused the connection because the client is too old.
    ClientOutdated {},
    /// The daemon's periodic proof that the session's socket is alive.
    Heartbeat {},
}

/// The kind of a [`ConnectionEvent`], without its data; the `event` column
/// of `number_connection_events`. Any other string reads as
/// [`ConnectionEventKind::Other`], so a timeline entry this crate does not
/// know (a daemon-specific event) is ignored rather than failing a sweep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionEventKind {
    /// See [`ConnectionEvent::StartRequested`].
    StartRequested,
    /// See [`ConnectionEvent::StopRequested`].
    StopRequested,
    /// See [`ConnectionEvent::QrShown`].
    QrShown,
    /// See [`ConnectionEvent::PairCodeShown`].
    PairCodeShown,
    /// See [`ConnectionEvent::Paired`].
    Paired,
    /// See [`ConnectionEvent::Connecting`].
    Connecting,
    /// See [`ConnectionEvent::Connected`].
    Connected,
    /// See [`ConnectionEvent::Disconnected`].
    Disconnected,
    /// See [`ConnectionEvent::LoggedOut`].
    LoggedOut,
    /// See [`ConnectionEvent::StreamReplaced`].
    StreamReplaced,
    /// See [`ConnectionEvent::TemporaryBan`].
    TemporaryBan,
    /// See [`ConnectionEvent::Banned`].
    Banned,
    /// See [`ConnectionEvent::RateLimited`].
    RateLimited,
    /// See [`ConnectionEvent::RateLimitCleared`].
    RateLimitCleared,
    /// See [`ConnectionEvent::ClientOutdated`].
    ClientOutdated,
    /// See [`ConnectionEvent::Heartbeat`].
    Heartbeat,
    /// An event kind this crate does not know; it changes no state.
    #[serde(other)]
    Other,
}

impl ConnectionEventKind {
    /// Every kind a [`ConnectionEvent`] can have, in the order of the table
    /// in the module documentation ([`ConnectionEventKind::Other`] is not
    /// one: it only appears in timelines read from the database).
    pub const ALL: [ConnectionEventKind; 16] = [
        ConnectionEventKind::StartRequested,
        ConnectionEventKind::StopRequested,
        ConnectionEventKind::QrShown,
        ConnectionEventKind::PairCodeShown,
        ConnectionEventKind::Paired,
        ConnectionEventKind::Connecting,
        ConnectionEventKind::Connected,
        ConnectionEventKind::Disconnected,
        ConnectionEventKind::LoggedOut,
        ConnectionEventKind::StreamReplaced,
        ConnectionEventKind::TemporaryBan,
        ConnectionEventKind::Banned,
        ConnectionEventKind::RateLimited,
        ConnectionEventKind::RateLimitCleared,
        ConnectionEventKind::ClientOutdated,
        ConnectionEventKind::Heartbeat,
    ];

    /// Returns the kind as written in `number_connection_events.event`.
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionEventKind::StartRequested => "start_requested",
            ConnectionEventKind::StopRequested => "stop_requested",
            ConnectionEventKind::QrShown => "qr_shown",
            ConnectionEventKind::PairCodeShown => "pair_code_shown",
            ConnectionEventKind::Paired => "paired",
            ConnectionEventKind::Connecting => "connecting",
            ConnectionEventKind::Connected => "connected",
            ConnectionEventKind::Disconnected => "disconnected",
            ConnectionEventKind::LoggedOut => "logged_out",
            ConnectionEventKind::StreamReplaced => "stream_replaced",
            ConnectionEventKind::TemporaryBan => "temporary_ban",
            ConnectionEventKind::Banned => "banned",
            ConnectionEventKind::RateLimited => "rate_limited",
            ConnectionEventKind::RateLimitCleared => "rate_limit_cleared",
            ConnectionEventKind::ClientOutdated => "client_outdated",
            ConnectionEventKind::Heartbeat => "heartbeat",
            ConnectionEventKind::Other => "other",
        }
    }

    /// Tells whether this kind of event means the connection was lost, which
    /// is what the flapping detector counts.
    pub fn is_connection_loss(self) -> bool {
        matches!(
            self,
            ConnectionEventKind::Disconnected
                | ConnectionEventKind::StreamReplaced
                | ConnectionEventKind::ClientOutdated
        )
    }

    /// Returns an event of this kind with placeholder data (an empty reason,
    /// times of zero), for exhaustive tests; `None` for
    /// [`ConnectionEventKind::Other`], which has no event.
    pub fn example_event(self) -> Option<ConnectionEvent> {
        let event = match self {
            ConnectionEventKind::StartRequested => ConnectionEvent::StartRequested {},
            ConnectionEventKind::StopRequested => ConnectionEvent::StopRequested {},
            ConnectionEventKind::QrShown => ConnectionEvent::QrShown {},
            ConnectionEventKind::PairCodeShown => ConnectionEvent::PairCodeShown {},
            ConnectionEventKind::Paired => ConnectionEvent::Paired {},
            ConnectionEventKind::Connecting => ConnectionEvent::Connecting {},
            ConnectionEventKind::Connected => ConnectionEvent::Connected {},
            ConnectionEventKind::Disconnected => ConnectionEvent::Disconnected {
                reason: String::new(),
            },
            ConnectionEventKind::LoggedOut => ConnectionEvent::LoggedOut {},
            ConnectionEventKind::StreamReplaced => ConnectionEvent::StreamReplaced {},
            ConnectionEventKind::TemporaryBan => ConnectionEvent::TemporaryBan { expires_at_ms: 0 },
            ConnectionEventKind::Banned => ConnectionEvent::Banned {},
            ConnectionEventKind::RateLimited => ConnectionEvent::RateLimited { until_ms: 0 },
            ConnectionEventKind::RateLimitCleared => ConnectionEvent::RateLimitCleared {},
            ConnectionEventKind::ClientOutdated => ConnectionEvent::ClientOutdated {},
            ConnectionEventKind::Heartbeat => ConnectionEvent::Heartbeat {},
            ConnectionEventKind::Other => return None,
        };
        Some(event)
    }
}

impl std::fmt::Display for ConnectionEventKind {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.as_str())
    }
}

impl ConnectionEvent {
    /// Returns the event's kind, without its data.
    pub fn kind(&self) -> ConnectionEventKind {
        match self {
            ConnectionEvent::StartRequested {} => ConnectionEventKind::StartRequested,
            ConnectionEvent::StopRequested {} => ConnectionEventKind::StopRequested,
            ConnectionEvent::QrShown {} => ConnectionEventKind::QrShown,
            ConnectionEvent::PairCodeShown {} => ConnectionEventKind::PairCodeShown,
            ConnectionEvent::Paired {} => ConnectionEventKind::Paired,
            ConnectionEvent::Connecting {} => ConnectionEventKind::Connecting,
            ConnectionEvent::Connected {} => ConnectionEventKind::Connected,
            ConnectionEvent::Disconnected { .. } => ConnectionEventKind::Disconnected,
            ConnectionEvent::LoggedOut {} => ConnectionEventKind::LoggedOut,
            ConnectionEvent::StreamReplaced {} => ConnectionEventKind::StreamReplaced,
            ConnectionEvent::TemporaryBan { .. } => ConnectionEventKind::TemporaryBan,
            ConnectionEvent::Banned {} => ConnectionEventKind::Banned,
            ConnectionEvent::RateLimited { .. } => ConnectionEventKind::RateLimited,
            ConnectionEvent::RateLimitCleared {} => ConnectionEventKind::RateLimitCleared,
            ConnectionEvent::ClientOutdated {} => ConnectionEventKind::ClientOutdated,
            ConnectionEvent::Heartbeat {} => ConnectionEventKind::Heartbeat,
        }
    }
}

/// A transition that should not have happened: the event was not expected
/// in the state the machine was in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransitionAnomaly {
    /// The state the machine was in.
    pub from: SessionState,
    /// The kind of the unexpected event.
    pub event: ConnectionEventKind,
    /// A lowercase phrase such as `connected while stopped`, for the
    /// number's timeline.
    pub description: String,
}

/// The result of feeding one event to the machine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transition {
    /// The state after the event.
    pub next_state: SessionState,
    /// Set when the event was not expected in the previous state.
    pub anomaly: Option<TransitionAnomaly>,
}

/// How one event relates to one state: the three kinds of cells of the
/// table in the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransitionKind {
    /// The event was expected; the machine moves to the given state.
    Expected(SessionState),
    /// The event changes nothing and is not an anomaly.
    Absorbed,
    /// The event was not expected; the machine moves to the given state and
    /// reports an anomaly.
    Unexpected(SessionState),
}

/// Classifies `event` arriving in `state`: the cell of the transition table.
pub fn classify(state: SessionState, event: ConnectionEventKind) -> TransitionKind {
    use ConnectionEventKind as Event;
    use SessionState::*;
    use TransitionKind::{Absorbed, Expected, Unexpected};
    let expected_or_unexpected = |target: SessionState, expected: &[SessionState]| {
        if expected.contains(&state) {
            Expected(target)
        } else {
            Unexpected(target)
        }
    };
    match event {
        Event::StartRequested => match state {
            Stopped | Disconnected | LoggedOut => Expected(Starting),
            Banned => Unexpected(Starting),
            Starting | Pairing | Connecting | Connected | RateLimited => Absorbed,
        },
        Event::StopRequested => match state {
            Stopped | Banned => Absorbed,
            _ => Expected(Stopped),
        },
        Event::QrShown | Event::PairCodeShown => {
            expected_or_unexpected(Pairing, &[Starting, Pairing, Connecting])
        }
        Event::Paired => expected_or_unexpected(Connecting, &[Pairing]),
        Event::Connecting => expected_or_unexpected(
            Connecting,
            &[Starting, Pairing, Connecting, Disconnected, RateLimited],
        ),
        Event::Connected => match state {
            Connected => Absorbed,
            _ => expected_or_unexpected(
                Connected,
                &[Starting, Pairing, Connecting, Disconnected, RateLimited],
            ),
        },
        Event::Disconnected => match state {
            Stopped | Disconnected | LoggedOut | Banned => Absorbed,
            _ => Expected(Disconnected),
        },
        Event::LoggedOut => match state {
            LoggedOut | Banned => Absorbed,
            Stopped => Unexpected(LoggedOut),
            _ => Expected(LoggedOut),
        },
        Event::StreamReplaced => match state {
            Disconnected | LoggedOut | Banned => Absorbed,
            _ => expected_or_unexpected(
                Disconnected,
                &[Starting, Connecting, Connected, RateLimited],
            ),
        },
        Event::TemporaryBan => match state {
            Banned => Absorbed,
            _ => expected_or_unexpected(
                RateLimited,
                &[Starting, Connecting, Connected, Disconnected, RateLimited],
            ),
        },
        Event::Banned => match state {
            Banned => Absorbed,
            Stopped => Unexpected(Banned),
            _ => Expected(Banned),
        },
        Event::RateLimited => expected_or_unexpected(RateLimited, &[Connected, RateLimited]),
        Event::RateLimitCleared => match state {
            RateLimited => Expected(Connected),
            _ => Absorbed,
        },
        Event::ClientOutdated => match state {
            LoggedOut | Banned => Absorbed,
            Stopped => Unexpected(Disconnected),
            _ => Expected(Disconnected),
        },
        Event::Heartbeat => match state {
            Starting | Pairing | Connecting | Connected | RateLimited => Absorbed,
            Stopped | Disconnected | LoggedOut | Banned => Unexpected(state),
        },
        Event::Other => Absorbed,
    }
}

/// Feeds `event` to a session in `state` and returns the next state, with
/// an anomaly when the event was not expected. Never panics: every state
/// and event has a cell in the table.
pub fn transition(state: SessionState, event: &ConnectionEvent) -> Transition {
    let kind = event.kind();
    match classify(state, kind) {
        TransitionKind::Expected(next_state) => Transition {
            next_state,
            anomaly: None,
        },
        TransitionKind::Absorbed => Transition {
            next_state: state,
            anomaly: None,
        },
        TransitionKind::Unexpected(next_state) => Transition {
            next_state,
            anomaly: Some(TransitionAnomaly {
                from: state,
                event: kind,
                description: format!("{kind} while {state}"),
            }),
        },
    }
}

/// Renders the transition table in the Markdown of the module
/// documentation; a test keeps the two identical.
pub fn render_transition_table() -> String {
    let mut table = String::from("| event |");
    for state in SessionState::ALL {
        table.push(' ');
        table.push_str(state.as_str());
        table.push_str(" |");
    }
    table.push_str("\n|---|");
    for _ in SessionState::ALL {
        table.push_str("---|");
    }
    for event in ConnectionEventKind::ALL {
        table.push_str("\n| `");
        table.push_str(event.as_str());
        table.push_str("` |");
        for state in SessionState::ALL {
            let cell = match classify(state, event) {
                TransitionKind::Expected(next) => next.as_str().to_string(),
                TransitionKind::Absorbed => "·".to_string(),
                TransitionKind::Unexpected(next) => format!("!{next}"),
            };
            table.push(' ');
            table.push_str(&cell);
            table.push_str(" |");
        }
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_table_matches_the_machine() {
        let source = include_str!("session.rs");
        let documented: String = source
            .lines()
            .filter_map(|line| line.strip_prefix("//! "))
            .skip_while(|line| !line.starts_with("| event |"))
            .take_while(|line| line.starts_with('|'))
            .collect::<Vec<_>>()
            .join("\n");
        assert_eq!(documented, render_transition_table());
    }

    #[test]
    fn a_normal_life_has_no_anomalies() {
        let events = [
            ConnectionEvent::StartRequested {},
            ConnectionEvent::QrShown {},
            ConnectionEvent::Paired {},
            ConnectionEvent::Connected {},
            ConnectionEvent::Heartbeat {},
            ConnectionEvent::Disconnected {
                reason: "connection_lost".into(),
            },
            ConnectionEvent::Connecting {},
            ConnectionEvent::Connected {},
            ConnectionEvent::RateLimited { until_ms: 10 },
            ConnectionEvent::RateLimitCleared {},
            ConnectionEvent::StopRequested {},
            ConnectionEvent::Disconnected {
                reason: "stopped".into(),
            },
        ];
        let mut state = SessionState::Stopped;
        let mut visited = Vec::new();
        for event in &events {
            let step = transition(state, event);
            assert_eq!(step.anomaly, None, "{event:?} in {state}");
            state = step.next_state;
            visited.push(state);
        }
        use SessionState::*;
        assert_eq!(
            visited,
            vec![
                Starting,
                Pairing,
                Connecting,
                Connected,
                Connected,
                Disconnected,
                Connecting,
                Connected,
                RateLimited,
                Connected,
                Stopped,
                Stopped
            ]
        );
    }

    #[test]
    fn an_unexpected_event_moves_the_machine_and_is_reported() {
        let step = transition(SessionState::Stopped, &ConnectionEvent::Connected {});
        assert_eq!(step.next_state, SessionState::Connected);
        assert_eq!(
            step.anomaly,
            Some(TransitionAnomaly {
                from: SessionState::Stopped,
                event: ConnectionEventKind::Connected,
                description: "connected while stopped".into(),
            })
        );
    }

    #[test]
    fn a_heartbeat_never_changes_the_state() {
        for state in SessionState::ALL {
            assert_eq!(
                transition(state, &ConnectionEvent::Heartbeat {}).next_state,
                state
            );
        }
    }

    #[test]
    fn bans_and_logouts_are_sticky_against_socket_noise() {
        for state in [SessionState::Banned, SessionState::LoggedOut] {
            for event in [
                ConnectionEvent::Disconnected {
                    reason: "closed".into(),
                },
                ConnectionEvent::StreamReplaced {},
                ConnectionEvent::ClientOutdated {},
            ] {
                let step = transition(state, &event);
                assert_eq!((step.next_state, step.anomaly), (state, None));
            }
        }
        assert_eq!(
            transition(SessionState::Banned, &ConnectionEvent::StopRequested {}).next_state,
            SessionState::Banned
        );
    }

    #[test]
    fn events_round_trip_as_kind_tagged_objects() {
        let event: ConnectionEvent =
            serde_json::from_str(r#"{"kind":"temporary_ban","expires_at_ms":5}"#).unwrap();
        assert_eq!(event, ConnectionEvent::TemporaryBan { expires_at_ms: 5 });
        assert_eq!(
            serde_json::to_string(&ConnectionEvent::Heartbeat {}).unwrap(),
            r#"{"kind":"heartbeat"}"#
        );
        assert!(serde_json::from_str::<ConnectionEvent>(r#"{"kind":"heartbeat","x":1}"#).is_err());
        for kind in ConnectionEventKind::ALL {
            assert_eq!(kind.example_event().map(|event| event.kind()), Some(kind));
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                serde_json::Value::from(kind.as_str())
            );
        }
        for state in SessionState::ALL {
            assert_eq!(
                serde_json::to_value(state).unwrap(),
                serde_json::Value::from(state.as_str())
            );
        }
    }

    #[test]
    fn legacy_statuses_and_unknown_timeline_kinds_are_read_not_rejected() {
        let state: SessionState = serde_json::from_str(r#""failed""#).unwrap();
        assert_eq!(state, SessionState::Disconnected);
        let state: SessionState = serde_json::from_str(r#""degraded""#).unwrap();
        assert_eq!(serde_json::to_string(&state).unwrap(), r#""connected""#);
        let kind: ConnectionEventKind = serde_json::from_str(r#""qr_expired""#).unwrap();
        assert_eq!(kind, ConnectionEventKind::Other);
        assert_eq!(ConnectionEventKind::Other.example_event(), None);
        assert!(serde_json::from_str::<ConnectionEvent>(r#"{"kind":"qr_expired"}"#).is_err());
    }
}
