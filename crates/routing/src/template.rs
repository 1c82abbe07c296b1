//! Reply templating.
//!
//! Texts may contain placeholders such as `{{contact.name}}` or
//! `{{vars.order_id|unknown}}`. The part after `|` is the default used when
//! the value is missing or blank. The paths are:
//!
//! - `contact.name`, `contact.wa_id` (alias `contact.phone`),
//!   `contact.attributes.<key>`;
//! - `vars.<name>`: a variable captured by an input node or set by a set
//!   node;
//! - `message.text`: the inbound message being answered.
//!
//! Unknown placeholders render as their default (or nothing), never as raw
//! braces, so a contact never sees template syntax; validation warns about
//! them instead ([`placeholders`] lists them for it).

use std::collections::BTreeMap;

/// The values a template can refer to.
pub struct TemplateValues<'a> {
    /// The contact's display name, when WhatsApp told us one.
    pub contact_name: Option<&'a str>,
    /// The contact's WhatsApp id (phone number in E.164 form).
    pub contact_wa_id: &'a str,
    /// The contact's attributes as the caller stores them.
    pub contact_attributes: &'a BTreeMap<String, String>,
    /// Attributes set earlier in the same run, which win over the stored
    /// ones.
    pub contact_attribute_overrides: &'a BTreeMap<String, String>,
    /// The conversation's variables.
    pub vars: &'a BTreeMap<String, String>,
    /// The inbound message's text.
    pub message_text: &'a str,
}

/// Renders `template`, replacing every `{{path|default}}` placeholder.
pub fn render(template: &str, values: &TemplateValues<'_>) -> String {
    if !template.contains("{{") {
        return template.to_string();
    }
    let mut rendered = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        rendered.push_str(&rest[..open]);
        let after_open = &rest[open + 2..];
        let Some(close) = after_open.find("}}") else {
            rendered.push_str(&rest[open..]);
            return rendered;
        };
        let (path, default) = split_placeholder(&after_open[..close]);
        let value = lookup(path, values).filter(|value| !value.trim().is_empty());
        rendered.push_str(value.unwrap_or(default));
        rest = &after_open[close + 2..];
    }
    rendered.push_str(rest);
    rendered
}

/// Returns the paths of every placeholder in `template`, in order.
pub fn placeholders(template: &str) -> Vec<&str> {
    let mut paths = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        let after_open = &rest[open + 2..];
        let Some(close) = after_open.find("}}") else {
            break;
        };
        paths.push(split_placeholder(&after_open[..close]).0);
        rest = &after_open[close + 2..];
    }
    paths
}

/// What a placeholder path refers to, for validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlaceholderKind<'a> {
    /// A contact field or attribute, or the message text.
    Known,
    /// The variable with this name.
    Variable(&'a str),
    /// Nothing this engine knows.
    Unknown,
}

/// Classifies a placeholder path.
pub fn classify(path: &str) -> PlaceholderKind<'_> {
    match path {
        "contact.name" | "contact.phone" | "contact.wa_id" | "message.text" => {
            PlaceholderKind::Known
        }
        _ => {
            if let Some(name) = path.strip_prefix("vars.").filter(|name| !name.is_empty()) {
                PlaceholderKind::Variable(name)
            } else if path
                .strip_prefix("contact.attributes.")
                .is_some_and(|key| !key.is_empty())
            {
                PlaceholderKind::Known
            } else {
                PlaceholderKind::Unknown
            }
        }
    }
}

fn split_placeholder(placeholder: &str) -> (&str, &str) {
    match placeholder.split_once('|') {
        Some((path, default)) => (path.trim(), default.trim()),
        None => (placeholder.trim(), ""),
    }
}

fn lookup<'a>(path: &str, values: &'a TemplateValues<'_>) -> Option<&'a str> {
    match path {
        "contact.name" => values.contact_name,
        "contact.phone" | "contact.wa_id" => Some(values.contact_wa_id),
        "message.text" => Some(values.message_text),
        _ => {
            if let Some(name) = path.strip_prefix("vars.") {
                values.vars.get(name).map(String::as_str)
            } else if let Some(key) = path.strip_prefix("contact.attributes.") {
                values
                    .contact_attribute_overrides
                    .get(key)
                    .or_else(|| values.contact_attributes.get(key))
                    .map(String::as_str)
            } else {
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values<'a>(
        name: Option<&'a str>,
        vars: &'a BTreeMap<String, String>,
        attributes: &'a BTreeMap<String, String>,
        overrides: &'a BTreeMap<String, String>,
    ) -> TemplateValues<'a> {
        TemplateValues {
            contact_name: name,
            contact_wa_id: "+15550100002",
            contact_attributes: attributes,
            contact_attribute_overrides: overrides,
            vars,
            message_text: "hello",
        }
    }

    #[test]
    fn substitutes_known_values_and_defaults() {
        let mut vars = BTreeMap::new();
        vars.insert("order_id".to_string(), "A-17".to_string());
        let empty = BTreeMap::new();
        let template =
            "Hi {{contact.name|there}}, order {{ vars.order_id }} from {{contact.phone}}";
        assert_eq!(
            render(template, &values(Some("Ada"), &vars, &empty, &empty)),
            "Hi Ada, order A-17 from +15550100002"
        );
        assert_eq!(
            render(template, &values(None, &vars, &empty, &empty)),
            "Hi there, order A-17 from +15550100002"
        );
    }

    #[test]
    fn reads_attributes_with_overrides_first_and_the_message() {
        let vars = BTreeMap::new();
        let mut attributes = BTreeMap::new();
        attributes.insert("tier".to_string(), "gold".to_string());
        attributes.insert("city".to_string(), "Porto".to_string());
        let mut overrides = BTreeMap::new();
        overrides.insert("tier".to_string(), "platinum".to_string());
        assert_eq!(
            render(
                "{{contact.attributes.tier}} {{contact.attributes.city}} {{message.text}}",
                &values(None, &vars, &attributes, &overrides)
            ),
            "platinum Porto hello"
        );
    }

    #[test]
    fn unknown_placeholders_render_their_default_and_unclosed_braces_stay() {
        let empty = BTreeMap::new();
        assert_eq!(
            render(
                "a{{nope|b}}c{{vars.x}}d",
                &values(None, &empty, &empty, &empty)
            ),
            "abcd"
        );
        assert_eq!(
            render(
                "open {{ never closed",
                &values(None, &empty, &empty, &empty)
            ),
            "open {{ never closed"
        );
    }

    #[test]
    fn lists_and_classifies_placeholders() {
        assert_eq!(
            placeholders("{{ vars.a|x }} and {{contact.nam}} {{ open"),
            vec!["vars.a", "contact.nam"]
        );
        assert_eq!(classify("vars.a"), PlaceholderKind::Variable("a"));
        assert_eq!(classify("vars."), PlaceholderKind::Unknown);
        assert_eq!(classify("contact.attributes.tier"), PlaceholderKind::Known);
        assert_eq!(classify("contact.nam"), PlaceholderKind::Unknown);
    }
}
