//! `wabot contact`: a person acting as a simulated WhatsApp contact.
//!
//! The commands talk to a running daemon over its HTTP API: `send` posts to
//! `POST /simulator/inbound` and then polls `GET /simulator/transcript` until
//! the bot's replies have arrived and stayed quiet for a second (or the wait
//! runs out), printing each as `bot> <text>`; `read` prints the whole
//! conversation. The bearer token comes from `WABOT_DAEMON_TOKEN`.

use std::io::Write;
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::json;

use crate::config::{ContactReadArguments, ContactSendArguments, DAEMON_TOKEN_VARIABLE};

/// How long the replies must stay quiet before `send` stops waiting.
pub const QUIET_PERIOD: Duration = Duration::from_secs(1);

/// How often `send` polls the transcript.
pub const TRANSCRIPT_POLL_INTERVAL: Duration = Duration::from_millis(200);

/// How long one request to the daemon may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

/// A failure of a contact command.
#[derive(Debug, thiserror::Error)]
pub enum ContactError {
    /// The bearer token is not set.
    #[error("WABOT_DAEMON_TOKEN is not set: export the daemon's bearer token to send messages")]
    MissingToken,

    /// The daemon could not be reached.
    #[error("could not reach the daemon at {url}: {reason}")]
    Unreachable {
        /// The URL requested.
        url: String,
        /// Why.
        reason: String,
    },

    /// The daemon answered with an error.
    #[error("the daemon answered {status}: {message}")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// The daemon's error message.
        message: String,
    },

    /// The daemon's answer could not be understood.
    #[error("the daemon's answer could not be read: {0}")]
    InvalidAnswer(String),

    /// Printing failed.
    #[error("could not print: {0}")]
    Output(#[from] std::io::Error),

    /// The flags do not describe a message.
    #[error("{0}")]
    InvalidArguments(String),

    /// A file to send could not be read.
    #[error("could not read {path}: {source}")]
    File {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

/// The daemon's answer to an inbound message.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct InboundAccepted {
    /// WhatsApp's id of the message.
    pub wa_message_id: String,
    /// Whether the daemon had stored it before.
    pub duplicate: bool,
}

/// One message of a simulated conversation.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TranscriptMessage {
    /// The position in the conversation, from 1.
    pub seq: u64,
    /// `to_number` (the contact wrote) or `to_contact` (the bot wrote).
    pub direction: String,
    /// The text (the content's summary).
    pub text: String,
    /// What the message says, in the message model (absent from older
    /// daemons).
    #[serde(default)]
    pub content: Option<serde_json::Value>,
    /// WhatsApp's id of the message.
    pub wa_message_id: String,
    /// When it was sent, in milliseconds since the Unix epoch.
    pub at_ms: u64,
}

impl TranscriptMessage {
    /// Tells whether the bot wrote this message.
    pub fn is_from_bot(&self) -> bool {
        self.direction == "to_contact"
    }
}

#[derive(Debug, Deserialize)]
struct TranscriptAnswer {
    messages: Vec<TranscriptMessage>,
}

#[derive(Debug, Deserialize)]
struct ErrorAnswer {
    error: String,
}

/// Returns how a transcript line is printed: `you> …` or `bot> …`; a
/// kind other than text is named (`bot> [image] caption`), and buttons and
/// list rows are listed with their ids, for `--button-reply`.
pub fn format_transcript_line(message: &TranscriptMessage) -> String {
    let speaker = if message.is_from_bot() { "bot" } else { "you" };
    let content = message.content.as_ref();
    let kind = content
        .and_then(|content| content.get("kind"))
        .and_then(serde_json::Value::as_str)
        .unwrap_or("text");
    if kind == "text" {
        return format!("{speaker}> {}", message.text);
    }
    let mut line = format!("{speaker}> [{kind}] {}", message.text);
    let choices: Vec<String> = match kind {
        "buttons" => content
            .and_then(|content| content.get("buttons"))
            .and_then(serde_json::Value::as_array)
            .map(|buttons| buttons.iter().collect())
            .unwrap_or_default(),
        "list" => content
            .and_then(|content| content.get("sections"))
            .and_then(serde_json::Value::as_array)
            .map(|sections| {
                sections
                    .iter()
                    .filter_map(|section| section.get("rows")?.as_array())
                    .flatten()
                    .collect()
            })
            .unwrap_or_default(),
        _ => Vec::new(),
    }
    .into_iter()
    .map(|choice: &serde_json::Value| {
        format!(
            "{}={}",
            choice["id"].as_str().unwrap_or_default(),
            choice["title"].as_str().unwrap_or_default()
        )
    })
    .collect();
    if !choices.is_empty() {
        line.push_str(&format!(" {{{}}}", choices.join(" | ")));
    }
    line.trim_end().to_owned()
}

/// Builds the `POST /simulator/inbound` body of `wabot contact send`: plain
/// text, or a picture (read from its file, sent inline in base64), a
/// location, or a button or list tap, with the quoted message.
pub fn inbound_body(arguments: &ContactSendArguments) -> Result<serde_json::Value, ContactError> {
    use base64::Engine as _;
    let invalid = |message: String| ContactError::InvalidArguments(message);
    let text = arguments
        .text
        .as_deref()
        .map(str::trim)
        .filter(|text| !text.is_empty());
    let mut body = json!({ "to": arguments.to, "from": arguments.from });
    if let Some(path) = &arguments.picture {
        let extension = path
            .extension()
            .and_then(|extension| extension.to_str())
            .unwrap_or_default()
            .to_ascii_lowercase();
        let mime_type = match extension.as_str() {
            "jpg" | "jpeg" => "image/jpeg",
            "png" => "image/png",
            _ => {
                return Err(invalid(format!(
                    "--picture {}: WhatsApp pictures are JPEG or PNG (.jpg, .jpeg, .png)",
                    path.display()
                )))
            }
        };
        let bytes = std::fs::read(path).map_err(|source| ContactError::File {
            path: path.display().to_string(),
            source,
        })?;
        let mut content = json!({ "kind": "image", "mime_type": mime_type });
        if let Some(caption) = text {
            content["caption"] = json!(caption);
        }
        body["content"] = content;
        body["media_base64"] = json!(base64::engine::general_purpose::STANDARD.encode(bytes));
    } else if let Some(location) = &arguments.location {
        let coordinates: Option<(f64, f64)> = location
            .split_once(',')
            .and_then(|(lat, lon)| Some((lat.trim().parse().ok()?, lon.trim().parse().ok()?)));
        let Some((latitude, longitude)) = coordinates else {
            return Err(invalid(format!(
                "--location {location:?}: expected <latitude>,<longitude>, such as 38.7223,-9.1393"
            )));
        };
        let mut content =
            json!({ "kind": "location", "latitude": latitude, "longitude": longitude });
        if let Some(name) = text {
            content["name"] = json!(name);
        }
        body["content"] = content;
    } else if let Some(reply) = arguments
        .button_reply
        .as_ref()
        .map(|reply| ("button_reply", reply))
        .or_else(|| {
            arguments
                .list_reply
                .as_ref()
                .map(|reply| ("list_reply", reply))
        })
    {
        let (kind, values) = reply;
        let [id, title] = values.as_slice() else {
            return Err(invalid(format!(
                "--{}: give an id and a title",
                kind.replace('_', "-")
            )));
        };
        body["content"] = json!({ "kind": kind, "id": id, "title": title });
    } else {
        let Some(text) = text else {
            return Err(invalid(
                "give the message text, or --picture, --location, --button-reply or --list-reply"
                    .to_owned(),
            ));
        };
        body["text"] = json!(text);
    }
    if let Some(name) = &arguments.name {
        body["name"] = json!(name);
    }
    if let Some(message_id) = &arguments.message_id {
        body["message_id"] = json!(message_id);
    }
    if let Some(reply_to) = &arguments.reply_to {
        body["context_wa_message_id"] = json!(reply_to);
    }
    Ok(body)
}

/// A client of the daemon's simulator endpoints.
#[derive(Debug, Clone)]
pub struct DaemonClient {
    http: reqwest::Client,
    base_url: String,
    token: Option<String>,
}

impl DaemonClient {
    /// Creates a client of the daemon at `base_url`.
    pub fn new(base_url: &str, token: Option<String>) -> Result<Self, ContactError> {
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|error| ContactError::InvalidAnswer(error.to_string()))?;
        Ok(DaemonClient {
            http,
            base_url: base_url.trim_end_matches('/').to_owned(),
            token,
        })
    }

    /// Posts a contact's message to a number (a `POST /simulator/inbound`
    /// body, see [`inbound_body`]).
    pub async fn send_inbound(
        &self,
        body: &serde_json::Value,
    ) -> Result<InboundAccepted, ContactError> {
        let token = self.token.as_deref().ok_or(ContactError::MissingToken)?;
        let url = format!("{}/simulator/inbound", self.base_url);
        let response = self
            .http
            .post(&url)
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .map_err(|error| unreachable_error(&url, &error))?;
        read_answer(response).await
    }

    /// Returns the conversation between a number and a contact after
    /// `after_seq`.
    pub async fn transcript(
        &self,
        to: &str,
        from: &str,
        after_seq: u64,
    ) -> Result<Vec<TranscriptMessage>, ContactError> {
        let url = format!("{}/simulator/transcript", self.base_url);
        let response = self
            .http
            .get(&url)
            .query(&[
                ("to", to),
                ("from", from),
                ("after", &after_seq.to_string()),
            ])
            .send()
            .await
            .map_err(|error| unreachable_error(&url, &error))?;
        let answer: TranscriptAnswer = read_answer(response).await?;
        Ok(answer.messages)
    }
}

/// Runs `wabot contact send`, printing to `output`.
pub async fn run_send(
    arguments: &ContactSendArguments,
    output: &mut impl Write,
) -> Result<(), ContactError> {
    let body = inbound_body(arguments)?;
    let token = std::env::var(DAEMON_TOKEN_VARIABLE)
        .ok()
        .filter(|token| !token.is_empty())
        .ok_or(ContactError::MissingToken)?;
    let client = DaemonClient::new(&arguments.daemon_url, Some(token))?;

    let existing = client.transcript(&arguments.to, &arguments.from, 0).await?;
    let mut last_seen_seq = existing.last().map_or(0, |message| message.seq);

    let accepted = client.send_inbound(&body).await?;
    if accepted.duplicate {
        writeln!(output, "(duplicate: already delivered)")?;
        return Ok(());
    }

    let deadline = Instant::now() + Duration::from_secs(arguments.wait_secs);
    let mut last_reply_at: Option<Instant> = None;
    loop {
        let messages = client
            .transcript(&arguments.to, &arguments.from, last_seen_seq)
            .await?;
        for message in messages {
            last_seen_seq = last_seen_seq.max(message.seq);
            if message.is_from_bot() {
                writeln!(output, "{}", format_transcript_line(&message))?;
                output.flush()?;
                last_reply_at = Some(Instant::now());
            }
        }
        let now = Instant::now();
        let quiet = last_reply_at.is_some_and(|at| now.duration_since(at) >= QUIET_PERIOD);
        if quiet || now >= deadline {
            break;
        }
        tokio::time::sleep(TRANSCRIPT_POLL_INTERVAL).await;
    }
    if last_reply_at.is_none() {
        eprintln!("(no reply within {} s)", arguments.wait_secs);
    }
    Ok(())
}

/// Runs `wabot contact read`, printing to `output`.
pub async fn run_read(
    arguments: &ContactReadArguments,
    output: &mut impl Write,
) -> Result<(), ContactError> {
    let client = DaemonClient::new(&arguments.daemon_url, None)?;
    for message in client.transcript(&arguments.to, &arguments.from, 0).await? {
        writeln!(output, "{}", format_transcript_line(&message))?;
    }
    Ok(())
}

fn unreachable_error(url: &str, error: &reqwest::Error) -> ContactError {
    ContactError::Unreachable {
        url: url.to_owned(),
        reason: crate::database::error_chain(error),
    }
}

async fn read_answer<T: for<'de> Deserialize<'de>>(
    response: reqwest::Response,
) -> Result<T, ContactError> {
    let status = response.status();
    let text = response
        .text()
        .await
        .map_err(|error| ContactError::InvalidAnswer(error.to_string()))?;
    if !status.is_success() {
        let message = serde_json::from_str::<ErrorAnswer>(&text)
            .map(|answer| answer.error)
            .unwrap_or(text);
        return Err(ContactError::Refused {
            status: status.as_u16(),
            message,
        });
    }
    serde_json::from_str(&text).map_err(|error| ContactError::InvalidAnswer(error.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(direction: &str, text: &str) -> TranscriptMessage {
        TranscriptMessage {
            seq: 1,
            direction: direction.to_owned(),
            text: text.to_owned(),
            content: None,
            wa_message_id: "SIM-1".to_owned(),
            at_ms: 0,
        }
    }

    #[test]
    fn lines_name_the_speaker() {
        assert_eq!(
            format_transcript_line(&message("to_number", "hi")),
            "you> hi"
        );
        assert_eq!(
            format_transcript_line(&message("to_contact", "Hi!")),
            "bot> Hi!"
        );
    }

    #[test]
    fn other_kinds_are_named_and_choices_listed() {
        let mut buttons = message("to_contact", "How can we help?");
        buttons.content = Some(json!({"kind": "buttons", "text": "How can we help?",
            "buttons": [{"id": "hours", "title": "Opening hours"}, {"id": "address", "title": "Address"}]}));
        assert_eq!(
            format_transcript_line(&buttons),
            "bot> [buttons] How can we help? {hours=Opening hours | address=Address}"
        );
        let mut picture = message("to_number", "my order");
        picture.content = Some(json!({"kind": "image", "caption": "my order"}));
        assert_eq!(format_transcript_line(&picture), "you> [image] my order");
    }

    fn arguments(flags: &[&str]) -> ContactSendArguments {
        use clap::Parser as _;
        let mut line = vec![
            "wabot",
            "contact",
            "send",
            "--to",
            "+15550100001",
            "--from",
            "+15550199999",
        ];
        line.extend_from_slice(flags);
        let parsed = crate::config::CommandLine::try_parse_from(line).expect("flags");
        match parsed.command {
            crate::config::TopLevelCommand::Contact(crate::config::ContactArguments {
                command: crate::config::ContactCommand::Send(send),
            }) => *send,
            _ => panic!("expected contact send"),
        }
    }

    #[test]
    fn a_picture_goes_inline_with_its_caption() {
        use base64::Engine as _;
        let directory =
            std::env::temp_dir().join(format!("wabot-contact-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&directory).expect("a folder");
        let path = directory.join("order.PNG");
        std::fs::write(&path, b"\x89PNG picture").expect("a picture");
        let body = inbound_body(&arguments(&[
            "--picture",
            path.to_str().expect("utf-8"),
            "--reply-to",
            "SIM-1",
            "my order",
        ]))
        .expect("a body");
        assert_eq!(
            body["content"],
            json!({"kind": "image", "mime_type": "image/png", "caption": "my order"})
        );
        assert_eq!(body["context_wa_message_id"], "SIM-1");
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(body["media_base64"].as_str().expect("base64"))
            .expect("decodes");
        assert_eq!(bytes, b"\x89PNG picture");
        assert!(body.get("text").is_none());
        let gif = directory.join("x.gif");
        std::fs::write(&gif, b"GIF").expect("a gif");
        assert!(matches!(
            inbound_body(&arguments(&["--picture", gif.to_str().expect("utf-8")])),
            Err(ContactError::InvalidArguments(message)) if message.contains("JPEG or PNG")
        ));
        assert!(matches!(
            inbound_body(&arguments(&["--picture", "/nonexistent/a.jpg"])),
            Err(ContactError::File { .. })
        ));
        let _ = std::fs::remove_dir_all(directory);
    }

    #[test]
    fn a_location_and_taps_become_their_content() {
        let location =
            inbound_body(&arguments(&["--location", "38.7223,-9.1393", "Shop"])).expect("a body");
        assert_eq!(
            location["content"],
            json!({"kind": "location", "latitude": 38.7223, "longitude": -9.1393, "name": "Shop"})
        );
        assert!(matches!(
            inbound_body(&arguments(&["--location", "north"])),
            Err(ContactError::InvalidArguments(message)) if message.contains("<latitude>,<longitude>")
        ));
        let tap = inbound_body(&arguments(&["--button-reply", "hours", "Opening hours"]))
            .expect("a body");
        assert_eq!(
            tap["content"],
            json!({"kind": "button_reply", "id": "hours", "title": "Opening hours"})
        );
        let row = inbound_body(&arguments(&["--list-reply", "row-2", "Address"])).expect("a body");
        assert_eq!(row["content"]["kind"], "list_reply");
        let text = inbound_body(&arguments(&["hi"])).expect("a body");
        assert_eq!(text["text"], "hi");
        assert!(matches!(
            inbound_body(&arguments(&[])),
            Err(ContactError::InvalidArguments(_))
        ));
    }
}
