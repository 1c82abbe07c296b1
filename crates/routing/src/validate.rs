//! Validation reports and the structural parse of a definition.
//!
//! A bot definition is written by people, often by hand, so a bad one must
//! yield every problem at once, each with the JSON path of the offending
//! field (`$.nodes[3].next`), so an editor can point at it.
//!
//! # Two phases
//!
//! 1. **Structure** ([`parse_definition`]): every top-level field, trigger
//!    and node is deserialised on its own, so one malformed node does not
//!    hide the others. A document in another `format` stops here with that
//!    single problem, since its shape is unknown.
//! 2. **Meaning** ([`crate::CompiledBot::compile`]): references, reachability,
//!    loops, regexes, time zones, WhatsApp's limits, variables. It runs once
//!    the structure is sound, because the checks need the whole graph.
//!
//! # Errors and warnings
//!
//! An **error** makes a definition unusable (it cannot be compiled, so it
//! cannot be published). A **warning** points at something probably wrong
//! that routing copes with: an unreachable node, a variable never set, a
//! trigger that a command shadows. [`ProblemCode`] lists which is which.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::definition::{
    BotDefinition, BusinessHours, Commands, Node, OptOutSettings, Trigger, FORMAT_VERSION,
};

/// What kind of problem a [`Problem`] is; serialised in snake_case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemCode {
    /// Error: a field has the wrong type or shape.
    InvalidValue,
    /// Error: a field this format does not know (often a typo).
    UnknownField,
    /// Error: a required field is absent.
    MissingField,
    /// Error: the `format` is not one this engine understands.
    UnsupportedFormat,
    /// Error: a required name (bot, tag, attribute) is blank.
    EmptyName,
    /// Error: the definition has no nodes.
    NoNodes,
    /// Error: an id or menu key is blank.
    EmptyId,
    /// Error: two nodes, buttons, rows or menu options share an id or key.
    DuplicateId,
    /// Error: a reference names a node that does not exist.
    UnknownNode,
    /// Error: the bot has neither a trigger nor a `start` node.
    MissingEntry,
    /// Error: a regular expression does not compile.
    InvalidRegex,
    /// Error: a cycle of nodes none of which waits for the contact.
    LoopWithoutInput,
    /// Error: a time zone is not in the IANA database.
    UnknownTimeZone,
    /// Error: a time is not `HH:MM` or an interval is empty.
    InvalidTime,
    /// Error: a date is not `YYYY-MM-DD`.
    InvalidDate,
    /// Error: a `business_hours` condition without any hours to consult.
    MissingBusinessHours,
    /// Error: an exact or keyword trigger, or a command keyword, with no
    /// letter or digit.
    EmptyKeyword,
    /// Error: a menu without options or a choice input without choices.
    EmptyOptions,
    /// Error: a list message without rows.
    EmptyList,
    /// Error: more than three reply buttons.
    TooManyButtons,
    /// Error: more than ten list rows.
    TooManyRows,
    /// Error: a button, row or list button title over WhatsApp's limit.
    TitleTooLong,
    /// Error: a text that must be present is missing or blank.
    MissingText,
    /// Error: a message combines media with text, buttons or a list, or
    /// buttons with a list.
    ConflictingContent,
    /// Error: media without exactly one of `url`, `media_id` and
    /// `storage_key`, without a kind or MIME type, or of a MIME type
    /// WhatsApp does not accept for its kind.
    InvalidMedia,
    /// Error: a trigger or input names a message kind that does not exist.
    UnknownKind,
    /// Error: a template node's name or language is not one WhatsApp
    /// accepts.
    InvalidTemplate,
    /// Error: a comparison that needs a `value` has none, or a numeric
    /// comparison's value is not a number.
    MissingValue,
    /// Error: a variable name other than letters, digits and `_`.
    InvalidVariableName,
    /// Error: a contact field other than `name`, `wa_id`, `attributes.<key>`.
    InvalidContactField,
    /// Error: a lower bound above its upper bound.
    InvalidRange,
    /// Error: a text over WhatsApp's limit ([`MAX_TEXT_CHARS`] characters
    /// for any text, [`MAX_CAPTION_CHARS`] for a media caption).
    TextTooLong,
    /// Error: a text or key holds a character no text can carry (NUL,
    /// `\u0000`, which Postgres refuses in `jsonb` and WhatsApp in messages).
    InvalidCharacter,
    /// Error: the definition nests deeper than [`MAX_DEFINITION_DEPTH`]
    /// levels (no valid definition comes close), or is larger than the
    /// boundary reads.
    TooComplex,
    /// Warning: no trigger, start, command or other node leads to the node.
    UnreachableNode,
    /// Warning: a template or condition uses a variable nothing sets.
    UnknownVariable,
    /// Warning: a template placeholder this engine does not know.
    UnknownPlaceholder,
    /// Warning: a trigger identical to an earlier one.
    DuplicateTrigger,
    /// Warning: an exact trigger equal to a command or opt-out keyword,
    /// which always wins, so the trigger never fires.
    ShadowedTrigger,
}

/// One problem found in a definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(deny_unknown_fields)]
#[error("{path}: {message}")]
pub struct Problem {
    /// The JSON path of the offending field, such as `$.nodes[2].next`.
    pub path: String,
    /// The kind of problem.
    pub code: ProblemCode,
    /// What is wrong, in a lowercase sentence.
    pub message: String,
}

impl Problem {
    /// Creates a problem.
    pub fn new(path: impl Into<String>, code: ProblemCode, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            code,
            message: message.into(),
        }
    }
}

/// Every problem of a definition, errors apart from warnings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(deny_unknown_fields)]
#[error("invalid bot definition: {}", summarize(.errors))]
pub struct ValidationReport {
    /// Problems that make the definition unusable.
    pub errors: Vec<Problem>,
    /// Problems worth fixing that routing copes with.
    pub warnings: Vec<Problem>,
}

fn summarize(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl ValidationReport {
    /// Returns true when there is no error (warnings allowed).
    pub fn is_valid(&self) -> bool {
        self.errors.is_empty()
    }

    /// Records an error.
    pub fn error(
        &mut self,
        path: impl Into<String>,
        code: ProblemCode,
        message: impl Into<String>,
    ) {
        self.errors.push(Problem::new(path, code, message));
    }

    /// Records a warning.
    pub fn warning(
        &mut self,
        path: impl Into<String>,
        code: ProblemCode,
        message: impl Into<String>,
    ) {
        self.warnings.push(Problem::new(path, code, message));
    }
}

/// How deep a definition may nest, counting the top-level object as level 1.
/// The deepest valid field (`$.nodes[0].list.sections[0].rows[0].title`) is
/// at level 7; the bound keeps every walk over a hostile definition short.
pub const MAX_DEFINITION_DEPTH: usize = 32;

/// WhatsApp's limit on a text message's body, in characters; no string in a
/// definition may be longer.
pub const MAX_TEXT_CHARS: usize = 4096;

/// WhatsApp's limit on a media caption, in characters.
pub const MAX_CAPTION_CHARS: usize = 1024;

/// How many problems the bounds check reports before it stops looking, so
/// a hostile definition cannot make the report itself huge.
const MAX_BOUNDS_PROBLEMS: usize = 50;

/// Checks what holds for every part of a definition whatever its shape:
/// nesting at most [`MAX_DEFINITION_DEPTH`] levels, no string longer than
/// [`MAX_TEXT_CHARS`] characters, no NUL character in a string or a key.
///
/// The walk uses its own stack, never recursion, so it is safe on any
/// input, however deep.
pub fn check_bounds(json: &Value) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut pending: Vec<(&Value, String, usize)> = vec![(json, "$".to_string(), 1)];
    while let Some((value, path, depth)) = pending.pop() {
        if problems.len() >= MAX_BOUNDS_PROBLEMS {
            break;
        }
        match value {
            Value::String(text) => {
                if text.contains('\0') {
                    problems.push(Problem::new(
                        path,
                        ProblemCode::InvalidCharacter,
                        "text must not contain the NUL character (\\u0000)",
                    ));
                } else if text.chars().count() > MAX_TEXT_CHARS {
                    problems.push(Problem::new(
                        path,
                        ProblemCode::TextTooLong,
                        format!(
                            "a text has at most {MAX_TEXT_CHARS} characters (WhatsApp's limit); this one has {}",
                            text.chars().count()
                        ),
                    ));
                }
            }
            Value::Array(items) if depth >= MAX_DEFINITION_DEPTH && !items.is_empty() => {
                problems.push(too_deep(path));
            }
            Value::Object(fields) if depth >= MAX_DEFINITION_DEPTH && !fields.is_empty() => {
                problems.push(too_deep(path));
            }
            Value::Array(items) => {
                for (index, item) in items.iter().enumerate().rev() {
                    pending.push((item, format!("{path}[{index}]"), depth + 1));
                }
            }
            Value::Object(fields) => {
                let mut children = Vec::with_capacity(fields.len());
                for (key, item) in fields {
                    let child = child_path(&path, key);
                    if key.contains('\0') {
                        problems.push(Problem::new(
                            child.clone(),
                            ProblemCode::InvalidCharacter,
                            "a key must not contain the NUL character (\\u0000)",
                        ));
                    }
                    children.push((item, child, depth + 1));
                }
                pending.extend(children.into_iter().rev());
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }
    problems
}

fn too_deep(path: String) -> Problem {
    Problem::new(
        path,
        ProblemCode::TooComplex,
        format!("the definition nests deeper than {MAX_DEFINITION_DEPTH} levels here"),
    )
}

/// Checks a definition and returns every problem, errors and warnings.
pub fn validate(definition: &Value) -> ValidationReport {
    match crate::CompiledBot::compile(definition) {
        Ok(bot) => ValidationReport {
            errors: Vec::new(),
            warnings: bot.warnings().to_vec(),
        },
        Err(report) => report,
    }
}

/// Returns `parent.key`, or `parent["key"]` when the key is not a plain
/// identifier.
pub fn child_path(parent: &str, key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|character| character.is_ascii_alphanumeric() || character == '_');
    if plain {
        format!("{parent}.{key}")
    } else {
        let quoted = serde_json::to_string(key).unwrap_or_else(|_| format!("\"{key}\""));
        format!("{parent}[{quoted}]")
    }
}

const TOP_LEVEL_FIELDS: &[&str] = &[
    "format",
    "name",
    "triggers",
    "start",
    "nodes",
    "fallback",
    "conversation_timeout_minutes",
    "commands",
    "opt_out",
    "business_hours",
    "route_reactions",
    "route_system_messages",
];

const REQUIRED_FIELDS: &[&str] = &["format", "name", "nodes"];

/// Deserialises `value` (at `path`), recording serde's complaint as an
/// `invalid_value` error.
fn field<T: for<'de> Deserialize<'de>>(
    value: &Value,
    path: &str,
    report: &mut ValidationReport,
) -> Option<T> {
    match T::deserialize(value) {
        Ok(parsed) => Some(parsed),
        Err(error) => {
            report.error(path, ProblemCode::InvalidValue, error.to_string());
            None
        }
    }
}

/// Deserialises an array element by element, so every bad element is
/// reported with its index.
fn elements<T: for<'de> Deserialize<'de>>(
    value: &Value,
    path: &str,
    report: &mut ValidationReport,
) -> Option<Vec<T>> {
    let Some(items) = value.as_array() else {
        report.error(path, ProblemCode::InvalidValue, "expected an array");
        return None;
    };
    let mut parsed = Vec::with_capacity(items.len());
    let mut all_parsed = true;
    for (index, item) in items.iter().enumerate() {
        match field::<T>(item, &format!("{path}[{index}]"), report) {
            Some(item) => parsed.push(item),
            None => all_parsed = false,
        }
    }
    all_parsed.then_some(parsed)
}

/// Parses a definition's structure, reporting every malformed field,
/// trigger and node. Semantic checks are [`crate::CompiledBot::compile`]'s.
pub fn parse_definition(json: &Value) -> Result<BotDefinition, ValidationReport> {
    let mut report = ValidationReport::default();
    let bounds = check_bounds(json);
    if bounds
        .iter()
        .any(|problem| problem.code == ProblemCode::TooComplex)
    {
        // Nothing else is read from a definition this deep.
        report.errors = bounds;
        return Err(report);
    }
    report.errors = bounds;
    let Some(object) = json.as_object() else {
        report.error(
            "$",
            ProblemCode::InvalidValue,
            "a bot definition must be a json object",
        );
        return Err(report);
    };

    if let Some(format) = object.get("format") {
        match format.as_u64() {
            Some(format) if format == u64::from(FORMAT_VERSION) => {}
            _ => {
                report.error(
                    "$.format",
                    ProblemCode::UnsupportedFormat,
                    format!("unsupported format {format}, expected {FORMAT_VERSION}"),
                );
                return Err(report);
            }
        }
    }
    // Sorted, so the report does not depend on serde_json's map order.
    let mut keys: Vec<&String> = object.keys().collect();
    keys.sort();
    for key in keys {
        if !TOP_LEVEL_FIELDS.contains(&key.as_str()) {
            report.error(
                child_path("$", key),
                ProblemCode::UnknownField,
                format!("unknown field {key:?}"),
            );
        }
    }
    for key in REQUIRED_FIELDS {
        if !object.contains_key(*key) {
            report.error(
                child_path("$", key),
                ProblemCode::MissingField,
                format!("missing required field {key:?}"),
            );
        }
    }

    // Each part on its own, so that every problem is reported; the whole is
    // deserialised once they all passed.
    for key in TOP_LEVEL_FIELDS {
        let Some(value) = object.get(*key) else {
            continue;
        };
        let path = child_path("$", key);
        let report = &mut report;
        let _parsed = match *key {
            "triggers" => elements::<Trigger>(value, &path, report).is_some(),
            "nodes" => elements::<Node>(value, &path, report).is_some(),
            "name" => field::<String>(value, &path, report).is_some(),
            "start" | "fallback" => field::<Option<String>>(value, &path, report).is_some(),
            "conversation_timeout_minutes" => field::<u32>(value, &path, report).is_some(),
            "commands" => field::<Commands>(value, &path, report).is_some(),
            "opt_out" => field::<OptOutSettings>(value, &path, report).is_some(),
            "business_hours" => field::<Option<BusinessHours>>(value, &path, report).is_some(),
            "route_reactions" | "route_system_messages" => {
                field::<bool>(value, &path, report).is_some()
            }
            _ => false,
        };
    }
    if !report.errors.is_empty() {
        return Err(report);
    }
    BotDefinition::deserialize(json).map_err(|error| {
        // Not expected: every part parsed on its own above.
        report.error("$", ProblemCode::InvalidValue, error.to_string());
        report
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes_and_paths(report: &ValidationReport) -> Vec<(ProblemCode, &str)> {
        report
            .errors
            .iter()
            .map(|problem| (problem.code, problem.path.as_str()))
            .collect()
    }

    #[test]
    fn reports_every_structural_problem_with_its_path() {
        let json = serde_json::json!({
            "format": 1,
            "colour": "blue",
            "triggers": [{"match": "exact", "value": "hi", "start": "a"}, {"match": "sometimes", "start": "a"}],
            "nodes": [
                {"id": "a", "type": "message", "text": "hi"},
                {"id": "b", "type": "teleport"},
                {"id": "c", "type": "message", "nxt": "a"}
            ],
            "conversation_timeout_minutes": -1
        });
        let report = parse_definition(&json).unwrap_err();
        assert_eq!(
            codes_and_paths(&report),
            vec![
                (ProblemCode::UnknownField, "$.colour"),
                (ProblemCode::MissingField, "$.name"),
                (ProblemCode::InvalidValue, "$.triggers[1]"),
                (ProblemCode::InvalidValue, "$.nodes[1]"),
                (ProblemCode::InvalidValue, "$.nodes[2]"),
                (ProblemCode::InvalidValue, "$.conversation_timeout_minutes"),
            ]
        );
        assert!(report.errors[4].message.contains("nxt"), "{report:?}");
    }

    #[test]
    fn another_format_is_reported_alone() {
        let report =
            parse_definition(&serde_json::json!({"format": 2, "whatever": true})).unwrap_err();
        assert_eq!(
            codes_and_paths(&report),
            vec![(ProblemCode::UnsupportedFormat, "$.format")]
        );
        assert_eq!(report.errors[0].message, "unsupported format 2, expected 1");
    }

    /// `depth` arrays around a string, as a node's `text`.
    fn nested_text(depth: usize) -> Value {
        let mut text = Value::String("hi".into());
        for _ in 0..depth {
            text = Value::Array(vec![text]);
        }
        text
    }

    #[test]
    fn a_definition_nested_too_deep_is_one_error_at_its_path() {
        // Built as a Value, not parsed from text, so serde_json's own
        // recursion limit does not apply: the walk itself must be safe.
        // (`json!` would serialise an interpolated Value recursively.)
        let mut json = serde_json::json!({
            "format": 1, "name": "deep",
            "nodes": [{"id": "a", "type": "message", "text": null}]
        });
        json["nodes"][0]["text"] = nested_text(10_000);
        let report = parse_definition(&json).unwrap_err();
        assert_eq!(report.errors.len(), 1, "{report:?}");
        let problem = &report.errors[0];
        assert_eq!(problem.code, ProblemCode::TooComplex);
        assert!(
            problem.path.starts_with("$.nodes[0].text[0][0]"),
            "{}",
            problem.path
        );
        assert!(problem.message.contains("32 levels"), "{}", problem.message);
        // Dropping a 10,000-deep Value recurses in serde_json; leak it so
        // the test measures the walk, not serde_json's destructor.
        std::mem::forget(json);
    }

    #[test]
    fn a_text_over_whatsapps_limit_is_an_error_at_its_path() {
        let json = serde_json::json!({
            "format": 1, "name": "long",
            "nodes": [{"id": "a", "type": "message", "text": "é".repeat(MAX_TEXT_CHARS + 1)}]
        });
        let report = parse_definition(&json).unwrap_err();
        assert_eq!(
            codes_and_paths(&report),
            vec![(ProblemCode::TextTooLong, "$.nodes[0].text")]
        );
        assert!(report.errors[0].message.contains("4096"), "{report:?}");
        let at_limit = serde_json::json!({
            "format": 1, "name": "long",
            "nodes": [{"id": "a", "type": "message", "text": "é".repeat(MAX_TEXT_CHARS)}]
        });
        assert!(parse_definition(&at_limit).is_ok());
    }

    #[test]
    fn a_nul_character_is_an_error_at_its_path() {
        let json = serde_json::json!({
            "format": 1, "name": "nul\u{0}bot",
            "nodes": [{"id": "a", "type": "message", "text": "hi\u{0}"}]
        });
        let report = parse_definition(&json).unwrap_err();
        assert_eq!(
            codes_and_paths(&report),
            vec![
                (ProblemCode::InvalidCharacter, "$.name"),
                (ProblemCode::InvalidCharacter, "$.nodes[0].text"),
            ]
        );
    }

    #[test]
    fn quotes_keys_that_are_not_identifiers() {
        assert_eq!(child_path("$", "nodes"), "$.nodes");
        assert_eq!(child_path("$.vars", "order id"), "$.vars[\"order id\"]");
        assert_eq!(child_path("$", ""), "$[\"\"]");
    }

    #[test]
    fn a_non_object_is_one_error() {
        let report = parse_definition(&serde_json::json!([1, 2])).unwrap_err();
        assert_eq!(
            codes_and_paths(&report),
            vec![(ProblemCode::InvalidValue, "$")]
        );
        assert_eq!(
            report.to_string(),
            "invalid bot definition: $: a bot definition must be a json object"
        );
    }
}
