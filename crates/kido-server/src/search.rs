//! Logto's search parameters (`search`, `search.<field>`, `mode`, `mode.<field>`,
//! `joint`/`jointMode`, `isCaseSensitive`) turned into a user search.

use kido_core::limits::MAX_SEARCH_TERMS;
use kido_proto::users::{FieldMatch, MatchMode, UserField, UserSearch};

use crate::errors::ApiError;
use crate::extract::QueryPairs;

fn invalid(details: String) -> ApiError {
    ApiError::new(axum::http::StatusCode::BAD_REQUEST, "request.invalid_input", format!("Input is invalid. {details}"))
}

fn parse_mode(v: &str) -> Result<MatchMode, ApiError> {
    match v {
        "exact" => Ok(MatchMode::Exact),
        "like" => Ok(MatchMode::Like),
        "similar_to" => Ok(MatchMode::SimilarTo),
        "posix" => Ok(MatchMode::Posix),
        other => Err(invalid(format!("Search mode `{other}` is not one of exact, like, similar_to, posix."))),
    }
}

fn parse_field(name: &str) -> Result<UserField, ApiError> {
    UserField::parse(name).ok_or_else(|| {
        invalid(format!("`{name}` is not searchable; use id, primaryEmail, primaryPhone, username or name."))
    })
}

pub fn user_search(q: &QueryPairs) -> Result<UserSearch, ApiError> {
    let default_mode = match q.get("mode") {
        Some(v) if !v.is_empty() => parse_mode(v)?,
        _ => MatchMode::Like,
    };
    let mode_of = |name: &str| -> Result<MatchMode, ApiError> {
        match q.get(&format!("mode.{name}")) {
            Some(v) if !v.is_empty() => parse_mode(v),
            _ => Ok(default_mode),
        }
    };
    for (key, _) in &q.0 {
        if let Some(name) = key.strip_prefix("mode.") {
            parse_field(name)?;
        }
    }
    let mut groups = Vec::new();
    for (key, value) in &q.0 {
        if value.is_empty() {
            continue;
        }
        let names: Vec<&str> = if key == "search" {
            ["id", "primaryEmail", "primaryPhone", "username", "name"].to_vec()
        } else if let Some(name) = key.strip_prefix("search.") {
            vec![name]
        } else {
            continue;
        };
        let mut group = Vec::new();
        for name in names {
            let field = parse_field(name)?;
            group.push(FieldMatch { field, mode: mode_of(name)?, value: value.clone() });
        }
        groups.push(group);
        if groups.len() > MAX_SEARCH_TERMS {
            return Err(invalid(format!("At most {MAX_SEARCH_TERMS} search parameters may be given.")));
        }
    }
    let joint = q.get("joint").or_else(|| q.get("jointMode")).filter(|v| !v.is_empty());
    let match_all = match joint {
        None | Some("or") => false,
        Some("and") => true,
        Some(other) => return Err(invalid(format!("`joint` must be `or` or `and`, got `{other}`."))),
    };
    let case_sensitive = match q.get("isCaseSensitive") {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => return Err(invalid(format!("`isCaseSensitive` must be `true` or `false`, got `{other}`."))),
    };
    Ok(UserSearch {
        groups,
        match_all,
        case_sensitive,
        exclude_role_id: q.text("excludeRoleId"),
        exclude_organization_id: q.text("excludeOrganizationId"),
        ..Default::default()
    })
}
