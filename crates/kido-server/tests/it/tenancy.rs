//! Tenants are walls: tokens and rows of one are worthless in the other.

use kido_core::TenantId;
use kido_core::bootstrap::MANAGEMENT_ROLE_ID;
use kido_proto::applications::{ApplicationType, CreateApplication};
use kido_proto::{ApplicationId, RoleId};
use reqwest::Method;
use serde_json::json;

use crate::harness::{TestServer, send, token_at};

/// An M2M app of the admin tenant holding its Management API role; returns (id, secret).
pub(crate) async fn admin_m2m_app(t: &TestServer) -> (String, String) {
    let admin = TenantId::new("admin");
    let input = CreateApplication {
        name: "admin m2m".into(),
        app_type: ApplicationType::MachineToMachine,
        description: None,
        oidc_client_metadata: None,
        custom_client_metadata: None,
        custom_data: None,
        is_third_party: None,
        protected_app_metadata: None,
    };
    let (app, secret) =
        t.server.core.applications().create_with_id(&admin, kido_core::ids::new_id(), input, None).await.unwrap();
    let (app_id, role_id) = (ApplicationId::new(&app.id), RoleId::new(MANAGEMENT_ROLE_ID));
    t.server.core.roles().assign_to_application(&admin, &app_id, &[role_id]).await.unwrap();
    (app.id, secret.unwrap().value)
}

#[tokio::test]
async fn tokens_of_one_tenant_are_refused_by_the_other() {
    let t = TestServer::start().await;
    let default_token = t.management_token().await;
    let (status, body) = send(Method::GET, &t.admin_url("/api/applications"), Some(&default_token), None).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("auth.unauthorized")));

    let (admin_id, admin_secret) = admin_m2m_app(&t).await;
    // The default tenant's token endpoint does not know the admin tenant's client.
    let form = [("grant_type", "client_credentials"), ("resource", "https://admin.logto.app/api"), ("scope", "all")];
    let (status, _) = token_at(&t.url("/oidc/token"), &form, Some((&admin_id, &admin_secret))).await;
    assert_eq!(status, 401);
    let (status, body) = token_at(&t.admin_url("/oidc/token"), &form, Some((&admin_id, &admin_secret))).await;
    assert_eq!(status, 200, "{body}");
    let admin_token = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(send(Method::GET, &t.admin_url("/api/applications"), Some(&admin_token), None).await.0, 200);
    let (status, body) = send(Method::GET, &t.url("/api/applications"), Some(&admin_token), None).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("auth.unauthorized")));

    // Same audience as the default tenant's, but signed by the admin tenant: still refused.
    let (status, body) = token_at(
        &t.admin_url("/oidc/token"),
        &[("grant_type", "client_credentials"), ("resource", "https://default.logto.app/api"), ("scope", "all")],
        Some((&admin_id, &admin_secret)),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_target")),
        "the admin tenant has no such resource"
    );
    t.stop().await;
}

#[tokio::test]
async fn rows_of_one_tenant_are_invisible_and_untouchable_in_the_other() {
    let t = TestServer::start().await;
    let (app_id, _) = t.new_app("MachineToMachine").await;
    let (_, role) = t
        .api(
            Method::POST,
            "/api/roles",
            Some(json!({"name": "shared-name", "description": "d", "type": "MachineToMachine"})),
        )
        .await;
    let role_id = role["id"].as_str().unwrap().to_owned();

    let (admin_id, admin_secret) = admin_m2m_app(&t).await;
    let form = [("grant_type", "client_credentials"), ("resource", "https://admin.logto.app/api"), ("scope", "all")];
    let (_, body) = token_at(&t.admin_url("/oidc/token"), &form, Some((&admin_id, &admin_secret))).await;
    let token = body["access_token"].as_str().unwrap().to_owned();
    let admin = |path: String| t.admin_url(&path);

    let (_, apps) = send(Method::GET, &admin("/api/applications".into()), Some(&token), None).await;
    assert!(apps.as_array().unwrap().iter().all(|a| a["id"] != app_id.as_str()));
    let (status, body) = send(Method::GET, &admin(format!("/api/applications/{app_id}")), Some(&token), None).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("entity.not_exists_with_id")));
    assert_eq!(send(Method::DELETE, &admin(format!("/api/applications/{app_id}")), Some(&token), None).await.0, 404);
    // A relation across tenants is impossible: the admin tenant's app cannot get the default tenant's role.
    let (status, _) = send(
        Method::POST,
        &admin(format!("/api/applications/{admin_id}/roles")),
        Some(&token),
        Some(json!({"roleIds": [role_id]})),
    )
    .await;
    assert_eq!(status, 404);
    // Names are unique per tenant only.
    let (status, _) = send(
        Method::POST,
        &admin("/api/roles".into()),
        Some(&token),
        Some(json!({"name": "shared-name", "description": "d"})),
    )
    .await;
    assert_eq!(status, 200);
    // The default tenant's app still exists.
    assert_eq!(t.api(Method::GET, &format!("/api/applications/{app_id}"), None).await.0, 200);
    t.stop().await;
}

#[tokio::test]
async fn composite_foreign_keys_refuse_cross_tenant_rows_in_the_database() {
    let t = TestServer::start().await;
    let (app_id, _) = t.new_app("MachineToMachine").await;
    // Straight to the store: the admin tenant's role relation pointing at a default-tenant app.
    let mut tx = t.server.core.store.begin().await.unwrap();
    let result = kido_store::roles::assign_to_application(
        &mut tx,
        &TenantId::new("admin"),
        &app_id,
        &[MANAGEMENT_ROLE_ID.to_owned()],
        0,
    )
    .await;
    assert!(matches!(result, Err(kido_store::StoreError::MissingReference(_))), "{result:?}");
    drop(tx); // rolled back; the pool needs the connection back to close
    t.stop().await;
}
