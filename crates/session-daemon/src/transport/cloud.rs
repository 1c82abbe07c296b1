//! The WhatsApp Cloud API transport: Meta's official API, over HTTP.
//!
//! A Cloud API number has no connection to hold: sending is a
//! `POST <WABOT_CLOUD_API_BASE_URL>/<phone-number-id>/messages` with a bearer
//! token, and inbound messages and delivery statuses reach the daemon's
//! webhook ([`crate::cloud_webhook`]). "Connecting" loads the number's
//! credentials from `session_credentials.credentials`:
//!
//! ```json
//! {"phone_number_id": "106540352242922", "access_token": "EAAG…"}
//! ```
//!
//! `access_token` may be left out when `WABOT_CLOUD_ACCESS_TOKEN` (a system
//! user's token, valid for every number of the business account) is set.
//!
//! # Errors
//!
//! The Graph API's error codes decide what happens to the message
//! ([`classify_graph_error`]):
//!
//! | code | meaning | outcome |
//! |---|---|---|
//! | 130429, 131048, 80007, 4, HTTP 429 | throughput or spam rate limit | the number pauses ([`TransportError::RateLimited`]) |
//! | 131056 | pair rate limit: too many messages to this contact | this contact waits six seconds ([`TransportError::ContactRateLimited`]) |
//! | 131047 | re-engagement: 24 hours passed since the contact last wrote; only a template reaches them | failed for good |
//! | 131026, 131051, 131021, 131009, 100, 131031, 368 | undeliverable, unsupported, invalid, locked or blocked | failed for good |
//! | anything else, 5xx, connection refused | transient | retried |
//! | a timeout after the request left | the message may have been sent | failed as ambiguous, never retried |

use std::sync::Mutex;
use std::time::Duration;

use futures_util::future::BoxFuture;
use serde_json::{json, Value};
use uuid::Uuid;

use super::{ConnectOutcome, Transport, TransportError, TransportKind};
use crate::database::{error_chain, DatabasePool};
use crate::store;

/// The default base URL of the Graph API, version included.
pub const DEFAULT_CLOUD_API_BASE_URL: &str = "https://graph.facebook.com/v21.0";

/// How long to wait before writing to a contact again after the pair rate
/// limit (131056): about one message per six seconds to one user.
pub const PAIR_RATE_RETRY_AFTER_MS: i64 = 6_000;

/// A Cloud API number's credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloudCredentials {
    /// The Graph API's id of the phone number.
    pub phone_number_id: String,
    /// The bearer token.
    pub access_token: String,
}

impl CloudCredentials {
    /// Reads the credentials from `session_credentials.credentials`, falling
    /// back to `default_access_token` for the token.
    pub fn from_json(
        credentials: &Value,
        default_access_token: Option<&str>,
    ) -> Result<Self, String> {
        let phone_number_id = credentials
            .get("phone_number_id")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|id| !id.is_empty())
            .ok_or_else(|| {
                "session_credentials.credentials has no \"phone_number_id\" for this cloud number"
                    .to_owned()
            })?;
        let access_token = credentials
            .get("access_token")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|token| !token.is_empty())
            .or(default_access_token)
            .ok_or_else(|| {
                "no access token: set \"access_token\" in session_credentials.credentials or WABOT_CLOUD_ACCESS_TOKEN"
                    .to_owned()
            })?;
        Ok(CloudCredentials {
            phone_number_id: phone_number_id.to_owned(),
            access_token: access_token.to_owned(),
        })
    }
}

/// What the Cloud transports of one daemon share.
#[derive(Debug, Clone)]
pub struct CloudSettings {
    /// The HTTP client (with the send timeout).
    pub http: reqwest::Client,
    /// The Graph API's base URL, version included, without a trailing slash.
    pub base_url: String,
    /// The token used when a number's credentials have none.
    pub default_access_token: Option<String>,
}

/// One Cloud API number.
#[derive(Debug)]
pub struct CloudTransport {
    settings: CloudSettings,
    pool: DatabasePool,
    number_id: Uuid,
    credentials: Mutex<Option<CloudCredentials>>,
}

impl CloudTransport {
    /// Creates the transport of a number; its credentials are read at
    /// connect.
    pub fn new(settings: CloudSettings, pool: DatabasePool, number_id: Uuid) -> Self {
        CloudTransport {
            settings,
            pool,
            number_id,
            credentials: Mutex::new(None),
        }
    }

    fn credentials(&self) -> Option<CloudCredentials> {
        self.credentials
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    async fn post_text(&self, contact_wa_id: &str, text: &str) -> Result<String, TransportError> {
        let credentials = self.credentials().ok_or(TransportError::NotConnected)?;
        let url = format!(
            "{}/{}/messages",
            self.settings.base_url, credentials.phone_number_id
        );
        let recipient = contact_wa_id.trim_start_matches('+');
        let body = json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": recipient,
            "type": "text",
            "text": { "preview_url": false, "body": text },
        });
        let response = self
            .settings
            .http
            .post(&url)
            .bearer_auth(&credentials.access_token)
            .json(&body)
            .send()
            .await
            .map_err(|error| classify_request_error(&error))?;
        let status = response.status().as_u16();
        let text = response
            .text()
            .await
            .map_err(|error| TransportError::Ambiguous {
                reason: format!(
                    "reading the graph api's answer failed: {}",
                    error_chain(&error)
                ),
            })?;
        let answer: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if (200..300).contains(&status) {
            return answer
                .pointer("/messages/0/id")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| TransportError::Ambiguous {
                    reason: format!("the graph api answered {status} without a message id"),
                });
        }
        Err(classify_graph_error(status, &answer))
    }
}

/// Classifies a request that got no answer: refused before it left
/// (retried), or timed out after it left (ambiguous).
fn classify_request_error(error: &reqwest::Error) -> TransportError {
    let reason = format!("request to the graph api failed: {}", error_chain(error));
    if error.is_connect() || error.is_builder() {
        TransportError::Failed { reason }
    } else {
        TransportError::Ambiguous { reason }
    }
}

/// Classifies an error answer of the Graph API (`{"error": {"code", …}}`)
/// with its HTTP status; see the module documentation.
pub fn classify_graph_error(status: u16, answer: &Value) -> TransportError {
    let error = answer.get("error");
    let code = error
        .and_then(|error| error.get("code"))
        .and_then(Value::as_i64);
    let message = error
        .and_then(|error| error.get("message"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let details = error
        .and_then(|error| error.pointer("/error_data/details"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let describe = |what: &str| {
        let mut reason = match code {
            Some(code) => format!("{what} ({code}, HTTP {status})"),
            None => format!("{what} (HTTP {status})"),
        };
        for part in [message, details] {
            if !part.is_empty() {
                reason.push_str(": ");
                reason.push_str(part);
            }
        }
        reason
    };
    match code {
        Some(130429 | 131048 | 80007 | 4) => TransportError::RateLimited {
            reason: describe("cloud api rate limit"),
            until_ms: None,
        },
        Some(131056) => TransportError::ContactRateLimited {
            reason: describe("pair rate limit: too many messages to this contact"),
            retry_after_ms: PAIR_RATE_RETRY_AFTER_MS,
        },
        Some(131047) => TransportError::Rejected {
            reason: describe(
                "re-engagement window closed: more than 24 hours since the contact last wrote, only a template message can reach them",
            ),
        },
        Some(131026 | 131051 | 131021 | 131009 | 100 | 131031 | 368 | 131045) => {
            TransportError::Rejected {
                reason: describe("the cloud api refused the message"),
            }
        }
        _ if status == 429 => TransportError::RateLimited {
            reason: describe("cloud api rate limit"),
            until_ms: None,
        },
        _ => TransportError::Failed {
            reason: describe("the cloud api failed"),
        },
    }
}

impl Transport for CloudTransport {
    fn kind(&self) -> TransportKind {
        TransportKind::Cloud
    }

    fn connect(&self) -> BoxFuture<'_, Result<ConnectOutcome, TransportError>> {
        Box::pin(async move {
            let credentials = async {
                let client = self.pool.get().await.map_err(|error| error.to_string())?;
                store::load_session_credentials(&client, self.number_id)
                    .await
                    .map_err(|error| error.to_string())
            }
            .await
            .map_err(|reason| TransportError::Failed {
                reason: format!("could not read the cloud credentials: {reason}"),
            })?;
            let credentials = CloudCredentials::from_json(
                &credentials.unwrap_or(Value::Null),
                self.settings.default_access_token.as_deref(),
            )
            .map_err(|reason| TransportError::Failed { reason })?;
            *self
                .credentials
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(credentials);
            Ok(ConnectOutcome::Connected)
        })
    }

    fn send_text<'a>(
        &'a self,
        contact_wa_id: &'a str,
        text: &'a str,
    ) -> BoxFuture<'a, Result<String, TransportError>> {
        Box::pin(self.post_text(contact_wa_id, text))
    }

    fn download_media<'a>(
        &'a self,
        media: &'a super::Media,
    ) -> BoxFuture<'a, Result<super::DownloadedMedia, TransportError>> {
        Box::pin(async move {
            let credentials = self.credentials().ok_or(TransportError::NotConnected)?;
            super::cloud_media::download_cloud_media(
                &self.settings.http,
                &self.settings.base_url,
                &credentials.access_token,
                media,
            )
            .await
        })
    }

    fn disconnect(&self) -> BoxFuture<'_, Result<(), TransportError>> {
        Box::pin(async move {
            *self
                .credentials
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
            Ok(())
        })
    }
}

/// Builds the HTTP client of the Cloud transports.
pub fn build_http_client(send_timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .timeout(send_timeout)
        .user_agent(concat!("wabot-session-daemon/", env!("CARGO_PKG_VERSION")))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph_error(code: i64) -> Value {
        json!({"error": {"message": "(#x) something", "type": "OAuthException", "code": code,
                         "error_data": {"messaging_product": "whatsapp", "details": "more"},
                         "fbtrace_id": "Az8or2yhqkZfEZ-_4Qn_Bam"}})
    }

    #[test]
    fn throughput_errors_pause_the_number() {
        for code in [130429, 131048, 80007] {
            assert!(
                matches!(
                    classify_graph_error(400, &graph_error(code)),
                    TransportError::RateLimited { .. }
                ),
                "{code}"
            );
        }
        assert!(matches!(
            classify_graph_error(429, &Value::Null),
            TransportError::RateLimited { .. }
        ));
    }

    #[test]
    fn the_pair_rate_limit_holds_one_contact() {
        assert_eq!(
            classify_graph_error(400, &graph_error(131056)),
            TransportError::ContactRateLimited {
                reason: "pair rate limit: too many messages to this contact (131056, HTTP 400): (#x) something: more".to_owned(),
                retry_after_ms: PAIR_RATE_RETRY_AFTER_MS,
            }
        );
    }

    #[test]
    fn the_re_engagement_window_fails_the_message_for_good() {
        let error = classify_graph_error(400, &graph_error(131047));
        assert!(matches!(error, TransportError::Rejected { .. }), "{error}");
        assert!(error.to_string().contains("24 hours"), "{error}");
    }

    #[test]
    fn other_errors_are_retried() {
        assert!(matches!(
            classify_graph_error(500, &graph_error(131000)),
            TransportError::Failed { .. }
        ));
        assert!(matches!(
            classify_graph_error(502, &Value::Null),
            TransportError::Failed { .. }
        ));
    }

    #[test]
    fn credentials_need_a_phone_number_id_and_a_token() {
        let credentials = CloudCredentials::from_json(
            &json!({"phone_number_id": "106540352242922"}),
            Some("system-user-token"),
        )
        .unwrap();
        assert_eq!(credentials.access_token, "system-user-token");
        let own = CloudCredentials::from_json(
            &json!({"phone_number_id": "1", "access_token": "own"}),
            Some("system-user-token"),
        )
        .unwrap();
        assert_eq!(own.access_token, "own");
        assert!(CloudCredentials::from_json(&json!({"phone_number_id": "1"}), None).is_err());
        assert!(CloudCredentials::from_json(&json!({}), Some("t")).is_err());
    }
}
