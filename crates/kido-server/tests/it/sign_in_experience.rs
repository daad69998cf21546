//! `/api/sign-in-exp`, its validation, the password policy and the public view.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{TestServer, send};

#[tokio::test]
async fn defaults_and_valid_changes() {
    let t = TestServer::start().await;
    let (status, sie) = t.api(Method::GET, "/api/sign-in-exp", None).await;
    assert_eq!(status, 200);
    assert_eq!(sie["signInMode"], "SignInAndRegister");
    assert_eq!(sie["signUp"], json!({"identifiers": ["username"], "password": true, "verify": false}));
    assert_eq!(sie["signIn"]["methods"][0]["identifier"], "username");
    assert_eq!(sie["agreeToTermsPolicy"], "Automatic");
    assert_eq!(sie["passwordPolicy"]["length"], json!({"min": 8, "max": 256}));
    assert_eq!(sie["forgotPasswordMethods"], json!([]));

    let patch = json!({
        "color": {"primaryColor": "#112233", "isDarkModeEnabled": true, "darkPrimaryColor": "#445566"},
        "branding": {"logoUrl": "https://cdn.test/logo.png"},
        "termsOfUseUrl": "https://corp.test/terms",
        "privacyPolicyUrl": "https://corp.test/privacy",
        "agreeToTermsPolicy": "Manual",
        "signInMode": "SignIn",
        "languageInfo": {"autoDetect": false, "fallbackLanguage": "ja"},
        "passwordPolicy": {"length": {"min": 10, "max": 64}, "characterTypes": {"min": 2}},
        "mfa": {"factors": ["Totp", "BackupCode"], "policy": "PromptAtSignInAndSignUp"},
    });
    let (status, updated) = t.api(Method::PATCH, "/api/sign-in-exp", Some(patch)).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["agreeToTermsPolicy"], "Manual");
    assert_eq!(updated["passwordPolicy"]["rejects"]["pwned"], true, "partial policy keeps defaults");
    let (_, again) = t.api(Method::GET, "/api/sign-in-exp", None).await;
    assert_eq!(again, updated, "changes are stored");
    let (status, _) = t.api(Method::PATCH, "/api/sign-in-exp", Some(json!({"termsOfUseUrl": null}))).await;
    assert_eq!(status, 200);
    t.stop().await;
}

#[tokio::test]
async fn invalid_combinations_say_which_rule() {
    let t = TestServer::start().await;
    let email_password =
        json!([{"identifier": "email", "password": true, "verificationCode": false, "isPasswordPrimary": true}]);
    let cases = [
        (
            json!({"signUp": {"identifiers": ["email"], "password": true, "verify": false}}),
            "sign_in_experiences.passwordless_requires_verify",
        ),
        (
            json!({"signUp": {"identifiers": ["email"], "password": true, "verify": true}}),
            "sign_in_experiences.miss_sign_up_identifier_in_sign_in",
        ),
        (
            json!({"signIn": {"methods": email_password}, "signUp": {"identifiers": ["email"], "password": true, "verify": true}}),
            "sign_in_experiences.enabled_connector_not_found",
        ),
        (json!({"signIn": {"methods": email_password}}), "sign_in_experiences.miss_sign_up_identifier_in_sign_in"),
        (
            json!({"signUp": {"identifiers": ["username"], "password": false, "verify": false}}),
            "sign_in_experiences.username_requires_password",
        ),
        (
            json!({"signIn": {"methods": [{"identifier": "username", "password": false, "verificationCode": false, "isPasswordPrimary": true}]}}),
            "sign_in_experiences.at_least_one_authentication_factor",
        ),
        (
            json!({"signUp": {"identifiers": ["username", "username"], "password": true, "verify": false}}),
            "sign_in_experiences.duplicated_sign_up_identifiers",
        ),
        (
            json!({"mfa": {"factors": ["BackupCode"], "policy": "UserControlled"}}),
            "sign_in_experiences.backup_code_cannot_be_enabled_alone",
        ),
        (
            json!({"mfa": {"factors": ["Totp", "Totp"], "policy": "UserControlled"}}),
            "sign_in_experiences.duplicated_mfa_factors",
        ),
        (
            json!({"languageInfo": {"autoDetect": true, "fallbackLanguage": "xx"}}),
            "sign_in_experiences.unsupported_default_language",
        ),
        (
            json!({"forgotPasswordMethods": ["EmailVerificationCode"]}),
            "sign_in_experiences.forgot_password_method_requires_connector",
        ),
        (json!({"agreeToTermsPolicy": "Sometimes"}), "guard.invalid_input"),
        (json!({"color": {"primaryColor": "red"}}), "guard.invalid_input"),
        (
            json!({"color": {"primaryColor": "red", "isDarkModeEnabled": false, "darkPrimaryColor": "#000000"}}),
            "guard.invalid_input",
        ),
        (json!({"termsOfUseUrl": "javascript:alert(1)"}), "guard.invalid_input"),
        (json!({"passwordPolicy": {"length": {"min": 20, "max": 10}}}), "guard.invalid_input"),
    ];
    for (patch, code) in cases {
        let (status, error) = t.api(Method::PATCH, "/api/sign-in-exp", Some(patch.clone())).await;
        assert_eq!((status, error["code"].as_str()), (400, Some(code)), "{patch} → {error}");
    }
    let (_, error) = t.api(Method::PATCH, "/api/sign-in-exp", Some(json!({"signIn": {"methods": email_password}, "signUp": {"identifiers": ["email"], "password": true, "verify": true}}))).await;
    assert_eq!(error["data"]["type"], "Email");
    // Nothing was stored by the refused changes.
    let (_, sie) = t.api(Method::GET, "/api/sign-in-exp", None).await;
    assert_eq!(sie["signUp"]["identifiers"], json!(["username"]));
    t.stop().await;
}

#[tokio::test]
async fn check_password_applies_the_policy() {
    let t = TestServer::start().await;
    let (_, user) = t
        .api(
            Method::POST,
            "/api/users",
            Some(json!({"username": "frankie", "primaryEmail": "frank.n@x.test", "name": "Frank N"})),
        )
        .await;
    let user_id = user["id"].as_str().unwrap();
    let server = &t;
    let check = |body: Value| async move {
        server.api(Method::POST, "/api/sign-in-exp/default/check-password", Some(body)).await
    };

    let (status, body) = check(json!({"password": "Tr0ub4dor&Horse"})).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("request.invalid_input")), "userId needed: {body}");
    let (status, body) = check(json!({"password": "Tr0ub4dor&Horse", "userId": user_id})).await;
    assert_eq!((status, body), (200, json!({"result": true})));

    let cases: [(&str, &[&str]); 4] = [
        ("short", &["password_rejected.too_short"]),
        ("123456aA", &["password_rejected.pwned", "password_rejected.restricted.sequence"]),
        ("frankie123", &["password_rejected.restricted.sequence", "password_rejected.restricted.user_info"]),
        ("aaaaaaaaaaaa", &["password_rejected.restricted.repetition"]),
    ];
    for (password, expected) in cases {
        let (status, body) = check(json!({"password": password, "userId": user_id})).await;
        assert_eq!(status, 400, "{password}: {body}");
        assert_eq!(body["result"], false);
        let codes: Vec<&str> = body["issues"].as_array().unwrap().iter().map(|i| i["code"].as_str().unwrap()).collect();
        assert_eq!(codes, expected, "{password}");
        assert_eq!(body["data"]["issues"], body["issues"], "the reasons are in data too");
    }
    let (_, body) = check(json!({"password": "short", "userId": user_id})).await;
    assert_eq!(body["issues"][0]["interpolation"], json!({"min": 8}));
    let (status, _) = check(json!({"password": "whatever", "userId": "ghost"})).await;
    assert_eq!(status, 404);

    // A policy without the user-info rule needs no user.
    let (status, _) = t.api(Method::PATCH, "/api/sign-in-exp", Some(json!({"passwordPolicy": {"rejects": {"pwned": true, "repetitionAndSequence": true, "userInfo": false, "words": ["kido"]}}}))).await;
    assert_eq!(status, 200);
    let (status, body) = check(json!({"password": "kidokidokido"})).await;
    assert_eq!(status, 400);
    assert_eq!(body["issues"][0]["code"], "password_rejected.restricted.words");
    t.stop().await;
}

#[tokio::test]
async fn public_view_needs_no_token() {
    let t = TestServer::start().await;
    let (status, body) = send(Method::GET, &t.url("/api/.well-known/sign-in-exp"), None, None).await;
    assert_eq!(status, 200);
    assert!(body.get("forgotPasswordMethods").is_none());
    assert_eq!(body["forgotPassword"], json!({"email": false, "phone": false}));
    assert_eq!(body["socialConnectors"], json!([]));
    assert_eq!(body["signInMode"], "SignInAndRegister");
    let (status, _) = send(Method::GET, &t.url("/api/sign-in-exp"), None, None).await;
    assert_eq!(status, 401);
    t.stop().await;
}

/// Logto's PATCH: an object field is merged key by key into the stored one.
#[tokio::test]
async fn partial_nested_objects_keep_what_they_leave_out() {
    let t = TestServer::start().await;
    let patch = json!({"passwordPolicy": {"characterTypes": {"min": 3}, "rejects": {"words": ["kido"]}}});
    let (status, sie) = t.api(Method::PATCH, "/api/sign-in-exp", Some(patch)).await;
    assert_eq!(status, 200, "{sie}");
    let (status, sie) =
        t.api(Method::PATCH, "/api/sign-in-exp", Some(json!({"passwordPolicy": {"length": {"max": 128}}}))).await;
    assert_eq!(status, 200, "{sie}");
    let policy = &sie["passwordPolicy"];
    assert_eq!(policy["length"], json!({"min": 8, "max": 128}), "the default min, the given max");
    assert_eq!(policy["characterTypes"]["min"], 3, "untouched parts are kept: {policy}");
    assert_eq!(policy["rejects"]["words"], json!(["kido"]));
    assert_eq!(policy["rejects"]["pwned"], true);

    // Every MFA policy of Logto 1.42; the factors are kept when only the policy changes.
    for policy in [
        "UserControlled",
        "Mandatory",
        "PromptOnlyAtSignIn",
        "PromptAtSignInAndSignUp",
        "NoPrompt",
        "PromptAtSignInAndSignUpMandatory",
    ] {
        let (status, sie) = t.api(Method::PATCH, "/api/sign-in-exp", Some(json!({"mfa": {"policy": policy}}))).await;
        assert_eq!((status, sie["mfa"]["policy"].as_str()), (200, Some(policy)), "{sie}");
        assert_eq!(sie["mfa"]["factors"], json!([]));
    }
    let (status, sie) = t.api(Method::PATCH, "/api/sign-in-exp", Some(json!({"adaptiveMfa": {"enabled": true}}))).await;
    assert_eq!((status, &sie["adaptiveMfa"]), (200, &json!({"enabled": true})), "{sie}");
    let (_, public) = send(Method::GET, &t.url("/api/.well-known/sign-in-exp"), None, None).await;
    assert_eq!(public["adaptiveMfa"], json!({"enabled": true}));

    // Wrong types anywhere are a 400 naming what is wrong; nothing is stored.
    for bad in [
        json!({"passwordPolicy": {"length": {"max": "long"}}}),
        json!({"mfa": {"policy": "Sometimes"}}),
        json!({"adaptiveMfa": {"enabled": "yes"}}),
        json!({"signInMode": 3}),
    ] {
        let (status, body) = t.api(Method::PATCH, "/api/sign-in-exp", Some(bad.clone())).await;
        assert_eq!((status, body["code"].as_str()), (400, Some("guard.invalid_input")), "{bad}: {body}");
    }
    let (_, sie) = t.api(Method::GET, "/api/sign-in-exp", None).await;
    assert_eq!(sie["passwordPolicy"]["length"]["max"], 128);
    // Read-only and unknown fields are ignored, as Logto's guard strips them.
    let (status, sie) = t.api(Method::PATCH, "/api/sign-in-exp", Some(json!({"id": "other", "nope": 1}))).await;
    assert_eq!((status, sie["id"].as_str()), (200, Some("default")));
    t.stop().await;
}

#[tokio::test]
async fn custom_ui_csp_is_checked_stored_and_applied_with_custom_ui_assets() {
    let t = TestServer::start().await;
    let csp = json!({"scriptSrc": ["https://cdn.example.com", "'self'"], "connectSrc": ["https://api.example.com"]});
    let (status, sie) = t.api(Method::PATCH, "/api/sign-in-exp", Some(json!({"customUiCsp": csp}))).await;
    assert_eq!((status, &sie["customUiCsp"]), (200, &csp), "{sie}");
    for bad in ["https://x.test; script-src *", "https://x.test 'unsafe-hashes'", "'none'", ""] {
        let patch = json!({"customUiCsp": {"scriptSrc": [bad]}});
        let (status, body) = t.api(Method::PATCH, "/api/sign-in-exp", Some(patch)).await;
        assert_eq!(status, 400, "{bad:?}: {body}");
    }
    let page_csp = || async {
        let r = crate::harness::http().get(t.url("/sign-in")).send().await.unwrap();
        r.headers()["content-security-policy"].to_str().unwrap().to_owned()
    };
    // Without custom UI assets the hosted pages allow no scripts at all.
    assert!(!page_csp().await.contains("script-src"));
    let assets = json!({"customUiAssets": {"id": "ui-1", "createdAt": 1_700_000_000_000_i64}});
    let (status, sie) = t.api(Method::PATCH, "/api/sign-in-exp", Some(assets)).await;
    assert_eq!(status, 200, "{sie}");
    let policy = page_csp().await;
    assert!(policy.contains("; script-src https://cdn.example.com 'self'"), "{policy}");
    assert!(policy.contains("; connect-src https://api.example.com"), "{policy}");
    assert!(policy.starts_with("default-src 'none'"), "{policy}");
    let bad_assets = json!({"customUiAssets": {"id": 5}});
    assert_eq!(t.api(Method::PATCH, "/api/sign-in-exp", Some(bad_assets)).await.0, 400);
    t.stop().await;
}

#[tokio::test]
async fn the_public_view_lists_sso_connectors_when_single_sign_on_is_enabled() {
    let t = TestServer::start().await;
    let connector = json!({"providerName": "Okta", "connectorName": "Acme Okta", "domains": ["acme.test"],
        "config": {"clientId": "kido", "clientSecret": "s3cret", "issuer": "https://idp.acme.test"},
        "branding": {"displayName": "Acme", "logo": "https://acme.test/logo.png"}});
    let (status, created) = t.api(Method::POST, "/api/sso-connectors", Some(connector)).await;
    assert_eq!(status, 200, "{created}");
    // Not configured yet: not offered.
    let unconfigured = json!({"providerName": "OIDC", "connectorName": "Later", "domains": ["later.test"]});
    assert_eq!(t.api(Method::POST, "/api/sso-connectors", Some(unconfigured)).await.0, 200);
    let public = || async { send(Method::GET, &t.url("/api/.well-known/sign-in-exp"), None, None).await.1 };
    assert_eq!(public().await["ssoConnectors"], json!([]), "single sign-on is off");
    let (status, _) = t.api(Method::PATCH, "/api/sign-in-exp", Some(json!({"singleSignOnEnabled": true}))).await;
    assert_eq!(status, 200);
    assert_eq!(
        public().await["ssoConnectors"],
        json!([{"id": created["id"], "connectorName": "Acme", "logo": "https://acme.test/logo.png", "domains": ["acme.test"]}])
    );
    t.stop().await;
}
