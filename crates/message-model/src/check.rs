//! Checks outbound content against WhatsApp's limits ([`crate::limits`]).
//!
//! Every problem names the JSON path of the field at fault, relative to the
//! content (`text`, `buttons[3]`, `sections[0].rows[2].title`), so callers
//! prefix it with where the content sits (`content.`, `nodes[4].`).

use serde::Serialize;

use crate::limits::{self, media_limit, mime_essence};
use crate::{Content, ListSection, Media, ReplyButton, Template, TemplateParameter};

/// One thing wrong with outbound content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContentProblem {
    /// The JSON path of the field, relative to the content.
    pub path: String,
    /// A stable code: `too_long`, `too_many`, `missing`, `out_of_range`,
    /// `duplicate`, `mime_type`, `too_large`, `inbound_only`, `invalid`.
    pub code: &'static str,
    /// What is wrong, for people.
    pub message: String,
}

fn chars(text: &str) -> usize {
    text.chars().count()
}

struct Problems(Vec<ContentProblem>);

impl Problems {
    fn push(&mut self, path: impl Into<String>, code: &'static str, message: impl Into<String>) {
        self.0.push(ContentProblem {
            path: path.into(),
            code,
            message: message.into(),
        });
    }

    fn max_chars(&mut self, path: &str, text: &str, max: usize, what: &str) {
        let n = chars(text);
        if n > max {
            self.push(
                path,
                "too_long",
                format!("{what} is {n} characters; WhatsApp allows at most {max}"),
            );
        }
    }

    fn required(&mut self, path: &str, text: &str, what: &str) {
        if text.trim().is_empty() {
            self.push(path, "missing", format!("{what} must not be empty"));
        }
    }
}

/// Checks content the platform is about to send; an empty list means
/// WhatsApp's documented limits are met.
pub fn check_outbound(content: &Content) -> Vec<ContentProblem> {
    let mut problems = Problems(Vec::new());
    match content {
        Content::Text { text, .. } => {
            problems.required("text", text, "the text");
            problems.max_chars("text", text, limits::MAX_TEXT_CHARS, "the text");
        }
        Content::Image(media)
        | Content::Video(media)
        | Content::Audio(media)
        | Content::Voice(media)
        | Content::Document(media)
        | Content::Sticker(media) => check_media(&mut problems, content.kind(), media),
        Content::Location(location) => {
            if !(-90.0..=90.0).contains(&location.latitude) {
                problems.push(
                    "latitude",
                    "out_of_range",
                    format!("latitude {} is not between -90 and 90", location.latitude),
                );
            }
            if !(-180.0..=180.0).contains(&location.longitude) {
                problems.push(
                    "longitude",
                    "out_of_range",
                    format!(
                        "longitude {} is not between -180 and 180",
                        location.longitude
                    ),
                );
            }
            for (field, value) in [("name", &location.name), ("address", &location.address)] {
                if let Some(value) = value {
                    problems.max_chars(field, value, limits::MAX_LOCATION_TEXT_CHARS, field);
                }
            }
        }
        Content::Contacts { contacts } => {
            if contacts.is_empty() {
                problems.push("contacts", "missing", "at least one contact card is needed");
            }
            if contacts.len() > limits::MAX_SHARED_CONTACTS {
                problems.push(
                    "contacts",
                    "too_many",
                    format!(
                        "{} contact cards; at most {}",
                        contacts.len(),
                        limits::MAX_SHARED_CONTACTS
                    ),
                );
            }
            for (index, contact) in contacts.iter().enumerate() {
                problems.required(
                    &format!("contacts[{index}].name.formatted_name"),
                    &contact.name.formatted_name,
                    "a contact's formatted name",
                );
            }
        }
        Content::Reaction { message_id, emoji } => {
            problems.required("message_id", message_id, "the reacted message's id");
            // One emoji can be several code points (skin tones, ZWJ
            // sequences); ten covers them and refuses a sentence.
            if chars(emoji) > 10 {
                problems.push("emoji", "invalid", "a reaction is one emoji");
            }
        }
        Content::Buttons {
            text,
            header,
            footer,
            buttons,
        } => {
            problems.required("text", text, "the body of a buttons message");
            problems.max_chars(
                "text",
                text,
                limits::MAX_BUTTONS_BODY_CHARS,
                "the body of a buttons message",
            );
            check_header_footer(&mut problems, header, footer);
            check_buttons(&mut problems, buttons);
        }
        Content::List {
            text,
            header,
            footer,
            button,
            sections,
        } => {
            problems.required("text", text, "the body of a list message");
            problems.max_chars(
                "text",
                text,
                limits::MAX_LIST_BODY_CHARS,
                "the body of a list message",
            );
            check_header_footer(&mut problems, header, footer);
            problems.required("button", button, "the list's button label");
            problems.max_chars(
                "button",
                button,
                limits::MAX_LIST_BUTTON_CHARS,
                "the list's button label",
            );
            check_sections(&mut problems, sections);
        }
        Content::Template(template) => check_template(&mut problems, template),
        Content::ButtonReply { .. }
        | Content::ListReply { .. }
        | Content::System { .. }
        | Content::Unknown { .. } => problems.push(
            "kind",
            "inbound_only",
            format!("a {} message can only be received", content.kind()),
        ),
    }
    problems.0
}

fn check_header_footer(problems: &mut Problems, header: &Option<String>, footer: &Option<String>) {
    for (field, value) in [("header", header), ("footer", footer)] {
        if let Some(value) = value {
            problems.max_chars(field, value, limits::MAX_HEADER_FOOTER_CHARS, field);
        }
    }
}

fn check_buttons(problems: &mut Problems, buttons: &[ReplyButton]) {
    if buttons.is_empty() {
        problems.push("buttons", "missing", "a buttons message needs a button");
    }
    if buttons.len() > limits::MAX_REPLY_BUTTONS {
        problems.push(
            format!("buttons[{}]", limits::MAX_REPLY_BUTTONS),
            "too_many",
            format!(
                "{} buttons; WhatsApp shows at most {}",
                buttons.len(),
                limits::MAX_REPLY_BUTTONS
            ),
        );
    }
    for (index, button) in buttons.iter().enumerate() {
        let path = format!("buttons[{index}]");
        problems.required(&format!("{path}.id"), &button.id, "a button id");
        problems.max_chars(
            &format!("{path}.id"),
            &button.id,
            limits::MAX_BUTTON_ID_CHARS,
            "a button id",
        );
        problems.required(&format!("{path}.title"), &button.title, "a button title");
        problems.max_chars(
            &format!("{path}.title"),
            &button.title,
            limits::MAX_BUTTON_TITLE_CHARS,
            "a button title",
        );
        if buttons[..index].iter().any(|other| other.id == button.id) {
            problems.push(
                format!("{path}.id"),
                "duplicate",
                format!("button id {:?} is used twice", button.id),
            );
        }
    }
}

fn check_sections(problems: &mut Problems, sections: &[ListSection]) {
    if sections.is_empty() {
        problems.push("sections", "missing", "a list needs a section");
    }
    if sections.len() > limits::MAX_LIST_SECTIONS {
        problems.push(
            "sections",
            "too_many",
            format!(
                "{} sections; at most {}",
                sections.len(),
                limits::MAX_LIST_SECTIONS
            ),
        );
    }
    let n_rows: usize = sections.iter().map(|section| section.rows.len()).sum();
    if n_rows > limits::MAX_LIST_ROWS {
        problems.push(
            "sections",
            "too_many",
            format!(
                "{n_rows} rows; WhatsApp shows at most {} over all sections",
                limits::MAX_LIST_ROWS
            ),
        );
    }
    let mut seen: Vec<&str> = Vec::new();
    for (s, section) in sections.iter().enumerate() {
        if let Some(title) = &section.title {
            problems.max_chars(
                &format!("sections[{s}].title"),
                title,
                limits::MAX_SECTION_TITLE_CHARS,
                "a section title",
            );
        } else if sections.len() > 1 {
            problems.push(
                format!("sections[{s}].title"),
                "missing",
                "each section needs a title when there are several",
            );
        }
        if section.rows.is_empty() {
            problems.push(
                format!("sections[{s}].rows"),
                "missing",
                "a section needs a row",
            );
        }
        for (r, row) in section.rows.iter().enumerate() {
            let path = format!("sections[{s}].rows[{r}]");
            problems.required(&format!("{path}.id"), &row.id, "a row id");
            problems.max_chars(
                &format!("{path}.id"),
                &row.id,
                limits::MAX_ROW_ID_CHARS,
                "a row id",
            );
            problems.required(&format!("{path}.title"), &row.title, "a row title");
            problems.max_chars(
                &format!("{path}.title"),
                &row.title,
                limits::MAX_ROW_TITLE_CHARS,
                "a row title",
            );
            if let Some(description) = &row.description {
                problems.max_chars(
                    &format!("{path}.description"),
                    description,
                    limits::MAX_ROW_DESCRIPTION_CHARS,
                    "a row description",
                );
            }
            if seen.contains(&row.id.as_str()) {
                problems.push(
                    format!("{path}.id"),
                    "duplicate",
                    format!("row id {:?} is used twice", row.id),
                );
            }
            seen.push(&row.id);
        }
    }
}

fn check_media(problems: &mut Problems, kind: &str, media: &Media) {
    if media.url.is_none() && media.media_id.is_none() && media.storage_key.is_none() {
        problems.push(
            "url",
            "missing",
            format!("a {kind} needs a url, a media_id or a storage_key"),
        );
    }
    if let Some(url) = &media.url {
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            problems.push("url", "invalid", "a media url must be http(s)");
        }
    }
    let Some(limit) = media_limit(kind) else {
        return;
    };
    if let Some(caption) = &media.caption {
        if limit.caption {
            problems.max_chars("caption", caption, limits::MAX_CAPTION_CHARS, "the caption");
        } else if !caption.is_empty() {
            problems.push(
                "caption",
                "invalid",
                format!("WhatsApp shows no caption on a {kind}"),
            );
        }
    }
    if let Some(mime_type) = &media.mime_type {
        if let Some(problem) = mime_problem(kind, mime_type) {
            problems.push("mime_type", "mime_type", problem);
        }
    }
    if let Some(size) = media.size_bytes {
        if let Some(problem) = size_problem(kind, size, media.animated.unwrap_or(false)) {
            problems.push("size_bytes", "too_large", problem);
        }
    }
}

fn mime_problem(kind: &str, mime_type: &str) -> Option<String> {
    let limit = media_limit(kind)?;
    let essence = mime_essence(mime_type);
    (!limit.mime_types.contains(&essence.as_str())).then(|| {
        format!(
            "WhatsApp does not accept {essence} as a {kind}; use {}",
            limit.mime_types.join(", ")
        )
    })
}

fn size_problem(kind: &str, size: u64, animated: bool) -> Option<String> {
    let limit = media_limit(kind)?;
    let max = if kind == "sticker" && !animated {
        limits::MAX_STATIC_STICKER_BYTES
    } else {
        limit.max_bytes
    };
    (size > max).then(|| format!("the {kind} is {size} bytes; WhatsApp accepts at most {max}"))
}

/// Checks a media file's actual type and size before it is stored or sent
/// (the daemon calls this with the downloaded or uploaded bytes' length).
pub fn check_outbound_media_file(
    kind: &str,
    mime_type: &str,
    size: u64,
    animated: bool,
) -> Result<(), String> {
    if media_limit(kind).is_none() {
        return Err(format!("{kind} is not a media kind"));
    }
    if let Some(problem) = mime_problem(kind, mime_type) {
        return Err(problem);
    }
    match size_problem(kind, size, animated) {
        Some(problem) => Err(problem),
        None => Ok(()),
    }
}

/// Checks a file a contact sent before it is stored. A document may be of
/// any type (a contact may send any file, and one the platform cannot show
/// is still the contact's message); the other kinds must be of their family
/// (`image/*` for images and stickers, `video/*`, `audio/*` for audio and
/// voice notes), so an executable sent as a "picture" is not kept as one.
/// Every kind is bounded by the largest file WhatsApp delivers for it.
pub fn check_inbound_media_file(
    kind: &str,
    mime_type: &str,
    size: u64,
    animated: bool,
) -> Result<(), String> {
    if media_limit(kind).is_none() {
        return Err(format!("{kind} is not a media kind"));
    }
    let family = match kind {
        "image" | "sticker" => Some("image/"),
        "video" => Some("video/"),
        "audio" | "voice" => Some("audio/"),
        _ => None,
    };
    let essence = mime_essence(mime_type);
    if let Some(family) = family {
        if !essence.starts_with(family) {
            return Err(format!("a {kind} must be a {family}* file, not {essence}"));
        }
    }
    match size_problem(kind, size, animated) {
        Some(problem) => Err(problem),
        None => Ok(()),
    }
}

fn check_template(problems: &mut Problems, template: &Template) {
    let name_ok = !template.name.is_empty()
        && chars(&template.name) <= limits::MAX_TEMPLATE_NAME_CHARS
        && template
            .name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !name_ok {
        problems.push(
            "name",
            "invalid",
            "a template name is 1 to 512 lowercase letters, digits or underscores",
        );
    }
    let language_ok = (2..=15).contains(&template.language.len())
        && template
            .language
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !language_ok {
        problems.push(
            "language",
            "invalid",
            "a template language is a code such as en or en_US",
        );
    }
    for (c, component) in template.components.iter().enumerate() {
        for (p, parameter) in component.parameters.iter().enumerate() {
            let path = format!("components[{c}].parameters[{p}]");
            match parameter {
                TemplateParameter::Text { text } => {
                    problems.required(&format!("{path}.text"), text, "a text parameter")
                }
                TemplateParameter::Image { media } => {
                    check_parameter_media(problems, &path, "image", media)
                }
                TemplateParameter::Video { media } => {
                    check_parameter_media(problems, &path, "video", media)
                }
                TemplateParameter::Document { media } => {
                    check_parameter_media(problems, &path, "document", media)
                }
                TemplateParameter::Currency { .. }
                | TemplateParameter::DateTime { .. }
                | TemplateParameter::Payload { .. } => {}
            }
        }
    }
}

fn check_parameter_media(problems: &mut Problems, path: &str, kind: &str, media: &Media) {
    let mut inner = Problems(Vec::new());
    check_media(&mut inner, kind, media);
    for problem in inner.0 {
        problems.push(
            format!("{path}.media.{}", problem.path),
            problem.code,
            problem.message,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ListRow;

    fn paths(content: &Content) -> Vec<(String, &'static str)> {
        check_outbound(content)
            .into_iter()
            .map(|problem| (problem.path, problem.code))
            .collect()
    }

    #[test]
    fn a_button_title_over_twenty_characters_is_named() {
        let content = Content::Buttons {
            text: "Pick one".into(),
            header: None,
            footer: None,
            buttons: vec![
                ReplyButton {
                    id: "a".into(),
                    title: "Fine".into(),
                },
                ReplyButton {
                    id: "b".into(),
                    title: "This title is far too long".into(),
                },
            ],
        };
        assert_eq!(
            paths(&content),
            vec![("buttons[1].title".to_owned(), "too_long")]
        );
    }

    #[test]
    fn four_buttons_and_eleven_rows_are_too_many() {
        let button = |id: &str| ReplyButton {
            id: id.into(),
            title: id.into(),
        };
        let content = Content::Buttons {
            text: "x".into(),
            header: None,
            footer: None,
            buttons: vec![button("1"), button("2"), button("3"), button("4")],
        };
        assert_eq!(paths(&content), vec![("buttons[3]".to_owned(), "too_many")]);
        let rows = (0..11)
            .map(|n| ListRow {
                id: n.to_string(),
                title: n.to_string(),
                description: None,
            })
            .collect();
        let content = Content::List {
            text: "x".into(),
            header: None,
            footer: None,
            button: "Open".into(),
            sections: vec![ListSection { title: None, rows }],
        };
        assert_eq!(paths(&content), vec![("sections".to_owned(), "too_many")]);
    }

    #[test]
    fn media_needs_a_source_the_right_type_and_size() {
        let content = Content::Image(Media {
            mime_type: Some("image/gif".into()),
            size_bytes: Some(6 * 1024 * 1024),
            caption: Some("c".repeat(1025)),
            ..Media::default()
        });
        assert_eq!(
            paths(&content),
            vec![
                ("url".to_owned(), "missing"),
                ("caption".to_owned(), "too_long"),
                ("mime_type".to_owned(), "mime_type"),
                ("size_bytes".to_owned(), "too_large"),
            ]
        );
        assert!(check_outbound_media_file("image", "image/png", 1000, false).is_ok());
        assert!(check_outbound_media_file("sticker", "image/webp", 200 * 1024, false).is_err());
        assert!(check_outbound_media_file("sticker", "image/webp", 200 * 1024, true).is_ok());
        let error =
            check_outbound_media_file("document", "application/pdf", 101 * 1024 * 1024, false)
                .unwrap_err();
        assert!(error.contains("at most 104857600"), "{error}");
        // A received document keeps any type; other kinds keep their family.
        assert!(check_inbound_media_file("document", "application/x-rar", 2048, false).is_ok());
        assert!(check_inbound_media_file("image", "image/heic", 2048, false).is_ok());
        let error =
            check_inbound_media_file("image", "application/x-msdownload", 20, false).unwrap_err();
        assert!(error.contains("image/*"), "{error}");
        assert!(check_inbound_media_file("sticker", "image/webp", 400 * 1024, true).is_ok());
        assert!(check_inbound_media_file("image", "image/png", 6 * 1024 * 1024, false).is_err());
    }

    #[test]
    fn text_limits_and_inbound_only_kinds() {
        assert_eq!(
            paths(&Content::text("x".repeat(4097))),
            vec![("text".to_owned(), "too_long")]
        );
        assert!(check_outbound(&Content::text("x".repeat(4096))).is_empty());
        assert_eq!(
            paths(&Content::ButtonReply {
                id: "1".into(),
                title: "One".into()
            }),
            vec![("kind".to_owned(), "inbound_only")]
        );
    }

    #[test]
    fn templates_need_a_valid_name_and_language() {
        let content = Content::Template(Template {
            name: "Order Update".into(),
            language: "en-US".into(),
            components: vec![],
        });
        assert_eq!(
            paths(&content),
            vec![
                ("name".to_owned(), "invalid"),
                ("language".to_owned(), "invalid")
            ]
        );
    }
}
