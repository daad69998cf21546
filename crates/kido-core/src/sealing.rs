//! Secrets at rest (TOTP secrets and backup codes today; the secret vault's token sets next):
//! envelope encryption under the operator's key-encryption key (`KIDO_SECRET_VAULT_KEK`, or a
//! key file beside the database), so a copy of the database alone opens nothing.
//!
//! Each value gets a fresh 256-bit data key: the value is sealed with it (AES-256-GCM), and the
//! data key is wrapped with the key-encryption key (AES-256-GCM). The sealed form names the
//! key-encryption key by its id (`v2.<kek id>.<wrapped data key>.<ciphertext>`), so a server
//! holding the current key and the retired ones (`KIDO_SECRET_VAULT_PREVIOUS_KEKS`) opens every
//! value, and `kido vault rotate-kek` re-wraps data keys under the current key without touching
//! a ciphertext. Each value is bound to what it belongs to (the associated data names tenant,
//! owner and purpose): a sealed secret copied onto another row does not open there. Values of
//! the first format (`v1.`, sealed with the key itself) still open and are re-sealed by the
//! rotation.

use aws_lc_rs::aead::{AES_256_GCM, Aad, Nonce, RandomizedNonceKey};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::Digest;
use thiserror::Error;

/// Bytes of a key.
pub const KEY_LEN: usize = 32;
/// Format tags of sealed values.
const V1: &str = "v1";
const V2: &str = "v2";
const NONCE_LEN: usize = 12;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum SealingError {
    #[error("the secret key must be {KEY_LEN} bytes, base64 or base64url encoded")]
    BadKey,
    #[error("a sealed value does not open with this server's secret key (was KIDO_SECRET_VAULT_KEK changed?)")]
    DoesNotOpen,
    #[error(
        "a sealed value names key-encryption key {0}, which this server does not hold: give it in KIDO_SECRET_VAULT_PREVIOUS_KEKS"
    )]
    UnknownKey(String),
    #[error("no randomness available")]
    NoRandomness,
}

/// One key-encryption key and its id (derived from the key, so nothing else names it).
struct Kek {
    id: String,
    key: RandomizedNonceKey,
}

impl Kek {
    fn from_bytes(bytes: &[u8]) -> Result<Self, SealingError> {
        if bytes.len() != KEY_LEN {
            return Err(SealingError::BadKey);
        }
        let digest = sha2::Sha256::new().chain_update(b"kido-kek-id:").chain_update(bytes).finalize();
        let id = URL_SAFE_NO_PAD.encode(&digest[..6]);
        let key = RandomizedNonceKey::new(&AES_256_GCM, bytes).map_err(|_| SealingError::BadKey)?;
        Ok(Self { id, key })
    }

    fn parse(text: &str) -> Result<Self, SealingError> {
        let text = text.trim().trim_end_matches('=');
        let bytes = URL_SAFE_NO_PAD
            .decode(text)
            .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(text))
            .map_err(|_| SealingError::BadKey)?;
        Self::from_bytes(&bytes)
    }
}

/// The keys secrets are sealed with: the current key-encryption key, and the retired ones
/// values may still name until they are rotated.
pub struct SealingKey {
    current: Kek,
    previous: Vec<Kek>,
}

impl std::fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SealingKey({}, {} previous)", self.current.id, self.previous.len())
    }
}

/// `plaintext` sealed with `key`: nonce ‖ ciphertext ‖ tag.
fn seal_with(key: &RandomizedNonceKey, aad: &str, plaintext: &[u8]) -> Result<Vec<u8>, SealingError> {
    let mut buffer = plaintext.to_vec();
    let nonce =
        key.seal_in_place_append_tag(Aad::from(aad.as_bytes()), &mut buffer).map_err(|_| SealingError::NoRandomness)?;
    let mut out = Vec::with_capacity(NONCE_LEN + buffer.len());
    out.extend_from_slice(nonce.as_ref());
    out.extend_from_slice(&buffer);
    Ok(out)
}

/// The plaintext of `sealed` (as `seal_with` made it) under `key`.
fn open_with(key: &RandomizedNonceKey, aad: &str, sealed: &[u8]) -> Result<Vec<u8>, SealingError> {
    if sealed.len() < NONCE_LEN {
        return Err(SealingError::DoesNotOpen);
    }
    let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SealingError::DoesNotOpen)?;
    let mut buffer = ciphertext.to_vec();
    let plaintext =
        key.open_in_place(nonce, Aad::from(aad.as_bytes()), &mut buffer).map_err(|_| SealingError::DoesNotOpen)?;
    Ok(plaintext.to_vec())
}

fn decode(part: &str) -> Result<Vec<u8>, SealingError> {
    URL_SAFE_NO_PAD.decode(part).map_err(|_| SealingError::DoesNotOpen)
}

/// What a data key is wrapped for: the value's context, so a wrapped key moved to another
/// value does not unwrap there either.
fn dek_context(context: &str) -> String {
    format!("kido-dek:{context}")
}

/// A sealed value's parts.
enum Sealed<'a> {
    /// `v1.<nonce+ciphertext+tag>`: sealed with a key-encryption key directly.
    V1(&'a str),
    /// `v2.<kek id>.<wrapped data key>.<nonce+ciphertext+tag>`.
    V2 { kek: &'a str, wrapped: &'a str, data: &'a str },
}

fn parse(sealed: &str) -> Result<Sealed<'_>, SealingError> {
    if sealed.split('.').any(str::is_empty) {
        return Err(SealingError::DoesNotOpen);
    }
    let mut parts = sealed.split('.');
    match (parts.next(), parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(V1), Some(body), None, None, None) => Ok(Sealed::V1(body)),
        (Some(V2), Some(kek), Some(wrapped), Some(data), None) => Ok(Sealed::V2 { kek, wrapped, data }),
        _ => Err(SealingError::DoesNotOpen),
    }
}

impl SealingKey {
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SealingError> {
        Ok(Self { current: Kek::from_bytes(bytes)?, previous: Vec::new() })
    }

    /// A key from its text form (base64, padded or not, standard or URL alphabet).
    pub fn parse(text: &str) -> Result<Self, SealingError> {
        Ok(Self { current: Kek::parse(text)?, previous: Vec::new() })
    }

    /// The same current key, with retired keys (text forms) that older values may name.
    pub fn with_previous<'a>(mut self, previous: impl IntoIterator<Item = &'a str>) -> Result<Self, SealingError> {
        for text in previous {
            let kek = Kek::parse(text)?;
            if kek.id != self.current.id && self.previous.iter().all(|k| k.id != kek.id) {
                self.previous.push(kek);
            }
        }
        Ok(self)
    }

    /// The current key-encryption key's id (what new values name).
    pub fn id(&self) -> &str {
        &self.current.id
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

    fn kek(&self, id: &str) -> Result<&Kek, SealingError> {
        std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|k| k.id == id)
            .ok_or_else(|| SealingError::UnknownKey(id.to_owned()))
    }

    /// `plaintext` sealed for `context` (who and what it belongs to) under a fresh data key.
    pub fn seal(&self, context: &str, plaintext: &[u8]) -> Result<String, SealingError> {
        let mut dek = [0u8; KEY_LEN];
        SystemRandom::new().fill(&mut dek).map_err(|_| SealingError::NoRandomness)?;
        let data_key = RandomizedNonceKey::new(&AES_256_GCM, &dek).map_err(|_| SealingError::BadKey)?;
        let data = seal_with(&data_key, context, plaintext)?;
        let wrapped = seal_with(&self.current.key, &dek_context(context), &dek)?;
        Ok(format!("{V2}.{}.{}.{}", self.current.id, URL_SAFE_NO_PAD.encode(wrapped), URL_SAFE_NO_PAD.encode(data)))
    }

    /// The data key of a `v2` value, unwrapped.
    fn unwrap_dek(&self, context: &str, kek: &str, wrapped: &str) -> Result<Vec<u8>, SealingError> {
        open_with(&self.kek(kek)?.key, &dek_context(context), &decode(wrapped)?)
    }

    /// The plaintext of a value sealed for the same `context`.
    pub fn open(&self, context: &str, sealed: &str) -> Result<Vec<u8>, SealingError> {
        match parse(sealed)? {
            Sealed::V1(body) => {
                let body = decode(body)?;
                std::iter::once(&self.current)
                    .chain(&self.previous)
                    .find_map(|k| open_with(&k.key, context, &body).ok())
                    .ok_or(SealingError::DoesNotOpen)
            }
            Sealed::V2 { kek, wrapped, data } => {
                let dek = self.unwrap_dek(context, kek, wrapped)?;
                let data_key = RandomizedNonceKey::new(&AES_256_GCM, &dek).map_err(|_| SealingError::DoesNotOpen)?;
                open_with(&data_key, context, &decode(data)?)
            }
        }
    }

    /// The value with its data key wrapped under the current key-encryption key, the
    /// ciphertext untouched; a `v1` value is sealed afresh. `None`: already current.
    pub fn rewrap(&self, context: &str, sealed: &str) -> Result<Option<String>, SealingError> {
        match parse(sealed)? {
            Sealed::V2 { kek, .. } if kek == self.current.id => Ok(None),
            Sealed::V2 { kek, wrapped, data } => {
                let dek = self.unwrap_dek(context, kek, wrapped)?;
                let wrapped = seal_with(&self.current.key, &dek_context(context), &dek)?;
                Ok(Some(format!("{V2}.{}.{}.{data}", self.current.id, URL_SAFE_NO_PAD.encode(wrapped))))
            }
            Sealed::V1(_) => Ok(Some(self.seal(context, &self.open(context, sealed)?)?)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_only_with_its_key_and_context() {
        let key = SealingKey::ephemeral().unwrap();
        let sealed = key.seal("totp:t:u:v", b"JBSWY3DPEHPK3PXP").unwrap();
        assert!(sealed.starts_with(&format!("v2.{}.", key.id())));
        assert!(!sealed.contains("JBSWY3DPEHPK3PXP"));
        assert_eq!(key.open("totp:t:u:v", &sealed).unwrap(), b"JBSWY3DPEHPK3PXP");
        assert_eq!(key.open("totp:t:other:v", &sealed), Err(SealingError::DoesNotOpen));
        let other = SealingKey::ephemeral().unwrap();
        assert_eq!(other.open("totp:t:u:v", &sealed), Err(SealingError::UnknownKey(key.id().to_owned())));
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
        for bad in ["", "v1.", "v2.AAAA", "v1.!!!", "v1.AAAA", "plain", "v2...", "v2.a.b.c.d"] {
            assert_eq!(key.open("c", bad), Err(SealingError::DoesNotOpen), "{bad}");
        }
        assert_eq!(key.open("c", "v2.x.y.z"), Err(SealingError::UnknownKey("x".into())));
        let kek = key.id();
        assert_eq!(key.open("c", &format!("v2.{kek}.AAAA.AAAA")), Err(SealingError::DoesNotOpen));
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

    /// A key's text form, for building keyrings in tests.
    fn text() -> String {
        SealingKey::generate_text().unwrap()
    }

    #[test]
    fn rotation_rewraps_data_keys_and_keeps_ciphertexts() {
        let (old, new) = (text(), text());
        let before = SealingKey::parse(&old).unwrap();
        let sealed = before.seal("ctx", b"token set").unwrap();
        // The new key alone cannot open the old value, and says which key it needs.
        let only_new = SealingKey::parse(&new).unwrap();
        assert_eq!(only_new.open("ctx", &sealed), Err(SealingError::UnknownKey(before.id().to_owned())));
        let after = SealingKey::parse(&new).unwrap().with_previous([old.as_str()]).unwrap();
        assert_eq!(after.open("ctx", &sealed).unwrap(), b"token set");
        let rewrapped = after.rewrap("ctx", &sealed).unwrap().unwrap();
        assert_eq!(rewrapped.rsplit('.').next(), sealed.rsplit('.').next(), "the ciphertext is untouched");
        assert!(rewrapped.starts_with(&format!("v2.{}.", after.id())));
        assert_eq!(only_new.open("ctx", &rewrapped).unwrap(), b"token set");
        assert_eq!(after.rewrap("ctx", &rewrapped).unwrap(), None, "already current");
        // A wrapped key is bound to its value's context.
        assert_eq!(only_new.open("other", &rewrapped), Err(SealingError::DoesNotOpen));
    }

    #[test]
    fn first_format_values_open_and_are_resealed_by_the_rotation() {
        let old = text();
        let kek = Kek::parse(&old).unwrap();
        let v1 = format!("v1.{}", URL_SAFE_NO_PAD.encode(seal_with(&kek.key, "ctx", b"JBSWY3DP").unwrap()));
        let key = SealingKey::parse(&text()).unwrap().with_previous([old.as_str()]).unwrap();
        assert_eq!(key.open("ctx", &v1).unwrap(), b"JBSWY3DP");
        let resealed = key.rewrap("ctx", &v1).unwrap().unwrap();
        assert!(resealed.starts_with(&format!("v2.{}.", key.id())));
        assert_eq!(key.open("ctx", &resealed).unwrap(), b"JBSWY3DP");
        assert_eq!(key.open("other", &v1), Err(SealingError::DoesNotOpen));
    }

    #[test]
    fn previous_keys_are_deduplicated_and_must_parse() {
        let current = text();
        let key = SealingKey::parse(&current).unwrap().with_previous([current.as_str(), current.as_str()]).unwrap();
        assert_eq!(format!("{key:?}"), format!("SealingKey({}, 0 previous)", key.id()));
        assert!(SealingKey::parse(&current).unwrap().with_previous(["short"]).is_err());
    }
}
