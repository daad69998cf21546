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
