//! The bot definition format, version 1.
//!
//! A definition is JSON: a list of [`Trigger`]s that start the bot, a list of
//! [`Node`]s that form its flows, and a fallback reply for messages nothing
//! matches. [`BotDefinition::validate`] reports every problem at once, each
//! with the JSON path of the offending field, so an editor can point at it.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// The only definition format this crate understands.
pub const FORMAT_VERSION: u32 = 1;

/// A complete bot definition as stored in `bot_versions.definition`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BotDefinition {
    /// The definition format version; must be [`FORMAT_VERSION`].
    pub format: u32,
    /// A human-readable name for the bot.
    pub name: String,
    /// What starts a flow; the highest priority match wins.
    #[serde(default)]
    pub triggers: Vec<Trigger>,
    /// Every node of every flow, referenced by id.
    pub nodes: Vec<Node>,
    /// The reply sent when no trigger and no awaited answer matches.
    #[serde(default)]
    pub fallback: Option<String>,
}

/// How a trigger compares the inbound text with its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TriggerMatch {
    /// The whole normalised message equals the normalised value.
    Exact,
    /// The normalised value occurs in the message as whole words.
    Keyword,
    /// Every message matches (useful as a lowest-priority catch-all).
    Any,
}

/// A rule that starts the flow at a node when an inbound message matches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trigger {
    /// The comparison to apply.
    #[serde(rename = "match")]
    pub match_kind: TriggerMatch,
    /// The text to compare with; ignored for [`TriggerMatch::Any`].
    #[serde(default)]
    pub value: String,
    /// The id of the node the flow starts at.
    pub start: String,
    /// Higher priorities are tried first; ties keep definition order.
    #[serde(default)]
    pub priority: i32,
}

/// One choice of a menu node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MenuOption {
    /// The answer that picks this option, typically "1", "2", ….
    pub key: String,
    /// Further words that pick this option.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// The node the flow continues at.
    pub next: String,
}

/// A step of a flow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Node {
    /// Sends a text, then continues at `next` (or ends when absent).
    Message {
        /// The node's unique id.
        id: String,
        /// The reply text, with `{{…}}` placeholders.
        text: String,
        /// The node to continue at.
        #[serde(default)]
        next: Option<String>,
    },
    /// Sends a prompt and waits for the contact to pick an option.
    Menu {
        /// The node's unique id.
        id: String,
        /// The prompt listing the options.
        text: String,
        /// The choices.
        options: Vec<MenuOption>,
        /// The reply to an answer that picks no option.
        #[serde(default)]
        invalid_text: Option<String>,
        /// How many invalid answers are tolerated before giving up.
        #[serde(default = "default_max_retries")]
        max_retries: u32,
        /// Where to continue once retries are exhausted (the fallback reply
        /// is sent and the flow ends when absent).
        #[serde(default)]
        on_retries_exhausted: Option<String>,
    },
    /// Ends the flow and clears what the conversation was waiting for.
    End {
        /// The node's unique id.
        id: String,
    },
}

fn default_max_retries() -> u32 {
    2
}

impl Node {
    /// Returns the node's id.
    pub fn id(&self) -> &str {
        match self {
            Node::Message { id, .. } | Node::Menu { id, .. } | Node::End { id } => id,
        }
    }

    /// Returns the ids this node can continue at, with the JSON path (relative
    /// to the node) of the field naming each.
    fn references(&self) -> Vec<(String, &str)> {
        match self {
            Node::Message { next, .. } => next
                .iter()
                .map(|next| ("next".to_string(), next.as_str()))
                .collect(),
            Node::Menu {
                options,
                on_retries_exhausted,
                ..
            } => {
                let mut references: Vec<(String, &str)> = options
                    .iter()
                    .enumerate()
                    .map(|(index, option)| (format!("options[{index}].next"), option.next.as_str()))
                    .collect();
                if let Some(target) = on_retries_exhausted {
                    references.push(("on_retries_exhausted".to_string(), target.as_str()));
                }
                references
            }
            Node::End { .. } => Vec::new(),
        }
    }
}

/// One problem found in a definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{path}: {message}")]
pub struct DefinitionError {
    /// The JSON path of the offending field, such as `$.nodes[2].next`.
    pub path: String,
    /// What is wrong, in a lowercase sentence.
    pub message: String,
}

impl DefinitionError {
    fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl BotDefinition {
    /// Parses a definition from JSON, reporting a malformed document as one
    /// error with the position serde found it at.
    pub fn from_json(json: &serde_json::Value) -> Result<Self, Vec<DefinitionError>> {
        BotDefinition::deserialize(json)
            .map_err(|error| vec![DefinitionError::new("$", error.to_string())])
    }

    /// Returns the node with `id`, if any.
    pub fn node(&self, id: &str) -> Option<&Node> {
        self.nodes.iter().find(|node| node.id() == id)
    }

    /// Checks the definition and returns every problem found, each with its
    /// JSON path. An empty list means the definition is usable.
    pub fn validate(&self) -> Vec<DefinitionError> {
        let mut errors = Vec::new();
        if self.format != FORMAT_VERSION {
            errors.push(DefinitionError::new(
                "$.format",
                format!(
                    "unsupported format {}, expected {FORMAT_VERSION}",
                    self.format
                ),
            ));
        }
        if self.name.trim().is_empty() {
            errors.push(DefinitionError::new("$.name", "name must not be empty"));
        }
        if self.nodes.is_empty() {
            errors.push(DefinitionError::new(
                "$.nodes",
                "a bot needs at least one node",
            ));
        }

        let mut first_index_by_id: BTreeMap<&str, usize> = BTreeMap::new();
        for (index, node) in self.nodes.iter().enumerate() {
            if node.id().trim().is_empty() {
                errors.push(DefinitionError::new(
                    format!("$.nodes[{index}].id"),
                    "node id must not be empty",
                ));
            }
            if let Some(first_index) = first_index_by_id.insert(node.id(), index) {
                first_index_by_id.insert(node.id(), first_index);
                errors.push(DefinitionError::new(
                    format!("$.nodes[{index}].id"),
                    format!(
                        "duplicate node id {:?}, first used at $.nodes[{first_index}]",
                        node.id()
                    ),
                ));
            }
        }
        let known_ids: BTreeSet<&str> = first_index_by_id.keys().copied().collect();

        for (index, node) in self.nodes.iter().enumerate() {
            for (field, target) in node.references() {
                if !known_ids.contains(target) {
                    errors.push(DefinitionError::new(
                        format!("$.nodes[{index}].{field}"),
                        format!("unknown node {target:?}"),
                    ));
                }
            }
            if let Node::Menu { options, .. } = node {
                if options.is_empty() {
                    errors.push(DefinitionError::new(
                        format!("$.nodes[{index}].options"),
                        "a menu needs at least one option",
                    ));
                }
            }
        }

        for (index, trigger) in self.triggers.iter().enumerate() {
            if !known_ids.contains(trigger.start.as_str()) {
                errors.push(DefinitionError::new(
                    format!("$.triggers[{index}].start"),
                    format!("unknown node {:?}", trigger.start),
                ));
            }
            if trigger.match_kind != TriggerMatch::Any
                && crate::normalize::normalize(&trigger.value).is_empty()
            {
                errors.push(DefinitionError::new(
                    format!("$.triggers[{index}].value"),
                    "value must contain a letter or digit",
                ));
            }
        }
        errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> serde_json::Value {
        serde_json::from_str(include_str!("../fixtures/demo-bot.json")).unwrap()
    }

    #[test]
    fn the_demo_fixture_is_valid() {
        let definition = BotDefinition::from_json(&demo()).unwrap();
        assert_eq!(definition.validate(), Vec::new());
    }

    #[test]
    fn reports_every_problem_with_its_path() {
        let mut json = demo();
        json["format"] = 7.into();
        json["nodes"][2]["next"] = "nowhere".into();
        json["nodes"][3]["id"] = "hours".into();
        json["triggers"][0]["start"] = "missing".into();
        let definition = BotDefinition::from_json(&json).unwrap();
        let paths: Vec<String> = definition
            .validate()
            .into_iter()
            .map(|error| error.path)
            .collect();
        assert_eq!(
            paths,
            vec![
                "$.format",
                "$.nodes[3].id",
                "$.nodes[1].options[1].next",
                "$.nodes[2].next",
                "$.triggers[0].start"
            ]
        );
    }

    #[test]
    fn rejects_unknown_fields_when_parsing() {
        let mut json = demo();
        json["colour"] = "blue".into();
        let errors = BotDefinition::from_json(&json).unwrap_err();
        assert!(errors[0].message.contains("colour"), "{errors:?}");
    }
}
