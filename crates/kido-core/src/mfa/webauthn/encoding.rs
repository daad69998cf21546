//! base64url as the WebAuthn JSON forms use it.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

use super::error::WebAuthnError;

/// base64url, padded or not (browsers do not pad; Python's `urlsafe_b64encode` does).
pub(super) const B64URL: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Decodes base64url of at most `max` decoded bytes.
pub(super) fn b64url(encoded: &str, max: usize, what: &'static str) -> Result<Vec<u8>, WebAuthnError> {
    if encoded.len() > max.div_ceil(3) * 4 + 2 {
        return Err(WebAuthnError::Malformed(what));
    }
    B64URL.decode(encoded).map_err(|_| WebAuthnError::Malformed(what))
}

pub(super) fn encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}
