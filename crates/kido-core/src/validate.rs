//! Small input rules shared by several features.

use crate::limits;

/// A name: not blank, at most `max` characters.
pub(crate) fn name(value: &str, field: &str, max: usize) -> Result<String, String> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(format!("`{field}` must not be empty"));
    }
    if value.chars().count() > max {
        return Err(format!("`{field}` must be at most {max} characters"));
    }
    Ok(value.to_owned())
}

/// Optional text of at most `max` characters.
pub(crate) fn text(value: Option<String>, field: &str, max: usize) -> Result<Option<String>, String> {
    match value {
        Some(v) if v.chars().count() > max => Err(format!("`{field}` must be at most {max} characters")),
        other => Ok(other),
    }
}

/// A JSON object (custom data).
pub(crate) fn object(value: Option<serde_json::Value>, field: &str) -> Result<serde_json::Value, String> {
    match value {
        None => Ok(serde_json::Value::Object(Default::default())),
        Some(v @ serde_json::Value::Object(_)) => Ok(v),
        Some(_) => Err(format!("`{field}` must be a JSON object")),
    }
}

/// A list of ids: not empty, no blank entries, at most [`limits::MAX_IDS`], duplicates
/// dropped (kept in order).
/// Typed ids (`RoleId`, …) come in as they are and leave as the store's strings.
pub(crate) fn ids<T: AsRef<str>>(values: &[T], field: &str, allow_empty: bool) -> Result<Vec<String>, String> {
    if values.is_empty() && !allow_empty {
        return Err(format!("`{field}` must not be empty"));
    }
    if values.iter().any(|v| v.as_ref().is_empty()) {
        return Err(format!("`{field}` must not contain empty ids"));
    }
    limits::distinct(values.iter().map(|v| v.as_ref().to_owned()), limits::MAX_IDS)
        .map_err(|e| format!("`{field}` must not list more than {} ids", e.max))
}

/// RFC 8707 resource indicator: an absolute URI without a fragment.
pub(crate) fn resource_indicator(value: &str) -> bool {
    matches!(url::Url::parse(value), Ok(u) if u.fragment().is_none() && !u.cannot_be_a_base())
}

/// An email domain as organizations and SSO connectors list it: `example.com`, stored in
/// lower case. Refuses what people paste by mistake (`@example.com`, `https://example.com`,
/// `user@example.com`) with a message saying what to write instead.
pub(crate) fn email_domain(value: &str) -> Result<String, String> {
    let domain = value.trim().to_ascii_lowercase();
    if domain.contains('@') || domain.contains("://") || domain.contains('/') {
        return Err(format!("`{value}` is not a domain: write it as `example.com` (no `@`, no scheme, no path)"));
    }
    let labels_ok = domain.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    });
    if domain.len() > 128 || domain.split('.').count() < 2 || !labels_ok {
        return Err(format!("`{value}` is not a domain like `example.com`"));
    }
    Ok(domain)
}

#[cfg(test)]
mod tests {
    use super::email_domain;

    #[test]
    fn email_domains_are_normalized() {
        assert_eq!(email_domain(" Example.COM ").unwrap(), "example.com");
        assert_eq!(email_domain("mail.example.co.jp").unwrap(), "mail.example.co.jp");
        for bad in
            ["@example.com", "user@example.com", "https://example.com", "example", "ex ample.com", "a..b", "-a.com", ""]
        {
            assert!(email_domain(bad).is_err(), "{bad}");
        }
    }
}
