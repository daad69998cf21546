//! The hosted pages' server side of issue 18 item 7: dark colours only when the tenant enables
//! them, the password rules on the register page, field errors tied to their fields, the way
//! back and the support contacts on error pages, and the landing page at `/` on each port.
//! (Chromium checks how they look: compat/node/page-accessibility.mjs.)

use reqwest::Method;
use reqwest::header::{ACCEPT, REFERER};
use serde_json::{Value, json};

use crate::harness::{TestServer, http};
use crate::signin::{Browser, auth_url, csrf_of, world};

async fn patch_experience(t: &TestServer, body: Value) {
    let (status, reply) = t.api(Method::PATCH, "/api/sign-in-exp", Some(body)).await;
    assert_eq!(status, 200, "{reply}");
}

/// The register page of a fresh browser, and that browser.
async fn register_page(t: &TestServer, app: &str) -> (Browser, String) {
    let mut b = Browser::new(&t.url(""));
    let r = b.get(&auth_url(app, "&first_screen=register")).await;
    let page = b.get(r.location.as_deref().unwrap()).await;
    assert_eq!(page.status, 200, "{}", page.text);
    (b, page.text)
}

/// The start tag of the element with `id` in `html`.
fn tag_with_id<'a>(html: &'a str, id: &str) -> &'a str {
    let at = html.find(&format!(r#"id="{id}""#)).unwrap_or_else(|| panic!("no #{id} in {html}"));
    let start = html[..at].rfind('<').unwrap();
    let end = at + html[at..].find('>').unwrap();
    &html[start..=end]
}

#[tokio::test]
async fn dark_colours_only_when_the_tenant_enables_them() {
    let t = TestServer::start().await;
    let w = world(&t).await;
    let (_, page) = register_page(&t, &w.app).await;
    assert!(!page.contains("prefers-color-scheme:dark"), "isDarkModeEnabled is false by default: {page}");
    assert!(page.contains(r#"<meta name="color-scheme" content="light">"#));

    patch_experience(
        &t,
        json!({"color": {"primaryColor": "#6139f6", "isDarkModeEnabled": true, "darkPrimaryColor": "#8c61ff"},
               "branding": {"logoUrl": "https://cdn.test/logo.png", "darkLogoUrl": "https://cdn.test/dark.png"}}),
    )
    .await;
    let (_, page) = register_page(&t, &w.app).await;
    assert!(page.contains("@media (prefers-color-scheme:dark)"), "{page}");
    assert!(page.contains(r#"<meta name="color-scheme" content="light dark">"#));
    assert!(page.contains(r#"<source srcset="https://cdn.test/dark.png" media="(prefers-color-scheme: dark)">"#));
    // #8c61ff is 4.3:1 on the dark card: links get a lighter shade, the button keeps the brand colour.
    let dark = page.split("@media (prefers-color-scheme:dark)").nth(1).unwrap();
    assert!(dark.contains("--primary:#8c61ff;") && !dark.contains("--link:#8c61ff;"), "{dark}");
    t.stop().await;
}

#[tokio::test]
async fn register_page_states_the_password_rules_and_ties_errors_to_fields() {
    let t = TestServer::start().await;
    let w = world(&t).await;
    patch_experience(
        &t,
        json!({"passwordPolicy": {"length": {"min": 12, "max": 64}, "characterTypes": {"min": 3},
               "rejects": {"pwned": true, "repetitionAndSequence": false, "userInfo": false, "words": []}},
               "termsOfUseUrl": "https://app.test/terms", "agreeToTermsPolicy": "Manual"}),
    )
    .await;
    let (mut b, page) = register_page(&t, &w.app).await;
    let rules = page.split(r#"<ul class="hint" id="password-rules">"#).nth(1).unwrap().split("</ul>").next().unwrap();
    assert!(rules.contains("12 to 64 characters"), "{rules}");
    assert!(rules.contains("At least 3 of: lowercase letters, uppercase letters, digits, symbols"), "{rules}");
    assert!(rules.contains("Not a commonly used password") && !rules.contains("aaa or 123"), "{rules}");
    assert!(tag_with_id(&page, "password").contains(r#"aria-describedby="password-rules""#), "{page}");
    assert!(!page.contains("autofocus"), "nothing to focus before an error");
    let csrf = csrf_of(&page);

    // Each failure stands under its own field, which is marked, described by it and focused.
    let cases: [(&[(&str, &str)], &str); 3] = [
        (&[("password", "Dave-plays-bass-31"), ("confirm_password", "other"), ("agree", "yes")], "confirm_password"),
        (&[("password", "davedavedave"), ("confirm_password", "davedavedave"), ("agree", "yes")], "password"),
        (&[("password", "Dave-plays-bass-31"), ("confirm_password", "Dave-plays-bass-31")], "agree"),
    ];
    for (fields, field) in cases {
        let mut form = vec![("csrf", csrf.as_str()), ("username", "dave")];
        form.extend_from_slice(fields);
        let r = b.send(Method::POST, "/register", None, Some(&form)).await;
        assert!(matches!(r.status, 400 | 422), "{field}: {} {}", r.status, r.text);
        let input = tag_with_id(&r.text, field);
        let described = if field == "password" { "password-error password-rules" } else { &format!("{field}-error") };
        assert!(input.contains(&format!(r#"aria-describedby="{described}""#)), "{field}: {input}");
        assert!(input.contains(r#"aria-invalid="true""#) && input.contains("autofocus"), "{input}");
        assert_eq!(r.text.matches("autofocus").count(), 1, "one field takes the focus");
        let message = tag_with_id(&r.text, &format!("{field}-error"));
        assert!(message.contains(r#"role="alert""#), "{message}");
        assert!(!r.text.contains(r#"class="alert""#), "the message is not repeated above the form");
    }

    // A wrong password is reported at the password field.
    let mut b = Browser::new(&t.url(""));
    let r = b.get(&auth_url(&w.app, "")).await;
    let page = b.get(r.location.as_deref().unwrap()).await;
    let form = [("csrf", csrf_of(&page.text)), ("identifier", "alice".into()), ("password", "wrong".into())];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = b.send(Method::POST, "/sign-in", None, Some(&form)).await;
    assert!(tag_with_id(&r.text, "password").contains(r#"aria-describedby="password-error""#), "{}", r.text);
    t.stop().await;
}

#[tokio::test]
async fn error_pages_offer_a_way_back_and_the_support_contacts() {
    let t = TestServer::start().await;
    let bad_request = "/oidc/auth?client_id=nobody&response_type=code&scope=openid";
    let page = http().get(t.url(bad_request)).header(REFERER, "https://app.test/start").send().await.unwrap();
    assert_eq!(page.status(), 400);
    let page = page.text().await.unwrap();
    assert!(page.contains(r#"<a href="https://app.test/start" rel="noopener">Go back</a>"#), "{page}");
    assert!(!page.contains("mailto:"), "no support email configured");
    let page = http().get(t.url(bad_request)).header(REFERER, "javascript:alert(1)").send().await.unwrap();
    assert!(!page.text().await.unwrap().contains("Go back"), "only http(s) pages are a way back");

    patch_experience(
        &t,
        json!({"supportEmail": "help@kido.test", "supportWebsiteUrl": "https://help.kido.test",
               "unknownSessionRedirectUrl": "https://app.test/home"}),
    )
    .await;
    let page = http().get(t.url(bad_request)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(r#"<a href="https://app.test/home" rel="noopener">Go back</a>"#), "{page}");
    assert!(page.contains(r#"<a href="mailto:help@kido.test">help@kido.test</a>"#), "{page}");
    assert!(page.contains(r#"<a href="https://help.kido.test" target="_blank" rel="noopener">Help center</a>"#));
    // A lost sign-in and the signed-out page offer the same.
    let mut b = Browser::new(&t.url(""));
    for path in ["/sign-in", "/oidc/session/end/success"] {
        let r = b.get(path).await;
        assert!(
            r.text.contains(r#"href="https://app.test/home""#) && r.text.contains("mailto:help@kido.test"),
            "{path}"
        );
    }
    t.stop().await;
}

#[tokio::test]
async fn the_root_answers_a_landing_page_unless_json_is_asked_for() {
    let t = TestServer::start().await;
    for (url, tenant) in [(t.url("/"), "default"), (t.admin_url("/"), "admin")] {
        let browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
        let page = http().get(&url).header(ACCEPT, browser).send().await.unwrap();
        assert_eq!(page.status(), 200);
        assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        let page = page.text().await.unwrap();
        assert!(page.contains(&format!("<strong>{tenant}</strong>")), "{page}");
        for link in ["/oidc/.well-known/openid-configuration", "/api/swagger.json", "/demo-app"] {
            assert!(page.contains(&format!(r#"href="{link}""#)), "{link}: {page}");
        }
        assert_eq!(http().get(&url).send().await.unwrap().status(), 200, "no Accept: the page");

        let json = http().get(&url).header(ACCEPT, "application/json").send().await.unwrap();
        assert_eq!(json.status(), 404);
        let body: Value = json.json().await.unwrap();
        assert_eq!(body["code"], "guard.route_not_found");
    }
    t.stop().await;
}
