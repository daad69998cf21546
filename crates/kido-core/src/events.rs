//! What the domain reports as it happens: sign-ins (success, failure by reason class),
//! tokens issued (by grant type) and lockouts. The server plugs in the sink that turns them
//! into log lines and metrics; the domain never formats a line nor names a metrics library.
//! An event carries ids only: never a secret, code, password, token, cookie or the
//! identifier a user typed.

use std::fmt::Debug;

use kido_proto::TenantId;

use crate::interaction::InteractionEvent;

/// Where events go. Called on the request's own task, so the sink can add what it knows of
/// the request (its id); it must not block (the token endpoint calls it on every token).
pub trait EventSink: Send + Sync + Debug {
    fn record(&self, event: &Event<'_>);
}

/// The sink of a `Core` nobody listens to (tools, the domain's own tests).
#[derive(Debug)]
pub struct Silent;

impl EventSink for Silent {
    fn record(&self, _: &Event<'_>) {}
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event<'a> {
    /// A credential check or the end of a sign-in in progress. `flow` is the interaction's
    /// event (a code checked during a password reset is a credential check too).
    SignIn {
        tenant: &'a TenantId,
        client_id: &'a str,
        user_id: Option<&'a str>,
        flow: InteractionEvent,
        outcome: SignInOutcome,
    },
    TokenIssued {
        tenant: &'a TenantId,
        client_id: &'a str,
        user_id: Option<&'a str>,
        grant: GrantType,
    },
    /// An identifier reached the sentinel's limit and is locked for `minutes`.
    Lockout {
        tenant: &'a TenantId,
        client_id: &'a str,
        user_id: Option<&'a str>,
        minutes: i64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantType {
    AuthorizationCode,
    RefreshToken,
    ClientCredentials,
}

impl GrantType {
    /// The OAuth `grant_type` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AuthorizationCode => "authorization_code",
            Self::RefreshToken => "refresh_token",
            Self::ClientCredentials => "client_credentials",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInOutcome {
    Success,
    Failure(FailureReason),
}

/// Why a sign-in step failed, in a few classes (a bounded metrics label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureReason {
    /// Unknown account or wrong password.
    InvalidCredentials,
    /// Wrong, expired or used-up verification code.
    InvalidCode,
    /// The identifier is locked (this attempt, or an earlier one, reached the limit).
    Locked,
    /// Too many attempts from the address or for the identifier.
    RateLimited,
    /// The password hashing queue is full.
    Busy,
    Suspended,
    /// The sign-in method or mode is not enabled.
    NotAllowed,
    Other,
}

impl FailureReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidCredentials => "invalid_credentials",
            Self::InvalidCode => "invalid_code",
            Self::Locked => "locked",
            Self::RateLimited => "rate_limited",
            Self::Busy => "busy",
            Self::Suspended => "suspended",
            Self::NotAllowed => "not_allowed",
            Self::Other => "other",
        }
    }
}

impl SignInOutcome {
    /// `success`, or the failure's reason class.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure(reason) => reason.as_str(),
        }
    }
}
