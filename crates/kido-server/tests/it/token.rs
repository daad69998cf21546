//! The token endpoint: client_credentials, client authentication and its errors.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{TestServer, decode_jwt, http};

const MGMT: &str = "https://default.logto.app/api";

#[tokio::test]
async fn basic_and_post_both_authenticate_and_the_token_is_rfc9068() {
    let t = TestServer::start().await;
    let form = [("grant_type", "client_credentials"), ("resource", MGMT), ("scope", "all")];
    let (status, basic) = t.token(&form, Some((&t.client_id, &t.client_secret))).await;
    assert_eq!(status, 200, "{basic}");
    let mut post_form = form.to_vec();
    post_form.extend([("client_id", t.client_id.as_str()), ("client_secret", t.client_secret.as_str())]);
    let (status, post) = t.token(&post_form, None).await;
    assert_eq!(status, 200, "{post}");

    for body in [&basic, &post] {
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["expires_in"], 3600);
        assert_eq!(body["scope"], "all");
        let (header, claims) = decode_jwt(body["access_token"].as_str().unwrap());
        assert_eq!(header["typ"], "at+jwt");
        assert_eq!(header["alg"], "ES384");
        assert_eq!(claims["iss"], t.url("/oidc"));
        assert_eq!(claims["sub"], t.client_id);
        assert_eq!(claims["client_id"], t.client_id);
        assert_eq!(claims["aud"], MGMT);
        assert_eq!(claims["scope"], "all");
        assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 3600);
        assert_eq!(claims["jti"].as_str().unwrap().len(), 21);
        verify_with_jwks(&t, body["access_token"].as_str().unwrap()).await;
    }
    t.stop().await;
}

/// Verifies the signature independently, from the published JWKS.
async fn verify_with_jwks(t: &TestServer, token: &str) {
    use aws_lc_rs::signature::{
        ECDSA_P256_SHA256_FIXED, ECDSA_P384_SHA384_FIXED, RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents,
        UnparsedPublicKey,
    };
    let jwks: Value = http().get(t.url("/oidc/jwks")).send().await.unwrap().json().await.unwrap();
    let (header, _) = decode_jwt(token);
    let key = jwks["keys"].as_array().unwrap().iter().find(|k| k["kid"] == header["kid"]).expect("kid in JWKS");
    assert_eq!((&key["alg"], key["use"].as_str()), (&header["alg"], Some("sig")));
    let part = |name: &str| URL_SAFE_NO_PAD.decode(key[name].as_str().unwrap()).unwrap();
    let (input, sig) = token.rsplit_once('.').unwrap();
    let sig = URL_SAFE_NO_PAD.decode(sig).unwrap();
    let verified = match (key["kty"].as_str().unwrap(), key["crv"].as_str()) {
        ("RSA", None) => RsaPublicKeyComponents { n: part("n"), e: part("e") }.verify(
            &RSA_PKCS1_2048_8192_SHA256,
            input.as_bytes(),
            &sig,
        ),
        ("EC", Some(crv)) => {
            let mut point = vec![4u8];
            point.extend(part("x"));
            point.extend(part("y"));
            let alg = if crv == "P-384" { &ECDSA_P384_SHA384_FIXED } else { &ECDSA_P256_SHA256_FIXED };
            UnparsedPublicKey::new(alg, point).verify(input.as_bytes(), &sig)
        }
        other => panic!("unexpected key type {other:?}"),
    };
    verified.expect("signature verifies with the JWKS key");
}

#[tokio::test]
async fn every_signing_algorithm_issues_verifiable_tokens() {
    use kido_core::oidc::keys::SigningAlgorithm;
    for (alg, kty, crv) in [(SigningAlgorithm::Es256, "EC", Some("P-256")), (SigningAlgorithm::Rs256, "RSA", None)] {
        let t = TestServer::start_with(|c| c.signing_key_algorithm = alg).await;
        let doc: Value =
            http().get(t.url("/oidc/.well-known/openid-configuration")).send().await.unwrap().json().await.unwrap();
        assert_eq!(doc["id_token_signing_alg_values_supported"], json!([alg.as_str()]));
        let jwks: Value = http().get(t.url("/oidc/jwks")).send().await.unwrap().json().await.unwrap();
        let key = &jwks["keys"][0];
        assert_eq!((key["kty"].as_str(), key["crv"].as_str()), (Some(kty), crv));
        assert!(key.get("d").is_none() && key.get("p").is_none(), "no private parts: {key}");
        if kty == "RSA" {
            assert_eq!(URL_SAFE_NO_PAD.decode(key["n"].as_str().unwrap()).unwrap().len(), 256, "2048-bit modulus");
        }

        let (resource, app, secret) = t.m2m_app_with_scopes(&["read"]).await;
        let form = [("grant_type", "client_credentials"), ("resource", resource.as_str()), ("scope", "read")];
        let (status, body) = t.token(&form, Some((&app, &secret))).await;
        assert_eq!(status, 200, "{body}");
        let token = body["access_token"].as_str().unwrap();
        let (header, claims) = decode_jwt(token);
        assert_eq!((header["alg"].as_str(), header["typ"].as_str()), (Some(alg.as_str()), Some("at+jwt")));
        assert_eq!(claims["scope"], "read");
        verify_with_jwks(&t, token).await;
        // The Management API accepts the tokens this key signs.
        let (status, _) = t.api(Method::GET, "/api/applications", None).await;
        assert_eq!(status, 200);
        t.stop().await;
    }
}

#[tokio::test]
async fn client_authentication_errors() {
    let t = TestServer::start().await;
    let cc = [("grant_type", "client_credentials"), ("resource", MGMT)];

    // Both mechanisms at once.
    let mut both = cc.to_vec();
    both.push(("client_secret", t.client_secret.as_str()));
    let (status, body) = t.token(&both, Some((&t.client_id, &t.client_secret))).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")), "{body}");
    assert_eq!(body["code"], "oidc.invalid_request");
    assert!(body["message"].is_string() && body["error_description"].is_string());

    // Wrong secret and unknown client: the same 401 with WWW-Authenticate.
    for (id, secret) in [(t.client_id.as_str(), "wrong"), ("no-such-client", "whatever")] {
        let response = http().post(t.url("/oidc/token")).basic_auth(id, Some(secret)).form(&cc).send().await.unwrap();
        assert_eq!(response.status(), 401);
        assert!(response.headers().get("www-authenticate").is_some());
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], "invalid_client");
        assert_eq!(body["code"], "oidc.invalid_client");
    }

    // No authentication at all; body id differing from the header's.
    let (status, body) = t.token(&cc, None).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")));
    let mut mismatch = cc.to_vec();
    mismatch.push(("client_id", "someone-else"));
    let (status, body) = t.token(&mismatch, Some((&t.client_id, &t.client_secret))).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")));

    // A malformed Basic header.
    let response =
        http().post(t.url("/oidc/token")).header("authorization", "Basic %%%").form(&cc).send().await.unwrap();
    assert_eq!(response.status(), 400);
    t.stop().await;
}

#[tokio::test]
async fn grant_and_request_errors() {
    let t = TestServer::start().await;
    let auth = Some((t.client_id.as_str(), t.client_secret.as_str()));
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![("resource", MGMT)], "invalid_request"),
        (vec![("grant_type", "password"), ("resource", MGMT)], "unsupported_grant_type"),
        (vec![("grant_type", "client_credentials"), ("resource", "https://unknown.test/api")], "invalid_target"),
        (vec![("grant_type", "client_credentials"), ("resource", "not a uri")], "invalid_target"),
        (
            vec![("grant_type", "client_credentials"), ("resource", MGMT), ("resource", "https://other.test")],
            "invalid_target",
        ),
        (vec![("grant_type", "client_credentials")], "invalid_target"),
        (vec![("grant_type", "client_credentials"), ("resource", MGMT), ("scope", "bad\\scope")], "invalid_scope"),
        (
            vec![("grant_type", "client_credentials"), ("grant_type", "client_credentials"), ("resource", MGMT)],
            "invalid_request",
        ),
    ];
    for (form, error) in cases {
        let (status, body) = t.token(&form, auth).await;
        assert_eq!((status, body["error"].as_str()), (400, Some(error)), "{form:?} → {body}");
        assert_eq!(body["code"], format!("oidc.{error}"));
    }
    // Not a form.
    let response = http()
        .post(t.url("/oidc/token"))
        .basic_auth(&t.client_id, Some(&t.client_secret))
        .json(&json!({"grant_type": "client_credentials"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    t.stop().await;
}

#[tokio::test]
async fn scopes_are_requested_intersected_with_granted() {
    let t = TestServer::start().await;
    let (indicator, app, secret) = t.m2m_app_with_scopes(&["read:items", "write:items"]).await;
    let auth = Some((app.as_str(), secret.as_str()));
    let ask = |scope: &'static str| {
        vec![("grant_type", "client_credentials"), ("resource", indicator.as_str()), ("scope", scope)]
    };

    let (status, body) = t.token(&ask("read:items delete:items all"), auth).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "read:items");
    assert_eq!(decode_jwt(body["access_token"].as_str().unwrap()).1["scope"], "read:items");

    // Nothing granted: a token without a scope claim (Logto's behaviour).
    let (status, body) = t.token(&ask("delete:items"), auth).await;
    assert_eq!(status, 200);
    assert!(body.get("scope").is_none());
    assert!(decode_jwt(body["access_token"].as_str().unwrap()).1.get("scope").is_none());

    // An app without the Management API role gets a token that the Management API refuses.
    let (status, body) =
        t.token(&[("grant_type", "client_credentials"), ("resource", MGMT), ("scope", "all")], auth).await;
    assert_eq!(status, 200);
    let (status, refused) =
        crate::harness::send(Method::GET, &t.url("/api/applications"), body["access_token"].as_str(), None).await;
    assert_eq!((status, refused["code"].as_str()), (403, Some("auth.forbidden")));
    t.stop().await;
}

#[tokio::test]
async fn default_resource_and_resource_ttl() {
    let t = TestServer::start().await;
    let (indicator, app, secret) = t.m2m_app_with_scopes(&["read:items"]).await;
    let (_, resources) = t.api(Method::GET, "/api/resources", None).await;
    let resource = resources.as_array().unwrap().iter().find(|r| r["indicator"] == indicator.as_str()).unwrap().clone();
    let id = resource["id"].as_str().unwrap();
    let (status, _) = t.api(Method::PATCH, &format!("/api/resources/{id}"), Some(json!({"accessTokenTtl": 120}))).await;
    assert_eq!(status, 200);
    let (status, _) =
        t.api(Method::PATCH, &format!("/api/resources/{id}/is-default"), Some(json!({"isDefault": true}))).await;
    assert_eq!(status, 200);

    let (status, body) =
        t.token(&[("grant_type", "client_credentials"), ("scope", "read:items")], Some((&app, &secret))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["expires_in"], 120);
    let claims = decode_jwt(body["access_token"].as_str().unwrap()).1;
    assert_eq!(claims["aud"], indicator.as_str());
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 120);
    t.stop().await;
}

#[tokio::test]
async fn only_machine_to_machine_apps_use_client_credentials() {
    let t = TestServer::start().await;
    let (app, secret) = t.new_app("Traditional").await;
    let (status, body) =
        t.token(&[("grant_type", "client_credentials"), ("resource", MGMT)], Some((&app, &secret.unwrap()))).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("unauthorized_client")), "{body}");
    let (spa, _) = t.new_app("SPA").await;
    let (status, body) =
        t.token(&[("grant_type", "client_credentials"), ("resource", MGMT), ("client_id", &spa)], None).await;
    // A public client identifies itself by id alone, and has no client_credentials grant.
    assert_eq!((status, body["error"].as_str()), (400, Some("unauthorized_client")), "{body}");
    t.stop().await;
}

#[tokio::test]
async fn secret_changes_take_effect_at_once() {
    let t = TestServer::start().await;
    let (indicator, app, default_secret) = t.m2m_app_with_scopes(&["read:items"]).await;
    let form = [("grant_type", "client_credentials"), ("resource", indicator.as_str())];
    assert_eq!(t.token(&form, Some((&app, &default_secret))).await.0, 200); // warms the cache

    let (status, second) =
        t.api(Method::POST, &format!("/api/applications/{app}/secrets"), Some(json!({"name": "rotation"}))).await;
    assert_eq!(status, 201, "{second}");
    let second = second["value"].as_str().unwrap().to_owned();
    assert_eq!(t.token(&form, Some((&app, &second))).await.0, 200);

    let (status, _) = t.api(Method::DELETE, &format!("/api/applications/{app}/secrets/Default%20secret"), None).await;
    assert_eq!(status, 204);
    let (status, body) = t.token(&form, Some((&app, &default_secret))).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")));
    assert_eq!(t.token(&form, Some((&app, &second))).await.0, 200);

    // An expired secret is refused with invalid_request, as in Logto.
    let soon = kido_core::clock::now_ms() + 1500;
    let (status, expiring) = t
        .api(
            Method::POST,
            &format!("/api/applications/{app}/secrets"),
            Some(json!({"name": "short", "expiresAt": soon})),
        )
        .await;
    assert_eq!(status, 201);
    tokio::time::sleep(std::time::Duration::from_millis(1600)).await;
    let (status, body) = t.token(&form, Some((&app, expiring["value"].as_str().unwrap()))).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")), "{body}");

    // Deleting the app revokes it entirely.
    assert_eq!(t.api(Method::DELETE, &format!("/api/applications/{app}"), None).await.0, 204);
    assert_eq!(t.token(&form, Some((&app, &second))).await.0, 401);
    t.stop().await;
}

#[tokio::test]
async fn discovery_and_jwks() {
    let t = TestServer::start().await;
    // A Basic header on discovery is ignored (the Node SDK sends one).
    let response =
        http().get(t.url("/oidc/.well-known/openid-configuration")).basic_auth("x", Some("y")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
    let doc: Value = response.json().await.unwrap();
    assert_eq!(doc["issuer"], t.url("/oidc"));
    assert_eq!(doc["token_endpoint"], t.url("/oidc/token"));
    assert_eq!(doc["jwks_uri"], t.url("/oidc/jwks"));
    for field in ["authorization_endpoint", "userinfo_endpoint", "response_types_supported", "subject_types_supported"]
    {
        assert!(doc.get(field).is_some(), "discovery lacks {field}");
    }
    assert_eq!(doc["id_token_signing_alg_values_supported"], json!(["ES384"]));
    assert_eq!(
        doc["token_endpoint_auth_methods_supported"],
        json!(["client_secret_basic", "client_secret_post", "none"])
    );
    let jwks: Value = http().get(t.url("/oidc/jwks")).send().await.unwrap().json().await.unwrap();
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["alg"], "ES384");
    assert!(keys[0].get("d").is_none(), "no private parts in the JWKS");
    t.stop().await;
}
