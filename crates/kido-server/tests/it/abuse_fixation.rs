//! Issue 15 item 13: an `_interaction` cookie planted in a victim's browser never lets its
//! planter finish the victim's sign-in.

use reqwest::Method;
use reqwest::header::{COOKIE, SET_COOKIE};
use serde_json::json;

use crate::harness::TestServer;
use crate::signin::{Browser, auth_url, world};

/// The attacker's tries with the cookie it planted: finish the sign-in, then collect the
/// code. Returns a code if it ever got one.
async fn attacker_tries(attacker: &mut Browser) -> Option<String> {
    let r = attacker.api(Method::POST, "/submit", None).await;
    let next = r.json()["redirectTo"].as_str()?.to_owned();
    let r = attacker.follow(next).await;
    r.param("code")
}

#[tokio::test]
async fn a_planted_interaction_cookie_stops_working_when_the_victim_acts() {
    let t = TestServer::start().await;
    let w = world(&t).await;
    for round in 0..5 {
        // The attacker starts a sign-in of its own and plants its cookie in the victim's browser.
        let mut attacker = Browser::new(&t.url(""));
        let r = attacker.get(&auth_url(&w.app, "")).await;
        assert_eq!(r.status, 303);
        let planted = attacker.jar["_interaction"].clone();
        let mut victim = Browser::new(&t.url(""));
        victim.jar.insert("_interaction".into(), planted.clone());

        // The victim signs in with the planted cookie while the attacker races to finish.
        let racing = {
            let mut attacker = Browser::new(&t.url(""));
            attacker.jar.insert("_interaction".into(), planted.clone());
            tokio::spawn(async move {
                let mut stolen = None;
                for _ in 0..(round * 3) {
                    if let Some(code) = attacker_tries(&mut attacker).await {
                        stolen = Some(code);
                    }
                    tokio::task::yield_now().await;
                }
                stolen
            })
        };
        let victim_done = async {
            let r = victim.api(Method::PUT, "", Some(json!({"interactionEvent": "SignIn"}))).await;
            if r.status != 204 {
                return None; // the attacker's own step moved the interaction first: the victim starts over
            }
            assert_ne!(victim.jar["_interaction"], planted, "the step gave the victim a fresh cookie");
            let r = victim
                .api(
                    Method::POST,
                    "/verification/password",
                    Some(json!({"identifier": {"type": "username", "value": w.username}, "password": w.password})),
                )
                .await;
            let id = r.json()["verificationId"].as_str()?.to_owned();
            victim.api(Method::POST, "/identification", Some(json!({"verificationId": id}))).await;
            let r = victim.api(Method::POST, "/submit", None).await;
            Some(r.json()["redirectTo"].as_str()?.to_owned())
        }
        .await;
        let stolen_in_race = racing.await.unwrap();
        assert_eq!(stolen_in_race, None, "round {round}: the attacker finished the victim's sign-in");

        // After the victim acted, the planted value leads nowhere.
        let mut late = Browser::new(&t.url(""));
        late.jar.insert("_interaction".into(), planted.clone());
        assert_eq!(attacker_tries(&mut late).await, None, "round {round}");
        let r = late.get("/api/experience/interaction").await;
        assert_eq!((r.status, r.json()["code"].as_str()), (400, Some("session.not_found")), "{}", r.text);

        // The victim, who holds the only live cookie, gets the code.
        if let Some(next) = victim_done {
            let r = victim.follow(next).await;
            assert!(r.param("code").is_some(), "round {round}: {:?}", r.location);
        }
    }
    t.stop().await;
}

#[tokio::test]
async fn two_interaction_cookies_are_refused() {
    let t = TestServer::start().await;
    let w = world(&t).await;
    let mut victim = Browser::new(&t.url(""));
    victim.get(&auth_url(&w.app, "")).await;
    let own = victim.jar["_interaction"].clone();
    let mut attacker = Browser::new(&t.url(""));
    attacker.get(&auth_url(&w.app, "")).await;
    let planted = attacker.jar["_interaction"].clone();

    // A cookie planted on a narrower path is sent first, beside the browser's own.
    for path in ["/api/experience", "/api/experience/interaction"] {
        let method = if path.ends_with("interaction") { Method::GET } else { Method::PUT };
        let r = reqwest::Client::new()
            .request(method, t.url(path))
            .header(COOKIE, format!("_interaction={planted}; _interaction={own}"))
            .json(&json!({"interactionEvent": "SignIn"}))
            .send()
            .await
            .unwrap();
        assert!(r.headers().get(SET_COOKIE).is_none(), "nothing rotated");
        let status = r.status().as_u16();
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!((status, body["code"].as_str()), (400, Some("session.not_found")), "{path}: {body}");
    }
    // Neither interaction was touched: the victim's own cookie still works alone.
    let r = victim.api(Method::PUT, "", Some(json!({"interactionEvent": "SignIn"}))).await;
    assert_eq!(r.status, 204, "{}", r.text);
    t.stop().await;
}

#[tokio::test]
async fn hosted_forms_keep_working_across_rotations() {
    let t = TestServer::start().await;
    let w = world(&t).await;
    let mut b = Browser::new(&t.url(""));
    b.get(&auth_url(&w.app, "")).await;
    let first = b.jar["_interaction"].clone();
    let page = b.get("/sign-in").await;
    let csrf = page.text.split(r#"name="csrf" value=""#).nth(1).unwrap().split('"').next().unwrap().to_owned();
    let wrong = [("csrf", csrf.as_str()), ("identifier", w.username.as_str()), ("password", "not-it")];
    let r = b.send(Method::POST, "/sign-in", None, Some(&wrong)).await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_ne!(b.jar["_interaction"], first, "the post rotated the cookie");
    // The page rendered before the rotation still posts (its token names the interaction).
    let right = [("csrf", csrf.as_str()), ("identifier", w.username.as_str()), ("password", w.password.as_str())];
    let r = b.send(Method::POST, "/sign-in", None, Some(&right)).await;
    assert_eq!(r.status, 303, "{}", r.text);
    let r = b.follow(r.location.unwrap()).await;
    assert!(r.param("code").is_some(), "{:?}", r.location);
    // A forged token is still refused.
    let mut c = Browser::new(&t.url(""));
    c.get(&auth_url(&w.app, "")).await;
    let forged = [("csrf", "0000"), ("identifier", w.username.as_str()), ("password", w.password.as_str())];
    let r = c.send(Method::POST, "/sign-in", None, Some(&forged)).await;
    assert_eq!(r.status, 403, "{}", r.text);
    t.stop().await;
}
