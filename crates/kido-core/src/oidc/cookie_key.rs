//! The tenant's cookie key (Logto's `oidc.cookieKeys`): an HMAC key kept in the tenant's
//! settings, made once by whichever node starts first and read by every node at start. It
//! signs the `_session` cookie (`_session.sig`, the koa/keygrip pattern: a MAC of
//! `name=value`) and derives the session cookie an interaction ends in, so the cookie the
//! browser gets before consent is the one its session row will answer to.

use aws_lc_rs::hmac;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use kido_proto::TenantId;
use kido_store::{Exec, settings};
use serde_json::json;
use subtle::ConstantTimeEq;

use crate::storage::StorageError;

const SETTING: &str = "cookie_key";

pub struct CookieKey(hmac::Key);

impl std::fmt::Debug for CookieKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CookieKey(..)")
    }
}

impl CookieKey {
    fn mac(&self, data: &str) -> String {
        URL_SAFE_NO_PAD.encode(hmac::sign(&self.0, data.as_bytes()).as_ref())
    }

    /// The `<name>.sig` cookie's value for cookie `name=value`.
    pub fn sign(&self, name: &str, value: &str) -> String {
        self.mac(&format!("{name}={value}"))
    }

    /// Whether `sig` is `name=value`'s signature (constant time).
    pub fn verify(&self, name: &str, value: &str, sig: &str) -> bool {
        bool::from(self.sign(name, value).as_bytes().ct_eq(sig.as_bytes()))
    }

    /// The `_session` cookie the sign-in `interaction_id` ends in: unpredictable without the
    /// key, and the same at every step (the interaction cookie rotates, its id does not).
    pub(crate) fn session_cookie(&self, interaction_id: &str) -> String {
        self.mac(&format!("kido-session:{interaction_id}"))
    }
}

/// The tenant's key, made if it has none (two nodes starting together keep the first).
pub(crate) async fn load_or_create(c: &mut impl Exec, tenant: &TenantId) -> Result<CookieKey, StorageError> {
    if let Some(key) = read(c, tenant).await? {
        return Ok(key);
    }
    let mut bytes = [0u8; 32];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| StorageError::Corrupt("no randomness for the cookie key".into()))?;
    settings::put_if_absent(c, tenant, SETTING, &json!({"key": URL_SAFE_NO_PAD.encode(bytes)})).await?;
    read(c, tenant).await?.ok_or_else(|| StorageError::Corrupt("cookie key missing after insert".into()))
}

async fn read(c: &mut impl Exec, tenant: &TenantId) -> Result<Option<CookieKey>, StorageError> {
    let Some(value) = settings::get(c, tenant, SETTING).await? else { return Ok(None) };
    let bytes = value["key"]
        .as_str()
        .and_then(|k| URL_SAFE_NO_PAD.decode(k).ok())
        .filter(|b| b.len() >= 32)
        .ok_or_else(|| StorageError::Corrupt(format!("tenant {tenant}: malformed cookie key")))?;
    Ok(Some(CookieKey(hmac::Key::new(hmac::HMAC_SHA256, &bytes))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_and_derives() {
        let key = CookieKey(hmac::Key::new(hmac::HMAC_SHA256, &[7u8; 32]));
        let sig = key.sign("_session", "abc");
        assert!(key.verify("_session", "abc", &sig));
        assert!(!key.verify("_session", "abd", &sig));
        assert!(!key.verify("_interaction", "abc", &sig));
        assert_eq!(key.session_cookie("i1"), key.session_cookie("i1"));
        assert_ne!(key.session_cookie("i1"), key.session_cookie("i2"));
        assert_eq!(key.session_cookie("i1").len(), 43);
    }
}
