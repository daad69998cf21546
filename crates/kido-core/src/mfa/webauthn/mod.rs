//! The WebAuthn relying party (passkeys): the options of a registration and of an
//! authentication, and the checks of what the authenticator answers (WebAuthn §7.1, §7.2).
//! Attestation is `none`: a statement in another format is not checked, as `none` asks.
//! Pure functions; the experience keeps the challenge and the store the credential.
//!
//! - `cbor`: the bounded decoder of the attestation object and COSE keys;
//! - `cose`: public keys and their signatures (ES256, RS256, EdDSA);
//! - `authenticator_data`: what the authenticator signs;
//! - `client_data`: what the browser hashes into the signature;
//! - `encoding`: base64url; `error`: why a response is refused;
//! - `soft`: a software authenticator, for tests.

mod authenticator_data;
mod cbor;
mod client_data;
mod cose;
mod encoding;
mod error;
pub mod soft;
#[cfg(test)]
mod tests;

use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use kido_proto::webauthn::{
    AuthenticationOptions, AuthenticationPayload, AuthenticatorSelection, CredentialDescriptor, CredentialParameters,
    RegistrationExtensions, RegistrationOptions, RegistrationPayload, RelyingPartyEntity, UserEntity,
};
use serde::{Deserialize, Serialize};

use authenticator_data::AuthenticatorData;
use client_data::Ceremony;
use cose::PublicKey;
use encoding::{b64url, encode};
pub use error::WebAuthnError;

/// How long the browser may take (milliseconds), as Logto's options say.
pub const TIMEOUT_MS: u64 = 60_000;
/// How long a challenge is accepted after it was issued: the browser's time and some slack.
pub const CHALLENGE_TTL_MS: i64 = 5 * 60 * 1000;
/// The algorithms registration offers, in Logto's order (ES256, RS256); EdDSA keys are
/// taken too (`cose::PublicKey`), as Logto's verifier takes them.
const OFFERED_ALGORITHMS: [i128; 2] = [cose::ES256, cose::RS256];
/// Attestation formats whose statement is ignored (attestation `none`); others are refused.
const KNOWN_FORMATS: [&str; 7] = ["none", "packed", "fido-u2f", "android-key", "android-safetynet", "tpm", "apple"];
/// Transports the spec names (Logto's `webAuthnTransportGuard`); others are dropped.
const KNOWN_TRANSPORTS: [&str; 7] = ["usb", "nfc", "ble", "internal", "cable", "hybrid", "smart-card"];

const MAX_ATTESTATION_OBJECT: usize = 64 * 1024;
const MAX_AUTHENTICATOR_DATA: usize = 8 * 1024;
const MAX_SIGNATURE: usize = 1024;
/// A user handle is at most 64 bytes.
const MAX_USER_HANDLE: usize = 64;
const MAX_TRANSPORTS: usize = 8;
const CHALLENGE_BYTES: usize = 32;

/// The relying party a tenant is: its public origin, and that origin's host as the RP id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelyingParty {
    pub id: String,
    pub origin: String,
}

impl RelyingParty {
    /// The relying party of a tenant whose issuer is `issuer` (`{origin}/oidc`).
    pub fn of_issuer(issuer: &str) -> Option<Self> {
        let url = url::Url::parse(issuer).ok()?;
        let id = url.host_str()?.trim_start_matches('[').trim_end_matches(']').to_owned();
        Some(Self { id, origin: url.origin().ascii_serialization() })
    }
}

/// A credential as it is kept: id and COSE public key base64url, the counter last seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Credential {
    pub credential_id: String,
    pub public_key: String,
    pub counter: u32,
    #[serde(default)]
    pub transports: Vec<String>,
}

/// Who a registration is for.
pub struct UserInfo<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub display_name: &'a str,
}

/// A fresh challenge (32 random bytes, base64url).
pub fn new_challenge() -> Option<String> {
    let mut bytes = [0u8; CHALLENGE_BYTES];
    SystemRandom::new().fill(&mut bytes).ok()?;
    Some(encode(&bytes))
}

/// The user handle of a user id (what `user.id` of the options carries).
pub fn user_handle(user_id: &str) -> String {
    encode(user_id.as_bytes())
}

/// The user id a `userHandle` of an assertion names, if it is one.
pub fn user_of_handle(handle: &str) -> Option<String> {
    String::from_utf8(b64url(handle, MAX_USER_HANDLE, "userHandle").ok()?).ok()
}

fn descriptors(existing: &[Credential]) -> Vec<CredentialDescriptor> {
    existing
        .iter()
        .map(|c| CredentialDescriptor {
            id: c.credential_id.clone(),
            kind: "public-key",
            transports: c.transports.clone(),
        })
        .collect()
}

/// The options of a registration (`navigator.credentials.create`); `existing` are excluded.
pub fn registration_options(
    rp: &RelyingParty,
    user: &UserInfo<'_>,
    challenge: &str,
    existing: &[Credential],
) -> RegistrationOptions {
    RegistrationOptions {
        rp: RelyingPartyEntity { name: rp.id.clone(), id: rp.id.clone() },
        user: UserEntity {
            id: user_handle(user.id),
            name: user.name.to_owned(),
            display_name: user.display_name.to_owned(),
        },
        challenge: challenge.to_owned(),
        pub_key_cred_params: OFFERED_ALGORITHMS
            .iter()
            .map(|alg| CredentialParameters { alg: *alg as i64, kind: "public-key" })
            .collect(),
        timeout: TIMEOUT_MS,
        attestation: "none",
        exclude_credentials: descriptors(existing),
        authenticator_selection: AuthenticatorSelection { resident_key: "discouraged", require_resident_key: false },
        extensions: RegistrationExtensions { cred_props: true },
    }
}

/// What authentication options ask of user verification: `required` where the user is
/// known; `preferred` for a discoverable-credential sign-in, which browsers' passkey autofill
/// takes. The answer must carry UV either way (`verify_assertion`).
pub const UV_REQUIRED: &str = "required";
pub const UV_PREFERRED: &str = "preferred";

/// The options of an authentication (`navigator.credentials.get`): the user's credentials
/// (none for a discoverable-credential sign-in).
pub fn authentication_options(
    rp: &RelyingParty,
    challenge: &str,
    allowed: &[Credential],
    user_verification: &'static str,
) -> AuthenticationOptions {
    AuthenticationOptions {
        rp_id: rp.id.clone(),
        challenge: challenge.to_owned(),
        allow_credentials: descriptors(allowed),
        timeout: TIMEOUT_MS,
        user_verification,
    }
}

/// The credential id a response names: `rawId` decoded, which `id` must equal.
fn credential_id(id: &str, raw_id: &str) -> Result<Vec<u8>, WebAuthnError> {
    let max = authenticator_data::MAX_CREDENTIAL_ID;
    let raw = b64url(raw_id, max, "rawId")?;
    if raw.is_empty() || b64url(id, max, "id")? != raw {
        return Err(WebAuthnError::Malformed("id and rawId differ"));
    }
    Ok(raw)
}

/// The canonical (unpadded base64url) form of the credential id a response names.
pub fn named_credential(id: &str, raw_id: &str) -> Result<String, WebAuthnError> {
    credential_id(id, raw_id).map(|raw| encode(&raw))
}

fn check_rp_and_flags(data: &AuthenticatorData, rp: &RelyingParty, require_uv: bool) -> Result<(), WebAuthnError> {
    if digest(&SHA256, rp.id.as_bytes()).as_ref() != data.rp_id_hash {
        return Err(WebAuthnError::RpId);
    }
    if !data.user_present() {
        return Err(WebAuthnError::UserNotPresent);
    }
    if require_uv && !data.user_verified() {
        return Err(WebAuthnError::UserNotVerified);
    }
    Ok(())
}

/// Checks a registration against the challenge issued; the new credential.
pub fn verify_registration(
    rp: &RelyingParty,
    challenge: &str,
    payload: &RegistrationPayload,
    require_uv: bool,
) -> Result<Credential, WebAuthnError> {
    check_payload_type(payload.kind.as_deref())?;
    let raw_id = credential_id(&payload.id, &payload.raw_id)?;
    let response = &payload.response;
    client_data::check(&response.client_data_json, Ceremony::Create, challenge, &rp.origin)?;
    let attestation = b64url(&response.attestation_object, MAX_ATTESTATION_OBJECT, "attestationObject")?;
    let attestation = cbor::decode(&attestation).map_err(|_| WebAuthnError::Malformed("attestationObject"))?;
    let format = attestation.get_text("fmt").and_then(cbor::Value::as_text);
    let format = format.ok_or(WebAuthnError::Malformed("attestationObject has no fmt"))?;
    if !KNOWN_FORMATS.contains(&format) {
        return Err(WebAuthnError::UnsupportedFormat);
    }
    if !matches!(attestation.get_text("attStmt"), Some(cbor::Value::Map(_))) {
        return Err(WebAuthnError::Malformed("attestationObject has no attStmt"));
    }
    let auth_data = attestation.get_text("authData").and_then(cbor::Value::as_bytes);
    let data =
        AuthenticatorData::parse(auth_data.ok_or(WebAuthnError::Malformed("attestationObject has no authData"))?)?;
    check_rp_and_flags(&data, rp, require_uv)?;
    let credential = data.credential.ok_or(WebAuthnError::Malformed("no attested credential"))?;
    if credential.id != raw_id {
        return Err(WebAuthnError::CredentialMismatch);
    }
    let transports = response.transports.iter().flatten().filter(|t| KNOWN_TRANSPORTS.contains(&t.as_str()));
    let mut transports: Vec<String> = transports.take(MAX_TRANSPORTS).cloned().collect();
    transports.dedup();
    Ok(Credential {
        credential_id: encode(&credential.id),
        public_key: encode(&credential.public_key_cose),
        counter: data.sign_count,
        transports,
    })
}

/// Checks an assertion by `credential` against the challenge issued; the authenticator's
/// new signature counter (the caller checks it moved forward: `counter_moves_forward`).
pub fn verify_assertion(
    rp: &RelyingParty,
    challenge: &str,
    payload: &AuthenticationPayload,
    credential: &Credential,
    require_uv: bool,
) -> Result<u32, WebAuthnError> {
    check_payload_type(payload.kind.as_deref())?;
    if named_credential(&payload.id, &payload.raw_id)? != credential.credential_id {
        return Err(WebAuthnError::CredentialMismatch);
    }
    let response = &payload.response;
    let client_data = client_data::check(&response.client_data_json, Ceremony::Get, challenge, &rp.origin)?;
    let raw_data = b64url(&response.authenticator_data, MAX_AUTHENTICATOR_DATA, "authenticatorData")?;
    let data = AuthenticatorData::parse(&raw_data)?;
    check_rp_and_flags(&data, rp, require_uv)?;
    let signature = b64url(&response.signature, MAX_SIGNATURE, "signature")?;
    let key = b64url(&credential.public_key, MAX_ATTESTATION_OBJECT, "publicKey")?;
    let key = PublicKey::from_cose_bytes(&key).map_err(|_| WebAuthnError::UnsupportedKey)?;
    let signed = [raw_data.as_slice(), digest(&SHA256, &client_data).as_ref()].concat();
    if !key.verifies(&signed, &signature) {
        return Err(WebAuthnError::Signature);
    }
    Ok(data.sign_count)
}

/// Whether an authenticator's counter moved forward from the one last accepted; both 0 is an
/// authenticator that keeps no counter (WebAuthn §7.2 step 21).
pub fn counter_moves_forward(stored: u32, received: u32) -> bool {
    received > stored || (received == 0 && stored == 0)
}

/// Logto's payloads say `WebAuthn`; a credential serialized as is says `public-key`.
fn check_payload_type(kind: Option<&str>) -> Result<(), WebAuthnError> {
    match kind {
        None | Some("WebAuthn") | Some("public-key") => Ok(()),
        Some(_) => Err(WebAuthnError::Malformed("type must be WebAuthn")),
    }
}
