//! What a scoped key may call (SPEC §3.1): only `/me` and `/verify`; every other endpoint is 403
//! `permission_denied` and does nothing, while sessions and unrestricted keys call them as their
//! user may. And where a key may travel (SPEC §2): `X-Api-Key` takes keys only, and
//! `Authorization` wins over it.

use super::*;

/// A verify that asks for a scope every session and unrestricted key holds.
const READS_ANY: &str = "/api/auth/verify?scope=reports:read,anything";

/// Sends `GET path` with exactly these headers.
async fn send(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> TestResponse {
    let mut req = Request::get(path);
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    app.send(req.body(Body::empty()).unwrap()).await
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

#[tokio::test]
async fn a_scoped_key_is_refused_everything_but_me_and_verify() {
    let app = TestApp::new().await;
    let alice = user(&app, "alice").await;
    let reads = scoped(&app, &alice.token, "reads", &["reports:read"]).await;
    let other = scoped(&app, &alice.token, "other", &["other"]).await;
    let none = scoped(&app, &alice.token, "none", &[]).await;
    let phone = app.login("alice", "mobile").await;
    let victim = named(&app, &alice.token, "victim").await;

    for key in [&reads, &other, &none] {
        let calls = [
            (Method::GET, "/api/auth/sessions".to_string(), None),
            (Method::DELETE, "/api/auth/sessions".to_string(), None),
            (
                Method::DELETE,
                format!("/api/auth/sessions/{}", phone.session_id),
                None,
            ),
            (Method::GET, KEYS.to_string(), None),
            (
                Method::POST,
                KEYS.to_string(),
                Some(json!({"name": "made by a key"})),
            ),
            (Method::DELETE, key_path(&victim.id), None),
            (Method::DELETE, key_path(&key.id), None),
            (Method::POST, format!("{}/roll", key_path(&key.id)), None),
            (Method::POST, format!("{}/roll", key_path(&victim.id)), None),
            (Method::GET, APIACCESS.to_string(), None),
            (Method::POST, APIACCESS.to_string(), None),
            (Method::GET, EVENTS.to_string(), None),
            (
                Method::POST,
                "/api/auth/refresh".to_string(),
                Some(json!({})),
            ),
            (Method::POST, "/api/auth/logout".to_string(), None),
            (Method::POST, "/api/auth/logoutall".to_string(), None),
        ];
        for (method, path, body) in calls {
            let what = format!("{method} {path} with {}", key.json["name"]);
            let res = app.call(method, &path, Some(&key.token), body).await;
            assert_eq!(res.status, StatusCode::FORBIDDEN, "{what}: {:?}", res.json);
            assert_eq!(res.code(), "permission_denied", "{what}");
            assert_eq!(res.header("www-authenticate"), "", "{what}");
        }
        // Through X-Api-Key alike.
        let res = app.send(by_api_key(Method::GET, KEYS, &key.token)).await;
        assert_error(&res, StatusCode::FORBIDDEN, "permission_denied");
        // What it may call.
        let me = assert_works(&app, &key.token, "me").await;
        assert_eq!(me["session"]["token_hint"], &key.token[..8], "not rolled");
        assert_eq!(app.get(VERIFY, &key.token).await.status, StatusCode::OK);
    }
    // None of it happened.
    for token in [&alice.token, &phone.token, &victim.token] {
        assert_works(&app, token, "untouched").await;
    }
    let keys = list(&app, &alice.token).await;
    assert_eq!(column(&keys, "name").len(), 4, "{keys:?}");
    let created = my_events(&app, &alice.token, "apikey.created").await;
    assert_eq!(created.len(), 4, "{created:?}");
}

#[tokio::test]
async fn sessions_and_unrestricted_keys_call_every_endpoint_of_their_user() {
    let app = TestApp::new().await;
    let alice = user(&app, "alice").await;
    let full = named(&app, &alice.token, "full").await;
    for (what, token) in [
        ("a session", &alice.token),
        ("an unrestricted key", &full.token),
    ] {
        for path in ["/api/auth/sessions", KEYS, EVENTS] {
            let res = app.get(path, token).await;
            assert_eq!(res.status, StatusCode::OK, "{what} {path}: {:?}", res.json);
        }
        let res = app.get(READS_ANY, token).await;
        assert_eq!(res.status, StatusCode::OK, "{what}: {:?}", res.json);
    }
    let made = new_key(&app, &full.token, json!({"name": "made by a key"})).await;
    assert_works(&app, &made.token, "a key made by a key").await;
    let res = roll(&app, &full.token, &made.id, None).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    // Logout with a key ends that key; with a session, that session.
    for (what, token) in [("the key", &full.token), ("the session", &alice.token)] {
        let res = app
            .call(Method::POST, "/api/auth/logout", Some(token), None)
            .await;
        assert_eq!(res.status, StatusCode::NO_CONTENT, "{what}: {:?}", res.json);
        assert_dead(&app, token, what).await;
    }
}

#[tokio::test]
async fn an_admins_scoped_key_is_no_admin_credential() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let scoped_key = scoped(&app, &admin.token, "reports", &["reports:read"]).await;
    let full = named(&app, &admin.token, "full").await;
    for path in [
        "/api/admin/users",
        "/api/admin/sessions",
        "/api/admin/clients",
    ] {
        let res = app.get(path, &scoped_key.token).await;
        assert_error(&res, StatusCode::FORBIDDEN, "permission_denied");
        let res = app.get(path, &full.token).await;
        assert_eq!(res.status, StatusCode::OK, "{path}: {:?}", res.json);
    }
    let alice = user(&app, "alice").await;
    let body = json!({"token": alice.token});
    let res = app
        .post(
            "/api/auth/introspect",
            Some(&scoped_key.token),
            body.clone(),
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{:?}", res.json);
    let res = app
        .post("/api/auth/introspect", Some(&full.token), body)
        .await;
    assert_eq!(res.json["active"], true, "{:?}", res.json);
    let me = assert_works(&app, &scoped_key.token, "me").await;
    assert_eq!(me["user"]["is_admin"], true);
}

#[tokio::test]
async fn x_api_key_takes_api_keys_only() {
    let app = TestApp::new().await;
    let alice = user(&app, "alice").await;
    let reads = scoped(&app, &alice.token, "reads", &["reports:read"]).await;
    let res = send(&app, ME, &[("x-api-key", alice.token.as_str())]).await;
    assert_error(&res, StatusCode::UNAUTHORIZED, "invalid_token");
    let challenge = "Bearer realm=\"tessera\", error=\"invalid_token\"";
    assert_eq!(res.header("www-authenticate"), challenge);
    let res = send(&app, VERIFY, &[("x-api-key", alice.token.as_str())]).await;
    assert_error(&res, StatusCode::UNAUTHORIZED, "invalid_token");
    assert!(res.headers.get("x-auth-user-id").is_none());

    let path = format!("{VERIFY}?scope=reports:read");
    let res = send(&app, &path, &[("x-api-key", reads.token.as_str())]).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    assert_eq!(res.header("x-auth-scopes"), "reports:read");
    let path = format!("{VERIFY}?scope=other");
    let headers = [("x-api-key", reads.token.as_str())];
    let res = send(&app, &path, &headers).await;
    assert_error(&res, StatusCode::FORBIDDEN, "insufficient_scope");
}

#[tokio::test]
async fn authorization_wins_over_x_api_key() {
    let app = TestApp::new().await;
    let alice = user(&app, "alice").await;
    let reads = scoped(&app, &alice.token, "reads", &["reports:read"]).await;
    let full = named(&app, &alice.token, "full").await;
    let sessions = "/api/auth/sessions";

    let session_first = bearer(&alice.token);
    let headers = [
        ("authorization", session_first.as_str()),
        ("x-api-key", reads.token.as_str()),
    ];
    let res = send(&app, sessions, &headers).await;
    assert_eq!(
        res.status,
        StatusCode::OK,
        "the session was used: {:?}",
        res.json
    );
    let res = send(&app, ME, &headers).await;
    assert_eq!(res.json["session"]["id"], alice.session_id.as_str());

    let scoped_first = bearer(&reads.token);
    let headers = [
        ("authorization", scoped_first.as_str()),
        ("x-api-key", full.token.as_str()),
    ];
    let res = send(&app, sessions, &headers).await;
    assert_error(&res, StatusCode::FORBIDDEN, "permission_denied");
    let res = send(&app, ME, &headers).await;
    assert_eq!(res.json["session"]["id"], reads.id.as_str());

    // A refused Authorization is not rescued by a good X-Api-Key.
    let malformed = bearer("tsk_not_a_token");
    let headers = [
        ("authorization", malformed.as_str()),
        ("x-api-key", full.token.as_str()),
    ];
    let res = send(&app, ME, &headers).await;
    assert_error(&res, StatusCode::UNAUTHORIZED, "invalid_token");
    let unknown = bearer(&server::token::reveal(&server::token::generate(
        server::token::TokenKind::ApiKey,
    )));
    let headers = [
        ("authorization", unknown.as_str()),
        ("x-api-key", full.token.as_str()),
    ];
    let res = send(&app, ME, &headers).await;
    assert_error(&res, StatusCode::UNAUTHORIZED, "invalid_token");
}
