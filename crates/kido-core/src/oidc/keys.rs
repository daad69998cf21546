//! Signing keys: generated and stored as PKCS#8, parsed once at start into ready-to-sign
//! key pairs, with the public JWKS rendered once per key change.

use std::sync::Arc;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    self, ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, ECDSA_P384_SHA384_FIXED,
    ECDSA_P384_SHA384_FIXED_SIGNING, EcdsaKeyPair, KeyPair, ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256,
    RSA_PKCS1_SHA256, RsaKeyPair,
};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::json;
use thiserror::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigningAlgorithm {
    /// ECDSA on P-384 with SHA-384: Logto's default.
    Es384,
    Es256,
    /// RSASSA-PKCS1-v1_5 with SHA-256 on a 2048-bit key: for clients that know nothing else.
    Rs256,
}

impl SigningAlgorithm {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Es384 => "ES384",
            Self::Es256 => "ES256",
            Self::Rs256 => "RS256",
        }
    }

    pub const ALL: [SigningAlgorithm; 3] = [Self::Es384, Self::Es256, Self::Rs256];

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }

    /// The ECDSA signing and verification algorithms and the JWK curve name; `None` for RSA.
    fn ecdsa(
        self,
    ) -> Option<(&'static signature::EcdsaSigningAlgorithm, &'static signature::EcdsaVerificationAlgorithm, &'static str)>
    {
        match self {
            Self::Es384 => Some((&ECDSA_P384_SHA384_FIXED_SIGNING, &ECDSA_P384_SHA384_FIXED, "P-384")),
            Self::Es256 => Some((&ECDSA_P256_SHA256_FIXED_SIGNING, &ECDSA_P256_SHA256_FIXED, "P-256")),
            Self::Rs256 => None,
        }
    }

    /// Whether the algorithm hashes with SHA-384 (else SHA-256): what `at_hash` must use.
    pub fn uses_sha384(self) -> bool {
        self == Self::Es384
    }
}

/// The private half, by key type.
enum Pair {
    Ec(EcdsaKeyPair),
    Rsa(RsaKeyPair),
}

#[derive(Debug, Error)]
pub enum KeyError {
    #[error("unknown signing algorithm `{0}`")]
    UnknownAlgorithm(String),
    #[error("signing key {0} is not a valid PKCS#8 PEM document")]
    Malformed(String),
    #[error("the system could not generate or use a key")]
    Crypto,
}

/// A private key ready to sign, and its public half ready to verify.
pub struct SigningKey {
    pub kid: String,
    pub alg: SigningAlgorithm,
    pair: Pair,
    public: ParsedPublicKey,
    /// The public JWK, rendered once.
    jwk: serde_json::Value,
    /// `base64url(header)` for access tokens (`typ: at+jwt`) and for other JWTs.
    header_at_jwt: String,
    header_jwt: String,
    rng: SystemRandom,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey").field("kid", &self.kid).field("alg", &self.alg).finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Generates a fresh key and returns it with its PKCS#8 PEM encoding for storage.
    pub fn generate(kid: String, alg: SigningAlgorithm) -> Result<(Self, String), KeyError> {
        let (pair, der) = match alg.ecdsa() {
            Some((signing, _, _)) => {
                let pair = EcdsaKeyPair::generate(signing).map_err(|_| KeyError::Crypto)?;
                let der = pair.to_pkcs8v1().map_err(|_| KeyError::Crypto)?.as_ref().to_vec();
                (Pair::Ec(pair), der)
            }
            None => {
                let pair = RsaKeyPair::generate(KeySize::Rsa2048).map_err(|_| KeyError::Crypto)?;
                let der = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&pair)
                    .map_err(|_| KeyError::Crypto)?
                    .as_ref()
                    .to_vec();
                (Pair::Rsa(pair), der)
            }
        };
        let pem = pem_encode("PRIVATE KEY", &der);
        Ok((Self::from_pair(kid, alg, pair)?, pem))
    }

    pub fn from_pem(kid: String, alg: &str, pem: &str) -> Result<Self, KeyError> {
        let alg = SigningAlgorithm::parse(alg).ok_or_else(|| KeyError::UnknownAlgorithm(alg.to_owned()))?;
        let der = pem_decode(pem).ok_or_else(|| KeyError::Malformed(kid.clone()))?;
        let pair = match alg.ecdsa() {
            Some((signing, _, _)) => EcdsaKeyPair::from_pkcs8(signing, &der).map(Pair::Ec).ok(),
            None => RsaKeyPair::from_pkcs8(&der).map(Pair::Rsa).ok(),
        };
        let pair = pair.ok_or_else(|| KeyError::Malformed(kid.clone()))?;
        Self::from_pair(kid, alg, pair)
    }

    fn from_pair(kid: String, alg: SigningAlgorithm, pair: Pair) -> Result<Self, KeyError> {
        let (public, jwk) = match (&pair, alg.ecdsa()) {
            (Pair::Ec(pair), Some((_, verification, curve))) => {
                // Uncompressed point: 0x04 ‖ X ‖ Y.
                let point = pair.public_key().as_ref();
                let coord = (point.len() - 1) / 2;
                let jwk = json!({
                    "kty": "EC",
                    "use": "sig",
                    "crv": curve,
                    "kid": kid,
                    "alg": alg.as_str(),
                    "x": URL_SAFE_NO_PAD.encode(&point[1..1 + coord]),
                    "y": URL_SAFE_NO_PAD.encode(&point[1 + coord..]),
                });
                (ParsedPublicKey::new(verification, point).map_err(|_| KeyError::Crypto)?, jwk)
            }
            (Pair::Rsa(pair), None) => {
                let key = pair.public_key();
                let jwk = json!({
                    "kty": "RSA",
                    "use": "sig",
                    "kid": kid,
                    "alg": alg.as_str(),
                    "n": URL_SAFE_NO_PAD.encode(key.modulus().big_endian_without_leading_zero()),
                    "e": URL_SAFE_NO_PAD.encode(key.exponent().big_endian_without_leading_zero()),
                });
                let public =
                    ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, key.as_ref()).map_err(|_| KeyError::Crypto)?;
                (public, jwk)
            }
            _ => return Err(KeyError::Malformed(kid)),
        };
        let header = |typ: &str| {
            let h = json!({"alg": alg.as_str(), "typ": typ, "kid": kid});
            URL_SAFE_NO_PAD.encode(h.to_string())
        };
        Ok(Self {
            header_at_jwt: header("at+jwt"),
            header_jwt: header("JWT"),
            kid,
            alg,
            pair,
            public,
            jwk,
            rng: SystemRandom::new(),
        })
    }

    /// The public JWK (`kty`, `kid`, `alg`, `use` and the key's own members).
    pub fn public_jwk(&self) -> &serde_json::Value {
        &self.jwk
    }

    /// Signs `claims` as a compact JWS. `access_token` selects `typ: at+jwt` (RFC 9068).
    pub fn sign(&self, claims: &serde_json::Value, access_token: bool) -> Result<String, KeyError> {
        let header = if access_token { &self.header_at_jwt } else { &self.header_jwt };
        let payload = serde_json::to_vec(claims).map_err(|_| KeyError::Crypto)?;
        let mut token = String::with_capacity(header.len() + payload.len() * 4 / 3 + 400);
        token.push_str(header);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(&payload, &mut token);
        match &self.pair {
            Pair::Ec(pair) => {
                let signature = pair.sign(&self.rng, token.as_bytes()).map_err(|_| KeyError::Crypto)?;
                token.push('.');
                URL_SAFE_NO_PAD.encode_string(signature.as_ref(), &mut token);
            }
            Pair::Rsa(pair) => {
                let mut signature = vec![0; pair.public_modulus_len()];
                pair.sign(&RSA_PKCS1_SHA256, &self.rng, token.as_bytes(), &mut signature)
                    .map_err(|_| KeyError::Crypto)?;
                token.push('.');
                URL_SAFE_NO_PAD.encode_string(&signature, &mut token);
            }
        }
        Ok(token)
    }

    /// Checks a signature over `signing_input` (`header.payload`).
    pub fn verify(&self, signing_input: &[u8], signature: &[u8]) -> bool {
        self.public.verify_sig(signing_input, signature).is_ok()
    }
}

/// A tenant's keys: the current one signs, all of them verify; the JWKS is pre-rendered.
#[derive(Debug)]
pub struct KeyRing {
    pub current: Arc<SigningKey>,
    pub keys: Vec<Arc<SigningKey>>,
    pub jwks_json: String,
}

impl KeyRing {
    pub fn new(current: Arc<SigningKey>, keys: Vec<Arc<SigningKey>>) -> Self {
        let jwks = json!({"keys": keys.iter().map(|k| k.public_jwk()).collect::<Vec<_>>()});
        Self { current, keys, jwks_json: jwks.to_string() }
    }

    pub fn find(&self, kid: &str) -> Option<&SigningKey> {
        self.keys.iter().find(|k| k.kid == kid).map(|k| &**k)
    }

    /// Algorithms of the published keys (for discovery).
    pub fn algorithms(&self) -> Vec<&'static str> {
        let mut algs: Vec<&'static str> = self.keys.iter().map(|k| k.alg.as_str()).collect();
        algs.dedup();
        algs
    }
}

fn pem_encode(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut pem = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(line));
        pem.push('\n');
    }
    pem.push_str(&format!("-----END {label}-----\n"));
    pem
}

fn pem_decode(pem: &str) -> Option<Vec<u8>> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).map(str::trim).collect();
    STANDARD.decode(body).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_verify_and_pem_round_trip() {
        for alg in SigningAlgorithm::ALL {
            let (key, pem) = SigningKey::generate("k1".into(), alg).unwrap();
            let again = SigningKey::from_pem("k1".into(), alg.as_str(), &pem).unwrap();
            let token = key.sign(&json!({"sub": "x"}), true).unwrap();
            let (input, sig) = token.rsplit_once('.').unwrap();
            let sig = URL_SAFE_NO_PAD.decode(sig).unwrap();
            assert!(again.verify(input.as_bytes(), &sig));
            assert!(!again.verify(b"other", &sig));
            assert_eq!(key.public_jwk(), again.public_jwk());
        }
    }
}
