//! Audit log entries.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Log {
    pub tenant_id: String,
    pub id: String,
    /// What happened, e.g. `User.Created`.
    pub key: String,
    /// `{key, result, userId?, applicationId?, ...}`.
    #[schema(value_type = Object)]
    pub payload: Value,
    pub created_at: i64,
}

/// Which audit log entries `list` returns.
#[derive(Debug, Default, Clone)]
pub struct LogFilter {
    pub user_id: Option<String>,
    pub application_id: Option<String>,
    /// Exact key, or several keys (any of them).
    pub keys: Vec<String>,
    /// Epoch milliseconds, inclusive start and exclusive end.
    pub start: Option<i64>,
    pub end: Option<i64>,
}
