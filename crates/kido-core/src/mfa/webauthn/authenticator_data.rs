//! The authenticator data an authenticator signs (WebAuthn §6.1): the RP id's hash, the
//! flags, the signature counter and, at registration, the new credential.

use super::cbor::{self, Value};
use super::cose::{KeyError, PublicKey};

pub const USER_PRESENT: u8 = 0x01;
pub const USER_VERIFIED: u8 = 0x04;
const ATTESTED_CREDENTIAL: u8 = 0x40;
const EXTENSIONS: u8 = 0x80;

/// The longest credential id the spec allows.
pub const MAX_CREDENTIAL_ID: usize = 1023;

#[derive(Debug, Clone)]
pub struct AuthenticatorData {
    pub rp_id_hash: [u8; 32],
    pub flags: u8,
    pub sign_count: u32,
    pub credential: Option<AttestedCredential>,
}

/// A credential an authenticator just made.
#[derive(Debug, Clone)]
pub struct AttestedCredential {
    pub id: Vec<u8>,
    /// The COSE_Key bytes as the authenticator sent them (what is stored), a key
    /// `PublicKey` takes: ES256, RS256 or EdDSA.
    pub public_key_cose: Vec<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataError {
    Malformed,
    UnsupportedKey,
}

impl From<cbor::Malformed> for DataError {
    fn from(_: cbor::Malformed) -> Self {
        Self::Malformed
    }
}

impl From<KeyError> for DataError {
    fn from(e: KeyError) -> Self {
        match e {
            KeyError::Malformed => Self::Malformed,
            KeyError::Unsupported => Self::UnsupportedKey,
        }
    }
}

fn split(input: &[u8], n: usize) -> Result<(&[u8], &[u8]), DataError> {
    if input.len() < n { Err(DataError::Malformed) } else { Ok(input.split_at(n)) }
}

impl AuthenticatorData {
    pub fn parse(input: &[u8]) -> Result<Self, DataError> {
        let (rp_id_hash, rest) = split(input, 32)?;
        let (flags, rest) = split(rest, 1)?;
        let (count, mut rest) = split(rest, 4)?;
        let flags = flags[0];
        let mut credential = None;
        if flags & ATTESTED_CREDENTIAL != 0 {
            let (_aaguid, after) = split(rest, 16)?;
            let (len, after) = split(after, 2)?;
            let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
            if len == 0 || len > MAX_CREDENTIAL_ID {
                return Err(DataError::Malformed);
            }
            let (id, after) = split(after, len)?;
            let (key, after) = cbor::decode_prefix(after)?;
            PublicKey::from_cose(&key)?;
            let public_key_cose = after_key(rest, after, 16 + 2 + len);
            credential = Some(AttestedCredential { id: id.to_vec(), public_key_cose });
            rest = after;
        }
        if flags & EXTENSIONS != 0 {
            let (extensions, after) = cbor::decode_prefix(rest)?;
            if !matches!(extensions, Value::Map(_)) {
                return Err(DataError::Malformed);
            }
            rest = after;
        }
        if !rest.is_empty() {
            return Err(DataError::Malformed);
        }
        Ok(Self {
            rp_id_hash: rp_id_hash.try_into().map_err(|_| DataError::Malformed)?,
            flags,
            sign_count: u32::from_be_bytes([count[0], count[1], count[2], count[3]]),
            credential,
        })
    }

    pub fn user_present(&self) -> bool {
        self.flags & USER_PRESENT != 0
    }

    pub fn user_verified(&self) -> bool {
        self.flags & USER_VERIFIED != 0
    }
}

/// The bytes of the COSE key: what lies between the credential id and what follows the key.
fn after_key(attested: &[u8], after: &[u8], header: usize) -> Vec<u8> {
    attested[header..attested.len() - after.len()].to_vec()
}
