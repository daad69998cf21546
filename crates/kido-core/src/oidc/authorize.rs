//! The authorization endpoint (RFC 6749 §4.1, OIDC Core §3.1.2): validating a request,
//! sending the browser to sign in when needed, and redirecting back with a code.
//!
//! Nothing lives in the node: the pending request is an interaction row the browser finds
//! again by its `_interaction` cookie, a signed-in browser is a session row found by its
//! `_session` cookie. Cookies hold random secrets; rows hold their digests.

use std::sync::Arc;

use kido_store::Json;
use kido_store::oidc::{self as store, StoredGrant, StoredInteraction, StoredSession, StoredToken};
use serde_json::json;
use subtle::ConstantTimeEq;

use super::clients::{self, Client};
use super::params::{Params, is_pkce_value};
use super::sessions;
use super::token::parse_scope;
pub use crate::interaction::{AuthorizationParams, FirstScreen, INTERACTION_TTL_MS};
use crate::interaction::{ExperienceState, Interaction, InteractionCookie, rules, store as interactions};
use crate::storage::StorageError;
use crate::{Core, TenantContext, clock, ids, limits, redirect_uris, validate};

pub const SESSION_TTL_MS: i64 = 14 * 24 * 3600 * 1000;
const CODE_TTL_MS: i64 = 600 * 1000;
/// A grant (and every refresh token under it) ends a year after the sign-in at the latest.
pub(crate) const GRANT_TTL_MS: i64 = 365 * 24 * 3600 * 1000;

/// A request Kido cannot send back to the client (unknown client, unregistered redirect
/// URI, lost interaction): shown on Kido's own error page, never redirected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageError {
    pub error: &'static str,
    pub description: String,
}

impl PageError {
    /// The client address holds as many pending sign-ins as it may (HTTP 429).
    pub const TOO_MANY_PENDING: &'static str = "too_many_requests";

    fn new(error: &'static str, description: impl Into<String>) -> Self {
        Self { error, description: description.into() }
    }

    pub(crate) fn server(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "authorization endpoint failure");
        Self::new("server_error", "the server could not complete the request")
    }
}

pub enum AuthorizeOutcome {
    /// Back to the client: its redirect URI with a code, or with an error.
    Redirect(String),
    /// The user must sign in: set the interaction cookie (`client_id`'s) and go to the
    /// hosted page.
    SignIn { interaction_cookie: String, client_id: String, location: String },
}

pub enum ResumeOutcome {
    /// Not signed in yet: back to the page the sign-in started on.
    SignIn { location: String },
    /// Signed in, consent not answered yet: to `/consent`; `session_cookie` is the browser's
    /// `_session` from now on (its row is made once consent is given).
    Consent { location: String, session_cookie: String },
    /// Back to the client (a code, or `access_denied`); the interaction of `client_id` is
    /// spent. `session_cookie` is set when a session was made.
    Done { location: String, session_cookie: Option<String>, client_id: String },
}

/// An error for the client, sent to its (verified) redirect URI.
struct RedirectError {
    error: &'static str,
    description: String,
}

fn redirect_error(error: &'static str, description: impl Into<String>) -> RedirectError {
    RedirectError { error, description: description.into() }
}

/// `redirect_uri` with `params` appended to its query.
fn with_query(redirect_uri: &str, params: &[(&str, &str)]) -> String {
    match url::Url::parse(redirect_uri) {
        Ok(mut url) => {
            {
                let mut q = url.query_pairs_mut();
                for (k, v) in params {
                    q.append_pair(k, v);
                }
            }
            url.to_string()
        }
        // Registered redirect URIs are validated absolute URLs; this cannot happen.
        Err(_) => redirect_uri.to_owned(),
    }
}

/// The authorization endpoint: authorize, resume, the interaction's client; `Core::authorization`.
pub struct Authorization<'a> {
    pub(crate) core: &'a Core,
}

impl Authorization<'_> {
    /// `GET /oidc/auth`: validates the request; signs the user in silently when the browser
    /// has a session, otherwise starts an interaction on the hosted pages.
    pub async fn authorize(
        &self,
        tenant: &TenantContext,
        query: &[(String, String)],
        session_cookie: Option<&str>,
        client_ip: Option<&str>,
    ) -> Result<AuthorizeOutcome, PageError> {
        let q = Params(query);
        let bad = |d: String| PageError::new("invalid_request", d);
        let client_id =
            q.single("client_id").map_err(bad)?.ok_or_else(|| bad("missing required parameter 'client_id'".into()))?;
        let client = clients::find(self.core, tenant, client_id)
            .await
            .map_err(PageError::server)?
            .ok_or_else(|| PageError::new("invalid_client", "client is invalid"))?;
        let redirect_uri = q
            .single("redirect_uri")
            .map_err(bad)?
            .ok_or_else(|| bad("missing required parameter 'redirect_uri'".into()))?;
        // String comparison: no prefix, no normalisation; a registered wildcard stands for
        // one DNS label. The code exchange then compares with the URI used here.
        if !client.app.oidc_client_metadata.redirect_uris.iter().any(|r| redirect_uris::matches(r, redirect_uri)) {
            return Err(PageError::new(
                "invalid_redirect_uri",
                "redirect_uri did not match any of the client's registered redirect_uris",
            ));
        }
        let state = q.single("state").ok().flatten().map(str::to_owned);
        match self.validate_request(tenant, &client, &q, redirect_uri).await {
            Ok(params) => self.continue_authorization(tenant, &client, params, session_cookie, client_ip).await,
            Err(e) => Ok(AuthorizeOutcome::Redirect(error_redirect(tenant, redirect_uri, state.as_deref(), &e))),
        }
    }

    async fn validate_request(
        &self,
        tenant: &TenantContext,
        client: &Client,
        q: &Params<'_>,
        redirect_uri: &str,
    ) -> Result<AuthorizationParams, RedirectError> {
        let invalid = |d: String| redirect_error("invalid_request", d);
        let response_type = q
            .single("response_type")
            .map_err(invalid)?
            .ok_or_else(|| invalid("missing required parameter 'response_type'".into()))?;
        if response_type != "code" {
            return Err(redirect_error("unsupported_response_type", "unsupported response_type requested"));
        }
        if q.single("response_mode").map_err(invalid)?.is_some_and(|m| m != "query") {
            return Err(invalid("unsupported response_mode requested".into()));
        }
        if q.single("request").map_err(invalid)?.is_some() {
            return Err(redirect_error("request_not_supported", "request parameter is not supported"));
        }
        if q.single("request_uri").map_err(invalid)?.is_some() {
            return Err(redirect_error("request_uri_not_supported", "request_uri parameter is not supported"));
        }
        if !client.is_interactive() {
            return Err(redirect_error(
                "unauthorized_client",
                "requested response_type is not allowed for this client",
            ));
        }
        let code_challenge = pkce_challenge(client, q)?;

        let prompt: Vec<String> = q
            .single("prompt")
            .map_err(invalid)?
            .unwrap_or("")
            .split(' ')
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect();
        if let Some(unknown) =
            prompt.iter().find(|p| !["none", "login", "consent", "select_account"].contains(&p.as_str()))
        {
            return Err(invalid(format!("unsupported prompt value `{unknown}` requested")));
        }
        if prompt.iter().any(|p| p == "none") && prompt.len() > 1 {
            return Err(invalid("prompt none must only be used alone".into()));
        }
        let max_age = match q.single("max_age").map_err(invalid)? {
            None => None,
            Some(v) => Some(
                v.parse::<i64>()
                    .ok()
                    .filter(|n| *n >= 0)
                    .ok_or_else(|| invalid("invalid max_age parameter value".into()))?,
            ),
        };

        let requested = parse_scope(q.single("scope").map_err(invalid)?)
            .map_err(|e| redirect_error("invalid_scope", e.to_string()))?;
        // As oidc-provider (and so Logto): `offline_access` needs an explicit consent prompt.
        let scope: Vec<String> = requested
            .into_iter()
            .filter(|s| *s != "offline_access" || prompt.iter().any(|p| p == "consent"))
            .map(str::to_owned)
            .collect();

        let indicators =
            q.all("resource").into_iter().flat_map(|v| v.split(',')).map(str::trim).filter(|s| !s.is_empty());
        let resources: Vec<String> = limits::distinct(indicators, limits::MAX_RESOURCES)
            .map_err(|e| {
                redirect_error("invalid_target", format!("at most {} resource indicators may be requested", e.max))
            })?
            .into_iter()
            .map(str::to_owned)
            .collect();
        for indicator in &resources {
            // The reserved organizations resource names no API; SDKs send it with the
            // organizations scope, and organization tokens are asked for by id later.
            let known = indicator == super::organizations::ORGANIZATIONS_RESOURCE
                || validate::resource_indicator(indicator)
                    && clients::resource_grant(self.core, tenant, client.id(), Some(indicator))
                        .await
                        .map_err(|e| redirect_error("server_error", PageError::server(e).description))?
                        .is_some();
            if !known {
                return Err(redirect_error("invalid_target", "resource indicator is missing, or unknown"));
            }
        }

        let first_screen =
            match (q.single("first_screen").map_err(invalid)?, q.single("interaction_mode").map_err(invalid)?) {
                (Some("register" | "identifier:register"), _) | (None, Some("signUp")) => FirstScreen::Register,
                _ => FirstScreen::SignIn,
            };
        Ok(AuthorizationParams {
            client_id: client.id().to_owned(),
            redirect_uri: redirect_uri.to_owned(),
            scope,
            state: q.single("state").map_err(invalid)?.map(str::to_owned),
            nonce: q.single("nonce").map_err(invalid)?.map(str::to_owned),
            code_challenge,
            resources,
            prompt,
            max_age,
            ui_locales: q.single("ui_locales").map_err(invalid)?.map(str::to_owned),
            login_hint: q.single("login_hint").map_err(invalid)?.map(str::to_owned),
            first_screen,
            one_time_token: q.single("one_time_token").map_err(invalid)?.map(str::to_owned),
        })
    }

    async fn continue_authorization(
        &self,
        tenant: &TenantContext,
        client: &Client,
        params: AuthorizationParams,
        session_cookie: Option<&str>,
        client_ip: Option<&str>,
    ) -> Result<AuthorizeOutcome, PageError> {
        // A magic link signs in the user it was issued for, never the browser's current one.
        let wants_login = params.prompt.iter().any(|p| p == "login") || params.one_time_token.is_some();
        if let Some(session) = self.live_session(tenant, session_cookie).await?
            && !wants_login
            && params.max_age.is_none_or(|max| clock::now_secs() - session.auth_time <= max)
            && !client.app.is_third_party
        {
            let location =
                self.issue_code(tenant, &params, &session.user_id, Some(&session.id), session.auth_time).await?;
            return Ok(AuthorizeOutcome::Redirect(location));
        }
        if params.prompt.iter().any(|p| p == "none") {
            let e = redirect_error("login_required", "End-User authentication is required");
            return Ok(AuthorizeOutcome::Redirect(error_redirect(
                tenant,
                &params.redirect_uri,
                params.state.as_deref(),
                &e,
            )));
        }
        let cookie = ids::new_opaque_token();
        let now = clock::now_ms();
        let location = params.sign_in_location();
        let row = StoredInteraction {
            tenant_id: tenant.id.to_string(),
            id: ids::new_id(),
            cookie_hash: ids::digest(&cookie),
            client_id: client.id().to_owned(),
            params: Json(serde_json::to_value(&params).map_err(PageError::server)?),
            state: Json(serde_json::to_value(ExperienceState::default()).map_err(PageError::server)?),
            expires_at: now + INTERACTION_TTL_MS,
            created_at: now,
            client_ip_hash: client_ip.map(ids::digest),
            consent: None,
            passkey_challenge: None,
            passkey_challenge_expires_at: None,
        };
        let max = i64::from(self.core.max_pending_interactions_per_ip);
        // One statement counts the address's pending sign-ins and stores this one.
        let mut c = self.core.store.conn().await.map_err(PageError::server)?;
        let stored = store::insert_interaction(&mut c, &row, max).await.map_err(PageError::server)?;
        if !stored {
            return Err(PageError::new(
                PageError::TOO_MANY_PENDING,
                "too many sign-ins are pending from this address; finish one or try again later",
            ));
        }
        Ok(AuthorizeOutcome::SignIn { interaction_cookie: cookie, client_id: client.id().to_owned(), location })
    }

    /// The browser's session if it is live and its user may still sign in.
    pub async fn live_session(
        &self,
        tenant: &TenantContext,
        cookie: Option<&str>,
    ) -> Result<Option<StoredSession>, PageError> {
        let Some(session) = sessions::find(self.core, tenant, cookie).await.map_err(PageError::server)? else {
            return Ok(None);
        };
        let mut c = self.core.store.conn().await.map_err(PageError::server)?;
        let user = kido_store::users::find(&mut c, &tenant.id, &session.user_id).await.map_err(PageError::server)?;
        Ok(user.filter(rules::may_sign_in).map(|_| session))
    }

    /// `GET /oidc/auth/{uid}`: back from the sign-in (`interaction_cookies`: the browser's
    /// interaction cookie values, newest first). Signed in without an answer to the consent
    /// prompt: the session cookie is handed out and the browser goes to `/consent` (as
    /// Logto). Answered: the interaction is spent, and the browser goes back to the client
    /// with a code (the session made) or with `access_denied`.
    pub async fn resume(
        &self,
        tenant: &TenantContext,
        uid: &str,
        interaction_cookies: &[String],
        session_cookie: Option<&str>,
    ) -> Result<ResumeOutcome, PageError> {
        let key = self.core.cookie_key(&tenant.id).ok_or_else(|| PageError::server("no cookie key loaded"))?;
        let new_session = key.session_cookie(uid);
        let mut c = self.core.store.conn().await.map_err(PageError::server)?;
        // Back from the consent prompt (the browser holds the session cookie this sign-in
        // handed out): spend the interaction at once, unread. The statement's conditions
        // decide; the cookie only saves the read when they hold.
        let back_from_consent = session_cookie.is_some_and(|s| bool::from(s.as_bytes().ct_eq(new_session.as_bytes())));
        if back_from_consent {
            for value in interaction_cookies {
                let taken =
                    interactions::take_answered(&mut c, &tenant.id, uid, value).await.map_err(PageError::server)?;
                if let Some(interaction) = taken {
                    return self.finish_resume(&mut c, tenant, interaction, session_cookie, new_session).await;
                }
            }
        }
        let mut found = None;
        for value in interaction_cookies {
            let cookie = InteractionCookie::read_only(Some(value));
            let interaction = interactions::load(&mut c, &tenant.id, &cookie).await.map_err(PageError::server)?;
            if let Some(interaction) = interaction.filter(|i| i.id == uid) {
                found = Some((interaction, value.as_str()));
                break;
            }
        }
        let (interaction, cookie) = found.ok_or_else(lost)?;
        if interaction.state.result.is_none() {
            // Not signed in yet: back to the page it started on.
            return Ok(ResumeOutcome::SignIn { location: interaction.params.sign_in_location() });
        }
        if interaction.consent.is_none() {
            // A new sign-in replaces whatever session the browser had.
            replace_session(&mut c, tenant, session_cookie, &new_session).await?;
            let mut query = url::form_urlencoded::Serializer::new(String::new());
            query.append_pair("app_id", &interaction.params.client_id);
            let location = format!("/consent?{}", query.finish());
            return Ok(ResumeOutcome::Consent { location, session_cookie: new_session });
        }
        let taken = interactions::take_answered(&mut c, &tenant.id, uid, cookie).await.map_err(PageError::server)?;
        let interaction = taken.ok_or_else(lost)?;
        self.finish_resume(&mut c, tenant, interaction, session_cookie, new_session).await
    }

    /// The end of a resume, on an interaction just spent (deleted and read by one
    /// statement: of two requests finishing it exactly one gets it) whose consent prompt
    /// was answered: denied, back to the client with `access_denied`; granted, the session
    /// made and the code issued. No transaction: a failure after the spend leaves a spent
    /// interaction and rows no browser holds the secrets of; the browser signs in again.
    async fn finish_resume(
        &self,
        c: &mut impl kido_store::Exec,
        tenant: &TenantContext,
        interaction: Interaction,
        session_cookie: Option<&str>,
        new_session: String,
    ) -> Result<ResumeOutcome, PageError> {
        let (params, state) = (interaction.params, interaction.state);
        let client_id = params.client_id.clone();
        if !interaction.consent.is_some_and(|consent| consent.granted) {
            let e = redirect_error("access_denied", "End-User aborted interaction");
            let location = error_redirect(tenant, &params.redirect_uri, params.state.as_deref(), &e);
            return Ok(ResumeOutcome::Done { location, session_cookie: None, client_id });
        }
        let login = state.result.ok_or_else(lost)?;
        let now = clock::now_ms();
        let session = StoredSession {
            tenant_id: tenant.id.to_string(),
            id: ids::new_id(),
            cookie_hash: ids::digest(&new_session),
            user_id: login.account_id.clone(),
            auth_time: login.login_ts,
            xsrf: ids::new_opaque_token(),
            expires_at: now + SESSION_TTL_MS,
            created_at: now,
            client_id: Some(client_id.clone()),
        };
        // The password it was verified with must still be the user's: the insert checks it.
        let stored = store::insert_session(c, &session, state.credential_stamp).await.map_err(|e| {
            match StorageError::from(e) {
                // The user was deleted between submit and now: nothing to sign in to.
                StorageError::MissingReference(_) => lost(),
                other => PageError::server(other),
            }
        })?;
        if !stored {
            // The interaction is spent either way: the browser starts a new sign-in.
            let user = kido_store::users::find(c, &tenant.id, &login.account_id)
                .await
                .map_err(PageError::server)?
                .ok_or_else(lost)?;
            if rules::credentials_unchanged(state.credential_stamp, &user).is_err() {
                return Err(PageError::new(
                    "credentials_changed",
                    "the password changed during sign-in; sign in again",
                ));
            }
            return Err(PageError::server("the session was refused for an unchanged password"));
        }
        // The new sign-in replaces whatever session the browser had (kept when refused).
        replace_session(c, tenant, session_cookie, &new_session).await?;
        let code = CodeRows::new(tenant, &params, &session.user_id, Some(&session.id), session.auth_time);
        code.insert(c).await?;
        Ok(ResumeOutcome::Done { location: code.location, session_cookie: Some(new_session), client_id })
    }

    /// A grant for what was asked and one authorization code under it; returns the
    /// client's redirect URI carrying `code`, `state` and `iss`.
    async fn issue_code(
        &self,
        tenant: &TenantContext,
        params: &AuthorizationParams,
        user_id: &str,
        session_id: Option<&str>,
        auth_time: i64,
    ) -> Result<String, PageError> {
        let code = CodeRows::new(tenant, params, user_id, session_id, auth_time);
        let mut c = self.core.store.conn().await.map_err(PageError::server)?;
        code.insert(&mut c).await?;
        Ok(code.location)
    }

    /// The client an interaction is for (for the pages: name, logo, third-party flag).
    pub async fn interaction_client(&self, tenant: &TenantContext, client_id: &str) -> Option<Arc<Client>> {
        clients::find(self.core, tenant, client_id).await.ok().flatten()
    }
}

/// The rows of one authorization code (its grant and the code) and the client's redirect
/// URI carrying `code`, `state` and `iss`.
struct CodeRows {
    grant: StoredGrant,
    code: StoredToken,
    location: String,
}

impl CodeRows {
    fn new(
        tenant: &TenantContext,
        params: &AuthorizationParams,
        user_id: &str,
        session_id: Option<&str>,
        auth_time: i64,
    ) -> Self {
        let now = clock::now_ms();
        let grant = StoredGrant {
            tenant_id: tenant.id.to_string(),
            id: ids::new_id(),
            client_id: params.client_id.clone(),
            user_id: user_id.to_owned(),
            session_id: session_id.map(str::to_owned),
            scope: params.scope.join(" "),
            resources: Json(params.resources.clone()),
            auth_time,
            expires_at: now + GRANT_TTL_MS,
            created_at: now,
        };
        let secret = ids::new_opaque_token();
        let code = StoredToken {
            tenant_id: tenant.id.to_string(),
            token_hash: ids::digest(&secret),
            kind: super::grants::KIND_CODE.to_owned(),
            grant_id: grant.id.clone(),
            client_id: params.client_id.clone(),
            scope: grant.scope.clone(),
            data: Json(json!({
                "redirectUri": params.redirect_uri,
                "codeChallenge": params.code_challenge,
                "nonce": params.nonce,
            })),
            expires_at: now + CODE_TTL_MS,
            consumed_at: None,
            created_at: now,
        };
        let mut query = vec![("code", secret.as_str())];
        if let Some(state) = &params.state {
            query.push(("state", state));
        }
        query.push(("iss", &tenant.issuer));
        let location = with_query(&params.redirect_uri, &query);
        Self { grant, code, location }
    }

    /// The grant, then its code: no transaction, since a grant left without a code (a
    /// failure between the two) issues nothing.
    async fn insert(&self, c: &mut impl kido_store::Exec) -> Result<(), PageError> {
        store::insert_grant(c, &self.grant).await.map_err(PageError::server)?;
        store::insert_token(c, &self.code).await.map_err(PageError::server)
    }
}

/// Deletes the browser's earlier session (the cookie it brought) unless it is the one this
/// sign-in ends in.
async fn replace_session(
    c: &mut impl kido_store::Exec,
    tenant: &TenantContext,
    old: Option<&str>,
    new: &str,
) -> Result<(), PageError> {
    let Some(old) = old.filter(|old| *old != new) else { return Ok(()) };
    let found =
        store::find_session(c, &tenant.id, &ids::digest(old), clock::now_ms()).await.map_err(PageError::server)?;
    if let Some(s) = found {
        store::delete_session(c, &tenant.id, &s.id).await.map_err(PageError::server)?;
    }
    Ok(())
}

/// The interaction a resume names is not (or no longer) there.
fn lost() -> PageError {
    PageError::new("session_not_found", "interaction session not found")
}

fn error_redirect(tenant: &TenantContext, redirect_uri: &str, state: Option<&str>, e: &RedirectError) -> String {
    let mut query = vec![("error", e.error), ("error_description", e.description.as_str())];
    if let Some(state) = state {
        query.push(("state", state));
    }
    query.push(("iss", &tenant.issuer));
    with_query(redirect_uri, &query)
}

/// PKCE (RFC 7636): S256 only; required for public clients.
fn pkce_challenge(client: &Client, q: &Params<'_>) -> Result<Option<String>, RedirectError> {
    let invalid = |d: &str| redirect_error("invalid_request", d);
    let challenge = q.single("code_challenge").map_err(|e| redirect_error("invalid_request", e))?;
    let method = q.single("code_challenge_method").map_err(|e| redirect_error("invalid_request", e))?;
    match (challenge, method) {
        (None, None) if client.is_public() => Err(invalid("PKCE must be used for this request")),
        (None, None) => Ok(None),
        (None, Some(_)) => Err(invalid("code_challenge must be provided with code_challenge_method")),
        (Some(_), None) => {
            Err(invalid("plain code_challenge_method fallback disabled, code_challenge_method must be provided"))
        }
        (Some(_), Some(m)) if m != "S256" => Err(invalid("not supported value of code_challenge_method")),
        (Some(c), Some(_)) => {
            if is_pkce_value(c) {
                Ok(Some(c.to_owned()))
            } else {
                Err(invalid("code_challenge must be 43 to 128 unreserved characters"))
            }
        }
    }
}
