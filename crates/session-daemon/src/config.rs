//! The command line and environment of `wabot`, and their validation.
//!
//! Every setting of `wabot daemon` has an environment variable and a flag that
//! overrides it; `wabot daemon --help` lists both with their defaults. The
//! parsed [`DaemonArguments`] are turned into a checked [`DaemonConfig`] by
//! [`DaemonConfig::resolve`], a pure function, so the rules (the token's
//! length, the service-role key the relay needs, the relay switch, the lease
//! and heartbeat, the JSON policies) are tested without touching the process
//! environment. Each invalid value gets an error of its own that names the
//! variable and says what it must be.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use health::{HealthThresholds, ReconnectPolicy};

use crate::database_tls::{
    hosts_are_loopback, is_loopback_name, DatabaseConnector, DatabaseTlsError, TlsSettings,
};
use crate::media_store::{MediaConfigError, MediaStoreArguments, MediaStoreConfig};
use crate::pacing::{parse_pacing_override, PacingPolicies};
use crate::phone::{validate_e164, InvalidPhoneNumber};
use crate::transport::cloud::DEFAULT_CLOUD_API_BASE_URL;
use crate::transport::TransportKind;

/// The default Postgres URL: the local cluster of `scripts/`.
pub const DEFAULT_DATABASE_URL: &str = "postgresql://postgres:postgres@127.0.0.1:54322/postgres";

/// The default role the daemon drops to after connecting.
pub const DEFAULT_DATABASE_ROLE: &str = "service_role";

/// The default base URL of the Supabase Edge Functions: the local gateway.
pub const DEFAULT_FUNCTIONS_URL: &str = "http://127.0.0.1:54321/functions/v1";

/// The default address of the daemon's HTTP API.
pub const DEFAULT_LISTEN_ADDRESS: &str = "127.0.0.1:54380";

/// The default URL `wabot contact` uses to reach the daemon.
pub const DEFAULT_DAEMON_URL: &str = "http://127.0.0.1:54380";

/// The default folder for session credentials.
pub const DEFAULT_SESSION_STORAGE_PATH: &str = ".local/sessions";

/// The default backstop polling interval, in milliseconds.
pub const DEFAULT_POLL_INTERVAL_MS: u64 = 1000;

/// The default lease on a number, in seconds.
pub const DEFAULT_LEASE_SECONDS: u64 = 30;

/// The shortest lease accepted, in seconds.
pub const MINIMUM_LEASE_SECONDS: u64 = 2;

/// The default send timeout, in milliseconds.
pub const DEFAULT_SEND_TIMEOUT_MS: u64 = 20_000;

/// The shortest bearer token the daemon accepts.
pub const MINIMUM_DAEMON_TOKEN_LENGTH: usize = 16;

/// The environment variable holding the daemon's bearer token, read by both
/// the daemon and `wabot contact`.
pub const DAEMON_TOKEN_VARIABLE: &str = "WABOT_DAEMON_TOKEN";

/// `wabot`: the WhatsApp bot platform's session daemon and its tools.
#[derive(Debug, Parser)]
#[command(name = "wabot", version, about, long_about = None)]
pub struct CommandLine {
    /// What to run.
    #[command(subcommand)]
    pub command: TopLevelCommand,
}

/// The subcommands of `wabot`.
#[derive(Debug, Subcommand)]
pub enum TopLevelCommand {
    /// Run the session daemon: hold the sessions, store inbound messages,
    /// relay the outbox and send queued replies.
    Daemon(Box<DaemonArguments>),
    /// Act as a WhatsApp contact talking to a simulated number, through the
    /// daemon's HTTP API (the bearer token comes from WABOT_DAEMON_TOKEN).
    Contact(ContactArguments),
}

/// The flags of `wabot daemon`; each one may also come from its environment
/// variable.
#[derive(Clone, Args)]
pub struct DaemonArguments {
    /// Postgres connection URL; its query string may carry libpq's
    /// `sslmode` (disable, prefer, require, verify-ca, verify-full) and
    /// `sslrootcert` [default sslmode: require off loopback, prefer on it].
    #[arg(long, env = "WABOT_DATABASE_URL", default_value = DEFAULT_DATABASE_URL, hide_env_values = true)]
    pub database_url: String,

    /// The `sslmode` used when the database URL names none.
    #[arg(long, env = "PGSSLMODE")]
    pub db_sslmode: Option<String>,

    /// The PEM file of the CA certificates `verify-ca`/`verify-full` trust,
    /// used when the database URL names none [default: the Mozilla roots].
    #[arg(long, env = "PGSSLROOTCERT")]
    pub db_sslrootcert: Option<PathBuf>,

    /// Start even though WABOT_STATUS_URL is a loopback URL and the database
    /// is not on this machine (the health check, which runs next to the
    /// database, could never reach it): `on` to allow.
    #[arg(long, env = "WABOT_ALLOW_LOOPBACK_STATUS_URL", default_value = "off")]
    pub allow_loopback_status_url: String,

    /// Whether the simulator transport and the /simulator endpoints run:
    /// `on`, `off` [default: on when the database is on loopback (the local
    /// stack), off otherwise].
    #[arg(long, env = "WABOT_SIMULATOR")]
    pub simulator: Option<String>,

    /// Role to `set role` to after connecting; an empty value skips the
    /// `set role`.
    #[arg(long, env = "WABOT_DB_ROLE", default_value = DEFAULT_DATABASE_ROLE)]
    pub db_role: String,

    /// Base URL of the Supabase Edge Functions; outbox rows are posted to
    /// `<url>/<topic>`.
    #[arg(long, env = "WABOT_FUNCTIONS_URL", default_value = DEFAULT_FUNCTIONS_URL)]
    pub functions_url: String,

    /// Service-role key sent to the functions as `Authorization: Bearer` and
    /// `apikey`; required when the relay is on.
    #[arg(long, env = "SUPABASE_SERVICE_ROLE_KEY", hide_env_values = true)]
    pub service_role_key: Option<String>,

    /// Address (IP and port) of the HTTP API.
    #[arg(long, env = "WABOT_LISTEN", default_value = DEFAULT_LISTEN_ADDRESS)]
    pub listen: String,

    /// Bearer token required on every POST endpoint; at least 16 characters.
    #[arg(long, env = DAEMON_TOKEN_VARIABLE, hide_env_values = true)]
    pub daemon_token: Option<String>,

    /// Whether this daemon delivers outbox rows to the functions: `on` or
    /// `off` (when the hosted pg_net doorbell and the outbox-relay function
    /// deliver them).
    #[arg(long, env = "WABOT_RELAY", default_value = "on")]
    pub relay: String,

    /// Name of this daemon in leases and logs [default: <hostname>-<pid>].
    #[arg(long, env = "WABOT_INSTANCE_ID")]
    pub instance_id: Option<String>,

    /// Folder for session credentials (created when missing).
    #[arg(long, env = "WABOT_SESSION_STORAGE_PATH", default_value = DEFAULT_SESSION_STORAGE_PATH)]
    pub session_storage_path: PathBuf,

    /// Backstop polling interval in milliseconds (wake-ups come from LISTEN).
    #[arg(long, env = "WABOT_POLL_INTERVAL_MS", default_value_t = DEFAULT_POLL_INTERVAL_MS)]
    pub poll_interval_ms: u64,

    /// Comma-separated E.164 numbers this daemon may hold; empty means every
    /// number of the transports it runs.
    #[arg(long, env = "WABOT_HOLD_NUMBERS", value_delimiter = ',')]
    pub hold_numbers: Vec<String>,

    /// Comma-separated transports this daemon runs: simulator, web, cloud
    /// [default: every transport this build has].
    #[arg(long, env = "WABOT_TRANSPORTS", value_delimiter = ',')]
    pub transports: Vec<String>,

    /// How long a lease on a number lasts without renewal, in seconds; a
    /// daemon that stops renewing loses its numbers after this long.
    #[arg(long, env = "WABOT_LEASE_SECONDS", default_value_t = DEFAULT_LEASE_SECONDS)]
    pub lease_seconds: u64,

    /// How often leases are renewed and heartbeats written, in seconds (may
    /// have decimals) [default: a third of the lease].
    #[arg(long, env = "WABOT_HEARTBEAT_SECONDS")]
    pub heartbeat_seconds: Option<f64>,

    /// Where this daemon's GET /status answers for the health check and the
    /// admin API [default: http://<WABOT_LISTEN>/status].
    #[arg(long, env = "WABOT_STATUS_URL")]
    pub status_url: Option<String>,

    /// The most sessions this daemon holds; 0 for no limit.
    #[arg(long, env = "WABOT_MAX_SESSIONS", default_value_t = 0)]
    pub max_sessions: usize,

    /// How long one send may take before it counts as "may or may not have
    /// been delivered", in milliseconds (below 30,000, the send lease).
    #[arg(long, env = "WABOT_SEND_TIMEOUT_MS", default_value_t = DEFAULT_SEND_TIMEOUT_MS)]
    pub send_timeout_ms: u64,

    /// Send pacing of simulator numbers: a JSON object overriding fields of
    /// the core's PacingConfig.
    #[arg(long, env = "WABOT_PACING_SIMULATOR")]
    pub pacing_simulator: Option<String>,

    /// Send pacing of WhatsApp Web numbers (JSON, as above).
    #[arg(long, env = "WABOT_PACING_WEB")]
    pub pacing_web: Option<String>,

    /// Send pacing of Cloud API numbers (JSON, as above).
    #[arg(long, env = "WABOT_PACING_CLOUD")]
    pub pacing_cloud: Option<String>,

    /// The reconnect policy: a JSON object overriding fields of the core's
    /// ReconnectPolicy (base_delay_ms, max_delay_ms, stable_after_ms).
    #[arg(long, env = "WABOT_RECONNECT_POLICY")]
    pub reconnect_policy: Option<String>,

    /// The watchdog's thresholds: a JSON object overriding fields of the
    /// core's HealthThresholds.
    #[arg(long, env = "WABOT_HEALTH_THRESHOLDS")]
    pub health_thresholds: Option<String>,

    /// Base URL of the Graph API, version included.
    #[arg(long, env = "WABOT_CLOUD_API_BASE_URL", default_value = DEFAULT_CLOUD_API_BASE_URL)]
    pub cloud_api_base_url: String,

    /// Cloud API access token used when a number's credentials have none.
    #[arg(long, env = "WABOT_CLOUD_ACCESS_TOKEN", hide_env_values = true)]
    pub cloud_access_token: Option<String>,

    /// The Meta app's secret, which signs webhook deliveries
    /// (X-Hub-Signature-256); without it the webhook refuses deliveries.
    #[arg(long, env = "WABOT_CLOUD_APP_SECRET", hide_env_values = true)]
    pub cloud_app_secret: Option<String>,

    /// The token Meta's webhook verification handshake must present.
    #[arg(long, env = "WABOT_CLOUD_VERIFY_TOKEN", hide_env_values = true)]
    pub cloud_verify_token: Option<String>,

    /// Log format: text or json.
    #[arg(long, env = "WABOT_LOG_FORMAT", default_value = "text")]
    pub log_format: String,

    /// A file the simulator appends every delivered message to (tests).
    #[arg(long, env = "WABOT_SIMULATOR_SEND_LOG")]
    pub simulator_send_log: Option<PathBuf>,

    /// The media bucket (`WABOT_MEDIA_S3_*`).
    #[command(flatten)]
    pub media: MediaStoreArguments,
}

impl fmt::Debug for DaemonArguments {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("DaemonArguments")
            .field("database_url", &"<redacted>")
            .field("db_sslmode", &self.db_sslmode)
            .field("db_sslrootcert", &self.db_sslrootcert)
            .field("allow_loopback_status_url", &self.allow_loopback_status_url)
            .field("simulator", &self.simulator)
            .field("db_role", &self.db_role)
            .field("functions_url", &self.functions_url)
            .field("service_role_key", &redacted(&self.service_role_key))
            .field("listen", &self.listen)
            .field("daemon_token", &redacted(&self.daemon_token))
            .field("relay", &self.relay)
            .field("instance_id", &self.instance_id)
            .field("session_storage_path", &self.session_storage_path)
            .field("poll_interval_ms", &self.poll_interval_ms)
            .field("hold_numbers", &self.hold_numbers)
            .field("transports", &self.transports)
            .field("lease_seconds", &self.lease_seconds)
            .field("heartbeat_seconds", &self.heartbeat_seconds)
            .field("status_url", &self.status_url)
            .field("max_sessions", &self.max_sessions)
            .field("send_timeout_ms", &self.send_timeout_ms)
            .field("cloud_api_base_url", &self.cloud_api_base_url)
            .field("cloud_access_token", &redacted(&self.cloud_access_token))
            .field("cloud_app_secret", &redacted(&self.cloud_app_secret))
            .field("cloud_verify_token", &redacted(&self.cloud_verify_token))
            .field("log_format", &self.log_format)
            .field("media", &self.media)
            .finish_non_exhaustive()
    }
}

/// The flags of `wabot contact`.
#[derive(Debug, Args)]
pub struct ContactArguments {
    /// What the contact does.
    #[command(subcommand)]
    pub command: ContactCommand,
}

/// The subcommands of `wabot contact`.
#[derive(Debug, Subcommand)]
pub enum ContactCommand {
    /// Send a message to a number, then print the bot's replies as `bot> …`.
    Send(Box<ContactSendArguments>),
    /// Print the whole conversation between the contact and a number.
    Read(ContactReadArguments),
}

/// The flags of `wabot contact send`.
#[derive(Debug, Args)]
pub struct ContactSendArguments {
    /// The simulated number to write to, in E.164 form.
    #[arg(long)]
    pub to: String,

    /// The contact's own number, in E.164 form.
    #[arg(long)]
    pub from: String,

    /// The contact's display name.
    #[arg(long)]
    pub name: Option<String>,

    /// WhatsApp message id to use (the simulator makes `SIM-<uuid>` when
    /// absent); send the same id twice to test redelivery.
    #[arg(long)]
    pub message_id: Option<String>,

    /// How long to wait for replies, in seconds.
    #[arg(long, default_value_t = 5)]
    pub wait_secs: u64,

    /// Base URL of the daemon's HTTP API.
    #[arg(long, env = "WABOT_DAEMON_URL", default_value = DEFAULT_DAEMON_URL)]
    pub daemon_url: String,

    /// Send a picture (a JPEG or PNG file); the text, if any, is its caption.
    #[arg(long, value_name = "FILE", group = "kind")]
    pub picture: Option<std::path::PathBuf>,

    /// Send a location, `<latitude>,<longitude>`; the text, if any, is the
    /// place's name.
    #[arg(
        long,
        value_name = "LAT,LON",
        group = "kind",
        allow_hyphen_values = true
    )]
    pub location: Option<String>,

    /// Tap a reply button: its id and title.
    #[arg(long, num_args = 2, value_names = ["ID", "TITLE"], group = "kind")]
    pub button_reply: Option<Vec<String>>,

    /// Pick a list row: its id and title.
    #[arg(long, num_args = 2, value_names = ["ID", "TITLE"], group = "kind")]
    pub list_reply: Option<Vec<String>>,

    /// The WhatsApp id of the message this one replies to (quotes).
    #[arg(long, value_name = "WA_MESSAGE_ID")]
    pub reply_to: Option<String>,

    /// The message text (a picture's caption, a location's name); required
    /// for a plain text message.
    pub text: Option<String>,
}

/// The flags of `wabot contact read`.
#[derive(Debug, Args)]
pub struct ContactReadArguments {
    /// The simulated number, in E.164 form.
    #[arg(long)]
    pub to: String,

    /// The contact's own number, in E.164 form.
    #[arg(long)]
    pub from: String,

    /// Base URL of the daemon's HTTP API.
    #[arg(long, env = "WABOT_DAEMON_URL", default_value = DEFAULT_DAEMON_URL)]
    pub daemon_url: String,
}

/// Whether the daemon delivers outbox rows itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelayMode {
    /// The daemon delivers outbox rows to the Edge Functions.
    On,
    /// Someone else (the hosted pg_net doorbell and the outbox-relay
    /// function) delivers them.
    Off,
}

impl RelayMode {
    /// Returns the mode as written in `WABOT_RELAY` and in `/status`.
    pub fn as_str(self) -> &'static str {
        match self {
            RelayMode::On => "on",
            RelayMode::Off => "off",
        }
    }
}

impl FromStr for RelayMode {
    type Err = ConfigError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.trim().to_ascii_lowercase().as_str() {
            "on" => Ok(RelayMode::On),
            "off" => Ok(RelayMode::Off),
            _ => Err(ConfigError::InvalidRelayMode {
                value: value.to_owned(),
            }),
        }
    }
}

/// How the daemon writes its logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

impl FromStr for LogFormat {
    type Err = ConfigError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.trim().to_ascii_lowercase().as_str() {
            "text" | "" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            _ => Err(ConfigError::InvalidLogFormat {
                value: value.to_owned(),
            }),
        }
    }
}

/// A setting that keeps the daemon from starting.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The bearer token is missing.
    #[error("WABOT_DAEMON_TOKEN is not set: the daemon refuses to start without a bearer token (at least 16 characters) for its POST endpoints")]
    MissingDaemonToken,

    /// The bearer token is too short to be a secret.
    #[error("WABOT_DAEMON_TOKEN is {length} characters long: it must be at least 16")]
    ShortDaemonToken {
        /// The length of the given token, in characters.
        length: usize,
    },

    /// The relay is on but has no key to call the functions with.
    #[error("SUPABASE_SERVICE_ROLE_KEY is not set: the outbox relay (WABOT_RELAY=on) needs it to call the Edge Functions; set it, or run with WABOT_RELAY=off")]
    MissingServiceRoleKey,

    /// `WABOT_RELAY` is neither `on` nor `off`.
    #[error("WABOT_RELAY must be \"on\" or \"off\", got {value:?}")]
    InvalidRelayMode {
        /// The rejected value.
        value: String,
    },

    /// `WABOT_DATABASE_URL` cannot be parsed.
    #[error("WABOT_DATABASE_URL is not a valid Postgres URL: {reason}")]
    InvalidDatabaseUrl {
        /// Why the parser rejected it.
        reason: String,
    },

    /// The TLS settings of the database cannot be used.
    #[error("WABOT_DATABASE_URL / PGSSLMODE / PGSSLROOTCERT: {0}")]
    DatabaseTls(#[from] DatabaseTlsError),

    /// The status URL is loopback while the database is elsewhere.
    #[error("WABOT_STATUS_URL is {status_url}, a loopback address, but the database is not on this machine: the health check runs next to the database and could never reach this daemon, so every sweep would raise a critical runtime_unreachable alert. Set WABOT_STATUS_URL to this daemon's public https URL of GET /status, or set WABOT_ALLOW_LOOPBACK_STATUS_URL=on to start anyway")]
    LoopbackStatusUrl {
        /// The status URL.
        status_url: String,
    },

    /// A media storage setting is invalid.
    #[error(transparent)]
    Media(#[from] MediaConfigError),

    /// An on/off switch has another value.
    #[error("{variable} must be \"on\" or \"off\", got {value:?}")]
    InvalidSwitch {
        /// The variable.
        variable: &'static str,
        /// The rejected value.
        value: String,
    },

    /// `WABOT_TRANSPORTS` names the simulator while it is off.
    #[error("WABOT_TRANSPORTS names simulator, but the simulator is off (the database is not on loopback): set WABOT_SIMULATOR=on to run it outside the local stack")]
    SimulatorOff,

    /// `WABOT_FUNCTIONS_URL` is not an http(s) URL.
    #[error("WABOT_FUNCTIONS_URL must be an http or https URL, got {value:?}")]
    InvalidFunctionsUrl {
        /// The rejected value.
        value: String,
    },

    /// `WABOT_LISTEN` is not an IP address and port.
    #[error("WABOT_LISTEN must be an IP address and port like 127.0.0.1:54380, got {value:?}")]
    InvalidListenAddress {
        /// The rejected value.
        value: String,
    },

    /// `WABOT_POLL_INTERVAL_MS` is zero.
    #[error("WABOT_POLL_INTERVAL_MS must be at least 1")]
    ZeroPollInterval,

    /// An entry of `WABOT_HOLD_NUMBERS` is not an E.164 number.
    #[error("WABOT_HOLD_NUMBERS: {0}")]
    InvalidHeldNumber(#[from] InvalidPhoneNumber),

    /// `WABOT_INSTANCE_ID` is empty.
    #[error("WABOT_INSTANCE_ID must not be empty")]
    EmptyInstanceId,

    /// An entry of `WABOT_TRANSPORTS` is not a transport.
    #[error("WABOT_TRANSPORTS: {value:?} is not a transport: expected simulator, web or cloud")]
    InvalidTransport {
        /// The rejected value.
        value: String,
    },

    /// `WABOT_TRANSPORTS` names a transport this build does not have.
    #[error("WABOT_TRANSPORTS names {transport}, but this build of wabot has no {transport} transport (build with the cargo feature whatsapp-web)")]
    TransportNotBuilt {
        /// The transport.
        transport: &'static str,
    },

    /// `WABOT_LEASE_SECONDS` is too short.
    #[error("WABOT_LEASE_SECONDS must be at least 2, got {value}")]
    ShortLease {
        /// The rejected value.
        value: u64,
    },

    /// `WABOT_HEARTBEAT_SECONDS` does not fit the lease.
    #[error("WABOT_HEARTBEAT_SECONDS must be more than 0 and at most half of WABOT_LEASE_SECONDS ({lease_seconds} s), so that a lease is renewed before it lapses; got {value}")]
    InvalidHeartbeat {
        /// The rejected value.
        value: f64,
        /// The lease.
        lease_seconds: u64,
    },

    /// `WABOT_STATUS_URL` is not an http(s) URL.
    #[error("WABOT_STATUS_URL must be an http or https URL, got {value:?}")]
    InvalidStatusUrl {
        /// The rejected value.
        value: String,
    },

    /// `WABOT_SEND_TIMEOUT_MS` is zero or longer than the send lease.
    #[error("WABOT_SEND_TIMEOUT_MS must be between 1 and 29999 (below the 30-second send lease), got {value}")]
    InvalidSendTimeout {
        /// The rejected value.
        value: u64,
    },

    /// A JSON setting cannot be read.
    #[error("{variable} is not valid: {reason}")]
    InvalidJson {
        /// The variable.
        variable: &'static str,
        /// Why.
        reason: String,
    },

    /// `WABOT_CLOUD_API_BASE_URL` is not an http(s) URL.
    #[error("WABOT_CLOUD_API_BASE_URL must be an http or https URL, got {value:?}")]
    InvalidCloudApiBaseUrl {
        /// The rejected value.
        value: String,
    },

    /// `WABOT_LOG_FORMAT` is neither `text` nor `json`.
    #[error("WABOT_LOG_FORMAT must be \"text\" or \"json\", got {value:?}")]
    InvalidLogFormat {
        /// The rejected value.
        value: String,
    },
}

/// The checked settings of a running daemon.
#[derive(Clone)]
pub struct DaemonConfig {
    /// The parsed Postgres connection settings and their TLS connector.
    pub database: DatabaseConnector,
    /// The role to `set role` to after connecting, if any.
    pub database_role: Option<String>,
    /// The Edge Functions' base URL, without a trailing slash.
    pub functions_url: String,
    /// The service-role key for the functions; always present when the relay
    /// is on.
    pub service_role_key: Option<String>,
    /// Where the HTTP API listens.
    pub listen_address: SocketAddr,
    /// The bearer token of the POST endpoints.
    pub daemon_token: String,
    /// Whether this daemon delivers the outbox.
    pub relay_mode: RelayMode,
    /// The name of this daemon in leases and logs.
    pub instance_id: String,
    /// The folder for session credentials.
    pub session_storage_path: PathBuf,
    /// The backstop polling interval.
    pub poll_interval: Duration,
    /// The numbers this daemon may hold, or `None` for every number.
    pub held_phone_numbers: Option<Vec<String>>,
    /// The transports this daemon runs.
    pub transports: Vec<TransportKind>,
    /// How long a lease lasts.
    pub lease: Duration,
    /// How often leases are renewed.
    pub heartbeat: Duration,
    /// Where `GET /status` answers.
    pub status_url: String,
    /// The most sessions, 0 for no limit.
    pub max_sessions: usize,
    /// How long one send may take.
    pub send_timeout: Duration,
    /// Send pacing per transport.
    pub pacing: PacingPolicies,
    /// The reconnect policy.
    pub reconnect_policy: ReconnectPolicy,
    /// The watchdog's thresholds.
    pub health_thresholds: HealthThresholds,
    /// The Graph API's base URL, without a trailing slash.
    pub cloud_api_base_url: String,
    /// The default Cloud API token.
    pub cloud_access_token: Option<String>,
    /// The Meta app secret that signs webhooks.
    pub cloud_app_secret: Option<String>,
    /// The webhook verification token.
    pub cloud_verify_token: Option<String>,
    /// The log format.
    pub log_format: LogFormat,
    /// The simulator's send log.
    pub simulator_send_log: Option<PathBuf>,
    /// Whether the simulator transport and its endpoints run.
    pub simulator_enabled: bool,
    /// The media bucket, or `None` when media storage is off.
    pub media_store: Option<MediaStoreConfig>,
}

impl fmt::Debug for DaemonConfig {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("DaemonConfig")
            .field("database_role", &self.database_role)
            .field("functions_url", &self.functions_url)
            .field("service_role_key", &redacted(&self.service_role_key))
            .field("listen_address", &self.listen_address)
            .field("daemon_token", &"<redacted>")
            .field("relay_mode", &self.relay_mode)
            .field("instance_id", &self.instance_id)
            .field("session_storage_path", &self.session_storage_path)
            .field("poll_interval", &self.poll_interval)
            .field("held_phone_numbers", &self.held_phone_numbers)
            .field("transports", &self.transports)
            .field("lease", &self.lease)
            .field("heartbeat", &self.heartbeat)
            .field("status_url", &self.status_url)
            .field("max_sessions", &self.max_sessions)
            .field("send_timeout", &self.send_timeout)
            .field("pacing", &self.pacing)
            .field("reconnect_policy", &self.reconnect_policy)
            .field("health_thresholds", &self.health_thresholds)
            .field("cloud_api_base_url", &self.cloud_api_base_url)
            .field("cloud_access_token", &redacted(&self.cloud_access_token))
            .field("cloud_app_secret", &redacted(&self.cloud_app_secret))
            .field("cloud_verify_token", &redacted(&self.cloud_verify_token))
            .field("log_format", &self.log_format)
            .field("database", &self.database)
            .field("simulator_enabled", &self.simulator_enabled)
            .field("media_store", &self.media_store)
            .finish_non_exhaustive()
    }
}

impl DaemonConfig {
    /// Checks the parsed arguments and turns them into a configuration.
    ///
    /// `default_instance_id` is called only when no instance id was given; the
    /// binary passes `<hostname>-<pid>`.
    pub fn resolve(
        arguments: DaemonArguments,
        default_instance_id: impl FnOnce() -> String,
    ) -> Result<Self, ConfigError> {
        let daemon_token = match arguments.daemon_token {
            None => return Err(ConfigError::MissingDaemonToken),
            Some(token) if token.is_empty() => return Err(ConfigError::MissingDaemonToken),
            Some(token) => token,
        };
        let token_length = daemon_token.chars().count();
        if token_length < MINIMUM_DAEMON_TOKEN_LENGTH {
            return Err(ConfigError::ShortDaemonToken {
                length: token_length,
            });
        }

        let relay_mode: RelayMode = arguments.relay.parse()?;
        let service_role_key = arguments
            .service_role_key
            .filter(|key| !key.trim().is_empty());
        if relay_mode == RelayMode::On && service_role_key.is_none() {
            return Err(ConfigError::MissingServiceRoleKey);
        }

        let environment_tls = TlsSettings {
            ssl_mode: match arguments.db_sslmode.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(mode) => Some(mode.parse()?),
            },
            root_cert: arguments
                .db_sslrootcert
                .clone()
                .filter(|path| !path.as_os_str().is_empty()),
        };
        let mut database = DatabaseConnector::from_url(&arguments.database_url, &environment_tls)
            .map_err(|error| match error {
            DatabaseTlsError::InvalidUrl { reason } => ConfigError::InvalidDatabaseUrl { reason },
            other => ConfigError::DatabaseTls(other),
        })?;
        if database.config().get_application_name().is_none() {
            database.config_mut().application_name("wabot-daemon");
        }
        let database_is_local = hosts_are_loopback(database.config().get_hosts());
        let simulator_enabled = match arguments.simulator.as_deref().map(str::trim) {
            None | Some("") => database_is_local,
            Some(value) => parse_switch("WABOT_SIMULATOR", value)?,
        };

        let database_role =
            Some(arguments.db_role.trim().to_owned()).filter(|role| !role.is_empty());

        let functions_url = arguments
            .functions_url
            .trim()
            .trim_end_matches('/')
            .to_owned();
        if !is_http_url(&functions_url) {
            return Err(ConfigError::InvalidFunctionsUrl {
                value: arguments.functions_url,
            });
        }

        let listen_address = arguments.listen.trim().parse::<SocketAddr>().map_err(|_| {
            ConfigError::InvalidListenAddress {
                value: arguments.listen.clone(),
            }
        })?;

        if arguments.poll_interval_ms == 0 {
            return Err(ConfigError::ZeroPollInterval);
        }

        let instance_id = match arguments.instance_id {
            Some(instance_id) if instance_id.trim().is_empty() => {
                return Err(ConfigError::EmptyInstanceId)
            }
            Some(instance_id) => instance_id.trim().to_owned(),
            None => default_instance_id(),
        };

        let mut held_phone_numbers = Vec::new();
        for phone_number in arguments.hold_numbers {
            let phone_number = phone_number.trim();
            if phone_number.is_empty() {
                continue;
            }
            validate_e164(phone_number)?;
            held_phone_numbers.push(phone_number.to_owned());
        }

        let mut transports = Vec::new();
        for transport in &arguments.transports {
            let transport = transport.trim();
            if transport.is_empty() {
                continue;
            }
            let kind =
                transport
                    .parse::<TransportKind>()
                    .map_err(|_| ConfigError::InvalidTransport {
                        value: transport.to_owned(),
                    })?;
            if !kind.is_compiled_in() {
                return Err(ConfigError::TransportNotBuilt {
                    transport: kind.as_str(),
                });
            }
            if !transports.contains(&kind) {
                transports.push(kind);
            }
        }
        if transports.is_empty() {
            transports = TransportKind::ALL
                .into_iter()
                .filter(|kind| kind.is_compiled_in())
                .filter(|kind| simulator_enabled || *kind != TransportKind::Simulator)
                .collect();
        } else if !simulator_enabled && transports.contains(&TransportKind::Simulator) {
            return Err(ConfigError::SimulatorOff);
        }

        if arguments.lease_seconds < MINIMUM_LEASE_SECONDS {
            return Err(ConfigError::ShortLease {
                value: arguments.lease_seconds,
            });
        }
        let lease = Duration::from_secs(arguments.lease_seconds);
        let heartbeat = match arguments.heartbeat_seconds {
            None => lease / 3,
            Some(seconds) => {
                let half_lease = arguments.lease_seconds as f64 / 2.0;
                if !(seconds.is_finite() && seconds > 0.0 && seconds <= half_lease) {
                    return Err(ConfigError::InvalidHeartbeat {
                        value: seconds,
                        lease_seconds: arguments.lease_seconds,
                    });
                }
                Duration::from_secs_f64(seconds)
            }
        };

        let status_url = match arguments.status_url.as_deref().map(str::trim) {
            Some(url) if !url.is_empty() => {
                if !is_http_url(url) {
                    return Err(ConfigError::InvalidStatusUrl {
                        value: url.to_owned(),
                    });
                }
                url.to_owned()
            }
            _ => default_status_url(listen_address),
        };
        if !database_is_local
            && url_host_is_loopback(&status_url)
            && !parse_switch(
                "WABOT_ALLOW_LOOPBACK_STATUS_URL",
                &arguments.allow_loopback_status_url,
            )?
        {
            return Err(ConfigError::LoopbackStatusUrl { status_url });
        }

        if arguments.send_timeout_ms == 0 || arguments.send_timeout_ms >= 30_000 {
            return Err(ConfigError::InvalidSendTimeout {
                value: arguments.send_timeout_ms,
            });
        }

        let mut pacing = PacingPolicies::default();
        for (variable, json, config) in [
            (
                "WABOT_PACING_SIMULATOR",
                &arguments.pacing_simulator,
                &mut pacing.simulator,
            ),
            ("WABOT_PACING_WEB", &arguments.pacing_web, &mut pacing.web),
            (
                "WABOT_PACING_CLOUD",
                &arguments.pacing_cloud,
                &mut pacing.cloud,
            ),
        ] {
            if let Some(json) = json.as_deref().filter(|json| !json.trim().is_empty()) {
                *config = parse_pacing_override(config, json)
                    .map_err(|reason| ConfigError::InvalidJson { variable, reason })?;
            }
        }
        let reconnect_policy = parse_json_setting(
            "WABOT_RECONNECT_POLICY",
            arguments.reconnect_policy.as_deref(),
        )?;
        let health_thresholds = parse_json_setting(
            "WABOT_HEALTH_THRESHOLDS",
            arguments.health_thresholds.as_deref(),
        )?;

        let cloud_api_base_url = arguments
            .cloud_api_base_url
            .trim()
            .trim_end_matches('/')
            .to_owned();
        if !is_http_url(&cloud_api_base_url) {
            return Err(ConfigError::InvalidCloudApiBaseUrl {
                value: arguments.cloud_api_base_url,
            });
        }
        let log_format: LogFormat = arguments.log_format.parse()?;
        let non_empty = |value: Option<String>| value.filter(|value| !value.trim().is_empty());
        let media_store = MediaStoreConfig::resolve(&arguments.media)?;

        Ok(DaemonConfig {
            database,
            database_role,
            functions_url,
            service_role_key,
            listen_address,
            daemon_token,
            relay_mode,
            instance_id,
            session_storage_path: arguments.session_storage_path,
            poll_interval: Duration::from_millis(arguments.poll_interval_ms),
            held_phone_numbers: Some(held_phone_numbers).filter(|numbers| !numbers.is_empty()),
            transports,
            lease,
            heartbeat,
            status_url,
            max_sessions: arguments.max_sessions,
            send_timeout: Duration::from_millis(arguments.send_timeout_ms),
            pacing,
            reconnect_policy,
            health_thresholds,
            cloud_api_base_url,
            cloud_access_token: non_empty(arguments.cloud_access_token),
            cloud_app_secret: non_empty(arguments.cloud_app_secret),
            cloud_verify_token: non_empty(arguments.cloud_verify_token),
            log_format,
            simulator_send_log: arguments.simulator_send_log,
            simulator_enabled,
            media_store,
        })
    }
}

/// Reads a JSON object overriding fields of a core policy (every field has a
/// default); an absent or empty value gives the default.
fn parse_json_setting<T: serde::de::DeserializeOwned + Default>(
    variable: &'static str,
    json: Option<&str>,
) -> Result<T, ConfigError> {
    match json.map(str::trim) {
        None | Some("") => Ok(T::default()),
        Some(json) => serde_json::from_str(json).map_err(|error| ConfigError::InvalidJson {
            variable,
            reason: error.to_string(),
        }),
    }
}

/// Reads an `on`/`off` switch (also `true`/`false`, `1`/`0`).
fn parse_switch(variable: &'static str, value: &str) -> Result<bool, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "on" | "true" | "1" | "yes" => Ok(true),
        "off" | "false" | "0" | "no" | "" => Ok(false),
        _ => Err(ConfigError::InvalidSwitch {
            variable,
            value: value.to_owned(),
        }),
    }
}

/// Whether an http(s) URL points at this machine (a loopback address,
/// `localhost`, or the unspecified address).
pub fn url_host_is_loopback(url: &str) -> bool {
    let Some(host) = reqwest::Url::parse(url)
        .ok()
        .and_then(|url| url.host_str().map(str::to_owned))
    else {
        return false;
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    is_loopback_name(bare)
        || bare
            .parse::<std::net::IpAddr>()
            .map(|address| address.is_unspecified())
            .unwrap_or(false)
}

fn is_http_url(value: &str) -> bool {
    reqwest::Url::parse(value)
        .map(|url| matches!(url.scheme(), "http" | "https") && url.has_host())
        .unwrap_or(false)
}

/// Returns `http://<listen address>/status`, with the loopback address when
/// the daemon listens on every interface.
pub fn default_status_url(listen_address: SocketAddr) -> String {
    let host = if listen_address.ip().is_unspecified() {
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .map(|name| name.trim().to_owned())
            .filter(|name| !name.is_empty())
            .unwrap_or_else(|| "127.0.0.1".to_owned())
    } else if listen_address.is_ipv6() {
        format!("[{}]", listen_address.ip())
    } else {
        listen_address.ip().to_string()
    };
    format!("http://{host}:{}/status", listen_address.port())
}

/// Returns `<hostname>-<pid>`, the default instance id.
pub fn default_instance_id() -> String {
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .or_else(|| {
            std::env::var("HOSTNAME")
                .ok()
                .filter(|name| !name.is_empty())
        })
        .unwrap_or_else(|| "wabot".to_owned());
    format!("{hostname}-{}", std::process::id())
}

fn redacted(secret: &Option<String>) -> &'static str {
    match secret {
        Some(_) => "<redacted>",
        None => "<unset>",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "0123456789abcdef";

    /// Parses `wabot daemon <flags>` without reading the environment's values
    /// for the flags given explicitly.
    fn daemon_arguments(flags: &[&str]) -> DaemonArguments {
        let mut all_flags = vec!["wabot", "daemon"];
        all_flags.extend_from_slice(flags);
        let command_line = CommandLine::try_parse_from(all_flags).expect("the flags parse");
        match command_line.command {
            TopLevelCommand::Daemon(arguments) => *arguments,
            TopLevelCommand::Contact(_) => panic!("expected the daemon command"),
        }
    }

    fn complete_flags() -> Vec<&'static str> {
        vec![
            "--daemon-token",
            TOKEN,
            "--service-role-key",
            "key",
            "--relay",
            "on",
            "--database-url",
            DEFAULT_DATABASE_URL,
            "--db-role",
            "service_role",
            "--functions-url",
            "http://127.0.0.1:54321/functions/v1/",
            "--listen",
            "127.0.0.1:54380",
            "--instance-id",
            "test-instance",
            "--poll-interval-ms",
            "250",
        ]
    }

    #[test]
    fn complete_flags_resolve() {
        let config = DaemonConfig::resolve(daemon_arguments(&complete_flags()), || {
            unreachable!("an instance id was given")
        })
        .unwrap();
        assert_eq!(config.functions_url, "http://127.0.0.1:54321/functions/v1");
        assert_eq!(config.database_role.as_deref(), Some("service_role"));
        assert_eq!(config.relay_mode, RelayMode::On);
        assert_eq!(config.instance_id, "test-instance");
        assert_eq!(config.poll_interval, Duration::from_millis(250));
        assert_eq!(config.listen_address.port(), 54380);
        assert_eq!(config.held_phone_numbers, None);
        assert_eq!(
            config.database.config().get_connect_timeout(),
            Some(&Duration::from_secs(5))
        );
    }

    #[test]
    fn media_storage_settings_are_checked_at_start() {
        let mut flags = complete_flags();
        flags.extend([
            "--media-s3-endpoint",
            "http://storage.example.com:9000",
            "--media-s3-region",
            "eu-central-1",
            "--media-s3-access-key-id",
            "id",
            "--media-s3-secret-access-key",
            "secret",
        ]);
        let error = DaemonConfig::resolve(daemon_arguments(&flags), || "x".into()).unwrap_err();
        assert!(
            matches!(
                error,
                ConfigError::Media(MediaConfigError::PlainHttpOffLoopback { .. })
            ),
            "{error}"
        );
        assert!(error.to_string().contains("WABOT_MEDIA_S3_ENDPOINT"));

        let endpoint = flags.len() - 7;
        flags[endpoint] = "https://abcd.supabase.co/storage/v1/s3";
        let config = DaemonConfig::resolve(daemon_arguments(&flags), || "x".into()).unwrap();
        let media = config.media_store.clone().expect("media storage on");
        assert_eq!(media.endpoint, "https://abcd.supabase.co/storage/v1/s3");
        assert_eq!(media.region, "eu-central-1");
        assert!(!format!("{config:?}").contains("\"secret\""));
    }

    #[test]
    fn a_missing_token_is_refused() {
        let mut flags = complete_flags();
        flags.drain(0..2);
        let mut arguments = daemon_arguments(&flags);
        arguments.daemon_token = None;
        let error = DaemonConfig::resolve(arguments, || "x".into()).unwrap_err();
        assert!(matches!(error, ConfigError::MissingDaemonToken), "{error}");
    }

    #[test]
    fn a_short_token_is_refused() {
        let mut arguments = daemon_arguments(&complete_flags());
        arguments.daemon_token = Some("short".into());
        let error = DaemonConfig::resolve(arguments, || "x".into()).unwrap_err();
        assert!(
            matches!(error, ConfigError::ShortDaemonToken { length: 5 }),
            "{error}"
        );
        assert!(error.to_string().contains("at least 16"));
    }

    #[test]
    fn the_relay_needs_the_service_role_key() {
        let mut arguments = daemon_arguments(&complete_flags());
        arguments.service_role_key = None;
        let error = DaemonConfig::resolve(arguments.clone(), || "x".into()).unwrap_err();
        assert!(
            matches!(error, ConfigError::MissingServiceRoleKey),
            "{error}"
        );

        arguments.relay = "off".into();
        let config = DaemonConfig::resolve(arguments, || "x".into()).unwrap();
        assert_eq!(config.relay_mode, RelayMode::Off);
        assert_eq!(config.service_role_key, None);
    }

    #[test]
    fn relay_mode_accepts_only_on_and_off() {
        assert_eq!("on".parse::<RelayMode>().unwrap(), RelayMode::On);
        assert_eq!("OFF".parse::<RelayMode>().unwrap(), RelayMode::Off);
        let error = "yes".parse::<RelayMode>().unwrap_err();
        assert_eq!(
            error.to_string(),
            "WABOT_RELAY must be \"on\" or \"off\", got \"yes\""
        );
    }

    #[test]
    fn an_empty_role_skips_set_role() {
        let mut arguments = daemon_arguments(&complete_flags());
        arguments.db_role = String::new();
        let config = DaemonConfig::resolve(arguments, || "x".into()).unwrap();
        assert_eq!(config.database_role, None);
    }

    #[test]
    fn the_instance_id_defaults_to_the_callback() {
        let mut arguments = daemon_arguments(&complete_flags());
        arguments.instance_id = None;
        let config = DaemonConfig::resolve(arguments, || "host-42".into()).unwrap();
        assert_eq!(config.instance_id, "host-42");
        assert!(default_instance_id().ends_with(&format!("-{}", std::process::id())));
    }

    #[test]
    fn bad_urls_and_addresses_are_refused() {
        let mut arguments = daemon_arguments(&complete_flags());
        arguments.functions_url = "ftp://example".into();
        assert!(matches!(
            DaemonConfig::resolve(arguments, || "x".into()),
            Err(ConfigError::InvalidFunctionsUrl { .. })
        ));

        let mut arguments = daemon_arguments(&complete_flags());
        arguments.listen = "localhost".into();
        assert!(matches!(
            DaemonConfig::resolve(arguments, || "x".into()),
            Err(ConfigError::InvalidListenAddress { .. })
        ));

        let mut arguments = daemon_arguments(&complete_flags());
        arguments.database_url = "postgresql://[".into();
        assert!(matches!(
            DaemonConfig::resolve(arguments, || "x".into()),
            Err(ConfigError::InvalidDatabaseUrl { .. })
        ));

        let mut arguments = daemon_arguments(&complete_flags());
        arguments.poll_interval_ms = 0;
        assert!(matches!(
            DaemonConfig::resolve(arguments, || "x".into()),
            Err(ConfigError::ZeroPollInterval)
        ));
    }

    #[test]
    fn held_numbers_are_validated() {
        let mut flags = complete_flags();
        flags.extend_from_slice(&["--hold-numbers", "+15550100001,+15550100002"]);
        let config = DaemonConfig::resolve(daemon_arguments(&flags), || "x".into()).unwrap();
        assert_eq!(
            config.held_phone_numbers,
            Some(vec!["+15550100001".to_owned(), "+15550100002".to_owned()])
        );

        let mut flags = complete_flags();
        flags.extend_from_slice(&["--hold-numbers", "15550100001"]);
        let error = DaemonConfig::resolve(daemon_arguments(&flags), || "x".into()).unwrap_err();
        assert!(
            matches!(error, ConfigError::InvalidHeldNumber(_)),
            "{error}"
        );
    }

    #[test]
    fn leases_and_heartbeats_must_fit() {
        let config =
            DaemonConfig::resolve(daemon_arguments(&complete_flags()), || "x".into()).unwrap();
        assert_eq!(config.lease, Duration::from_secs(30));
        assert_eq!(config.heartbeat, Duration::from_secs(10));
        assert_eq!(config.status_url, "http://127.0.0.1:54380/status");

        let mut arguments = daemon_arguments(&complete_flags());
        arguments.lease_seconds = 1;
        assert!(matches!(
            DaemonConfig::resolve(arguments, || "x".into()),
            Err(ConfigError::ShortLease { value: 1 })
        ));
        let mut arguments = daemon_arguments(&complete_flags());
        arguments.lease_seconds = 6;
        arguments.heartbeat_seconds = Some(4.0);
        let error = DaemonConfig::resolve(arguments, || "x".into()).unwrap_err();
        assert!(
            matches!(error, ConfigError::InvalidHeartbeat { .. }),
            "{error}"
        );
        assert!(error.to_string().contains("half"), "{error}");
        let mut arguments = daemon_arguments(&complete_flags());
        arguments.lease_seconds = 6;
        arguments.heartbeat_seconds = Some(0.5);
        let config = DaemonConfig::resolve(arguments, || "x".into()).unwrap();
        assert_eq!(config.heartbeat, Duration::from_millis(500));
    }

    #[test]
    fn transports_are_checked() {
        let mut arguments = daemon_arguments(&complete_flags());
        arguments.transports = vec!["simulator".into(), " cloud ".into(), "simulator".into()];
        let config = DaemonConfig::resolve(arguments, || "x".into()).unwrap();
        assert_eq!(
            config.transports,
            [TransportKind::Simulator, TransportKind::Cloud]
        );
        let mut arguments = daemon_arguments(&complete_flags());
        arguments.transports = vec!["fax".into()];
        let error = DaemonConfig::resolve(arguments, || "x".into()).unwrap_err();
        assert!(
            matches!(error, ConfigError::InvalidTransport { .. }),
            "{error}"
        );
        let config =
            DaemonConfig::resolve(daemon_arguments(&complete_flags()), || "x".into()).unwrap();
        assert!(config.transports.contains(&TransportKind::Simulator));
        assert_eq!(
            config.transports.contains(&TransportKind::Web),
            cfg!(feature = "whatsapp-web")
        );
    }

    #[test]
    fn json_policies_are_read_and_their_errors_named() {
        let mut arguments = daemon_arguments(&complete_flags());
        arguments.pacing_simulator = Some(r#"{"capacity": 2, "refill_per_second": 1}"#.into());
        arguments.reconnect_policy = Some(r#"{"base_delay_ms": 100}"#.into());
        arguments.health_thresholds = Some(r#"{"heartbeat_stale_after_ms": 3000}"#.into());
        let config = DaemonConfig::resolve(arguments, || "x".into()).unwrap();
        assert_eq!(config.pacing.simulator.capacity, 2);
        assert_eq!(config.reconnect_policy.base_delay_ms, 100);
        assert_eq!(config.reconnect_policy.max_delay_ms, 300_000);
        assert_eq!(config.health_thresholds.heartbeat_stale_after_ms, 3000);

        let mut arguments = daemon_arguments(&complete_flags());
        arguments.pacing_web = Some(r#"{"capacity": "many"}"#.into());
        let error = DaemonConfig::resolve(arguments, || "x".into()).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("WABOT_PACING_WEB is not valid"),
            "{error}"
        );
        let mut arguments = daemon_arguments(&complete_flags());
        arguments.health_thresholds = Some("{".into());
        let error = DaemonConfig::resolve(arguments, || "x".into()).unwrap_err();
        assert!(
            error.to_string().starts_with("WABOT_HEALTH_THRESHOLDS"),
            "{error}"
        );
    }

    #[test]
    fn other_settings_are_checked() {
        let mut arguments = daemon_arguments(&complete_flags());
        arguments.send_timeout_ms = 30_000;
        assert!(matches!(
            DaemonConfig::resolve(arguments, || "x".into()),
            Err(ConfigError::InvalidSendTimeout { .. })
        ));
        let mut arguments = daemon_arguments(&complete_flags());
        arguments.log_format = "xml".into();
        assert!(matches!(
            DaemonConfig::resolve(arguments, || "x".into()),
            Err(ConfigError::InvalidLogFormat { .. })
        ));
        let mut arguments = daemon_arguments(&complete_flags());
        arguments.status_url = Some("status".into());
        assert!(matches!(
            DaemonConfig::resolve(arguments, || "x".into()),
            Err(ConfigError::InvalidStatusUrl { .. })
        ));
        let mut arguments = daemon_arguments(&complete_flags());
        arguments.cloud_api_base_url = "graph.facebook.com".into();
        assert!(matches!(
            DaemonConfig::resolve(arguments, || "x".into()),
            Err(ConfigError::InvalidCloudApiBaseUrl { .. })
        ));
        let mut arguments = daemon_arguments(&complete_flags());
        arguments.log_format = "JSON".into();
        arguments.cloud_app_secret = Some(" ".into());
        let config = DaemonConfig::resolve(arguments, || "x".into()).unwrap();
        assert_eq!(config.log_format, LogFormat::Json);
        assert_eq!(config.cloud_app_secret, None);
        assert!(default_status_url("0.0.0.0:80".parse().unwrap()).ends_with(":80/status"));
        assert_eq!(
            default_status_url("[::1]:8080".parse().unwrap()),
            "http://[::1]:8080/status"
        );
    }

    /// The complete flags with the database on another host.
    fn hosted_flags(extra: &[&'static str]) -> Vec<&'static str> {
        let mut flags = complete_flags();
        flags[7] = "postgresql://postgres:pw@db.abcdefghijklmnop.supabase.co:5432/postgres";
        flags.extend_from_slice(extra);
        flags
    }

    fn resolve_flags(flags: &[&str]) -> Result<DaemonConfig, ConfigError> {
        DaemonConfig::resolve(daemon_arguments(flags), || "test".to_owned())
    }

    #[test]
    fn a_loopback_status_url_is_refused_against_a_remote_database() {
        // The default status URL (from WABOT_LISTEN=127.0.0.1:54380) and
        // an explicit loopback one are both refused.
        let error = resolve_flags(&hosted_flags(&[])).expect_err("refused");
        assert!(
            matches!(error, ConfigError::LoopbackStatusUrl { .. }),
            "{error}"
        );
        assert!(error.to_string().contains("WABOT_STATUS_URL"), "{error}");
        for status_url in [
            "http://localhost:54380/status",
            "http://[::1]:54380/status",
            "http://0.0.0.0:54380/status",
            "http://127.0.0.2/status",
        ] {
            let error =
                resolve_flags(&hosted_flags(&["--status-url", status_url])).expect_err("refused");
            assert!(
                matches!(error, ConfigError::LoopbackStatusUrl { .. }),
                "{status_url}"
            );
        }
        // A public URL passes, and so does the explicit override.
        resolve_flags(&hosted_flags(&[
            "--status-url",
            "https://wabot.example.com/status",
        ]))
        .expect("a public status url");
        resolve_flags(&hosted_flags(&["--allow-loopback-status-url", "on"])).expect("the override");
        assert!(matches!(
            resolve_flags(&hosted_flags(&["--allow-loopback-status-url", "maybe"])),
            Err(ConfigError::InvalidSwitch { .. })
        ));
        // On the local stack a loopback status URL is right.
        resolve_flags(&complete_flags()).expect("the local stack");
    }

    #[test]
    fn the_simulator_is_off_outside_the_local_stack() {
        let public = ["--status-url", "https://wabot.example.com/status"];
        let local = resolve_flags(&complete_flags()).expect("the local stack");
        assert!(local.simulator_enabled);
        assert!(local.transports.contains(&TransportKind::Simulator));

        let hosted = resolve_flags(&hosted_flags(&public)).expect("hosted");
        assert!(!hosted.simulator_enabled);
        assert!(!hosted.transports.contains(&TransportKind::Simulator));
        assert!(!hosted.transports.is_empty());

        let mut flags = hosted_flags(&public);
        flags.extend_from_slice(&["--transports", "simulator"]);
        assert!(matches!(
            resolve_flags(&flags),
            Err(ConfigError::SimulatorOff)
        ));

        let mut flags = hosted_flags(&public);
        flags.extend_from_slice(&["--simulator", "on"]);
        let enabled = resolve_flags(&flags).expect("explicitly on");
        assert!(enabled.simulator_enabled);
        assert!(enabled.transports.contains(&TransportKind::Simulator));

        let mut flags = complete_flags();
        flags.extend_from_slice(&["--simulator", "off"]);
        let disabled = resolve_flags(&flags).expect("explicitly off");
        assert!(!disabled.simulator_enabled);
        assert!(!disabled.transports.contains(&TransportKind::Simulator));
    }

    #[test]
    fn the_database_tls_settings_are_read_and_checked() {
        let public = ["--status-url", "https://wabot.example.com/status"];
        let hosted = resolve_flags(&hosted_flags(&public)).expect("hosted");
        assert_eq!(
            hosted.database.ssl_mode(),
            crate::database_tls::SslMode::Require
        );
        let local = resolve_flags(&complete_flags()).expect("local");
        assert_eq!(
            local.database.ssl_mode(),
            crate::database_tls::SslMode::Prefer
        );
        let mut flags = hosted_flags(&public);
        flags.extend_from_slice(&["--db-sslmode", "disable"]);
        assert_eq!(
            resolve_flags(&flags).expect("disable").database.ssl_mode(),
            crate::database_tls::SslMode::Disable
        );
        let mut flags = hosted_flags(&public);
        flags.extend_from_slice(&["--db-sslmode", "verify_full"]);
        let error = resolve_flags(&flags).expect_err("refused");
        assert!(error.to_string().contains("verify_full"), "{error}");
        let mut flags = complete_flags();
        flags[7] = "postgresql://u:p@db.example.com/postgres?sslmode=strict";
        let error = resolve_flags(&flags).expect_err("refused");
        assert!(error.to_string().contains("strict"), "{error}");
    }

    #[test]
    fn secrets_stay_out_of_debug_output() {
        let mut flags = complete_flags();
        flags.extend_from_slice(&["--cloud-app-secret", "meta-app-secret-value"]);
        let config = DaemonConfig::resolve(daemon_arguments(&flags), || "x".into()).unwrap();
        let printed = format!("{config:?} {:?}", daemon_arguments(&complete_flags()));
        assert!(!printed.contains(TOKEN), "{printed}");
        assert!(!printed.contains("postgres:postgres"), "{printed}");
        assert!(!printed.contains("meta-app-secret-value"), "{printed}");
    }

    #[test]
    fn contact_send_parses() {
        let command_line = CommandLine::try_parse_from([
            "wabot",
            "contact",
            "send",
            "--to",
            "+15550100001",
            "--from",
            "+15550199999",
            "--name",
            "Ada",
            "hi",
        ])
        .unwrap();
        let TopLevelCommand::Contact(ContactArguments {
            command: ContactCommand::Send(send),
        }) = command_line.command
        else {
            panic!("expected contact send");
        };
        assert_eq!(send.text.as_deref(), Some("hi"));
        assert_eq!(send.wait_secs, 5);
        assert_eq!(send.name.as_deref(), Some("Ada"));
    }
}
