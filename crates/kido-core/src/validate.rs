//! Small input rules shared by several features.

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

/// A list of ids: not empty, no blank entries, no duplicates (kept in order).
pub(crate) fn ids(values: &[String], field: &str, allow_empty: bool) -> Result<Vec<String>, String> {
    if values.is_empty() && !allow_empty {
        return Err(format!("`{field}` must not be empty"));
    }
    let mut out: Vec<String> = Vec::with_capacity(values.len());
    for v in values {
        if v.is_empty() {
            return Err(format!("`{field}` must not contain empty ids"));
        }
        if !out.contains(v) {
            out.push(v.clone());
        }
    }
    Ok(out)
}

/// RFC 8707 resource indicator: an absolute URI without a fragment.
pub(crate) fn resource_indicator(value: &str) -> bool {
    matches!(url::Url::parse(value), Ok(u) if u.fragment().is_none() && !u.cannot_be_a_base())
}
