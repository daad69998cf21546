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
                let signature = ecdsa_low_s::normalize(signature.as_ref());
                token.push('.');
                URL_SAFE_NO_PAD.encode_string(&signature, &mut token);
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
    /// ECDSA signatures must be low-S (s ≤ n/2, as Kido signs them): the other form of the
    /// same signature is refused, so a token has exactly one valid encoding.
    pub fn verify(&self, signing_input: &[u8], signature: &[u8]) -> bool {
        if matches!(self.pair, Pair::Ec(_)) && ecdsa_low_s::is_high(signature) {
            return false;
        }
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

/// ECDSA signature malleability: `(r, s)` and `(r, n − s)` both verify. Kido signs with
/// the low one and refuses the high one. Signatures are JWS's fixed `r ‖ s`.
mod ecdsa_low_s {
    /// Curve orders, big-endian (SEC 2): P-256 and P-384.
    const P256_N: [u8; 32] = [
        0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xbc, 0xe6,
        0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
    ];
    const P384_N: [u8; 48] = [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xc7, 0x63, 0x4d, 0x81, 0xf4, 0x37, 0x2d, 0xdf, 0x58, 0x1a, 0x0d, 0xb2,
        0x48, 0xb0, 0xa7, 0x7a, 0xec, 0xec, 0x19, 0x6a, 0xcc, 0xc5, 0x29, 0x73,
    ];

    fn order(signature_len: usize) -> Option<&'static [u8]> {
        match signature_len {
            64 => Some(&P256_N),
            96 => Some(&P384_N),
            _ => None,
        }
    }

    /// `s > n / 2`, i.e. `2s > n` (big-endian, equal lengths).
    pub(super) fn is_high(signature: &[u8]) -> bool {
        let Some(n) = order(signature.len()) else { return false };
        let s = &signature[n.len()..];
        let mut doubled = vec![0u8; n.len() + 1];
        let mut carry = 0u16;
        for i in (0..s.len()).rev() {
            let v = u16::from(s[i]) * 2 + carry;
            doubled[i + 1] = (v & 0xff) as u8;
            carry = v >> 8;
        }
        doubled[0] = carry as u8;
        let mut padded_n = vec![0u8; n.len() + 1];
        padded_n[1..].copy_from_slice(n);
        doubled > padded_n
    }

    /// The low-S form of a signature (unchanged when already low).
    pub(super) fn normalize(signature: &[u8]) -> Vec<u8> {
        if is_high(signature) { other_form(signature) } else { signature.to_vec() }
    }

    /// `(r, n − s)`: the same signature's other form.
    pub(super) fn other_form(signature: &[u8]) -> Vec<u8> {
        let mut out = signature.to_vec();
        let Some(n) = order(signature.len()) else { return out };
        let s = &signature[n.len()..];
        let mut borrow = 0i16;
        for i in (0..n.len()).rev() {
            let mut v = i16::from(n[i]) - i16::from(s[i]) - borrow;
            borrow = i16::from(v < 0);
            if v < 0 {
                v += 256;
            }
            out[n.len() + i] = v as u8;
        }
        out
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn high_and_low_halves() {
            let mut sig = vec![1u8; 96];
            sig[48..].copy_from_slice(&P384_N);
            sig[95] -= 1; // s = n − 1: high
            assert!(is_high(&sig));
            let low = normalize(&sig);
            assert!(!is_high(&low));
            assert_eq!(&low[48..47 + 48], &[0u8; 47][..]);
            assert_eq!(low[95], 1, "n − (n − 1) = 1");
            assert_eq!(normalize(&low), low);
        }
    }
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
            if alg.ecdsa().is_some() {
                for _ in 0..16 {
                    let token = key.sign(&json!({"sub": "x"}), true).unwrap();
                    let (input, sig) = token.rsplit_once('.').unwrap();
                    let sig = URL_SAFE_NO_PAD.decode(sig).unwrap();
                    assert!(!ecdsa_low_s::is_high(&sig), "Kido signs low-S");
                    let high = ecdsa_low_s::other_form(&sig);
                    assert!(ecdsa_low_s::is_high(&high));
                    assert!(!key.verify(input.as_bytes(), &high), "the high-S twin is refused");
                }
            }
            assert_eq!(key.public_jwk(), again.public_jwk());
        }
    }
}
