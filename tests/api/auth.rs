//! Token lifecycle (docs/tokens.md, docs/endpoints.md): login, refresh, logout, logout-all, me, policy.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::json;
use tests::{PASSWORD, TestApp};

async fn login_raw(
    app: &TestApp,
    username: &str,
    password: &str,
    client: &str,
) -> tests::TestResponse {
    app.post(
        "/api/auth/login",
        None,
        json!({"username": username, "password": password, "client": client}),
    )
    .await
}

#[tokio::test]
async fn login_issues_a_well_formed_token_once() {
    let app = TestApp::new().await;
    app.create_user("alice", false).await;
    let res = login_raw(&app, "alice", PASSWORD, "mobile").await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.header("cache-control"), "no-store");
    let token = res.json["token"].as_str().unwrap();
    assert_eq!(token.len(), 42);
    assert!(token.starts_with("tss_") && token[4..].bytes().all(|b| b.is_ascii_alphanumeric()));
    assert_eq!(
        res.json["user"],
        json!({"id": 1, "username": "alice", "is_admin": false})
    );
    let s = &res.json["session"];
    assert_eq!(s["client"], "mobile");
    assert_eq!(s["kind"], "session");
    assert_eq!(s["is_current"], true);
    assert_eq!(s["token_hint"], &token[..8]);
    assert_eq!(s["ip"], "127.0.0.1");
    assert!(s["expiry"].as_str().unwrap().ends_with('Z'));
    assert_eq!(res.json["expiry"], s["expiry"]);
    // 30 days for mobile.
    let created = chrono::DateTime::parse_from_rfc3339(s["created"].as_str().unwrap()).unwrap();
    let expiry = chrono::DateTime::parse_from_rfc3339(s["expiry"].as_str().unwrap()).unwrap();
    assert_eq!((expiry - created).num_seconds(), 30 * 86_400);
    // Only the digest is stored.
    use sea_orm::EntityTrait;
    let row = entity::session::Entity::find()
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(row.token_digest, token);
    assert_eq!(row.token_digest.len(), 64);
    let me = app.get("/api/auth/me", token).await;
    assert_eq!(me.status, StatusCode::OK);
    assert!(
        !me.json.to_string().contains(token),
        "the token is shown only at login"
    );
}

#[tokio::test]
async fn each_login_is_a_new_session_and_sets_last_login() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let a = app.login("root", "web").await;
    assert_ne!(a.token, admin.token);
    assert_ne!(a.session_id, admin.session_id);
    let user = app.get("/api/admin/users/1", &admin.token).await;
    assert!(user.json["last_login"].is_string());
    assert_eq!(
        app.get("/api/auth/sessions", &a.token)
            .await
            .json
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn login_accepts_form_encoding_and_a_trailing_slash() {
    let app = TestApp::new().await;
    app.create_user("bob", false).await;
    let req = Request::post("/api/auth/login/")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(format!(
            "username=bob&password={}&client=cli",
            PASSWORD.replace(' ', "+")
        )))
        .unwrap();
    let res = app.send(req).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    assert_eq!(res.json["session"]["client"], "cli");
}

#[tokio::test]
async fn login_names_every_missing_or_blank_field() {
    let app = TestApp::new().await;
    let res = app
        .post(
            "/api/auth/login",
            None,
            json!({"username": "  ", "client": ""}),
        )
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert_eq!(res.code(), "validation_error");
    let fields = res.json["fields"].as_object().unwrap();
    assert_eq!(
        fields.keys().collect::<Vec<_>>(),
        ["client", "password", "username"]
    );
    let res = app
        .post(
            "/api/auth/login",
            None,
            json!({"username": 5, "password": "x", "client": "web"}),
        )
        .await;
    assert_eq!(res.code(), "validation_error");
    assert!(res.json["fields"]["username"].is_array());
}

#[tokio::test]
async fn bad_credentials_are_indistinguishable() {
    let app = TestApp::new().await;
    app.create_user("carol", false).await;
    app.create_user("dave", false).await;
    let admin = app.admin().await;
    let res = app
        .call(
            Method::PATCH,
            "/api/admin/users/2",
            Some(&admin.token),
            Some(json!({"is_active": false})),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK);
    let wrong = login_raw(&app, "carol", "not the password", "web").await;
    let unknown = login_raw(&app, "nobody", PASSWORD, "web").await;
    let inactive = login_raw(&app, "dave", PASSWORD, "web").await;
    let case = login_raw(&app, "CAROL", PASSWORD, "web").await;
    for res in [&wrong, &unknown, &inactive, &case] {
        assert_eq!(res.status, StatusCode::BAD_REQUEST);
        assert_eq!(res.code(), "invalid_credentials");
        assert_eq!(
            res.json["detail"],
            "Unable to log in with provided credentials."
        );
        assert_eq!(res.body, wrong.body);
    }
}

#[tokio::test]
async fn unknown_and_api_only_clients_are_refused() {
    let app = TestApp::new().await;
    app.create_user("erin", false).await;
    let res = login_raw(&app, "erin", PASSWORD, "nope").await;
    assert_eq!(
        (res.status, res.code()),
        (StatusCode::BAD_REQUEST, "unknown_client")
    );
    assert_eq!(res.json["detail"], "No client with that name.");
    let res = login_raw(&app, "erin", PASSWORD, "Web").await;
    assert_eq!(
        res.code(),
        "unknown_client",
        "client names are case-sensitive"
    );
    let res = login_raw(&app, "erin", PASSWORD, "api").await;
    assert_eq!(
        (res.status, res.code()),
        (StatusCode::BAD_REQUEST, "invalid_client")
    );
}

#[tokio::test]
async fn authentication_outcomes_follow_the_table() {
    let app = TestApp::new().await;
    let login = app.user_with_login("frank", "web").await;
    let with_header = |value: &str| {
        Request::get("/api/auth/me")
            .header("authorization", value)
            .body(Body::empty())
            .unwrap()
    };
    let mut tampered = login.token.clone().into_bytes();
    tampered[20] = if tampered[20] == b'x' { b'y' } else { b'x' };
    let tampered = String::from_utf8(tampered).unwrap();
    let unknown = {
        // Well-formed (valid checksum) but never issued.
        let t = server::token::generate(server::token::TokenKind::Session);
        server::token::reveal(&t)
    };
    let cases: Vec<(Request<Body>, &str)> = vec![
        (
            Request::get("/api/auth/me").body(Body::empty()).unwrap(),
            "not_authenticated",
        ),
        (with_header("Basic Zm9vOmJhcg=="), "not_authenticated"),
        (with_header("Bearer"), "invalid_header"),
        (with_header("Bearer a b"), "invalid_header"),
        (with_header(&format!("Bearer {tampered}")), "invalid_token"),
        (
            with_header(&format!(
                "Bearer {}",
                login.token.replacen("tss_", "tsk_", 1)
            )),
            "invalid_token",
        ),
        (
            with_header(&format!("Bearer {}", &login.token[..41])),
            "invalid_token",
        ),
        (with_header(&format!("Bearer {unknown}")), "invalid_token"),
        (with_header("Bearer tss_ÄÖÜ"), "invalid_token"),
    ];
    for (req, code) in cases {
        let res = app.send(req).await;
        assert_eq!(
            (res.status, res.code()),
            (StatusCode::UNAUTHORIZED, code),
            "{:?}",
            res.json
        );
        // RFC 6750 §3.1: the error attribute only when a credential was presented and refused.
        let challenge = if code == "not_authenticated" {
            "Bearer realm=\"tessera\""
        } else {
            "Bearer realm=\"tessera\", error=\"invalid_token\""
        };
        assert_eq!(res.header("www-authenticate"), challenge, "{code}");
    }
    // Non-UTF-8 header bytes are a 401, not a 500.
    let mut req = Request::get("/api/auth/me").body(Body::empty()).unwrap();
    req.headers_mut().insert(
        "authorization",
        axum::http::HeaderValue::from_bytes(b"Bearer \xff\xfe").unwrap(),
    );
    assert_eq!(app.send(req).await.status, StatusCode::UNAUTHORIZED);
    // Scheme words are case-insensitive; `Token` works like `Bearer`.
    for scheme in ["bearer", "TOKEN", "Token"] {
        let res = app
            .send(with_header(&format!("{scheme} {}", login.token)))
            .await;
        assert_eq!(res.status, StatusCode::OK, "{scheme}");
    }
    // Query-string tokens are not accepted.
    let res = app
        .call(
            Method::GET,
            &format!("/api/auth/me?token={}", login.token),
            None,
            None,
        )
        .await;
    assert_eq!(res.code(), "not_authenticated");
}

#[tokio::test]
async fn expired_tokens_answer_token_expired_once() {
    let app = TestApp::new().await;
    let login = app.user_with_login("gina", "web").await;
    app.clock.advance_secs(86_399.0);
    assert_eq!(
        app.get("/api/auth/me", &login.token).await.status,
        StatusCode::OK
    );
    app.clock.advance_secs(2.0);
    let res = app.get("/api/auth/me", &login.token).await;
    assert_eq!(
        (res.status, res.code()),
        (StatusCode::UNAUTHORIZED, "token_expired")
    );
    let res = app.get("/api/auth/me", &login.token).await;
    assert_eq!(res.code(), "invalid_token");
}

#[tokio::test]
async fn refresh_moves_expiry_within_the_lifetime_cap() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    app.patch_client(
        &admin.token,
        "cli",
        json!({"token_ttl": 100, "max_lifetime": 250}),
    )
    .await;
    let login = app.user_with_login("hank", "cli").await;
    let first = app.get("/api/auth/me", &login.token).await.json["session"]["expiry"].clone();
    app.clock.advance_secs(90.0);
    let res = app
        .post("/api/auth/refresh", Some(&login.token), json!({}))
        .await;
    assert_eq!(res.status, StatusCode::OK);
    let renewed = res.json["expiry"].as_str().unwrap().to_string();
    assert_ne!(json!(renewed), first);
    let me = app.get("/api/auth/me", &login.token).await;
    assert_eq!(
        me.json["session"]["expiry"],
        json!(renewed),
        "the same token, renewed"
    );
    app.clock.advance_secs(90.0);
    assert_eq!(
        app.post("/api/auth/refresh", Some(&login.token), json!({}))
            .await
            .status,
        StatusCode::OK
    );
    // Now at 180 s: now+ttl = 280 s is beyond created+250 s, so the cap wins.
    app.clock.advance_secs(69.0);
    assert_eq!(
        app.get("/api/auth/me", &login.token).await.status,
        StatusCode::OK
    );
    app.clock.advance_secs(2.0);
    assert_eq!(
        app.get("/api/auth/me", &login.token).await.code(),
        "token_expired"
    );
}

#[tokio::test]
async fn ttl_and_lifetime_null_means_no_expiry() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    app.patch_client(&admin.token, "cli", json!({"token_ttl": null}))
        .await;
    let login = app.user_with_login("ivy", "cli").await;
    let me = app.get("/api/auth/me", &login.token).await;
    assert!(me.json["session"]["expiry"].is_null());
    let res = app
        .post("/api/auth/refresh", Some(&login.token), json!({}))
        .await;
    assert_eq!(res.json, json!({"expiry": null}));
    app.clock.advance_secs(10.0 * 365.0 * 86_400.0);
    assert_eq!(
        app.get("/api/auth/me", &login.token).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn logout_ends_only_the_presenting_session() {
    let app = TestApp::new().await;
    let a = app.user_with_login("jack", "web").await;
    let b = app.login("jack", "mobile").await;
    let res = app
        .post("/api/auth/logout", Some(&a.token), json!({}))
        .await;
    assert_eq!(res.status, StatusCode::NO_CONTENT);
    assert!(res.body.is_empty());
    assert_eq!(
        app.get("/api/auth/me", &a.token).await.code(),
        "invalid_token"
    );
    assert_eq!(
        app.get("/api/auth/me", &b.token).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn logoutall_ends_every_session_and_the_api_key() {
    let app = TestApp::new().await;
    let a = app.user_with_login("kate", "web").await;
    let b = app.login("kate", "cli").await;
    let other = app.user_with_login("leo", "web").await;
    let key = app
        .post("/api/auth/apiaccess", Some(&a.token), json!({}))
        .await;
    let key = key.json["token"].as_str().unwrap().to_string();
    assert_eq!(
        app.call(Method::POST, "/api/auth/logoutall", Some(&b.token), None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    for t in [&a.token, &b.token, &key] {
        assert_eq!(app.get("/api/auth/me", t).await.code(), "invalid_token");
    }
    assert_eq!(
        app.get("/api/auth/me", &other.token).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn me_describes_the_caller() {
    let app = TestApp::new().await;
    let login = app.user_with_login("mia", "cli").await;
    let res = app.get("/api/auth/me", &login.token).await;
    assert_eq!(
        res.json["user"],
        json!({"id": login.user_id, "username": "mia", "is_admin": false})
    );
    assert_eq!(res.json["session"]["id"], login.session_id);
    assert_eq!(res.json["session"]["is_current"], true);
}

#[tokio::test]
async fn max_sessions_ends_the_least_recently_used() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    app.patch_client(&admin.token, "mobile", json!({"max_sessions": 2}))
        .await;
    let first = app.user_with_login("noah", "mobile").await;
    app.clock.advance_secs(1.0);
    let second = app.login("noah", "mobile").await;
    app.clock.advance_secs(61.0);
    // Using the first makes the second the least recently used.
    assert_eq!(
        app.get("/api/auth/me", &first.token).await.status,
        StatusCode::OK
    );
    let web = app.login("noah", "web").await;
    app.clock.advance_secs(1.0);
    let third = app.login("noah", "mobile").await;
    assert_eq!(
        app.get("/api/auth/me", &second.token).await.code(),
        "invalid_token"
    );
    for t in [&first.token, &third.token, &web.token] {
        assert_eq!(
            app.get("/api/auth/me", t).await.status,
            StatusCode::OK,
            "other clients are not counted"
        );
    }
}

#[tokio::test]
async fn last_used_is_written_at_most_once_a_minute() {
    let app = TestApp::new().await;
    let login = app.user_with_login("olga", "web").await;
    let created = app.get("/api/auth/me", &login.token).await.json["session"]["last_used"].clone();
    app.clock.advance_secs(30.0);
    assert_eq!(
        app.get("/api/auth/me", &login.token).await.json["session"]["last_used"],
        created
    );
    app.clock.advance_secs(31.0);
    let used = app.get("/api/auth/me", &login.token).await.json["session"]["last_used"].clone();
    assert_ne!(used, created);
}

#[tokio::test]
async fn auto_renew_extends_expiry_on_use() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    app.patch_client(
        &admin.token,
        "web",
        json!({"auto_renew": true, "token_ttl": 300}),
    )
    .await;
    let login = app.user_with_login("pam", "web").await;
    app.clock.advance_secs(30.0);
    let before = app.get("/api/auth/me", &login.token).await.json["session"]["expiry"].clone();
    app.clock.advance_secs(31.0);
    let after = app.get("/api/auth/me", &login.token).await.json["session"]["expiry"].clone();
    assert_ne!(before, after, "renewed once 60 s had passed");
    // Keep using it every 4 minutes: it never expires although each gap is near the TTL.
    for _ in 0..5 {
        app.clock.advance_secs(240.0);
        assert_eq!(
            app.get("/api/auth/me", &login.token).await.status,
            StatusCode::OK
        );
    }
    app.clock.advance_secs(301.0);
    assert_eq!(
        app.get("/api/auth/me", &login.token).await.code(),
        "token_expired"
    );
}

#[tokio::test]
async fn parallel_logins_each_get_a_session() {
    let app = TestApp::new().await;
    app.create_user("quinn", false).await;
    let logins = (0..8).map(|_| login_raw(&app, "quinn", PASSWORD, "web"));
    let results = futures::future::join_all(logins).await;
    let mut tokens: Vec<String> = results
        .iter()
        .map(|r| {
            assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
            r.json["token"].as_str().unwrap().to_string()
        })
        .collect();
    tokens.sort();
    tokens.dedup();
    assert_eq!(tokens.len(), 8);
    assert_eq!(
        app.get("/api/auth/sessions", &tokens[0])
            .await
            .json
            .as_array()
            .unwrap()
            .len(),
        8
    );
}

#[tokio::test]
async fn logout_racing_refresh_never_resurrects_the_session() {
    let app = TestApp::new().await;
    let login = app.user_with_login("rita", "web").await;
    let (refresh, logout) = tokio::join!(
        app.post("/api/auth/refresh", Some(&login.token), json!({})),
        app.post("/api/auth/logout", Some(&login.token), json!({})),
    );
    assert!(
        matches!(refresh.status, StatusCode::OK | StatusCode::UNAUTHORIZED),
        "{:?}",
        refresh.json
    );
    assert_eq!(logout.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get("/api/auth/me", &login.token).await.code(),
        "invalid_token"
    );
}
