//! The session daemon: the long-running process that holds WhatsApp sessions.
//!
//! The daemon is the only part of the platform that talks to WhatsApp. It
//! holds one session per number, stores what contacts send as inbound
//! `messages` rows (a database trigger enqueues their routing in the durable
//! `outbox` in the same transaction), delivers outbox rows to the Supabase Edge
//! Functions, and sends the replies those functions queue. It also serves a
//! small HTTP API: `GET /status`, the session commands of the runbook and the
//! simulator's contact endpoints.
//!
//! # Layout
//!
//! - [`config`]: the command line and environment of `wabot daemon` and
//!   `wabot contact`, and their validation.
//! - [`phone`]: E.164 phone numbers and WhatsApp contact ids.
//! - [`backoff`]: retry delays (outbox redelivery, database reconnects).
//! - [`database`]: the connection pool, the `set role` hook and the
//!   reachability probe.
//! - [`store`]: every SQL statement the daemon runs against the messaging
//!   schema.
//! - [`transport`]: the [`transport::Transport`] trait every WhatsApp
//!   transport implements, its events, and the simulator transport.
//! - [`sessions`]: the registry of held sessions, their state machine, the
//!   numbers-table synchronisation, heartbeats and the session commands.
//! - [`notifications`]: the dedicated `LISTEN outbox, outbound` connection
//!   that wakes the workers.
//! - [`outbox_relay`]: delivers due outbox rows to the Edge Functions.
//! - [`outbound_sender`]: claims queued outbound messages and sends them.
//! - [`http_api`]: the axum router.
//! - [`daemon`]: wires everything together and shuts it down gracefully.
//! - [`contact_client`]: `wabot contact`, a person acting as a simulated
//!   contact through the daemon's HTTP API.
//!
//! # Design notes
//!
//! The database is the source of truth and the coordinator. Every piece of
//! work the daemon does is claimed in a single SQL statement with
//! `FOR UPDATE SKIP LOCKED` and a time-limited lease (`outbox.next_attempt_at`,
//! `messages.claimed_until`), so two daemons never deliver or send the same
//! row at the same time, and a daemon that dies mid-work only delays its rows
//! until their lease expires. Wake-ups come from `LISTEN`/`NOTIFY`; polling
//! every `WABOT_POLL_INTERVAL_MS` is the backstop for lost notifications.
//!
//! **Architecture Invariant:** the daemon knows nothing about bots or flows.
//! Routing happens in the `route-message` Edge Function; the daemon only moves
//! messages between WhatsApp and the database.

pub mod backoff;
pub mod config;
pub mod contact_client;
pub mod daemon;
pub mod database;
pub mod http_api;
pub mod notifications;
pub mod outbound_sender;
pub mod outbox_relay;
pub mod phone;
pub mod sessions;
pub mod store;
pub mod transport;
