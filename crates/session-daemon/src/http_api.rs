//! The daemon's HTTP API.
//!
//! | method and path | auth | answer |
//! |---|---|---|
//! | `GET /status` | none | 200, or 503 when the database is unreachable (the runbook's smoke check) |
//! | `GET /metrics` | none | Prometheus text ([`crate::metrics`]) |
//! | `GET /openapi.json` | none | this API's OpenAPI document (`crates/session-daemon/openapi.json`) |
//! | `GET /numbers/{id}/session` | bearer | the session: state, QR code and pair code while pairing, reconnects, pacing |
//! | `POST /numbers/{id}/session/{start,stop,restart}` | bearer | 202 `{"number_id", "action", "session_status"}`; a number held by another daemon gets a queued session command |
//! | `GET /cloud/webhook` | verify token | Meta's verification handshake ([`crate::cloud_webhook`]) |
//! | `POST /cloud/webhook` | `X-Hub-Signature-256` | Cloud API messages and statuses; 401 on a bad signature |
//! | `POST /simulator/inbound` | bearer | 202 `{"wa_message_id", "duplicate"}` |
//! | `GET /simulator/transcript?to=&from=&after=` | none | 200 `{"messages": [...]}` |
//! | `GET /simulator/numbers/{phone}` | none | a simulated line and its script |
//! | `POST /simulator/numbers/{phone}/script` | bearer | change the line's script |
//! | `POST /simulator/numbers/{phone}/events` | bearer | make a connection event happen |
//! | `POST /simulator/numbers/{phone}/receipts` | bearer | report a receipt |
//! | `POST /simulator/numbers/{phone}/pair` | bearer | complete a pairing |
//! | `POST /simulator/media` | bearer | 201 `{"media_id", …}`: a simulated contact uploads a file (the body, its `Content-Type`) |
//! | `GET /simulator/media/{id}` | none | the bytes of an uploaded file, or of a media message a number sent (by its WhatsApp id) |
//!
//! Every error is JSON `{"error": "<message>"}`. Control endpoints need
//! `Authorization: Bearer <WABOT_DAEMON_TOKEN>` (401 otherwise), and request
//! bodies are limited to [`MAXIMUM_REQUEST_BODY_BYTES`] (413 beyond), the
//! Cloud webhook's to [`MAXIMUM_WEBHOOK_BODY_BYTES`]. [`ROUTES`] lists every
//! route; a test checks that the checked-in OpenAPI document lists the same.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::cloud_webhook::{parse_webhook, signature_is_valid, SIGNATURE_HEADER};
use crate::config::RelayMode;
use crate::database::{check_reachable, DatabaseError, DatabasePool};
use crate::metrics::{DatabaseSample, Gauges, Metrics};
use crate::phone::{repair_query_phone_number, validate_e164, InvalidPhoneNumber};
use crate::sessions::{iso_time, now_ms, SessionAction, SessionError, SessionRegistry};
use crate::store;
use crate::transport::simulator::{
    SimulatedConnectionEvent, SimulatedMessage, SimulatedSendOutcome, SimulatorError,
    SimulatorNetwork, SimulatorScriptChange, TranscriptEntry,
};
use crate::transport::{parse_content, Content, DeliveryReceipt, ReceiptStatus};

/// The largest request body accepted, in bytes (64 KiB).
pub const MAXIMUM_REQUEST_BODY_BYTES: usize = 64 * 1024;

/// The largest media file a simulated contact may upload
/// (`POST /simulator/media`), in bytes (16 MiB: every kind but a document).
pub const MAXIMUM_SIMULATOR_MEDIA_BYTES: usize = 16 * 1024 * 1024;

/// The largest Cloud API webhook body accepted, in bytes (4 MiB).
pub const MAXIMUM_WEBHOOK_BODY_BYTES: usize = 4 * 1024 * 1024;

/// The largest `POST /simulator/inbound` body accepted with inline media
/// (`media_base64`), in bytes (24 MiB: a 16 MB video or voice note,
/// base64-encoded, fits); without media the limit stays
/// [`MAXIMUM_REQUEST_BODY_BYTES`].
pub const MAXIMUM_SIMULATOR_INBOUND_BODY_BYTES: usize = 24 * 1024 * 1024;

/// The longest WhatsApp message id accepted from a simulated contact.
pub const MAXIMUM_MESSAGE_ID_CHARACTERS: usize = 200;

/// The longest contact name accepted from a simulated contact.
pub const MAXIMUM_CONTACT_NAME_CHARACTERS: usize = 200;

/// How long one sample of the metrics' database gauges may take.
const METRICS_QUERY_TIMEOUT: Duration = Duration::from_secs(2);

/// The checked-in OpenAPI document of this API.
pub const OPENAPI_DOCUMENT: &str = include_str!("../openapi.json");

/// Every route: method and path, as the OpenAPI document lists them (the
/// session actions are one route with an `{action}` segment in the router).
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/status"),
    ("GET", "/metrics"),
    ("GET", "/openapi.json"),
    ("GET", "/numbers/{number_id}/session"),
    ("POST", "/numbers/{number_id}/session/start"),
    ("POST", "/numbers/{number_id}/session/stop"),
    ("POST", "/numbers/{number_id}/session/restart"),
    ("GET", "/cloud/webhook"),
    ("POST", "/cloud/webhook"),
    ("POST", "/simulator/inbound"),
    ("GET", "/simulator/transcript"),
    ("GET", "/simulator/numbers/{phone_number}"),
    ("POST", "/simulator/numbers/{phone_number}/script"),
    ("POST", "/simulator/numbers/{phone_number}/events"),
    ("POST", "/simulator/numbers/{phone_number}/receipts"),
    ("POST", "/simulator/numbers/{phone_number}/pair"),
    ("POST", "/simulator/media"),
    ("GET", "/simulator/media/{media_id}"),
];

/// What the handlers share.
pub struct ApiState {
    /// The workers' database pool.
    pub pool: DatabasePool,
    /// The control pool, for `GET /status` (see
    /// [`crate::database::CONTROL_POOL_SIZE`]).
    pub control_pool: DatabasePool,
    /// The held sessions.
    pub registry: Arc<SessionRegistry>,
    /// The simulated WhatsApp.
    pub simulator: Arc<SimulatorNetwork>,
    /// The daemon's instance id.
    pub instance_id: String,
    /// Whether the daemon relays the outbox.
    pub relay_mode: RelayMode,
    /// The bearer token of the control endpoints.
    pub daemon_token: String,
    /// When the daemon started.
    pub started_at: Instant,
    /// The counters.
    pub metrics: Arc<Metrics>,
    /// The Meta app secret that signs Cloud API webhooks.
    pub cloud_app_secret: Option<String>,
    /// The Cloud API webhook's verification token.
    pub cloud_verify_token: Option<String>,
    /// Cloud numbers by phone number id, as found.
    pub cloud_numbers: Mutex<HashMap<String, Uuid>>,
    /// Whether the `/simulator` endpoints are served (`WABOT_SIMULATOR`).
    pub simulator_enabled: bool,
}

/// An error answer: a status and a message sent as `{"error": message}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The message.
    pub message: String,
}

impl ApiError {
    /// Creates an error answer.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(json!({ "error": self.message }))).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl From<SimulatorError> for ApiError {
    fn from(error: SimulatorError) -> Self {
        let status = match &error {
            SimulatorError::UnknownNumber { .. } => StatusCode::NOT_FOUND,
            SimulatorError::NotMedia { .. } => StatusCode::BAD_REQUEST,
            SimulatorError::NotConnected { .. } | SimulatorError::NotPairing { .. } => {
                StatusCode::CONFLICT
            }
            SimulatorError::Stalled { .. }
            | SimulatorError::StoreFailed { .. }
            | SimulatorError::StoreTimedOut(_) => StatusCode::SERVICE_UNAVAILABLE,
        };
        ApiError::new(status, error.to_string())
    }
}

impl From<SessionError> for ApiError {
    fn from(error: SessionError) -> Self {
        let status = match &error {
            SessionError::UnknownNumber { .. } => StatusCode::NOT_FOUND,
            SessionError::Transport { .. } => StatusCode::BAD_GATEWAY,
            SessionError::Unavailable { .. } | SessionError::Database(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
        };
        ApiError::new(status, error.to_string())
    }
}

impl From<DatabaseError> for ApiError {
    fn from(error: DatabaseError) -> Self {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, error.to_string())
    }
}

/// A malformed `POST /simulator/inbound` body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InboundRequestError {
    /// The body is not JSON.
    #[error("malformed JSON body: {0}")]
    MalformedJson(String),

    /// The body is JSON but not an object.
    #[error("the body must be a JSON object with the fields \"to\", \"from\" and \"text\" (or \"content\")")]
    NotAnObject,

    /// Both `text` and `content` were given.
    #[error("give either \"text\" or \"content\", not both")]
    TextAndContent,

    /// `content` is not the message model's JSON, or breaks its rules.
    #[error("field \"{path}\": {message}")]
    InvalidContent {
        /// The JSON path of the field at fault (`content.latitude`).
        path: String,
        /// What is wrong.
        message: String,
    },

    /// `media_base64` is not base64.
    #[error("field \"media_base64\" is not base64: {0}")]
    InvalidBase64(String),

    /// A required field is absent.
    #[error("missing field \"{0}\"")]
    MissingField(&'static str),

    /// A field has the wrong JSON type.
    #[error("field \"{field}\" must be {expected}")]
    WrongType {
        /// The field.
        field: &'static str,
        /// What it must be.
        expected: &'static str,
    },

    /// A phone number field is not E.164.
    #[error("field \"{field}\": {source}")]
    InvalidPhoneNumber {
        /// The field.
        field: &'static str,
        /// Why the number is invalid.
        source: InvalidPhoneNumber,
    },

    /// A field that must have content is empty.
    #[error("field \"{0}\" must not be empty")]
    EmptyField(&'static str),

    /// A LID is not `<digits>@lid`.
    #[error("field \"{0}\" must be a LID like 123456789012345@lid")]
    InvalidLid(&'static str),

    /// A field is too long.
    #[error("field \"{field}\" must be at most {maximum} characters")]
    TooLong {
        /// The field.
        field: &'static str,
        /// Its maximum length.
        maximum: usize,
    },
}

/// Checks a `POST /simulator/inbound` body and returns the message it
/// describes.
pub fn parse_inbound_request(body: &[u8]) -> Result<SimulatedMessage, InboundRequestError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|error| InboundRequestError::MalformedJson(error.to_string()))?;
    let Value::Object(fields) = value else {
        return Err(InboundRequestError::NotAnObject);
    };

    let to = required_string(&fields, "to")?;
    validate_e164(&to).map_err(|source| InboundRequestError::InvalidPhoneNumber {
        field: "to",
        source,
    })?;
    let from = required_string(&fields, "from")?;
    validate_e164(&from).map_err(|source| InboundRequestError::InvalidPhoneNumber {
        field: "from",
        source,
    })?;
    let text = optional_string(&fields, "text")?;
    let content = match (text, fields.get("content")) {
        (Some(_), Some(content)) if !content.is_null() => {
            return Err(InboundRequestError::TextAndContent)
        }
        (Some(text), _) => {
            if text.trim().is_empty() {
                return Err(InboundRequestError::EmptyField("text"));
            }
            Content::text(text)
        }
        (None, Some(content)) if !content.is_null() => parse_inbound_content(content)?,
        (None, _) => return Err(InboundRequestError::MissingField("text")),
    };
    let context_wa_message_id = optional_string(&fields, "context_wa_message_id")?;
    if let Some(context) = &context_wa_message_id {
        if context.trim().is_empty() {
            return Err(InboundRequestError::EmptyField("context_wa_message_id"));
        }
        if context.chars().count() > MAXIMUM_MESSAGE_ID_CHARACTERS {
            return Err(InboundRequestError::TooLong {
                field: "context_wa_message_id",
                maximum: MAXIMUM_MESSAGE_ID_CHARACTERS,
            });
        }
    }
    let media_bytes = match optional_string(&fields, "media_base64")? {
        None => None,
        Some(encoded) => {
            if content.media().is_none() {
                return Err(InboundRequestError::InvalidContent {
                    path: "media_base64".to_owned(),
                    message: format!(
                        "a {} message carries no media; media_base64 goes with image, video, audio, voice, document or sticker content",
                        content.kind()
                    ),
                });
            }
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(encoded.trim())
                .map_err(|error| InboundRequestError::InvalidBase64(error.to_string()))?;
            if bytes.is_empty() {
                return Err(InboundRequestError::EmptyField("media_base64"));
            }
            Some(std::sync::Arc::<[u8]>::from(bytes))
        }
    };

    let name = optional_string(&fields, "name")?
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty());
    if let Some(name) = &name {
        if name.chars().count() > MAXIMUM_CONTACT_NAME_CHARACTERS {
            return Err(InboundRequestError::TooLong {
                field: "name",
                maximum: MAXIMUM_CONTACT_NAME_CHARACTERS,
            });
        }
    }
    let message_id = optional_string(&fields, "message_id")?;
    if let Some(message_id) = &message_id {
        if message_id.trim().is_empty() {
            return Err(InboundRequestError::EmptyField("message_id"));
        }
        if message_id.chars().count() > MAXIMUM_MESSAGE_ID_CHARACTERS {
            return Err(InboundRequestError::TooLong {
                field: "message_id",
                maximum: MAXIMUM_MESSAGE_ID_CHARACTERS,
            });
        }
    }

    let from_lid = optional_string(&fields, "from_lid")?;
    if let Some(lid) = &from_lid {
        let digits = lid.strip_suffix("@lid").unwrap_or_default();
        if !(5..=30).contains(&digits.len()) || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(InboundRequestError::InvalidLid("from_lid"));
        }
    }

    Ok(SimulatedMessage {
        to,
        from,
        from_lid,
        name,
        content,
        context_wa_message_id,
        media_bytes,
        message_id,
    })
}

/// Reads a simulated contact's `content` into the message model, naming the
/// JSON path of what is wrong (`content.latitude`). Only what a contact
/// can send is accepted (not the business's buttons, lists or templates),
/// with the shape Postgres checks: non-empty text, coordinates in range.
fn parse_inbound_content(content: &Value) -> Result<Content, InboundRequestError> {
    let parsed = parse_content(content).map_err(|error| InboundRequestError::InvalidContent {
        path: error.path,
        message: error.message,
    })?;
    let invalid = |path: &str, message: String| InboundRequestError::InvalidContent {
        path: format!("content.{path}"),
        message,
    };
    match &parsed {
        Content::Text { text, .. } if text.trim().is_empty() => {
            Err(invalid("text", "must not be empty".to_owned()))
        }
        Content::Location(location) if !(-90.0..=90.0).contains(&location.latitude) => {
            Err(invalid(
                "latitude",
                format!("{} is not between -90 and 90", location.latitude),
            ))
        }
        Content::Location(location) if !(-180.0..=180.0).contains(&location.longitude) => {
            Err(invalid(
                "longitude",
                format!("{} is not between -180 and 180", location.longitude),
            ))
        }
        Content::Buttons { .. } | Content::List { .. } | Content::Template(_) => Err(invalid(
            "kind",
            format!(
                "a contact cannot send a {} message; it is what a business sends",
                parsed.kind()
            ),
        )),
        _ => Ok(parsed),
    }
}

fn required_string(
    fields: &Map<String, Value>,
    field: &'static str,
) -> Result<String, InboundRequestError> {
    optional_string(fields, field)?.ok_or(InboundRequestError::MissingField(field))
}

fn optional_string(
    fields: &Map<String, Value>,
    field: &'static str,
) -> Result<Option<String>, InboundRequestError> {
    match fields.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(value)) => Ok(Some(value.clone())),
        Some(_) => Err(InboundRequestError::WrongType {
            field,
            expected: "a string",
        }),
    }
}

/// Returns the token of an `Authorization: Bearer <token>` header value.
pub fn bearer_token(authorization: Option<&str>) -> Option<&str> {
    let authorization = authorization?.trim();
    let (scheme, token) = authorization.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let token = token.trim();
    (!token.is_empty()).then_some(token)
}

/// Compares two secrets in time that depends only on their lengths.
pub fn secrets_match(given: &str, expected: &str) -> bool {
    let given = given.as_bytes();
    let expected = expected.as_bytes();
    if given.len() != expected.len() {
        return false;
    }
    given
        .iter()
        .zip(expected)
        .fold(0_u8, |difference, (left, right)| {
            difference | (left ^ right)
        })
        == 0
}

/// Builds the router.
pub fn router(state: Arc<ApiState>) -> Router {
    let simulator_protected = Router::new()
        .route(
            "/simulator/inbound",
            post(post_simulator_inbound)
                .layer(DefaultBodyLimit::max(MAXIMUM_SIMULATOR_INBOUND_BODY_BYTES)),
        )
        .route(
            "/simulator/numbers/{phone_number}/script",
            post(post_simulator_script),
        )
        .route(
            "/simulator/numbers/{phone_number}/events",
            post(post_simulator_event),
        )
        .route(
            "/simulator/numbers/{phone_number}/receipts",
            post(post_simulator_receipt),
        )
        .route(
            "/simulator/numbers/{phone_number}/pair",
            post(post_simulator_pair),
        )
        .merge(
            Router::new()
                .route("/simulator/media", post(post_simulator_media))
                .layer(DefaultBodyLimit::max(MAXIMUM_SIMULATOR_MEDIA_BYTES)),
        );
    let mut protected = Router::new()
        .route("/numbers/{number_id}/session", get(get_session))
        .route(
            "/numbers/{number_id}/session/{action}",
            post(post_session_action),
        );
    let mut open = Router::new()
        .route("/status", get(get_status))
        .route("/metrics", get(get_metrics))
        .route("/openapi.json", get(get_openapi));
    // Off outside the local stack unless WABOT_SIMULATOR=on: the simulator's
    // endpoints then answer 404 like any unknown path.
    if state.simulator_enabled {
        protected = protected.merge(simulator_protected);
        open = open
            .route("/simulator/transcript", get(get_simulator_transcript))
            .route("/simulator/numbers/{phone_number}", get(get_simulator_line))
            .route("/simulator/media/{media_id}", get(get_simulator_media));
    }
    let protected = protected
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            require_bearer_token,
        ))
        .layer(DefaultBodyLimit::max(MAXIMUM_REQUEST_BODY_BYTES));
    let webhook = Router::new()
        .route(
            "/cloud/webhook",
            get(get_cloud_webhook).post(post_cloud_webhook),
        )
        .layer(DefaultBodyLimit::max(MAXIMUM_WEBHOOK_BODY_BYTES));
    open.merge(protected)
        .merge(webhook)
        .layer(DefaultBodyLimit::max(MAXIMUM_REQUEST_BODY_BYTES))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
}

async fn require_bearer_token(
    State(state): State<Arc<ApiState>>,
    request: Request,
    next: Next,
) -> Response {
    let authorization = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok());
    match bearer_token(authorization) {
        None => ApiError::new(
            StatusCode::UNAUTHORIZED,
            "missing bearer token: send Authorization: Bearer <WABOT_DAEMON_TOKEN>",
        )
        .into_response(),
        Some(token) if !secrets_match(token, &state.daemon_token) => {
            ApiError::new(StatusCode::UNAUTHORIZED, "invalid bearer token").into_response()
        }
        Some(_) => next.run(request).await,
    }
}

/// The body of `GET /status`.
#[derive(Debug, Serialize)]
struct StatusBody {
    version: &'static str,
    instance_id: String,
    uptime_seconds: u64,
    database: Value,
    relay: &'static str,
    sessions: SessionsBody,
}

#[derive(Debug, Serialize)]
struct SessionsBody {
    total: usize,
    by_state: BTreeMap<&'static str, usize>,
    by_transport: BTreeMap<&'static str, usize>,
}

async fn get_status(State(state): State<Arc<ApiState>>) -> Response {
    let (status, database) = match check_reachable(&state.control_pool).await {
        Ok(()) => (StatusCode::OK, json!({ "reachable": true })),
        Err(error) => (
            StatusCode::SERVICE_UNAVAILABLE,
            json!({ "reachable": false, "error": error.to_string() }),
        ),
    };
    let body = StatusBody {
        version: env!("CARGO_PKG_VERSION"),
        instance_id: state.instance_id.clone(),
        uptime_seconds: state.started_at.elapsed().as_secs(),
        database,
        relay: state.relay_mode.as_str(),
        sessions: SessionsBody {
            total: state.registry.n_sessions(),
            by_state: state.registry.count_by_state(),
            by_transport: state.registry.count_by_transport(),
        },
    };
    (status, Json(body)).into_response()
}

/// Answers from memory only: the database gauges come from the last sample
/// of [`run_gauge_sampler`], so `/metrics` answers at once even when every
/// connection of the pool is busy or the database is gone.
async fn get_metrics(State(state): State<Arc<ApiState>>) -> Response {
    let sample = state.metrics.fresh_database_sample();
    let outbound_queue_depth = sample.map(|sample| sample.outbound_queue_depth);
    let outbox_lag_seconds = sample.map(|sample| sample.outbox_lag_seconds);
    let gauges = Gauges {
        sessions_by_state: state.registry.count_by_state().into_iter().collect(),
        sessions_by_transport: state.registry.count_by_transport().into_iter().collect(),
        leases_held: state.registry.n_sessions(),
        outbound_queue_depth,
        outbox_lag_seconds,
    };
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        state.metrics.render(&gauges),
    )
        .into_response()
}

/// How often [`run_gauge_sampler`] reads the database gauges.
pub const GAUGE_SAMPLE_INTERVAL: Duration = Duration::from_secs(5);

/// Reads the database gauges of `/metrics` (outbound queue depth, outbox
/// lag) every `interval` into `metrics`, off the request path, until
/// `shutdown` turns true.
pub async fn run_gauge_sampler(
    pool: DatabasePool,
    instance_id: String,
    metrics: Arc<Metrics>,
    interval: Duration,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        let database = async {
            let client = pool.get().await?;
            let depth = store::outbound_queue_depth(&client, &instance_id).await?;
            let lag = store::outbox_lag_seconds(&client).await?;
            Ok::<(i64, f64), DatabaseError>((depth, lag))
        };
        match tokio::time::timeout(METRICS_QUERY_TIMEOUT, database).await {
            Ok(Ok((outbound_queue_depth, outbox_lag_seconds))) => {
                metrics.record_database_sample(DatabaseSample {
                    outbound_queue_depth,
                    outbox_lag_seconds,
                    taken_at: Instant::now(),
                });
            }
            Ok(Err(error)) => tracing::debug!("could not sample the metrics' gauges: {error}"),
            Err(_) => tracing::debug!("sampling the metrics' gauges timed out"),
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = shutdown.changed() => return,
        }
    }
}

async fn get_openapi() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        OPENAPI_DOCUMENT,
    )
        .into_response()
}

async fn post_simulator_inbound(
    State(state): State<Arc<ApiState>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<SimulatedSendOutcome>), ApiError> {
    let body = body.map_err(body_rejection)?;
    let too_large = || ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "request body is too large");
    // Only a well-formed message with inline media earns the larger limit;
    // any other body, readable or not, keeps the API's.
    let message = parse_inbound_request(&body).map_err(|error| {
        if body.len() > MAXIMUM_REQUEST_BODY_BYTES {
            too_large()
        } else {
            ApiError::new(StatusCode::BAD_REQUEST, error.to_string())
        }
    })?;
    if message.media_bytes.is_none() && body.len() > MAXIMUM_REQUEST_BODY_BYTES {
        return Err(too_large());
    }
    let outcome = state.simulator.contact_sends(message).await?;
    Ok((StatusCode::ACCEPTED, Json(outcome)))
}

fn body_rejection(rejection: BytesRejection) -> ApiError {
    let status = rejection.status();
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::new(status, "request body is too large");
    }
    ApiError::new(status, rejection.body_text())
}

/// Reads a JSON body into `T`, with a 400 naming the problem.
fn json_body<T: serde::de::DeserializeOwned>(
    body: Result<Bytes, BytesRejection>,
) -> Result<T, ApiError> {
    let body = body.map_err(body_rejection)?;
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        &body
    };
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let error = error.into_inner();
        let message = if path == "." {
            format!("invalid body: {error}")
        } else {
            format!("invalid body at `{path}`: {error}")
        };
        ApiError::new(StatusCode::BAD_REQUEST, message)
    })?;
    deserializer.end().map_err(|error| {
        ApiError::new(StatusCode::BAD_REQUEST, format!("invalid body: {error}"))
    })?;
    Ok(value)
}

/// The query of `GET /simulator/transcript`.
#[derive(Debug, Deserialize)]
struct TranscriptQuery {
    to: Option<String>,
    from: Option<String>,
    after: Option<String>,
}

/// The body of `GET /simulator/transcript`.
#[derive(Debug, Serialize)]
struct TranscriptBody {
    messages: Vec<TranscriptEntry>,
}

async fn get_simulator_transcript(
    State(state): State<Arc<ApiState>>,
    query: Result<Query<TranscriptQuery>, QueryRejection>,
) -> Result<Json<TranscriptBody>, ApiError> {
    let Query(query) =
        query.map_err(|rejection| ApiError::new(StatusCode::BAD_REQUEST, rejection.body_text()))?;
    let to = query_phone_number(query.to, "to")?;
    let from = query_phone_number(query.from, "from")?;
    let after = match query.after.as_deref().map(str::trim) {
        None | Some("") => 0,
        Some(after) => after.parse::<u64>().map_err(|_| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("query parameter \"after\" must be a whole number, got {after:?}"),
            )
        })?,
    };
    let messages = state.simulator.transcript(&to, &from, after)?;
    Ok(Json(TranscriptBody { messages }))
}

fn query_phone_number(value: Option<String>, parameter: &str) -> Result<String, ApiError> {
    let value = value.ok_or_else(|| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("missing query parameter \"{parameter}\""),
        )
    })?;
    let phone_number = repair_query_phone_number(&value);
    validate_e164(&phone_number).map_err(|error| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("query parameter \"{parameter}\": {error}"),
        )
    })?;
    Ok(phone_number)
}

fn path_phone_number(value: &str) -> Result<String, ApiError> {
    let phone_number = repair_query_phone_number(value);
    validate_e164(&phone_number).map_err(|error| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("path segment \"phone_number\": {error}"),
        )
    })?;
    Ok(phone_number)
}

/// A simulated contact uploads a media file: the body is the file, its
/// `Content-Type` the file's MIME type.
async fn post_simulator_media(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let body = body.map_err(body_rejection)?;
    let mime_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .map(str::trim)
        .filter(|value| value.contains('/') && (3..=255).contains(&value.len()))
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "header \"Content-Type\" must be the file's MIME type, such as image/jpeg or audio/ogg",
            )
        })?;
    if body.is_empty() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "the body must be the file's bytes; it is empty",
        ));
    }
    let bytes: Arc<[u8]> = Arc::from(body.as_ref());
    let sha256 = crate::transport::simulator_media::sha256_hex(&bytes);
    let size_bytes = bytes.len();
    let media_id = state.simulator.media().upload(bytes, mime_type);
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "media_id": media_id,
            "mime_type": mime_type,
            "size_bytes": size_bytes,
            "sha256": sha256,
        })),
    ))
}

/// The bytes of a file on the simulated WhatsApp.
async fn get_simulator_media(
    State(state): State<Arc<ApiState>>,
    Path(media_id): Path<String>,
) -> Result<Response, ApiError> {
    let file = state.simulator.media().get(&media_id).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no media {media_id:?} on the simulated whatsapp"),
        )
    })?;
    let content_type = HeaderValue::from_str(&file.mime_type)
        .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"));
    Ok(([(header::CONTENT_TYPE, content_type)], file.bytes.to_vec()).into_response())
}

async fn get_simulator_line(
    State(state): State<Arc<ApiState>>,
    Path(phone_number): Path<String>,
) -> Result<Response, ApiError> {
    let phone_number = path_phone_number(&phone_number)?;
    Ok(Json(state.simulator.line_view(&phone_number)?).into_response())
}

async fn post_simulator_script(
    State(state): State<Arc<ApiState>>,
    Path(phone_number): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let phone_number = path_phone_number(&phone_number)?;
    let change: SimulatorScriptChange = json_body(body)?;
    Ok(Json(state.simulator.change_script(&phone_number, &change)?).into_response())
}

async fn post_simulator_event(
    State(state): State<Arc<ApiState>>,
    Path(phone_number): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let phone_number = path_phone_number(&phone_number)?;
    let event: SimulatedConnectionEvent = json_body(body)?;
    let description = format!("{event:?}");
    state.simulator.emit(&phone_number, event).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "phone_number": phone_number, "emitted": description })),
    )
        .into_response())
}

/// The body of `POST /simulator/numbers/{phone}/receipts`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReceiptRequest {
    wa_message_id: String,
    status: String,
    #[serde(default)]
    error: Option<String>,
}

async fn post_simulator_receipt(
    State(state): State<Arc<ApiState>>,
    Path(phone_number): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let phone_number = path_phone_number(&phone_number)?;
    let request: ReceiptRequest = json_body(body)?;
    let status = request
        .status
        .parse::<ReceiptStatus>()
        .map_err(|error| ApiError::new(StatusCode::BAD_REQUEST, error))?;
    state
        .simulator
        .receipt(
            &phone_number,
            DeliveryReceipt {
                wa_message_id: request.wa_message_id.clone(),
                status,
                error: request.error,
            },
        )
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(
            json!({ "wa_message_id": request.wa_message_id, "status": status.as_message_status() }),
        ),
    )
        .into_response())
}

/// The body of `POST /simulator/numbers/{phone}/pair` (may be empty).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PairRequest {
    /// The phone number of the WhatsApp account that scanned the code, when
    /// it is not the line's own (to rehearse a refused pairing).
    #[serde(default)]
    linked_phone_number: Option<String>,
}

async fn post_simulator_pair(
    State(state): State<Arc<ApiState>>,
    Path(phone_number): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let phone_number = path_phone_number(&phone_number)?;
    let request: PairRequest = json_body(body)?;
    if let Some(linked) = &request.linked_phone_number {
        validate_e164(linked).map_err(|error| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("invalid body at `linked_phone_number`: {error}"),
            )
        })?;
    }
    state
        .simulator
        .pair(&phone_number, request.linked_phone_number.as_deref())
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "phone_number": phone_number, "paired": true })),
    )
        .into_response())
}

fn parse_number_id(number_id: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(number_id).map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("invalid number id {number_id:?}: expected a UUID"),
        )
    })
}

async fn get_session(
    State(state): State<Arc<ApiState>>,
    Path(number_id): Path<String>,
) -> Result<Response, ApiError> {
    let number_id = parse_number_id(&number_id)?;
    if let Some(session) = state.registry.session(number_id) {
        let status = session.status();
        let pacing = session.with_pacing(|pacing| pacing.state.clone());
        let now = now_ms();
        let body = json!({
            "number_id": number_id,
            "phone_number": session.phone_number,
            "transport": session.kind.as_str(),
            "held_by": state.instance_id,
            "held_here": true,
            "session_status": status.state.as_str(),
            "since": iso_time(status.since_ms),
            "transport_connected": status.transport_connected,
            "pairing": status.pairing.as_ref().map(|pairing| json!({
                "qr_code": pairing.qr_code,
                "qr_code_expires_at": pairing.qr_code_expires_at_ms.map(iso_time),
                "pair_code": pairing.pair_code,
                "pair_code_expires_at": pairing.pair_code_expires_at_ms.map(iso_time),
            })),
            "last_event": status.last_event.as_ref().map(|event| json!({
                "event": event.event,
                "reason": event.reason,
                "code": event.code,
                "at": iso_time(event.at_ms),
            })),
            "last_heartbeat_at": status.last_alive_ms.map(iso_time),
            "last_inbound_at": status.last_inbound_ms.map(iso_time),
            "last_send_success_at": status.last_send_success_ms.map(iso_time),
            "reconnect": {
                "attempts": status.reconnect_attempts,
                "next_attempt_at": status.reconnect_at_ms.map(iso_time),
            },
            "pacing": {
                "paused_until": pacing.paused_until_ms.filter(|until| *until > now).map(iso_time),
                "rate_limit_errors": pacing.rate_limit_errors,
                "new_contacts_today": pacing.new_contacts_sent,
                "state": pacing,
            },
        });
        return Ok(Json(body).into_response());
    }
    let client = state.pool.get().await.map_err(DatabaseError::from)?;
    let number = store::number_by_id(&client, number_id)
        .await?
        .ok_or(SessionError::UnknownNumber { number_id })?;
    Ok(Json(json!({
        "number_id": number_id,
        "phone_number": number.phone_number,
        "transport": number.transport,
        "held_by": number.lease_holder,
        "held_here": false,
        "session_status": number.session_status,
    }))
    .into_response())
}

/// The body of a session command's answer.
#[derive(Debug, Serialize)]
struct SessionActionBody {
    number_id: Uuid,
    action: &'static str,
    session_status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    command_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    held_by: Option<String>,
}

async fn post_session_action(
    State(state): State<Arc<ApiState>>,
    Path((number_id, action)): Path<(String, String)>,
) -> Result<(StatusCode, Json<SessionActionBody>), ApiError> {
    let number_id = parse_number_id(&number_id)?;
    let action: SessionAction =
        action
            .parse()
            .map_err(|error: crate::sessions::UnknownSessionAction| {
                ApiError::new(StatusCode::NOT_FOUND, error.to_string())
            })?;
    if state.registry.session(number_id).is_some() {
        let reason = format!("{} requested through the daemon api", action.as_str());
        let session_status = state.registry.perform(number_id, action, reason).await?;
        return Ok((
            StatusCode::ACCEPTED,
            Json(SessionActionBody {
                number_id,
                action: action.as_str(),
                session_status: session_status.as_str().to_owned(),
                command_id: None,
                held_by: None,
            }),
        ));
    }
    // Not held here: hand the command to whichever daemon holds the number.
    let client = state.pool.get().await.map_err(DatabaseError::from)?;
    let number = store::number_by_id(&client, number_id)
        .await?
        .ok_or(SessionError::UnknownNumber { number_id })?;
    let command_id = store::insert_session_command(&client, number_id, action.as_str()).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(SessionActionBody {
            number_id,
            action: action.as_str(),
            session_status: number.session_status,
            command_id: Some(command_id),
            held_by: number.lease_holder,
        }),
    ))
}

/// The query of Meta's verification handshake.
#[derive(Debug, Deserialize)]
struct VerificationQuery {
    #[serde(rename = "hub.mode")]
    mode: Option<String>,
    #[serde(rename = "hub.verify_token")]
    verify_token: Option<String>,
    #[serde(rename = "hub.challenge")]
    challenge: Option<String>,
}

async fn get_cloud_webhook(
    State(state): State<Arc<ApiState>>,
    query: Result<Query<VerificationQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) =
        query.map_err(|rejection| ApiError::new(StatusCode::BAD_REQUEST, rejection.body_text()))?;
    let Some(expected) = state.cloud_verify_token.as_deref() else {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "WABOT_CLOUD_VERIFY_TOKEN is not set: the daemon does not answer webhook verifications",
        ));
    };
    let token_matches = query
        .verify_token
        .as_deref()
        .is_some_and(|token| secrets_match(token, expected));
    match (query.mode.as_deref(), token_matches, query.challenge) {
        (Some("subscribe"), true, Some(challenge)) => Ok((
            [(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"))],
            challenge,
        )
            .into_response()),
        _ => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "verification refused: hub.mode must be subscribe and hub.verify_token must match",
        )),
    }
}

async fn post_cloud_webhook(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let Some(app_secret) = state.cloud_app_secret.as_deref() else {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "WABOT_CLOUD_APP_SECRET is not set: the daemon cannot check webhook signatures",
        ));
    };
    let body = body.map_err(body_rejection)?;
    let signature = headers
        .get(SIGNATURE_HEADER)
        .and_then(|value| value.to_str().ok());
    if !signature_is_valid(app_secret, signature, &body) {
        tracing::warn!("refused a cloud api webhook delivery with a missing or invalid signature");
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid or missing X-Hub-Signature-256",
        ));
    }
    let changes = parse_webhook(&body)
        .map_err(|error| ApiError::new(StatusCode::BAD_REQUEST, error.to_string()))?;
    let mut client = state.pool.get().await.map_err(DatabaseError::from)?;
    let mut n_messages = 0;
    let mut n_statuses = 0;
    let mut unknown = Vec::new();
    for change in changes {
        let cached = state
            .cloud_numbers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&change.phone_number_id)
            .copied();
        let number_id = match cached {
            Some(number_id) => number_id,
            None => match store::cloud_number_by_phone_number_id(&client, &change.phone_number_id)
                .await?
            {
                Some(number_id) => {
                    state
                        .cloud_numbers
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .insert(change.phone_number_id.clone(), number_id);
                    number_id
                }
                None => {
                    tracing::warn!(phone_number_id = %change.phone_number_id, "a cloud api webhook names a phone number id no cloud number has");
                    unknown.push(change.phone_number_id);
                    continue;
                }
            },
        };
        if !change.messages.is_empty() {
            let stored =
                store::store_inbound_messages(&mut client, number_id, &change.messages).await?;
            let n_new = stored.iter().filter(|stored| !stored.duplicate).count();
            state.metrics.messages_inbound.fetch_add(
                u64::try_from(n_new).unwrap_or(0),
                std::sync::atomic::Ordering::Relaxed,
            );
            n_messages += stored.len();
            if let Some(session) = state.registry.session(number_id) {
                session.note_inbound(now_ms());
            }
            tracing::info!(%number_id, n_messages = stored.len(), n_new, "stored cloud api messages");
        }
        for receipt in &change.receipts {
            store::apply_receipt(&client, number_id, receipt).await?;
            n_statuses += 1;
        }
    }
    // Template status updates name a template, not a number.
    let n_templates = crate::cloud_templates::apply_template_changes(&client, &body).await?;
    Ok(Json(json!({
        "messages": n_messages,
        "statuses": n_statuses,
        "templates": n_templates,
        "unknown_phone_number_ids": unknown,
    }))
    .into_response())
}

async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        format!("no such endpoint: {method} {}", uri.path()),
    )
}

async fn method_not_allowed(method: Method, uri: Uri, _headers: HeaderMap) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("method {method} is not allowed on {}", uri.path()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str) -> Result<SimulatedMessage, InboundRequestError> {
        parse_inbound_request(body.as_bytes())
    }

    #[test]
    fn a_json_body_error_names_the_field_and_refuses_trailing_text() {
        let body = |text: &'static str| Ok(Bytes::from_static(text.as_bytes()));
        let error = json_body::<ReceiptRequest>(body(r#"{"wa_message_id": 1, "status": "read"}"#))
            .unwrap_err();
        assert_eq!(error.status, StatusCode::BAD_REQUEST);
        assert!(
            error
                .message
                .starts_with("invalid body at `wa_message_id`: invalid type: integer `1`"),
            "{}",
            error.message
        );
        let error =
            json_body::<ReceiptRequest>(body(r#"{"wa_message_id": "x", "status": "read"} x"#))
                .unwrap_err();
        assert!(
            error.message.contains("trailing characters"),
            "{}",
            error.message
        );
        let error = json_body::<ReceiptRequest>(body(r#"{"wa_message_id": "x""#)).unwrap_err();
        assert!(
            error.message.starts_with("invalid body"),
            "{}",
            error.message
        );
        let request =
            json_body::<ReceiptRequest>(body(r#"{"wa_message_id": "x", "status": "read"}"#))
                .unwrap();
        assert_eq!(request.wa_message_id, "x");
    }

    #[test]
    fn a_complete_request_parses() {
        let message = parse(
            r#"{"to": "+15550100001", "from": "+15550199999", "name": " Ada ", "text": "hi", "message_id": "ID-1"}"#,
        )
        .unwrap();
        assert_eq!(
            message,
            SimulatedMessage {
                to: "+15550100001".into(),
                from: "+15550199999".into(),
                from_lid: None,
                name: Some("Ada".into()),
                content: Content::text("hi"),
                context_wa_message_id: None,
                media_bytes: None,
                message_id: Some("ID-1".into()),
            }
        );
    }

    #[test]
    fn optional_fields_may_be_absent_or_null() {
        let message =
            parse(r#"{"to": "+15550100001", "from": "+15550199999", "name": null, "text": "hi"}"#)
                .unwrap();
        assert_eq!(message.name, None);
        assert_eq!(message.message_id, None);
    }

    #[test]
    fn every_error_names_the_bad_field() {
        let cases = [
            (r#"{"to": "#, "malformed JSON body"),
            (r#"[1]"#, "must be a JSON object"),
            (
                r#"{"from": "+15550199999", "text": "hi"}"#,
                "missing field \"to\"",
            ),
            (
                r#"{"to": "+15550100001", "text": "hi"}"#,
                "missing field \"from\"",
            ),
            (
                r#"{"to": "+15550100001", "from": "+15550199999"}"#,
                "missing field \"text\"",
            ),
            (
                r#"{"to": 5, "from": "+15550199999", "text": "hi"}"#,
                "field \"to\" must be a string",
            ),
            (
                r#"{"to": "15550100001", "from": "+15550199999", "text": "hi"}"#,
                "field \"to\": \"15550100001\" is not an E.164",
            ),
            (
                r#"{"to": "+15550100001", "from": "abc", "text": "hi"}"#,
                "field \"from\": \"abc\" is not an E.164",
            ),
            (
                r#"{"to": "+15550100001", "from": "+15550199999", "text": "  "}"#,
                "field \"text\" must not be empty",
            ),
            (
                r#"{"to": "+15550100001", "from": "+15550199999", "text": "hi", "message_id": ""}"#,
                "field \"message_id\" must not be empty",
            ),
            (
                r#"{"to": "+15550100001", "from": "+15550199999", "text": "hi", "name": 3}"#,
                "field \"name\" must be a string",
            ),
        ];
        for (body, expected) in cases {
            let error = parse(body).unwrap_err().to_string();
            assert!(error.contains(expected), "{body}: {error}");
        }
    }

    #[test]
    fn content_of_any_kind_parses_and_hostile_content_names_its_path() {
        let location = parse(
            r#"{"to": "+15550100001", "from": "+15550199999",
                "content": {"kind": "location", "latitude": 38.7223, "longitude": -9.1393},
                "context_wa_message_id": "SIM-1"}"#,
        )
        .unwrap();
        assert_eq!(location.content.kind(), "location");
        assert_eq!(location.context_wa_message_id.as_deref(), Some("SIM-1"));
        let picture = parse(
            r#"{"to": "+15550100001", "from": "+15550199999",
                "content": {"kind": "image", "mime_type": "image/png"}, "media_base64": "aGVsbG8="}"#,
        )
        .unwrap();
        assert_eq!(picture.media_bytes.as_deref(), Some(&b"hello"[..]));
        let cases = [
            (
                r#"{"to": "+15550100001", "from": "+15550199999", "text": "hi", "content": {"kind": "text", "text": "hi"}}"#,
                "give either \"text\" or \"content\"",
            ),
            (
                r#"{"to": "+15550100001", "from": "+15550199999", "content": {"kind": "location", "latitude": "north", "longitude": 0}}"#,
                "field \"content.latitude\": invalid type",
            ),
            (
                r#"{"to": "+15550100001", "from": "+15550199999", "content": {"kind": "location", "latitude": 91, "longitude": 0}}"#,
                "field \"content.latitude\": 91 is not between -90 and 90",
            ),
            (
                r#"{"to": "+15550100001", "from": "+15550199999", "content": {"kind": "contacts", "contacts": [{"name": {}}]}}"#,
                "field \"content.contacts[0].name\": missing field `formatted_name`",
            ),
            (
                r#"{"to": "+15550100001", "from": "+15550199999", "content": {"kind": "hologram"}}"#,
                "field \"content\": unknown variant `hologram`",
            ),
            (
                r#"{"to": "+15550100001", "from": "+15550199999", "content": {"text": "no kind"}}"#,
                "field \"content.kind\"",
            ),
            (
                r#"{"to": "+15550100001", "from": "+15550199999", "content": {"kind": "text", "text": " "}}"#,
                "field \"content.text\": must not be empty",
            ),
            (
                r#"{"to": "+15550100001", "from": "+15550199999", "content": {"kind": "template", "name": "x", "language": "en"}}"#,
                "field \"content.kind\": a contact cannot send a template message",
            ),
            (
                r#"{"to": "+15550100001", "from": "+15550199999", "text": "hi", "media_base64": "aGk="}"#,
                "field \"media_base64\": a text message carries no media",
            ),
            (
                r#"{"to": "+15550100001", "from": "+15550199999", "content": {"kind": "image"}, "media_base64": "%%%"}"#,
                "field \"media_base64\" is not base64",
            ),
        ];
        for (body, expected) in cases {
            let error = parse(body).unwrap_err().to_string();
            assert!(error.starts_with(expected), "{body}: {error}");
        }
    }

    #[test]
    fn long_ids_are_refused() {
        let body = format!(
            r#"{{"to": "+15550100001", "from": "+15550199999", "text": "hi", "message_id": "{}"}}"#,
            "x".repeat(201)
        );
        assert!(matches!(
            parse(&body),
            Err(InboundRequestError::TooLong {
                field: "message_id",
                ..
            })
        ));
    }

    #[test]
    fn bearer_tokens_are_read_from_the_header() {
        assert_eq!(bearer_token(Some("Bearer abc")), Some("abc"));
        assert_eq!(bearer_token(Some("bearer  abc ")), Some("abc"));
        assert_eq!(bearer_token(Some("Basic abc")), None);
        assert_eq!(bearer_token(Some("Bearer")), None);
        assert_eq!(bearer_token(Some("Bearer ")), None);
        assert_eq!(bearer_token(None), None);
    }

    #[test]
    fn secrets_must_match_exactly() {
        assert!(secrets_match("0123456789abcdef", "0123456789abcdef"));
        assert!(!secrets_match("0123456789abcdeF", "0123456789abcdef"));
        assert!(!secrets_match("0123456789abcde", "0123456789abcdef"));
    }

    #[test]
    fn the_openapi_document_lists_every_route_and_no_other() {
        let document: Value = serde_json::from_str(OPENAPI_DOCUMENT).expect("openapi.json is JSON");
        assert_eq!(document["openapi"], "3.1.0");
        let mut documented: Vec<(String, String)> = Vec::new();
        for (path, operations) in document["paths"].as_object().expect("paths") {
            for method in operations.as_object().expect("operations").keys() {
                documented.push((method.to_ascii_uppercase(), path.clone()));
            }
        }
        documented.sort();
        let mut routes: Vec<(String, String)> = ROUTES
            .iter()
            .map(|(method, path)| ((*method).to_owned(), (*path).to_owned()))
            .collect();
        routes.sort();
        assert_eq!(documented, routes);
    }

    /// Serves every route of [`ROUTES`] from the real router (with a
    /// database pool pointing nowhere) and checks that none falls through to
    /// the fallback.
    /// An API state whose pools point at `database_url`.
    fn test_state(database_url: &str, simulator_enabled: bool) -> Arc<ApiState> {
        let database = crate::database_tls::DatabaseConnector::from_url(
            database_url,
            &crate::database_tls::TlsSettings::default(),
        )
        .expect("a url");
        let pool = crate::database::build_pool(&database, None).expect("a pool");
        let context = Arc::new(crate::sessions::SessionContext {
            pool: pool.clone(),
            instance_id: "test".to_owned(),
            reconnect_policy: health::ReconnectPolicy::default(),
            health_thresholds: health::HealthThresholds::default(),
            pacing: crate::pacing::PacingPolicies::default(),
            metrics: Arc::new(Metrics::default()),
            outbound_wakeup: Arc::new(tokio::sync::Notify::new()),
        });
        Arc::new(ApiState {
            control_pool: pool.clone(),
            pool,
            registry: SessionRegistry::new(context),
            simulator: SimulatorNetwork::new(),
            instance_id: "test".to_owned(),
            relay_mode: RelayMode::Off,
            daemon_token: "0123456789abcdef".to_owned(),
            started_at: Instant::now(),
            metrics: Arc::new(Metrics::default()),
            cloud_app_secret: None,
            cloud_verify_token: None,
            cloud_numbers: Mutex::new(HashMap::new()),
            simulator_enabled,
        })
    }

    async fn answer(app: &Router, method: &str, uri: &str) -> (StatusCode, String) {
        use tower::ServiceExt;
        let request = axum::http::Request::builder()
            .method(method)
            .uri(uri)
            .body(axum::body::Body::from("{}"))
            .expect("a request");
        let response = app.clone().oneshot(request).await.expect("an answer");
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .expect("a body");
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test]
    async fn metrics_answer_from_memory_when_no_connection_can_be_had() {
        // A "database" that accepts connections and never answers: every
        // pool.get() hangs until its 5-second timeout, as when the workers
        // hold every connection.
        let blackhole = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a listener");
        let port = blackhole.local_addr().expect("an address").port();
        let held = tokio::spawn(async move {
            let mut sockets = Vec::new();
            while let Ok((socket, _)) = blackhole.accept().await {
                sockets.push(socket);
            }
        });
        let state = test_state(
            &format!("postgresql://postgres:postgres@127.0.0.1:{port}/postgres"),
            true,
        );
        state.metrics.record_database_sample(DatabaseSample {
            outbound_queue_depth: 7,
            outbox_lag_seconds: 1.5,
            taken_at: Instant::now(),
        });
        let app = router(state);
        let started = Instant::now();
        let (status, body) = answer(&app, "GET", "/metrics").await;
        let elapsed = started.elapsed();
        assert_eq!(status, StatusCode::OK);
        assert!(
            elapsed < Duration::from_millis(500),
            "/metrics took {elapsed:?}"
        );
        assert!(body.contains("wabot_outbound_queue_depth 7"), "{body}");
        held.abort();
    }

    #[tokio::test]
    async fn the_simulator_endpoints_exist_only_when_enabled() {
        let url = "postgresql://postgres:postgres@127.0.0.1:1/postgres";
        let off = router(test_state(url, false));
        let on = router(test_state(url, true));
        for (method, path) in ROUTES
            .iter()
            .filter(|(_, path)| path.starts_with("/simulator"))
        {
            let uri = path.replace("{phone_number}", "%2B15550100001");
            let (status, body) = answer(&off, method, &uri).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {body}");
            assert!(body.contains("no such endpoint"), "{method} {path}: {body}");
            let (_, body) = answer(&on, method, &uri).await;
            assert!(
                !body.contains("no such endpoint"),
                "{method} {path} when on: {body}"
            );
        }
        let (status, _) = answer(&off, "GET", "/metrics").await;
        assert_eq!(status, StatusCode::OK);
    }

    #[tokio::test]
    async fn the_router_serves_every_listed_route() {
        use axum::body::Body;
        use tower::ServiceExt;

        let app = router(test_state(
            "postgresql://postgres:postgres@127.0.0.1:1/postgres",
            true,
        ));
        for (method, path) in ROUTES {
            let uri = path
                .replace("{number_id}", "not-a-uuid")
                .replace("{phone_number}", "%2B15550100001");
            let request = axum::http::Request::builder()
                .method(*method)
                .uri(&uri)
                .body(Body::from("{}"))
                .expect("a request");
            let response = app.clone().oneshot(request).await.expect("an answer");
            let status = response.status();
            let body = axum::body::to_bytes(response.into_body(), 1 << 20)
                .await
                .expect("a body");
            let body = String::from_utf8_lossy(&body);
            assert!(
                !body.contains("no such endpoint") && status != StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path} is not routed: {status} {body}"
            );
        }
    }

    #[test]
    fn errors_are_json() {
        let response = ApiError::new(StatusCode::NOT_FOUND, "nope").into_response();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            response.headers().get(header::CONTENT_TYPE).unwrap(),
            "application/json"
        );
    }
}
