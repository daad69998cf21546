//! The per-client `_interaction` cookie (issue 17 item 4): a percent-encoded JSON map
//! `{<clientId>: <value>}`, so two apps signing in in one browser don't clobber each other;
//! a malformed cookie reads as empty.

use std::collections::BTreeMap;

use reqwest::Method;
use serde_json::json;

use crate::harness::TestServer;
use crate::signin::{Browser, auth_url, csrf_of, exchange, exchange_public, world};

/// The client ids in the browser's interaction cookie, in the cookie's order.
fn clients_in(b: &Browser) -> Vec<String> {
    let Some(raw) = b.jar.get("_interaction") else { return Vec::new() };
    let decoded = url::Url::parse(&format!("http://x/?v={raw}")).unwrap();
    let json = decoded.query_pairs().next().unwrap().1.into_owned();
    assert!(json.starts_with('{'), "{json}");
    let map: BTreeMap<String, String> = serde_json::from_str(&json).unwrap();
    let mut keys: Vec<(usize, String)> =
        map.into_keys().map(|k| (json.find(&format!("\"{k}\"")).unwrap(), k)).collect();
    keys.sort();
    keys.into_iter().map(|(_, k)| k).collect()
}

#[tokio::test]
async fn two_apps_sign_in_in_one_browser_side_by_side() {
    let t = TestServer::start().await;
    let w = world(&t).await;
    let mut b = Browser::new(&t.url(""));
    let to_app = b.get(&auth_url(&w.app, "")).await.location.unwrap();
    assert_eq!(clients_in(&b), [w.app.as_str()]);
    let to_spa = b.get(&auth_url(&w.spa, "")).await.location.unwrap();
    assert_eq!(clients_in(&b), [w.app.as_str(), w.spa.as_str()], "the second sign-in sits beside the first");
    assert!(to_app.contains(&w.app) && to_spa.contains(&w.spa));

    // The first app's sign-in on its hosted page (the page and the post carry `app_id`).
    let page = b.get(&to_app).await;
    assert_eq!(page.status, 200);
    let csrf = csrf_of(&page.text);
    let post = format!("/sign-in?app_id={}", w.app);
    let form = [("csrf", csrf.as_str()), ("identifier", "alice"), ("password", w.password.as_str())];
    let ok = b.send(Method::POST, &post, None, Some(&form)).await;
    assert_eq!(ok.status, 303, "{}", ok.text);
    assert_eq!(clients_in(&b), [w.app.as_str(), w.spa.as_str()], "only the app's entry rotated");
    let r = b.follow(ok.location.unwrap()).await;
    let code = r.param("code").unwrap_or_else(|| panic!("{:?}", r.location));
    assert_eq!(exchange(&t.url(""), &w, &code, &[]).await.0, 200);
    assert_eq!(clients_in(&b), [w.spa.as_str()], "the finished sign-in left the cookie");

    // The SPA's sign-in is still pending, not started: the Experience API acts on the
    // newest entry, which is now the SPA's.
    let state = b.api(Method::GET, "/interaction", None).await;
    assert_eq!((state.status, state.json()["code"].as_str()), (404, Some("session.interaction_not_found")));
    let next = b.sign_in("alice", &w.password).await;
    let r = b.follow(next).await;
    let code = r.param("code").unwrap_or_else(|| panic!("{:?}", r.location));
    let (status, tokens) = exchange_public(&t.url(""), &w.spa, &code).await;
    assert_eq!(status, 200, "{tokens}");
    assert!(!b.jar.contains_key("_interaction"), "no sign-in left: the cookie is cleared");
    t.stop().await;
}

#[tokio::test]
async fn a_malformed_interaction_cookie_reads_as_empty() {
    let t = TestServer::start().await;
    let w = world(&t).await;
    for garbage in ["plain-token", "%7B%22x%22%3A1%7D", "%5B%5D", "%7B%22a%22%3A%22b%22%7D%7B", "%FF"] {
        let mut b = Browser::new(&t.url(""));
        b.jar.insert("_interaction".into(), garbage.into());
        let r = b.api(Method::GET, "/interaction", None).await;
        assert_eq!((r.status, r.json()["code"].as_str()), (400, Some("session.not_found")), "{garbage}: {}", r.text);
        let r = b.api(Method::PUT, "", Some(json!({"interactionEvent": "SignIn"}))).await;
        assert_eq!(r.status, 400, "{garbage}");
        // A new sign-in replaces it with a well-formed map.
        assert_eq!(b.get(&auth_url(&w.app, "")).await.status, 303);
        assert_eq!(clients_in(&b), [w.app.as_str()], "{garbage}");
        let next = b.sign_in("alice", &w.password).await;
        assert!(b.follow(next).await.param("code").is_some(), "{garbage}");
    }
    // An oversized cookie is no map either.
    let mut b = Browser::new(&t.url(""));
    b.jar.insert("_interaction".into(), "a".repeat(3500));
    assert_eq!(b.api(Method::GET, "/interaction", None).await.status, 400);
    t.stop().await;
}
