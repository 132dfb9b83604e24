//! Security events (SPEC §4.6, notes/design-12-events.md): every security-relevant action
//! records one event with who, what, from where; users see their own, admins all of them with
//! filters; no event carries a secret; a refused change records nothing.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::{Value, json};
use server::Settings;
use server::clock::Clock;
use std::net::SocketAddr;
use tests::{Login, PASSWORD, TestApp, TestResponse};

mod account;
mod admin;
mod atomic;
mod integrity;
mod listing;
mod login;
mod sessions;

/// The caller's own events.
const EVENTS: &str = "/api/auth/events";
/// Every event, for admins.
const ADMIN_EVENTS: &str = "/api/admin/events";
/// The address `TestApp::new` requests come from.
const LOCAL_IP: &str = "127.0.0.1";
/// A User-Agent to find again in the events.
const AGENT: &str = "EventsTest/1.0 (black box)";
const NEW_PASSWORD: &str = "a brand new secret";

fn assert_error(res: &TestResponse, status: StatusCode, code: &str) {
    assert_eq!(res.status, status, "{:?}", res.json);
    assert_eq!(res.code(), code, "{:?}", res.json);
}

/// Asserts that `event` has each field of `expected` (an object) with exactly that value.
fn assert_fields(event: &Value, expected: &Value) {
    for (name, value) in expected.as_object().expect("an object of fields") {
        assert_eq!(&event[name], value, "field {name} of {event}");
    }
}

/// The `type` of each event, in order.
fn types(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .map(|e| e["type"].as_str().unwrap_or_else(|| panic!("no type: {e}")))
        .collect()
}

/// The `id` of each event, in order.
fn event_ids(events: &[Value]) -> Vec<i64> {
    events
        .iter()
        .map(|e| {
            e["id"]
                .as_i64()
                .unwrap_or_else(|| panic!("no integer id: {e}"))
        })
        .collect()
}

/// GET `path` with `token`, asserting 200 and a JSON array.
async fn list(app: &TestApp, token: &str, path: &str) -> Vec<Value> {
    let res = app.get(path, token).await;
    assert_eq!(res.status, StatusCode::OK, "{path}: {:?}", res.json);
    match res.json {
        Value::Array(items) => items,
        other => panic!("{path}: not a list: {other:?}"),
    }
}

/// Every event (one page of up to 1000, newest first), as the admin API lists them.
async fn all_events(app: &TestApp, admin: &str) -> Vec<Value> {
    list(app, admin, &format!("{ADMIN_EVENTS}?limit=1000")).await
}

/// Every event of `kind` whose `user_id` is `user` (`Value::Null`: about no user).
async fn events_of(app: &TestApp, admin: &str, kind: &str, user: &Value) -> Vec<Value> {
    all_events(app, admin)
        .await
        .into_iter()
        .filter(|e| e["type"] == kind && &e["user_id"] == user)
        .collect()
}

/// The one event of `kind` about `user`, asserting there is exactly one.
async fn one(app: &TestApp, admin: &str, kind: &str, user: &Value) -> Value {
    let mut found = events_of(app, admin, kind, user).await;
    assert_eq!(found.len(), 1, "{kind} events about {user}: {found:?}");
    found.remove(0)
}

/// The one event of `kind` naming `client`, asserting there is exactly one.
async fn one_on_client(app: &TestApp, admin: &str, kind: &str, client: &str) -> Value {
    let mut found: Vec<Value> = all_events(app, admin)
        .await
        .into_iter()
        .filter(|e| e["type"] == kind && e["client"] == client)
        .collect();
    assert_eq!(found.len(), 1, "{kind} events on {client}: {found:?}");
    found.remove(0)
}

/// A JSON POST to `path` with extra headers and no credential.
fn json_request(path: &str, body: &Value, headers: &[(&str, &str)]) -> Request<Body> {
    let mut req = Request::post(path).header("content-type", "application/json");
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    req.body(Body::from(body.to_string())).unwrap()
}

/// A login attempt with any password and client.
async fn attempt(app: &TestApp, username: &str, password: &str, client: &str) -> TestResponse {
    let body = json!({"username": username, "password": password, "client": client});
    app.post("/api/auth/login", None, body).await
}

/// PATCH `path` with `token` and a JSON body.
async fn patch(app: &TestApp, token: &str, path: &str, body: Value) -> TestResponse {
    app.call(Method::PATCH, path, Some(token), Some(body)).await
}

/// Creates a user through the admin API, asserting success; returns its id.
async fn create_via_admin(app: &TestApp, admin: &str, username: &str, password: &str) -> i64 {
    let body = json!({"username": username, "password": password});
    let res = app.post("/api/admin/users", Some(admin), body).await;
    assert_eq!(res.status, StatusCode::CREATED, "{:?}", res.json);
    res.json["id"].as_i64().expect("a user id")
}

/// Creates the caller's API key; returns its token.
async fn api_key(app: &TestApp, token: &str) -> String {
    let res = app
        .call(Method::POST, "/api/auth/apiaccess", Some(token), None)
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{:?}", res.json);
    res.json["token"].as_str().expect("a key token").to_string()
}

/// The session id behind `token` (for an API key: the key's id).
async fn session_id_of(app: &TestApp, token: &str) -> String {
    let res = app.get("/api/auth/me", token).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    res.json["session"]["id"]
        .as_str()
        .expect("a session id")
        .to_string()
}

/// The URL of the next page a list response names in `Link: <…>; rel="next"`, as a path.
fn next_page(res: &TestResponse) -> Option<String> {
    let link = res.header("link");
    if link.is_empty() {
        return None;
    }
    assert!(link.ends_with("rel=\"next\""), "{link}");
    let url = link
        .strip_prefix('<')
        .and_then(|l| l.split_once('>'))
        .map(|(url, _)| url)
        .unwrap_or_else(|| panic!("not a Link: {link}"));
    // An absolute URL is followed by its path and query.
    let path = match url.split_once("://") {
        Some((_, rest)) => &rest[rest.find('/').unwrap_or(rest.len())..],
        None => url,
    };
    Some(path.to_string())
}

/// The server's current time as an RFC 3339 timestamp.
fn now_rfc3339(app: &TestApp) -> String {
    server::clock::to_datetime(app.clock.now_micros())
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}
