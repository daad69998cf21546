use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeySize, PublicKeyComponents};
use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair, RSA_PKCS1_SHA256, RsaKeyPair};
use kido_proto::webauthn::{AuthenticationPayload, RegistrationPayload};
use serde_json::{Value, json};

use super::soft::SoftAuthenticator;
use super::*;

const ORIGIN: &str = "https://auth.example.com";

fn rp() -> RelyingParty {
    RelyingParty::of_issuer("https://auth.example.com/oidc").unwrap()
}

fn user() -> UserInfo<'static> {
    UserInfo { id: "u1", name: "alice", display_name: "Alice" }
}

fn options(challenge: &str) -> Value {
    serde_json::to_value(registration_options(&rp(), &user(), challenge, &[])).unwrap()
}

fn registration(v: Value) -> RegistrationPayload {
    serde_json::from_value(v).unwrap()
}

fn assertion(v: Value) -> AuthenticationPayload {
    serde_json::from_value(v).unwrap()
}

/// A registered soft authenticator and its stored credential.
fn registered() -> (SoftAuthenticator, Credential) {
    let mut soft = SoftAuthenticator::new().unwrap();
    let challenge = new_challenge().unwrap();
    let payload = registration(soft.create(&options(&challenge), ORIGIN));
    let credential = verify_registration(&rp(), &challenge, &payload, false).unwrap();
    (soft, credential)
}

fn auth_options(challenge: &str, credential: &Credential) -> Value {
    serde_json::to_value(authentication_options(&rp(), challenge, std::slice::from_ref(credential), UV_REQUIRED))
        .unwrap()
}

#[test]
fn the_relying_party_is_the_tenants_origin_and_host() {
    assert_eq!(rp(), RelyingParty { id: "auth.example.com".into(), origin: ORIGIN.into() });
    let local = RelyingParty::of_issuer("http://127.0.0.1:3001/oidc").unwrap();
    assert_eq!(local, RelyingParty { id: "127.0.0.1".into(), origin: "http://127.0.0.1:3001".into() });
}

#[test]
fn options_are_logtos() {
    let o = options("abc");
    assert_eq!(o["rp"], json!({"name": "auth.example.com", "id": "auth.example.com"}));
    assert_eq!(o["user"], json!({"id": "dTE", "name": "alice", "displayName": "Alice"}));
    assert_eq!(o["pubKeyCredParams"], json!([{"alg": -7, "type": "public-key"}, {"alg": -257, "type": "public-key"}]));
    assert_eq!(o["attestation"], "none");
    assert_eq!(o["authenticatorSelection"], json!({"residentKey": "discouraged", "requireResidentKey": false}));
    let (_, credential) = registered();
    let a = auth_options("xyz", &credential);
    assert_eq!(a["userVerification"], "required");
    assert_eq!(a["rpId"], "auth.example.com");
    assert_eq!(a["allowCredentials"][0]["id"], json!(credential.credential_id));
    assert_eq!(a["allowCredentials"][0]["transports"], json!(["internal"]));
}

#[test]
fn a_registration_then_assertions_verify_and_count_forward() {
    let (mut soft, credential) = registered();
    assert_eq!(credential.credential_id, soft.id());
    assert_eq!(credential.counter, 0);
    for expected in 1..=2 {
        let challenge = new_challenge().unwrap();
        let payload = assertion(soft.get(&auth_options(&challenge, &credential), ORIGIN).unwrap());
        assert_eq!(verify_assertion(&rp(), &challenge, &payload, &credential, true), Ok(expected));
    }
    assert!(counter_moves_forward(0, 1) && counter_moves_forward(0, 0) && counter_moves_forward(5, 6));
    assert!(!counter_moves_forward(5, 5) && !counter_moves_forward(5, 4) && !counter_moves_forward(5, 0));
}

#[test]
fn a_registration_is_refused_for_another_challenge_origin_rp_or_ceremony() {
    let mut soft = SoftAuthenticator::new().unwrap();
    let challenge = new_challenge().unwrap();
    let good = soft.create(&options(&challenge), ORIGIN);
    let other = new_challenge().unwrap();
    assert_eq!(verify_registration(&rp(), &other, &registration(good.clone()), false), Err(WebAuthnError::Challenge));
    let elsewhere = registration(soft.create(&options(&challenge), "https://evil.example.com"));
    assert_eq!(verify_registration(&rp(), &challenge, &elsewhere, false), Err(WebAuthnError::Origin));
    let mut for_other_rp = options(&challenge);
    for_other_rp["rp"]["id"] = json!("evil.example.com");
    let payload = registration(soft.create(&for_other_rp, ORIGIN));
    assert_eq!(verify_registration(&rp(), &challenge, &payload, false), Err(WebAuthnError::RpId));
    // An assertion's client data is not a registration's.
    let (mut registered_soft, credential) = registered();
    let get = registered_soft.get(&auth_options(&challenge, &credential), ORIGIN).unwrap();
    let mut swapped = good.clone();
    swapped["response"]["clientDataJSON"] = get["response"]["clientDataJSON"].clone();
    assert_eq!(verify_registration(&rp(), &challenge, &registration(swapped), false), Err(WebAuthnError::Type));
    // User verification, when asked for.
    soft.user_verified = false;
    let unverified = registration(soft.create(&options(&challenge), ORIGIN));
    assert_eq!(verify_registration(&rp(), &challenge, &unverified, true), Err(WebAuthnError::UserNotVerified));
    assert!(verify_registration(&rp(), &challenge, &unverified, false).is_ok());
    // id and rawId must name the attested credential.
    let mut renamed = good.clone();
    renamed["id"] = json!(encode(b"another"));
    renamed["rawId"] = json!(encode(b"another"));
    assert_eq!(
        verify_registration(&rp(), &challenge, &registration(renamed), false),
        Err(WebAuthnError::CredentialMismatch)
    );
}

#[test]
fn malformed_registrations_are_refused_not_panicked_on() {
    let mut soft = SoftAuthenticator::new().unwrap();
    let challenge = new_challenge().unwrap();
    let good = soft.create(&options(&challenge), ORIGIN);
    let cases: Vec<(&str, Value)> = vec![
        ("/response/attestationObject", json!("%%%")),
        ("/response/attestationObject", json!(encode(&[0xa1, 0x01]))),
        ("/response/attestationObject", json!(encode(&[0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]))),
        ("/response/attestationObject", json!("A".repeat(100_000))),
        ("/response/clientDataJSON", json!(encode(b"not json"))),
        ("/response/clientDataJSON", json!(encode(b"{\"type\": 1}"))),
        ("/rawId", json!("%")),
        ("/type", json!("Totp")),
    ];
    for (pointer, value) in cases {
        let mut payload = good.clone();
        *payload.pointer_mut(pointer).unwrap() = value;
        let result = verify_registration(&rp(), &challenge, &registration(payload), false);
        assert!(matches!(result, Err(WebAuthnError::Malformed(_))), "{pointer}: {result:?}");
    }
    // An attestation object whose authData is cut short.
    let truncated = [
        &[0xa3u8][..],
        &[0x63, b'f', b'm', b't', 0x64, b'n', b'o', b'n', b'e'],
        &[0x67, b'a', b't', b't', b'S', b't', b'm', b't', 0xa0],
        &[0x68, b'a', b'u', b't', b'h', b'D', b'a', b't', b'a', 0x43, 1, 2, 3],
    ]
    .concat();
    let mut payload = good.clone();
    payload["response"]["attestationObject"] = json!(encode(&truncated));
    let result = verify_registration(&rp(), &challenge, &registration(payload), false);
    assert_eq!(result, Err(WebAuthnError::Malformed("authenticator data")));
}

#[test]
fn an_assertion_is_refused_for_a_bad_signature_challenge_origin_rp_or_missing_uv() {
    let (mut soft, credential) = registered();
    let challenge = new_challenge().unwrap();
    let opts = auth_options(&challenge, &credential);
    let mut bad = soft.get(&opts, ORIGIN).unwrap();
    SoftAuthenticator::tamper_signature(&mut bad);
    assert_eq!(verify_assertion(&rp(), &challenge, &assertion(bad), &credential, true), Err(WebAuthnError::Signature));
    let good = assertion(soft.get(&opts, ORIGIN).unwrap());
    let other = new_challenge().unwrap();
    assert_eq!(verify_assertion(&rp(), &other, &good, &credential, true), Err(WebAuthnError::Challenge));
    let elsewhere = assertion(soft.get(&opts, "http://auth.example.com").unwrap());
    assert_eq!(verify_assertion(&rp(), &challenge, &elsewhere, &credential, true), Err(WebAuthnError::Origin));
    let mut other_rp = opts.clone();
    other_rp["rpId"] = json!("example.com");
    let payload = assertion(soft.get(&other_rp, ORIGIN).unwrap());
    assert_eq!(verify_assertion(&rp(), &challenge, &payload, &credential, true), Err(WebAuthnError::RpId));
    soft.user_verified = false;
    let payload = assertion(soft.get(&opts, ORIGIN).unwrap());
    assert_eq!(verify_assertion(&rp(), &challenge, &payload, &credential, true), Err(WebAuthnError::UserNotVerified));
    // Another user's credential does not verify this one's assertion.
    let (_, someone_else) = registered();
    soft.user_verified = true;
    let payload = assertion(soft.get(&opts, ORIGIN).unwrap());
    let result = verify_assertion(&rp(), &challenge, &payload, &someone_else, true);
    assert_eq!(result, Err(WebAuthnError::CredentialMismatch));
}

/// A COSE_Key map of `(label, value)` pairs, for keys the soft authenticator does not make.
fn cose(entries: &[(i64, Vec<u8>)]) -> String {
    let mut out = vec![0xa0 | entries.len() as u8];
    for (label, value) in entries {
        out.push(if *label >= 0 { *label as u8 } else { 0x20 | (-1 - *label) as u8 });
        out.extend(value);
    }
    encode(&out)
}

fn cbor_bytes(b: &[u8]) -> Vec<u8> {
    let mut out = if b.len() < 24 {
        vec![0x40 | b.len() as u8]
    } else if b.len() < 256 {
        vec![0x58, b.len() as u8]
    } else {
        vec![0x59, (b.len() >> 8) as u8, b.len() as u8]
    };
    out.extend(b);
    out
}

/// An assertion signed by `sign` for a credential whose key is `public_key`.
fn signed_assertion(
    public_key: String,
    sign: impl Fn(&[u8]) -> Vec<u8>,
) -> (Credential, AuthenticationPayload, String) {
    let challenge = new_challenge().unwrap();
    let credential = Credential { credential_id: encode(b"cred"), public_key, counter: 0, transports: vec![] };
    let client_data = format!(r#"{{"type":"webauthn.get","challenge":"{challenge}","origin":"{ORIGIN}"}}"#);
    let auth_data = [digest(&SHA256, b"auth.example.com").as_ref(), &[0x05], &7u32.to_be_bytes()].concat();
    let signed = [auth_data.as_slice(), digest(&SHA256, client_data.as_bytes()).as_ref()].concat();
    let payload = assertion(json!({
        "id": encode(b"cred"), "rawId": encode(b"cred"),
        "response": {
            "clientDataJSON": encode(client_data.as_bytes()),
            "authenticatorData": encode(&auth_data),
            "signature": encode(&sign(&signed)),
        },
    }));
    (credential, payload, challenge)
}

#[test]
fn eddsa_and_rs256_keys_verify() {
    let ed = Ed25519KeyPair::generate().unwrap();
    let key = cose(&[(1, vec![0x01]), (3, vec![0x27]), (-1, vec![0x06]), (-2, cbor_bytes(ed.public_key().as_ref()))]);
    let (credential, payload, challenge) = signed_assertion(key, |m| ed.sign(m).as_ref().to_vec());
    assert_eq!(verify_assertion(&rp(), &challenge, &payload, &credential, true), Ok(7));

    let rsa = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
    let parts = PublicKeyComponents::<Vec<u8>>::from(rsa.public_key());
    // kty 3 (RSA), alg -257 (two-byte negative), n, e.
    let mut map = vec![0xa4, 0x01, 0x03, 0x03, 0x39, 0x01, 0x00, 0x20];
    map.extend(cbor_bytes(&parts.n));
    map.push(0x21);
    map.extend(cbor_bytes(&parts.e));
    let sign = |m: &[u8]| {
        let mut sig = vec![0u8; rsa.public_modulus_len()];
        rsa.sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), m, &mut sig).unwrap();
        sig
    };
    let (credential, payload, challenge) = signed_assertion(encode(&map), sign);
    assert_eq!(verify_assertion(&rp(), &challenge, &payload, &credential, true), Ok(7));
}

/// Published samples: SimpleWebAuthn's test vectors (a Firefox on Android registration with
/// attestation `none`, and a first assertion by a credential with no counter).
#[test]
fn published_samples_verify() {
    let rp = RelyingParty { id: "dev.dontneeda.pw".into(), origin: "https://dev.dontneeda.pw".into() };
    let id = "AdKXJEch1aV5Wo7bj7qLHskVY4OoNaj9qu8TPdJ7kSAgUeRxWNngXlcNIGt4gexZGKVGcqZpqqWordXb_he1izY";
    let payload = registration(json!({
        "id": id, "rawId": id, "type": "public-key", "clientExtensionResults": {},
        "response": {
            "attestationObject": concat!(
                "o2NmbXRkbm9uZWdhdHRTdG10oGhhdXRoRGF0YVjFPdxHEOnAiLIp26idVjIguzn3I",
                "pr_RlsKZWsa-5qK-KBFAAAAAAAAAAAAAAAAAAAAAAAAAAAAQQHSlyRHIdWleVqO24-6ix7JFWODqDWo_arvEz3Se",
                "5EgIFHkcVjZ4F5XDSBreIHsWRilRnKmaaqlqK3V2_4XtYs2pQECAyYgASFYID5PQTZQQg6haZFQWFzqfAOyQ_ENs",
                "MH8xxQ4GRiNPsqrIlggU8IVUOV8qpgk_Jh-OTaLuZL52KdX1fTht07X4DiQPow"),
            "clientDataJSON": concat!(
                "eyJ0eXBlIjoid2ViYXV0aG4uY3JlYXRlIiwiY2hhbGxlbmdlIjoiYUVWalkxQlhkWHBw",
                "VURBd1NEQndOV2Q0YURKZmRUVmZVRU0wVG1WWloyUSIsIm9yaWdpbiI6Imh0dHBzOlwvXC9kZXYuZG9udG5lZWRh",
                "LnB3IiwiYW5kcm9pZFBhY2thZ2VOYW1lIjoib3JnLm1vemlsbGEuZmlyZWZveCJ9"),
            "transports": [],
        },
    }));
    let challenge = encode(b"hEccPWuziP00H0p5gxh2_u5_PC4NeYgd");
    let credential = verify_registration(&rp, &challenge, &payload, false).unwrap();
    assert_eq!(credential.credential_id, id);
    assert_eq!(credential.counter, 0);
    assert!(verify_registration(&rp, &encode(b"another"), &payload, false).is_err());

    let id = "wSisR0_4hlzw3Y1tj4uNwwifIhRa-ZxWJwWbnfror0pVK9qPdBPO5pW3gasPqn6wXHb0LNhXB_IrA1nFoSQJ9A";
    let credential = Credential {
        credential_id: id.into(),
        public_key:
            "pQECAyYgASFYIGmaxR4mBbukc2QhtW2ldhAAd555r-ljlGQN8MbcTnPPIlgg9CyUlE-0AB2fbzZbNgBvJuRa7r6o2jPphOmtyNPR_kY"
                .into(),
        counter: 0,
        transports: vec![],
    };
    let payload = assertion(json!({
        "id": id, "rawId": id, "type": "public-key", "clientExtensionResults": {},
        "response": {
            "authenticatorData": "PdxHEOnAiLIp26idVjIguzn3Ipr_RlsKZWsa-5qK-KABAAAAAA",
            "clientDataJSON": concat!(
                "eyJjaGFsbGVuZ2UiOiJkRzkwWVd4c2VWVnVhWEYxWlZaaGJIVmxSWFpsY25sQmMzTmxjblJwYjI0IiwiY2xpZW50RXh0",
                "ZW5zaW9ucyI6e30sImhhc2hBbGdvcml0aG0iOiJTSEEtMjU2Iiwib3JpZ2luIjoiaHR0cHM6Ly9kZXYuZG9udG5lZWRh",
                "LnB3IiwidHlwZSI6IndlYmF1dGhuLmdldCJ9"),
            "signature": "MEQCIBu6M-DGzu1O8iocGHEj0UaAZm0HmxTeRIE6-nS3_CPjAiBDsmIzy5sacYwwzgpXqfwRt_2vl5yiQZ_OAqWJQBGVsQ",
        },
    }));
    let challenge = encode(b"totallyUniqueValueEveryAssertion");
    assert_eq!(verify_assertion(&rp, &challenge, &payload, &credential, false), Ok(0));
    // That authenticator did not verify its user: refused where verification is required.
    assert_eq!(verify_assertion(&rp, &challenge, &payload, &credential, true), Err(WebAuthnError::UserNotVerified));
}

/// What PyPI's `soft-webauthn` 0.1.4 produces (its `create()`/`get()` output, bytes
/// base64url-encoded by the caller; its `id` keeps Python's padding, its client data has
/// `json.dumps`' spaces, its `type` is `public-key`). Its `get()` sets UP only: where user
/// verification is required (authentication, as Logto's), it is refused.
#[test]
fn soft_webauthn_output_verifies() {
    let payload = registration(json!({
        "id": "Rt9M-GK2W-S2cDpcTJS4TaGC4kslVa9U77Dhbg0O4RA=",
        "rawId": "Rt9M-GK2W-S2cDpcTJS4TaGC4kslVa9U77Dhbg0O4RA",
        "type": "public-key",
        "response": {
            "clientDataJSON": concat!(
                "eyJ0eXBlIjogIndlYmF1dGhuLmNyZWF0ZSIsICJjaGFsbGVuZ2UiOiAiY21WbmFYTjBjbUYwYVc5dUxXTm9ZV3hzWlc1",
                "blpTMHdNVEl6TkRVMk56ZzUiLCAib3JpZ2luIjogImh0dHBzOi8vYXV0aC5leGFtcGxlLmNvbSJ9"),
            "attestationObject": concat!(
                "o2NmbXRkbm9uZWdhdHRTdG10oGhhdXRoRGF0YVikwgTIVP_l81o7hSCL2YnGDRxW1Wz9mm4vWPKLltF-BzNBAAAAAAAA",
                "AAAAAAAAAAAAAAAAAAAAIEbfTPhitlvktnA6XEyUuE2hguJLJVWvVO-w4W4NDuEQpQECAyYgASFYIIdtDk6r8VV9TYef",
                "bIqWxJWC17MzNZ4Y0W7uNJfLrobTIlggDajLCayElpBHfWWvhIg1QYyC_UnixZ9MV4ki5_G1SXk"),
        },
    }));
    let challenge = "cmVnaXN0cmF0aW9uLWNoYWxsZW5nZS0wMTIzNDU2Nzg5";
    let credential = verify_registration(&rp(), challenge, &payload, false).unwrap();
    assert_eq!(credential.credential_id, "Rt9M-GK2W-S2cDpcTJS4TaGC4kslVa9U77Dhbg0O4RA");
    let payload = assertion(json!({
        "id": "Rt9M-GK2W-S2cDpcTJS4TaGC4kslVa9U77Dhbg0O4RA=",
        "rawId": "Rt9M-GK2W-S2cDpcTJS4TaGC4kslVa9U77Dhbg0O4RA",
        "type": "public-key",
        "response": {
            "clientDataJSON": concat!(
                "eyJ0eXBlIjogIndlYmF1dGhuLmdldCIsICJjaGFsbGVuZ2UiOiAiWVhWMGFHVnVkR2xqWVhScGIyNHRZMmhoYkd4bGJt",
                "ZGxMVEF4TWpNME5UWSIsICJvcmlnaW4iOiAiaHR0cHM6Ly9hdXRoLmV4YW1wbGUuY29tIn0"),
            "authenticatorData": "wgTIVP_l81o7hSCL2YnGDRxW1Wz9mm4vWPKLltF-BzMBAAAAAQ",
            "signature": "MEQCIDa_n9bP5iPu7HXeadmW8cVuEwQKxkMhg2HvBSkczzJoAiBHAFnmZGaN0Y1BbrOdCVtOx4c0V5PavSpcdVxVyR8_jg",
            "userHandle": "dTE",
        },
    }));
    let challenge = "YXV0aGVudGljYXRpb24tY2hhbGxlbmdlLTAxMjM0NTY";
    assert_eq!(verify_assertion(&rp(), challenge, &payload, &credential, false), Ok(1));
    assert_eq!(verify_assertion(&rp(), challenge, &payload, &credential, true), Err(WebAuthnError::UserNotVerified));
    assert_eq!(user_of_handle("dTE").as_deref(), Some("u1"));
}
