//! Credential public keys as authenticators give them (COSE_Key, RFC 9053) and the checks of
//! their signatures: ES256 (P-256), RS256 (PKCS#1 v1.5) and EdDSA (Ed25519), with aws-lc-rs.

use aws_lc_rs::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey};

use super::cbor::{self, Value};

pub const ES256: i128 = -7;
pub const EDDSA: i128 = -8;
pub const RS256: i128 = -257;

/// The longest RSA modulus taken (8192 bits), so a key cannot make verification costly.
const MAX_RSA_MODULUS: usize = 1024;

/// A credential's public key, checked when it was registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicKey {
    /// The uncompressed point `04 || x || y`.
    Es256(Vec<u8>),
    Rs256 {
        n: Vec<u8>,
        e: Vec<u8>,
    },
    EdDsa(Vec<u8>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyError {
    Malformed,
    /// A key type, curve or algorithm this relying party does not verify.
    Unsupported,
}

impl From<cbor::Malformed> for KeyError {
    fn from(_: cbor::Malformed) -> Self {
        Self::Malformed
    }
}

fn bytes(key: &Value, label: i128) -> Result<&[u8], KeyError> {
    key.get_int(label).and_then(Value::as_bytes).ok_or(KeyError::Malformed)
}

impl PublicKey {
    /// Parses a COSE_Key map.
    pub fn from_cose(key: &Value) -> Result<Self, KeyError> {
        let kty = key.get_int(1).and_then(Value::as_int).ok_or(KeyError::Malformed)?;
        let alg = key.get_int(3).and_then(Value::as_int).ok_or(KeyError::Malformed)?;
        match (kty, alg) {
            (2, ES256) => {
                if key.get_int(-1).and_then(Value::as_int) != Some(1) {
                    return Err(KeyError::Unsupported);
                }
                let (x, y) = (bytes(key, -2)?, bytes(key, -3)?);
                if x.len() != 32 || y.len() != 32 {
                    return Err(KeyError::Malformed);
                }
                Ok(Self::Es256([&[0x04][..], x, y].concat()))
            }
            (3, RS256) => {
                let (n, e) = (bytes(key, -1)?, bytes(key, -2)?);
                if n.is_empty() || n.len() > MAX_RSA_MODULUS || e.is_empty() || e.len() > 8 {
                    return Err(KeyError::Malformed);
                }
                Ok(Self::Rs256 { n: n.to_vec(), e: e.to_vec() })
            }
            (1, EDDSA) => {
                if key.get_int(-1).and_then(Value::as_int) != Some(6) {
                    return Err(KeyError::Unsupported);
                }
                let x = bytes(key, -2)?;
                if x.len() != 32 {
                    return Err(KeyError::Malformed);
                }
                Ok(Self::EdDsa(x.to_vec()))
            }
            _ => Err(KeyError::Unsupported),
        }
    }

    /// Parses the COSE_Key bytes a credential was stored with.
    pub fn from_cose_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        Self::from_cose(&cbor::decode(bytes)?)
    }

    /// Whether `sig` is this key's signature of `message`.
    pub fn verifies(&self, message: &[u8], sig: &[u8]) -> bool {
        match self {
            Self::Es256(point) => {
                UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_ASN1, point).verify(message, sig).is_ok()
            }
            Self::Rs256 { n, e } => RsaPublicKeyComponents { n: n.as_slice(), e: e.as_slice() }
                .verify(&signature::RSA_PKCS1_2048_8192_SHA256, message, sig)
                .is_ok(),
            Self::EdDsa(x) => UnparsedPublicKey::new(&signature::ED25519, x).verify(message, sig).is_ok(),
        }
    }
}
