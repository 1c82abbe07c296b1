//! The WhatsApp Cloud API transport: Meta's official API, over HTTP.
//!
//! A Cloud API number has no connection to hold: sending is a
//! `POST <WABOT_CLOUD_API_BASE_URL>/<phone-number-id>/messages` with a bearer
//! token and the kind's documented body ([`message_body`]; media bytes from
//! the bucket are first uploaded to `/<phone-number-id>/media`), and inbound
//! messages and delivery statuses reach the daemon's
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

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::BoxFuture;
use serde_json::{json, Value};
use uuid::Uuid;

use message_model::{Media, SharedContact, Template, TemplateComponentType, TemplateParameter};

use super::{ConnectOutcome, Content, Outgoing, Transport, TransportError, TransportKind};
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

    async fn post_message(&self, outgoing: &Outgoing) -> Result<String, TransportError> {
        let credentials = self.credentials().ok_or(TransportError::NotConnected)?;
        // Refused before anything leaves: a kind the Cloud API cannot send.
        let mut body = message_body(outgoing, None)?;
        if let (Some(bytes), Some(media)) = (&outgoing.media_bytes, outgoing.content.media()) {
            let media_id = self
                .upload_media(&credentials, outgoing.content.kind(), media, bytes)
                .await?;
            body = message_body(outgoing, Some(&media_id))?;
        }
        let url = format!(
            "{}/{}/messages",
            self.settings.base_url, credentials.phone_number_id
        );
        let response = self
            .settings
            .http
            .post(&url)
            .bearer_auth(&credentials.access_token)
            .json(&body)
            .send()
            .await
            .map_err(|error| classify_request_error(&error))?;
        let (status, answer) = read_answer(response).await?;
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

    /// Uploads a media file (`POST /<phone-number-id>/media`, multipart
    /// `messaging_product`, `type` and `file`) and returns the Graph API's
    /// media id. Nothing has reached the contact yet, so every failure here
    /// may be retried or is refused, never ambiguous.
    async fn upload_media(
        &self,
        credentials: &CloudCredentials,
        kind: &str,
        media: &Media,
        bytes: &Arc<[u8]>,
    ) -> Result<String, TransportError> {
        let mime_type = media
            .mime_type
            .as_deref()
            .map(str::trim)
            .filter(|mime| !mime.is_empty())
            .ok_or_else(|| TransportError::Rejected {
                reason: format!(
                    "content.mime_type: the {kind}'s MIME type is needed to upload it to the cloud api"
                ),
            })?;
        let file_name = media
            .filename
            .clone()
            .unwrap_or_else(|| format!("{kind}{}", extension_for(mime_type)));
        let file = reqwest::multipart::Part::bytes(bytes.to_vec())
            .file_name(file_name)
            .mime_str(mime_type)
            .map_err(|error| TransportError::Rejected {
                reason: format!(
                    "content.mime_type: {mime_type:?} is not a MIME type: {}",
                    error_chain(&error)
                ),
            })?;
        let form = reqwest::multipart::Form::new()
            .text("messaging_product", "whatsapp")
            .text("type", mime_type.to_owned())
            .part("file", file);
        let url = format!(
            "{}/{}/media",
            self.settings.base_url, credentials.phone_number_id
        );
        let response = self
            .settings
            .http
            .post(&url)
            .bearer_auth(&credentials.access_token)
            .multipart(form)
            .send()
            .await
            .map_err(|error| TransportError::Failed {
                reason: format!(
                    "uploading the {kind} to the graph api failed: {}",
                    error_chain(&error)
                ),
            })?;
        let (status, answer) = read_answer(response).await.map_err(not_ambiguous)?;
        if (200..300).contains(&status) {
            return answer
                .get("id")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| TransportError::Failed {
                    reason: format!(
                        "the graph api answered the {kind} upload with {status} but no media id"
                    ),
                });
        }
        Err(not_ambiguous(classify_graph_error(status, &answer)))
    }
}

/// Reads an answer's status and JSON body (`null` when it is not JSON).
async fn read_answer(response: reqwest::Response) -> Result<(u16, Value), TransportError> {
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
    Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
}

/// An upload that failed sent nothing to the contact: what would be
/// ambiguous for a message is a retryable failure for an upload.
fn not_ambiguous(error: TransportError) -> TransportError {
    match error {
        TransportError::Ambiguous { reason } => TransportError::Failed { reason },
        other => other,
    }
}

/// The file name extension for an upload without a file name.
fn extension_for(mime_type: &str) -> &'static str {
    match message_model::limits::mime_essence(mime_type).as_str() {
        "image/jpeg" => ".jpg",
        "image/png" => ".png",
        "image/webp" => ".webp",
        "video/mp4" => ".mp4",
        "video/3gpp" => ".3gp",
        "audio/ogg" => ".ogg",
        "audio/mpeg" => ".mp3",
        "audio/mp4" => ".m4a",
        "audio/aac" => ".aac",
        "audio/amr" => ".amr",
        "application/pdf" => ".pdf",
        _ => "",
    }
}

/// Builds the Graph API's `POST /<phone-number-id>/messages` body for a
/// message, as Meta's messages reference documents it: `text` (with
/// `preview_url`), `image`/`video`/`audio`/`document`/`sticker` by `id` or
/// `link` (a voice note is `audio`, its OGG/Opus file rendering as a voice
/// message; `caption` for images, videos and documents, `filename` for
/// documents), `interactive` `button` and `list` (a text `header`, `body`,
/// `footer`), `location`, `reaction`, `contacts`, `template` (`name`,
/// `language.code`, `components` with typed `parameters`), and
/// `context.message_id` for a reply.
///
/// `uploaded_media_id` replaces the media's own `id`/`link` (the file was
/// just uploaded). A kind the Cloud API does not send (taps, system
/// notices, unknown) or media with nothing to send by is refused.
pub fn message_body(
    outgoing: &Outgoing,
    uploaded_media_id: Option<&str>,
) -> Result<Value, TransportError> {
    let refuse = |reason: String| TransportError::Rejected { reason };
    let (message_type, object) = match &outgoing.content {
        Content::Text { text, preview_url } => (
            "text",
            json!({ "preview_url": preview_url.unwrap_or(false), "body": text }),
        ),
        Content::Image(media)
        | Content::Video(media)
        | Content::Audio(media)
        | Content::Voice(media)
        | Content::Document(media)
        | Content::Sticker(media) => {
            let kind = outgoing.content.kind();
            let cloud_type = if kind == "voice" { "audio" } else { kind };
            let mut object = serde_json::Map::new();
            match (uploaded_media_id, &media.media_id, &media.url) {
                (Some(id), _, _) => {
                    object.insert("id".to_owned(), json!(id));
                }
                (None, Some(id), _) if outgoing.media_bytes.is_none() => {
                    object.insert("id".to_owned(), json!(id));
                }
                (None, _, Some(url)) if outgoing.media_bytes.is_none() => {
                    object.insert("link".to_owned(), json!(url));
                }
                // The bytes are there: the caller uploads them first.
                (None, _, _) if outgoing.media_bytes.is_some() => {}
                _ => {
                    return Err(refuse(format!(
                        "content: the {kind} has no media_id or url, and its bytes were not resolved from storage_key {:?}",
                        media.storage_key.as_deref().unwrap_or("")
                    )))
                }
            }
            if matches!(cloud_type, "image" | "video" | "document") {
                if let Some(caption) = &media.caption {
                    object.insert("caption".to_owned(), json!(caption));
                }
            }
            if cloud_type == "document" {
                if let Some(filename) = &media.filename {
                    object.insert("filename".to_owned(), json!(filename));
                }
            }
            (cloud_type, Value::Object(object))
        }
        Content::Location(location) => {
            let mut object = json!({
                "latitude": location.latitude,
                "longitude": location.longitude,
            });
            insert_some(&mut object, "name", location.name.as_deref());
            insert_some(&mut object, "address", location.address.as_deref());
            ("location", object)
        }
        Content::Contacts { contacts } => {
            let cards: Vec<Value> = contacts.iter().map(contact_card).collect();
            return Ok(envelope(outgoing, "contacts", Value::Array(cards)));
        }
        Content::Reaction { message_id, emoji } => (
            "reaction",
            json!({ "message_id": message_id, "emoji": emoji }),
        ),
        Content::Buttons {
            text,
            header,
            footer,
            buttons,
        } => {
            let buttons: Vec<Value> = buttons
                .iter()
                .map(|button| json!({"type": "reply", "reply": {"id": button.id, "title": button.title}}))
                .collect();
            (
                "interactive",
                interactive(
                    "button",
                    text,
                    header,
                    footer,
                    json!({ "buttons": buttons }),
                ),
            )
        }
        Content::List {
            text,
            header,
            footer,
            button,
            sections,
        } => {
            let sections: Vec<Value> = sections
                .iter()
                .map(|section| {
                    let rows: Vec<Value> = section
                        .rows
                        .iter()
                        .map(|row| {
                            let mut object = json!({"id": row.id, "title": row.title});
                            insert_some(&mut object, "description", row.description.as_deref());
                            object
                        })
                        .collect();
                    let mut object = json!({ "rows": rows });
                    insert_some(&mut object, "title", section.title.as_deref());
                    object
                })
                .collect();
            (
                "interactive",
                interactive(
                    "list",
                    text,
                    header,
                    footer,
                    json!({ "button": button, "sections": sections }),
                ),
            )
        }
        Content::Template(template) => ("template", template_object(template)),
        Content::ButtonReply { .. }
        | Content::ListReply { .. }
        | Content::System { .. }
        | Content::Unknown { .. } => {
            return Err(refuse(format!(
                "content.kind: a {} message is not something a business sends",
                outgoing.content.kind()
            )))
        }
    };
    Ok(envelope(outgoing, message_type, object))
}

/// The common part of every message body, with the kind's object under its
/// type's name and `context` for a reply.
fn envelope(outgoing: &Outgoing, message_type: &str, object: Value) -> Value {
    let mut body = json!({
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": outgoing.contact_wa_id.trim_start_matches('+'),
        "type": message_type,
    });
    if let Some(map) = body.as_object_mut() {
        if let Some(quoted) = &outgoing.context_wa_message_id {
            map.insert("context".to_owned(), json!({ "message_id": quoted }));
        }
        map.insert(message_type.to_owned(), object);
    }
    body
}

fn insert_some(object: &mut Value, key: &str, value: Option<&str>) {
    if let (Some(map), Some(value)) = (object.as_object_mut(), value) {
        map.insert(key.to_owned(), json!(value));
    }
}

fn interactive(
    interactive_type: &str,
    text: &str,
    header: &Option<String>,
    footer: &Option<String>,
    action: Value,
) -> Value {
    let mut object = json!({
        "type": interactive_type,
        "body": { "text": text },
        "action": action,
    });
    if let Some(map) = object.as_object_mut() {
        if let Some(header) = header {
            map.insert(
                "header".to_owned(),
                json!({ "type": "text", "text": header }),
            );
        }
        if let Some(footer) = footer {
            map.insert("footer".to_owned(), json!({ "text": footer }));
        }
    }
    object
}

/// A shared contact as the Graph API's `contacts[]` object.
fn contact_card(contact: &SharedContact) -> Value {
    let mut name = json!({ "formatted_name": contact.name.formatted_name });
    insert_some(&mut name, "first_name", contact.name.first_name.as_deref());
    insert_some(&mut name, "last_name", contact.name.last_name.as_deref());
    let mut card = json!({ "name": name });
    if let Some(map) = card.as_object_mut() {
        if !contact.phones.is_empty() {
            let phones: Vec<Value> = contact
                .phones
                .iter()
                .map(|phone| {
                    let mut object = json!({ "phone": phone.phone });
                    insert_some(&mut object, "type", phone.phone_type.as_deref());
                    insert_some(&mut object, "wa_id", phone.wa_id.as_deref());
                    object
                })
                .collect();
            map.insert("phones".to_owned(), Value::Array(phones));
        }
        if !contact.emails.is_empty() {
            let emails: Vec<Value> = contact
                .emails
                .iter()
                .map(|email| json!({ "email": email }))
                .collect();
            map.insert("emails".to_owned(), Value::Array(emails));
        }
        if let Some(organization) = &contact.organization {
            map.insert("org".to_owned(), json!({ "company": organization }));
        }
    }
    card
}

/// A template as the Graph API's `template` object: `name`,
/// `language.code`, and each component's `type`, `sub_type`, `index` (a
/// string, as in Meta's examples) and `parameters`.
fn template_object(template: &Template) -> Value {
    let components: Vec<Value> = template
        .components
        .iter()
        .map(|component| {
            let component_type = match component.component_type {
                TemplateComponentType::Header => "header",
                TemplateComponentType::Body => "body",
                TemplateComponentType::Button => "button",
            };
            let parameters: Vec<Value> = component
                .parameters
                .iter()
                .map(template_parameter)
                .collect();
            let mut object = json!({ "type": component_type, "parameters": parameters });
            insert_some(&mut object, "sub_type", component.sub_type.as_deref());
            if let (Some(map), Some(index)) = (object.as_object_mut(), component.index) {
                map.insert("index".to_owned(), json!(index.to_string()));
            }
            object
        })
        .collect();
    let mut object = json!({
        "name": template.name,
        "language": { "code": template.language },
    });
    if let (Some(map), false) = (object.as_object_mut(), components.is_empty()) {
        map.insert("components".to_owned(), Value::Array(components));
    }
    object
}

fn template_parameter(parameter: &TemplateParameter) -> Value {
    let media_object = |media: &Media| {
        let mut object = json!({});
        insert_some(&mut object, "id", media.media_id.as_deref());
        if media.media_id.is_none() {
            insert_some(&mut object, "link", media.url.as_deref());
        }
        if media.filename.is_some() {
            insert_some(&mut object, "filename", media.filename.as_deref());
        }
        object
    };
    match parameter {
        TemplateParameter::Text { text } => json!({ "type": "text", "text": text }),
        TemplateParameter::Currency {
            fallback_value,
            code,
            amount_1000,
        } => json!({
            "type": "currency",
            "currency": { "fallback_value": fallback_value, "code": code, "amount_1000": amount_1000 },
        }),
        TemplateParameter::DateTime { fallback_value } => json!({
            "type": "date_time",
            "date_time": { "fallback_value": fallback_value },
        }),
        TemplateParameter::Image { media } => {
            json!({ "type": "image", "image": media_object(media) })
        }
        TemplateParameter::Video { media } => {
            json!({ "type": "video", "video": media_object(media) })
        }
        TemplateParameter::Document { media } => {
            json!({ "type": "document", "document": media_object(media) })
        }
        TemplateParameter::Payload { payload } => json!({ "type": "payload", "payload": payload }),
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

    fn send<'a>(&'a self, outgoing: &'a Outgoing) -> BoxFuture<'a, Result<String, TransportError>> {
        Box::pin(self.post_message(outgoing))
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
    use std::sync::Mutex;

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

    // -----------------------------------------------------------------------
    // Outbound bodies, against a fake Graph API
    // -----------------------------------------------------------------------

    use message_model::{
        ContactName, ContactPhone, ListRow, ListSection, Location, ReplyButton, TemplateComponent,
    };

    /// One request the fake Graph API received: path, content type, body.
    type Received = Arc<Mutex<Vec<(String, String, Vec<u8>)>>>;

    /// A fake of the Graph API (named as a fake: Meta's servers cannot be
    /// reached here): `POST /v21.0/{id}/messages` answers a `wamid`,
    /// `POST /v21.0/{id}/media` answers a media id, and every request is
    /// kept for the test to compare with Meta's documented bodies.
    async fn spawn_fake_graph_api() -> (String, Received) {
        use axum::extract::{Path, State};
        use axum::http::HeaderMap;
        use axum::routing::post;

        async fn record(
            State(received): State<Received>,
            Path((phone_number_id, endpoint)): Path<(String, String)>,
            headers: HeaderMap,
            body: axum::body::Bytes,
        ) -> axum::Json<Value> {
            let content_type = headers
                .get("content-type")
                .and_then(|value| value.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            received.lock().expect("received").push((
                format!("/{phone_number_id}/{endpoint}"),
                content_type,
                body.to_vec(),
            ));
            axum::Json(if endpoint == "media" {
                json!({"id": "4490709327384033"})
            } else {
                json!({"messaging_product": "whatsapp",
                       "contacts": [{"input": "16505551234", "wa_id": "16505551234"}],
                       "messages": [{"id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3"}]})
            })
        }
        let received: Received = Arc::new(Mutex::new(Vec::new()));
        let app = axum::Router::new()
            .route("/v21.0/{phone_number_id}/{endpoint}", post(record))
            .with_state(received.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the fake graph api");
        let address = listener.local_addr().expect("its address");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        (format!("http://{address}/v21.0"), received)
    }

    fn connected_transport(base_url: String) -> CloudTransport {
        let database = crate::database_tls::DatabaseConnector::from_url(
            "postgres://nobody@127.0.0.1:1/none",
            &crate::database_tls::TlsSettings::default(),
        )
        .expect("a url");
        let pool = crate::database::build_pool(&database, None).expect("a pool");
        let settings = CloudSettings {
            http: build_http_client(Duration::from_secs(5)).expect("a client"),
            base_url,
            default_access_token: None,
        };
        let transport = CloudTransport::new(settings, pool, Uuid::new_v4());
        *transport.credentials.lock().expect("credentials") = Some(CloudCredentials {
            phone_number_id: "106540352242922".to_owned(),
            access_token: "token".to_owned(),
        });
        transport
    }

    fn to(content: Content) -> Outgoing {
        Outgoing::new("+16505551234", content)
    }

    /// Sends each message and returns the JSON bodies the fake received.
    async fn sent_bodies(messages: &[Outgoing]) -> Vec<Value> {
        let (base_url, received) = spawn_fake_graph_api().await;
        let transport = connected_transport(base_url);
        for message in messages {
            let id = transport.send(message).await.expect("sent");
            assert_eq!(id, "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3");
        }
        let received = received.lock().expect("received");
        received
            .iter()
            .map(|(path, content_type, body)| {
                assert_eq!(path, "/106540352242922/messages");
                assert!(
                    content_type.starts_with("application/json"),
                    "{content_type}"
                );
                serde_json::from_slice(body).expect("a JSON body")
            })
            .collect()
    }

    fn envelope_of(kind: &str, object: Value) -> Value {
        let mut body = json!({"messaging_product": "whatsapp", "recipient_type": "individual",
                              "to": "16505551234", "type": kind});
        body[kind] = object;
        body
    }

    #[tokio::test]
    async fn text_and_a_reply_go_as_meta_documents_them() {
        let mut reply = to(Content::Text {
            text: "Here is the link: https://example.com".into(),
            preview_url: Some(true),
        });
        reply.context_wa_message_id = Some("wamid.QUOTED".into());
        let bodies = sent_bodies(&[to(Content::text("Hello")), reply]).await;
        assert_eq!(
            bodies[0],
            envelope_of("text", json!({"preview_url": false, "body": "Hello"}))
        );
        let mut expected = envelope_of(
            "text",
            json!({"preview_url": true, "body": "Here is the link: https://example.com"}),
        );
        expected["context"] = json!({"message_id": "wamid.QUOTED"});
        assert_eq!(bodies[1], expected);
    }

    #[tokio::test]
    async fn media_goes_by_id_or_link_with_caption_and_file_name() {
        let bodies = sent_bodies(&[
            to(Content::Image(Media {
                media_id: Some("1479537139650973".into()),
                caption: Some("The best succulent ever?".into()),
                ..Media::default()
            })),
            to(Content::Image(Media {
                url: Some("https://example.com/images/succulent.png".into()),
                ..Media::default()
            })),
            to(Content::Video(Media {
                media_id: Some("1166846181421424".into()),
                caption: Some("A succulent eclipse!".into()),
                ..Media::default()
            })),
            to(Content::Audio(Media {
                media_id: Some("1013859600285441".into()),
                ..Media::default()
            })),
            to(Content::Voice(Media {
                url: Some("https://example.com/voice.ogg".into()),
                mime_type: Some("audio/ogg".into()),
                ..Media::default()
            })),
            to(Content::Document(Media {
                media_id: Some("1376223850470843".into()),
                caption: Some("Lucky Shrub Invoice".into()),
                filename: Some("order_abc123.pdf".into()),
                ..Media::default()
            })),
            to(Content::Sticker(Media {
                media_id: Some("798882015472548".into()),
                ..Media::default()
            })),
        ])
        .await;
        assert_eq!(
            bodies,
            vec![
                envelope_of(
                    "image",
                    json!({"id": "1479537139650973", "caption": "The best succulent ever?"})
                ),
                envelope_of(
                    "image",
                    json!({"link": "https://example.com/images/succulent.png"})
                ),
                envelope_of(
                    "video",
                    json!({"id": "1166846181421424", "caption": "A succulent eclipse!"})
                ),
                envelope_of("audio", json!({"id": "1013859600285441"})),
                envelope_of("audio", json!({"link": "https://example.com/voice.ogg"})),
                envelope_of(
                    "document",
                    json!({"id": "1376223850470843", "caption": "Lucky Shrub Invoice",
                           "filename": "order_abc123.pdf"})
                ),
                envelope_of("sticker", json!({"id": "798882015472548"})),
            ]
        );
    }

    #[tokio::test]
    async fn stored_media_bytes_are_uploaded_then_sent_by_the_new_id() {
        let (base_url, received) = spawn_fake_graph_api().await;
        let transport = connected_transport(base_url);
        let bytes: Arc<[u8]> = Arc::from(&b"\x89PNG\r\n\x1a\n fake picture bytes"[..]);
        let mut picture = to(Content::Image(Media {
            storage_key: Some("uploads/6f1c".into()),
            mime_type: Some("image/png".into()),
            caption: Some("Our shop".into()),
            ..Media::default()
        }));
        picture.media_bytes = Some(bytes.clone());
        transport.send(&picture).await.expect("sent");
        let received = received.lock().expect("received");
        assert_eq!(received.len(), 2, "an upload, then the message");
        let (path, content_type, body) = &received[0];
        assert_eq!(path, "/106540352242922/media");
        let boundary = content_type
            .strip_prefix("multipart/form-data; boundary=")
            .expect("a multipart body");
        let parts: Vec<&[u8]> = split_multipart(body, boundary.as_bytes());
        let part = |name: &str| {
            let header = format!("Content-Disposition: form-data; name=\"{name}\"");
            parts
                .iter()
                .find(|part| part.windows(header.len()).any(|w| w == header.as_bytes()))
                .copied()
                .unwrap_or_else(|| panic!("no {name} part"))
        };
        assert!(part("messaging_product").ends_with(b"\r\n\r\nwhatsapp\r\n"));
        assert!(part("type").ends_with(b"\r\n\r\nimage/png\r\n"));
        let file = part("file");
        let file_header = b"filename=\"image.png\"\r\nContent-Type: image/png\r\n\r\n";
        assert!(
            file.windows(file_header.len()).any(|w| w == file_header),
            "{}",
            String::from_utf8_lossy(file)
        );
        let mut expected_tail = bytes.to_vec();
        expected_tail.extend_from_slice(b"\r\n");
        assert!(
            file.ends_with(&expected_tail),
            "the file part carries the bytes"
        );
        let message: Value = serde_json::from_slice(&received[1].2).expect("JSON");
        assert_eq!(
            message,
            envelope_of(
                "image",
                json!({"id": "4490709327384033", "caption": "Our shop"})
            )
        );
    }

    fn split_multipart<'a>(body: &'a [u8], boundary: &[u8]) -> Vec<&'a [u8]> {
        let mut delimiter = b"--".to_vec();
        delimiter.extend_from_slice(boundary);
        let mut parts = Vec::new();
        let mut rest = body;
        while let Some(start) = rest.windows(delimiter.len()).position(|w| w == delimiter) {
            rest = &rest[start + delimiter.len()..];
            let end = rest
                .windows(delimiter.len())
                .position(|w| w == delimiter)
                .unwrap_or(rest.len());
            if end > 0 {
                parts.push(&rest[..end]);
            }
        }
        parts
    }

    #[tokio::test]
    async fn media_with_nothing_to_send_by_is_refused_before_any_request() {
        let (base_url, received) = spawn_fake_graph_api().await;
        let transport = connected_transport(base_url);
        let unresolved = to(Content::Document(Media {
            storage_key: Some("uploads/1".into()),
            ..Media::default()
        }));
        let error = transport.send(&unresolved).await.unwrap_err();
        assert!(
            matches!(&error, TransportError::Rejected { reason } if reason.contains("not resolved")),
            "{error}"
        );
        let mut no_mime = unresolved.clone();
        no_mime.media_bytes = Some(Arc::from(&b"%PDF-1.7"[..]));
        let error = transport.send(&no_mime).await.unwrap_err();
        assert!(
            matches!(&error, TransportError::Rejected { reason } if reason.starts_with("content.mime_type")),
            "{error}"
        );
        assert!(
            received.lock().expect("received").is_empty(),
            "nothing half-sent"
        );
    }

    #[tokio::test]
    async fn interactive_buttons_and_lists_go_as_meta_documents_them() {
        let bodies = sent_bodies(&[
            to(Content::Buttons {
                text: "Hi Pablo! Your gardening workshop is scheduled for 9am tomorrow. Use the buttons if you need to reschedule. Thank you!".into(),
                header: Some("Workshop".into()),
                footer: Some("Lucky Shrub: Your gateway to succulents!".into()),
                buttons: vec![
                    ReplyButton { id: "change-button".into(), title: "Change".into() },
                    ReplyButton { id: "cancel-button".into(), title: "Cancel".into() },
                ],
            }),
            to(Content::List {
                text: "Which shipping option do you prefer?".into(),
                header: Some("Choose Shipping Option".into()),
                footer: Some("Lucky Shrub: Your gateway to succulents".into()),
                button: "Shipping Options".into(),
                sections: vec![ListSection {
                    title: Some("I want it ASAP!".into()),
                    rows: vec![
                        ListRow {
                            id: "priority_express".into(),
                            title: "Priority Mail Express".into(),
                            description: Some("Next Day to 2 Days".into()),
                        },
                        ListRow {
                            id: "priority_mail".into(),
                            title: "Priority Mail".into(),
                            description: None,
                        },
                    ],
                }],
            }),
        ])
        .await;
        assert_eq!(
            bodies[0],
            envelope_of(
                "interactive",
                json!({
                    "type": "button",
                    "header": {"type": "text", "text": "Workshop"},
                    "body": {"text": "Hi Pablo! Your gardening workshop is scheduled for 9am tomorrow. Use the buttons if you need to reschedule. Thank you!"},
                    "footer": {"text": "Lucky Shrub: Your gateway to succulents!"},
                    "action": {"buttons": [
                        {"type": "reply", "reply": {"id": "change-button", "title": "Change"}},
                        {"type": "reply", "reply": {"id": "cancel-button", "title": "Cancel"}}
                    ]}
                })
            )
        );
        assert_eq!(
            bodies[1],
            envelope_of(
                "interactive",
                json!({
                    "type": "list",
                    "header": {"type": "text", "text": "Choose Shipping Option"},
                    "body": {"text": "Which shipping option do you prefer?"},
                    "footer": {"text": "Lucky Shrub: Your gateway to succulents"},
                    "action": {
                        "button": "Shipping Options",
                        "sections": [{
                            "title": "I want it ASAP!",
                            "rows": [
                                {"id": "priority_express", "title": "Priority Mail Express", "description": "Next Day to 2 Days"},
                                {"id": "priority_mail", "title": "Priority Mail"}
                            ]
                        }]
                    }
                })
            )
        );
    }

    #[tokio::test]
    async fn location_reaction_and_contacts_go_as_meta_documents_them() {
        let bodies = sent_bodies(&[
            to(Content::Location(Location {
                latitude: 37.44216251868683,
                longitude: -122.16153582049394,
                name: Some("Philz Coffee".into()),
                address: Some("101 Forest Ave, Palo Alto, CA 94301".into()),
            })),
            to(Content::Reaction {
                message_id: "wamid.HBgLMTY0NjcwNDM1OTUVAgASGBQzQTdCNTg5RjY1MEMyRjlGMjRGNgA=".into(),
                emoji: "\u{1f600}".into(),
            }),
            to(Content::Contacts {
                contacts: vec![SharedContact {
                    name: ContactName {
                        formatted_name: "Barbara J. Johnson".into(),
                        first_name: Some("Barbara".into()),
                        last_name: Some("Johnson".into()),
                    },
                    phones: vec![ContactPhone {
                        phone: "+1 (415) 555-0123".into(),
                        wa_id: Some("14155550123".into()),
                        phone_type: Some("CELL".into()),
                    }],
                    emails: vec!["bjohnson@luckyshrub.com".into()],
                    organization: Some("Lucky Shrub".into()),
                    vcard: None,
                }],
            }),
        ])
        .await;
        assert_eq!(
            bodies[0],
            envelope_of(
                "location",
                json!({"latitude": 37.44216251868683, "longitude": -122.16153582049394,
                       "name": "Philz Coffee", "address": "101 Forest Ave, Palo Alto, CA 94301"})
            )
        );
        assert_eq!(
            bodies[1],
            envelope_of(
                "reaction",
                json!({"message_id": "wamid.HBgLMTY0NjcwNDM1OTUVAgASGBQzQTdCNTg5RjY1MEMyRjlGMjRGNgA=",
                       "emoji": "\u{1f600}"})
            )
        );
        let mut contacts = json!({"messaging_product": "whatsapp", "recipient_type": "individual",
                                  "to": "16505551234", "type": "contacts"});
        contacts["contacts"] = json!([{
            "name": {"formatted_name": "Barbara J. Johnson", "first_name": "Barbara", "last_name": "Johnson"},
            "phones": [{"phone": "+1 (415) 555-0123", "type": "CELL", "wa_id": "14155550123"}],
            "emails": [{"email": "bjohnson@luckyshrub.com"}],
            "org": {"company": "Lucky Shrub"}
        }]);
        assert_eq!(bodies[2], contacts);
    }

    #[tokio::test]
    async fn a_template_goes_with_its_components_and_typed_parameters() {
        let bodies = sent_bodies(&[to(Content::Template(Template {
            name: "order_confirmation".into(),
            language: "en_US".into(),
            components: vec![
                TemplateComponent {
                    component_type: TemplateComponentType::Header,
                    sub_type: None,
                    index: None,
                    parameters: vec![TemplateParameter::Image {
                        media: Media {
                            url: Some("https://example.com/order.png".into()),
                            ..Media::default()
                        },
                    }],
                },
                TemplateComponent {
                    component_type: TemplateComponentType::Body,
                    sub_type: None,
                    index: None,
                    parameters: vec![
                        TemplateParameter::Text {
                            text: "Pablo".into(),
                        },
                        TemplateParameter::Currency {
                            fallback_value: "$100.99".into(),
                            code: "USD".into(),
                            amount_1000: 100_990,
                        },
                        TemplateParameter::DateTime {
                            fallback_value: "February 25, 1977".into(),
                        },
                    ],
                },
                TemplateComponent {
                    component_type: TemplateComponentType::Button,
                    sub_type: Some("quick_reply".into()),
                    index: Some(0),
                    parameters: vec![TemplateParameter::Payload {
                        payload: "STOP_PROMOS".into(),
                    }],
                },
            ],
        }))])
        .await;
        assert_eq!(
            bodies[0],
            envelope_of(
                "template",
                json!({
                    "name": "order_confirmation",
                    "language": {"code": "en_US"},
                    "components": [
                        {"type": "header", "parameters": [
                            {"type": "image", "image": {"link": "https://example.com/order.png"}}]},
                        {"type": "body", "parameters": [
                            {"type": "text", "text": "Pablo"},
                            {"type": "currency", "currency": {"fallback_value": "$100.99", "code": "USD", "amount_1000": 100990}},
                            {"type": "date_time", "date_time": {"fallback_value": "February 25, 1977"}}]},
                        {"type": "button", "sub_type": "quick_reply", "index": "0", "parameters": [
                            {"type": "payload", "payload": "STOP_PROMOS"}]}
                    ]
                })
            )
        );
    }

    #[tokio::test]
    async fn inbound_only_kinds_are_refused_before_any_request() {
        let (base_url, received) = spawn_fake_graph_api().await;
        let transport = connected_transport(base_url);
        for content in [
            Content::ButtonReply {
                id: "1".into(),
                title: "Yes".into(),
            },
            Content::System {
                system_type: "user_changed_number".into(),
                text: String::new(),
                new_wa_id: None,
            },
        ] {
            let error = transport.send(&to(content)).await.unwrap_err();
            assert!(matches!(error, TransportError::Rejected { .. }), "{error}");
        }
        assert!(received.lock().expect("received").is_empty());
    }
}
