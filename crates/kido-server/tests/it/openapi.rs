//! The OpenAPI document: generated from the routes, with Logto's operation ids.

use std::collections::HashSet;

use serde_json::{Value, json};

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
        "ListOneTimeTokens",
        "AddOneTimeTokens",
        "GetOneTimeToken",
        "DeleteOneTimeToken",
        "VerifyOneTimeToken",
        "ReplaceOneTimeTokenStatus",
    ] {
        assert!(ids.contains(expected), "missing operation {expected}");
    }
    t.stop().await;
}

/// Every 3.1-only construct, anywhere in the document (`openapi_v30.rs` rewrites them).
fn three_one_constructs(value: &Value, path: &str, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                let here = format!("{path}/{key}");
                let bad = match key.as_str() {
                    "type" => !v.is_string() || v == "null",
                    "const" | "$schema" | "$id" | "$defs" | "prefixItems" | "unevaluatedProperties" => true,
                    "exclusiveMinimum" | "exclusiveMaximum" => !v.is_boolean(),
                    "$ref" => map.len() > 1,
                    _ => false,
                };
                if bad && !path.ends_with("/properties") {
                    found.push(here.clone());
                }
                three_one_constructs(v, &here, found);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                three_one_constructs(v, &format!("{path}/{i}"), found);
            }
        }
        _ => {}
    }
}

#[tokio::test]
async fn the_document_is_openapi_3_0_with_open_custom_data() {
    let t = TestServer::start().await;
    let doc: Value = http().get(t.url("/api/swagger.json")).send().await.unwrap().json().await.unwrap();
    assert_eq!(doc["openapi"], "3.0.3");
    assert!(doc["info"]["license"].get("identifier").is_none());
    let mut found = Vec::new();
    three_one_constructs(&doc, "", &mut found);
    assert!(found.is_empty(), "3.1 constructs left: {found:?}");
    let text = doc.to_string();
    assert!(!text.contains(r#""type":"null""#));
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let mut custom_data = 0;
    for (name, schema) in schemas {
        if let Some(c) = schema["properties"].get("customData") {
            custom_data += 1;
            assert_eq!((&c["type"], &c["additionalProperties"]), (&json!("object"), &json!(true)), "{name}");
        }
    }
    assert!(custom_data >= 6, "{custom_data} schemas with customData");
    // A nullable reference became `allOf` + `nullable`.
    let patch =
        &doc["paths"]["/api/applications/{id}"]["patch"]["requestBody"]["content"]["application/json"]["schema"];
    assert_eq!(patch["nullable"], true, "{patch}");
    assert_eq!(patch["allOf"][0]["$ref"], "#/components/schemas/UpdateApplication");
    t.stop().await;
}
