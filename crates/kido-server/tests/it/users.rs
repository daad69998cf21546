//! `/api/users`: identifiers, passwords, imports, data, roles and search.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{TestServer, send_raw};

async fn create(t: &TestServer, body: Value) -> Value {
    let (status, user) = t.api(Method::POST, "/api/users", Some(body.clone())).await;
    assert_eq!(status, 200, "{body} → {user}");
    user
}

#[tokio::test]
async fn create_get_update_delete() {
    let t = TestServer::start().await;
    let user = create(&t, json!({"username": "alice", "primaryEmail": "Alice@Example.test", "password": "correct horse 9", "name": "Alice A", "customData": {"tier": 1}})).await;
    let id = user["id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 12);
    assert_eq!(user["hasPassword"], true);
    for secret in ["password", "passwordEncrypted", "passwordDigest", "passwordEncryptionMethod"] {
        assert!(user.get(secret).is_none(), "{secret} leaked: {user}");
    }
    assert_eq!(user["isSuspended"], false);
    assert_eq!(user["identities"], json!({}));
    let (status, got) = t.api(Method::GET, &format!("/api/users/{id}"), None).await;
    assert_eq!((status, &got), (200, &user));

    let (status, patched) = t
        .api(
            Method::PATCH,
            &format!("/api/users/{id}"),
            Some(json!({"name": null, "avatar": "https://img.test/a.png", "profile": {"givenName": "Al"}})),
        )
        .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["name"], Value::Null);
    assert_eq!(patched["profile"], json!({"givenName": "Al"}));
    assert_eq!(patched["username"], "alice");

    // custom-data and profile merge top-level keys.
    let (status, data) = t
        .api(Method::PATCH, &format!("/api/users/{id}/custom-data"), Some(json!({"customData": {"plan": "pro"}})))
        .await;
    assert_eq!((status, &data), (200, &json!({"tier": 1, "plan": "pro"})));
    let (_, data) = t.api(Method::GET, &format!("/api/users/{id}/custom-data"), None).await;
    assert_eq!(data, json!({"tier": 1, "plan": "pro"}));
    let (status, profile) = t
        .api(
            Method::PATCH,
            &format!("/api/users/{id}/profile"),
            Some(json!({"profile": {"familyName": "A", "address": {"country": "JP"}}})),
        )
        .await;
    assert_eq!(status, 200, "{profile}");
    assert_eq!(profile, json!({"givenName": "Al", "familyName": "A", "address": {"country": "JP"}}));

    let (status, suspended) =
        t.api(Method::PATCH, &format!("/api/users/{id}/is-suspended"), Some(json!({"isSuspended": true}))).await;
    assert_eq!((status, suspended["isSuspended"].as_bool()), (200, Some(true)));

    assert_eq!(t.api(Method::DELETE, &format!("/api/users/{id}"), None).await.0, 204);
    let (status, error) = t.api(Method::GET, &format!("/api/users/{id}"), None).await;
    assert_eq!((status, error["code"].as_str()), (404, Some("entity.not_found")));
    assert_eq!(t.api(Method::DELETE, &format!("/api/users/{id}"), None).await.0, 404);
    assert_eq!(t.api(Method::PATCH, "/api/users/nobody/profile", Some(json!({"profile": {}}))).await.0, 404);
    t.stop().await;
}

#[tokio::test]
async fn identifiers_are_unique_and_valid() {
    let t = TestServer::start().await;
    let first = create(&t, json!({"username": "Bob", "primaryEmail": "bob@x.test", "primaryPhone": "15550001"})).await;
    for (body, code) in [
        // Usernames exactly (case-sensitive by default, as Logto), emails in any case.
        (json!({"username": "Bob"}), "user.username_already_in_use"),
        (json!({"primaryEmail": "BOB@X.TEST"}), "user.email_already_in_use"),
        (json!({"primaryPhone": "15550001"}), "user.phone_already_in_use"),
    ] {
        let (status, error) = t.api(Method::POST, "/api/users", Some(body.clone())).await;
        assert_eq!((status, error["code"].as_str()), (422, Some(code)), "{body}");
    }
    let other = create(&t, json!({"username": "carol"})).await;
    let (status, error) = t
        .api(
            Method::PATCH,
            &format!("/api/users/{}", other["id"].as_str().unwrap()),
            Some(json!({"primaryEmail": "Bob@x.test"})),
        )
        .await;
    assert_eq!((status, error["code"].as_str()), (422, Some("user.email_already_in_use")));
    // Changing your own identifier's case is fine.
    let (status, _) = t
        .api(Method::PATCH, &format!("/api/users/{}", first["id"].as_str().unwrap()), Some(json!({"username": "BOB"})))
        .await;
    assert_eq!(status, 200);

    for body in [
        json!({"username": "9lives"}),
        json!({"username": "has space"}),
        json!({"primaryEmail": "not-an-email"}),
        json!({"primaryPhone": "+1 555"}),
        json!({"customData": "text"}),
    ] {
        let (status, error) = t.api(Method::POST, "/api/users", Some(body.clone())).await;
        assert_eq!((status, error["code"].as_str()), (400, Some("guard.invalid_input")), "{body} → {error}");
    }
    t.stop().await;
}

#[tokio::test]
async fn passwords_imports_and_upgrade_to_argon2id() {
    let t = TestServer::start().await;
    let sha256 = "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"; // "password"
    let bcrypt = bcrypt::hash("password", 4).unwrap();
    for (algorithm, digest) in
        [("SHA256", sha256), ("Bcrypt", bcrypt.as_str()), ("MD5", "5f4dcc3b5aa765d61d8327deb882cf99")]
    {
        let user = create(
            &t,
            json!({"username": format!("imp_{algorithm}"), "passwordDigest": digest, "passwordAlgorithm": algorithm}),
        )
        .await;
        let id = user["id"].as_str().unwrap();
        assert_eq!(user["hasPassword"], true);
        let verify = format!("/api/users/{id}/password/verify");
        let (status, error) = t.api(Method::POST, &verify, Some(json!({"password": "Password"}))).await;
        assert_eq!((status, error["code"].as_str()), (422, Some("session.invalid_credentials")), "{algorithm}");
        assert_eq!(t.api(Method::POST, &verify, Some(json!({"password": "password"}))).await.0, 204, "{algorithm}");
        let stored = stored_password(&t, id).await;
        assert!(stored.0.starts_with("$argon2id$"), "{algorithm} upgraded: {stored:?}");
        assert_eq!(stored.1, "Argon2id");
        assert_eq!(
            t.api(Method::POST, &verify, Some(json!({"password": "password"}))).await.0,
            204,
            "{algorithm} after upgrade"
        );
    }
    for (body, code) in [
        (
            json!({"password": "x1", "passwordDigest": sha256, "passwordAlgorithm": "SHA256"}),
            "user.password_and_digest",
        ),
        (json!({"passwordDigest": sha256}), "user.password_algorithm_required"),
        (json!({"passwordDigest": "nothex", "passwordAlgorithm": "SHA256"}), "guard.invalid_input"),
        (json!({"passwordDigest": sha256, "passwordAlgorithm": "ROT13"}), "guard.invalid_input"),
    ] {
        let (status, error) = t.api(Method::POST, "/api/users", Some(body.clone())).await;
        assert_eq!((status, error["code"].as_str()), (400, Some(code)), "{body}");
    }

    let user = create(&t, json!({"username": "nopass"})).await;
    let id = user["id"].as_str().unwrap();
    assert_eq!(user["hasPassword"], false);
    let (_, has) = t.api(Method::GET, &format!("/api/users/{id}/has-password"), None).await;
    assert_eq!(has, json!({"hasPassword": false}));
    let (status, _) =
        t.api(Method::POST, &format!("/api/users/{id}/password/verify"), Some(json!({"password": "anything"}))).await;
    assert_eq!(status, 422);
    let (status, updated) =
        t.api(Method::PATCH, &format!("/api/users/{id}/password"), Some(json!({"password": "new secret 42"}))).await;
    assert_eq!((status, updated["hasPassword"].as_bool()), (200, Some(true)));
    assert_eq!(
        t.api(Method::POST, &format!("/api/users/{id}/password/verify"), Some(json!({"password": "new secret 42"})))
            .await
            .0,
        204
    );
    let (_, has) = t.api(Method::GET, &format!("/api/users/{id}/has-password"), None).await;
    assert_eq!(has, json!({"hasPassword": true}));
    t.stop().await;
}

async fn stored_password(t: &TestServer, id: &str) -> (String, String) {
    let mut c = t.server.core.store.conn().await.unwrap();
    let u = kido_store::users::find(&mut c, &kido_core::TenantId::new("default"), id).await.unwrap().unwrap();
    (u.password_encrypted.unwrap(), u.password_encryption_method.unwrap())
}

#[tokio::test]
async fn roles_of_users_and_default_roles() {
    let t = TestServer::start().await;
    let (_, default_role) = t
        .api(Method::POST, "/api/roles", Some(json!({"name": "member", "description": "everyone", "isDefault": true})))
        .await;
    let (_, editor) = t.api(Method::POST, "/api/roles", Some(json!({"name": "editor", "description": "edits"}))).await;
    let (_, robot) = t
        .api(
            Method::POST,
            "/api/roles",
            Some(json!({"name": "robot", "description": "m2m", "type": "MachineToMachine"})),
        )
        .await;
    let (default_role, editor, robot) =
        (default_role["id"].as_str().unwrap(), editor["id"].as_str().unwrap(), robot["id"].as_str().unwrap());

    let user = create(&t, json!({"username": "dora"})).await;
    let id = user["id"].as_str().unwrap();
    let roles_path = format!("/api/users/{id}/roles");
    let (_, roles) = t.api(Method::GET, &roles_path, None).await;
    assert_eq!(roles.as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect::<Vec<_>>(), [default_role]);

    let response = send_raw(
        Method::POST,
        &t.url(&roles_path),
        Some(&t.management_token().await),
        Some(json!({"roleIds": [editor, default_role]})),
    )
    .await;
    assert_eq!(response.status(), 201, "already-held roles are skipped");
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer, json!({"roleIds": [editor, default_role], "addedRoleIds": [editor]}), "Logto's answer");
    let (status, error) = t.api(Method::POST, &roles_path, Some(json!({"roleIds": [robot]}))).await;
    assert_eq!((status, error["code"].as_str()), (422, Some("user.invalid_role_type")));
    let (status, error) = t.api(Method::POST, &roles_path, Some(json!({"roleIds": ["nope"]}))).await;
    assert_eq!((status, error["code"].as_str()), (404, Some("entity.not_exists_with_id")));
    let (_, roles) = t.api(Method::GET, &format!("{roles_path}?page=1&page_size=10"), None).await;
    assert_eq!(roles.as_array().unwrap().len(), 2);

    let (status, answer) = t.api(Method::PUT, &roles_path, Some(json!({"roleIds": [editor]}))).await;
    assert_eq!(answer, json!({"roleIds": [editor]}), "Logto's answer");
    assert_eq!(status, 200);
    let (_, roles) = t.api(Method::GET, &roles_path, None).await;
    assert_eq!(roles.as_array().unwrap().len(), 1);
    let (_, excluded) = t.api(Method::GET, &format!("/api/roles?excludeUserId={id}"), None).await;
    assert!(excluded.as_array().unwrap().iter().all(|r| r["id"] != editor));

    // From the role's side.
    let other = create(&t, json!({"username": "eve"})).await;
    let other_id = other["id"].as_str().unwrap();
    let (status, _) =
        t.api(Method::POST, &format!("/api/roles/{editor}/users"), Some(json!({"userIds": [other_id]}))).await;
    assert_eq!(status, 201);
    let (status, error) =
        t.api(Method::POST, &format!("/api/roles/{editor}/users"), Some(json!({"userIds": [other_id]}))).await;
    assert_eq!((status, error["code"].as_str()), (422, Some("role.user_exists")));
    let (status, _) =
        t.api(Method::POST, &format!("/api/roles/{editor}/users"), Some(json!({"userIds": ["ghost"]}))).await;
    assert_eq!(status, 404);
    let (_, holders) = t.api(Method::GET, &format!("/api/roles/{editor}/users"), None).await;
    assert_eq!(holders.as_array().unwrap().len(), 2);
    let (_, listed) = t.api(Method::GET, "/api/roles?search=editor", None).await;
    assert_eq!(listed[0]["usersCount"], 2);
    assert_eq!(listed[0]["featuredUsers"].as_array().unwrap().len(), 2);
    let (_, not_holding) = t.api(Method::GET, &format!("/api/users?excludeRoleId={editor}"), None).await;
    assert!(not_holding.as_array().unwrap().is_empty(), "{not_holding}");

    assert_eq!(t.api(Method::DELETE, &format!("/api/roles/{editor}/users/{other_id}"), None).await.0, 204);
    assert_eq!(t.api(Method::DELETE, &format!("/api/roles/{editor}/users/{other_id}"), None).await.0, 404);
    assert_eq!(t.api(Method::DELETE, &format!("{roles_path}/{editor}"), None).await.0, 204);
    assert_eq!(t.api(Method::DELETE, &format!("{roles_path}/{editor}"), None).await.0, 404);
    t.stop().await;
}

#[tokio::test]
async fn search_modes_and_paging() {
    let t = TestServer::start().await;
    for (username, email, name) in [
        ("Alpha", "alpha@corp.test", "Ann Alpha"),
        ("alpine", "al@home.test", "Al Pine"),
        ("beta_1", "beta@corp.test", "Ben Beta"),
        ("gamma", "g@x.test", "Gus"),
    ] {
        create(&t, json!({"username": username, "primaryEmail": email, "name": name})).await;
    }
    let names = |v: &Value| {
        let mut n: Vec<String> =
            v.as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap().to_owned()).collect();
        n.sort();
        n
    };
    let server = &t;
    let search = |q: &'static str| async move { server.api(Method::GET, &format!("/api/users?{q}"), None).await };
    // The unqualified search covers every field, the random 12-character id included: a
    // user whose id happens to hold "alp" is a right answer too.
    let (_, everyone) = search("page_size=100").await;
    let mut alp = vec!["Alpha", "alpine"];
    for user in everyone.as_array().unwrap() {
        let username = user["username"].as_str().unwrap();
        if user["id"].as_str().unwrap().contains("alp") && !alp.contains(&username) {
            alp.push(username);
        }
    }
    alp.sort();
    let cases: Vec<(&str, Vec<&str>)> = vec![
        ("search=%25alp%25", alp),
        ("search.username=alp%25", vec!["Alpha", "alpine"]),
        ("search.username=ALP%25&isCaseSensitive=true", vec![]),
        ("search.username=Alp%25&isCaseSensitive=true", vec!["Alpha"]),
        ("search.username=alpha&mode.username=exact", vec!["Alpha"]),
        ("search.username=alpha&mode.username=exact&isCaseSensitive=true", vec![]),
        ("search.primaryEmail=%25%40corp.test", vec!["Alpha", "beta_1"]),
        ("search.username=beta_%25", vec!["beta_1"]),
        ("search.username=a%25&search.name=%25Pine&joint=and", vec!["alpine"]),
        ("search.username=gam%25&search.name=Ben%25", vec!["beta_1", "gamma"]),
        ("search.name=%5EA.*a%24&mode=posix", vec!["Alpha"]),
        ("search.name=%5Ea.*A%24&mode=posix&isCaseSensitive=true", vec![]),
    ];
    let (status, error) = search("search.name=(unclosed&mode=posix").await;
    assert_eq!((status, error["code"].as_str()), (400, Some("request.invalid_input")), "bad regex: {error}");
    for (q, expected) in cases {
        let (status, users) = search(q).await;
        assert_eq!(status, 200, "{q}: {users}");
        assert_eq!(names(&users), expected, "{q}");
    }
    // `similar_to` on both backends (SQLite: translated to a regex), case-sensitive only,
    // as Logto; several values for one field only in `exact` mode.
    let more: Vec<(&str, Vec<&str>)> = vec![
        ("search.username=(Alpha|gamma)&mode=similar_to&isCaseSensitive=true", vec!["Alpha", "gamma"]),
        ("search.username=(alpha|gamma)&mode=similar_to&isCaseSensitive=true", vec!["gamma"]),
        ("search.username=al%25&mode.username=similar_to&isCaseSensitive=true", vec!["alpine"]),
        ("search.username=_eta.1&mode=similar_to&isCaseSensitive=true", vec![]),
        ("search.username=_eta%5C_1&mode=similar_to&isCaseSensitive=true", vec!["beta_1"]),
        ("search.username=alpha&search.username=gamma&mode.username=exact", vec!["Alpha", "gamma"]),
        ("search=alpha&search=Gus&mode=exact", vec!["Alpha", "gamma"]),
    ];
    for (q, expected) in more {
        let (status, users) = search(q).await;
        assert_eq!(status, 200, "{q}: {users}");
        assert_eq!(names(&users), expected, "{q}");
    }
    for (bad, message) in [
        (
            "search=x&mode=fuzzy",
            "Search match mode `fuzzy` is not valid, expect one of exact, like, similar_to, posix.",
        ),
        (
            "search=x&mode.name=fuzzy",
            "Search match mode `fuzzy` for field `name` is not valid, expect one of exact, like, similar_to, posix.",
        ),
        (
            "search.password=x",
            "Search field `password` is not valid, expect one of id, primaryEmail, primaryPhone, username, name.",
        ),
        (
            "search.name.first=x",
            "Unsupported nested search field path `name.first` detected. Only the first level field is supported.",
        ),
        ("search=x&joint=xor", "Search joint mode `xor` is not valid, expect one of and, or."),
        ("search=x&isCaseSensitive=maybe", "`isCaseSensitive` must be `true` or `false`, got `maybe`."),
        (
            "mode.secret=exact",
            "Search field `secret` is not valid, expect one of id, primaryEmail, primaryPhone, username, name.",
        ),
        ("search.name=a&search.name=b", "Only one search value is allowed when search mode is not `exact`."),
        ("search=a&search=b&mode=posix", "Only one search value is allowed when search mode is not `exact`."),
        ("search.name=", "Search value cannot be empty."),
        ("search.name=a&search.name=&mode=exact", "Search value cannot be empty."),
        ("search.username=(alpha|gamma)&mode=similar_to", "Cannot use case-insensitive match for `similar to`."),
    ] {
        let (status, error) = t.api(Method::GET, &format!("/api/users?{bad}"), None).await;
        assert_eq!((status, error["code"].as_str()), (400, Some("request.invalid_input")), "{bad}");
        assert_eq!(error["message"], format!("Input is invalid. {message}"), "{bad}");
    }
    let response =
        send_raw(Method::GET, &t.url("/api/users?page=2&page_size=3"), Some(&t.management_token().await), None).await;
    assert_eq!(response.headers()["total-number"], "4");
    let last_page = response.json::<Value>().await.unwrap();
    assert_eq!(last_page.as_array().unwrap().len(), 1);
    // The unfiltered total is a counter kept by the database: deletions count too.
    let (status, _) =
        t.api(Method::DELETE, &format!("/api/users/{}", last_page[0]["id"].as_str().unwrap()), None).await;
    assert_eq!(status, 204);
    let response =
        send_raw(Method::GET, &t.url("/api/users?page=1&page_size=3"), Some(&t.management_token().await), None).await;
    assert_eq!(response.headers()["total-number"], "3");
    t.stop().await;
}

/// Logto's wire details of users: phones stored normalized (trunk 0 dropped, unknown
/// country codes refused) and found by any spelling, the password hash on request, and
/// a machine-to-machine role refused to users from the role's side.
#[tokio::test]
async fn phones_password_hash_and_role_users_as_logto() {
    let t = TestServer::start().await;
    let au = create(&t, json!({"username": "au", "primaryPhone": "610412345678"})).await;
    assert_eq!(au["primaryPhone"], "61412345678");
    let uk = create(&t, json!({"username": "uk", "primaryPhone": "4407911123456"})).await;
    assert_eq!(uk["primaryPhone"], "447911123456");
    let (status, error) = t.api(Method::POST, "/api/users", Some(json!({"primaryPhone": "99999"}))).await;
    assert_eq!((status, error["code"].as_str()), (422, Some("user.invalid_phone")), "{error}");
    let (status, error) = t.api(Method::POST, "/api/users", Some(json!({"primaryPhone": "61412345678"}))).await;
    assert_eq!((status, error["code"].as_str()), (422, Some("user.phone_already_in_use")), "same number: {error}");
    let uk_path = format!("/api/users/{}", uk["id"].as_str().unwrap());
    let (status, patched) = t.api(Method::PATCH, &uk_path, Some(json!({"primaryPhone": "33012345678"}))).await;
    assert_eq!((status, &patched["primaryPhone"]), (200, &json!("3312345678")), "{patched}");
    let (status, error) = t.api(Method::PATCH, &uk_path, Some(json!({"primaryPhone": "99999"}))).await;
    assert_eq!((status, error["code"].as_str()), (422, Some("user.invalid_phone")));
    let (_, found) = t.api(Method::GET, "/api/users?search.primaryPhone=61412345678&mode=exact", None).await;
    assert_eq!(found.as_array().unwrap().len(), 1);

    // The stored hash on request only.
    let with = create(&t, json!({"username": "hashed", "password": "correct horse 9"})).await;
    let path = format!("/api/users/{}", with["id"].as_str().unwrap());
    let (_, plain) = t.api(Method::GET, &path, None).await;
    assert!(plain.get("passwordDigest").is_none() && plain.get("passwordAlgorithm").is_none(), "{plain}");
    let (status, full) = t.api(Method::GET, &format!("{path}?includePasswordHash=true"), None).await;
    assert_eq!(status, 200);
    assert!(full["passwordDigest"].as_str().unwrap().starts_with("$argon2id$"), "{full}");
    assert_eq!(full["passwordAlgorithm"], "Argon2id");
    let mut rest = full.as_object().unwrap().clone();
    rest.remove("passwordDigest");
    rest.remove("passwordAlgorithm");
    assert_eq!(Value::Object(rest), plain, "otherwise the same user");
    let (_, none) =
        t.api(Method::GET, &format!("/api/users/{}?includePasswordHash=true", au["id"].as_str().unwrap()), None).await;
    assert_eq!((&none["passwordDigest"], &none["passwordAlgorithm"]), (&Value::Null, &Value::Null));
    let (status, _) = t.api(Method::GET, &format!("{path}?includePasswordHash=maybe"), None).await;
    assert_eq!(status, 400);

    // POST /roles/{id}/users: Logto's database constraint answers for a machine role.
    let (_, robot) = t
        .api(
            Method::POST,
            "/api/roles",
            Some(json!({"name": "robot", "description": "m2m", "type": "MachineToMachine"})),
        )
        .await;
    let role_users = format!("/api/roles/{}/users", robot["id"].as_str().unwrap());
    let (status, error) = t.api(Method::POST, &role_users, Some(json!({"userIds": [with["id"]]}))).await;
    assert_eq!((status, error["code"].as_str()), (422, Some("entity.db_constraint_violated")), "{error}");
    let (status, error) = t.api(Method::POST, &role_users, Some(json!({"userIds": []}))).await;
    assert_eq!(status, 400, "{error}");
    let (_, holders) = t.api(Method::GET, &role_users, None).await;
    assert_eq!(holders, json!([]));
    t.stop().await;
}

/// Usernames are case-sensitive by default (`ABC` and `abc` are two users, each signs in
/// with their own spelling); `usernamePolicy.caseSensitive: false` makes them one name,
/// refused while names differing only by case exist.
#[tokio::test]
async fn usernames_follow_the_username_policy() {
    let t = TestServer::start().await;
    let w = crate::signin::world(&t).await; // "alice"
    let upper = create(&t, json!({"username": "ALICE", "password": "Other-horse-battery-7"})).await;
    assert_ne!(upper["id"], json!(w.user_id));
    let (status, error) = t.api(Method::POST, "/api/users", Some(json!({"username": "alice"}))).await;
    assert_eq!((status, error["code"].as_str()), (422, Some("user.username_already_in_use")));
    let (_, sie) = t.api(Method::GET, "/api/sign-in-exp", None).await;
    assert_eq!(sie["usernamePolicy"]["caseSensitive"], true, "{sie}");
    assert_eq!(sie["usernamePolicy"]["maxLength"], 128);

    let verify = |username: &str, password: &str| json!({"identifier": {"type": "username", "value": username}, "password": password});
    let mut b = crate::passwordless::browser_at_sign_in(&t, &w, "").await;
    assert_eq!(b.api(Method::PUT, "", Some(json!({"interactionEvent": "SignIn"}))).await.status, 204);
    let attempts = [
        (verify("alice", &w.password), 200),
        (verify("ALICE", "Other-horse-battery-7"), 200),
        (verify("ALICE", &w.password), 422),
        (verify("Alice", &w.password), 422),
    ];
    for (body, expected) in attempts {
        let r = b.api(Method::POST, "/verification/password", Some(body.clone())).await;
        assert_eq!(r.status, expected, "{body}: {}", r.text);
    }

    let insensitive = json!({"usernamePolicy": {"caseSensitive": false}});
    let (status, error) = t.api(Method::PATCH, "/api/sign-in-exp", Some(insensitive.clone())).await;
    assert_eq!(
        (status, error["code"].as_str()),
        (409, Some("sign_in_experiences.username_policy_case_conflicts_exist"))
    );
    assert_eq!(error["data"], json!({"totalConflicts": 1, "samples": ["alice"]}));
    assert_eq!(t.api(Method::DELETE, &format!("/api/users/{}", upper["id"].as_str().unwrap()), None).await.0, 204);
    let (status, sie) = t.api(Method::PATCH, "/api/sign-in-exp", Some(insensitive)).await;
    assert_eq!(status, 200, "{sie}");
    assert_eq!(sie["usernamePolicy"]["caseSensitive"], false);
    assert_eq!(sie["usernamePolicy"]["minLength"], 1, "the rest of the policy is kept");
    let (status, error) = t.api(Method::POST, "/api/users", Some(json!({"username": "Alice"}))).await;
    assert_eq!((status, error["code"].as_str()), (422, Some("user.username_already_in_use")));
    let mut b = crate::passwordless::browser_at_sign_in(&t, &w, "").await;
    assert_eq!(b.api(Method::PUT, "", Some(json!({"interactionEvent": "SignIn"}))).await.status, 204);
    let r = b.api(Method::POST, "/verification/password", Some(verify("ALICE", &w.password))).await;
    assert_eq!(r.status, 200, "any spelling finds the user: {}", r.text);

    let bad = json!({"usernamePolicy": {"minLength": 10, "maxLength": 5}});
    assert_eq!(t.api(Method::PATCH, "/api/sign-in-exp", Some(bad)).await.0, 400);
    let sensitive = json!({"usernamePolicy": {"caseSensitive": true}});
    assert_eq!(t.api(Method::PATCH, "/api/sign-in-exp", Some(sensitive)).await.0, 200);
    create(&t, json!({"username": "Alice"})).await;
    t.stop().await;
}
