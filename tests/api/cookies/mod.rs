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

mod csrf;
mod idle;
mod transport;

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
