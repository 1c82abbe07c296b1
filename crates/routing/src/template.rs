//! Reply templating.
//!
//! Reply texts may contain placeholders such as `{{contact.name}}` or
//! `{{vars.order_id|unknown}}`. The part after `|` is the default used when
//! the value is missing or empty. Unknown placeholders render as their
//! default (or nothing), never as raw braces, so a contact never sees
//! template syntax.

use std::collections::BTreeMap;

/// The values a template can refer to.
pub struct TemplateValues<'a> {
    /// The contact's display name, when WhatsApp told us one.
    pub contact_name: Option<&'a str>,
    /// The contact's WhatsApp id (phone number in E.164 form).
    pub contact_wa_id: &'a str,
    /// The conversation's captured variables.
    pub vars: &'a BTreeMap<String, String>,
}

/// Renders `template`, replacing every `{{path|default}}` placeholder.
pub fn render(template: &str, values: &TemplateValues<'_>) -> String {
    let mut rendered = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        rendered.push_str(&rest[..open]);
        let after_open = &rest[open + 2..];
        let Some(close) = after_open.find("}}") else {
            rendered.push_str(&rest[open..]);
            return rendered;
        };
        let placeholder = &after_open[..close];
        let (path, default) = match placeholder.split_once('|') {
            Some((path, default)) => (path.trim(), default.trim()),
            None => (placeholder.trim(), ""),
        };
        let value = lookup(path, values).filter(|value| !value.trim().is_empty());
        rendered.push_str(value.unwrap_or(default));
        rest = &after_open[close + 2..];
    }
    rendered.push_str(rest);
    rendered
}

fn lookup<'a>(path: &str, values: &'a TemplateValues<'_>) -> Option<&'a str> {
    match path {
        "contact.name" => values.contact_name,
        "contact.phone" | "contact.wa_id" => Some(values.contact_wa_id),
        _ => path
            .strip_prefix("vars.")
            .and_then(|name| values.vars.get(name))
            .map(String::as_str),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values<'a>(name: Option<&'a str>, vars: &'a BTreeMap<String, String>) -> TemplateValues<'a> {
        TemplateValues {
            contact_name: name,
            contact_wa_id: "+15550100002",
            vars,
        }
    }

    #[test]
    fn substitutes_known_values_and_defaults() {
        let mut vars = BTreeMap::new();
        vars.insert("order_id".to_string(), "A-17".to_string());
        let template =
            "Hi {{contact.name|there}}, order {{ vars.order_id }} from {{contact.phone}}";
        assert_eq!(
            render(template, &values(Some("Ada"), &vars)),
            "Hi Ada, order A-17 from +15550100002"
        );
        assert_eq!(
            render(template, &values(None, &vars)),
            "Hi there, order A-17 from +15550100002"
        );
    }

    #[test]
    fn unknown_placeholders_render_their_default_and_unclosed_braces_stay() {
        let vars = BTreeMap::new();
        assert_eq!(
            render("a{{nope|b}}c{{vars.x}}d", &values(None, &vars)),
            "abcd"
        );
        assert_eq!(
            render("open {{ never closed", &values(None, &vars)),
            "open {{ never closed"
        );
    }
}
