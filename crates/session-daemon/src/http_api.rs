//! The daemon's HTTP API.
//!
//! | method and path | auth | answer |
//! |---|---|---|
//! | `GET /status` | none | 200, or 503 when the database is unreachable |
//! | `POST /simulator/inbound` | bearer | 202 `{"wa_message_id", "duplicate"}` |
//! | `GET /simulator/transcript?to=&from=&after=` | none | 200 `{"messages": [...]}` |
//! | `POST /numbers/{id}/session/{start,stop,restart}` | bearer | 202 `{"number_id", "action", "session_status"}` |
//!
//! Every error is JSON `{"error": "<message>"}`. POST endpoints need
//! `Authorization: Bearer <WABOT_DAEMON_TOKEN>` (401 otherwise), and request
//! bodies are limited to [`MAXIMUM_REQUEST_BODY_BYTES`] (413 beyond).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::config::RelayMode;
use crate::database::{check_reachable, DatabasePool};
use crate::phone::{repair_query_phone_number, validate_e164, InvalidPhoneNumber};
use crate::sessions::{SessionAction, SessionError, SessionRegistry};
use crate::transport::simulator::{
    SimulatedMessage, SimulatedSendOutcome, SimulatorError, SimulatorNetwork, TranscriptEntry,
};

/// The largest request body accepted, in bytes (64 KiB).
pub const MAXIMUM_REQUEST_BODY_BYTES: usize = 64 * 1024;

/// The longest WhatsApp message id accepted from a simulated contact.
pub const MAXIMUM_MESSAGE_ID_CHARACTERS: usize = 200;

/// The longest contact name accepted from a simulated contact.
pub const MAXIMUM_CONTACT_NAME_CHARACTERS: usize = 200;

/// What the handlers share.
pub struct ApiState {
    /// The database pool.
    pub pool: DatabasePool,
    /// The held sessions.
    pub registry: Arc<SessionRegistry>,
    /// The simulated WhatsApp.
    pub simulator: Arc<SimulatorNetwork>,
    /// The daemon's instance id.
    pub instance_id: String,
    /// Whether the daemon relays the outbox.
    pub relay_mode: RelayMode,
    /// The bearer token of the POST endpoints.
    pub daemon_token: String,
    /// When the daemon started.
    pub started_at: Instant,
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
            SimulatorError::NotConnected { .. } => StatusCode::CONFLICT,
            SimulatorError::StoreFailed { .. } | SimulatorError::StoreTimedOut(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
        };
        ApiError::new(status, error.to_string())
    }
}

impl From<SessionError> for ApiError {
    fn from(error: SessionError) -> Self {
        let status = match &error {
            SessionError::UnknownNumber { .. } => StatusCode::NOT_FOUND,
            SessionError::Transport { .. } => StatusCode::BAD_GATEWAY,
            SessionError::Database(_) => StatusCode::SERVICE_UNAVAILABLE,
        };
        ApiError::new(status, error.to_string())
    }
}

/// A malformed `POST /simulator/inbound` body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InboundRequestError {
    /// The body is not JSON.
    #[error("malformed JSON body: {0}")]
    MalformedJson(String),

    /// The body is JSON but not an object.
    #[error("the body must be a JSON object with the fields \"to\", \"from\" and \"text\"")]
    NotAnObject,

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
    let text = required_string(&fields, "text")?;
    if text.trim().is_empty() {
        return Err(InboundRequestError::EmptyField("text"));
    }

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

    Ok(SimulatedMessage {
        to,
        from,
        name,
        text,
        message_id,
    })
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
    let protected = Router::new()
        .route("/simulator/inbound", post(post_simulator_inbound))
        .route(
            "/numbers/{number_id}/session/{action}",
            post(post_session_action),
        )
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            require_bearer_token,
        ));
    Router::new()
        .route("/status", get(get_status))
        .route("/simulator/transcript", get(get_simulator_transcript))
        .merge(protected)
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
}

async fn get_status(State(state): State<Arc<ApiState>>) -> Response {
    let (status, database) = match check_reachable(&state.pool).await {
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
        },
    };
    (status, Json(body)).into_response()
}

async fn post_simulator_inbound(
    State(state): State<Arc<ApiState>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<SimulatedSendOutcome>), ApiError> {
    let body = body.map_err(body_rejection)?;
    let message = parse_inbound_request(&body)
        .map_err(|error| ApiError::new(StatusCode::BAD_REQUEST, error.to_string()))?;
    let outcome = state.simulator.contact_sends(message).await?;
    Ok((StatusCode::ACCEPTED, Json(outcome)))
}

fn body_rejection(rejection: BytesRejection) -> ApiError {
    let status = rejection.status();
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::new(
            status,
            format!("request body is larger than {MAXIMUM_REQUEST_BODY_BYTES} bytes"),
        );
    }
    ApiError::new(status, rejection.body_text())
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

/// The body of a session command's answer.
#[derive(Debug, Serialize)]
struct SessionActionBody {
    number_id: Uuid,
    action: &'static str,
    session_status: &'static str,
}

async fn post_session_action(
    State(state): State<Arc<ApiState>>,
    Path((number_id, action)): Path<(String, String)>,
) -> Result<(StatusCode, Json<SessionActionBody>), ApiError> {
    let number_id = Uuid::parse_str(&number_id).map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("invalid number id {number_id:?}: expected a UUID"),
        )
    })?;
    let action: SessionAction =
        action
            .parse()
            .map_err(|error: crate::sessions::UnknownSessionAction| {
                ApiError::new(StatusCode::NOT_FOUND, error.to_string())
            })?;
    let session_status = state.registry.perform(number_id, action).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(SessionActionBody {
            number_id,
            action: action.as_str(),
            session_status: session_status.as_str(),
        }),
    ))
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
                name: Some("Ada".into()),
                text: "hi".into(),
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
    fn errors_are_json() {
        let response = ApiError::new(StatusCode::NOT_FOUND, "nope").into_response();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            response.headers().get(header::CONTENT_TYPE).unwrap(),
            "application/json"
        );
    }
}
