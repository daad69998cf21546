//! Secrets at rest (TOTP secrets today; the secret vault's token sets next): AES-256-GCM under
//! the operator's key (`KIDO_SECRET_VAULT_KEK`, or a key file beside the database), so a copy
//! of the database alone opens nothing. Each sealed value is bound to what it belongs to (the
//! associated data names tenant, owner and purpose): a sealed secret copied onto another row
//! does not open there.

use aws_lc_rs::aead::{AES_256_GCM, Aad, Nonce, RandomizedNonceKey};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use thiserror::Error;

/// Bytes of a key.
pub const KEY_LEN: usize = 32;
/// Format tag of a sealed value, so a later scheme can tell its values apart.
const VERSION: &str = "v1";
const NONCE_LEN: usize = 12;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum SealingError {
    #[error("the secret key must be {KEY_LEN} bytes, base64 or base64url encoded")]
    BadKey,
    #[error("a sealed value does not open with this server's secret key (was KIDO_SECRET_VAULT_KEK changed?)")]
    DoesNotOpen,
    #[error("no randomness available")]
    NoRandomness,
}

/// The key secrets are sealed with.
pub struct SealingKey(RandomizedNonceKey);

impl std::fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealingKey(..)")
    }
}

impl SealingKey {
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SealingError> {
        if bytes.len() != KEY_LEN {
            return Err(SealingError::BadKey);
        }
        RandomizedNonceKey::new(&AES_256_GCM, bytes).map(Self).map_err(|_| SealingError::BadKey)
    }

    /// A key from its text form (base64, padded or not, standard or URL alphabet).
    pub fn parse(text: &str) -> Result<Self, SealingError> {
        let text = text.trim().trim_end_matches('=');
        let bytes = URL_SAFE_NO_PAD
            .decode(text)
            .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(text))
            .map_err(|_| SealingError::BadKey)?;
        Self::from_bytes(&bytes)
    }

    /// A fresh random key in its text form (what the key file holds).
    pub fn generate_text() -> Result<String, SealingError> {
        let mut bytes = [0u8; KEY_LEN];
        SystemRandom::new().fill(&mut bytes).map_err(|_| SealingError::NoRandomness)?;
        Ok(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// A random key held only in memory (tests, and servers that seal nothing they must reopen
    /// after a restart).
    pub fn ephemeral() -> Result<Self, SealingError> {
        Self::parse(&Self::generate_text()?)
    }

    /// `plaintext` sealed for `context` (who and what it belongs to): `v1.<nonce+ciphertext+tag>`.
    pub fn seal(&self, context: &str, plaintext: &[u8]) -> Result<String, SealingError> {
        let mut buffer = plaintext.to_vec();
        let nonce = self
            .0
            .seal_in_place_append_tag(Aad::from(context.as_bytes()), &mut buffer)
            .map_err(|_| SealingError::NoRandomness)?;
        let mut out = Vec::with_capacity(NONCE_LEN + buffer.len());
        out.extend_from_slice(nonce.as_ref());
        out.extend_from_slice(&buffer);
        Ok(format!("{VERSION}.{}", URL_SAFE_NO_PAD.encode(out)))
    }

    /// The plaintext of a value sealed for the same `context`.
    pub fn open(&self, context: &str, sealed: &str) -> Result<Vec<u8>, SealingError> {
        let body =
            sealed.strip_prefix(VERSION).and_then(|rest| rest.strip_prefix('.')).ok_or(SealingError::DoesNotOpen)?;
        let bytes = URL_SAFE_NO_PAD.decode(body).map_err(|_| SealingError::DoesNotOpen)?;
        if bytes.len() < NONCE_LEN {
            return Err(SealingError::DoesNotOpen);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SealingError::DoesNotOpen)?;
        let mut buffer = ciphertext.to_vec();
        let plaintext = self
            .0
            .open_in_place(nonce, Aad::from(context.as_bytes()), &mut buffer)
            .map_err(|_| SealingError::DoesNotOpen)?;
        Ok(plaintext.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_only_with_its_key_and_context() {
        let key = SealingKey::ephemeral().unwrap();
        let sealed = key.seal("totp:t:u:v", b"JBSWY3DPEHPK3PXP").unwrap();
        assert!(sealed.starts_with("v1."));
        assert!(!sealed.contains("JBSWY3DPEHPK3PXP"));
        assert_eq!(key.open("totp:t:u:v", &sealed).unwrap(), b"JBSWY3DPEHPK3PXP");
        assert_eq!(key.open("totp:t:other:v", &sealed), Err(SealingError::DoesNotOpen));
        let other = SealingKey::ephemeral().unwrap();
        assert_eq!(other.open("totp:t:u:v", &sealed), Err(SealingError::DoesNotOpen));
        // Two seals of one secret differ (fresh nonce each time).
        assert_ne!(key.seal("c", b"x").unwrap(), key.seal("c", b"x").unwrap());
    }

    #[test]
    fn tampered_or_malformed_values_do_not_open() {
        let key = SealingKey::ephemeral().unwrap();
        let sealed = key.seal("c", b"secret").unwrap();
        let mut tampered = sealed.clone().into_bytes();
        let last = tampered.len() - 2;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();
        assert_eq!(key.open("c", &tampered), Err(SealingError::DoesNotOpen));
        for bad in ["", "v1.", "v2.AAAA", "v1.!!!", "v1.AAAA", "plain"] {
            assert_eq!(key.open("c", bad), Err(SealingError::DoesNotOpen), "{bad}");
        }
    }

    #[test]
    fn keys_parse_from_base64_of_32_bytes_only() {
        let text = SealingKey::generate_text().unwrap();
        assert!(SealingKey::parse(&text).is_ok());
        let standard = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
        assert!(SealingKey::parse(&standard).is_ok());
        assert_eq!(SealingKey::parse("short").unwrap_err(), SealingError::BadKey);
        assert_eq!(SealingKey::parse(&URL_SAFE_NO_PAD.encode([1u8; 16])).unwrap_err(), SealingError::BadKey);
    }
}
