//! `kido vault rotate-kek`: sealed secrets (TOTP secrets, backup codes) made under one key
//! still open once it is retired, are re-wrapped under the new key without their ciphertexts
//! changing, and open with the new key alone afterwards; a value no key opens stops the
//! rotation and names the key it needs, and a server given that key refuses to start.

use kido_core::sealing::SealingKey;
use kido_core::vault::RotationError;
use kido_proto::TenantId;
use kido_server::vault::{VaultError, rotate_kek};
use kido_store::mfa_verifications::{SealedFactor, sealed_after};
use reqwest::Method;
use serde_json::json;

use crate::harness::TestServer;

async fn sealed(t: &TestServer) -> Vec<SealedFactor> {
    let mut c = t.server.core.store.conn().await.unwrap();
    sealed_after(&mut c, ("", ""), 100).await.unwrap()
}

/// Every sealed value opens with the server's keys.
fn all_open(t: &TestServer, rows: &[SealedFactor], secret: &str) {
    let mfa = t.server.core.mfa();
    for row in rows {
        let tenant = TenantId::new(&row.tenant_id);
        match row.kind.as_str() {
            "Totp" => assert_eq!(mfa.open_totp(&tenant, &row.user_id, &row.id, &row.sealed_secret).unwrap(), secret),
            _ => {
                assert_eq!(mfa.open_backup_codes(&tenant, &row.user_id, &row.id, &row.sealed_secret).unwrap().len(), 10)
            }
        }
    }
}

fn key_of(sealed: &str) -> &str {
    sealed.split('.').nth(1).unwrap()
}

#[tokio::test]
async fn the_key_encryption_key_rotates_without_touching_ciphertexts() {
    let (old, new) = (SealingKey::generate_text().unwrap(), SealingKey::generate_text().unwrap());
    let (old_id, new_id) =
        (SealingKey::parse(&old).unwrap().id().to_owned(), SealingKey::parse(&new).unwrap().id().to_owned());
    let t = TestServer::start_with(|c| c.secret_vault_kek = Some(old.clone())).await;
    let (status, user) = t.api(Method::POST, "/api/users", Some(json!({"username": "vault_alice"}))).await;
    assert_eq!(status, 200, "{user}");
    let path = format!("/api/users/{}/mfa-verifications", user["id"].as_str().unwrap());
    let secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
    let (status, body) = t.api(Method::POST, &path, Some(json!({"type": "Totp", "secret": secret}))).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = t.api(Method::POST, &path, Some(json!({"type": "BackupCode"}))).await;
    assert_eq!(status, 200, "{body}");
    let before = sealed(&t).await;
    assert_eq!(before.len(), 2);
    assert!(before.iter().all(|r| key_of(&r.sealed_secret) == old_id), "{before:?}");

    // The new key is current, the old one retired: everything still opens.
    let keys = |c: &mut kido_server::config::Config| {
        c.secret_vault_kek = Some(new.clone());
        c.secret_vault_previous_keks = vec![old.clone()];
    };
    let t = t.restart_with(keys).await;
    all_open(&t, &before, secret);

    // Rotated beside the running server: data keys re-wrapped, ciphertexts as they were.
    let (done, id) = rotate_kek(&t.config_with(keys)).await.unwrap();
    assert_eq!((done.rewrapped, done.current, done.changed_meanwhile, id.as_str()), (2, 0, 0, new_id.as_str()));
    let after = sealed(&t).await;
    for (b, a) in before.iter().zip(&after) {
        assert_eq!(key_of(&a.sealed_secret), new_id);
        assert_eq!(b.sealed_secret.rsplit('.').next(), a.sealed_secret.rsplit('.').next(), "ciphertext untouched");
    }
    let (again, _) = rotate_kek(&t.config_with(keys)).await.unwrap();
    assert_eq!((again.rewrapped, again.current), (0, 2), "a second run has nothing to do");

    // The old key can go.
    let t = t
        .restart_with(|c| {
            c.secret_vault_kek = Some(new.clone());
        })
        .await;
    all_open(&t, &after, secret);

    // A key that never sealed anything opens nothing: the rotation stops and names the key.
    let stranger = SealingKey::generate_text().unwrap();
    let err = rotate_kek(&t.config_with(|c| c.secret_vault_kek = Some(stranger.clone()))).await.unwrap_err();
    match err {
        VaultError::Rotation(RotationError::Unopenable { cause, .. }) => {
            assert!(cause.to_string().contains(&new_id), "{cause}");
        }
        other => panic!("unexpected {other}"),
    }
    // Nor does a server start with it: it says which key the secrets need.
    let why = t.restart_refused(|c| c.secret_vault_kek = Some(stranger.clone())).await;
    assert!(why.contains("does not open the secrets") && why.contains(&new_id), "{why}");
}
