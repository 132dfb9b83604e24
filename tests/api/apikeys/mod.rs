//! API keys v2 (SPEC §4.4, §3.1, §4.3; notes/apikeys-v2-contract.md): several named keys per
//! user, optionally limited to scopes, rolled with a grace window, checked by scope at
//! forward-auth, shown by the admin API, and the v1 key carried over by the migration.
//!
//! Shared here: the paths, the key fields, and helpers that create, list, delete and roll keys.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::{Value, json};
use server::Settings;
use server::clock::Clock;
use tests::{Login, TestApp, TestResponse};

mod admin;
mod create;
mod endpoints;
mod migration;
mod permissions;
mod roll;
mod scopes;

/// The caller's keys.
const KEYS: &str = "/api/auth/apikeys";
/// The v1 endpoint, which manages the key named `default`.
const APIACCESS: &str = "/api/auth/apiaccess";
const ME: &str = "/api/auth/me";
const VERIFY: &str = "/api/auth/verify";
/// The caller's own events.
const EVENTS: &str = "/api/auth/events";
/// Every field of a listed key, sorted; a created or rolled key adds `token`.
const KEY_FIELDS: [&str; 8] = [
    "client",
    "created",
    "expiry",
    "id",
    "last_used",
    "name",
    "scopes",
    "token_hint",
];
/// The identity headers of a successful forward-auth; no error carries any of them.
const X_AUTH: [&str; 6] = [
    "x-auth-user-id",
    "x-auth-username",
    "x-auth-client",
    "x-auth-session-id",
    "x-auth-kind",
    "x-auth-scopes",
];
/// The longest `expires_in`: 100 years.
const MAX_EXPIRES_IN: i64 = 3_153_600_000;
const SECOND: i64 = 1_000_000;

/// A key as its creation (or roll) answered it.
#[derive(Debug, Clone)]
struct Key {
    id: String,
    token: String,
    json: Value,
}

impl Key {
    fn from_answer(res: &TestResponse) -> Self {
        let token = res.json["token"]
            .as_str()
            .unwrap_or_else(|| panic!("no token in {:?}", res.json))
            .to_string();
        let id = res.json["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no id in {:?}", res.json))
            .to_string();
        Self {
            id,
            token,
            json: res.json.clone(),
        }
    }
}

fn assert_error(res: &TestResponse, status: StatusCode, code: &str) {
    assert_eq!(res.status, status, "{:?}", res.json);
    assert_eq!(res.code(), code, "{:?}", res.json);
}

/// Asserts a 400 `validation_error` whose `fields` names `field` (with at least one message);
/// a wrongly typed item of a list may be named by its path, e.g. `scopes[0]`.
fn assert_invalid(res: &TestResponse, field: &str, what: &str) {
    assert_eq!(
        res.status,
        StatusCode::BAD_REQUEST,
        "{what}: {:?}",
        res.json
    );
    assert_eq!(res.code(), "validation_error", "{what}: {:?}", res.json);
    let fields = res.json["fields"]
        .as_object()
        .unwrap_or_else(|| panic!("{what}: no fields in {:?}", res.json));
    let item = format!("{field}[");
    let named = fields.iter().any(|(name, messages)| {
        (name == field || name.starts_with(&item))
            && messages.as_array().is_some_and(|m| !m.is_empty())
    });
    assert!(named, "{what}: fields.{field} missing in {:?}", res.json);
    assert!(
        !String::from_utf8_lossy(&res.body).contains("tsk_"),
        "{what}: a refused create shows no token"
    );
}

/// The names of an object's fields, sorted.
fn field_names(v: &Value) -> Vec<&str> {
    let mut names: Vec<&str> = v
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .map(String::as_str)
        .collect();
    names.sort_unstable();
    names
}

/// [`KEY_FIELDS`] plus `token`, sorted.
fn new_key_fields() -> Vec<&'static str> {
    let mut names = KEY_FIELDS.to_vec();
    names.push("token");
    names.sort_unstable();
    names
}

/// POST /api/auth/apikeys with `body` as `token`.
async fn create(app: &TestApp, token: &str, body: Value) -> TestResponse {
    app.post(KEYS, Some(token), body).await
}

/// Creates a key, asserting 201.
async fn new_key(app: &TestApp, token: &str, body: Value) -> Key {
    let res = create(app, token, body.clone()).await;
    assert_eq!(res.status, StatusCode::CREATED, "{body}: {:?}", res.json);
    Key::from_answer(&res)
}

/// Creates an unrestricted key named `name`.
async fn named(app: &TestApp, token: &str, name: &str) -> Key {
    new_key(app, token, json!({"name": name})).await
}

/// Creates a key named `name` holding `scopes`.
async fn scoped(app: &TestApp, token: &str, name: &str, scopes: &[&str]) -> Key {
    new_key(app, token, json!({"name": name, "scopes": scopes})).await
}

/// GET /api/auth/apikeys, asserting 200 and a list.
async fn list(app: &TestApp, token: &str) -> Vec<Value> {
    let res = app.get(KEYS, token).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    assert_eq!(res.header("cache-control"), "no-store");
    match res.json {
        Value::Array(items) => items,
        other => panic!("not a list: {other:?}"),
    }
}

/// The `field` of each item, as strings.
fn column<'a>(items: &'a [Value], field: &str) -> Vec<&'a str> {
    items
        .iter()
        .map(|k| {
            k[field]
                .as_str()
                .unwrap_or_else(|| panic!("no string {field}: {k}"))
        })
        .collect()
}

fn key_path(id: &str) -> String {
    format!("{KEYS}/{id}")
}

/// POST /api/auth/apikeys/{id}/roll, with a JSON body or with no body and no Content-Type.
async fn roll(app: &TestApp, token: &str, id: &str, body: Option<Value>) -> TestResponse {
    let path = format!("{KEYS}/{id}/roll");
    app.call(Method::POST, &path, Some(token), body).await
}

/// A request carrying `key` in `X-Api-Key` only.
fn by_api_key(method: Method, path: &str, key: &str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(path)
        .header("x-api-key", key)
        .body(Body::empty())
        .unwrap()
}

/// Asserts that `token` authenticates; returns the `/me` answer.
async fn assert_works(app: &TestApp, token: &str, what: &str) -> Value {
    let res = app.get(ME, token).await;
    assert_eq!(res.status, StatusCode::OK, "{what}: {:?}", res.json);
    res.json
}

/// Asserts that `token` answers 401 `invalid_token`.
async fn assert_dead(app: &TestApp, token: &str, what: &str) {
    let res = app.get(ME, token).await;
    assert_eq!(
        res.status,
        StatusCode::UNAUTHORIZED,
        "{what}: {:?}",
        res.json
    );
    assert_eq!(res.code(), "invalid_token", "{what}: {:?}", res.json);
}

/// An RFC 3339 timestamp in microseconds since the epoch.
fn micros(v: &Value) -> i64 {
    let s = v
        .as_str()
        .unwrap_or_else(|| panic!("not a timestamp: {v:?}"));
    assert!(s.ends_with('Z'), "{s}");
    chrono::DateTime::parse_from_rfc3339(s)
        .unwrap_or_else(|e| panic!("{s}: {e}"))
        .timestamp_micros()
}

/// Asserts that `expiry` is `now + secs` (to the second).
fn assert_expiry_in(app: &TestApp, expiry: &Value, secs: i64) {
    let expected = app.clock.now_micros() + secs * SECOND;
    let got = micros(expiry);
    assert!(
        (got - expected).abs() <= SECOND,
        "expiry {expiry} is not now + {secs} s"
    );
}

/// The caller's own events of `kind`, newest first.
async fn my_events(app: &TestApp, token: &str, kind: &str) -> Vec<Value> {
    let res = app.get(&format!("{EVENTS}?limit=1000"), token).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    let all = res.json.as_array().cloned().unwrap_or_default();
    all.into_iter().filter(|e| e["type"] == kind).collect()
}

/// An app whose users may hold at most `n` keys.
async fn app_with_limit(n: u32) -> TestApp {
    let settings = Settings {
        max_api_keys: n,
        ..Settings::default()
    };
    TestApp::with_settings(settings).await
}

/// A user `name` logged in on `web`.
async fn user(app: &TestApp, name: &str) -> Login {
    app.user_with_login(name, "web").await
}
