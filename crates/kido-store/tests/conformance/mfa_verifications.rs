//! Second factors: one TOTP and one backup-code set per user, a TOTP step accepted once and
//! only moving forward, a backup code used once, spent sets replaceable, all per tenant.

use kido_store::Json;
use kido_store::mfa_verifications::{self, StoredMfaVerification};
use serde_json::json;

use crate::harness::{Db, NOW, a, assert_conflict, assert_missing_reference, b, insert_user};

fn verification(id: &str, user: &str, kind: &str) -> StoredMfaVerification {
    StoredMfaVerification {
        tenant_id: a().to_string(),
        id: id.into(),
        user_id: user.into(),
        kind: kind.into(),
        name: None,
        sealed_secret: (kind == "Totp").then(|| "v1.sealed".to_owned()),
        details: Json(json!({})),
        last_step: None,
        last_used_at: None,
        created_at: NOW,
        remaining_codes: 0,
        credential_id: None,
    }
}

#[tokio::test]
async fn one_totp_and_one_live_code_set_per_user_each_used_once() {
    let db = Db::new().await;
    let mut c = db.conn().await;
    insert_user(&mut c, &a(), "u1", "alice").await;
    insert_user(&mut c, &a(), "u2", "bob").await;
    assert_missing_reference(mfa_verifications::insert(&mut c, &verification("x", "nobody", "Totp")).await);

    mfa_verifications::insert(&mut c, &verification("t1", "u1", "Totp")).await.unwrap();
    assert_conflict(mfa_verifications::insert(&mut c, &verification("t2", "u1", "Totp")).await);
    mfa_verifications::insert(&mut c, &verification("t3", "u2", "Totp")).await.unwrap();

    // TOTP steps move forward only: a step (or an earlier one) is accepted once.
    assert!(mfa_verifications::use_totp_step(&mut c, &a(), "t1", 100, NOW).await.unwrap());
    assert!(!mfa_verifications::use_totp_step(&mut c, &a(), "t1", 100, NOW).await.unwrap());
    assert!(!mfa_verifications::use_totp_step(&mut c, &a(), "t1", 99, NOW).await.unwrap());
    assert!(!mfa_verifications::use_totp_step(&mut c, &b(), "t1", 101, NOW).await.unwrap(), "other tenant");
    assert!(mfa_verifications::use_totp_step(&mut c, &a(), "t1", 101, NOW + 1).await.unwrap());

    mfa_verifications::insert(&mut c, &verification("s1", "u1", "BackupCode")).await.unwrap();
    assert_conflict(mfa_verifications::insert(&mut c, &verification("s2", "u1", "BackupCode")).await);
    // Two slots: a sealed set's (no digest) and a set from before sealing (a digest).
    let digests = vec![None, Some("d2".to_owned())];
    mfa_verifications::insert_backup_codes(&mut c, &a(), "s1", &digests).await.unwrap();
    let codes = mfa_verifications::backup_codes(&mut c, &a(), "s1").await.unwrap();
    let slots: Vec<(i64, Option<&str>)> = codes.iter().map(|b| (b.position, b.code_digest.as_deref())).collect();
    assert_eq!(slots, [(0, None), (1, Some("d2"))]);
    assert!(mfa_verifications::backup_codes(&mut c, &b(), "s1").await.unwrap().is_empty());
    let listed = mfa_verifications::list(&mut c, &a(), "u1").await.unwrap();
    let summary: Vec<(&str, i64)> = listed.iter().map(|v| (v.id.as_str(), v.remaining_codes)).collect();
    assert_eq!(summary, [("s1", 2), ("t1", 0)], "oldest first, then by id");
    assert!(mfa_verifications::list(&mut c, &b(), "u1").await.unwrap().is_empty());

    // A backup code is used once, in its own set and tenant only.
    assert!(!mfa_verifications::use_backup_code(&mut c, &b(), "s1", 0, NOW).await.unwrap());
    assert!(!mfa_verifications::use_backup_code(&mut c, &a(), "s1", 2, NOW).await.unwrap());
    assert!(mfa_verifications::use_backup_code(&mut c, &a(), "s1", 0, NOW).await.unwrap());
    assert!(!mfa_verifications::use_backup_code(&mut c, &a(), "s1", 0, NOW).await.unwrap());
    let used = mfa_verifications::backup_codes(&mut c, &a(), "s1").await.unwrap();
    assert_eq!(used.iter().map(|b| b.used_at).collect::<Vec<_>>(), [Some(NOW), None]);

    // Only a spent set is dropped to make room for a new one.
    assert_eq!(mfa_verifications::delete_exhausted_backup_codes(&mut c, &a(), "u1").await.unwrap(), 0);
    assert!(mfa_verifications::use_backup_code(&mut c, &a(), "s1", 1, NOW).await.unwrap());
    assert_eq!(mfa_verifications::delete_exhausted_backup_codes(&mut c, &a(), "u1").await.unwrap(), 1);
    mfa_verifications::insert(&mut c, &verification("s2", "u1", "BackupCode")).await.unwrap();

    // Renaming is per user and kind.
    assert!(!mfa_verifications::rename(&mut c, &a(), "u2", "t1", "Totp", "x").await.unwrap());
    assert!(!mfa_verifications::rename(&mut c, &a(), "u1", "t1", "WebAuthn", "x").await.unwrap());
    assert!(mfa_verifications::rename(&mut c, &a(), "u1", "t1", "Totp", "phone").await.unwrap());
    let named = mfa_verifications::list(&mut c, &a(), "u1").await.unwrap();
    assert_eq!(named.iter().find(|v| v.id == "t1").and_then(|v| v.name.as_deref()), Some("phone"));

    // Deleting is per user: another user's id is not found.
    assert!(!mfa_verifications::delete(&mut c, &a(), "u2", "t1").await.unwrap());
    assert!(mfa_verifications::delete(&mut c, &a(), "u1", "t1").await.unwrap());
    assert!(!mfa_verifications::delete(&mut c, &a(), "u1", "t1").await.unwrap());
    assert_eq!(mfa_verifications::delete_totp(&mut c, &b(), "u2").await.unwrap(), 0, "other tenant");
    assert_eq!(mfa_verifications::delete_totp(&mut c, &a(), "u2").await.unwrap(), 1);
    drop(c);
    db.finish().await;
}

#[tokio::test]
async fn a_sign_ins_bindings_and_choices() {
    use kido_proto::mfa::UserLogtoConfig;
    use kido_proto::organizations::MemberKind;
    use kido_store::{organizations, users};

    use crate::organizations::organization;

    let db = Db::new().await;
    let mut c = db.conn().await;
    insert_user(&mut c, &a(), "u1", "alice").await;
    insert_user(&mut c, &b(), "u1", "alice").await;

    // A new set replaces the user's, used or not.
    mfa_verifications::insert(&mut c, &verification("s1", "u1", "BackupCode")).await.unwrap();
    mfa_verifications::insert_backup_codes(&mut c, &a(), "s1", &[None]).await.unwrap();
    assert_eq!(mfa_verifications::delete_backup_codes(&mut c, &b(), "u1").await.unwrap(), 0);
    assert_eq!(mfa_verifications::delete_backup_codes(&mut c, &a(), "u1").await.unwrap(), 1);
    mfa_verifications::insert(&mut c, &verification("s2", "u1", "BackupCode")).await.unwrap();

    // The user's choices, per tenant.
    let mut chosen = UserLogtoConfig::default();
    chosen.mfa.skipped = true;
    assert!(users::set_logto_config(&mut c, &a(), "u1", &Json(chosen.clone())).await.unwrap());
    assert!(!users::set_logto_config(&mut c, &a(), "nobody", &Json(chosen.clone())).await.unwrap());
    assert_eq!(users::find(&mut c, &a(), "u1").await.unwrap().unwrap().logto_config.0, chosen);
    assert_eq!(users::find(&mut c, &b(), "u1").await.unwrap().unwrap().logto_config.0, UserLogtoConfig::default());

    // Membership of an organization requiring MFA.
    organizations::insert(&mut c, &organization(&a(), "o1")).await.unwrap();
    let mut strict = organization(&a(), "o2");
    strict.is_mfa_required = true;
    organizations::insert(&mut c, &strict).await.unwrap();
    organizations::add_members(&mut c, &a(), "o1", MemberKind::User, &["u1".into()], NOW).await.unwrap();
    assert!(!organizations::in_mfa_required_organization(&mut c, &a(), "u1").await.unwrap());
    organizations::add_members(&mut c, &a(), "o2", MemberKind::User, &["u1".into()], NOW).await.unwrap();
    assert!(organizations::in_mfa_required_organization(&mut c, &a(), "u1").await.unwrap());
    assert!(!organizations::in_mfa_required_organization(&mut c, &b(), "u1").await.unwrap());
    drop(c);
    db.finish().await;
}

fn passkey(id: &str, user: &str, credential: &str) -> StoredMfaVerification {
    StoredMfaVerification {
        credential_id: Some(credential.into()),
        last_step: Some(0),
        ..verification(id, user, "WebAuthn")
    }
}

#[tokio::test]
async fn passkeys_are_found_by_credential_once_per_tenant_and_count_forward() {
    let db = Db::new().await;
    let mut c = db.conn().await;
    insert_user(&mut c, &a(), "u1", "alice").await;
    insert_user(&mut c, &a(), "u2", "bob").await;
    insert_user(&mut c, &b(), "u1", "alice").await;

    // Several per user; a credential id once per tenant.
    mfa_verifications::insert(&mut c, &passkey("w1", "u1", "cred-1")).await.unwrap();
    mfa_verifications::insert(&mut c, &passkey("w2", "u1", "cred-2")).await.unwrap();
    assert_conflict(mfa_verifications::insert(&mut c, &passkey("w3", "u2", "cred-1")).await);
    let other_tenant = StoredMfaVerification { tenant_id: b().to_string(), ..passkey("w1", "u1", "cred-1") };
    mfa_verifications::insert(&mut c, &other_tenant).await.unwrap();

    assert!(mfa_verifications::credential_in_use(&mut c, &a(), "cred-1").await.unwrap());
    assert!(!mfa_verifications::credential_in_use(&mut c, &a(), "cred-9").await.unwrap());
    let found = mfa_verifications::find_by_credential(&mut c, &a(), "cred-2").await.unwrap().unwrap();
    assert_eq!((found.id.as_str(), found.user_id.as_str()), ("w2", "u1"));
    assert_eq!(found.credential_id.as_deref(), Some("cred-2"));
    assert!(mfa_verifications::find_by_credential(&mut c, &a(), "cred-9").await.unwrap().is_none());

    // 0 then 0 again (an authenticator without a counter), then forward only.
    assert!(mfa_verifications::use_webauthn_counter(&mut c, &a(), "w1", 0, NOW).await.unwrap());
    assert!(mfa_verifications::use_webauthn_counter(&mut c, &a(), "w1", 5, NOW).await.unwrap());
    assert!(!mfa_verifications::use_webauthn_counter(&mut c, &a(), "w1", 5, NOW).await.unwrap());
    assert!(!mfa_verifications::use_webauthn_counter(&mut c, &a(), "w1", 0, NOW).await.unwrap());
    assert!(!mfa_verifications::use_webauthn_counter(&mut c, &a(), "w1", 3, NOW).await.unwrap());
    assert!(mfa_verifications::use_webauthn_counter(&mut c, &a(), "w1", 6, NOW).await.unwrap());
    let found = mfa_verifications::find_by_credential(&mut c, &a(), "cred-1").await.unwrap().unwrap();
    assert_eq!((found.last_step, found.last_used_at), (Some(6), Some(NOW)));
    // The other tenant's row of the same id is untouched.
    let theirs = mfa_verifications::find_by_credential(&mut c, &b(), "cred-1").await.unwrap().unwrap();
    assert_eq!(theirs.last_step, Some(0));
}
