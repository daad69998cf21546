//! The OpenAPI document: generated from the routes, with Logto's operation ids.

use std::collections::HashSet;

use serde_json::Value;

use crate::harness::{TestServer, http};

#[tokio::test]
async fn operation_ids_are_unique_logto_names_and_every_route_is_described() {
    let t = TestServer::start().await;
    let doc: Value = http().get(t.url("/api/swagger.json")).send().await.unwrap().json().await.unwrap();
    let well_known: Value =
        http().get(t.url("/api/.well-known/management.openapi.json")).send().await.unwrap().json().await.unwrap();
    assert_eq!(doc, well_known);
    assert_eq!(doc["servers"][0]["url"], t.url(""));
    assert_eq!(doc["components"]["securitySchemes"]["OAuth2"]["flows"]["clientCredentials"]["tokenUrl"], "/oidc/token");

    let mut ids = HashSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        assert!(!path.contains(':'), "{path}");
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"].as_str().unwrap_or_else(|| panic!("{method} {path} has no operationId"));
            assert!(id.chars().all(|c| c.is_ascii_alphanumeric()), "{id}");
            assert!(ids.insert(id.to_owned()), "duplicate operationId {id}");
        }
    }
    for expected in [
        "ListApplications",
        "CreateApplication",
        "GetApplication",
        "UpdateApplication",
        "DeleteApplication",
        "ListApplicationSecrets",
        "CreateApplicationSecret",
        "UpdateApplicationSecret",
        "DeleteApplicationSecret",
        "ListApplicationRoles",
        "AssignApplicationRoles",
        "ReplaceApplicationRoles",
        "DeleteApplicationRole",
        "ListResources",
        "CreateResource",
        "GetResource",
        "UpdateResource",
        "DeleteResource",
        "UpdateResourceIsDefault",
        "ListResourceScopes",
        "CreateResourceScope",
        "UpdateResourceScope",
        "DeleteResourceScope",
        "ListRoles",
        "CreateRole",
        "GetRole",
        "UpdateRole",
        "DeleteRole",
        "ListRoleScopes",
        "CreateRoleScope",
        "DeleteRoleScope",
        "ListRoleApplications",
        "CreateRoleApplication",
        "DeleteRoleApplication",
        "GetStatus",
        "GetSwaggerJson",
        "GetWellKnownManagementOpenapiJson",
    ] {
        assert!(ids.contains(expected), "missing operation {expected}");
    }
    t.stop().await;
}
