//! Message templates: which one a message uses and how its `{{placeholders}}` are filled.

use serde_json::{Map, Value};

/// Replaces `{{ key }}` and `{{ a.b }}` with values from `payload`. A placeholder whose
/// root key the payload lacks is left as written (as Logto does); a missing nested value
/// becomes empty.
pub fn render(text: &str, payload: &Map<String, Value>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let Some(len) = rest[start + 2..].find("}}") else { break };
        let inner = rest[start + 2..start + 2 + len].trim();
        let valid = !inner.is_empty() && inner.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
        out.push_str(&rest[..start]);
        let whole = &rest[start..start + 2 + len + 2];
        match valid.then(|| lookup(payload, inner)).flatten() {
            Some(v) => out.push_str(&v),
            None => out.push_str(whole),
        }
        rest = &rest[start + 2 + len + 2..];
    }
    out.push_str(rest);
    out
}

fn lookup(payload: &Map<String, Value>, path: &str) -> Option<String> {
    let mut parts = path.split('.');
    let mut value = payload.get(parts.next()?)?;
    for part in parts {
        match value.get(part) {
            Some(v) => value = v,
            None => return Some(String::new()),
        }
    }
    Some(match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    })
}

/// The language candidates for a message in `locale`: the tag itself, its primary subtag,
/// then the tenant's fallback language.
pub fn languages(locale: Option<&str>, fallback: &str) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(l) = locale.filter(|l| !l.is_empty()) {
        out.push(l.to_owned());
        if let Some((primary, _)) = l.split_once('-') {
            out.push(primary.to_owned());
        }
    }
    out.push(fallback.to_owned());
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fills_known_keys_and_keeps_unknown_ones() {
        let payload = json!({"code": "123456", "application": {"name": "Shop"}});
        let Value::Object(p) = payload else { return };
        assert_eq!(render("Code: {{code}} / {{ code }}", &p), "Code: 123456 / 123456");
        assert_eq!(render("{{application.name}}{{application.missing}}", &p), "Shop");
        assert_eq!(render("{{link}} and {{bad key}} and {{", &p), "{{link}} and {{bad key}} and {{");
    }

    #[test]
    fn language_candidates() {
        assert_eq!(languages(Some("zh-TW"), "en"), vec!["zh-TW", "zh", "en"]);
        assert_eq!(languages(None, "ja"), vec!["ja"]);
        assert_eq!(languages(Some("en"), "en"), vec!["en"]);
    }
}
