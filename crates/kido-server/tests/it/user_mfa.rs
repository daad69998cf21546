//! `/api/users/{userId}/mfa-verifications`: binding TOTP and backup codes, the rules between
//! them, and single use of TOTP steps and backup codes.

use base64::Engine;
use kido_core::UserId;
use kido_core::mfa::totp;
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::TestServer;

async fn new_user(t: &TestServer, username: &str) -> String {
    let (status, user) = t.api(Method::POST, "/api/users", Some(json!({"username": username}))).await;
    assert_eq!(status, 200, "{user}");
    user["id"].as_str().unwrap().to_owned()
}

fn path(user: &str) -> String {
    format!("/api/users/{user}/mfa-verifications")
}

#[tokio::test]
async fn totp_and_backup_codes_bind_list_and_unbind_under_logtos_rules() {
    let t = TestServer::start().await;
    let user = new_user(&t, "mfa_alice").await;

    // Backup codes cannot come first: they may not be a user's only factor.
    let (status, body) = t.api(Method::POST, &path(&user), Some(json!({"type": "BackupCode"}))).await;
    assert_eq!((status, body["code"].as_str()), (422, Some("session.mfa.backup_code_can_not_be_alone")), "{body}");

    let (status, totp_body) = t.api(Method::POST, &path(&user), Some(json!({"type": "Totp"}))).await;
    assert_eq!(status, 200, "{totp_body}");
    assert_eq!(totp_body["type"], "Totp");
    let secret = totp_body["secret"].as_str().unwrap();
    assert_eq!(secret.len(), 32);
    assert!(totp::decode_secret(secret).is_some());
    let qr = totp_body["secretQrCode"].as_str().unwrap();
    let svg = base64::engine::general_purpose::STANDARD
        .decode(qr.strip_prefix("data:image/svg+xml;base64,").unwrap())
        .unwrap();
    assert!(String::from_utf8(svg).unwrap().starts_with("<svg"));

    let (status, body) = t.api(Method::POST, &path(&user), Some(json!({"type": "Totp"}))).await;
    assert_eq!((status, body["code"].as_str()), (422, Some("user.totp_already_in_use")), "{body}");

    let (status, codes_body) = t.api(Method::POST, &path(&user), Some(json!({"type": "BackupCode"}))).await;
    assert_eq!(status, 200, "{codes_body}");
    let codes: Vec<String> =
        codes_body["codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned()).collect();
    assert_eq!(codes.len(), 10);
    assert!(codes.iter().all(|c| c.len() == 10 && c.chars().all(|ch| ch.is_ascii_hexdigit())));
    let (status, body) = t.api(Method::POST, &path(&user), Some(json!({"type": "BackupCode"}))).await;
    assert_eq!((status, body["code"].as_str()), (422, Some("user.backup_code_already_in_use")), "{body}");

    let (status, list) = t.api(Method::GET, &path(&user), None).await;
    assert_eq!(status, 200, "{list}");
    let list = list.as_array().unwrap().clone();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["type"], "Totp");
    assert!(list[0].get("remainCodes").is_none());
    assert_eq!(list[1]["type"], "BackupCode");
    assert_eq!(list[1]["remainCodes"], 10);
    for item in &list {
        let created = item["createdAt"].as_str().unwrap();
        assert!(created.len() == 24 && created.ends_with('Z') && created.contains('T'), "{created}");
        assert!(item.get("secret").is_none() && item.get("codes").is_none(), "{item}");
    }

    // Unbinding: only the user's own verification ids.
    let other = new_user(&t, "mfa_bob").await;
    let totp_id = list[0]["id"].as_str().unwrap();
    let (status, body) = t.api(Method::DELETE, &format!("{}/{totp_id}", path(&other)), None).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("entity.not_found")), "{body}");
    let (status, _) = t.api(Method::DELETE, &format!("{}/{totp_id}", path(&user)), None).await;
    assert_eq!(status, 204);
    let (status, _) = t.api(Method::DELETE, &format!("{}/{totp_id}", path(&user)), None).await;
    assert_eq!(status, 404);
    let (_, list) = t.api(Method::GET, &path(&user), None).await;
    assert_eq!(list.as_array().unwrap().len(), 1);

    // Deleting the user takes its factors along.
    let (status, _) = t.api(Method::DELETE, &format!("/api/users/{user}"), None).await;
    assert_eq!(status, 204);
    let (status, _) = t.api(Method::GET, &path(&user), None).await;
    assert_eq!(status, 404);
    t.stop().await;
}

#[tokio::test]
async fn bad_input_is_a_clear_4xx() {
    let t = TestServer::start().await;
    let user = new_user(&t, "mfa_carol").await;
    for body in [
        json!({"type": "Totp", "secret": "not base32!"}),
        json!({"type": "Totp", "secret": "JBSWY3DP"}),
        json!({"type": "Totp", "secret": "A".repeat(100)}),
        json!({"type": "WebAuthn"}),
        json!({"type": "Sms"}),
        json!({}),
    ] {
        let (status, answer) = t.api(Method::POST, &path(&user), Some(body.clone())).await;
        assert_eq!(status, 400, "{body} → {answer}");
    }
    let (status, _) =
        t.api(Method::POST, &path(&user), Some(json!({"type": "Totp", "secret": "jbsw y3dp ehpk 3pxp"}))).await;
    assert_eq!(status, 200);
    for codes in [json!(["abc"]), json!(vec!["0123456789"; 10]), json!(vec!["zzzzzzzzzz"; 10])] {
        let (status, answer) =
            t.api(Method::POST, &path(&user), Some(json!({"type": "BackupCode", "codes": codes}))).await;
        assert_eq!(status, 400, "{codes} → {answer}");
    }
    let (status, body) = t.api(Method::GET, "/api/users/nobody/mfa-verifications", None).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("entity.not_found")));
    let (status, _) = t.api(Method::POST, "/api/users/nobody/mfa-verifications", Some(json!({"type": "Totp"}))).await;
    assert_eq!(status, 404);
    t.stop().await;
}

#[tokio::test]
async fn a_totp_step_and_a_backup_code_are_each_accepted_once_and_secrets_are_sealed() {
    let t = TestServer::start().await;
    let user = new_user(&t, "mfa_dave").await;
    let secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
    let (status, _) = t.api(Method::POST, &path(&user), Some(json!({"type": "Totp", "secret": secret}))).await;
    assert_eq!(status, 200);
    let given: Vec<String> = (0..10).map(|i| format!("{i:x}abcdef01{i}")).map(|c| c[..10].to_owned()).collect();
    let (status, body) = t.api(Method::POST, &path(&user), Some(json!({"type": "BackupCode", "codes": given}))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["codes"], json!(given));

    let core = &t.server.core;
    let tenant = kido_core::TenantId::new("default");
    let user_id = UserId::new(user.as_str());
    let mut c = core.store.conn().await.unwrap();

    // The secret is stored sealed, never in clear.
    let rows = kido_store::mfa_verifications::list(&mut c, &tenant, &user).await.unwrap();
    let sealed = rows.iter().find(|r| r.kind == "Totp").unwrap().sealed_secret.clone().unwrap();
    assert!(sealed.starts_with("v2.") && !sealed.contains(secret), "{sealed}");

    let key = totp::decode_secret(secret).unwrap();
    let code = totp::code_at(&key, kido_core::clock::now_secs());
    let mfa = core.mfa();
    assert!(!mfa.verify_totp(&mut c, &tenant, &user_id, "000000x").await.unwrap());
    let first = mfa.verify_totp(&mut c, &tenant, &user_id, &code).await.unwrap();
    // A step boundary may fall between the two reads of the clock: then the code is the
    // previous step's, still inside the window, and accepted once all the same.
    assert!(first, "the current code is accepted");
    assert!(!mfa.verify_totp(&mut c, &tenant, &user_id, &code).await.unwrap(), "a replayed code is refused");

    assert!(!mfa.verify_backup_code(&mut c, &tenant, &user_id, "ffffffffff").await.unwrap());
    assert!(mfa.verify_backup_code(&mut c, &tenant, &user_id, &given[3].to_uppercase()).await.unwrap());
    assert!(!mfa.verify_backup_code(&mut c, &tenant, &user_id, &given[3]).await.unwrap(), "a used code is refused");
    drop(c);
    let (_, list) = t.api(Method::GET, &path(&user), None).await;
    let set: &Value = list.as_array().unwrap().iter().find(|v| v["type"] == "BackupCode").unwrap();
    assert_eq!(set["remainCodes"], 9);

    // Codes of a set all used: a new set may be bound, replacing the spent one.
    let mut c = core.store.conn().await.unwrap();
    for code in given.iter().filter(|c| *c != &given[3]) {
        assert!(mfa.verify_backup_code(&mut c, &tenant, &user_id, code).await.unwrap());
    }
    drop(c);
    let (status, body) = t.api(Method::POST, &path(&user), Some(json!({"type": "BackupCode"}))).await;
    assert_eq!(status, 200, "{body}");
    let (_, list) = t.api(Method::GET, &path(&user), None).await;
    let sets: Vec<&Value> = list.as_array().unwrap().iter().filter(|v| v["type"] == "BackupCode").collect();
    assert_eq!(sets.len(), 1);
    assert_eq!(sets[0]["remainCodes"], 10);
    t.stop().await;
}
