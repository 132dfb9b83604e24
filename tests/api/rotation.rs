//! Refresh rotation with reuse detection (SPEC §4.1, docs/tokens.md "Rotation on refresh"): a
//! refresh issues a new token for the same session, the previous one is honoured for the grace
//! window (and a refresh with it returns the same new token), and after the window the previous
//! token ends the whole session and records `token.reuse_detected`.

use axum::http::StatusCode;
use serde_json::{Value, json};
use tests::{Login, TestApp, TestResponse};

const REFRESH: &str = "/api/auth/refresh";
const ME: &str = "/api/auth/me";

/// An app whose `mobile` client rotates on refresh, the admin's token, and alice on `mobile`.
async fn rotating() -> (TestApp, String, Login) {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    app.patch_client(&admin.token, "mobile", json!({"rotate_on_refresh": true}))
        .await;
    let alice = app.user_with_login("alice", "mobile").await;
    (app, admin.token, alice)
}

async fn refresh(app: &TestApp, token: &str) -> TestResponse {
    app.post(REFRESH, Some(token), json!({})).await
}

/// The new token of a successful rotating refresh.
fn new_token(res: &TestResponse) -> String {
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    let token = res.json["token"].as_str().expect("a new token").to_string();
    assert!(token.starts_with("tss_") && token.len() == 42, "{token}");
    token
}

/// The admin's view of events of `kind`.
async fn events(app: &TestApp, admin: &str, kind: &str) -> Vec<Value> {
    let res = app
        .get(&format!("/api/admin/events?type={kind}"), admin)
        .await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    res.json.as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn a_refresh_without_rotation_keeps_the_token() {
    let app = TestApp::new().await;
    let alice = app.user_with_login("alice", "mobile").await;
    let res = refresh(&app, &alice.token).await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(res.json.get("token").is_none(), "{:?}", res.json);
    assert_eq!(app.get(ME, &alice.token).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_rotating_refresh_issues_a_new_token_for_the_same_session() {
    let (app, admin, alice) = rotating().await;
    let res = refresh(&app, &alice.token).await;
    let rotated = new_token(&res);
    assert_ne!(rotated, alice.token);
    let me = app.get(ME, &rotated).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json["session"]["id"], alice.session_id.as_str());
    assert_eq!(me.json["session"]["token_hint"], &rotated[..8]);
    // Inside the window the previous token still works.
    assert_eq!(app.get(ME, &alice.token).await.status, StatusCode::OK);
    let rotations = events(&app, &admin, "token.rotated").await;
    assert_eq!(rotations.len(), 1, "{rotations:?}");
    assert_eq!(rotations[0]["session_id"], alice.session_id.as_str());
    let body = serde_json::to_string(&rotations).unwrap();
    assert!(!body.contains(&rotated) && !body.contains(&alice.token));
}

#[tokio::test]
async fn a_refresh_with_the_previous_token_inside_the_window_returns_the_same_new_token() {
    let (app, _, alice) = rotating().await;
    let first = new_token(&refresh(&app, &alice.token).await);
    app.clock.advance_secs(9.0);
    let again = new_token(&refresh(&app, &alice.token).await);
    assert_eq!(again, first, "a lost response is harmless");
    // The new token rotates on its own refresh.
    let next = new_token(&refresh(&app, &first).await);
    assert_ne!(next, first);
}

#[tokio::test]
async fn the_previous_token_after_the_window_ends_the_whole_session_and_is_recorded() {
    let (app, admin, alice) = rotating().await;
    let rotated = new_token(&refresh(&app, &alice.token).await);
    app.clock.advance_secs(11.0);
    assert_eq!(app.get(ME, &rotated).await.status, StatusCode::OK);
    let res = app.get(ME, &alice.token).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert_eq!(res.code(), "invalid_token");
    // Every token of the session is gone: the thief's and the owner's alike.
    let res = app.get(ME, &rotated).await;
    assert_eq!(res.code(), "invalid_token", "{:?}", res.json);
    let res = refresh(&app, &alice.token).await;
    assert_eq!(res.code(), "invalid_token", "{:?}", res.json);
    let reuse = events(&app, &admin, "token.reuse_detected").await;
    assert_eq!(reuse.len(), 1, "{reuse:?}");
    assert_eq!(reuse[0]["session_id"], alice.session_id.as_str());
    assert_eq!(reuse[0]["user_id"], alice.user_id);
    assert_eq!(reuse[0]["client"], "mobile");
}

#[tokio::test]
async fn the_grace_window_is_configurable() {
    let settings = server::Settings {
        rotation_grace: 0,
        ..server::Settings::default()
    };
    let app = TestApp::with_settings(settings).await;
    let admin = app.admin().await;
    app.patch_client(&admin.token, "mobile", json!({"rotate_on_refresh": true}))
        .await;
    let alice = app.user_with_login("alice", "mobile").await;
    let rotated = new_token(&refresh(&app, &alice.token).await);
    app.clock.advance_secs(0.001);
    assert_eq!(app.get(ME, &alice.token).await.code(), "invalid_token");
    assert_eq!(app.get(ME, &rotated).await.code(), "invalid_token");
}

#[tokio::test]
async fn concurrent_refreshes_with_one_token_all_get_the_same_new_token() {
    let (app, _, alice) = rotating().await;
    let answers = futures::future::join_all((0..20).map(|_| refresh(&app, &alice.token))).await;
    let tokens: Vec<String> = answers.iter().map(new_token).collect();
    assert!(
        tokens.iter().all(|t| *t == tokens[0]),
        "every refresh got the one new token: {tokens:?}"
    );
    assert_eq!(app.get(ME, &tokens[0]).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_cookie_client_gets_the_rotated_token_in_its_cookie_only() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    app.patch_client(&admin.token, "browser", json!({"rotate_on_refresh": true}))
        .await;
    let login = app
        .post(
            "/api/auth/login",
            None,
            json!({"username": "root", "password": tests::PASSWORD, "client": "browser"}),
        )
        .await;
    assert_eq!(login.status, StatusCode::OK, "{:?}", login.json);
    let cookie = crate::cookies::set_cookie(&login, crate::cookies::COOKIE).expect("a cookie");
    let csrf = login.json["csrf_token"].as_str().unwrap();
    let res = app
        .send(crate::cookies::by_cookie(
            axum::http::Method::POST,
            REFRESH,
            &cookie.value,
            &[("x-csrf-token", csrf)],
        ))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    assert!(res.json.get("token").is_none(), "{:?}", res.json);
    let renewed = crate::cookies::set_cookie(&res, crate::cookies::COOKIE).expect("re-set");
    assert_ne!(renewed.value, cookie.value);
    assert!(renewed.value.starts_with("tss_"));
}
