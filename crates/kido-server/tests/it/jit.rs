//! Just-in-time provisioning: the organization settings and SSO connectors through the
//! Management API, and who joins which organization (seed 002's tables).

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{TestServer, send_raw};
use crate::mail::SmtpServer;
use crate::passwordless::{
    browser_at_sign_in, email, email_tenant, send_code, start, tokens_after_submit, verify_code,
};
use crate::signin::World;

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap_or_else(|| panic!("no id in {v}")).to_owned()
}

async fn created(t: &TestServer, path: &str, body: Value) -> String {
    let (status, v) = t.api(Method::POST, path, Some(body)).await;
    assert!(status == 201 || status == 200, "POST {path}: {status} {v}");
    id(&v)
}

fn code(v: &(u16, Value)) -> (u16, Option<&str>) {
    (v.0, v.1["code"].as_str())
}

fn oidc_config() -> Value {
    json!({"clientId": "kido", "clientSecret": "s3cret", "issuer": "https://idp.acme.test"})
}

#[tokio::test]
async fn jit_settings_and_sso_connectors_through_the_management_api() {
    let t = TestServer::start().await;
    let org = created(&t, "/api/organizations", json!({"name": "Acme"})).await;
    let domains = format!("/api/organizations/{org}/jit/email-domains");

    let (status, item) = t.api(Method::POST, &domains, Some(json!({"emailDomain": " Acme.TEST "}))).await;
    assert_eq!(status, 201, "{item}");
    assert_eq!(
        (item["emailDomain"].as_str(), item["organizationId"].as_str()),
        (Some("acme.test"), Some(org.as_str()))
    );
    assert!(item.get("warning").is_none());
    let reply = t.api(Method::POST, &domains, Some(json!({"emailDomain": "acme.test"}))).await;
    assert_eq!(code(&reply), (422, Some("entity.unique_integrity_violation")));
    for bad in ["@acme.test", "https://acme.test", "bob@acme.test", "acme", ""] {
        let reply = t.api(Method::POST, &domains, Some(json!({"emailDomain": bad}))).await;
        assert_eq!(code(&reply), (400, Some("guard.invalid_input")), "{bad}");
    }
    let reply =
        t.api(Method::POST, "/api/organizations/nope/jit/email-domains", Some(json!({"emailDomain": "x.test"}))).await;
    assert_eq!(code(&reply).0, 404);
    assert_eq!(
        t.api(Method::PUT, &domains, Some(json!({"emailDomains": ["a.test", "B.test", "c.test"]}))).await.0,
        204
    );
    let token = t.management_token().await;
    let page = send_raw(Method::GET, &t.url(&format!("{domains}?page=1&page_size=2")), Some(&token), None).await;
    assert_eq!(page.headers()["total-number"], "3");
    let page: Value = page.json().await.unwrap();
    assert_eq!(
        page.as_array().unwrap().iter().map(|d| d["emailDomain"].as_str().unwrap()).collect::<Vec<_>>(),
        ["a.test", "b.test"]
    );
    let reply = t.api(Method::PUT, &domains, Some(json!({"emailDomains": ["a.test", "A.test"]}))).await;
    assert_eq!(code(&reply), (422, Some("entity.unique_integrity_violation")));
    assert_eq!(t.api(Method::DELETE, &format!("{domains}/B.test"), None).await.0, 204);
    assert_eq!(code(&t.api(Method::DELETE, &format!("{domains}/b.test"), None).await), (404, Some("entity.not_found")));

    // Default roles: User roles only.
    let member = created(&t, "/api/organization-roles", json!({"name": "member"})).await;
    let robot = created(&t, "/api/organization-roles", json!({"name": "robot", "type": "MachineToMachine"})).await;
    let roles = format!("/api/organizations/{org}/jit/roles");
    let reply = t.api(Method::POST, &roles, Some(json!({"organizationRoleIds": [robot]}))).await;
    assert_eq!(code(&reply), (422, Some("entity.db_constraint_violated")));
    let reply = t.api(Method::POST, &roles, Some(json!({"organizationRoleIds": ["nope"]}))).await;
    assert_eq!(code(&reply), (422, Some("entity.relation_foreign_key_not_found")));
    assert_eq!(t.api(Method::POST, &roles, Some(json!({"organizationRoleIds": [member]}))).await.0, 201);
    assert_eq!(t.api(Method::POST, &roles, Some(json!({"organizationRoleIds": [member]}))).await.0, 201, "idempotent");
    let all = send_raw(Method::GET, &t.url(&roles), Some(&token), None).await;
    assert!(all.headers().get("total-number").is_none(), "optional pagination");
    assert_eq!(all.json::<Value>().await.unwrap()[0]["name"], "member");
    assert_eq!(t.api(Method::PUT, &roles, Some(json!({"organizationRoleIds": []}))).await.0, 204);
    assert_eq!(t.api(Method::GET, &roles, None).await.1, json!([]));
    assert_eq!(code(&t.api(Method::DELETE, &format!("{roles}/{member}"), None).await), (404, Some("entity.not_found")));
    assert_eq!(code(&t.api(Method::GET, "/api/organizations/nope/jit/roles", None).await).0, 404);

    // SSO connectors.
    let (status, providers) = t.api(Method::GET, "/api/sso-connector-providers", None).await;
    assert_eq!(status, 200);
    assert!(providers.as_array().unwrap().iter().any(|p| p["providerName"] == "OIDC" && p["providerType"] == "oidc"));
    let sso = "/api/sso-connectors";
    let connector = |name: &str, extra: Value| {
        let mut body = json!({"providerName": "OIDC", "connectorName": name});
        if let (Some(b), Value::Object(extra)) = (body.as_object_mut(), extra) {
            b.extend(extra);
        }
        body
    };
    let reply = t.api(Method::POST, sso, Some(json!({"providerName": "Nope", "connectorName": "x"}))).await;
    assert_eq!(code(&reply), (422, Some("connector.not_found")));
    let reply = t.api(Method::POST, sso, Some(connector("x", json!({"domains": ["gmail.com"]})))).await;
    assert_eq!(code(&reply), (422, Some("single_sign_on.forbidden_domains")));
    let reply = t.api(Method::POST, sso, Some(connector("x", json!({"domains": ["a.test", "A.TEST"]})))).await;
    assert_eq!(code(&reply), (422, Some("single_sign_on.duplicated_domains")));
    let reply = t.api(Method::POST, sso, Some(connector("x", json!({"config": {"clientId": "only"}})))).await;
    assert_eq!(code(&reply), (400, Some("connector.invalid_config")));
    let reply = t
        .api(
            Method::POST,
            sso,
            Some(json!({"providerName": "SAML", "connectorName": "x", "config": {"entityId": "e"}})),
        )
        .await;
    assert_eq!(code(&reply), (400, Some("connector.invalid_config")));

    // A connector claiming the organization's provisioning domain: both sides warn.
    let (status, body) = t
        .api(Method::POST, sso, Some(connector("Acme IdP", json!({"config": oidc_config(), "domains": ["A.test"]}))))
        .await;
    assert_eq!(status, 200, "{body}");
    let acme_idp = id(&body);
    assert_eq!((body["domains"].clone(), body["providerType"].as_str()), (json!(["a.test"]), Some("oidc")));
    assert_eq!(body["warnings"][0]["code"], "organization.jit_email_domain_sso_conflict");
    assert_eq!(body["warnings"][0]["organizationIds"], json!([org]));
    let (_, listed) = t.api(Method::GET, &domains, None).await;
    let a = listed.as_array().unwrap().iter().find(|d| d["emailDomain"] == "a.test").unwrap();
    assert_eq!(a["warning"]["ssoConnectorIds"], json!([acme_idp]));
    assert!(listed.as_array().unwrap().iter().find(|d| d["emailDomain"] == "c.test").unwrap().get("warning").is_none());
    let reply = t.api(Method::POST, sso, Some(connector("Acme IdP", json!({})))).await;
    assert_eq!(code(&reply), (409, Some("single_sign_on.duplicate_connector_name")));
    let (status, patched) =
        t.api(Method::PATCH, &format!("{sso}/{acme_idp}"), Some(json!({"domains": ["idp.acme.test"]}))).await;
    assert_eq!(status, 200, "{patched}");
    assert!(patched.get("warnings").is_none(), "no overlap any more");
    let (status, got) = t.api(Method::GET, &format!("{sso}/{acme_idp}"), None).await;
    assert_eq!((status, got["config"]["issuer"].as_str()), (200, Some("https://idp.acme.test")));

    let jit_sso = format!("/api/organizations/{org}/jit/sso-connectors");
    let reply = t.api(Method::POST, &jit_sso, Some(json!({"ssoConnectorIds": ["nope"]}))).await;
    assert_eq!(code(&reply), (422, Some("entity.relation_foreign_key_not_found")));
    assert_eq!(t.api(Method::POST, &jit_sso, Some(json!({"ssoConnectorIds": [acme_idp]}))).await.0, 201);
    let (_, listed) = t.api(Method::GET, &jit_sso, None).await;
    assert_eq!(listed.as_array().unwrap().iter().map(id).collect::<Vec<_>>(), [acme_idp.as_str()]);
    // Deleting the connector takes it out of the organization's list.
    assert_eq!(t.api(Method::DELETE, &format!("{sso}/{acme_idp}"), None).await.0, 204);
    assert_eq!(code(&t.api(Method::GET, &format!("{sso}/{acme_idp}"), None).await), (404, Some("entity.not_found")));
    assert_eq!(t.api(Method::GET, &jit_sso, None).await.1, json!([]));
    let (_, logs) = t.api(Method::GET, "/api/logs?logKey=Organization.Jit.Updated", None).await;
    assert!(logs.as_array().unwrap().len() >= 5, "{logs}");
    t.stop().await;
}

/// Registers `address` by email code through the Experience API (with a password, as the
/// tenant's sign-up asks); returns the new user's id.
async fn register_by_code(t: &TestServer, smtp: &mut SmtpServer, w: &World, address: &str) -> String {
    let mut b = browser_at_sign_in(t, w, "").await;
    start(&mut b, "Register").await;
    let (status, sent) = send_code(&mut b, email(address), "Register").await;
    assert_eq!(status, 200, "{sent}");
    let verification = sent["verificationId"].as_str().unwrap().to_owned();
    let code = smtp.next().await.code();
    assert_eq!(verify_code(&mut b, email(address), &verification, &code).await.0, 200);
    let r = b.api(Method::POST, "/identification", Some(json!({"verificationId": verification}))).await;
    assert_eq!(r.status, 422, "{}", r.text);
    let r = b.api(Method::POST, "/profile", Some(json!({"type": "password", "value": "Kido-provisioned-5521"}))).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(b.api(Method::POST, "/identification", Some(json!({}))).await.status, 201);
    let tokens = tokens_after_submit(t, &mut b, w).await;
    let (_, claims) = crate::harness::decode_jwt(tokens["id_token"].as_str().unwrap());
    claims["sub"].as_str().unwrap().to_owned()
}

/// `{organization id: [role names]}` of a user.
async fn memberships(t: &TestServer, user: &str) -> Value {
    let (status, orgs) = t.api(Method::GET, &format!("/api/users/{user}/organizations"), None).await;
    assert_eq!(status, 200, "{orgs}");
    let mut out = serde_json::Map::new();
    for o in orgs.as_array().unwrap() {
        let roles: Vec<Value> = o["organizationRoles"].as_array().unwrap().iter().map(|r| r["name"].clone()).collect();
        out.insert(id(o), Value::Array(roles));
    }
    Value::Object(out)
}

#[tokio::test]
async fn email_domain_provisioning_follows_the_seed() {
    let (t, mut smtp, w) = email_tenant().await;
    let acme = created(&t, "/api/organizations", json!({"name": "Acme"})).await;
    let acme_eu = created(&t, "/api/organizations", json!({"name": "Acme EU"})).await;
    let other = created(&t, "/api/organizations", json!({"name": "Other"})).await;
    let member = created(&t, "/api/organization-roles", json!({"name": "member"})).await;
    let editor = created(&t, "/api/organization-roles", json!({"name": "editor"})).await;
    for (org, domain) in [(&acme, "acme.test"), (&acme_eu, "acme.test"), (&other, "other.test")] {
        let path = format!("/api/organizations/{org}/jit/email-domains");
        assert_eq!(t.api(Method::POST, &path, Some(json!({"emailDomain": domain}))).await.0, 201);
    }
    let reply = t
        .api(
            Method::PUT,
            &format!("/api/organizations/{acme}/jit/roles"),
            Some(json!({"organizationRoleIds": [member, editor]})),
        )
        .await;
    assert_eq!(reply.0, 204);

    // Email sign-up, new user, verified email of the domain: joins both Acme organizations
    // (with Acme's default roles; Acme EU has none), not the other one.
    let ann = register_by_code(&t, &mut smtp, &w, "Ann@ACME.test").await;
    assert_eq!(memberships(&t, &ann).await, json!({acme.clone(): ["editor", "member"], acme_eu.clone(): []}));
    let (_, logs) = t.api(Method::GET, "/api/logs?logKey=Organization.Membership.Updated", None).await;
    let provisioned: Vec<&Value> =
        logs.as_array().unwrap().iter().filter(|l| l["payload"]["jit"] == "emailDomain").collect();
    assert_eq!(provisioned.len(), 2, "{logs}");
    assert_eq!(provisioned[0]["payload"]["addedUserIds"], json!([ann]));

    // An existing user with a verified email of the domain signs in: no provisioning. (Made
    // through the Management API, which never provisions.)
    let (status, bob) = t
        .api(
            Method::POST,
            "/api/users",
            Some(json!({"primaryEmail": "bob@acme.test", "password": "Kido-bob-battery-77"})),
        )
        .await;
    assert_eq!(status, 200, "{bob}");
    let bob = id(&bob);
    assert_eq!(memberships(&t, &bob).await, json!({}), "Management API users are not provisioned");
    let mut b = browser_at_sign_in(&t, &w, "").await;
    start(&mut b, "SignIn").await;
    let (_, sent) = send_code(&mut b, email("bob@acme.test"), "SignIn").await;
    let verification = sent["verificationId"].as_str().unwrap().to_owned();
    let code = smtp.next().await.code();
    assert_eq!(verify_code(&mut b, email("bob@acme.test"), &verification, &code).await.0, 200);
    assert_eq!(b.api(Method::POST, "/identification", Some(json!({"verificationId": verification}))).await.status, 204);
    tokens_after_submit(&t, &mut b, &w).await;
    assert_eq!(memberships(&t, &bob).await, json!({}), "existing users signing in are not provisioned");

    // Social sign-up (driven through self-registration until social sign-in exists): a
    // provider-verified email of the domain provisions; an unverified or missing one never
    // reaches the profile, so nothing happens.
    let social_sign_up = |username: &str, verified_email: Option<&str>| kido_core::users::Registration {
        username: Some(username.into()),
        primary_email: verified_email.map(str::to_owned),
        primary_phone: None,
        password_hash: None,
    };
    let users = t.server.core.users();
    let default = kido_core::TenantId::new("default");
    let sam = users.register(&default, social_sign_up("social_verified", Some("sam@acme.test"))).await.unwrap();
    assert_eq!(memberships(&t, &sam.id).await, json!({acme.clone(): ["editor", "member"], acme_eu.clone(): []}));
    let plain = users.register(&default, social_sign_up("social_no_email", None)).await.unwrap();
    assert_eq!(memberships(&t, &plain.id).await, json!({}));

    // Removing a domain stops provisioning there; a deleted default role is no longer given.
    let reply = t.api(Method::DELETE, &format!("/api/organizations/{acme_eu}/jit/email-domains/acme.test"), None).await;
    assert_eq!(reply.0, 204);
    assert_eq!(t.api(Method::DELETE, &format!("/api/organization-roles/{editor}"), None).await.0, 204);
    let cid = register_by_code(&t, &mut smtp, &w, "cid@acme.test").await;
    assert_eq!(memberships(&t, &cid).await, json!({acme.clone(): ["member"]}));
    let dee = register_by_code(&t, &mut smtp, &w, "dee@elsewhere.test").await;
    assert_eq!(memberships(&t, &dee).await, json!({}));
    t.stop().await;
}

#[tokio::test]
async fn sso_connector_provisioning_for_new_and_existing_users() {
    let t = TestServer::start().await;
    let tenant = kido_core::TenantId::new("default");
    let org = created(&t, "/api/organizations", json!({"name": "Acme"})).await;
    let second = created(&t, "/api/organizations", json!({"name": "Acme Labs"})).await;
    let member = created(&t, "/api/organization-roles", json!({"name": "member"})).await;
    let idp = created(
        &t,
        "/api/sso-connectors",
        json!({"providerName": "Okta", "connectorName": "Acme Okta", "config": oidc_config(), "domains": ["acme.test"]}),
    )
    .await;
    let unused = created(
        &t,
        "/api/sso-connectors",
        json!({"providerName": "SAML", "connectorName": "Spare",
        "config": {"metadataUrl": "https://idp.spare.test/metadata"}}),
    )
    .await;
    for o in [&org, &second] {
        let path = format!("/api/organizations/{o}/jit/sso-connectors");
        assert_eq!(t.api(Method::POST, &path, Some(json!({"ssoConnectorIds": [idp]}))).await.0, 201);
    }
    let path = format!("/api/organizations/{org}/jit/roles");
    assert_eq!(t.api(Method::POST, &path, Some(json!({"organizationRoleIds": [member]}))).await.0, 201);
    let (_, existing) = t.api(Method::POST, "/api/users", Some(json!({"primaryEmail": "eve@acme.test"}))).await;
    let existing = id(&existing);
    let (_, newcomer) = t.api(Method::POST, "/api/users", Some(json!({"username": "newcomer"}))).await;
    let newcomer = id(&newcomer);
    let organizations = t.server.core.organizations();

    // A user signing in through the connector for the first time joins every organization
    // listing it, with its default roles; again, nothing changes.
    let mut joined = organizations.provision_by_sso_connector(&tenant, &existing, &idp).await.unwrap();
    joined.sort();
    let mut expected = vec![org.clone(), second.clone()];
    expected.sort();
    assert_eq!(joined, expected);
    assert_eq!(memberships(&t, &existing).await, json!({org.clone(): ["member"], second.clone(): []}));
    assert!(organizations.provision_by_sso_connector(&tenant, &existing, &idp).await.unwrap().is_empty());
    assert_eq!(organizations.provision_by_sso_connector(&tenant, &newcomer, &idp).await.unwrap().len(), 2);
    // A connector no organization lists provisions nothing; unknown users are refused.
    let (_, loner) = t.api(Method::POST, "/api/users", Some(json!({"username": "loner"}))).await;
    assert!(organizations.provision_by_sso_connector(&tenant, &id(&loner), &unused).await.unwrap().is_empty());
    assert!(organizations.provision_by_sso_connector(&tenant, "nobody", &idp).await.is_err());
    // A user of another tenant is not found in this one.
    let admin = kido_core::TenantId::new("admin");
    assert!(organizations.provision_by_sso_connector(&admin, &existing, &idp).await.is_err());
    let (_, logs) = t.api(Method::GET, "/api/logs?logKey=Organization.Membership.Updated", None).await;
    assert_eq!(logs.as_array().unwrap().iter().filter(|l| l["payload"]["jit"] == "ssoConnector").count(), 4);
    t.stop().await;
}

/// As Logto: SAML request signing is not supported, so its settings are dropped from the
/// config on create and on update; other keys are kept.
#[tokio::test]
async fn saml_connectors_drop_request_signing_settings() {
    let t = TestServer::start().await;
    let signing = json!({"metadataUrl": "https://idp.acme.test/metadata", "signAuthnRequest": true,
        "requestSignatureAlgorithm": "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", "entityId": "kept"});
    let (status, body) = t
        .api(
            Method::POST,
            "/api/sso-connectors",
            Some(json!({"providerName": "SAML", "connectorName": "Acme SAML", "config": signing})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let expected = json!({"metadataUrl": "https://idp.acme.test/metadata", "entityId": "kept"});
    assert_eq!(body["config"], expected);
    let path = format!("/api/sso-connectors/{}", id(&body));
    let (status, body) = t.api(Method::PATCH, &path, Some(json!({"config": signing}))).await;
    assert_eq!((status, &body["config"]), (200, &expected), "{body}");
    let (_, body) = t.api(Method::GET, &path, None).await;
    assert_eq!(body["config"], expected);
    t.stop().await;
}
