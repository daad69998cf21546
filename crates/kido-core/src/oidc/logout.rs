//! RP-initiated logout (OIDC RP-Initiated Logout 1.0): a confirmation page, then the
//! session ends with the signing-out client's grant and every grant without
//! `offline_access`. Works with `client_id` alone, as the Python SDK sends it.

use kido_store::oidc as store;
use serde_json::{Map, Value};
use subtle::ConstantTimeEq;

use super::authorize::PageError;
use super::{clients, jwt, sessions};
use crate::{Core, TenantContext};

/// The end-session request's parameters.
#[derive(Debug, Default, Clone)]
pub struct LogoutRequest {
    pub client_id: Option<String>,
    pub id_token_hint: Option<String>,
    pub post_logout_redirect_uri: Option<String>,
    pub state: Option<String>,
}

/// What the confirmation page needs.
pub struct LogoutPrompt {
    pub client_id: Option<String>,
    pub client_name: Option<String>,
    /// The session's anti-forgery token (absent when the browser has no session).
    pub xsrf: Option<String>,
}

fn invalid(description: &str) -> PageError {
    PageError { error: "invalid_request", description: description.to_owned() }
}

/// RP-initiated logout; `Core::logout`.
pub struct Logout<'a> {
    pub(crate) core: &'a Core,
}

impl Logout<'_> {
    /// Checks the request (client, `id_token_hint`, registered post-logout URI).
    pub async fn prompt(
        &self,
        tenant: &TenantContext,
        request: &LogoutRequest,
        session_cookie: Option<&str>,
    ) -> Result<LogoutPrompt, PageError> {
        let client_id = self.logout_client(tenant, request).await?;
        let client_name = match &client_id {
            Some(id) => {
                clients::find(self.core, tenant, id).await.map_err(PageError::server)?.map(|c| c.app.name.clone())
            }
            None => None,
        };
        let session = sessions::find(self.core, tenant, session_cookie).await.map_err(PageError::server)?;
        Ok(LogoutPrompt { client_id, client_name, xsrf: session.map(|s| s.xsrf) })
    }

    /// The confirmed logout: ends the session (if any) and says where the browser goes.
    pub async fn confirm(
        &self,
        tenant: &TenantContext,
        request: &LogoutRequest,
        xsrf: Option<&str>,
        session_cookie: Option<&str>,
    ) -> Result<String, PageError> {
        let client_id = self.logout_client(tenant, request).await?;
        if let Some(session) = sessions::find(self.core, tenant, session_cookie).await.map_err(PageError::server)? {
            let presented = xsrf.unwrap_or_default();
            if !bool::from(session.xsrf.as_bytes().ct_eq(presented.as_bytes())) {
                return Err(invalid("xsrf token invalid"));
            }
            let mut tx = self.core.store.begin().await.map_err(PageError::server)?;
            store::delete_session_grants(
                &mut tx,
                &tenant.id,
                &session.id,
                store::EndingGrants::Online { also_client: client_id.as_deref() },
            )
            .await
            .map_err(PageError::server)?;
            store::delete_session(&mut tx, &tenant.id, &session.id).await.map_err(PageError::server)?;
            tx.commit().await.map_err(PageError::server)?;
        }
        Ok(match &request.post_logout_redirect_uri {
            Some(uri) => {
                let mut url = url::Url::parse(uri).map_err(|_| invalid("post_logout_redirect_uri is not a URL"))?;
                if let Some(state) = &request.state {
                    url.query_pairs_mut().append_pair("state", state);
                }
                url.to_string()
            }
            None => "/oidc/session/end/success".to_owned(),
        })
    }

    /// The client the logout is for, from `client_id` and/or `id_token_hint` (which must
    /// agree), and the check that the post-logout URI is registered for it.
    async fn logout_client(
        &self,
        tenant: &TenantContext,
        request: &LogoutRequest,
    ) -> Result<Option<String>, PageError> {
        let hinted = match &request.id_token_hint {
            Some(hint) => {
                let claims =
                    self.id_token_hint(tenant, hint).ok_or_else(|| invalid("could not validate id_token_hint"))?;
                Some(
                    claims
                        .get("aud")
                        .and_then(|a| a.as_str())
                        .map(str::to_owned)
                        .ok_or_else(|| invalid("could not validate id_token_hint"))?,
                )
            }
            None => None,
        };
        let client_id = match (&request.client_id, hinted) {
            (Some(given), Some(hinted)) if *given != hinted => {
                return Err(invalid("client_id does not match the provided id_token_hint"));
            }
            (Some(given), _) => Some(given.clone()),
            (None, hinted) => hinted,
        };
        let Some(client_id) = client_id else {
            if request.post_logout_redirect_uri.is_some() {
                return Err(invalid(
                    "post_logout_redirect_uri can only be used in combination with id_token_hint or client_id",
                ));
            }
            return Ok(None);
        };
        let client = clients::find(self.core, tenant, &client_id)
            .await
            .map_err(PageError::server)?
            .ok_or_else(|| PageError { error: "invalid_client", description: "client is invalid".into() })?;
        if let Some(uri) = &request.post_logout_redirect_uri
            && !client.app.oidc_client_metadata.post_logout_redirect_uris.iter().any(|r| r == uri)
        {
            return Err(invalid("post_logout_redirect_uri not registered"));
        }
        Ok(Some(client_id))
    }

    /// Verifies an `id_token_hint`: ours, for some client; expiry does not matter.
    fn id_token_hint(&self, tenant: &TenantContext, hint: &str) -> Option<Map<String, Value>> {
        let ring = self.core.key_ring(&tenant.id)?;
        jwt::verify_issued(&ring, hint, &tenant.issuer).ok()
    }
}
