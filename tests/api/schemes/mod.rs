//! The other ways in (SPEC §4.1): HTTP Basic at login, remote-user login from a trusted proxy,
//! sign-up, re-authentication with `verify?max_age=`, and the password change; and bad input on
//! each of their endpoints.

use crate::cookies::{COOKIE, browser_from, by_cookie, set_cookie};
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use server::Settings;
use server::clock::Clock;
use std::net::SocketAddr;
use tests::{PASSWORD, TestApp, TestResponse};

mod basic;
mod inputs;
mod reauth;
mod remote;
mod signup;

const ME: &str = "/api/auth/me";
const VERIFY: &str = "/api/auth/verify";
const REMOTE: &str = "/api/auth/login/remote";
const SIGNUP: &str = "/api/auth/signup";
const REAUTH: &str = "/api/auth/reauth";
const PASSWORD_PATH: &str = "/api/auth/password";
/// The trusted proxy of the remote-user tests.
const PROXY: &str = "10.0.0.1:5000";
const NEW_PASSWORD: &str = "a brand new secret";

fn assert_error(res: &TestResponse, status: StatusCode, code: &str) {
    assert_eq!(res.status, status, "{:?}", res.json);
    assert_eq!(res.code(), code, "{:?}", res.json);
}

/// A 400 `validation_error` naming each of `fields`.
fn assert_validation(res: &TestResponse, fields: &[&str]) {
    assert_error(res, StatusCode::BAD_REQUEST, "validation_error");
    for field in fields {
        assert!(
            res.json["fields"][field].is_array(),
            "{field} not named: {:?}",
            res.json
        );
    }
}

/// Standard base64 with padding (RFC 4648 §4), as `Authorization: Basic` uses it.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b1 = chunk.get(1).copied().unwrap_or(0);
        let b2 = chunk.get(2).copied().unwrap_or(0);
        let n = (u32::from(chunk[0]) << 16) | (u32::from(b1) << 8) | u32::from(b2);
        for i in 0..4 {
            if i <= chunk.len() {
                let sextet = (n >> (18 - 6 * i)) & 63;
                out.push(char::from(ALPHABET[sextet as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn basic(credentials: &str) -> String {
    format!("Basic {}", base64(credentials.as_bytes()))
}

/// POST `path` with a body of `content_type` and extra headers.
fn post_request(
    path: &str,
    content_type: &str,
    body: &str,
    headers: &[(&str, &str)],
) -> Request<Body> {
    let mut req = Request::post(path).header("content-type", content_type);
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    req.body(Body::from(body.to_string())).unwrap()
}

fn json_request(path: &str, body: &Value, headers: &[(&str, &str)]) -> Request<Body> {
    post_request(path, "application/json", &body.to_string(), headers)
}

/// A login with the credentials in `Authorization` and the JSON `body`.
fn basic_login(authorization: &str, body: &Value) -> Request<Body> {
    json_request("/api/auth/login", body, &[("authorization", authorization)])
}

fn now(app: &TestApp) -> DateTime<Utc> {
    server::clock::to_datetime(app.clock.now_micros())
}

fn timestamp(value: &Value) -> DateTime<Utc> {
    let s = value
        .as_str()
        .unwrap_or_else(|| panic!("not a timestamp: {value:?}"));
    assert!(s.ends_with('Z'), "{s}");
    DateTime::parse_from_rfc3339(s).unwrap().to_utc()
}

async fn login_with_password(app: &TestApp, username: &str, password: &str) -> TestResponse {
    let body = json!({"username": username, "password": password, "client": "web"});
    app.post("/api/auth/login", None, body).await
}

async fn user_rows(app: &TestApp) -> u64 {
    entity::user::Entity::find()
        .count(&app.state.db)
        .await
        .unwrap()
}

async fn user_row(app: &TestApp, username: &str) -> Option<entity::user::Model> {
    entity::user::Entity::find()
        .filter(entity::user::Column::Username.eq(username))
        .one(&app.state.db)
        .await
        .unwrap()
}

async fn session_rows(app: &TestApp) -> u64 {
    entity::session::Entity::find()
        .count(&app.state.db)
        .await
        .unwrap()
}

async fn api_key(app: &TestApp, token: &str) -> String {
    let res = app
        .post("/api/auth/apiaccess", Some(token), json!({}))
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{:?}", res.json);
    res.json["token"].as_str().unwrap().to_string()
}
