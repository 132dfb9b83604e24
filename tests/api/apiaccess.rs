//! The per-user API access key (docs/endpoints.md): issue once, show, delete, how it authenticates,
//! what ends it, and what happens when the API-access client is gone.

use axum::http::{Method, StatusCode};
use serde_json::json;
use tests::{PASSWORD, TestApp, TestResponse};

const PATH: &str = "/api/auth/apiaccess";

async fn create_key(app: &TestApp, token: &str) -> TestResponse {
    app.call(Method::POST, PATH, Some(token), None).await
}

/// Creates a key, asserting success, and returns its token.
async fn key_of(app: &TestApp, token: &str) -> String {
    let res = create_key(app, token).await;
    assert_eq!(res.status, StatusCode::CREATED, "{:?}", res.json);
    res.json["token"].as_str().unwrap().to_string()
}

fn assert_timestamp(value: &serde_json::Value) {
    let s = value
        .as_str()
        .unwrap_or_else(|| panic!("not a timestamp: {value:?}"));
    assert!(s.ends_with('Z'), "{s}");
    assert!(chrono::DateTime::parse_from_rfc3339(s).is_ok(), "{s}");
}

#[tokio::test]
async fn without_a_key_get_and_delete_are_404() {
    let app = TestApp::new().await;
    let alice = app.user_with_login("alice", "web").await;
    let res = app.get(PATH, &alice.token).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(res.code(), "not_found");
    let res = app.delete(PATH, &alice.token).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(res.code(), "not_found");
}

#[tokio::test]
async fn create_shows_the_token_once() {
    let app = TestApp::new().await;
    let alice = app.user_with_login("alice", "web").await;
    let res = create_key(&app, &alice.token).await;
    assert_eq!(res.status, StatusCode::CREATED, "{:?}", res.json);
    assert_eq!(res.header("cache-control"), "no-store");
    let token = res.json["token"].as_str().unwrap().to_string();
    assert!(token.starts_with("tsk_"), "{token}");
    assert_eq!(token.len(), 42);
    assert!(
        server::token::parse(&token).is_some(),
        "a well-formed token"
    );
    assert_eq!(res.json["client"], "api");
    assert_eq!(res.json["token_hint"], &token[..8]);
    assert_eq!(
        res.json["expiry"],
        json!(null),
        "the api client's ttl is null"
    );
    assert_timestamp(&res.json["created"]);
    assert_timestamp(&res.json["last_used"]);
    let mut keys: Vec<&str> = res
        .json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "client",
            "created",
            "expiry",
            "id",
            "last_used",
            "name",
            "scopes",
            "token",
            "token_hint"
        ]
    );
    assert_eq!(res.json["name"], "default");
    assert_eq!(res.json["scopes"], json!(null), "unrestricted");

    let shown = app.get(PATH, &alice.token).await;
    assert_eq!(shown.status, StatusCode::OK, "{:?}", shown.json);
    let mut expected = res.json.clone();
    expected.as_object_mut().unwrap().remove("token");
    assert_eq!(shown.json, expected);
    assert!(
        !String::from_utf8_lossy(&shown.body).contains(token.as_str()),
        "never shown again"
    );
}

#[tokio::test]
async fn a_second_key_is_a_conflict() {
    let app = TestApp::new().await;
    let alice = app.user_with_login("alice", "web").await;
    let first = key_of(&app, &alice.token).await;
    let res = create_key(&app, &alice.token).await;
    assert_eq!(res.status, StatusCode::CONFLICT);
    assert_eq!(res.code(), "conflict");
    assert!(!String::from_utf8_lossy(&res.body).contains("tsk_"));
    assert_eq!(
        app.get("/api/auth/me", &first).await.status,
        StatusCode::OK,
        "the first key still works"
    );
}

#[tokio::test]
async fn the_key_authenticates_as_an_api_key() {
    let app = TestApp::new().await;
    let alice = app.user_with_login("alice", "web").await;
    let key = key_of(&app, &alice.token).await;
    let res = app.get("/api/auth/me", &key).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    assert_eq!(res.json["user"]["id"], alice.user_id);
    assert_eq!(res.json["user"]["username"], "alice");
    assert_eq!(res.json["session"]["kind"], "api_key");
    assert_eq!(res.json["session"]["client"], "api");
    assert_eq!(res.json["session"]["is_current"], true);
    // The key can manage itself like any token.
    let res = app.get(PATH, &key).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.json["token_hint"], &key[..8]);
}

#[tokio::test]
async fn logoutall_ends_the_key() {
    let app = TestApp::new().await;
    let alice = app.user_with_login("alice", "web").await;
    let key = key_of(&app, &alice.token).await;
    let res = app
        .call(
            Method::POST,
            "/api/auth/logoutall",
            Some(&alice.token),
            None,
        )
        .await;
    assert_eq!(res.status, StatusCode::NO_CONTENT);
    let res = app.get("/api/auth/me", &key).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert_eq!(res.code(), "invalid_token");
    let again = app.login("alice", "web").await;
    let res = app.get(PATH, &again.token).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(res.code(), "not_found");
}

#[tokio::test]
async fn revoking_other_sessions_keeps_the_key() {
    let app = TestApp::new().await;
    let alice = app.user_with_login("alice", "web").await;
    let other = app.login("alice", "cli").await;
    let key = key_of(&app, &alice.token).await;
    let res = app.delete("/api/auth/sessions", &alice.token).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.json, json!({"revoked": 1}));
    assert_eq!(
        app.get("/api/auth/me", &other.token).await.code(),
        "invalid_token"
    );
    let res = app.get("/api/auth/me", &key).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    assert_eq!(app.get(PATH, &alice.token).await.status, StatusCode::OK);
}

#[tokio::test]
async fn delete_ends_the_key_and_then_there_is_none() {
    let app = TestApp::new().await;
    let alice = app.user_with_login("alice", "web").await;
    let key = key_of(&app, &alice.token).await;
    let res = app.delete(PATH, &alice.token).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT);
    assert!(res.body.is_empty());
    let res = app.get("/api/auth/me", &key).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert_eq!(res.code(), "invalid_token");
    let res = app.get(PATH, &alice.token).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(res.code(), "not_found");
    let res = app.delete(PATH, &alice.token).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(res.code(), "not_found");

    let fresh = key_of(&app, &alice.token).await;
    assert_ne!(fresh, key, "a new key after deletion");
    assert_eq!(app.get("/api/auth/me", &fresh).await.status, StatusCode::OK);
}

#[tokio::test]
async fn each_user_sees_and_deletes_only_their_own_key() {
    let app = TestApp::new().await;
    let alice = app.user_with_login("alice", "web").await;
    let bob = app.user_with_login("bob", "web").await;
    let alice_key = key_of(&app, &alice.token).await;

    let res = app.get(PATH, &bob.token).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(res.code(), "not_found");
    let res = app.delete(PATH, &bob.token).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(res.code(), "not_found");
    assert_eq!(
        app.get("/api/auth/me", &alice_key).await.status,
        StatusCode::OK,
        "bob's delete missed"
    );

    let bob_key = key_of(&app, &bob.token).await;
    let shown = app.get(PATH, &bob.token).await;
    assert_eq!(shown.json["token_hint"], &bob_key[..8]);
    let shown = app.get(PATH, &alice.token).await;
    assert_eq!(shown.json["token_hint"], &alice_key[..8]);
    let res = app.get("/api/auth/me", &bob_key).await;
    assert_eq!(res.json["user"]["username"], "bob");

    assert_eq!(
        app.delete(PATH, &bob.token).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.get("/api/auth/me", &alice_key).await.status,
        StatusCode::OK,
        "alice's key survives"
    );
    assert_eq!(
        app.get("/api/auth/me", &bob_key).await.code(),
        "invalid_token"
    );
}

#[tokio::test]
async fn deleting_the_api_access_client_ends_every_key() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let alice = app.user_with_login("alice", "web").await;
    let bob = app.user_with_login("bob", "web").await;
    let alice_key = key_of(&app, &alice.token).await;
    let bob_key = key_of(&app, &bob.token).await;

    let res = app.delete("/api/admin/clients/api", &admin.token).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{:?}", res.json);
    for key in [&alice_key, &bob_key] {
        let res = app.get("/api/auth/me", key).await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED);
        assert_eq!(res.code(), "invalid_token");
    }
    assert_eq!(
        app.get("/api/auth/me", &alice.token).await.status,
        StatusCode::OK,
        "sessions stay"
    );
    let res = app.get(PATH, &alice.token).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(res.code(), "not_found");
    let res = create_key(&app, &alice.token).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert_eq!(res.code(), "api_access_unavailable");
}

#[tokio::test]
async fn login_on_the_api_access_client_is_invalid_client() {
    let app = TestApp::new().await;
    app.create_user("alice", false).await;
    let res = app
        .post(
            "/api/auth/login",
            None,
            json!({"username": "alice", "password": PASSWORD, "client": "api"}),
        )
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert_eq!(res.code(), "invalid_client");
    assert!(res.json.get("token").is_none());
}
