//! The client data a browser hashes into every WebAuthn signature (WebAuthn §5.8.1): which
//! ceremony, which challenge, which origin.

use serde::Deserialize;

use super::encoding::b64url;
use super::error::WebAuthnError;

/// Browsers send a few hundred bytes; this leaves room for extra members and nothing more.
pub const MAX_CLIENT_DATA: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ceremony {
    Create,
    Get,
}

impl Ceremony {
    fn type_name(self) -> &'static str {
        match self {
            Self::Create => "webauthn.create",
            Self::Get => "webauthn.get",
        }
    }
}

#[derive(Deserialize)]
struct ClientData {
    #[serde(rename = "type")]
    kind: String,
    challenge: String,
    origin: String,
}

/// Checks the client data of a `ceremony` against the challenge issued (base64url) and the
/// relying party's origin; returns the raw bytes (what the signature covers, hashed).
pub fn check(encoded: &str, ceremony: Ceremony, challenge: &str, origin: &str) -> Result<Vec<u8>, WebAuthnError> {
    let raw = b64url(encoded, MAX_CLIENT_DATA, "clientDataJSON")?;
    let data: ClientData =
        serde_json::from_slice(&raw).map_err(|_| WebAuthnError::Malformed("clientDataJSON is not client data"))?;
    if data.kind != ceremony.type_name() {
        return Err(WebAuthnError::Type);
    }
    // Compared decoded: a client may or may not pad its base64url.
    let expected = b64url(challenge, MAX_CLIENT_DATA, "challenge")?;
    if b64url(&data.challenge, MAX_CLIENT_DATA, "challenge").ok() != Some(expected) {
        return Err(WebAuthnError::Challenge);
    }
    if data.origin != origin {
        return Err(WebAuthnError::Origin);
    }
    Ok(raw)
}
