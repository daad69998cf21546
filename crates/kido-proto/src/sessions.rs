//! A user's browser sessions and the grants (connected applications) their sign-ins made, in
//! Logto's shapes (`GET /api/users/{userId}/sessions`, `…/grants`; the Account API's
//! `/api/my-account/sessions` and `/grants` answer the same). Times in `payload` are epoch
//! seconds, as the OIDC provider stores them; `expiresAt` is epoch milliseconds.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// `{"sessions": [...]}`: the user's live sessions, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct UserSessions {
    pub sessions: Vec<UserSession>,
}

/// One live browser session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserSession {
    pub payload: SessionPayload,
    /// What the sign-in submitted (Logto's `oidc_session_extensions`); Kido does not keep it:
    /// always `null`.
    #[schema(value_type = Option<Object>)]
    pub last_submission: Option<Map<String, Value>>,
    /// The application the session was signed in through (`null` when not recorded).
    pub client_id: Option<String>,
    pub account_id: Option<String>,
    /// Epoch milliseconds.
    pub expires_at: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum SessionKind {
    Session,
}

/// The session as the OIDC provider holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionPayload {
    /// Expiry, epoch seconds.
    pub exp: i64,
    /// Creation, epoch seconds.
    pub iat: i64,
    /// The session's id (never its cookie).
    pub jti: String,
    /// The session's id: what `sessionId` in the paths and `sid` in ID tokens name.
    pub uid: String,
    pub kind: SessionKind,
    /// The sign-in, epoch seconds.
    pub login_ts: i64,
    pub account_id: String,
    /// Per application signed in to through this session: its newest live grant.
    pub authorizations: BTreeMap<String, SessionAuthorization>,
}

/// An application's authorization within a session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionAuthorization {
    /// The `sid` claim of the application's ID tokens.
    pub sid: String,
    pub grant_id: String,
    /// Whether the grant outlives the session (it holds `offline_access`).
    pub persists_logout: bool,
}

/// `{"grants": [...]}`: the user's live grants, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct UserGrants {
    pub grants: Vec<UserGrant>,
}

/// One grant: what an application was authorized to do for the user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserGrant {
    pub id: String,
    pub payload: GrantPayload,
    /// Epoch milliseconds.
    pub expires_at: i64,
    pub application: GrantApplication,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum GrantKind {
    Grant,
}

/// The grant as the OIDC provider holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GrantPayload {
    /// Expiry, epoch seconds.
    pub exp: i64,
    /// Creation, epoch seconds.
    pub iat: i64,
    pub jti: String,
    pub kind: GrantKind,
    pub client_id: String,
    pub account_id: String,
    /// The user scopes granted (`openid profile offline_access …`).
    pub openid: GrantOpenid,
    /// Per resource indicator, the scopes asked for it at authorization (space-separated).
    pub resources: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct GrantOpenid {
    pub scope: String,
}

/// The application holding a grant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct GrantApplication {
    pub id: String,
    pub name: String,
}

/// `revokeGrantsTarget` of a session revocation: which of its grants end with it besides those
/// that live only as long as the session (without `offline_access`), which always do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum RevokeGrantsTarget {
    /// Every grant of the session.
    All,
    /// The first-party applications' grants; third-party offline grants stay.
    FirstParty,
}

impl RevokeGrantsTarget {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "all" => Some(Self::All),
            "firstParty" => Some(Self::FirstParty),
            _ => None,
        }
    }
}

/// `appType` of a grant list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum GrantAppType {
    FirstParty,
    ThirdParty,
}

impl GrantAppType {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "firstParty" => Some(Self::FirstParty),
            "thirdParty" => Some(Self::ThirdParty),
            _ => None,
        }
    }
}
