//! The session daemon: the long-running process that holds WhatsApp sessions.
//!
//! The daemon is the only part of the platform that talks to WhatsApp. It
//! holds one session per number it has the lease of, over the number's
//! transport (WhatsApp Web, the Cloud API, or the simulator), stores what
//! contacts send as inbound `messages` rows (a database trigger enqueues
//! their routing in the durable `outbox` in the same transaction), delivers
//! outbox rows to the Supabase Edge Functions, and sends the replies those
//! functions queue, paced per number. It reports health (connection events,
//! heartbeats, `/metrics`), restarts zombie sessions, and obeys session
//! commands. `docs/daemon.md` is the operator's guide.
//!
//! # Layout
//!
//! - [`config`]: the command line and environment of `wabot daemon` and
//!   `wabot contact`, and their validation.
//! - [`phone`]: E.164 phone numbers and WhatsApp contact ids.
//! - [`backoff`]: retry limits and the database reconnect delay.
//! - [`database`]: the connection pool, the `set role` hook and the
//!   reachability probe.
//! - [`database_tls`]: `sslmode`/`sslrootcert` with rustls, and the one
//!   connector factory every database connection goes through.
//! - [`store`]: every SQL statement the daemon runs.
//! - [`transport`]: the [`transport::Transport`] trait (one `send` of any
//!   kind, [`transport::Outgoing`]) and its events, and the three
//!   transports (`simulator`, `web` with its message mapping `web_content`,
//!   `cloud` with every kind's Graph API body).
//! - [`cloud_webhook`]: the Cloud API webhook's signature check and Meta's
//!   payloads mapped onto the message model.
//! - [`media_store`]: the media bucket (S3-compatible: Supabase Storage,
//!   locally moto) and its `WABOT_MEDIA_S3_*` settings.
//! - [`media`]: the inbound media download worker and the outbound media
//!   resolver.
//! - [`pacing`]: the send-pacing policies and each number's pacing state.
//! - [`sessions`]: one actor per held session: the state machine, the
//!   timeline, reconnects, the runbook's commands.
//! - [`supervisor`]: registration, leases, heartbeats and the watchdog.
//! - [`notifications`]: the `LISTEN` connection that wakes the workers.
//! - [`outbox_relay`]: delivers due outbox rows to the Edge Functions.
//! - [`outbound_sender`]: claims queued outbound messages, paces and sends
//!   them.
//! - [`commands`]: carries out `session_commands`.
//! - [`metrics`]: the counters and the Prometheus text.
//! - [`http_api`]: the axum router.
//! - [`http_server`]: the HTTP server with its timeouts and concurrency
//!   limits.
//! - [`daemon`]: wires everything together and shuts it down gracefully.
//! - [`contact_client`]: `wabot contact`, a person acting as a simulated
//!   contact through the daemon's HTTP API.
//!
//! # Design notes
//!
//! The database is the source of truth and the coordinator. Every piece of
//! work is claimed in a single SQL statement with `FOR UPDATE SKIP LOCKED`
//! and a time-limited lease (numbers, outbox rows, outbound messages,
//! session commands), so several daemons share the work without doing
//! anything twice at the same time, and a daemon that dies mid-work only
//! delays its rows until their leases expire. A send that may have reached
//! WhatsApp before a crash is marked as such, never repeated. Wake-ups come
//! from `LISTEN`/`NOTIFY`; polling every `WABOT_POLL_INTERVAL_MS` is the
//! backstop for lost notifications.
//!
//! Decisions come from the core crates, used natively: the session state
//! machine, the reconnect policy, the send-pacing governor and the health
//! evaluator are the `health` crate's; the daemon carries them out.
//!
//! **Architecture Invariant:** the daemon knows nothing about bots or flows.
//! Routing happens in the `route-message` Edge Function; the daemon only moves
//! messages between WhatsApp and the database.

pub mod backoff;
pub mod cloud_templates;
pub mod cloud_webhook;
pub mod commands;
pub mod config;
pub mod contact_client;
pub mod daemon;
pub mod database;
pub mod database_tls;
pub mod http_api;
pub mod http_server;
pub mod media;
pub mod media_store;
pub mod metrics;
pub mod notifications;
pub mod outbound_sender;
pub mod outbox_relay;
pub mod pacing;
pub mod phone;
pub mod sessions;
pub mod store;
pub mod supervisor;
pub mod transport;
