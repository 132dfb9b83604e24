//! The cookie transport and CSRF (SPEC §3.3, docs/tokens.md "Browser apps"): login to a cookie
//! client sets an HttpOnly cookie instead of answering the token, the cookie authenticates like any
//! credential but only for cookie clients, unsafe requests by cookie need the CSRF token and an own
//! (or allowed) `Origin`, refresh re-sends and logout clears the cookie, and the idle timeout.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};
use server::Settings;
use std::net::SocketAddr;
use tests::{PASSWORD, TestApp, TestResponse};

/// The default session cookie name.
pub(crate) const COOKIE: &str = "__Host-tessera";
/// The device-proof cookie.
const DEVICE: &str = "tessera_device";
/// A foreign origin.
const EVIL: &str = "https://evil.example";
/// The default public URL (`http://` + the default bind address).
const OWN_ORIGIN: &str = "http://127.0.0.1:8080";
/// The `browser` client's token lifetime.
const FOURTEEN_DAYS: i64 = 14 * 86_400;
const HOUR: f64 = 3_600.0;
const ME: &str = "/api/auth/me";
const VERIFY: &str = "/api/auth/verify";

/// One `Set-Cookie` of a response.
#[derive(Debug)]
pub(crate) struct SetCookie {
    pub(crate) value: String,
    attrs: Vec<String>,
}

impl SetCookie {
    /// Whether the cookie carries this attribute (`HttpOnly`, `SameSite=Lax`, …), any case.
    pub(crate) fn has(&self, attr: &str) -> bool {
        self.attrs.iter().any(|a| a.eq_ignore_ascii_case(attr))
    }

    /// The value of an attribute such as `Max-Age`.
    pub(crate) fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find_map(|a| {
            let (k, v) = a.split_once('=')?;
            k.trim().eq_ignore_ascii_case(name).then_some(v.trim())
        })
    }

    fn max_age(&self) -> i64 {
        let raw = self
            .attr("Max-Age")
            .unwrap_or_else(|| panic!("no Max-Age: {self:?}"));
        raw.parse().unwrap_or_else(|_| panic!("Max-Age {raw:?}"))
    }
}

/// The `Set-Cookie` of the cookie `name`, if the response sets it.
pub(crate) fn set_cookie(res: &TestResponse, name: &str) -> Option<SetCookie> {
    res.headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|line| {
            let mut parts = line.split(';').map(str::trim);
            let (n, v) = parts.next()?.split_once('=')?;
            (n.trim() == name).then(|| SetCookie {
                value: v.trim().to_string(),
                attrs: parts
                    .filter(|p| !p.is_empty())
                    .map(str::to_string)
                    .collect(),
            })
        })
}

fn assert_error(res: &TestResponse, status: StatusCode, code: &str) {
    assert_eq!(res.status, status, "{:?}", res.json);
    assert_eq!(res.code(), code, "{:?}", res.json);
}

/// Asserts that the response clears the session cookie `name`.
fn assert_clears(res: &TestResponse, name: &str) {
    let cookie = set_cookie(res, name)
        .unwrap_or_else(|| panic!("no Set-Cookie clearing {name}: {:?}", res.headers));
    assert_eq!(cookie.value, "", "{cookie:?}");
    assert_eq!(cookie.attr("Max-Age"), Some("0"), "{cookie:?}");
    assert_eq!(cookie.attr("Path"), Some("/"), "{cookie:?}");
}

/// A login as `username` with the test password, with extra headers.
fn login_request(username: &str, client: &str, headers: &[(&str, &str)]) -> Request<Body> {
    let body = json!({"username": username, "password": PASSWORD, "client": client});
    let mut req = Request::post("/api/auth/login").header("content-type", "application/json");
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    req.body(Body::from(body.to_string())).unwrap()
}

/// A cookie session as the browser holds it.
#[derive(Debug, Clone)]
pub(crate) struct Browser {
    /// The session cookie's value: the token.
    pub(crate) token: String,
    pub(crate) csrf: String,
    pub(crate) session_id: String,
    /// The `tessera_device` cookie's value.
    device: String,
}

/// The cookie session a successful login (or remote-user login) to a cookie client answered.
pub(crate) fn browser_from(res: &TestResponse, cookie_name: &str) -> Browser {
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    let session = set_cookie(res, cookie_name)
        .unwrap_or_else(|| panic!("no {cookie_name} cookie: {:?}", res.headers));
    let device = set_cookie(res, DEVICE).map(|c| c.value).unwrap_or_default();
    Browser {
        token: session.value,
        csrf: res.json["csrf_token"]
            .as_str()
            .expect("csrf_token")
            .to_string(),
        session_id: res.json["session"]["id"].as_str().unwrap().to_string(),
        device,
    }
}

/// Logs `username` (created before) in on `browser`.
async fn browser_login(app: &TestApp, username: &str) -> Browser {
    let res = app.send(login_request(username, "browser", &[])).await;
    browser_from(&res, COOKIE)
}

/// `method path` with the cookie `name=token` and extra headers; a POST carries `body` (or `{}`).
fn cookie_request_named(
    name: &str,
    method: Method,
    path: &str,
    token: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> Request<Body> {
    let mut req = Request::builder()
        .method(method.clone())
        .uri(path)
        .header("cookie", format!("{name}={token}"));
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let body = match (body, method == Method::POST) {
        (Some(b), _) => Some(b),
        (None, true) => Some(json!({})),
        (None, false) => None,
    };
    match body {
        Some(b) => req
            .header("content-type", "application/json")
            .body(Body::from(b.to_string()))
            .unwrap(),
        None => req.body(Body::empty()).unwrap(),
    }
}

/// `method path` authenticated by the default session cookie holding `token`.
pub(crate) fn by_cookie(
    method: Method,
    path: &str,
    token: &str,
    headers: &[(&str, &str)],
) -> Request<Body> {
    cookie_request_named(COOKIE, method, path, token, headers, None)
}

async fn me_by_cookie(app: &TestApp, token: &str) -> TestResponse {
    app.send(by_cookie(Method::GET, ME, token, &[])).await
}

fn session_path(id: &str) -> String {
    format!("/api/auth/sessions/{id}")
}

async fn session_rows(app: &TestApp) -> u64 {
    entity::session::Entity::find()
        .count(&app.state.db)
        .await
        .unwrap()
}

fn timestamp(value: &Value) -> chrono::DateTime<chrono::Utc> {
    let s = value
        .as_str()
        .unwrap_or_else(|| panic!("not a timestamp: {value:?}"));
    chrono::DateTime::parse_from_rfc3339(s).unwrap().to_utc()
}

fn ids(list: &Value) -> Vec<String> {
    let mut ids: Vec<String> = list
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {list:?}"))
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort_unstable();
    ids
}

fn sorted(ids: &[&str]) -> Vec<String> {
    let mut ids: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
    ids.sort_unstable();
    ids
}

#[tokio::test]
async fn login_to_a_cookie_client_sets_the_cookie_and_leaves_the_token_out_of_the_body() {
    let app = TestApp::new().await;
    app.create_user("alice", false).await;
    let res = app.send(login_request("alice", "browser", &[])).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
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
        ["csrf_token", "expiry", "session", "user"],
        "no token and no device_proof in the body of a cookie login"
    );
    assert_eq!(res.json["session"]["client"], "browser");
    assert_eq!(res.json["user"]["username"], "alice");

    let session = set_cookie(&res, COOKIE).expect("the session cookie");
    let token = session.value.clone();
    assert!(
        server::token::parse(&token).is_some(),
        "a well-formed token: {token}"
    );
    assert!(token.starts_with("tss_"), "{token}");
    assert_eq!(res.json["session"]["token_hint"], &token[..8]);
    assert!(session.has("HttpOnly"), "{session:?}");
    assert!(session.has("Secure"), "{session:?}");
    assert!(session.has("SameSite=Lax"), "{session:?}");
    assert_eq!(session.attr("Path"), Some("/"), "{session:?}");
    assert_eq!(session.max_age(), FOURTEEN_DAYS, "{session:?}");
    assert!(
        session.attr("Domain").is_none(),
        "__Host- cookies carry no Domain"
    );
    let created = timestamp(&res.json["session"]["created"]);
    let expiry = timestamp(&res.json["expiry"]);
    assert_eq!((expiry - created).num_seconds(), FOURTEEN_DAYS);

    let device = set_cookie(&res, DEVICE).expect("the device-proof cookie");
    assert!(!device.value.is_empty());
    assert!(device.has("HttpOnly"), "{device:?}");
    assert!(device.has("Secure"), "{device:?}");
    assert!(device.has("SameSite=Strict"), "{device:?}");
    assert_eq!(device.attr("Path"), Some("/api/auth"), "{device:?}");
    assert_eq!(device.max_age(), 90 * 86_400, "{device:?}");

    let body = String::from_utf8_lossy(&res.body);
    assert!(!body.contains(&token), "the token is only in the cookie");
    assert!(
        !body.contains(&device.value),
        "the device proof is only in the cookie"
    );
    let csrf = res.json["csrf_token"].as_str().unwrap();
    assert_eq!(
        csrf.len(),
        43,
        "base64url without padding of 32 bytes: {csrf}"
    );
    assert!(
        csrf.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "{csrf}"
    );
}

#[tokio::test]
async fn without_secure_cookies_the_cookie_is_plain_and_not_secure() {
    let settings = Settings {
        cookie_secure: false,
        cookie_name: "tessera".into(),
        ..Settings::default()
    };
    let app = TestApp::with_settings(settings).await;
    app.create_user("alice", false).await;
    let res = app.send(login_request("alice", "browser", &[])).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    assert!(
        set_cookie(&res, COOKIE).is_none(),
        "no __Host- cookie without Secure"
    );
    let session = set_cookie(&res, "tessera").expect("the tessera cookie");
    assert!(!session.has("Secure"), "{session:?}");
    assert!(session.has("HttpOnly"), "{session:?}");
    assert!(session.has("SameSite=Lax"), "{session:?}");
    assert_eq!(session.attr("Path"), Some("/"));
    assert_eq!(session.max_age(), FOURTEEN_DAYS);
    let device = set_cookie(&res, DEVICE).expect("the device-proof cookie");
    assert!(!device.has("Secure"), "{device:?}");

    let req = cookie_request_named("tessera", Method::GET, ME, &session.value, &[], None);
    let me = app.send(req).await;
    assert_eq!(me.status, StatusCode::OK, "{:?}", me.json);
    assert_eq!(me.json["session"]["client"], "browser");
    let res = me_by_cookie(&app, &session.value).await;
    assert_error(&res, StatusCode::UNAUTHORIZED, "not_authenticated");
}

#[tokio::test]
async fn the_cookie_authenticates_requests() {
    let app = TestApp::new().await;
    app.create_user("alice", false).await;
    let alice = browser_login(&app, "alice").await;
    let res = me_by_cookie(&app, &alice.token).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    assert_eq!(res.json["user"]["username"], "alice");
    assert_eq!(res.json["session"]["client"], "browser");
    assert_eq!(res.json["session"]["id"], alice.session_id);
    assert_eq!(res.json["session"]["is_current"], true);
    let list = app
        .send(by_cookie(
            Method::GET,
            "/api/auth/sessions",
            &alice.token,
            &[],
        ))
        .await;
    assert_eq!(list.status, StatusCode::OK, "{:?}", list.json);
    assert_eq!(ids(&list.json), std::slice::from_ref(&alice.session_id));
    // Other cookies around it do not matter.
    let req = Request::get(ME)
        .header(
            "cookie",
            format!("theme=dark; {COOKIE}={}; lang=en", alice.token),
        )
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.send(req).await.status, StatusCode::OK);
}

#[tokio::test]
async fn unsafe_cookie_requests_without_the_csrf_token_or_from_a_foreign_origin_change_nothing() {
    let app = TestApp::new().await;
    let web = app.user_with_login("alice", "web").await;
    let alice = browser_login(&app, "alice").await;
    let other = browser_login(&app, "alice").await;
    assert_ne!(alice.csrf, other.csrf, "one CSRF token per session");
    let csrf = alice.csrf.as_str();
    let wrong = "A".repeat(43);
    let cases: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("no token", vec![]),
        ("an empty token", vec![("x-csrf-token", "")]),
        ("a wrong token", vec![("x-csrf-token", wrong.as_str())]),
        (
            "another session's token",
            vec![("x-csrf-token", other.csrf.as_str())],
        ),
        ("the token in another header", vec![("x-xsrf-token", csrf)]),
        (
            "a foreign origin",
            vec![("x-csrf-token", csrf), ("origin", EVIL)],
        ),
        (
            "Origin: null",
            vec![("x-csrf-token", csrf), ("origin", "null")],
        ),
        (
            "another port",
            vec![("x-csrf-token", csrf), ("origin", "http://127.0.0.1:9090")],
        ),
        (
            "another scheme",
            vec![("x-csrf-token", csrf), ("origin", "https://127.0.0.1:8080")],
        ),
    ];
    let new_password = json!({"current_password": PASSWORD, "new_password": "a brand new secret"});
    let targets: Vec<(Method, String, Option<Value>)> = vec![
        (Method::POST, "/api/auth/logout".into(), None),
        (Method::POST, "/api/auth/logoutall".into(), None),
        (Method::DELETE, session_path(&web.session_id), None),
        (Method::DELETE, "/api/auth/sessions".into(), None),
        (Method::POST, "/api/auth/refresh".into(), None),
        (
            Method::POST,
            "/api/auth/password".into(),
            Some(new_password),
        ),
    ];
    for (what, headers) in &cases {
        for (method, path, body) in &targets {
            let req = cookie_request_named(
                COOKIE,
                method.clone(),
                path,
                &alice.token,
                headers,
                body.clone(),
            );
            let res = app.send(req).await;
            assert_eq!(
                (res.status, res.code()),
                (StatusCode::FORBIDDEN, "csrf_failed"),
                "{method} {path} with {what}: {:?}",
                res.json
            );
            assert!(
                set_cookie(&res, COOKIE).is_none(),
                "a refused request leaves the cookie alone ({method} {path}, {what})"
            );
        }
    }
    // Nothing changed: the cookie still works, every session is still there, and so is the
    // password.
    let me = me_by_cookie(&app, &alice.token).await;
    assert_eq!(me.status, StatusCode::OK, "{:?}", me.json);
    assert_eq!(me.json["session"]["id"], alice.session_id);
    let list = app.get("/api/auth/sessions", &web.token).await;
    assert_eq!(
        ids(&list.json),
        sorted(&[
            web.session_id.as_str(),
            alice.session_id.as_str(),
            other.session_id.as_str(),
        ])
    );
    assert_eq!(app.get(ME, &web.token).await.status, StatusCode::OK);
    let again = app.send(login_request("alice", "web", &[])).await;
    assert_eq!(
        again.status,
        StatusCode::OK,
        "the password is unchanged: {:?}",
        again.json
    );
}

#[tokio::test]
async fn unsafe_cookie_requests_with_the_csrf_token_and_an_own_or_allowed_origin_succeed() {
    let settings = Settings {
        allowed_origins: vec!["https://app.example.com".into()],
        ..Settings::default()
    };
    let app = TestApp::with_settings(settings).await;
    app.create_user("alice", false).await;
    let alice = browser_login(&app, "alice").await;
    let csrf = alice.csrf.as_str();
    let origins: [Option<&str>; 3] = [None, Some(OWN_ORIGIN), Some("https://app.example.com")];
    for origin in origins {
        let web = app.login("alice", "web").await;
        let mut headers = vec![("x-csrf-token", csrf)];
        if let Some(origin) = origin {
            headers.push(("origin", origin));
        }
        let req = by_cookie(
            Method::DELETE,
            &session_path(&web.session_id),
            &alice.token,
            &headers,
        );
        let res = app.send(req).await;
        assert_eq!(
            res.status,
            StatusCode::NO_CONTENT,
            "Origin {origin:?}: {:?}",
            res.json
        );
        let gone = app.get(ME, &web.token).await;
        assert_error(&gone, StatusCode::UNAUTHORIZED, "invalid_token");
    }
    let headers = [
        ("x-csrf-token", csrf),
        ("origin", "https://app.example.com"),
    ];
    let req = by_cookie(Method::DELETE, "/api/auth/sessions", &alice.token, &headers);
    let res = app.send(req).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    assert_eq!(res.json, json!({"revoked": 0}));
}

#[tokio::test]
async fn the_own_origin_is_the_configured_public_url() {
    let settings = Settings {
        public_url: "https://auth.example.com".into(),
        ..Settings::default()
    };
    let app = TestApp::with_settings(settings).await;
    app.create_user("alice", false).await;
    let alice = browser_login(&app, "alice").await;
    let web = app.login("alice", "web").await;
    let path = session_path(&web.session_id);
    let headers = [
        ("x-csrf-token", alice.csrf.as_str()),
        ("origin", OWN_ORIGIN),
    ];
    let res = app
        .send(by_cookie(Method::DELETE, &path, &alice.token, &headers))
        .await;
    assert_error(&res, StatusCode::FORBIDDEN, "csrf_failed");
    let headers = [
        ("x-csrf-token", alice.csrf.as_str()),
        ("origin", "https://auth.example.com"),
    ];
    let res = app
        .send(by_cookie(Method::DELETE, &path, &alice.token, &headers))
        .await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{:?}", res.json);
}

#[tokio::test]
async fn bearer_and_api_key_requests_need_no_csrf_token() {
    let app = TestApp::new().await;
    let web = app.user_with_login("alice", "web").await;
    let other = app.login("alice", "web").await;
    let key = app
        .post("/api/auth/apiaccess", Some(&web.token), json!({}))
        .await;
    assert_eq!(key.status, StatusCode::CREATED, "{:?}", key.json);
    let key = key.json["token"].as_str().unwrap().to_string();

    let req = Request::delete(session_path(&other.session_id))
        .header("authorization", format!("Bearer {}", web.token))
        .header("origin", EVIL)
        .body(Body::empty())
        .unwrap();
    let res = app.send(req).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{:?}", res.json);
    assert_error(
        &app.get(ME, &other.token).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    );

    let req = Request::post("/api/auth/refresh")
        .header("authorization", format!("Bearer {}", web.token))
        .header("origin", "null")
        .header("content-type", "application/json")
        .body(Body::from("{}"))
        .unwrap();
    let res = app.send(req).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);

    let req = Request::post(VERIFY)
        .header("x-api-key", key.as_str())
        .header("origin", EVIL)
        .body(Body::empty())
        .unwrap();
    let res = app.send(req).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    assert_eq!(res.header("x-auth-kind"), "api_key");
}

#[tokio::test]
async fn authorization_and_the_api_key_header_win_over_the_cookie() {
    let app = TestApp::new().await;
    let alice = app.user_with_login("alice", "web").await;
    app.create_user("bob", false).await;
    let bob = browser_login(&app, "bob").await;
    let key = app
        .post("/api/auth/apiaccess", Some(&alice.token), json!({}))
        .await;
    assert_eq!(key.status, StatusCode::CREATED, "{:?}", key.json);
    let key = key.json["token"].as_str().unwrap().to_string();
    let bearer = format!("Bearer {}", alice.token);

    let res = app
        .send(by_cookie(
            Method::GET,
            ME,
            &bob.token,
            &[("authorization", bearer.as_str())],
        ))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    assert_eq!(res.json["user"]["username"], "alice");
    assert_eq!(res.json["session"]["client"], "web");

    let res = app
        .send(by_cookie(
            Method::GET,
            ME,
            &bob.token,
            &[("x-api-key", key.as_str())],
        ))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    assert_eq!(res.json["user"]["username"], "alice");
    assert_eq!(res.json["session"]["kind"], "api_key");

    // The first credential present is the one used: a refused header does not fall back to the
    // cookie.
    let req = by_cookie(
        Method::GET,
        ME,
        &bob.token,
        &[("authorization", "Bearer tss_garbage")],
    );
    let res = app.send(req).await;
    assert_error(&res, StatusCode::UNAUTHORIZED, "invalid_token");
    assert!(
        set_cookie(&res, COOKIE).is_none(),
        "the refused token was not the cookie's: the cookie stays"
    );

    // An unsafe request authenticated by Authorization needs no CSRF token, and acts on the
    // header's session, not the cookie's.
    let req = by_cookie(
        Method::POST,
        "/api/auth/logout",
        &bob.token,
        &[("authorization", bearer.as_str())],
    );
    let res = app.send(req).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{:?}", res.json);
    assert!(
        set_cookie(&res, COOKIE).is_none(),
        "logging out the bearer session must not clear the (still live) cookie"
    );
    assert_error(
        &app.get(ME, &alice.token).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    );
    let res = me_by_cookie(&app, &bob.token).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    assert_eq!(res.json["user"]["username"], "bob");
}

#[tokio::test]
async fn a_cookie_holding_a_bearer_clients_token_is_ignored() {
    let app = TestApp::new().await;
    let web = app.user_with_login("alice", "web").await;
    let key = app
        .post("/api/auth/apiaccess", Some(&web.token), json!({}))
        .await;
    let key = key.json["token"].as_str().unwrap().to_string();
    for (what, token) in [("a web session", &web.token), ("an API key", &key)] {
        let res = me_by_cookie(&app, token).await;
        assert_error(&res, StatusCode::UNAUTHORIZED, "not_authenticated");
        assert_eq!(
            res.header("www-authenticate"),
            "Bearer realm=\"tessera\"",
            "{what}: as if no credential was presented"
        );
        let verify = app.send(by_cookie(Method::GET, VERIFY, token, &[])).await;
        assert_error(&verify, StatusCode::UNAUTHORIZED, "not_authenticated");
        assert!(verify.headers.get("x-auth-user-id").is_none(), "{what}");
    }
    // The token itself still works where it belongs.
    assert_eq!(app.get(ME, &web.token).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_login_to_a_cookie_client_from_a_foreign_origin_is_refused_and_creates_no_session() {
    let app = TestApp::new().await;
    app.create_user("alice", false).await;
    for origin in [EVIL, "null", "http://127.0.0.1:9090"] {
        let res = app
            .send(login_request("alice", "browser", &[("origin", origin)]))
            .await;
        assert_error(&res, StatusCode::FORBIDDEN, "csrf_failed");
        assert!(set_cookie(&res, COOKIE).is_none(), "{origin}");
        assert!(set_cookie(&res, DEVICE).is_none(), "{origin}");
        assert_eq!(
            session_rows(&app).await,
            0,
            "no session for a login from {origin}"
        );
    }
    let res = app
        .send(login_request("alice", "browser", &[("origin", OWN_ORIGIN)]))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    assert!(set_cookie(&res, COOKIE).is_some());
    assert_eq!(session_rows(&app).await, 1);
    // Bearer clients do not look at Origin.
    let res = app
        .send(login_request("alice", "web", &[("origin", EVIL)]))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    assert!(res.json["token"].is_string());
}

#[tokio::test]
async fn the_csrf_endpoint_repeats_the_login_csrf_token_for_cookie_sessions_only() {
    let app = TestApp::new().await;
    let web = app.user_with_login("alice", "web").await;
    let first = browser_login(&app, "alice").await;
    let second = browser_login(&app, "alice").await;
    for browser in [&first, &second] {
        let res = app
            .send(by_cookie(
                Method::GET,
                "/api/auth/csrf",
                &browser.token,
                &[],
            ))
            .await;
        assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
        assert_eq!(res.json, json!({"csrf_token": browser.csrf}));
        assert_eq!(res.header("cache-control"), "no-store");
    }
    let res = app.get("/api/auth/csrf", &web.token).await;
    assert_error(&res, StatusCode::BAD_REQUEST, "validation_error");
    let res = app.call(Method::GET, "/api/auth/csrf", None, None).await;
    assert_error(&res, StatusCode::UNAUTHORIZED, "not_authenticated");
}

#[tokio::test]
async fn refresh_by_cookie_resends_the_cookie_with_the_new_max_age() {
    let app = TestApp::new().await;
    app.create_user("alice", false).await;
    let alice = browser_login(&app, "alice").await;
    app.clock.advance_secs(HOUR);
    let headers = [("x-csrf-token", alice.csrf.as_str())];
    let res = app
        .send(by_cookie(
            Method::POST,
            "/api/auth/refresh",
            &alice.token,
            &headers,
        ))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    let keys: Vec<&String> = res.json.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["expiry"], "no token in the body: {:?}", res.json);
    let cookie = set_cookie(&res, COOKIE).expect("the cookie is re-sent");
    assert_eq!(cookie.value, alice.token, "the same token");
    assert_eq!(
        cookie.max_age(),
        FOURTEEN_DAYS,
        "Max-Age counts from the renewal, not from the login"
    );
    assert!(cookie.has("HttpOnly") && cookie.has("Secure") && cookie.has("SameSite=Lax"));
    assert_eq!(cookie.attr("Path"), Some("/"));
    let me = me_by_cookie(&app, &alice.token).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json["session"]["expiry"], res.json["expiry"]);
    let created = timestamp(&me.json["session"]["created"]);
    let expiry = timestamp(&res.json["expiry"]);
    assert_eq!((expiry - created).num_seconds(), FOURTEEN_DAYS + 3_600);
}

#[tokio::test]
async fn auto_renewal_of_a_cookie_session_resends_the_cookie() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    app.patch_client(
        &admin.token,
        "browser",
        json!({"auto_renew": true, "token_ttl": 600}),
    )
    .await;
    app.create_user("alice", false).await;
    let alice = browser_login(&app, "alice").await;
    app.clock.advance_secs(120.0);
    let res = me_by_cookie(&app, &alice.token).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    let cookie = set_cookie(&res, COOKIE).expect("the renewed cookie is re-sent");
    assert_eq!(cookie.value, alice.token);
    assert_eq!(cookie.max_age(), 600);
}

#[tokio::test]
async fn logout_by_cookie_clears_it_and_a_stale_cookie_is_cleared_again() {
    let app = TestApp::new().await;
    app.create_user("alice", false).await;
    let alice = browser_login(&app, "alice").await;
    let headers = [("x-csrf-token", alice.csrf.as_str())];
    let res = app
        .send(by_cookie(
            Method::POST,
            "/api/auth/logout",
            &alice.token,
            &headers,
        ))
        .await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{:?}", res.json);
    assert!(res.body.is_empty());
    assert_clears(&res, COOKIE);
    let res = me_by_cookie(&app, &alice.token).await;
    assert_error(&res, StatusCode::UNAUTHORIZED, "invalid_token");
    assert_clears(&res, COOKIE);
    // A malformed cookie is the cookie's own bad token too.
    let res = me_by_cookie(&app, "tss_garbage").await;
    assert_error(&res, StatusCode::UNAUTHORIZED, "invalid_token");
    assert_clears(&res, COOKIE);
}

#[tokio::test]
async fn logoutall_by_cookie_clears_it_and_ends_every_session() {
    let app = TestApp::new().await;
    let web = app.user_with_login("alice", "web").await;
    let alice = browser_login(&app, "alice").await;
    let headers = [("x-csrf-token", alice.csrf.as_str())];
    let res = app
        .send(by_cookie(
            Method::POST,
            "/api/auth/logoutall",
            &alice.token,
            &headers,
        ))
        .await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{:?}", res.json);
    assert_clears(&res, COOKIE);
    assert_error(
        &app.get(ME, &web.token).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    );
    let res = me_by_cookie(&app, &alice.token).await;
    assert_error(&res, StatusCode::UNAUTHORIZED, "invalid_token");
    assert_clears(&res, COOKIE);
}

#[tokio::test]
async fn verify_accepts_the_cookie_and_applies_csrf_to_the_original_method() {
    let app = TestApp::new().await;
    app.create_user("alice", false).await;
    let alice = browser_login(&app, "alice").await;
    let csrf = alice.csrf.as_str();
    let check = async |method: Method, headers: &[(&str, &str)]| {
        app.send(by_cookie(method, VERIFY, &alice.token, headers))
            .await
    };

    let res = check(Method::GET, &[]).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    assert_eq!(res.header("x-auth-client"), "browser");
    assert_eq!(res.header("x-auth-session-id"), alice.session_id);
    assert_eq!(res.json["client"], "browser");

    let refused: [(Method, &[(&str, &str)]); 4] = [
        (Method::POST, &[]),
        (Method::DELETE, &[]),
        (Method::GET, &[("x-original-method", "POST")]),
        (Method::GET, &[("x-forwarded-method", "DELETE")]),
    ];
    for (method, headers) in refused {
        let res = check(method.clone(), headers).await;
        assert_error(&res, StatusCode::FORBIDDEN, "csrf_failed");
        assert!(
            res.headers.get("x-auth-user-id").is_none(),
            "{method} {headers:?}: no identity on a refusal"
        );
    }
    let allowed: [(Method, &[(&str, &str)]); 5] = [
        (Method::POST, &[("x-csrf-token", csrf)]),
        (
            Method::GET,
            &[("x-original-method", "POST"), ("x-csrf-token", csrf)],
        ),
        (
            Method::GET,
            &[("x-forwarded-method", "DELETE"), ("x-csrf-token", csrf)],
        ),
        (Method::GET, &[("x-original-method", "GET")]),
        (Method::GET, &[("x-forwarded-method", "HEAD")]),
    ];
    for (method, headers) in allowed {
        let res = check(method.clone(), headers).await;
        assert_eq!(
            res.status,
            StatusCode::OK,
            "{method} {headers:?}: {:?}",
            res.json
        );
        assert_eq!(res.header("x-auth-client"), "browser");
    }
    // The proxied page's foreign Origin is refused like on any unsafe cookie request.
    let headers = [
        ("x-original-method", "POST"),
        ("x-csrf-token", csrf),
        ("origin", EVIL),
    ];
    let res = check(Method::GET, &headers[..]).await;
    assert_error(&res, StatusCode::FORBIDDEN, "csrf_failed");
}

#[tokio::test]
async fn the_original_method_headers_count_only_on_verify() {
    let app = TestApp::new().await;
    app.create_user("alice", false).await;
    let alice = browser_login(&app, "alice").await;
    for header in ["x-original-method", "x-forwarded-method"] {
        let req = by_cookie(
            Method::POST,
            "/api/auth/logout",
            &alice.token,
            &[(header, "GET")],
        );
        let res = app.send(req).await;
        assert_error(&res, StatusCode::FORBIDDEN, "csrf_failed");
    }
    let res = me_by_cookie(&app, &alice.token).await;
    assert_eq!(
        res.status,
        StatusCode::OK,
        "still logged in: {:?}",
        res.json
    );
}

#[tokio::test]
async fn a_browser_session_ends_after_twelve_idle_hours_however_long_it_was_used() {
    let app = TestApp::new().await;
    app.create_user("alice", false).await;
    let alice = browser_login(&app, "alice").await;
    app.clock.advance_secs(11.0 * HOUR);
    let res = me_by_cookie(&app, &alice.token).await;
    assert_eq!(res.status, StatusCode::OK, "11 h idle: {:?}", res.json);
    app.clock.advance_secs(11.0 * HOUR);
    let res = me_by_cookie(&app, &alice.token).await;
    assert_eq!(
        res.status,
        StatusCode::OK,
        "22 h since login but 11 h since the last use: {:?}",
        res.json
    );
    app.clock.advance_secs(12.0 * HOUR + 1.0);
    let res = me_by_cookie(&app, &alice.token).await;
    assert_error(&res, StatusCode::UNAUTHORIZED, "token_expired");
    assert_clears(&res, COOKIE);
    let res = me_by_cookie(&app, &alice.token).await;
    assert_error(&res, StatusCode::UNAUTHORIZED, "invalid_token");
    assert_eq!(session_rows(&app).await, 0, "the idle session was deleted");
}

#[tokio::test]
async fn the_idle_timeout_counts_uses_not_yet_written_to_the_database() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    app.patch_client(&admin.token, "mobile", json!({"idle_timeout": 300}))
        .await;
    let alice = app.user_with_login("alice", "mobile").await;
    app.clock.advance_secs(30.0);
    let res = app.get(ME, &alice.token).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    assert_eq!(
        res.json["session"]["last_used"], res.json["session"]["created"],
        "premise: a use 30 s after the last write is not written"
    );
    app.clock.advance_secs(299.0);
    let res = app.get(ME, &alice.token).await;
    assert_eq!(
        res.status,
        StatusCode::OK,
        "299 s after the (unwritten) last use: {:?}",
        res.json
    );
    app.clock.advance_secs(301.0);
    let res = app.get(ME, &alice.token).await;
    assert_error(&res, StatusCode::UNAUTHORIZED, "token_expired");
    assert!(
        set_cookie(&res, COOKIE).is_none(),
        "no cookie to clear for a bearer credential"
    );
    let res = app.get(ME, &alice.token).await;
    assert_error(&res, StatusCode::UNAUTHORIZED, "invalid_token");
}

#[tokio::test]
async fn the_idle_limit_is_exact_to_the_second() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    app.patch_client(&admin.token, "mobile", json!({"idle_timeout": 300}))
        .await;
    let alice = app.user_with_login("alice", "mobile").await;
    app.clock.advance_secs(300.0);
    assert_eq!(
        app.get(ME, &alice.token).await.status,
        StatusCode::OK,
        "exactly 300 s"
    );
    app.clock.advance_secs(300.5);
    let res = app.get(ME, &alice.token).await;
    assert_error(&res, StatusCode::UNAUTHORIZED, "token_expired");
}

#[tokio::test]
async fn introspection_is_not_a_use_and_reports_an_idle_session_inactive() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    app.patch_client(&admin.token, "mobile", json!({"idle_timeout": 300}))
        .await;
    let introspect = async |token: &str| {
        app.post(
            "/api/auth/introspect",
            Some(&admin.token),
            json!({"token": token}),
        )
        .await
    };
    let alice = app.user_with_login("alice", "mobile").await;
    app.clock.advance_secs(200.0);
    let res = introspect(&alice.token).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    assert_eq!(res.json["active"], true);
    app.clock.advance_secs(101.0);
    let res = app.get(ME, &alice.token).await;
    assert_error(&res, StatusCode::UNAUTHORIZED, "token_expired");

    let bob = app.user_with_login("bob", "mobile").await;
    app.clock.advance_secs(301.0);
    let res = introspect(&bob.token).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    assert_eq!(res.json, json!({"active": false}));
    let res = app.get(ME, &bob.token).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{:?}", res.json);
    assert!(
        matches!(res.code(), "token_expired" | "invalid_token"),
        "{:?}",
        res.json
    );
}

#[tokio::test]
async fn a_browser_that_logged_in_before_proves_it_with_the_device_cookie() {
    let app = TestApp::new().await;
    app.create_user("alice", false).await;
    let home: SocketAddr = "192.0.2.10:5000".parse().unwrap();
    let first = app
        .send_from(login_request("alice", "browser", &[]), home)
        .await;
    let first = browser_from(&first, COOKIE);
    assert!(!first.device.is_empty(), "a device-proof cookie");

    let attacker: SocketAddr = "198.51.100.7:6000".parse().unwrap();
    let guess = json!({"username": "alice", "password": "guess guess", "client": "web"});
    for _ in 0..10 {
        let res = app.send_from(guess_request(&guess), attacker).await;
        assert_error(&res, StatusCode::BAD_REQUEST, "invalid_credentials");
    }
    let res = app.send_from(guess_request(&guess), attacker).await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS, "{:?}", res.json);

    let without = app
        .send_from(login_request("alice", "browser", &[]), home)
        .await;
    assert_eq!(
        without.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{:?}",
        without.json
    );
    let cookie = format!("{DEVICE}={}", first.device);
    let with = app
        .send_from(
            login_request("alice", "browser", &[("cookie", cookie.as_str())]),
            home,
        )
        .await;
    assert_eq!(
        with.status,
        StatusCode::OK,
        "the device cookie proves the browser: {:?}",
        with.json
    );
}

fn guess_request(body: &Value) -> Request<Body> {
    Request::post("/api/auth/login")
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

#[tokio::test]
async fn admin_api_shows_and_validates_transport_and_idle_timeout() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let clients = "/api/admin/clients";
    let create = async |body: Value| app.post(clients, Some(&admin.token), body).await;
    let patch = async |name: &str, body: Value| {
        let path = format!("{clients}/{name}");
        app.call(Method::PATCH, &path, Some(&admin.token), Some(body))
            .await
    };
    let validation = |res: &TestResponse, field: &str| {
        assert_error(res, StatusCode::BAD_REQUEST, "validation_error");
        assert!(
            res.json["fields"][field].is_array(),
            "{field}: {:?}",
            res.json
        );
    };

    let res = create(json!({"name": "spa", "transport": "cookie", "idle_timeout": 600})).await;
    assert_eq!(res.status, StatusCode::CREATED, "{:?}", res.json);
    assert_eq!(res.json["transport"], "cookie");
    assert_eq!(res.json["idle_timeout"], 600);
    let shown = app.get(&format!("{clients}/spa"), &admin.token).await;
    assert_eq!(shown.json["transport"], "cookie");
    assert_eq!(shown.json["idle_timeout"], 600);
    // The new client is a cookie client from its first login.
    app.create_user("alice", false).await;
    let login = app.send(login_request("alice", "spa", &[])).await;
    assert_eq!(login.status, StatusCode::OK, "{:?}", login.json);
    assert!(login.json.get("token").is_none(), "{:?}", login.json);
    assert!(set_cookie(&login, COOKIE).is_some());

    let res = create(json!({"name": "plain"})).await;
    assert_eq!(res.status, StatusCode::CREATED, "{:?}", res.json);
    assert_eq!(res.json["transport"], "bearer");
    assert_eq!(res.json["idle_timeout"], json!(null));

    validation(
        &create(json!({"name": "spa2", "idle_timeout": 299})).await,
        "idle_timeout",
    );
    validation(
        &create(json!({"name": "spa2", "idle_timeout": 0})).await,
        "idle_timeout",
    );
    validation(
        &create(json!({"name": "spa2", "idle_timeout": "600"})).await,
        "idle_timeout",
    );
    validation(
        &create(json!({"name": "spa2", "transport": "smoke"})).await,
        "transport",
    );
    validation(
        &create(json!({"name": "spa2", "transport": 5})).await,
        "transport",
    );
    validation(
        &create(json!({"name": "spa2", "transport": null})).await,
        "transport",
    );
    let res = app.get(&format!("{clients}/spa2"), &admin.token).await;
    assert_error(&res, StatusCode::NOT_FOUND, "not_found");

    validation(&patch("web", json!({"transport": null})).await, "transport");
    validation(
        &patch("web", json!({"idle_timeout": 299})).await,
        "idle_timeout",
    );
    let res = patch("web", json!({"idle_timeout": 300})).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    assert_eq!(res.json["idle_timeout"], 300);
    assert_eq!(res.json["transport"], "bearer", "absent: unchanged");
    let res = patch("web", json!({"idle_timeout": null})).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    assert_eq!(res.json["idle_timeout"], json!(null));

    let browser = app.get(&format!("{clients}/browser"), &admin.token).await;
    assert_eq!(browser.status, StatusCode::OK, "{:?}", browser.json);
    assert_eq!(browser.json["transport"], "cookie");
    assert_eq!(browser.json["idle_timeout"], 43_200);
    assert_eq!(browser.json["token_ttl"], FOURTEEN_DAYS);
    let web = app.get(&format!("{clients}/web"), &admin.token).await;
    assert_eq!(web.json["transport"], "bearer");
    assert_eq!(web.json["idle_timeout"], json!(null));
}
