//! `/api/roles`: roles, their scopes and applications, and `/api/applications/{id}/roles`.

use reqwest::Method;
use serde_json::json;

use crate::harness::TestServer;

async fn scope_of_new_resource(t: &TestServer, name: &str) -> String {
    let (_, r) = t
        .api(
            Method::POST,
            "/api/resources",
            Some(json!({"name": "R", "indicator": format!("https://{}.test", kido_core::ids::new_id())})),
        )
        .await;
    let (_, s) = t
        .api(Method::POST, &format!("/api/resources/{}/scopes", r["id"].as_str().unwrap()), Some(json!({"name": name})))
        .await;
    s["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn roles_with_scopes() {
    let t = TestServer::start().await;
    let read = scope_of_new_resource(&t, "read").await;
    let write = scope_of_new_resource(&t, "write").await;
    let (status, role) = t
        .api(Method::POST, "/api/roles", Some(json!({"name": "Editor", "description": "Edits", "scopeIds": [read]})))
        .await;
    assert_eq!(status, 200, "{role}");
    assert_eq!((role["type"].as_str(), role["isDefault"].as_bool()), (Some("User"), Some(false)));
    let id = role["id"].as_str().unwrap().to_owned();

    let (status, error) =
        t.api(Method::POST, "/api/roles", Some(json!({"name": "Editor", "description": "again"}))).await;
    assert_eq!((status, error["code"].as_str()), (422, Some("role.name_in_use")));
    let (status, error) = t
        .api(Method::POST, "/api/roles", Some(json!({"name": "Ghost", "description": "d", "scopeIds": ["nope"]})))
        .await;
    assert_eq!((status, error["code"].as_str()), (404, Some("entity.not_exists_with_id")));
    let (_, all) = t.api(Method::GET, "/api/roles?search=Ghost", None).await;
    assert!(all.as_array().unwrap().is_empty(), "a failed create leaves nothing behind");
    let (status, error) = t.api(Method::POST, "/api/roles", Some(json!({"name": "NoDescription"}))).await;
    assert_eq!((status, error["code"].as_str()), (400, Some("guard.invalid_input")));

    let scopes = format!("/api/roles/{id}/scopes");
    let (status, all_scopes) = t.api(Method::POST, &scopes, Some(json!({"scopeIds": [write]}))).await;
    assert_eq!(status, 201, "{all_scopes}");
    assert_eq!(all_scopes.as_array().unwrap().len(), 2);
    let (status, error) = t.api(Method::POST, &scopes, Some(json!({"scopeIds": [write]}))).await;
    assert_eq!((status, error["code"].as_str()), (422, Some("role.scope_exists")));
    let (status, _) = t.api(Method::POST, &scopes, Some(json!({"scopeIds": []}))).await;
    assert_eq!(status, 400);
    let (_, listed) = t.api(Method::GET, &scopes, None).await;
    assert_eq!(listed.as_array().unwrap().len(), 2);
    assert!(listed[0]["resource"]["indicator"].is_string(), "{listed}");
    assert_eq!(t.api(Method::DELETE, &format!("{scopes}/{read}"), None).await.0, 204);
    assert_eq!(t.api(Method::DELETE, &format!("{scopes}/{read}"), None).await.0, 404);

    // Management API scopes never go to user roles.
    let (status, error) = t.api(Method::POST, &scopes, Some(json!({"scopeIds": ["management-api-all"]}))).await;
    assert_eq!((status, error["code"].as_str()), (400, Some("role.management_api_scopes_not_assignable_to_user_role")));

    let (status, patched) = t
        .api(
            Method::PATCH,
            &format!("/api/roles/{id}"),
            Some(json!({"description": "Edits things", "isDefault": true})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!((patched["description"].as_str(), patched["isDefault"].as_bool()), (Some("Edits things"), Some(true)));
    assert_eq!(t.api(Method::DELETE, &format!("/api/roles/{id}"), None).await.0, 204);
    let (status, error) = t.api(Method::GET, &format!("/api/roles/{id}"), None).await;
    assert_eq!((status, error["code"].as_str()), (404, Some("entity.not_exists_with_id")));
    t.stop().await;
}

#[tokio::test]
async fn machine_to_machine_roles_and_applications() {
    let t = TestServer::start().await;
    let (m2m, _) = t.new_app("MachineToMachine").await;
    let (spa, _) = t.new_app("SPA").await;
    let (_, m2m_role) = t
        .api(
            Method::POST,
            "/api/roles",
            Some(json!({"name": "Robots", "description": "d", "type": "MachineToMachine"})),
        )
        .await;
    let (_, user_role) = t.api(Method::POST, "/api/roles", Some(json!({"name": "Humans", "description": "d"}))).await;
    let (m2m_role, user_role) =
        (m2m_role["id"].as_str().unwrap().to_owned(), user_role["id"].as_str().unwrap().to_owned());

    // From the application's side.
    let (status, body) =
        t.api(Method::POST, &format!("/api/applications/{m2m}/roles"), Some(json!({"roleIds": [m2m_role]}))).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["addedRoleIds"], json!([m2m_role]));
    // Again: Logto 1.42 answers 201, nothing new is added.
    let (status, body) =
        t.api(Method::POST, &format!("/api/applications/{m2m}/roles"), Some(json!({"roleIds": [m2m_role]}))).await;
    assert_eq!((status, &body["addedRoleIds"]), (201, &json!([])), "{body}");
    let (status, error) =
        t.api(Method::POST, &format!("/api/applications/{m2m}/roles"), Some(json!({"roleIds": [user_role]}))).await;
    assert_eq!((status, error["code"].as_str()), (422, Some("application.invalid_role_type")));
    let (status, error) =
        t.api(Method::POST, &format!("/api/applications/{spa}/roles"), Some(json!({"roleIds": [m2m_role]}))).await;
    assert_eq!((status, error["code"].as_str()), (422, Some("application.invalid_type")));
    let (status, error) =
        t.api(Method::POST, &format!("/api/applications/{m2m}/roles"), Some(json!({"roleIds": ["nope"]}))).await;
    assert_eq!((status, error["code"].as_str()), (404, Some("entity.not_exists_with_id")));
    let (status, roles) = t.api(Method::GET, &format!("/api/applications/{m2m}/roles"), None).await;
    assert_eq!(status, 200);
    assert_eq!(roles.as_array().unwrap().len(), 1);

    // From the role's side.
    let (other, _) = t.new_app("MachineToMachine").await;
    let apps = format!("/api/roles/{m2m_role}/applications");
    let response = crate::harness::send_raw(
        Method::POST,
        &t.url(&apps),
        Some(&t.management_token().await),
        Some(json!({"applicationIds": [other]})),
    )
    .await;
    assert_eq!(response.status(), 201);
    assert_eq!(response.content_length(), Some(0), "201 without a body");
    let (status, error) = t
        .api(Method::POST, &format!("/api/roles/{user_role}/applications"), Some(json!({"applicationIds": [other]})))
        .await;
    assert_eq!((status, error["code"].as_str()), (422, Some("application.invalid_role_type")));
    let (_, holders) = t.api(Method::GET, &apps, None).await;
    assert_eq!(holders.as_array().unwrap().len(), 2);

    let (_, listed) = t.api(Method::GET, "/api/roles?type=MachineToMachine&page=1&page_size=20", None).await;
    let robots = listed.as_array().unwrap().iter().find(|r| r["id"] == m2m_role.as_str()).unwrap();
    assert_eq!(robots["applicationsCount"], 2);
    assert_eq!(robots["featuredApplications"].as_array().unwrap().len(), 2);
    let (_, excluded) = t.api(Method::GET, &format!("/api/roles?excludeApplicationId={m2m}"), None).await;
    assert!(excluded.as_array().unwrap().iter().all(|r| r["id"] != m2m_role.as_str()));

    // Replace and remove.
    let (status, _) = t.api(Method::PUT, &format!("/api/applications/{m2m}/roles"), Some(json!({"roleIds": []}))).await;
    assert_eq!(status, 200);
    let (_, roles) = t.api(Method::GET, &format!("/api/applications/{m2m}/roles"), None).await;
    assert!(roles.as_array().unwrap().is_empty());
    assert_eq!(t.api(Method::DELETE, &format!("/api/roles/{m2m_role}/applications/{other}"), None).await.0, 204);
    assert_eq!(t.api(Method::DELETE, &format!("/api/roles/{m2m_role}/applications/{other}"), None).await.0, 404);
    assert_eq!(t.api(Method::DELETE, &format!("/api/applications/{m2m}/roles/{m2m_role}"), None).await.0, 404);
    t.stop().await;
}
