//! Validation of answers to input nodes.
//!
//! Each kind of [`InputValidation`] accepts some answers and turns them into
//! the value stored in the variable. Validation is deliberately forgiving
//! about form (spaces, `,` as a decimal separator, dashes in phone numbers)
//! and strict about substance, and the stored value is canonical so later
//! conditions and templates see one spelling.

use regex_lite::Regex;

use crate::definition::InputValidation;
use crate::normalize::normalize;

/// An input validation ready to run: regexes compiled, choices normalised.
#[derive(Debug, Clone)]
pub enum CompiledValidation {
    /// Any non-empty text within the length bounds.
    Text {
        /// The fewest characters accepted.
        min_length: Option<u32>,
        /// The most characters accepted.
        max_length: Option<u32>,
    },
    /// A number within the bounds.
    Number {
        /// The smallest value accepted.
        min: Option<f64>,
        /// The largest value accepted.
        max: Option<f64>,
        /// Whether only whole numbers are accepted.
        integer: bool,
    },
    /// An email address.
    Email,
    /// A phone number.
    Phone,
    /// One of the choices, each kept with its normalised form.
    Choice {
        /// `(normalised, as written)` pairs.
        choices: Vec<(String, String)>,
    },
    /// Text matching the regex.
    Regex(Regex),
    /// A message of one of these kinds (`media` already expanded).
    Attachment {
        /// The accepted kinds.
        accept: Vec<String>,
    },
}

impl CompiledValidation {
    /// Compiles a validation; the error is the regex compiler's message.
    pub fn compile(validation: &InputValidation) -> Result<Self, String> {
        Ok(match validation {
            InputValidation::Text {
                min_length,
                max_length,
            } => CompiledValidation::Text {
                min_length: *min_length,
                max_length: *max_length,
            },
            InputValidation::Number { min, max, integer } => CompiledValidation::Number {
                min: *min,
                max: *max,
                integer: *integer,
            },
            InputValidation::Email => CompiledValidation::Email,
            InputValidation::Phone => CompiledValidation::Phone,
            InputValidation::Choice { choices } => CompiledValidation::Choice {
                choices: choices
                    .iter()
                    .map(|choice| (normalize(choice), choice.clone()))
                    .collect(),
            },
            InputValidation::Regex { pattern } => {
                CompiledValidation::Regex(Regex::new(pattern).map_err(|error| error.to_string())?)
            }
            InputValidation::Attachment { accept } => {
                let mut kinds: Vec<String> = Vec::new();
                for kind in accept {
                    match kind.as_str() {
                        "media" => kinds.extend(
                            message_model::MEDIA_KINDS.iter().map(|kind| kind.to_string()),
                        ),
                        "image" | "video" | "audio" | "voice" | "document" | "sticker"
                        | "location" | "contacts" => kinds.push(kind.clone()),
                        other => {
                            return Err(format!(
                                "{other:?} is not a kind an input can ask for: use image, video, audio, voice, document, sticker, media, location or contacts"
                            ))
                        }
                    }
                }
                if kinds.is_empty() {
                    return Err("an attachment input needs at least one kind in accept".into());
                }
                CompiledValidation::Attachment { accept: kinds }
            }
        })
    }

    /// Returns true for an attachment input (which also stores the kind).
    pub fn is_attachment(&self) -> bool {
        matches!(self, CompiledValidation::Attachment { .. })
    }

    /// Accepts a message: attachments by kind, everything else by its text
    /// (see [`CompiledValidation::accept`]).
    pub fn accept_message(
        &self,
        message: &crate::engine::InboundMessage,
        reply_id: Option<&str>,
    ) -> Option<String> {
        if let CompiledValidation::Attachment { accept } = self {
            let kind = message.kind();
            if !accept.iter().any(|wanted| wanted == kind) {
                return None;
            }
            return Some(match &message.content {
                Some(message_model::Content::Location(location)) => {
                    format!("{},{}", location.latitude, location.longitude)
                }
                _ => message.id.clone(),
            });
        }
        self.accept(&message.text, reply_id)
    }

    /// Returns the value to store when `text` (or, for choices, the tapped
    /// `reply_id`) is a valid answer, and `None` otherwise; an attachment
    /// input takes no text.
    pub fn accept(&self, text: &str, reply_id: Option<&str>) -> Option<String> {
        let trimmed = text.trim();
        match self {
            CompiledValidation::Text {
                min_length,
                max_length,
            } => {
                let length = u32::try_from(trimmed.chars().count()).unwrap_or(u32::MAX);
                let long_enough = length >= min_length.unwrap_or(1).max(1);
                let short_enough = max_length.is_none_or(|max_length| length <= max_length);
                (long_enough && short_enough).then(|| trimmed.to_string())
            }
            CompiledValidation::Number { min, max, integer } => {
                let canonical = canonical_number(trimmed, *integer)?;
                let value: f64 = canonical.parse().ok()?;
                let above_min = min.is_none_or(|min| value >= min);
                let below_max = max.is_none_or(|max| value <= max);
                (above_min && below_max).then_some(canonical)
            }
            CompiledValidation::Email => is_email(trimmed).then(|| trimmed.to_string()),
            CompiledValidation::Phone => canonical_phone(trimmed),
            CompiledValidation::Choice { choices } => {
                let by_reply = reply_id.map(normalize);
                let typed = normalize(trimmed);
                choices
                    .iter()
                    .find(|(normalized, _)| {
                        !normalized.is_empty()
                            && (*normalized == typed || by_reply.as_ref() == Some(normalized))
                    })
                    .map(|(_, written)| written.clone())
            }
            CompiledValidation::Regex(regex) => {
                (!trimmed.is_empty() && regex.is_match(trimmed)).then(|| trimmed.to_string())
            }
            CompiledValidation::Attachment { .. } => None,
        }
    }
}

/// Returns `text` as a plain decimal number (optional `-`, digits, optional
/// `.` and digits), accepting `,` as the separator and a leading `+`.
fn canonical_number(text: &str, integer: bool) -> Option<String> {
    let unsigned = text.strip_prefix('+').unwrap_or(text);
    let (negative, digits) = match unsigned.strip_prefix('-') {
        Some(rest) if !text.starts_with('+') => (true, rest),
        _ => (false, unsigned),
    };
    let (whole, fraction) = match digits.split_once(['.', ',']) {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (digits, None),
    };
    let all_digits =
        |part: &str| !part.is_empty() && part.bytes().all(|byte| byte.is_ascii_digit());
    if !all_digits(whole) || fraction.is_some_and(|fraction| !all_digits(fraction)) {
        return None;
    }
    if integer && fraction.is_some_and(|fraction| fraction.bytes().any(|byte| byte != b'0')) {
        return None;
    }
    let mut canonical = String::with_capacity(text.len());
    if negative {
        canonical.push('-');
    }
    canonical.push_str(whole);
    if let Some(fraction) = fraction.filter(|_| !integer) {
        canonical.push('.');
        canonical.push_str(fraction);
    }
    Some(canonical)
}

/// A pragmatic email check: one `@`, a non-empty local part, a domain of
/// dot-separated non-empty labels with at least one dot, no whitespace.
fn is_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && !text.chars().any(char::is_whitespace)
        && domain.contains('.')
        && domain.split('.').all(|label| {
            !label.is_empty()
                && label
                    .chars()
                    .all(|character| character.is_alphanumeric() || character == '-')
        })
}

/// Returns the phone number as digits (with a leading `+` when written), or
/// `None` unless it has 7 to 15 digits and only separators besides.
fn canonical_phone(text: &str) -> Option<String> {
    let (plus, rest) = match text.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let mut digits = String::with_capacity(rest.len() + 1);
    if plus {
        digits.push('+');
    }
    for character in rest.chars() {
        match character {
            '0'..='9' => digits.push(character),
            ' ' | '-' | '.' | '(' | ')' => {}
            _ => return None,
        }
    }
    let count = digits.len() - usize::from(plus);
    (7..=15).contains(&count).then_some(digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compiled(validation: InputValidation) -> CompiledValidation {
        CompiledValidation::compile(&validation).unwrap()
    }

    #[test]
    fn text_is_trimmed_and_bounded() {
        let text = compiled(InputValidation::Text {
            min_length: Some(2),
            max_length: Some(5),
        });
        assert_eq!(text.accept("  Ana ", None), Some("Ana".into()));
        assert_eq!(text.accept("A", None), None);
        assert_eq!(text.accept("Anabela", None), None);
        assert_eq!(
            compiled(InputValidation::default()).accept("   ", None),
            None
        );
    }

    #[test]
    fn numbers_accept_commas_and_bounds() {
        let number = compiled(InputValidation::Number {
            min: Some(1.0),
            max: Some(10.0),
            integer: false,
        });
        assert_eq!(number.accept(" 2,5 ", None), Some("2.5".into()));
        assert_eq!(number.accept("+10", None), Some("10".into()));
        assert_eq!(number.accept("11", None), None);
        assert_eq!(number.accept("1e1", None), None);
        assert_eq!(number.accept("NaN", None), None);
        assert_eq!(number.accept("-", None), None);
        let integer = compiled(InputValidation::Number {
            min: None,
            max: None,
            integer: true,
        });
        assert_eq!(integer.accept("-3", None), Some("-3".into()));
        assert_eq!(integer.accept("3.00", None), Some("3".into()));
        assert_eq!(integer.accept("3.5", None), None);
        assert_eq!(integer.accept("+-3", None), None);
    }

    #[test]
    fn emails_and_phones() {
        let email = compiled(InputValidation::Email);
        assert_eq!(
            email.accept(" ada@example.com ", None),
            Some("ada@example.com".into())
        );
        for bad in [
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a b@x.io",
            "a@x..io",
        ] {
            assert_eq!(email.accept(bad, None), None, "{bad}");
        }
        let phone = compiled(InputValidation::Phone);
        assert_eq!(
            phone.accept("+351 912-345 678", None),
            Some("+351912345678".into())
        );
        assert_eq!(
            phone.accept("(555) 010.0002", None),
            Some("5550100002".into())
        );
        assert_eq!(phone.accept("12345", None), None);
        assert_eq!(phone.accept("call me", None), None);
    }

    #[test]
    fn choices_match_text_or_reply_id_and_store_the_written_form() {
        let choice = compiled(InputValidation::Choice {
            choices: vec!["Small".into(), "Médium".into()],
        });
        assert_eq!(choice.accept("MEDIUM!", None), Some("Médium".into()));
        assert_eq!(choice.accept("", Some("small")), Some("Small".into()));
        assert_eq!(choice.accept("large", None), None);
    }

    #[test]
    fn regexes_match_the_trimmed_answer() {
        let regex = compiled(InputValidation::Regex {
            pattern: "^[A-Z]-[0-9]+$".into(),
        });
        assert_eq!(regex.accept(" A-17 ", None), Some("A-17".into()));
        assert_eq!(regex.accept("a-17", None), None);
        assert!(CompiledValidation::compile(&InputValidation::Regex {
            pattern: "(".into()
        })
        .is_err());
    }
}
