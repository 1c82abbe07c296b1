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
    /// The text.
    pub text: String,
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

/// Returns how a transcript line is printed: `you> …` or `bot> …`.
pub fn format_transcript_line(message: &TranscriptMessage) -> String {
    let speaker = if message.is_from_bot() { "bot" } else { "you" };
    format!("{speaker}> {}", message.text)
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

    /// Posts a contact's message to a number.
    pub async fn send_inbound(
        &self,
        to: &str,
        from: &str,
        name: Option<&str>,
        text: &str,
        message_id: Option<&str>,
    ) -> Result<InboundAccepted, ContactError> {
        let token = self.token.as_deref().ok_or(ContactError::MissingToken)?;
        let url = format!("{}/simulator/inbound", self.base_url);
        let mut body = json!({ "to": to, "from": from, "text": text });
        if let Some(name) = name {
            body["name"] = json!(name);
        }
        if let Some(message_id) = message_id {
            body["message_id"] = json!(message_id);
        }
        let response = self
            .http
            .post(&url)
            .bearer_auth(token)
            .json(&body)
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
    let token = std::env::var(DAEMON_TOKEN_VARIABLE)
        .ok()
        .filter(|token| !token.is_empty())
        .ok_or(ContactError::MissingToken)?;
    let client = DaemonClient::new(&arguments.daemon_url, Some(token))?;

    let existing = client.transcript(&arguments.to, &arguments.from, 0).await?;
    let mut last_seen_seq = existing.last().map_or(0, |message| message.seq);

    let accepted = client
        .send_inbound(
            &arguments.to,
            &arguments.from,
            arguments.name.as_deref(),
            &arguments.text,
            arguments.message_id.as_deref(),
        )
        .await?;
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
}
