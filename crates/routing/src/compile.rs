//! Compiling a definition: every semantic check, and the indexes routing
//! uses.
//!
//! [`CompiledBot::compile`] is the only way to get a [`CompiledBot`], so a
//! compiled bot is valid by construction and [`crate::route`] never checks
//! anything again. Compiling does, once per bot version, everything that
//! would otherwise be repeated per message:
//!
//! - node ids become indices (a map from id to index, and each reference
//!   resolved);
//! - trigger values, menu keys, titles and keywords, choices and command
//!   keywords are normalised;
//! - regexes are compiled and time zones resolved;
//! - triggers are indexed: exact values in a hash map, keyword triggers by
//!   their first word, regexes in priority order, so one message costs a few
//!   lookups rather than a pass over every trigger.
//!
//! The checks and the compilation are one pass, because checking a regex or
//! a time zone is compiling it.

use std::collections::{BTreeMap, BTreeSet};

use regex_lite::Regex;
use serde_json::Value;

use crate::definition::{
    BotDefinition, BusinessHours, Comparison, Condition, InputValidation, ListContent,
    MediaContent, MediaKind, MenuDisplay, MessageNode, Node, TemplateNode, TriggerMatch,
    MAX_BUTTON_TITLE_CHARS, MAX_LIST_ROWS, MAX_REPLY_BUTTONS, MAX_ROW_TITLE_CHARS,
};
use crate::definition::{BUILT_IN_OPT_IN_KEYWORDS, BUILT_IN_OPT_OUT_KEYWORDS};
use crate::hours::{CompiledHours, HoursError};
use crate::inputs::CompiledValidation;
use crate::normalize::{contains_words, normalize};
use crate::template::{classify, placeholders, PlaceholderKind};
use crate::validate::{
    child_path, parse_definition, Problem, ProblemCode, ValidationReport, MAX_CAPTION_CHARS,
    MAX_TEXT_CHARS,
};
use crate::version::FnvHashMap;

/// A validated, indexed bot definition, ready to route messages.
#[derive(Debug, Clone)]
pub struct CompiledBot {
    pub(crate) definition: BotDefinition,
    pub(crate) node_index: FnvHashMap<String, usize>,
    pub(crate) nodes: Vec<CompiledNode>,
    pub(crate) triggers: TriggerIndex,
    pub(crate) start: Option<usize>,
    pub(crate) menu_node: Option<usize>,
    pub(crate) restart_keywords: Vec<String>,
    pub(crate) menu_keywords: Vec<String>,
    pub(crate) opt_out_keywords: Vec<String>,
    pub(crate) opt_in_keywords: Vec<String>,
    pub(crate) hours: Vec<CompiledHours>,
    pub(crate) timeout_ms: i64,
    warnings: Vec<Problem>,
}

/// The compiled form of one node, parallel to the definition's node list.
#[derive(Debug, Clone)]
pub(crate) enum CompiledNode {
    Message {
        next: Option<usize>,
    },
    Menu {
        options: Vec<CompiledOption>,
        on_retries_exhausted: Option<usize>,
    },
    Input {
        validation: CompiledValidation,
        next: Option<usize>,
        on_retries_exhausted: Option<usize>,
    },
    Condition {
        rules: Vec<(CompiledCondition, usize)>,
        else_next: Option<usize>,
    },
    Set {
        next: Option<usize>,
    },
    Notify {
        next: Option<usize>,
    },
    Template {
        next: Option<usize>,
    },
    Handoff,
    End,
}

/// A menu option with its answers normalised.
#[derive(Debug, Clone)]
pub(crate) struct CompiledOption {
    pub(crate) key: String,
    pub(crate) normalized_key: String,
    pub(crate) normalized_title: Option<String>,
    pub(crate) normalized_keywords: Vec<String>,
    pub(crate) next: usize,
}

/// A condition with its comparison prepared.
#[derive(Debug, Clone)]
pub(crate) enum CompiledCondition {
    Variable {
        name: String,
        comparison: CompiledComparison,
    },
    Contact {
        field: ContactField,
        comparison: CompiledComparison,
    },
    Tag(String),
    /// An index into [`CompiledBot::hours`].
    BusinessHours(usize),
}

/// Which contact field a condition reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ContactField {
    Name,
    WaId,
    Attribute(String),
}

/// A comparison with its expected value normalised, parsed or compiled.
#[derive(Debug, Clone)]
pub(crate) struct CompiledComparison {
    pub(crate) op: Comparison,
    pub(crate) normalized_value: String,
    pub(crate) number: Option<f64>,
    pub(crate) regex: Option<Regex>,
}

impl CompiledComparison {
    /// Applies the comparison to a value (a missing value is empty text).
    pub(crate) fn test(&self, value: Option<&str>) -> bool {
        let raw = value.unwrap_or("");
        match self.op {
            Comparison::Equals => normalize(raw) == self.normalized_value,
            Comparison::NotEquals => normalize(raw) != self.normalized_value,
            Comparison::Contains => contains_words(&normalize(raw), &self.normalized_value),
            Comparison::Matches => self.regex.as_ref().is_some_and(|regex| regex.is_match(raw)),
            Comparison::Exists => !raw.trim().is_empty(),
            Comparison::Missing => raw.trim().is_empty(),
            Comparison::GreaterThan => parse_number(raw)
                .zip(self.number)
                .is_some_and(|(value, expected)| value > expected),
            Comparison::LessThan => parse_number(raw)
                .zip(self.number)
                .is_some_and(|(value, expected)| value < expected),
        }
    }
}

/// The triggers, indexed for matching.
#[derive(Debug, Clone, Default)]
pub(crate) struct TriggerIndex {
    /// Start node of each trigger, by rank (priority order, then definition
    /// order): the lower the rank, the stronger the trigger.
    pub(crate) start_by_rank: Vec<usize>,
    /// Normalised exact value to the best rank with that value.
    pub(crate) exact: FnvHashMap<String, usize>,
    /// First word of a keyword trigger to `(remaining words, rank)`.
    pub(crate) keyword_by_first_word: FnvHashMap<String, Vec<(Vec<String>, usize)>>,
    /// Regex triggers in rank order.
    pub(crate) regexes: Vec<(Regex, usize)>,
    /// The best rank of an `any` trigger.
    pub(crate) any: Option<usize>,
    /// `kind` triggers: the kind (or `media`) and its rank.
    pub(crate) kinds: Vec<(String, usize)>,
}

impl CompiledBot {
    /// Parses, checks and indexes a definition. On success the warnings are
    /// kept ([`CompiledBot::warnings`]); on failure the report has every
    /// error and warning found.
    pub fn compile(json: &Value) -> Result<CompiledBot, ValidationReport> {
        let definition = parse_definition(json)?;
        Self::from_definition(definition)
    }

    /// Checks and indexes an already parsed definition.
    pub fn from_definition(definition: BotDefinition) -> Result<CompiledBot, ValidationReport> {
        let mut compiler = Compiler {
            report: ValidationReport::default(),
            node_index: FnvHashMap::default(),
            hours: Vec::new(),
            top_level_hours: None,
        };
        let bot = compiler.compile(definition);
        if compiler.report.errors.is_empty() {
            Ok(CompiledBot {
                warnings: compiler.report.warnings,
                ..bot
            })
        } else {
            Err(compiler.report)
        }
    }

    /// Returns the definition this bot was compiled from.
    pub fn definition(&self) -> &BotDefinition {
        &self.definition
    }

    /// Returns the warnings found while compiling.
    pub fn warnings(&self) -> &[Problem] {
        &self.warnings
    }

    /// Returns the index of the node with `id`, if any.
    pub fn node_position(&self, id: &str) -> Option<usize> {
        self.node_index.get(id).copied()
    }
}

struct Compiler {
    report: ValidationReport,
    node_index: FnvHashMap<String, usize>,
    hours: Vec<CompiledHours>,
    top_level_hours: Option<usize>,
}

fn node_path(index: usize) -> String {
    format!("$.nodes[{index}]")
}

fn is_variable_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|character| character.is_ascii_alphanumeric() || character == '_')
}

fn is_blank(text: &Option<String>) -> bool {
    text.as_deref().is_none_or(|text| text.trim().is_empty())
}

impl Compiler {
    fn error(&mut self, path: impl Into<String>, code: ProblemCode, message: impl Into<String>) {
        self.report.error(path, code, message);
    }

    fn warning(&mut self, path: impl Into<String>, code: ProblemCode, message: impl Into<String>) {
        self.report.warning(path, code, message);
    }

    /// Resolves a reference, reporting an unknown one; an unknown reference
    /// resolves to 0, which is never used since the bot is then rejected.
    fn resolve(&mut self, path: impl Into<String>, target: &str) -> usize {
        match self.node_index.get(target) {
            Some(index) => *index,
            None => {
                self.error(
                    path,
                    ProblemCode::UnknownNode,
                    format!("unknown node {target:?}"),
                );
                0
            }
        }
    }

    fn resolve_optional(
        &mut self,
        path: impl Into<String>,
        target: &Option<String>,
    ) -> Option<usize> {
        target.as_deref().map(|target| self.resolve(path, target))
    }

    fn regex(&mut self, path: impl Into<String>, pattern: &str) -> Option<Regex> {
        match Regex::new(pattern) {
            Ok(regex) => Some(regex),
            Err(error) => {
                self.error(
                    path,
                    ProblemCode::InvalidRegex,
                    format!("invalid regular expression: {error}"),
                );
                None
            }
        }
    }

    fn business_hours(&mut self, path: &str, hours: &BusinessHours) -> Option<usize> {
        match CompiledHours::compile(hours) {
            Ok(compiled) => {
                self.hours.push(compiled);
                Some(self.hours.len() - 1)
            }
            Err(problems) => {
                for (relative_path, problem) in problems {
                    let code = match problem {
                        HoursError::UnknownTimeZone(_) => ProblemCode::UnknownTimeZone,
                        HoursError::InvalidTime(_) | HoursError::EmptyInterval { .. } => {
                            ProblemCode::InvalidTime
                        }
                        HoursError::InvalidDate(_) => ProblemCode::InvalidDate,
                    };
                    self.error(format!("{path}.{relative_path}"), code, problem.to_string());
                }
                None
            }
        }
    }

    fn keywords(&mut self, path: &str, keywords: &[String], built_in: &[&str]) -> Vec<String> {
        let mut normalized: Vec<String> =
            built_in.iter().map(|keyword| normalize(keyword)).collect();
        for (index, keyword) in keywords.iter().enumerate() {
            let keyword = normalize(keyword);
            if keyword.is_empty() {
                self.error(
                    format!("{path}[{index}]"),
                    ProblemCode::EmptyKeyword,
                    "a keyword must contain a letter or digit",
                );
            } else if !normalized.contains(&keyword) {
                normalized.push(keyword);
            }
        }
        normalized
    }

    fn compile(&mut self, definition: BotDefinition) -> CompiledBot {
        if definition.name.trim().is_empty() {
            self.error("$.name", ProblemCode::EmptyName, "name must not be empty");
        }
        if definition.nodes.is_empty() {
            self.error(
                "$.nodes",
                ProblemCode::NoNodes,
                "a bot needs at least one node",
            );
        }
        self.index_nodes(&definition);

        let start = self.resolve_optional("$.start", &definition.start);
        let menu_node =
            self.resolve_optional("$.commands.menu_node", &definition.commands.menu_node);
        if definition.triggers.is_empty() && definition.start.is_none() {
            self.error(
                "$",
                ProblemCode::MissingEntry,
                "the bot has no entry: add a trigger or a start node",
            );
        }
        let restart_keywords =
            self.keywords("$.commands.restart", &definition.commands.restart, &[]);
        let menu_keywords = self.keywords("$.commands.menu", &definition.commands.menu, &[]);
        let opt_out_keywords = self.keywords(
            "$.opt_out.keywords",
            &definition.opt_out.keywords,
            BUILT_IN_OPT_OUT_KEYWORDS,
        );
        let opt_in_keywords = self.keywords(
            "$.opt_out.opt_in_keywords",
            &definition.opt_out.opt_in_keywords,
            BUILT_IN_OPT_IN_KEYWORDS,
        );
        if let Some(hours) = &definition.business_hours {
            self.top_level_hours = self.business_hours("$.business_hours", hours);
        }

        let triggers = self.compile_triggers(&definition);
        let nodes: Vec<CompiledNode> = definition
            .nodes
            .iter()
            .enumerate()
            .map(|(index, node)| {
                self.compile_node(index, node, definition.business_hours.is_some())
            })
            .collect();

        self.check_loops(&definition);
        self.check_reachability(&definition);
        self.check_variables(&definition);
        self.check_trigger_shadows(
            &definition,
            &opt_out_keywords,
            menu_node.map(|_| &menu_keywords),
        );

        let timeout_ms = i64::from(definition.conversation_timeout_minutes) * 60_000;
        CompiledBot {
            node_index: std::mem::take(&mut self.node_index),
            nodes,
            triggers,
            start,
            menu_node,
            restart_keywords,
            menu_keywords,
            opt_out_keywords,
            opt_in_keywords,
            hours: std::mem::take(&mut self.hours),
            timeout_ms,
            warnings: Vec::new(),
            definition,
        }
    }

    fn index_nodes(&mut self, definition: &BotDefinition) {
        for (index, node) in definition.nodes.iter().enumerate() {
            let path = format!("{}.id", node_path(index));
            if node.id().trim().is_empty() {
                self.error(path, ProblemCode::EmptyId, "node id must not be empty");
            } else if let Some(first_index) = self.node_index.get(node.id()).copied() {
                self.error(
                    path,
                    ProblemCode::DuplicateId,
                    format!(
                        "duplicate node id {:?}, first used at {}",
                        node.id(),
                        node_path(first_index)
                    ),
                );
            } else {
                self.node_index.insert(node.id().to_string(), index);
            }
        }
    }

    fn compile_triggers(&mut self, definition: &BotDefinition) -> TriggerIndex {
        let mut index = TriggerIndex::default();
        let mut order: Vec<usize> = (0..definition.triggers.len()).collect();
        // Stable: ties keep definition order.
        order.sort_by_key(|position| std::cmp::Reverse(definition.triggers[*position].priority));
        let mut rank_of = vec![0; definition.triggers.len()];
        for (rank, position) in order.iter().enumerate() {
            rank_of[*position] = rank;
        }
        let mut start_by_rank = vec![0; definition.triggers.len()];
        let mut seen: BTreeMap<(u8, String), usize> = BTreeMap::new();
        for (position, trigger) in definition.triggers.iter().enumerate() {
            let path = format!("$.triggers[{position}]");
            let rank = rank_of[position];
            start_by_rank[rank] = self.resolve(format!("{path}.start"), &trigger.start);
            let normalized = normalize(&trigger.value);
            let (kind, key) = match trigger.match_kind {
                TriggerMatch::Exact => (0, normalized.clone()),
                TriggerMatch::Keyword => (1, normalized.clone()),
                TriggerMatch::Regex => (2, trigger.value.clone()),
                TriggerMatch::Any => (3, String::new()),
                TriggerMatch::Kind => (4, trigger.value.trim().to_ascii_lowercase()),
            };
            if let Some(first) = seen.get(&(kind, key.clone())) {
                self.warning(
                    path.clone(),
                    ProblemCode::DuplicateTrigger,
                    format!("the same trigger as $.triggers[{first}]"),
                );
            } else {
                seen.insert((kind, key), position);
            }
            match trigger.match_kind {
                TriggerMatch::Exact | TriggerMatch::Keyword if normalized.is_empty() => {
                    self.error(
                        format!("{path}.value"),
                        ProblemCode::EmptyKeyword,
                        "value must contain a letter or digit",
                    );
                }
                TriggerMatch::Exact => {
                    let best = index.exact.entry(normalized).or_insert(rank);
                    *best = (*best).min(rank);
                }
                TriggerMatch::Keyword => {
                    let mut words = normalized.split(' ').map(str::to_string);
                    let first = words.next().unwrap_or_default();
                    index
                        .keyword_by_first_word
                        .entry(first)
                        .or_default()
                        .push((words.collect(), rank));
                }
                TriggerMatch::Regex => {
                    let pattern = format!("(?i){}", trigger.value);
                    if Regex::new(&trigger.value).is_err() {
                        self.regex(format!("{path}.value"), &trigger.value);
                    } else if let Some(regex) = self.regex(format!("{path}.value"), &pattern) {
                        index.regexes.push((regex, rank));
                    }
                }
                TriggerMatch::Any => {
                    index.any = Some(index.any.map_or(rank, |best| best.min(rank)));
                }
                TriggerMatch::Kind => {
                    let kind = trigger.value.trim().to_ascii_lowercase();
                    if kind == "media" || message_model::KINDS.contains(&kind.as_str()) {
                        index.kinds.push((kind, rank));
                    } else {
                        self.error(
                            format!("{path}.value"),
                            ProblemCode::UnknownKind,
                            format!(
                                "{:?} is not a message kind: use media or one of {}",
                                trigger.value,
                                message_model::KINDS.join(", ")
                            ),
                        );
                    }
                }
            }
        }
        index.regexes.sort_by_key(|(_, rank)| *rank);
        index.start_by_rank = start_by_rank;
        index
    }

    fn compile_node(
        &mut self,
        index: usize,
        node: &Node,
        has_top_level_hours: bool,
    ) -> CompiledNode {
        let path = node_path(index);
        match node {
            Node::Message(message) => {
                self.check_message(&path, message);
                CompiledNode::Message {
                    next: self.resolve_optional(format!("{path}.next"), &message.next),
                }
            }
            Node::Menu(menu) => {
                if menu.text.trim().is_empty() {
                    self.error(
                        format!("{path}.text"),
                        ProblemCode::MissingText,
                        "a menu needs a prompt",
                    );
                }
                if menu.options.is_empty() {
                    self.error(
                        format!("{path}.options"),
                        ProblemCode::EmptyOptions,
                        "a menu needs at least one option",
                    );
                }
                let mut keys: BTreeMap<String, usize> = BTreeMap::new();
                let mut options = Vec::with_capacity(menu.options.len());
                for (option_index, option) in menu.options.iter().enumerate() {
                    let option_path = format!("{path}.options[{option_index}]");
                    let normalized_key = normalize(&option.key);
                    if normalized_key.is_empty() {
                        self.error(
                            format!("{option_path}.key"),
                            ProblemCode::EmptyId,
                            "an option key must contain a letter or digit",
                        );
                    } else if let Some(first) = keys.get(&normalized_key) {
                        self.error(
                            format!("{option_path}.key"),
                            ProblemCode::DuplicateId,
                            format!(
                                "duplicate option key {:?}, first used at {path}.options[{first}]",
                                option.key
                            ),
                        );
                    } else {
                        keys.insert(normalized_key.clone(), option_index);
                    }
                    let label = option.title.as_deref().unwrap_or(&option.key);
                    match menu.display {
                        MenuDisplay::Buttons => self.check_title(
                            &format!("{option_path}.title"),
                            label,
                            MAX_BUTTON_TITLE_CHARS,
                            "button title",
                        ),
                        MenuDisplay::List => self.check_title(
                            &format!("{option_path}.title"),
                            label,
                            MAX_ROW_TITLE_CHARS,
                            "row title",
                        ),
                        MenuDisplay::Text => {}
                    }
                    options.push(CompiledOption {
                        key: option.key.clone(),
                        normalized_key,
                        normalized_title: option
                            .title
                            .as_deref()
                            .map(normalize)
                            .filter(|title| !title.is_empty()),
                        normalized_keywords: option
                            .keywords
                            .iter()
                            .map(|keyword| normalize(keyword))
                            .filter(|keyword| !keyword.is_empty())
                            .collect(),
                        next: self.resolve(format!("{option_path}.next"), &option.next),
                    });
                }
                match menu.display {
                    MenuDisplay::Buttons if menu.options.len() > MAX_REPLY_BUTTONS => self.error(
                        format!("{path}.options"),
                        ProblemCode::TooManyButtons,
                        format!("a menu shown as buttons has at most {MAX_REPLY_BUTTONS} options"),
                    ),
                    MenuDisplay::List if menu.options.len() > MAX_LIST_ROWS => self.error(
                        format!("{path}.options"),
                        ProblemCode::TooManyRows,
                        format!("a menu shown as a list has at most {MAX_LIST_ROWS} options"),
                    ),
                    MenuDisplay::List => {
                        if let Some(button) = &menu.list_button {
                            self.check_title(
                                &format!("{path}.list_button"),
                                button,
                                MAX_BUTTON_TITLE_CHARS,
                                "list button",
                            );
                        }
                    }
                    _ => {}
                }
                CompiledNode::Menu {
                    options,
                    on_retries_exhausted: self.resolve_optional(
                        format!("{path}.on_retries_exhausted"),
                        &menu.on_retries_exhausted,
                    ),
                }
            }
            Node::Input(input) => {
                if input.text.trim().is_empty() {
                    self.error(
                        format!("{path}.text"),
                        ProblemCode::MissingText,
                        "an input needs a prompt",
                    );
                }
                if !is_variable_name(&input.variable) {
                    self.error(
                        format!("{path}.variable"),
                        ProblemCode::InvalidVariableName,
                        format!(
                            "invalid variable name {:?}: use letters, digits and _",
                            input.variable
                        ),
                    );
                }
                let validation_path = format!("{path}.validation");
                match &input.validation {
                    InputValidation::Text {
                        min_length: Some(min),
                        max_length: Some(max),
                    } if min > max => {
                        self.error(
                            validation_path.clone(),
                            ProblemCode::InvalidRange,
                            "min_length is above max_length",
                        );
                    }
                    InputValidation::Number {
                        min: Some(min),
                        max: Some(max),
                        ..
                    } if min > max => {
                        self.error(
                            validation_path.clone(),
                            ProblemCode::InvalidRange,
                            "min is above max",
                        );
                    }
                    InputValidation::Choice { choices }
                        if choices.iter().all(|choice| normalize(choice).is_empty()) =>
                    {
                        self.error(
                            format!("{validation_path}.choices"),
                            ProblemCode::EmptyOptions,
                            "a choice input needs at least one choice with a letter or digit",
                        );
                    }
                    _ => {}
                }
                let validation = match CompiledValidation::compile(&input.validation) {
                    Ok(validation) => validation,
                    Err(error) => {
                        if matches!(input.validation, InputValidation::Attachment { .. }) {
                            self.error(
                                format!("{validation_path}.accept"),
                                ProblemCode::UnknownKind,
                                error,
                            );
                        } else {
                            self.error(
                                format!("{validation_path}.pattern"),
                                ProblemCode::InvalidRegex,
                                format!("invalid regular expression: {error}"),
                            );
                        }
                        CompiledValidation::Email
                    }
                };
                CompiledNode::Input {
                    validation,
                    next: self.resolve_optional(format!("{path}.next"), &input.next),
                    on_retries_exhausted: self.resolve_optional(
                        format!("{path}.on_retries_exhausted"),
                        &input.on_retries_exhausted,
                    ),
                }
            }
            Node::Condition(condition) => {
                let mut rules = Vec::with_capacity(condition.rules.len());
                for (rule_index, rule) in condition.rules.iter().enumerate() {
                    let rule_path = format!("{path}.rules[{rule_index}]");
                    let compiled = self.compile_condition(
                        &format!("{rule_path}.when"),
                        &rule.when,
                        has_top_level_hours,
                    );
                    let next = self.resolve(format!("{rule_path}.next"), &rule.next);
                    if let Some(compiled) = compiled {
                        rules.push((compiled, next));
                    }
                }
                CompiledNode::Condition {
                    rules,
                    else_next: self.resolve_optional(format!("{path}.else"), &condition.else_next),
                }
            }
            Node::Set(set) => {
                for name in set.vars.keys() {
                    if !is_variable_name(name) {
                        self.error(
                            child_path(&format!("{path}.vars"), name),
                            ProblemCode::InvalidVariableName,
                            format!("invalid variable name {name:?}: use letters, digits and _"),
                        );
                    }
                }
                for (field, tags) in [
                    ("add_tags", &set.add_tags),
                    ("remove_tags", &set.remove_tags),
                ] {
                    for (tag_index, tag) in tags.iter().enumerate() {
                        if tag.trim().is_empty() {
                            self.error(
                                format!("{path}.{field}[{tag_index}]"),
                                ProblemCode::EmptyName,
                                "a tag must not be empty",
                            );
                        }
                    }
                }
                for name in set.contact_attributes.keys() {
                    if name.trim().is_empty() {
                        self.error(
                            child_path(&format!("{path}.contact_attributes"), name),
                            ProblemCode::EmptyName,
                            "an attribute name must not be empty",
                        );
                    }
                }
                CompiledNode::Set {
                    next: self.resolve_optional(format!("{path}.next"), &set.next),
                }
            }
            Node::Notify(notify) => {
                if notify.text.trim().is_empty() {
                    self.error(
                        format!("{path}.text"),
                        ProblemCode::MissingText,
                        "a notification needs a text",
                    );
                }
                CompiledNode::Notify {
                    next: self.resolve_optional(format!("{path}.next"), &notify.next),
                }
            }
            Node::Handoff(handoff) => {
                if handoff.reason.trim().is_empty() {
                    self.error(
                        format!("{path}.reason"),
                        ProblemCode::MissingText,
                        "a handoff needs a reason",
                    );
                }
                CompiledNode::Handoff
            }
            Node::Template(template) => {
                self.check_template(&path, template);
                CompiledNode::Template {
                    next: self.resolve_optional(format!("{path}.next"), &template.next),
                }
            }
            Node::End(_) => CompiledNode::End,
        }
    }

    fn check_title(&mut self, path: &str, title: &str, limit: usize, what: &str) {
        if title.trim().is_empty() {
            self.error(
                path,
                ProblemCode::MissingText,
                format!("a {what} must not be empty"),
            );
        } else if title.chars().count() > limit {
            self.error(
                path,
                ProblemCode::TitleTooLong,
                format!("a {what} has at most {limit} characters"),
            );
        }
    }

    fn check_message(&mut self, path: &str, message: &MessageNode) {
        let has_text = !is_blank(&message.text) || !message.variants.is_empty();
        let has_buttons = !message.buttons.is_empty();
        let has_list = message.list.is_some();
        if let Some(location) = &message.location {
            if message.media.is_some() || has_text || has_buttons || has_list {
                self.error(
                    path,
                    ProblemCode::ConflictingContent,
                    "a location message cannot also have text, variants, media, buttons or a list",
                );
            }
            let content = message_model::Content::Location(location.into());
            for problem in message_model::check_outbound(&content) {
                self.error(
                    format!("{path}.location.{}", problem.path),
                    ProblemCode::InvalidValue,
                    problem.message,
                );
            }
            return;
        }
        if let Some(media) = &message.media {
            if has_text || has_buttons || has_list {
                self.error(
                    path,
                    ProblemCode::ConflictingContent,
                    "a media message cannot also have text, variants, buttons or a list: use media.caption",
                );
            }
            self.check_media(&format!("{path}.media"), media);
            if let Some(caption) = &media.caption {
                let length = caption.chars().count();
                if length > MAX_CAPTION_CHARS && length <= MAX_TEXT_CHARS {
                    self.error(
                        format!("{path}.media.caption"),
                        ProblemCode::TextTooLong,
                        format!(
                            "a media caption has at most {MAX_CAPTION_CHARS} characters (WhatsApp's limit); this one has {length}"
                        ),
                    );
                }
            }
        } else if !has_text {
            self.error(
                format!("{path}.text"),
                ProblemCode::MissingText,
                "a message needs a text, variants or media",
            );
        }
        for (variant_index, variant) in message.variants.iter().enumerate() {
            if variant.trim().is_empty() {
                self.error(
                    format!("{path}.variants[{variant_index}]"),
                    ProblemCode::MissingText,
                    "a variant must not be empty",
                );
            }
        }
        if has_buttons && has_list {
            self.error(
                path,
                ProblemCode::ConflictingContent,
                "a message has buttons or a list, not both",
            );
        }
        if message.buttons.len() > MAX_REPLY_BUTTONS {
            self.error(
                format!("{path}.buttons"),
                ProblemCode::TooManyButtons,
                format!("a message has at most {MAX_REPLY_BUTTONS} reply buttons"),
            );
        }
        let mut ids: BTreeMap<&str, String> = BTreeMap::new();
        for (button_index, button) in message.buttons.iter().enumerate() {
            let button_path = format!("{path}.buttons[{button_index}]");
            self.check_reply_id(&button_path, &button.id, &mut ids);
            self.check_title(
                &format!("{button_path}.title"),
                &button.title,
                MAX_BUTTON_TITLE_CHARS,
                "button title",
            );
        }
        if let Some(list) = &message.list {
            self.check_list(&format!("{path}.list"), list, &mut ids);
        }
    }

    /// Checks a node's media: one source, a kind WhatsApp accepts for the
    /// MIME type, an http(s) URL.
    fn check_media(&mut self, path: &str, media: &MediaContent) {
        let n_sources = [&media.url, &media.media_id, &media.storage_key]
            .iter()
            .filter(|source| source.is_some())
            .count();
        if n_sources != 1 {
            self.error(
                path,
                ProblemCode::InvalidMedia,
                "media needs exactly one of url, media_id and storage_key",
            );
        }
        if let Some(url) = &media.url {
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                self.error(
                    format!("{path}.url"),
                    ProblemCode::InvalidMedia,
                    "a media url must start with https:// or http://",
                );
            }
        }
        let mime = media
            .mime_type
            .as_deref()
            .map(str::trim)
            .filter(|mime| !mime.is_empty());
        match (media.kind, mime) {
            (None, None) => self.error(
                format!("{path}.mime_type"),
                ProblemCode::InvalidMedia,
                "media needs a kind or a mime type",
            ),
            (None, Some(mime)) if MediaKind::for_mime(mime).is_none() => self.error(
                format!("{path}.mime_type"),
                ProblemCode::InvalidMedia,
                format!(
                    "WhatsApp sends no media of type {mime:?}; set kind and a supported mime type"
                ),
            ),
            (Some(kind), Some(mime)) => {
                if let Err(problem) =
                    message_model::check_outbound_media_file(kind.as_str(), mime, 0, true)
                {
                    self.error(
                        format!("{path}.mime_type"),
                        ProblemCode::InvalidMedia,
                        problem,
                    );
                }
            }
            _ => {}
        }
    }

    /// Checks a template node: a name and language WhatsApp accepts, and
    /// header media of a kind a template header carries.
    fn check_template(&mut self, path: &str, template: &TemplateNode) {
        let content = message_model::Content::Template(message_model::Template {
            name: template.name.clone(),
            language: template.language.clone(),
            components: Vec::new(),
        });
        for problem in message_model::check_outbound(&content) {
            self.error(
                format!("{path}.{}", problem.path),
                ProblemCode::InvalidTemplate,
                problem.message,
            );
        }
        if let Some(media) = &template.parameters.header_media {
            let media_path = format!("{path}.parameters.header_media");
            self.check_media(&media_path, media);
            if matches!(
                media.kind,
                Some(MediaKind::Audio | MediaKind::Voice | MediaKind::Sticker)
            ) {
                self.error(
                    format!("{media_path}.kind"),
                    ProblemCode::InvalidMedia,
                    "a template header carries an image, a video or a document",
                );
            }
        }
    }

    fn check_reply_id<'a>(&mut self, path: &str, id: &'a str, ids: &mut BTreeMap<&'a str, String>) {
        if id.trim().is_empty() {
            self.error(
                format!("{path}.id"),
                ProblemCode::EmptyId,
                "an id must not be empty",
            );
        } else if let Some(first) = ids.get(id) {
            self.error(
                format!("{path}.id"),
                ProblemCode::DuplicateId,
                format!("duplicate id {id:?}, first used at {first}"),
            );
        } else {
            ids.insert(id, path.to_string());
        }
    }

    fn check_list<'a>(
        &mut self,
        path: &str,
        list: &'a ListContent,
        ids: &mut BTreeMap<&'a str, String>,
    ) {
        self.check_title(
            &format!("{path}.button"),
            &list.button,
            MAX_BUTTON_TITLE_CHARS,
            "list button",
        );
        let rows: usize = list.sections.iter().map(|section| section.rows.len()).sum();
        if rows == 0 {
            self.error(
                format!("{path}.sections"),
                ProblemCode::EmptyList,
                "a list needs at least one row",
            );
        } else if rows > MAX_LIST_ROWS {
            self.error(
                format!("{path}.sections"),
                ProblemCode::TooManyRows,
                format!("a list has at most {MAX_LIST_ROWS} rows"),
            );
        }
        for (section_index, section) in list.sections.iter().enumerate() {
            let section_path = format!("{path}.sections[{section_index}]");
            if list.sections.len() > 1 && is_blank(&section.title) {
                self.error(
                    format!("{section_path}.title"),
                    ProblemCode::MissingText,
                    "every section needs a title when a list has several",
                );
            }
            for (row_index, row) in section.rows.iter().enumerate() {
                let row_path = format!("{section_path}.rows[{row_index}]");
                self.check_reply_id(&row_path, &row.id, ids);
                self.check_title(
                    &format!("{row_path}.title"),
                    &row.title,
                    MAX_ROW_TITLE_CHARS,
                    "row title",
                );
            }
        }
    }

    fn compile_comparison(
        &mut self,
        path: &str,
        op: Comparison,
        value: &Option<String>,
    ) -> Option<CompiledComparison> {
        let value_path = format!("{path}.value");
        let raw = value.as_deref().unwrap_or("");
        if op.needs_value() && value.is_none() {
            self.error(
                value_path,
                ProblemCode::MissingValue,
                format!("{} needs a value", comparison_name(op)),
            );
            return None;
        }
        let mut comparison = CompiledComparison {
            op,
            normalized_value: normalize(raw),
            number: None,
            regex: None,
        };
        match op {
            Comparison::Matches => comparison.regex = Some(self.regex(value_path, raw)?),
            Comparison::GreaterThan | Comparison::LessThan => match parse_number(raw) {
                Some(number) => comparison.number = Some(number),
                None => {
                    self.error(
                        value_path,
                        ProblemCode::MissingValue,
                        format!("{} needs a number, not {raw:?}", comparison_name(op)),
                    );
                    return None;
                }
            },
            _ => {}
        }
        Some(comparison)
    }

    fn compile_condition(
        &mut self,
        path: &str,
        condition: &Condition,
        has_top_level_hours: bool,
    ) -> Option<CompiledCondition> {
        match condition {
            Condition::Variable { name, op, value } => {
                if !is_variable_name(name) {
                    self.error(
                        format!("{path}.name"),
                        ProblemCode::InvalidVariableName,
                        format!("invalid variable name {name:?}: use letters, digits and _"),
                    );
                }
                let comparison = self.compile_comparison(path, *op, value)?;
                Some(CompiledCondition::Variable {
                    name: name.clone(),
                    comparison,
                })
            }
            Condition::Contact { field, op, value } => {
                let parsed = match field.as_str() {
                    "name" => Some(ContactField::Name),
                    "wa_id" => Some(ContactField::WaId),
                    _ => field
                        .strip_prefix("attributes.")
                        .filter(|key| !key.is_empty())
                        .map(|key| ContactField::Attribute(key.to_string())),
                };
                let comparison = self.compile_comparison(path, *op, value);
                let Some(parsed) = parsed else {
                    self.error(
                        format!("{path}.field"),
                        ProblemCode::InvalidContactField,
                        format!(
                            "unknown contact field {field:?}: use name, wa_id or attributes.<key>"
                        ),
                    );
                    return None;
                };
                Some(CompiledCondition::Contact {
                    field: parsed,
                    comparison: comparison?,
                })
            }
            Condition::Tag { tag } => {
                if tag.trim().is_empty() {
                    self.error(
                        format!("{path}.tag"),
                        ProblemCode::EmptyName,
                        "a tag must not be empty",
                    );
                }
                Some(CompiledCondition::Tag(tag.clone()))
            }
            Condition::BusinessHours { hours } => match hours {
                Some(hours) => self
                    .business_hours(&format!("{path}.hours"), hours)
                    .map(CompiledCondition::BusinessHours),
                None if has_top_level_hours => {
                    self.top_level_hours.map(CompiledCondition::BusinessHours)
                }
                None => {
                    self.error(
                        path,
                        ProblemCode::MissingBusinessHours,
                        "a business_hours condition needs hours here or in $.business_hours",
                    );
                    None
                }
            },
        }
    }

    /// Reports every cycle made only of nodes that do not wait for the
    /// contact (Tarjan's strongly connected components on that subgraph).
    fn check_loops(&mut self, definition: &BotDefinition) {
        let passes_through = |index: usize| !definition.nodes[index].stops_the_run();
        let successors: Vec<Vec<usize>> = definition
            .nodes
            .iter()
            .enumerate()
            .map(|(index, node)| {
                if !passes_through(index) {
                    return Vec::new();
                }
                node.references()
                    .into_iter()
                    .filter_map(|(_, target)| self.node_index.get(target).copied())
                    .filter(|successor| passes_through(*successor))
                    .collect()
            })
            .collect();
        for component in strongly_connected_components(&successors) {
            let is_cycle = component.len() > 1
                || component
                    .first()
                    .is_some_and(|only| successors[*only].contains(only));
            if !is_cycle {
                continue;
            }
            let mut members = component;
            members.sort_unstable();
            let names: Vec<String> = members
                .iter()
                .map(|member| format!("{:?}", definition.nodes[*member].id()))
                .collect();
            self.error(
                node_path(members[0]),
                ProblemCode::LoopWithoutInput,
                format!(
                    "the nodes {} form a loop in which no node waits for the contact",
                    names.join(", ")
                ),
            );
        }
    }

    fn check_reachability(&mut self, definition: &BotDefinition) {
        let mut reached = vec![false; definition.nodes.len()];
        let mut pending: Vec<usize> = Vec::new();
        let roots = definition
            .triggers
            .iter()
            .map(|trigger| trigger.start.as_str())
            .chain(definition.start.as_deref())
            .chain(definition.commands.menu_node.as_deref());
        for root in roots {
            if let Some(index) = self.node_index.get(root) {
                pending.push(*index);
            }
        }
        while let Some(index) = pending.pop() {
            if std::mem::replace(&mut reached[index], true) {
                continue;
            }
            for (_, target) in definition.nodes[index].references() {
                if let Some(target) = self.node_index.get(target) {
                    if !reached[*target] {
                        pending.push(*target);
                    }
                }
            }
        }
        for (index, node) in definition.nodes.iter().enumerate() {
            if !reached[index] {
                self.warning(
                    node_path(index),
                    ProblemCode::UnreachableNode,
                    format!(
                        "no trigger, start, command or node leads to node {:?}",
                        node.id()
                    ),
                );
            }
        }
    }

    fn check_variables(&mut self, definition: &BotDefinition) {
        let mut defined: BTreeSet<&str> = BTreeSet::new();
        for node in &definition.nodes {
            match node {
                Node::Input(input) => {
                    defined.insert(&input.variable);
                }
                Node::Set(set) => defined.extend(set.vars.keys().map(String::as_str)),
                _ => {}
            }
        }
        fn push<'a>(
            templates: &mut Vec<(String, &'a str)>,
            path: String,
            text: &'a Option<String>,
        ) {
            if let Some(text) = text {
                templates.push((path, text.as_str()));
            }
        }
        let mut templates: Vec<(String, &str)> = Vec::new();
        push(&mut templates, "$.fallback".into(), &definition.fallback);
        push(
            &mut templates,
            "$.opt_out.confirmation".into(),
            &definition.opt_out.confirmation,
        );
        push(
            &mut templates,
            "$.opt_out.opt_in_confirmation".into(),
            &definition.opt_out.opt_in_confirmation,
        );
        let mut variable_conditions: Vec<(String, &str)> = Vec::new();
        for (index, node) in definition.nodes.iter().enumerate() {
            let path = node_path(index);
            match node {
                Node::Message(message) => {
                    push(&mut templates, format!("{path}.text"), &message.text);
                    for (variant_index, variant) in message.variants.iter().enumerate() {
                        templates.push((format!("{path}.variants[{variant_index}]"), variant));
                    }
                    if let Some(media) = &message.media {
                        push(
                            &mut templates,
                            format!("{path}.media.caption"),
                            &media.caption,
                        );
                    }
                }
                Node::Menu(menu) => {
                    templates.push((format!("{path}.text"), &menu.text));
                    push(
                        &mut templates,
                        format!("{path}.invalid_text"),
                        &menu.invalid_text,
                    );
                }
                Node::Input(input) => {
                    templates.push((format!("{path}.text"), &input.text));
                    push(
                        &mut templates,
                        format!("{path}.retry_text"),
                        &input.retry_text,
                    );
                }
                Node::Condition(condition) => {
                    for (rule_index, rule) in condition.rules.iter().enumerate() {
                        if let Condition::Variable { name, .. } = &rule.when {
                            variable_conditions
                                .push((format!("{path}.rules[{rule_index}].when.name"), name));
                        }
                    }
                }
                Node::Set(set) => {
                    for (name, value) in &set.vars {
                        templates.push((child_path(&format!("{path}.vars"), name), value));
                    }
                    for (name, value) in &set.contact_attributes {
                        templates.push((
                            child_path(&format!("{path}.contact_attributes"), name),
                            value,
                        ));
                    }
                }
                Node::Notify(notify) => templates.push((format!("{path}.text"), &notify.text)),
                Node::Template(template) => {
                    let parameters = &template.parameters;
                    for (field, values) in
                        [("header", &parameters.header), ("body", &parameters.body)]
                    {
                        for (value_index, value) in values.iter().enumerate() {
                            templates
                                .push((format!("{path}.parameters.{field}[{value_index}]"), value));
                        }
                    }
                }
                Node::Handoff(handoff) => {
                    push(&mut templates, format!("{path}.text"), &handoff.text);
                    templates.push((format!("{path}.reason"), &handoff.reason));
                    push(&mut templates, format!("{path}.notify"), &handoff.notify);
                }
                Node::End(_) => {}
            }
        }
        for (path, template) in templates {
            for placeholder in placeholders(template) {
                match classify(placeholder) {
                    PlaceholderKind::Known => {}
                    PlaceholderKind::Variable(name) => {
                        if !defined.contains(name) {
                            self.warning(
                                path.clone(),
                                ProblemCode::UnknownVariable,
                                format!("no input or set node sets the variable {name:?}"),
                            );
                        }
                    }
                    PlaceholderKind::Unknown => self.warning(
                        path.clone(),
                        ProblemCode::UnknownPlaceholder,
                        format!("unknown placeholder {{{{{placeholder}}}}}"),
                    ),
                }
            }
        }
        for (path, name) in variable_conditions {
            if is_variable_name(name) && !defined.contains(name) {
                self.warning(
                    path,
                    ProblemCode::UnknownVariable,
                    format!("no input or set node sets the variable {name:?}"),
                );
            }
        }
    }

    fn check_trigger_shadows(
        &mut self,
        definition: &BotDefinition,
        opt_out_keywords: &[String],
        menu_keywords: Option<&Vec<String>>,
    ) {
        for (position, trigger) in definition.triggers.iter().enumerate() {
            if trigger.match_kind != TriggerMatch::Exact {
                continue;
            }
            let value = normalize(&trigger.value);
            let shadowed = opt_out_keywords.contains(&value)
                || menu_keywords.is_some_and(|keywords| keywords.contains(&value));
            if shadowed && !value.is_empty() {
                self.warning(
                    format!("$.triggers[{position}].value"),
                    ProblemCode::ShadowedTrigger,
                    format!(
                        "{:?} is an opt-out or menu command keyword, which wins over triggers",
                        trigger.value
                    ),
                );
            }
        }
    }
}

fn comparison_name(op: Comparison) -> &'static str {
    match op {
        Comparison::Equals => "equals",
        Comparison::NotEquals => "not_equals",
        Comparison::Contains => "contains",
        Comparison::Matches => "matches",
        Comparison::Exists => "exists",
        Comparison::Missing => "missing",
        Comparison::GreaterThan => "greater_than",
        Comparison::LessThan => "less_than",
    }
}

/// Parses a plain decimal number, with `.` or `,` as the separator.
pub(crate) fn parse_number(text: &str) -> Option<f64> {
    let text = text.trim();
    let valid = !text.is_empty()
        && text.chars().enumerate().all(|(index, character)| {
            character.is_ascii_digit()
                || character == '.'
                || character == ','
                || (index == 0 && (character == '-' || character == '+'))
        });
    if !valid {
        return None;
    }
    text.replace(',', ".")
        .parse()
        .ok()
        .filter(|number: &f64| number.is_finite())
}

/// Returns the strongly connected components of a graph given as successor
/// lists (iterative Tarjan, so deep graphs cannot overflow the stack).
fn strongly_connected_components(successors: &[Vec<usize>]) -> Vec<Vec<usize>> {
    const UNVISITED: usize = usize::MAX;
    let count = successors.len();
    let mut order = vec![UNVISITED; count];
    let mut low = vec![0; count];
    let mut on_stack = vec![false; count];
    let mut stack: Vec<usize> = Vec::new();
    let mut components = Vec::new();
    let mut next_order = 0;
    for root in 0..count {
        if order[root] != UNVISITED {
            continue;
        }
        // (node, index of the next successor to visit)
        let mut work: Vec<(usize, usize)> = vec![(root, 0)];
        order[root] = next_order;
        low[root] = next_order;
        next_order += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some((node, successor_index)) = work.pop() {
            if let Some(successor) = successors[node].get(successor_index).copied() {
                work.push((node, successor_index + 1));
                if order[successor] == UNVISITED {
                    order[successor] = next_order;
                    low[successor] = next_order;
                    next_order += 1;
                    stack.push(successor);
                    on_stack[successor] = true;
                    work.push((successor, 0));
                } else if on_stack[successor] {
                    low[node] = low[node].min(order[successor]);
                }
                continue;
            }
            if let Some((parent, _)) = work.last() {
                low[*parent] = low[*parent].min(low[node]);
            }
            if low[node] == order[node] {
                let mut component = Vec::new();
                while let Some(member) = stack.pop() {
                    on_stack[member] = false;
                    component.push(member);
                    if member == node {
                        break;
                    }
                }
                components.push(component);
            }
        }
    }
    components
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> Value {
        serde_json::from_str(include_str!("../fixtures/demo-bot.json")).unwrap()
    }

    fn codes(report: &ValidationReport) -> Vec<(ProblemCode, String)> {
        report
            .errors
            .iter()
            .map(|problem| (problem.code, problem.path.clone()))
            .collect()
    }

    #[test]
    fn the_demo_compiles_without_warnings() {
        let bot = CompiledBot::compile(&demo()).unwrap();
        assert_eq!(bot.warnings(), &[]);
        assert_eq!(bot.node_position("menu"), Some(1));
    }

    #[test]
    fn finds_the_components_of_a_graph() {
        let successors = vec![vec![1], vec![2], vec![0], vec![3], vec![]];
        let mut components: Vec<Vec<usize>> = strongly_connected_components(&successors)
            .into_iter()
            .map(|mut component| {
                component.sort_unstable();
                component
            })
            .collect();
        components.sort();
        assert_eq!(components, vec![vec![0, 1, 2], vec![3], vec![4]]);
    }

    #[test]
    fn reports_semantic_problems_with_paths() {
        let mut json = demo();
        json["nodes"][2]["next"] = "nowhere".into();
        json["nodes"][3]["id"] = "hours".into();
        json["triggers"][0]["start"] = "missing".into();
        let report = CompiledBot::compile(&json).unwrap_err();
        assert_eq!(
            codes(&report),
            vec![
                (ProblemCode::DuplicateId, "$.nodes[3].id".to_string()),
                (ProblemCode::UnknownNode, "$.triggers[0].start".to_string()),
                // Renaming "address" to "hours" leaves the menu's option 2
                // pointing nowhere too.
                (
                    ProblemCode::UnknownNode,
                    "$.nodes[1].options[1].next".to_string()
                ),
                (ProblemCode::UnknownNode, "$.nodes[2].next".to_string()),
            ]
        );
    }

    #[test]
    fn a_loop_of_messages_is_an_error_but_a_loop_through_a_menu_is_not() {
        let looping = serde_json::json!({
            "format": 1, "name": "loop",
            "triggers": [{"match": "any", "start": "a"}],
            "nodes": [
                {"id": "a", "type": "message", "text": "a", "next": "b"},
                {"id": "b", "type": "message", "text": "b", "next": "a"}
            ]
        });
        let report = CompiledBot::compile(&looping).unwrap_err();
        assert_eq!(
            codes(&report),
            vec![(ProblemCode::LoopWithoutInput, "$.nodes[0]".to_string())]
        );
        assert_eq!(
            report.errors[0].message,
            "the nodes \"a\", \"b\" form a loop in which no node waits for the contact"
        );
        let with_menu = serde_json::json!({
            "format": 1, "name": "loop",
            "triggers": [{"match": "any", "start": "a"}],
            "nodes": [
                {"id": "a", "type": "message", "text": "a", "next": "b"},
                {"id": "b", "type": "menu", "text": "b", "options": [{"key": "1", "next": "a"}]}
            ]
        });
        assert!(CompiledBot::compile(&with_menu).is_ok());
    }

    #[test]
    fn parses_plain_numbers_only() {
        assert_eq!(parse_number("2,5"), Some(2.5));
        assert_eq!(parse_number("-3"), Some(-3.0));
        assert_eq!(parse_number("1e3"), None);
        assert_eq!(parse_number("inf"), None);
        assert_eq!(parse_number(""), None);
    }
}
