//! WhatsApp's documented limits, in one place.
//!
//! Sources: Meta's Cloud API reference (messages: text, media, interactive
//! and template objects; "Supported media types"). The WhatsApp Web
//! transport is held to the same limits, so a bot behaves alike on both.

/// The longest text message, in characters.
pub const MAX_TEXT_CHARS: usize = 4096;
/// The longest media caption, in characters.
pub const MAX_CAPTION_CHARS: usize = 1024;
/// The longest body of a buttons message, in characters.
pub const MAX_BUTTONS_BODY_CHARS: usize = 1024;
/// The longest body of a list message, in characters.
pub const MAX_LIST_BODY_CHARS: usize = 4096;
/// The longest interactive header or footer, in characters.
pub const MAX_HEADER_FOOTER_CHARS: usize = 60;
/// The most reply buttons on one message.
pub const MAX_REPLY_BUTTONS: usize = 3;
/// The longest reply button title, in characters.
pub const MAX_BUTTON_TITLE_CHARS: usize = 20;
/// The longest reply button id, in characters.
pub const MAX_BUTTON_ID_CHARS: usize = 256;
/// The longest label of a list's button, in characters.
pub const MAX_LIST_BUTTON_CHARS: usize = 20;
/// The most sections in a list.
pub const MAX_LIST_SECTIONS: usize = 10;
/// The most rows in a list, over all sections.
pub const MAX_LIST_ROWS: usize = 10;
/// The longest section title, in characters.
pub const MAX_SECTION_TITLE_CHARS: usize = 24;
/// The longest row title, in characters.
pub const MAX_ROW_TITLE_CHARS: usize = 24;
/// The longest row id, in characters.
pub const MAX_ROW_ID_CHARS: usize = 200;
/// The longest row description, in characters.
pub const MAX_ROW_DESCRIPTION_CHARS: usize = 72;
/// The longest template name, in characters.
pub const MAX_TEMPLATE_NAME_CHARS: usize = 512;
/// The most contact cards in one message (WhatsApp's client limit).
pub const MAX_SHARED_CONTACTS: usize = 257;
/// The longest location name or address, in characters.
pub const MAX_LOCATION_TEXT_CHARS: usize = 1024;

/// The size limit and accepted MIME types of a media kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct MediaLimit {
    /// The kind, as in `kind`.
    pub kind: &'static str,
    /// The largest file, in bytes.
    pub max_bytes: u64,
    /// The accepted MIME types (without parameters such as `; codecs=`).
    pub mime_types: &'static [&'static str],
    /// Whether the kind carries a caption.
    pub caption: bool,
}

const MB: u64 = 1024 * 1024;
const KB: u64 = 1024;

/// Per media kind: Meta's "Supported media types" table.
pub const MEDIA_LIMITS: &[MediaLimit] = &[
    MediaLimit {
        kind: "image",
        max_bytes: 5 * MB,
        mime_types: &["image/jpeg", "image/png"],
        caption: true,
    },
    MediaLimit {
        kind: "video",
        max_bytes: 16 * MB,
        mime_types: &["video/mp4", "video/3gpp"],
        caption: true,
    },
    MediaLimit {
        kind: "audio",
        max_bytes: 16 * MB,
        mime_types: &[
            "audio/aac",
            "audio/amr",
            "audio/mpeg",
            "audio/mp4",
            "audio/ogg",
        ],
        caption: false,
    },
    MediaLimit {
        kind: "voice",
        max_bytes: 16 * MB,
        mime_types: &["audio/ogg"],
        caption: false,
    },
    MediaLimit {
        kind: "document",
        max_bytes: 100 * MB,
        mime_types: &[
            "text/plain",
            "text/csv",
            "application/pdf",
            "application/msword",
            "application/vnd.ms-excel",
            "application/vnd.ms-powerpoint",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            "application/zip",
        ],
        caption: true,
    },
    MediaLimit {
        kind: "sticker",
        max_bytes: 500 * KB,
        mime_types: &["image/webp"],
        caption: false,
    },
];

/// The largest static (not animated) sticker, in bytes.
pub const MAX_STATIC_STICKER_BYTES: u64 = 100 * KB;

/// Returns the limits of a media kind.
pub fn media_limit(kind: &str) -> Option<&'static MediaLimit> {
    MEDIA_LIMITS.iter().find(|limit| limit.kind == kind)
}

/// Returns the media kind a MIME type is sent as by default (`audio/ogg`
/// is audio; a voice note says `voice` itself).
pub fn media_kind_for_mime(mime_type: &str) -> Option<&'static str> {
    let essence = mime_essence(mime_type);
    MEDIA_LIMITS
        .iter()
        .filter(|limit| limit.kind != "voice")
        .find(|limit| limit.mime_types.contains(&essence.as_str()))
        .map(|limit| limit.kind)
}

/// Returns a MIME type without parameters, lowercased (`audio/ogg;
/// codecs=opus` is `audio/ogg`).
pub fn mime_essence(mime_type: &str) -> String {
    mime_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// Every limit as JSON, for the generated TypeScript (`MESSAGE_LIMITS`).
pub fn as_json() -> serde_json::Value {
    serde_json::json!({
        "max_text_chars": MAX_TEXT_CHARS,
        "max_caption_chars": MAX_CAPTION_CHARS,
        "max_buttons_body_chars": MAX_BUTTONS_BODY_CHARS,
        "max_list_body_chars": MAX_LIST_BODY_CHARS,
        "max_header_footer_chars": MAX_HEADER_FOOTER_CHARS,
        "max_reply_buttons": MAX_REPLY_BUTTONS,
        "max_button_title_chars": MAX_BUTTON_TITLE_CHARS,
        "max_button_id_chars": MAX_BUTTON_ID_CHARS,
        "max_list_button_chars": MAX_LIST_BUTTON_CHARS,
        "max_list_sections": MAX_LIST_SECTIONS,
        "max_list_rows": MAX_LIST_ROWS,
        "max_section_title_chars": MAX_SECTION_TITLE_CHARS,
        "max_row_title_chars": MAX_ROW_TITLE_CHARS,
        "max_row_id_chars": MAX_ROW_ID_CHARS,
        "max_row_description_chars": MAX_ROW_DESCRIPTION_CHARS,
        "max_template_name_chars": MAX_TEMPLATE_NAME_CHARS,
        "max_static_sticker_bytes": MAX_STATIC_STICKER_BYTES,
        "media": MEDIA_LIMITS,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mime_types_pick_their_kind() {
        assert_eq!(media_kind_for_mime("image/JPEG"), Some("image"));
        assert_eq!(media_kind_for_mime("audio/ogg; codecs=opus"), Some("audio"));
        assert_eq!(media_kind_for_mime("application/pdf"), Some("document"));
        assert_eq!(media_kind_for_mime("image/webp"), Some("sticker"));
        assert_eq!(media_kind_for_mime("application/x-msdownload"), None);
        assert_eq!(
            media_limit("video").map(|limit| limit.max_bytes),
            Some(16 * MB)
        );
    }
}
