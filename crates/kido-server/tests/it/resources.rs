//! `/api/resources` and their scopes.

use reqwest::Method;
use serde_json::json;

use crate::harness::TestServer;

#[tokio::test]
async fn resources_and_scopes_lifecycle() {
    let t = TestServer::start().await;
    let (status, resource) = t
        .api(Method::POST, "/api/resources", Some(json!({"name": "Orders", "indicator": "https://orders.test/api"})))
        .await;
    assert_eq!(status, 201, "{resource}");
    assert_eq!(resource["accessTokenTtl"], 3600);
    assert_eq!(resource["isDefault"], false);
    assert_eq!(resource["scopes"], json!([]));
    let id = resource["id"].as_str().unwrap().to_owned();

    let (status, error) = t
        .api(Method::POST, "/api/resources", Some(json!({"name": "Again", "indicator": "https://orders.test/api"})))
        .await;
    assert_eq!((status, error["code"].as_str()), (422, Some("resource.resource_identifier_in_use")));
    for ttl in [0, 315_360_001, i64::MAX] {
        let body = json!({"name": "Long", "indicator": "https://long.test", "accessTokenTtl": ttl});
        let (status, error) = t.api(Method::POST, "/api/resources", Some(body)).await;
        assert_eq!((status, error["code"].as_str()), (400, Some("guard.invalid_input")), "{ttl}");
    }
    let (status, _) =
        t.api(Method::PATCH, &format!("/api/resources/{id}"), Some(json!({"accessTokenTtl": i64::MAX}))).await;
    assert_eq!(status, 400);
    for indicator in ["orders", "https://x.test/#frag", ""] {
        let (status, error) =
            t.api(Method::POST, "/api/resources", Some(json!({"name": "Bad", "indicator": indicator}))).await;
        assert_eq!((status, error["code"].as_str()), (400, Some("guard.invalid_input")), "{indicator}");
    }

    let scopes = format!("/api/resources/{id}/scopes");
    let (status, read) =
        t.api(Method::POST, &scopes, Some(json!({"name": "read:orders", "description": "Read"}))).await;
    assert_eq!(status, 201, "{read}");
    assert_eq!(read["resourceId"], id.as_str());
    let (status, error) = t.api(Method::POST, &scopes, Some(json!({"name": "read:orders"}))).await;
    assert_eq!((status, error["code"].as_str()), (422, Some("scope.name_exists")));
    let (status, error) = t.api(Method::POST, &scopes, Some(json!({"name": "read orders"}))).await;
    assert_eq!((status, error["code"].as_str()), (400, Some("scope.name_with_space")));
    let (status, write) = t.api(Method::POST, &scopes, Some(json!({"name": "write:orders"}))).await;
    assert_eq!(status, 201);

    let (status, renamed) = t
        .api(
            Method::PATCH,
            &format!("{scopes}/{}", write["id"].as_str().unwrap()),
            Some(json!({"name": "edit:orders"})),
        )
        .await;
    assert_eq!((status, renamed["name"].as_str()), (200, Some("edit:orders")));
    let (status, error) = t
        .api(
            Method::PATCH,
            &format!("{scopes}/{}", write["id"].as_str().unwrap()),
            Some(json!({"name": "read:orders"})),
        )
        .await;
    assert_eq!((status, error["code"].as_str()), (422, Some("scope.name_exists")));

    let (status, listed) = t.api(Method::GET, &format!("{scopes}?page=1&page_size=10"), None).await;
    assert_eq!(status, 200);
    assert_eq!(listed.as_array().unwrap().len(), 2);
    let (_, found) = t.api(Method::GET, &format!("{scopes}?search=edit"), None).await;
    assert_eq!(found.as_array().unwrap().len(), 1);

    let (status, patched) = t
        .api(
            Method::PATCH,
            &format!("/api/resources/{id}"),
            Some(json!({"name": "Orders v2", "indicator": "https://ignored.test"})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        (patched["name"].as_str(), patched["indicator"].as_str()),
        (Some("Orders v2"), Some("https://orders.test/api"))
    );

    assert_eq!(t.api(Method::DELETE, &format!("{scopes}/{}", write["id"].as_str().unwrap()), None).await.0, 204);
    assert_eq!(t.api(Method::DELETE, &format!("{scopes}/{}", write["id"].as_str().unwrap()), None).await.0, 404);
    assert_eq!(t.api(Method::DELETE, &format!("/api/resources/{id}"), None).await.0, 204);
    let (status, error) = t.api(Method::GET, &format!("/api/resources/{id}"), None).await;
    assert_eq!((status, error["code"].as_str()), (404, Some("entity.not_exists_with_id")));
    t.stop().await;
}

#[tokio::test]
async fn only_one_default_resource() {
    let t = TestServer::start().await;
    let mut ids = Vec::new();
    for n in 0..2 {
        let (_, r) = t
            .api(Method::POST, "/api/resources", Some(json!({"name": "R", "indicator": format!("https://r{n}.test")})))
            .await;
        ids.push(r["id"].as_str().unwrap().to_owned());
    }
    for id in &ids {
        let (status, r) =
            t.api(Method::PATCH, &format!("/api/resources/{id}/is-default"), Some(json!({"isDefault": true}))).await;
        assert_eq!((status, r["isDefault"].as_bool()), (200, Some(true)));
    }
    let (_, all) = t.api(Method::GET, "/api/resources", None).await;
    let defaults: Vec<_> = all.as_array().unwrap().iter().filter(|r| r["isDefault"] == true).collect();
    assert_eq!(defaults.len(), 1);
    assert_eq!(defaults[0]["id"], ids[1].as_str());
    t.stop().await;
}

#[tokio::test]
async fn the_management_api_resource_is_immutable() {
    let t = TestServer::start().await;
    let id = "management-api";
    let (status, error) = t.api(Method::PATCH, &format!("/api/resources/{id}"), Some(json!({"name": "Mine"}))).await;
    assert_eq!((status, error["code"].as_str()), (400, Some("resource.cannot_modify_management_api")));
    let (status, error) = t.api(Method::DELETE, &format!("/api/resources/{id}"), None).await;
    assert_eq!((status, error["code"].as_str()), (400, Some("resource.cannot_delete_management_api")));
    let (status, error) =
        t.api(Method::POST, &format!("/api/resources/{id}/scopes"), Some(json!({"name": "more"}))).await;
    assert_eq!((status, error["code"].as_str()), (400, Some("resource.cannot_modify_management_api")));
    for method in [Method::PATCH, Method::DELETE] {
        let (status, _) =
            t.api(method, &format!("/api/resources/{id}/scopes/management-api-all"), Some(json!({"name": "x"}))).await;
        assert_eq!(status, 400);
    }
    // Still working afterwards.
    assert_eq!(t.api(Method::GET, "/api/resources/management-api", None).await.0, 200);
    t.stop().await;
}
