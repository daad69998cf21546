//! Logto's search parameters (`search`, `search.<field>`, `mode`, `mode.<field>`,
//! `joint`/`jointMode`, `isCaseSensitive`) turned into a user search, validated as Logto
//! validates them: values are grouped by field (`search` alone is every field), several
//! values for one field only in `exact` mode, no empty value, `similar_to` only
//! case-sensitive. Every refusal is a 400 `request.invalid_input` with Logto's wording.

use axum::http::StatusCode;
use kido_core::limits::MAX_SEARCH_TERMS;
use kido_proto::users::{FieldMatch, MatchMode, UserField, UserSearch};

use crate::errors::ApiError;
use crate::extract::QueryPairs;

/// Logto's `request.invalid_input`: the message carries the details, and so does `details`.
fn invalid(details: String) -> ApiError {
    let message = format!("Input is invalid. {details}");
    ApiError {
        details: Some(details.into()),
        ..ApiError::new(StatusCode::BAD_REQUEST, "request.invalid_input", message)
    }
}

const FIELDS: &str = "id, primaryEmail, primaryPhone, username, name";
const MODES: &str = "exact, like, similar_to, posix";

fn parse_mode(v: &str, field: Option<&str>) -> Result<MatchMode, ApiError> {
    match v {
        "exact" => Ok(MatchMode::Exact),
        "like" => Ok(MatchMode::Like),
        "similar_to" => Ok(MatchMode::SimilarTo),
        "posix" => Ok(MatchMode::Posix),
        other => {
            let of_field = field.map(|f| format!(" for field `{f}`")).unwrap_or_default();
            Err(invalid(format!("Search match mode `{other}`{of_field} is not valid, expect one of {MODES}.")))
        }
    }
}

/// The field a `search…` / `mode…` key names: `None` for the general one; one level only.
fn key_field(key: &str, prefix: &str) -> Result<Option<UserField>, ApiError> {
    let rest = key.strip_prefix(prefix).unwrap_or_default();
    if rest.is_empty() {
        return Ok(None);
    }
    let Some(name) = rest.strip_prefix('.') else {
        return Err(invalid(format!("Search field `{key}` is not valid, expect one of {FIELDS}.")));
    };
    if name.contains('.') {
        return Err(invalid(format!(
            "Unsupported nested search field path `{name}` detected. Only the first level field is supported."
        )));
    }
    UserField::parse(name)
        .map(Some)
        .ok_or_else(|| invalid(format!("Search field `{name}` is not valid, expect one of {FIELDS}.")))
}

pub fn user_search(q: &QueryPairs) -> Result<UserSearch, ApiError> {
    // The mode per field (`None`: the default for every field), then the values per field
    // in the order they first appear.
    let mut modes: Vec<(Option<UserField>, MatchMode)> = Vec::new();
    let mut values: Vec<(Option<UserField>, Vec<&str>)> = Vec::new();
    let mut count = 0;
    for (key, value) in &q.0 {
        if key.starts_with("mode") {
            let field = key_field(key, "mode")?;
            let name = key.strip_prefix("mode.");
            modes.retain(|(f, _)| *f != field);
            modes.push((field, parse_mode(value, name)?));
        } else if key.starts_with("search") {
            let field = key_field(key, "search")?;
            count += 1;
            if count > MAX_SEARCH_TERMS {
                return Err(invalid(format!("At most {MAX_SEARCH_TERMS} search values may be given.")));
            }
            match values.iter_mut().find(|(f, _)| *f == field) {
                Some((_, list)) => list.push(value),
                None => values.push((field, vec![value])),
            }
        }
    }
    let mode_of = |field: Option<UserField>| {
        let find = |f: Option<UserField>| modes.iter().find(|(m, _)| *m == f).map(|(_, mode)| *mode);
        find(field).or_else(|| find(None)).unwrap_or(MatchMode::Like)
    };
    let joint = q.get("joint").or_else(|| q.get("jointMode")).filter(|v| !v.is_empty());
    let match_all = match joint {
        None | Some("or") => false,
        Some("and") => true,
        Some(other) => {
            return Err(invalid(format!("Search joint mode `{other}` is not valid, expect one of and, or.")));
        }
    };
    let case_sensitive = match q.get("isCaseSensitive") {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => return Err(invalid(format!("`isCaseSensitive` must be `true` or `false`, got `{other}`."))),
    };
    let mut groups = Vec::new();
    for (field, list) in values {
        let mode = mode_of(field);
        if mode != MatchMode::Exact && list.len() > 1 {
            return Err(invalid("Only one search value is allowed when search mode is not `exact`.".into()));
        }
        if list.iter().any(|v| v.is_empty()) {
            return Err(invalid("Search value cannot be empty.".into()));
        }
        if mode == MatchMode::SimilarTo && !case_sensitive {
            return Err(invalid("Cannot use case-insensitive match for `similar to`.".into()));
        }
        let fields = field.map_or(UserField::ALL.to_vec(), |f| vec![f]);
        let group = list
            .iter()
            .flat_map(|v| fields.iter().map(move |&field| FieldMatch { field, mode, value: (*v).to_owned() }))
            .collect();
        groups.push(group);
    }
    Ok(UserSearch {
        groups,
        match_all,
        case_sensitive,
        exclude_role_id: q.text("excludeRoleId"),
        exclude_organization_id: q.text("excludeOrganizationId"),
        ..Default::default()
    })
}
