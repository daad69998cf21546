//! A software authenticator (one ES256 credential, attestation `none`), answering options as
//! a browser with an authenticator would, in the wire's JSON: what tests sign in with. Like
//! PyPI's `soft-webauthn`, it mixes the browser's part (client data) and the authenticator's.

use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};
use serde_json::{Value, json};

use super::authenticator_data::{USER_PRESENT, USER_VERIFIED};
use super::encoding::{B64URL, encode};

const ATTESTED: u8 = 0x40;

pub struct SoftAuthenticator {
    key: EcdsaKeyPair,
    pub credential_id: Vec<u8>,
    /// The counter the next assertion carries (incremented before signing, as authenticators do).
    pub sign_count: u32,
    /// Whether assertions and registrations claim user verification (flag UV).
    pub user_verified: bool,
    /// The user handle of the registration (returned in assertions).
    pub user_handle: Option<String>,
}

/// CBOR head of `major` with argument `n`.
fn head(major: u8, n: usize) -> Vec<u8> {
    let m = major << 5;
    match n {
        0..=23 => vec![m | n as u8],
        24..=0xff => vec![m | 24, n as u8],
        0x100..=0xffff => [&[m | 25][..], &(n as u16).to_be_bytes()].concat(),
        _ => [&[m | 26][..], &(n as u32).to_be_bytes()].concat(),
    }
}

fn cbor_int(i: i64) -> Vec<u8> {
    if i >= 0 { head(0, i as usize) } else { head(1, (-1 - i) as usize) }
}

fn cbor_bytes(b: &[u8]) -> Vec<u8> {
    [head(2, b.len()), b.to_vec()].concat()
}

fn cbor_text(t: &str) -> Vec<u8> {
    [head(3, t.len()), t.as_bytes().to_vec()].concat()
}

fn b64(s: &str) -> Vec<u8> {
    use base64::Engine;
    B64URL.decode(s).unwrap_or_default()
}

impl SoftAuthenticator {
    /// A new credential (`None` without randomness).
    pub fn new() -> Option<Self> {
        let key = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING).ok()?;
        let mut credential_id = vec![0u8; 32];
        SystemRandom::new().fill(&mut credential_id).ok()?;
        Some(Self { key, credential_id, sign_count: 0, user_verified: true, user_handle: None })
    }

    /// The credential id as the wire names it.
    pub fn id(&self) -> String {
        encode(&self.credential_id)
    }

    /// The public key as a COSE_Key (EC2, ES256, P-256).
    pub fn cose_key(&self) -> Vec<u8> {
        let point = self.key.public_key().as_ref();
        let (x, y) = (&point[1..33], &point[33..65]);
        [head(5, 5), cbor_int(1), cbor_int(2), cbor_int(3), cbor_int(-7), cbor_int(-1), cbor_int(1)]
            .into_iter()
            .chain([cbor_int(-2), cbor_bytes(x), cbor_int(-3), cbor_bytes(y)])
            .collect::<Vec<_>>()
            .concat()
    }

    fn flags(&self) -> u8 {
        USER_PRESENT | if self.user_verified { USER_VERIFIED } else { 0 }
    }

    fn client_data(kind: &str, challenge: &str, origin: &str) -> Vec<u8> {
        // As Python's json.dumps writes it: spaces after separators.
        format!(r#"{{"type": "{kind}", "challenge": "{challenge}", "origin": "{origin}"}}"#).into_bytes()
    }

    /// Answers registration options (`registrationOptions`) from `origin`: the payload of
    /// `/web-authn/registration/verify`.
    pub fn create(&mut self, options: &Value, origin: &str) -> Value {
        let rp_id = options["rp"]["id"].as_str().unwrap_or_default();
        let challenge = options["challenge"].as_str().unwrap_or_default();
        self.user_handle = options["user"]["id"].as_str().map(str::to_owned);
        let client_data = Self::client_data("webauthn.create", challenge, origin);
        let auth_data = [
            digest(&SHA256, rp_id.as_bytes()).as_ref(),
            &[self.flags() | ATTESTED],
            &self.sign_count.to_be_bytes(),
            &[0u8; 16],
            &(self.credential_id.len() as u16).to_be_bytes(),
            &self.credential_id,
            &self.cose_key(),
        ]
        .concat();
        let attestation = [
            head(5, 3),
            cbor_text("fmt"),
            cbor_text("none"),
            cbor_text("attStmt"),
            head(5, 0),
            cbor_text("authData"),
            cbor_bytes(&auth_data),
        ]
        .concat();
        json!({
            "type": "WebAuthn",
            "id": self.id(),
            "rawId": self.id(),
            "response": {
                "clientDataJSON": encode(&client_data),
                "attestationObject": encode(&attestation),
                "transports": ["internal"],
            },
            "clientExtensionResults": {},
        })
    }

    /// Answers authentication options (`authenticationOptions`) from `origin`: the payload of
    /// `/web-authn/authentication/verify`.
    pub fn get(&mut self, options: &Value, origin: &str) -> Option<Value> {
        let rp_id = options["rpId"].as_str().unwrap_or_default();
        let challenge = options["challenge"].as_str().unwrap_or_default();
        self.sign_count += 1;
        let client_data = Self::client_data("webauthn.get", challenge, origin);
        let auth_data =
            [digest(&SHA256, rp_id.as_bytes()).as_ref(), &[self.flags()], &self.sign_count.to_be_bytes()].concat();
        let signed = [auth_data.as_slice(), digest(&SHA256, &client_data).as_ref()].concat();
        let signature = self.key.sign(&SystemRandom::new(), &signed).ok()?;
        let mut payload = json!({
            "type": "WebAuthn",
            "id": self.id(),
            "rawId": self.id(),
            "response": {
                "clientDataJSON": encode(&client_data),
                "authenticatorData": encode(&auth_data),
                "signature": encode(signature.as_ref()),
            },
            "clientExtensionResults": {},
        });
        if let Some(handle) = &self.user_handle {
            payload["response"]["userHandle"] = json!(handle);
        }
        Some(payload)
    }

    /// The payload with its signature's last byte flipped.
    pub fn tamper_signature(payload: &mut Value) {
        let mut sig = b64(payload["response"]["signature"].as_str().unwrap_or_default());
        if let Some(last) = sig.last_mut() {
            *last ^= 0x01;
        }
        payload["response"]["signature"] = json!(encode(&sig));
    }
}
