//! What downloading a WhatsApp Web media file needs, and the download.
//!
//! WhatsApp Web media is encrypted on WhatsApp's CDN: a download needs the
//! message's direct path, media key, the SHA-256 of the plaintext and of the
//! encrypted file, the length and the media type. These are transport
//! details, not part of the message model, so the Web transport's inbound
//! mapping keeps them in `messages.payload.web_media` ([`WebMediaParams`],
//! hashes and key as lowercase hex), and the daemon's download worker hands
//! the payload back to [`crate::transport::Transport::download_inbound_media`],
//! which decrypts through `whatsapp-rust`'s `Client::download_from_params`.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use whatsapp_rust::download::{DownloadParams, MediaType};
use whatsapp_rust::http::HttpStatusError;
use whatsapp_rust::wacore::proto_helpers::MessageExt;
use whatsapp_rust::waproto::whatsapp as wa;

use super::TransportError;

/// Where [`WebMediaParams`] live in `messages.payload`.
pub const WEB_MEDIA_PAYLOAD_KEY: &str = "web_media";

/// The CDN fields of one WhatsApp Web media message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebMediaParams {
    /// The path on WhatsApp's media hosts.
    pub direct_path: String,
    /// The media key, hex.
    pub media_key: String,
    /// The SHA-256 of the plaintext, hex.
    pub file_sha256: String,
    /// The SHA-256 of the encrypted file, hex.
    pub file_enc_sha256: String,
    /// The plaintext's length in bytes.
    pub file_length: u64,
    /// `image`, `video`, `audio`, `document` or `sticker`.
    pub media_type: String,
    /// The MIME type the message declares.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn unhex(field: &str, text: &str) -> Result<Vec<u8>, String> {
    let invalid = || format!("payload.web_media.{field}: must be an even number of hex digits");
    if text.len() % 2 != 0 {
        return Err(invalid());
    }
    (0..text.len())
        .step_by(2)
        .map(|i| {
            text.get(i..i + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                .ok_or_else(invalid)
        })
        .collect()
}

/// The CDN fields every media message type shares.
struct Fields<'a> {
    direct_path: Option<&'a String>,
    media_key: Option<&'a Vec<u8>>,
    file_sha256: Option<&'a Vec<u8>>,
    file_enc_sha256: Option<&'a Vec<u8>>,
    file_length: Option<u64>,
    mime_type: Option<&'a String>,
}

macro_rules! fields {
    ($message:expr) => {
        Fields {
            direct_path: $message.direct_path.as_ref(),
            media_key: $message.media_key.as_ref(),
            file_sha256: $message.file_sha256.as_ref(),
            file_enc_sha256: $message.file_enc_sha256.as_ref(),
            file_length: $message.file_length,
            mime_type: $message.mimetype.as_ref(),
        }
    };
}

impl WebMediaParams {
    /// Reads the CDN fields of a media message (image, video, audio or
    /// voice note, document, sticker); `None` for other messages or when a
    /// field is missing.
    pub fn from_message(message: &wa::Message) -> Option<Self> {
        let base = message.get_base_message();
        let (media_type, fields) = if let Some(image) = base.image_message.as_option() {
            ("image", fields!(image))
        } else if let Some(video) = base.video_message.as_option() {
            ("video", fields!(video))
        } else if let Some(audio) = base.audio_message.as_option() {
            ("audio", fields!(audio))
        } else if let Some(document) = base.document_message.as_option() {
            ("document", fields!(document))
        } else if let Some(sticker) = base.sticker_message.as_option() {
            ("sticker", fields!(sticker))
        } else {
            return None;
        };
        Some(WebMediaParams {
            direct_path: fields.direct_path?.clone(),
            media_key: hex(fields.media_key?),
            file_sha256: hex(fields.file_sha256?),
            file_enc_sha256: hex(fields.file_enc_sha256?),
            file_length: fields.file_length?,
            media_type: media_type.to_owned(),
            mime_type: fields.mime_type.cloned(),
        })
    }

    /// Returns the JSON kept at `payload.web_media`.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// Reads `payload.web_media`; the error names the field at fault.
    pub fn from_payload(payload: &Value) -> Result<Self, String> {
        let value = payload.get(WEB_MEDIA_PAYLOAD_KEY).ok_or_else(|| {
            "payload.web_media: missing: the message does not say where its media is".to_owned()
        })?;
        serde_path_to_error::deserialize(value).map_err(|error| {
            let path = error.path().to_string();
            format!("payload.web_media.{path}: {}", error.into_inner())
        })
    }

    /// Returns the crate's download parameters.
    pub fn download_params(&self) -> Result<DownloadParams, String> {
        let media_type = match self.media_type.as_str() {
            "image" => MediaType::Image,
            "video" => MediaType::Video,
            "audio" => MediaType::Audio,
            "document" => MediaType::Document,
            "sticker" => MediaType::Sticker,
            other => {
                return Err(format!(
                    "payload.web_media.media_type: {other:?} is not image, video, audio, document or sticker"
                ))
            }
        };
        if self.direct_path.trim().is_empty() {
            return Err("payload.web_media.direct_path: must not be empty".to_owned());
        }
        Ok(DownloadParams::encrypted(
            self.direct_path.clone(),
            &unhex("media_key", &self.media_key)?,
            &unhex("file_sha256", &self.file_sha256)?,
            &unhex("file_enc_sha256", &self.file_enc_sha256)?,
            self.file_length,
            media_type,
        ))
    }
}

/// Classifies a failed download: gone from the CDN (404, 410: WhatsApp
/// keeps media for a while only) is for good; anything else may pass.
pub fn classify_download_error(error: &anyhow::Error) -> TransportError {
    let reason = format!("whatsapp web media download failed: {error:#}");
    let gone = error
        .chain()
        .filter_map(|cause| cause.downcast_ref::<HttpStatusError>())
        .any(|status| status.status == 404 || status.status == 410);
    if gone {
        TransportError::Rejected { reason }
    } else {
        TransportError::Failed { reason }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use whatsapp_rust::download::Downloadable;
    use whatsapp_rust::wacore::proto_helpers::MessageBuilderExt;
    use whatsapp_rust::waproto::buffa::MessageField;

    fn voice_note() -> wa::Message {
        wa::Message {
            audio_message: MessageField::some(wa::message::AudioMessage {
                direct_path: Some("/v/t62.7117-24/12345_67890.enc?ccb=11-4".to_owned()),
                media_key: Some(vec![7; 32]),
                file_sha256: Some(vec![0xab; 32]),
                file_enc_sha256: Some(vec![0xcd; 32]),
                file_length: Some(4321),
                mimetype: Some("audio/ogg; codecs=opus".to_owned()),
                ptt: Some(true),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn a_media_message_keeps_what_its_download_needs() {
        let params = WebMediaParams::from_message(&voice_note()).expect("a media message");
        assert_eq!(params.media_type, "audio");
        assert_eq!(params.media_key, "07".repeat(32));
        assert_eq!(params.mime_type.as_deref(), Some("audio/ogg; codecs=opus"));
        let payload = serde_json::json!({ WEB_MEDIA_PAYLOAD_KEY: params.to_json() });
        let read = WebMediaParams::from_payload(&payload).expect("reads back");
        assert_eq!(read, params);
        let download = read.download_params().expect("download parameters");
        assert_eq!(
            download.direct_path(),
            Some("/v/t62.7117-24/12345_67890.enc?ccb=11-4")
        );
        assert_eq!(download.media_key(), Some(&[7_u8; 32][..]));
        assert_eq!(download.file_sha256(), Some(&[0xab_u8; 32][..]));
        assert_eq!(download.file_enc_sha256(), Some(&[0xcd_u8; 32][..]));
        assert_eq!(download.file_length(), Some(4321));
    }

    #[test]
    fn text_and_incomplete_media_have_no_download() {
        assert_eq!(WebMediaParams::from_message(&wa::Message::text("hi")), None);
        let mut incomplete = voice_note();
        if let Some(audio) = incomplete.audio_message.as_option_mut() {
            audio.media_key = None;
        }
        assert_eq!(WebMediaParams::from_message(&incomplete), None);
    }

    #[test]
    fn a_bad_payload_names_its_field() {
        let error = WebMediaParams::from_payload(&serde_json::json!({})).expect_err("missing");
        assert!(error.starts_with("payload.web_media: missing"), "{error}");
        let mut params = WebMediaParams::from_message(&voice_note()).expect("params");
        params.media_key = "zz".to_owned();
        let error = params.download_params().err().unwrap_or_default();
        assert!(error.starts_with("payload.web_media.media_key"), "{error}");
        let payload = serde_json::json!({"web_media": {"direct_path": 5}});
        let error = WebMediaParams::from_payload(&payload).expect_err("wrong type");
        assert!(
            error.starts_with("payload.web_media.direct_path"),
            "{error}"
        );
    }

    #[test]
    fn a_file_gone_from_the_cdn_is_refused_for_good() {
        let gone = anyhow::Error::new(HttpStatusError { status: 410 }).context("download");
        assert!(matches!(
            classify_download_error(&gone),
            TransportError::Rejected { .. }
        ));
        let flaky = anyhow::anyhow!("connection reset");
        assert!(matches!(
            classify_download_error(&flaky),
            TransportError::Failed { .. }
        ));
    }
}
