//! WebAuthn on the wire (the Experience API's passkey steps): the options a browser passes to
//! `navigator.credentials.create()`/`get()` and the credentials it answers with, binary
//! fields base64url-encoded as the WebAuthn JSON forms (and Logto) have them.

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

/// `PublicKeyCredentialCreationOptionsJSON` (Logto's `registrationOptions`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistrationOptions {
    pub rp: RelyingPartyEntity,
    pub user: UserEntity,
    pub challenge: String,
    pub pub_key_cred_params: Vec<CredentialParameters>,
    pub timeout: u64,
    pub attestation: &'static str,
    pub exclude_credentials: Vec<CredentialDescriptor>,
    pub authenticator_selection: AuthenticatorSelection,
    pub extensions: RegistrationExtensions,
}

#[derive(Debug, Clone, Serialize)]
pub struct RelyingPartyEntity {
    pub name: String,
    pub id: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserEntity {
    /// The user handle: the user's id, base64url.
    pub id: String,
    pub name: String,
    pub display_name: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct CredentialParameters {
    pub alg: i64,
    #[serde(rename = "type")]
    pub kind: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct CredentialDescriptor {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub transports: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthenticatorSelection {
    pub resident_key: &'static str,
    pub require_resident_key: bool,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistrationExtensions {
    pub cred_props: bool,
}

/// `PublicKeyCredentialRequestOptionsJSON` (Logto's `authenticationOptions`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthenticationOptions {
    pub rp_id: String,
    pub challenge: String,
    pub allow_credentials: Vec<CredentialDescriptor>,
    pub timeout: u64,
    pub user_verification: &'static str,
}

/// A new credential (`RegistrationResponseJSON`; Logto's `bindWebAuthnPayload`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistrationPayload {
    /// `WebAuthn` as Logto's payload has it (or `public-key`, the credential's own type).
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    pub id: String,
    pub raw_id: String,
    pub response: AttestationResponse,
    #[serde(default)]
    pub authenticator_attachment: Option<String>,
    #[serde(default)]
    pub client_extension_results: Option<IgnoredAny>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttestationResponse {
    #[serde(rename = "clientDataJSON")]
    pub client_data_json: String,
    pub attestation_object: String,
    #[serde(default)]
    pub transports: Option<Vec<String>>,
    /// Conveniences some browsers add; the attestation object is what is checked.
    #[serde(default)]
    pub authenticator_data: Option<String>,
    #[serde(default)]
    pub public_key_algorithm: Option<i64>,
    #[serde(default)]
    pub public_key: Option<String>,
}

/// An assertion (`AuthenticationResponseJSON`; Logto's `webAuthnVerificationPayload`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthenticationPayload {
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    pub id: String,
    pub raw_id: String,
    pub response: AssertionResponse,
    #[serde(default)]
    pub authenticator_attachment: Option<String>,
    #[serde(default)]
    pub client_extension_results: Option<IgnoredAny>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssertionResponse {
    #[serde(rename = "clientDataJSON")]
    pub client_data_json: String,
    pub authenticator_data: String,
    pub signature: String,
    #[serde(default)]
    pub user_handle: Option<String>,
}
