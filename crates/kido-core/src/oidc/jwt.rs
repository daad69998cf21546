//! Verification of the JWTs Kido itself issued (Management API bearer tokens).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};
use thiserror::Error;

use super::keys::KeyRing;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum JwtError {
    #[error("the token is not a well-formed JWT")]
    Malformed,
    #[error("the token is signed by an unknown key")]
    UnknownKey,
    #[error("the token's signature is invalid")]
    BadSignature,
    #[error("the token was issued by someone else")]
    WrongIssuer,
    #[error("the token is meant for another audience")]
    WrongAudience,
    #[error("the token has expired")]
    Expired,
}

/// What a token must be to be accepted.
pub struct Expectation<'a> {
    pub issuer: &'a str,
    pub audience: &'a str,
    pub now_secs: i64,
}

/// Checks that the token is ours (signature by one of our keys, our issuer), whatever its
/// audience and expiry (an `id_token_hint` may have expired); returns the claims.
pub fn verify_issued(ring: &KeyRing, token: &str, issuer: &str) -> Result<Map<String, Value>, JwtError> {
    let (signing_input, signature) = token.rsplit_once('.').ok_or(JwtError::Malformed)?;
    let (header, payload) = signing_input.split_once('.').ok_or(JwtError::Malformed)?;
    let header: Map<String, Value> = decode_json(header)?;
    let kid = header.get("kid").and_then(Value::as_str).ok_or(JwtError::UnknownKey)?;
    let key = ring.find(kid).ok_or(JwtError::UnknownKey)?;
    // The algorithm comes from our key, never from the token (no `alg: none` games).
    if header.get("alg").and_then(Value::as_str) != Some(key.alg.as_str()) {
        return Err(JwtError::BadSignature);
    }
    let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| JwtError::Malformed)?;
    if !key.verify(signing_input.as_bytes(), &signature) {
        return Err(JwtError::BadSignature);
    }
    let claims: Map<String, Value> = decode_json(payload)?;
    if claims.get("iss").and_then(Value::as_str) != Some(issuer) {
        return Err(JwtError::WrongIssuer);
    }
    Ok(claims)
}

/// Checks signature, `iss`, `aud` and `exp`; returns the claims.
pub fn verify(ring: &KeyRing, token: &str, expect: &Expectation<'_>) -> Result<Map<String, Value>, JwtError> {
    let claims = verify_issued(ring, token, expect.issuer)?;
    let audience_ok = match claims.get("aud") {
        Some(Value::String(a)) => a == expect.audience,
        Some(Value::Array(list)) => list.iter().any(|a| a.as_str() == Some(expect.audience)),
        _ => false,
    };
    if !audience_ok {
        return Err(JwtError::WrongAudience);
    }
    match claims.get("exp").and_then(Value::as_i64) {
        Some(exp) if exp > expect.now_secs => Ok(claims),
        _ => Err(JwtError::Expired),
    }
}

fn decode_json(part: &str) -> Result<Map<String, Value>, JwtError> {
    let bytes = URL_SAFE_NO_PAD.decode(part).map_err(|_| JwtError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| JwtError::Malformed)
}

/// The space-separated `scope` claim as a list.
pub fn scopes(claims: &Map<String, Value>) -> impl Iterator<Item = &str> {
    claims.get("scope").and_then(Value::as_str).unwrap_or_default().split(' ').filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use super::*;
    use crate::oidc::keys::{SigningAlgorithm, SigningKey};

    fn new_ring(kid: &str) -> KeyRing {
        let (key, _) = SigningKey::generate(kid.into(), SigningAlgorithm::Es384).unwrap();
        let key = Arc::new(key);
        KeyRing::new(key.clone(), vec![key])
    }

    #[test]
    fn accepts_only_what_it_should() {
        let ring = new_ring("k");
        let expect = Expectation { issuer: "https://i/oidc", audience: "https://a", now_secs: 1000 };
        let sign = |claims: Value| ring.current.sign(&claims, true).unwrap();
        let good = sign(json!({"iss": "https://i/oidc", "aud": "https://a", "exp": 2000, "scope": "all x"}));
        let claims = verify(&ring, &good, &expect).unwrap();
        assert_eq!(scopes(&claims).collect::<Vec<_>>(), ["all", "x"]);

        let cases = [
            (json!({"iss": "https://other/oidc", "aud": "https://a", "exp": 2000}), JwtError::WrongIssuer),
            (json!({"iss": "https://i/oidc", "aud": "https://b", "exp": 2000}), JwtError::WrongAudience),
            (json!({"iss": "https://i/oidc", "aud": "https://a", "exp": 999}), JwtError::Expired),
            (json!({"iss": "https://i/oidc", "aud": "https://a"}), JwtError::Expired),
        ];
        for (claims, err) in cases {
            assert_eq!(verify(&ring, &sign(claims), &expect), Err(err));
        }
        // Tampered payload, foreign key, garbage.
        let mut parts: Vec<&str> = good.split('.').collect();
        let forged = URL_SAFE_NO_PAD.encode(br#"{"iss":"https://i/oidc","aud":"https://a","exp":9999,"scope":"all"}"#);
        parts[1] = &forged;
        assert_eq!(verify(&ring, &parts.join("."), &expect), Err(JwtError::BadSignature));
        assert_eq!(verify(&new_ring("k"), &good, &expect), Err(JwtError::BadSignature));
        assert_eq!(verify(&new_ring("other"), &good, &expect), Err(JwtError::UnknownKey));
        assert_eq!(verify(&ring, "abc", &expect), Err(JwtError::Malformed));
    }
}
