//! Connectors (one Email and one Sms per tenant) and email templates (one per language and
//! type, upserted).

use kido_store::Json;
use kido_store::connectors::{self, StoredConnector, StoredEmailTemplate};
use serde_json::json;

use crate::harness::{Db, NOW, a, assert_conflict, b};

fn connector(tenant: &kido_proto::TenantId, id: &str, kind: &str) -> StoredConnector {
    StoredConnector {
        tenant_id: tenant.to_string(),
        id: id.into(),
        connector_id: "simple-mail-transfer-protocol".into(),
        kind: kind.into(),
        config: Json(json!({"host": "smtp.test"})),
        metadata: Json(json!({})),
        sync_profile: false,
        enable_token_storage: false,
        created_at: NOW,
    }
}

fn template(id: &str, language: &str, details: serde_json::Value) -> StoredEmailTemplate {
    StoredEmailTemplate {
        tenant_id: a().to_string(),
        id: id.into(),
        language_tag: language.into(),
        template_type: "SignIn".into(),
        details: Json(details),
        created_at: NOW,
    }
}

#[tokio::test]
async fn one_passwordless_connector_of_a_kind_per_tenant() {
    let db = Db::new().await;
    let mut c = db.conn().await;
    connectors::insert(&mut c, &connector(&a(), "mail", "Email")).await.unwrap();
    assert_conflict(connectors::insert(&mut c, &connector(&a(), "mail2", "Email")).await);
    connectors::insert(&mut c, &connector(&a(), "social1", "Social")).await.unwrap();
    connectors::insert(&mut c, &connector(&a(), "social2", "Social")).await.unwrap();
    connectors::insert(&mut c, &connector(&b(), "mail", "Email")).await.unwrap();

    assert_eq!(connectors::find_by_kind(&mut c, &a(), "Email").await.unwrap().unwrap().id, "mail");
    assert!(connectors::find_by_kind(&mut c, &a(), "Sms").await.unwrap().is_none());
    let mut mail = connector(&a(), "mail", "Email");
    mail.config = Json(json!({"host": "other.test"}));
    connectors::update(&mut c, &mail).await.unwrap();
    assert_eq!(connectors::find(&mut c, &a(), "mail").await.unwrap().unwrap().config.0["host"], "other.test");
    assert_eq!(connectors::find(&mut c, &b(), "mail").await.unwrap().unwrap().config.0["host"], "smtp.test");
    assert_eq!(connectors::list(&mut c, &a()).await.unwrap().len(), 3);
    assert!(connectors::delete(&mut c, &a(), "mail").await.unwrap());
    assert!(!connectors::delete(&mut c, &a(), "mail").await.unwrap());
    connectors::insert(&mut c, &connector(&a(), "mail2", "Email")).await.unwrap();
    drop(c);
    db.finish().await;
}

#[tokio::test]
async fn email_templates_upsert_by_language_and_type() {
    let db = Db::new().await;
    let mut c = db.conn().await;
    let first = connectors::upsert_template(&mut c, &template("t1", "en", json!({"subject": "Hi"}))).await.unwrap();
    // The same (language, type) keeps its row and takes the new details.
    let again = connectors::upsert_template(&mut c, &template("t2", "en", json!({"subject": "Hello"}))).await.unwrap();
    assert_eq!((again.id.as_str(), again.details.0["subject"].as_str()), (first.id.as_str(), Some("Hello")));
    connectors::upsert_template(&mut c, &template("t3", "de", json!({"subject": "Hallo"}))).await.unwrap();
    assert_eq!(connectors::list_templates(&mut c, &a(), None, None).await.unwrap().len(), 2);
    assert_eq!(connectors::list_templates(&mut c, &a(), Some("de"), Some("SignIn")).await.unwrap().len(), 1);
    assert!(connectors::list_templates(&mut c, &b(), None, None).await.unwrap().is_empty());
    assert!(connectors::update_template_details(&mut c, &a(), "t3", &json!({"subject": "Moin"})).await.unwrap());
    assert!(!connectors::update_template_details(&mut c, &b(), "t3", &json!({})).await.unwrap());
    assert_eq!(connectors::find_template(&mut c, &a(), "t3").await.unwrap().unwrap().details.0["subject"], "Moin");
    assert_eq!(connectors::delete_templates(&mut c, &a(), None, Some("en"), None).await.unwrap(), 1);
    assert_eq!(connectors::delete_templates(&mut c, &a(), None, None, None).await.unwrap(), 1);
    drop(c);
    db.finish().await;
}
