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

// --- HTTP Basic at login ---------------------------------------------------------------------

#[tokio::test]
async fn basic_credentials_log_in_with_the_client_in_a_json_or_form_body() {
    let app = TestApp::new().await;
    let id = app.create_user("alice", false).await;
    let auth = basic(&format!("alice:{PASSWORD}"));
    let res = app
        .send(basic_login(
            &auth,
            &json!({"client": "cli", "device_name": "build box"}),
        ))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    let token = res.json["token"].as_str().expect("a token").to_string();
    assert!(server::token::parse(&token).is_some(), "{token}");
    assert!(res.json["device_proof"].is_string(), "{:?}", res.json);
    assert_eq!(
        res.json["user"],
        json!({"id": id, "username": "alice", "is_admin": false})
    );
    assert_eq!(res.json["session"]["client"], "cli");
    assert_eq!(res.json["session"]["device_name"], "build box");
    let me = app.get(ME, &token).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json["user"]["username"], "alice");

    let form = post_request(
        "/api/auth/login",
        "application/x-www-form-urlencoded",
        "client=cli",
        &[("authorization", auth.as_str())],
    );
    let res = app.send(form).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    assert_eq!(res.json["session"]["client"], "cli");
    assert!(res.json["token"].is_string());

    // RFC 7235: the scheme name is case-insensitive.
    let lower = format!("basic {}", base64(format!("alice:{PASSWORD}").as_bytes()));
    let res = app
        .send(basic_login(&lower, &json!({"client": "cli"})))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
}

#[tokio::test]
async fn basic_credentials_that_are_wrong_fail_like_any_login() {
    let app = TestApp::new().await;
    app.create_user("alice", false).await;
    let body = json!({"client": "cli"});
    for credentials in [
        "alice:not the password",
        "nobody:correct horse battery",
        "ALICE:correct horse battery",
    ] {
        let res = app.send(basic_login(&basic(credentials), &body)).await;
        assert_error(&res, StatusCode::BAD_REQUEST, "invalid_credentials");
        assert_eq!(
            res.json["detail"],
            "Unable to log in with provided credentials."
        );
    }
    let auth = basic(&format!("alice:{PASSWORD}"));
    let res = app
        .send(basic_login(&auth, &json!({"client": "nope"})))
        .await;
    assert_error(&res, StatusCode::BAD_REQUEST, "unknown_client");
    let res = app.send(basic_login(&auth, &json!({}))).await;
    assert_validation(&res, &["client"]);
    assert_eq!(session_rows(&app).await, 0);
}

#[tokio::test]
async fn credentials_in_both_basic_and_the_body_are_a_validation_error_naming_authorization() {
    let app = TestApp::new().await;
    app.create_user("alice", false).await;
    let auth = basic(&format!("alice:{PASSWORD}"));
    let bodies = [
        json!({"client": "cli", "username": "alice"}),
        json!({"client": "cli", "password": PASSWORD}),
        json!({"client": "cli", "username": "alice", "password": PASSWORD}),
    ];
    for body in bodies {
        let res = app.send(basic_login(&auth, &body)).await;
        assert_validation(&res, &["authorization"]);
    }
    assert_eq!(session_rows(&app).await, 0, "no login happened");
}

#[tokio::test]
async fn malformed_basic_credentials_are_a_validation_error_naming_authorization() {
    let app = TestApp::new().await;
    app.create_user("alice", false).await;
    let not_utf8 = format!("Basic {}", base64(&[0xff, 0xfe, b':', b'x']));
    let cases = [
        "Basic !!!not base64!!!".to_string(),
        basic("alice-without-a-colon"),
        not_utf8,
    ];
    for auth in cases {
        let res = app
            .send(basic_login(&auth, &json!({"client": "cli"})))
            .await;
        assert_validation(&res, &["authorization"]);
    }
}

#[tokio::test]
async fn a_basic_password_may_contain_colons() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let password = "pass:word:with colons";
    let res = app
        .post(
            "/api/admin/users",
            Some(&admin.token),
            json!({"username": "carol", "password": password}),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{:?}", res.json);
    let auth = basic(&format!("carol:{password}"));
    let res = app
        .send(basic_login(&auth, &json!({"client": "cli"})))
        .await;
    assert_eq!(
        res.status,
        StatusCode::OK,
        "split at the first colon: {:?}",
        res.json
    );
    assert_eq!(res.json["user"]["username"], "carol");
    // Only the whole password after the first colon is right.
    let res = app
        .send(basic_login(
            &basic("carol:pass:word"),
            &json!({"client": "cli"}),
        ))
        .await;
    assert_error(&res, StatusCode::BAD_REQUEST, "invalid_credentials");
}

// --- Remote user ------------------------------------------------------------------------------

fn remote_settings(create: bool) -> Settings {
    Settings {
        // Settings keeps the header name lower-case (as the command line normalises it).
        remote_user_header: Some("x-remote-user".into()),
        remote_user_create: create,
        trusted_proxies: vec!["10.0.0.1/32".parse().unwrap()],
        ..Settings::default()
    }
}

async fn remote_app(create: bool) -> TestApp {
    TestApp::with_settings_and_peer(remote_settings(create), PROXY.parse().unwrap()).await
}

/// POST /api/auth/login/remote naming `user` in the remote-user header (when given).
fn remote_request(user: Option<&str>, body: &Value, headers: &[(&str, &str)]) -> Request<Body> {
    let mut all: Vec<(&str, &str)> = headers.to_vec();
    if let Some(user) = user {
        all.push(("x-remote-user", user));
    }
    json_request(REMOTE, body, &all)
}

#[tokio::test]
async fn a_trusted_proxy_logs_the_named_user_in() {
    let app = remote_app(false).await;
    let id = app.create_user("alice", false).await;
    let body = json!({"client": "cli", "device_name": "SSO laptop"});
    let res = app.send(remote_request(Some("alice"), &body, &[])).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    assert_eq!(res.header("cache-control"), "no-store");
    let token = res.json["token"].as_str().expect("a token").to_string();
    assert!(server::token::parse(&token).is_some(), "{token}");
    assert!(
        res.json.get("device_proof").is_none(),
        "no password was proved: {:?}",
        res.json
    );
    assert_eq!(
        res.json["user"],
        json!({"id": id, "username": "alice", "is_admin": false})
    );
    assert_eq!(res.json["session"]["client"], "cli");
    assert_eq!(res.json["session"]["device_name"], "SSO laptop");
    let me = app.get(ME, &token).await;
    assert_eq!(me.status, StatusCode::OK, "{:?}", me.json);
    assert_eq!(me.json["user"]["username"], "alice");
    assert_eq!(me.json["session"]["client"], "cli");

    // A form body works too, and X-Forwarded-For from the trusted proxy names the client IP.
    let form = post_request(
        REMOTE,
        "application/x-www-form-urlencoded",
        "client=mobile",
        &[
            ("x-remote-user", "alice"),
            ("x-forwarded-for", "203.0.113.5"),
        ],
    );
    let res = app.send(form).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    assert_eq!(res.json["session"]["client"], "mobile");
    assert_eq!(res.json["session"]["ip"], "203.0.113.5");

    let res = app
        .send(remote_request(
            Some("alice"),
            &json!({"client": "nope"}),
            &[],
        ))
        .await;
    assert_error(&res, StatusCode::BAD_REQUEST, "unknown_client");
}

#[tokio::test]
async fn remote_login_from_an_untrusted_peer_is_refused_whatever_it_forwards() {
    let app = remote_app(false).await;
    app.create_user("alice", false).await;
    let body = json!({"client": "cli"});
    for peer in ["192.0.2.50:1234", "10.0.0.2:5000", "127.0.0.1:40000"] {
        let peer: SocketAddr = peer.parse().unwrap();
        let req = remote_request(Some("alice"), &body, &[("x-forwarded-for", "10.0.0.1")]);
        let res = app.send_from(req, peer).await;
        assert_error(&res, StatusCode::FORBIDDEN, "permission_denied");
        assert!(res.json.get("token").is_none());
    }
    assert_eq!(session_rows(&app).await, 0);
}

#[tokio::test]
async fn remote_login_without_the_header_is_not_authenticated() {
    let app = remote_app(false).await;
    app.create_user("alice", false).await;
    let body = json!({"client": "cli"});
    for user in [None, Some(""), Some("   ")] {
        let res = app.send(remote_request(user, &body, &[])).await;
        assert_error(&res, StatusCode::UNAUTHORIZED, "not_authenticated");
    }
    assert_eq!(session_rows(&app).await, 0);
}

#[tokio::test]
async fn remote_login_of_an_unknown_or_inactive_user_fails_and_creates_nobody() {
    let app = remote_app(false).await;
    let admin = app.admin().await;
    let dave = app.create_user("dave", false).await;
    let res = app
        .call(
            Method::PATCH,
            &format!("/api/admin/users/{dave}"),
            Some(&admin.token),
            Some(json!({"is_active": false})),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    let users = user_rows(&app).await;
    let body = json!({"client": "cli"});
    for user in ["mallory", "dave", "Root"] {
        let res = app.send(remote_request(Some(user), &body, &[])).await;
        assert_error(&res, StatusCode::BAD_REQUEST, "invalid_credentials");
        assert_eq!(
            res.json["detail"],
            "Unable to log in with provided credentials."
        );
    }
    assert_eq!(user_rows(&app).await, users, "nobody was created");
    assert!(user_row(&app, "mallory").await.is_none());
}

#[tokio::test]
async fn remote_login_may_create_unknown_users_without_a_usable_password() {
    let app = remote_app(true).await;
    let admin = app.admin().await;
    let body = json!({"client": "cli"});
    let res = app.send(remote_request(Some("newbie"), &body, &[])).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    let token = res.json["token"].as_str().unwrap().to_string();
    let id = res.json["user"]["id"].clone();
    assert_eq!(res.json["user"]["username"], "newbie");
    assert_eq!(res.json["user"]["is_admin"], false);
    let row = user_row(&app, "newbie")
        .await
        .expect("the user was created");
    assert!(row.is_active);
    assert!(!row.is_admin);
    let me = app.get(ME, &token).await;
    assert_eq!(me.json["user"]["username"], "newbie");

    // The next remote login finds the same user.
    let again = app.send(remote_request(Some("newbie"), &body, &[])).await;
    assert_eq!(again.status, StatusCode::OK, "{:?}", again.json);
    assert_eq!(again.json["user"]["id"], id);

    // No password logs this user in, or re-authenticates, or can be changed.
    for password in [PASSWORD, "anything at all"] {
        let res = login_with_password(&app, "newbie", password).await;
        assert_error(&res, StatusCode::BAD_REQUEST, "invalid_credentials");
    }
    let res = app
        .post(REAUTH, Some(&token), json!({"password": "anything at all"}))
        .await;
    assert_error(&res, StatusCode::BAD_REQUEST, "invalid_credentials");
    let change = json!({"current_password": "anything at all", "new_password": NEW_PASSWORD});
    let res = app.post(PASSWORD_PATH, Some(&token), change).await;
    assert_error(&res, StatusCode::BAD_REQUEST, "invalid_credentials");

    // An inactive user is not unknown: creating is no way back in.
    let dave = app.create_user("dave", false).await;
    let res = app
        .call(
            Method::PATCH,
            &format!("/api/admin/users/{dave}"),
            Some(&admin.token),
            Some(json!({"is_active": false})),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    let res = app.send(remote_request(Some("dave"), &body, &[])).await;
    assert_error(&res, StatusCode::BAD_REQUEST, "invalid_credentials");
    assert!(
        !user_row(&app, "dave").await.unwrap().is_active,
        "still inactive"
    );
}

#[tokio::test]
async fn remote_login_does_not_exist_without_a_configured_header() {
    let settings = Settings {
        trusted_proxies: vec!["10.0.0.1/32".parse().unwrap()],
        ..Settings::default()
    };
    let app = TestApp::with_settings_and_peer(settings, PROXY.parse().unwrap()).await;
    app.create_user("alice", false).await;
    let res = app
        .send(remote_request(
            Some("alice"),
            &json!({"client": "cli"}),
            &[],
        ))
        .await;
    assert_error(&res, StatusCode::NOT_FOUND, "not_found");
    assert_eq!(session_rows(&app).await, 0);
}

#[tokio::test]
async fn remote_login_to_a_cookie_client_sets_the_cookie() {
    let app = remote_app(false).await;
    app.create_user("alice", false).await;
    let res = app
        .send(remote_request(
            Some("alice"),
            &json!({"client": "browser"}),
            &[],
        ))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    assert!(res.json.get("token").is_none(), "{:?}", res.json);
    assert!(res.json["csrf_token"].is_string(), "{:?}", res.json);
    let cookie = set_cookie(&res, COOKIE).expect("the session cookie");
    assert!(cookie.has("HttpOnly") && cookie.has("Secure") && cookie.has("SameSite=Lax"));
    let browser = browser_from(&res, COOKIE);
    let me = app
        .send(by_cookie(Method::GET, ME, &browser.token, &[]))
        .await;
    assert_eq!(me.status, StatusCode::OK, "{:?}", me.json);
    assert_eq!(me.json["user"]["username"], "alice");
    assert_eq!(me.json["session"]["client"], "browser");
    assert_eq!(me.json["session"]["id"], browser.session_id);
    let csrf = app
        .send(by_cookie(
            Method::GET,
            "/api/auth/csrf",
            &browser.token,
            &[],
        ))
        .await;
    assert_eq!(csrf.json, json!({"csrf_token": browser.csrf}));
}

// --- Sign-up ----------------------------------------------------------------------------------

fn open_signup() -> Settings {
    Settings {
        signup_open: true,
        ..Settings::default()
    }
}

async fn signup(app: &TestApp, username: &str, password: &str) -> TestResponse {
    let body = json!({"username": username, "password": password});
    app.post(SIGNUP, None, body).await
}

#[tokio::test]
async fn signup_is_closed_by_default() {
    let app = TestApp::new().await;
    let res = signup(&app, "zoe", PASSWORD).await;
    assert_error(&res, StatusCode::NOT_FOUND, "not_found");
    assert!(user_row(&app, "zoe").await.is_none());
}

#[tokio::test]
async fn open_signup_creates_a_user_who_can_log_in() {
    let app = TestApp::with_settings(open_signup()).await;
    let res = signup(&app, "zoe", PASSWORD).await;
    assert_eq!(res.status, StatusCode::CREATED, "{:?}", res.json);
    assert_eq!(res.header("cache-control"), "no-store");
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
            "created",
            "id",
            "is_active",
            "is_admin",
            "last_login",
            "username"
        ]
    );
    assert!(res.json["id"].is_i64(), "{:?}", res.json);
    assert_eq!(res.json["username"], "zoe");
    assert_eq!(res.json["is_active"], true);
    assert_eq!(res.json["is_admin"], false);
    assert_eq!(res.json["last_login"], json!(null));
    assert_eq!(timestamp(&res.json["created"]), now(&app));
    assert!(!String::from_utf8_lossy(&res.body).contains(PASSWORD));

    let login = app.login("zoe", "web").await;
    assert_eq!(json!(login.user_id), res.json["id"]);

    let res = signup(&app, "zoe", "another password").await;
    assert_error(&res, StatusCode::CONFLICT, "conflict");
    let res = login_with_password(&app, "zoe", "another password").await;
    assert_error(&res, StatusCode::BAD_REQUEST, "invalid_credentials");
}

#[tokio::test]
async fn signup_names_each_bad_field() {
    let app = TestApp::with_settings(open_signup()).await;
    let res = signup(&app, "bad name!", "short").await;
    assert_validation(&res, &["username", "password"]);
    let res = app.post(SIGNUP, None, json!({})).await;
    assert_validation(&res, &["username", "password"]);
    let res = signup(&app, &"u".repeat(151), PASSWORD).await;
    assert_validation(&res, &["username"]);
    let res = signup(&app, "", PASSWORD).await;
    assert_validation(&res, &["username"]);
    let res = signup(&app, "zoe", &"p".repeat(1025)).await;
    assert_validation(&res, &["password"]);
    let res = signup(&app, "zoe", "1234567").await;
    assert_validation(&res, &["password"]);
    assert_eq!(user_rows(&app).await, 0, "nobody was created");
    // The limits themselves are fine.
    let res = signup(&app, &"u".repeat(150), "12345678").await;
    assert_eq!(res.status, StatusCode::CREATED, "{:?}", res.json);
}

#[tokio::test]
async fn signup_spends_the_per_ip_login_budget() {
    let settings = Settings {
        login_rate_per_ip: "2/m".parse().unwrap(),
        ..open_signup()
    };
    let app = TestApp::with_settings(settings).await;
    for name in ["one", "two"] {
        let res = signup(&app, name, PASSWORD).await;
        assert_eq!(res.status, StatusCode::CREATED, "{name}: {:?}", res.json);
    }
    let res = signup(&app, "three", PASSWORD).await;
    assert_error(&res, StatusCode::TOO_MANY_REQUESTS, "throttled");
    let retry: u64 = res.header("retry-after").parse().expect("Retry-After");
    assert!(retry >= 1, "{retry}");
    assert!(
        user_row(&app, "three").await.is_none(),
        "a refused sign-up creates nobody"
    );
    // Another address has its own budget.
    let elsewhere: SocketAddr = "192.0.2.99:4000".parse().unwrap();
    let body = json!({"username": "three", "password": PASSWORD});
    let res = app
        .send_from(json_request(SIGNUP, &body, &[]), elsewhere)
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{:?}", res.json);
}

// --- Re-authentication ------------------------------------------------------------------------

async fn verify_max_age(app: &TestApp, token: &str, max_age: &str) -> TestResponse {
    app.get(&format!("{VERIFY}?max_age={max_age}"), token).await
}

#[tokio::test]
async fn reauthentication_refreshes_the_proof_that_verify_max_age_asks_for() {
    let app = TestApp::new().await;
    let alice = app.user_with_login("alice", "web").await;
    let me = app.get(ME, &alice.token).await;
    let session = &me.json["session"];
    assert_eq!(
        session["authenticated_at"], session["created"],
        "the login is the first proof"
    );

    app.clock.advance_secs(600.0);
    let res = verify_max_age(&app, &alice.token, "300").await;
    assert_error(&res, StatusCode::UNAUTHORIZED, "reauthentication_required");
    assert!(
        res.headers.get("x-auth-user-id").is_none(),
        "no identity on a refusal"
    );
    let res = verify_max_age(&app, &alice.token, "600").await;
    assert_eq!(
        res.status,
        StatusCode::OK,
        "exactly 600 s old: {:?}",
        res.json
    );
    assert_eq!(
        app.get(ME, &alice.token).await.status,
        StatusCode::OK,
        "the session goes on"
    );

    let res = app
        .post(REAUTH, Some(&alice.token), json!({"password": PASSWORD}))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    let keys: Vec<&String> = res.json.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["authenticated_at"]);
    let proved = res.json["authenticated_at"].clone();
    assert_eq!(timestamp(&proved), now(&app));
    for max_age in ["300", "0"] {
        let res = verify_max_age(&app, &alice.token, max_age).await;
        assert_eq!(
            res.status,
            StatusCode::OK,
            "max_age={max_age}: {:?}",
            res.json
        );
    }
    let me = app.get(ME, &alice.token).await;
    assert_eq!(me.json["session"]["authenticated_at"], proved);

    app.clock.advance_secs(100.0);
    let res = app
        .post(
            REAUTH,
            Some(&alice.token),
            json!({"password": "not the password"}),
        )
        .await;
    assert_error(&res, StatusCode::BAD_REQUEST, "invalid_credentials");
    let me = app.get(ME, &alice.token).await;
    assert_eq!(
        me.json["session"]["authenticated_at"], proved,
        "a failure changes nothing"
    );
    let res = verify_max_age(&app, &alice.token, "99").await;
    assert_error(&res, StatusCode::UNAUTHORIZED, "reauthentication_required");

    let res = app.post(REAUTH, Some(&alice.token), json!({})).await;
    assert_validation(&res, &["password"]);
    let res = app
        .call(
            Method::POST,
            REAUTH,
            None,
            Some(json!({"password": PASSWORD})),
        )
        .await;
    assert_error(&res, StatusCode::UNAUTHORIZED, "not_authenticated");
}

#[tokio::test]
async fn max_age_must_be_a_non_negative_integer() {
    let app = TestApp::new().await;
    let alice = app.user_with_login("alice", "web").await;
    for max_age in ["abc", "-1", "1.5", "", "%20"] {
        let res = verify_max_age(&app, &alice.token, max_age).await;
        assert_validation(&res, &["max_age"]);
        assert!(res.headers.get("x-auth-user-id").is_none());
    }
}

#[tokio::test]
async fn an_api_key_counts_its_creation_as_its_proof() {
    let app = TestApp::new().await;
    let alice = app.user_with_login("alice", "web").await;
    app.clock.advance_secs(1_000.0);
    let key = api_key(&app, &alice.token).await;
    let res = verify_max_age(&app, &key, "60").await;
    assert_eq!(res.status, StatusCode::OK, "a new key: {:?}", res.json);
    assert_eq!(res.header("x-auth-kind"), "api_key");
    app.clock.advance_secs(600.0);
    let res = verify_max_age(&app, &key, "300").await;
    assert_error(&res, StatusCode::UNAUTHORIZED, "reauthentication_required");
    let res = verify_max_age(&app, &key, "600").await;
    assert_eq!(
        res.status,
        StatusCode::OK,
        "created 600 s ago: {:?}",
        res.json
    );
}

// --- Password change --------------------------------------------------------------------------

#[tokio::test]
async fn changing_the_password_ends_the_other_sessions_and_keeps_the_api_keys() {
    let app = TestApp::new().await;
    let first = app.user_with_login("alice", "web").await;
    let second = app.login("alice", "mobile").await;
    let key = api_key(&app, &first.token).await;
    let bob = app.user_with_login("bob", "web").await;
    app.clock.advance_secs(120.0);

    let change = json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD});
    let res = app.post(PASSWORD_PATH, Some(&first.token), change).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{:?}", res.json);
    assert!(res.body.is_empty());

    let res = app.get(ME, &second.token).await;
    assert_error(&res, StatusCode::UNAUTHORIZED, "invalid_token");
    let me = app.get(ME, &first.token).await;
    assert_eq!(me.status, StatusCode::OK, "{:?}", me.json);
    assert_eq!(
        timestamp(&me.json["session"]["authenticated_at"]),
        now(&app)
    );
    let res = app.get(ME, &key).await;
    assert_eq!(
        res.status,
        StatusCode::OK,
        "the API key is kept: {:?}",
        res.json
    );
    assert_eq!(
        app.get(ME, &bob.token).await.status,
        StatusCode::OK,
        "other users untouched"
    );
    let list = app.get("/api/auth/sessions", &first.token).await;
    let ids: Vec<&str> = list
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [first.session_id.as_str()]);

    let res = login_with_password(&app, "alice", NEW_PASSWORD).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    let res = login_with_password(&app, "alice", PASSWORD).await;
    assert_error(&res, StatusCode::BAD_REQUEST, "invalid_credentials");
}

#[tokio::test]
async fn a_refused_password_change_changes_nothing() {
    let app = TestApp::new().await;
    let first = app.user_with_login("alice", "web").await;
    let second = app.login("alice", "mobile").await;
    let proved = app.get(ME, &first.token).await.json["session"]["authenticated_at"].clone();
    app.clock.advance_secs(60.0);

    let wrong = json!({"current_password": "not the password", "new_password": NEW_PASSWORD});
    let res = app.post(PASSWORD_PATH, Some(&first.token), wrong).await;
    assert_error(&res, StatusCode::BAD_REQUEST, "invalid_credentials");

    let short = json!({"current_password": PASSWORD, "new_password": "short"});
    let res = app.post(PASSWORD_PATH, Some(&first.token), short).await;
    assert_validation(&res, &["new_password"]);
    let long = json!({"current_password": PASSWORD, "new_password": "x".repeat(1025)});
    let res = app.post(PASSWORD_PATH, Some(&first.token), long).await;
    assert_validation(&res, &["new_password"]);

    let res = app.post(PASSWORD_PATH, Some(&first.token), json!({})).await;
    assert_validation(&res, &["current_password", "new_password"]);
    let res = app
        .post(
            PASSWORD_PATH,
            Some(&first.token),
            json!({"current_password": PASSWORD}),
        )
        .await;
    assert_validation(&res, &["new_password"]);

    assert_eq!(app.get(ME, &second.token).await.status, StatusCode::OK);
    let me = app.get(ME, &first.token).await;
    assert_eq!(me.json["session"]["authenticated_at"], proved);
    let res = login_with_password(&app, "alice", PASSWORD).await;
    assert_eq!(
        res.status,
        StatusCode::OK,
        "the old password still works: {:?}",
        res.json
    );
    let res = login_with_password(&app, "alice", NEW_PASSWORD).await;
    assert_error(&res, StatusCode::BAD_REQUEST, "invalid_credentials");
}

// --- Bad input on every new endpoint ----------------------------------------------------------

/// A path, its extra headers, a body with a wrong type, and the fields that must be named.
type WrongType<'a> = (&'a str, Vec<(&'a str, &'a str)>, Value, &'a [&'a str]);

#[tokio::test]
async fn bad_bodies_on_the_new_endpoints_are_400_never_500() {
    let settings = Settings {
        signup_open: true,
        remote_user_header: Some("x-remote-user".into()),
        trusted_proxies: vec!["127.0.0.1/32".parse().unwrap()],
        // Enough budget that no 429 hides an answer.
        login_rate_per_ip: "1000/m".parse().unwrap(),
        ..Settings::default()
    };
    let app = TestApp::with_settings(settings).await;
    let alice = app.user_with_login("alice", "web").await;
    let bearer = format!("Bearer {}", alice.token);
    let basic_auth = basic(&format!("alice:{PASSWORD}"));
    let endpoints: [(&str, Vec<(&str, &str)>); 5] = [
        (SIGNUP, vec![]),
        (REMOTE, vec![("x-remote-user", "alice")]),
        (
            "/api/auth/login",
            vec![("authorization", basic_auth.as_str())],
        ),
        (REAUTH, vec![("authorization", bearer.as_str())]),
        (PASSWORD_PATH, vec![("authorization", bearer.as_str())]),
    ];
    for (path, headers) in &endpoints {
        for body in ["[]", "[1, 2]", "\"x\"", "3", "null", "true"] {
            let res = app
                .send(post_request(path, "application/json", body, headers))
                .await;
            assert_eq!(
                res.status,
                StatusCode::BAD_REQUEST,
                "{path} {body}: {:?}",
                res.json
            );
            assert_eq!(
                res.code(),
                "validation_error",
                "{path} {body}: {:?}",
                res.json
            );
            assert!(
                res.json["fields"]["non_field_errors"].is_array(),
                "{path} {body}: {:?}",
                res.json
            );
        }
        for body in ["{\"client\": ", "", "{]"] {
            let res = app
                .send(post_request(path, "application/json", body, headers))
                .await;
            assert_eq!(
                res.status,
                StatusCode::BAD_REQUEST,
                "{path} {body:?}: {:?}",
                res.json
            );
            assert_eq!(
                res.code(),
                "invalid_json",
                "{path} {body:?}: {:?}",
                res.json
            );
        }
    }

    let wrong_types: [WrongType; 8] = [
        (
            SIGNUP,
            vec![],
            json!({"username": 5, "password": PASSWORD}),
            &["username"],
        ),
        (
            SIGNUP,
            vec![],
            json!({"username": "a\u{0}b", "password": PASSWORD}),
            &["username"],
        ),
        (
            REMOTE,
            vec![("x-remote-user", "alice")],
            json!({"client": 5}),
            &["client"],
        ),
        (
            REMOTE,
            vec![("x-remote-user", "alice")],
            json!({"client": "cli", "device_name": 7}),
            &["device_name"],
        ),
        (
            "/api/auth/login",
            vec![("authorization", basic_auth.as_str())],
            json!({"client": 5}),
            &["client"],
        ),
        (
            REAUTH,
            vec![("authorization", bearer.as_str())],
            json!({"password": 5}),
            &["password"],
        ),
        (
            REAUTH,
            vec![("authorization", bearer.as_str())],
            json!({"password": null}),
            &["password"],
        ),
        (
            PASSWORD_PATH,
            vec![("authorization", bearer.as_str())],
            json!({"current_password": PASSWORD, "new_password": false}),
            &["new_password"],
        ),
    ];
    for (path, headers, body, fields) in &wrong_types {
        let res = app.send(json_request(path, body, headers)).await;
        assert_eq!(
            res.status,
            StatusCode::BAD_REQUEST,
            "{path} {body}: {:?}",
            res.json
        );
        assert_validation(&res, fields);
    }
    // Nothing of that changed alice's password or session.
    assert_eq!(app.get(ME, &alice.token).await.status, StatusCode::OK);
    let res = login_with_password(&app, "alice", PASSWORD).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
}
