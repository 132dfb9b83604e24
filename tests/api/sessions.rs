//! Session management (docs/endpoints.md): listing, revoking one or all others, device names, client
//! IPs behind proxies, the admin view of a user's sessions, and the purge of expired rows.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};
use server::Settings;
use server::purge::purge_once;
use std::net::SocketAddr;
use tests::{PASSWORD, TestApp, TestResponse};

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0";

/// POST /api/auth/login with a JSON body and extra headers.
async fn login_with(app: &TestApp, body: Value, headers: &[(&str, &str)]) -> TestResponse {
    let uri = "/api/auth/login";
    let mut req = Request::post(uri).header("content-type", "application/json");
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    app.send(req.body(Body::from(body.to_string())).unwrap())
        .await
}

fn creds(username: &str, client: &str) -> Value {
    json!({"username": username, "password": PASSWORD, "client": client})
}

fn field<'a>(list: &'a Value, name: &str) -> Vec<&'a Value> {
    list.as_array().unwrap().iter().map(|s| &s[name]).collect()
}

fn ids(list: &Value) -> Vec<&str> {
    field(list, "id")
        .into_iter()
        .map(|v| v.as_str().unwrap())
        .collect()
}

fn assert_error(res: &TestResponse, status: StatusCode, code: &str) {
    assert_eq!(res.status, status, "{:?}", res.json);
    assert_eq!(res.code(), code);
}

async fn me_status(app: &TestApp, token: &str) -> StatusCode {
    app.get("/api/auth/me", token).await.status
}

async fn session_rows(app: &TestApp) -> u64 {
    let db = &app.state.db;
    entity::session::Entity::find().count(db).await.unwrap()
}

async fn create_client(app: &TestApp, admin: &str, name: &str, ttl: i64) {
    let body = json!({"name": name, "token_ttl": ttl});
    let res = app.post("/api/admin/clients", Some(admin), body).await;
    assert_eq!(res.status, StatusCode::CREATED, "{:?}", res.json);
}

async fn api_key(app: &TestApp, token: &str) -> String {
    let res = app
        .post("/api/auth/apiaccess", Some(token), json!({}))
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{:?}", res.json);
    res.json["token"].as_str().unwrap().to_string()
}

fn one(id: &str) -> String {
    format!("/api/auth/sessions/{id}")
}

#[tokio::test]
async fn list_is_most_recently_used_first_then_newest_created() {
    let app = TestApp::new().await;
    let a = app.user_with_login("alice", "web").await;
    app.clock.advance_secs(1.0);
    let b = app.login("alice", "cli").await;
    app.clock.advance_secs(1.0);
    let c = app.login("alice", "mobile").await;
    app.clock.advance_secs(1.0);
    let d = app.login("alice", "web").await;
    // A and B are used at the same instant (a tie on last_used); C is never used again.
    app.clock.advance_secs(61.0);
    assert_eq!(me_status(&app, &a.token).await, StatusCode::OK);
    assert_eq!(me_status(&app, &b.token).await, StatusCode::OK);
    app.clock.advance_secs(1.0);

    let res = app.get("/api/auth/sessions", &d.token).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    let expected = [
        &*d.session_id,
        &*b.session_id,
        &*a.session_id,
        &*c.session_id,
    ];
    assert_eq!(ids(&res.json), expected);
    let current = field(&res.json, "is_current");
    assert_eq!(current, [true, false, false, false]);
    assert_eq!(res.json[3]["client"], "mobile");
}

#[tokio::test]
async fn list_has_the_session_fields_and_never_the_token_or_digest() {
    let app = TestApp::new().await;
    let a = app.user_with_login("alice", "web").await;
    let b = app.login("alice", "cli").await;
    let res = app.get("/api/auth/sessions", &a.token).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.header("cache-control"), "no-store");
    let mut keys: Vec<&String> = res.json[0].as_object().unwrap().keys().collect();
    keys.sort_unstable();
    let expected = "authenticated_at client created device_name expiry id ip is_current kind last_used name scopes token_hint user_agent";
    assert_eq!(keys, expected.split(' ').collect::<Vec<_>>());
    let body = String::from_utf8(res.body.clone()).unwrap();
    for token in [&a.token, &b.token] {
        let (_, digest) = server::token::parse(token).expect("a well-formed token");
        assert!(!body.contains(token.as_str()), "the token leaked: {body}");
        assert!(!body.contains(digest.as_str()), "the digest leaked: {body}");
    }
    let list = res.json.as_array().unwrap();
    let mine = list
        .iter()
        .find(|s| s["id"] == a.session_id.as_str())
        .unwrap();
    assert_eq!(mine["kind"], "session");
    assert_eq!(mine["token_hint"], &a.token[..8]);
    assert_eq!(mine["ip"], "127.0.0.1");
}

#[tokio::test]
async fn list_leaves_out_expired_sessions_and_the_api_key() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    create_client(&app, &admin.token, "short", 60).await;
    let web = app.user_with_login("alice", "web").await;
    let short = app.login("alice", "short").await;
    api_key(&app, &web.token).await;

    let res = app.get("/api/auth/sessions", &web.token).await;
    assert_eq!(res.status, StatusCode::OK);
    let mut listed = ids(&res.json);
    listed.sort_unstable();
    let mut expected = [web.session_id.as_str(), short.session_id.as_str()];
    expected.sort_unstable();
    assert_eq!(listed, expected, "the API key is not a session");

    app.clock.advance_secs(61.0);
    assert_eq!(
        session_rows(&app).await,
        4,
        "nothing purged yet (admin, web, short, key)"
    );
    let res = app.get("/api/auth/sessions", &web.token).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(ids(&res.json), [web.session_id.as_str()]);
}

#[tokio::test]
async fn revoking_a_session_ends_it_on_the_next_request() {
    let app = TestApp::new().await;
    let a = app.user_with_login("alice", "web").await;
    let b = app.login("alice", "cli").await;
    let res = app.delete(&one(&a.session_id), &b.token).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{:?}", res.json);
    assert!(res.body.is_empty());

    let res = app.get("/api/auth/me", &a.token).await;
    assert_error(&res, StatusCode::UNAUTHORIZED, "invalid_token");
    let res = app.get("/api/auth/sessions", &b.token).await;
    assert_eq!(ids(&res.json), [b.session_id.as_str()]);
    let res = app.delete(&one(&a.session_id), &b.token).await;
    assert_error(&res, StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn the_current_session_cannot_be_revoked_by_id() {
    let app = TestApp::new().await;
    let a = app.user_with_login("alice", "web").await;
    let res = app.delete(&one(&a.session_id), &a.token).await;
    assert_error(&res, StatusCode::BAD_REQUEST, "cannot_revoke_current");
    assert_eq!(me_status(&app, &a.token).await, StatusCode::OK);
}

#[tokio::test]
async fn foreign_and_unknown_session_ids_get_the_same_404() {
    let app = TestApp::new().await;
    let alice = app.user_with_login("alice", "web").await;
    let bob = app.user_with_login("bob", "web").await;

    let foreign = app.delete(&one(&alice.session_id), &bob.token).await;
    let unknown = app
        .delete(&one(&uuid::Uuid::new_v4().to_string()), &bob.token)
        .await;
    assert_error(&foreign, StatusCode::NOT_FOUND, "not_found");
    assert_error(&unknown, StatusCode::NOT_FOUND, "not_found");
    assert_eq!(foreign.body, unknown.body, "byte-identical bodies");
    assert_eq!(
        foreign.header("content-type"),
        unknown.header("content-type")
    );

    let malformed = app.delete(&one("not-a-uuid"), &bob.token).await;
    assert_error(&malformed, StatusCode::NOT_FOUND, "not_found");
    assert_eq!(malformed.body, unknown.body);

    assert_eq!(
        me_status(&app, &alice.token).await,
        StatusCode::OK,
        "alice keeps her session"
    );
}

#[tokio::test]
async fn revoking_all_others_keeps_the_current_session_and_the_api_key() {
    let app = TestApp::new().await;
    let a = app.user_with_login("alice", "web").await;
    let b = app.login("alice", "cli").await;
    let c = app.login("alice", "mobile").await;
    let key = api_key(&app, &a.token).await;
    let bob = app.user_with_login("bob", "web").await;

    let res = app.delete("/api/auth/sessions", &c.token).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    assert_eq!(res.json, json!({"revoked": 2}));
    for gone in [&a.token, &b.token] {
        let res = app.get("/api/auth/me", gone).await;
        assert_error(&res, StatusCode::UNAUTHORIZED, "invalid_token");
    }
    assert_eq!(me_status(&app, &c.token).await, StatusCode::OK);
    let res = app.get("/api/auth/me", &key).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.json["session"]["kind"], "api_key");
    assert_eq!(
        me_status(&app, &bob.token).await,
        StatusCode::OK,
        "other users untouched"
    );

    let res = app.delete("/api/auth/sessions", &c.token).await;
    assert_eq!(res.json, json!({"revoked": 0}));
}

#[tokio::test]
async fn device_name_from_the_body_wins_over_the_user_agent() {
    let app = TestApp::new().await;
    app.create_user("alice", false).await;
    let mut body = creds("alice", "web");
    body["device_name"] = json!("Alice's laptop");
    let res = login_with(&app, body, &[("user-agent", FIREFOX)]).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    assert_eq!(res.json["session"]["device_name"], "Alice's laptop");
    assert_eq!(res.json["session"]["user_agent"], FIREFOX);
}

#[tokio::test]
async fn device_name_is_derived_from_the_user_agent() {
    let app = TestApp::new().await;
    app.create_user("alice", false).await;
    let res = login_with(&app, creds("alice", "web"), &[("user-agent", FIREFOX)]).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    assert_eq!(res.json["session"]["device_name"], "Firefox 132 on Linux");
    let token = res.json["token"].as_str().unwrap().to_string();
    let listed = app.get("/api/auth/sessions", &token).await;
    assert_eq!(listed.json[0]["device_name"], "Firefox 132 on Linux");
    assert_eq!(listed.json[0]["user_agent"], FIREFOX);

    let res = login_with(&app, creds("alice", "web"), &[]).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.json["session"]["device_name"], "Unknown device");
    assert_eq!(res.json["session"]["user_agent"], "");
}

#[tokio::test]
async fn device_name_over_100_characters_is_a_validation_error() {
    let app = TestApp::new().await;
    app.create_user("alice", false).await;
    let mut body = creds("alice", "web");
    body["device_name"] = json!("x".repeat(101));
    let res = login_with(&app, body.clone(), &[]).await;
    assert_error(&res, StatusCode::BAD_REQUEST, "validation_error");
    assert!(
        res.json["fields"]["device_name"].is_array(),
        "{:?}",
        res.json
    );

    body["device_name"] = json!("é".repeat(100));
    let res = login_with(&app, body, &[]).await;
    assert_eq!(
        res.status,
        StatusCode::OK,
        "100 characters are fine: {:?}",
        res.json
    );
    assert_eq!(res.json["session"]["device_name"], "é".repeat(100));
}

fn behind_proxy() -> Settings {
    let trusted_proxies = vec!["10.0.0.0/8".parse().unwrap()];
    Settings {
        trusted_proxies,
        ..Default::default()
    }
}

#[tokio::test]
async fn a_trusted_proxy_forwards_the_right_most_untrusted_hop() {
    let peer: SocketAddr = "10.0.0.1:5000".parse().unwrap();
    let app = TestApp::with_settings_and_peer(behind_proxy(), peer).await;
    app.create_user("alice", false).await;
    let xff = [("x-forwarded-for", "6.6.6.6, 1.2.3.4, 10.0.0.7")];
    let res = login_with(&app, creds("alice", "web"), &xff).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    assert_eq!(res.json["session"]["ip"], "1.2.3.4");
    let token = res.json["token"].as_str().unwrap().to_string();
    assert_eq!(
        app.get("/api/auth/sessions", &token).await.json[0]["ip"],
        "1.2.3.4"
    );

    let res = login_with(&app, creds("alice", "web"), &[]).await;
    assert_eq!(
        res.json["session"]["ip"], "10.0.0.1",
        "no header: the peer itself"
    );
}

#[tokio::test]
async fn an_untrusted_peer_cannot_forward_an_address() {
    let peer: SocketAddr = "203.0.113.9:5000".parse().unwrap();
    let app = TestApp::with_settings_and_peer(behind_proxy(), peer).await;
    app.create_user("alice", false).await;
    let xff = [("x-forwarded-for", "1.2.3.4")];
    let res = login_with(&app, creds("alice", "web"), &xff).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    assert_eq!(res.json["session"]["ip"], "203.0.113.9");
}

#[tokio::test]
async fn admin_lists_and_ends_every_session_and_key_of_a_user() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let a = app.user_with_login("alice", "web").await;
    let b = app.login("alice", "cli").await;
    let key = api_key(&app, &a.token).await;
    let path = format!("/api/admin/users/{}/sessions", a.user_id);

    let res = app.get(&path, &admin.token).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    let mut kinds = field(&res.json, "kind");
    kinds.sort_by_key(|k| k.as_str());
    assert_eq!(kinds, ["api_key", "session", "session"]);
    assert!(field(&res.json, "is_current").iter().all(|c| **c == false));
    let list = res.json.as_array().unwrap();
    let api = list.iter().find(|s| s["kind"] == "api_key").unwrap();
    assert_eq!(api["client"], "api");
    assert_eq!(api["token_hint"], &key[..8]);
    assert!(!String::from_utf8_lossy(&res.body).contains(key.as_str()));

    let res = app.delete(&path, &admin.token).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.json, json!({"revoked": 3}));
    for gone in [&a.token, &b.token, &key] {
        let res = app.get("/api/auth/me", gone).await;
        assert_error(&res, StatusCode::UNAUTHORIZED, "invalid_token");
    }
    assert_eq!(app.get(&path, &admin.token).await.json, json!([]));
    assert_eq!(me_status(&app, &admin.token).await, StatusCode::OK);
}

#[tokio::test]
async fn admin_listing_of_their_own_sessions_marks_none_current() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let path = format!("/api/admin/users/{}/sessions", admin.user_id);
    let res = app.get(&path, &admin.token).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(ids(&res.json), [admin.session_id.as_str()]);
    assert_eq!(res.json[0]["is_current"], false);
}

#[tokio::test]
async fn admin_sessions_of_an_unknown_user_are_404_and_non_admins_get_403() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let alice = app.user_with_login("alice", "web").await;
    for path in [
        "/api/admin/users/99999/sessions",
        "/api/admin/users/abc/sessions",
    ] {
        for method in [Method::GET, Method::DELETE] {
            let res = app
                .call(method.clone(), path, Some(&admin.token), None)
                .await;
            assert_error(&res, StatusCode::NOT_FOUND, "not_found");
        }
    }
    let path = format!("/api/admin/users/{}/sessions", alice.user_id);
    let res = app.get(&path, &alice.token).await;
    assert_error(&res, StatusCode::FORBIDDEN, "permission_denied");
    let res = app.delete(&path, &alice.token).await;
    assert_error(&res, StatusCode::FORBIDDEN, "permission_denied");
    assert_eq!(me_status(&app, &alice.token).await, StatusCode::OK);
}

#[tokio::test]
async fn purge_deletes_expired_sessions_in_batches_and_keeps_live_ones() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    create_client(&app, &admin.token, "short", 60).await;
    let live = app.user_with_login("alice", "web").await;
    for _ in 0..5 {
        app.login("alice", "short").await;
    }
    assert_eq!(session_rows(&app).await, 7);

    assert_eq!(
        purge_once(&app.state.db, app.state.clock.as_ref(), 2)
            .await
            .unwrap(),
        0,
        "nothing has expired yet"
    );
    app.clock.advance_secs(61.0);
    assert_eq!(
        purge_once(&app.state.db, app.state.clock.as_ref(), 2)
            .await
            .unwrap(),
        5
    );
    assert_eq!(
        session_rows(&app).await,
        2,
        "the admin's and alice's web sessions remain"
    );
    assert_eq!(
        purge_once(&app.state.db, app.state.clock.as_ref(), 2)
            .await
            .unwrap(),
        0
    );
    assert_eq!(me_status(&app, &live.token).await, StatusCode::OK);
    assert_eq!(me_status(&app, &admin.token).await, StatusCode::OK);
}

#[tokio::test]
async fn revoke_counts_only_live_sessions() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    app.patch_client(&admin.token, "mobile", json!({"token_ttl": 60}))
        .await;
    let current = app.user_with_login("counter", "web").await;
    app.login("counter", "mobile").await;
    app.clock.advance_secs(61.0);
    app.login("counter", "cli").await;
    let res = app.delete("/api/auth/sessions", &current.token).await;
    assert_eq!(
        res.json,
        json!({"revoked": 1}),
        "the expired mobile session is not counted"
    );
}
