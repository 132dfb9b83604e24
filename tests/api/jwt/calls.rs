//! The calls the JWT tests make: minting JWTs (verify and the token exchange), listing and
//! rotating keys as an admin, API keys, re-authentication, and apps with JWT settings.

use super::*;

/// GET /api/admin/keys as `admin`, asserting 200 and a list.
pub(super) async fn key_list(app: &TestApp, admin: &str) -> Vec<Value> {
    let res = app.get(KEYS, admin).await;
    assert_eq!(res.status, OK, "{:?}", res.json);
    res.json
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {:?}", res.json))
        .clone()
}

/// POST /api/admin/keys/rotate (no body) as `admin`, asserting 200; returns the new list.
pub(super) async fn rotate(app: &TestApp, admin: &str) -> Vec<Value> {
    let res = app.call(Method::POST, ROTATE, Some(admin), None).await;
    assert_eq!(res.status, OK, "{:?}", res.json);
    res.json
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {:?}", res.json))
        .clone()
}

/// The kid of the one key of `list` in `state`.
pub(super) fn kid_in(list: &[Value], state: &str) -> String {
    let found: Vec<&Value> = list.iter().filter(|k| k["state"] == state).collect();
    assert_eq!(found.len(), 1, "one {state} key in {list:?}");
    found[0]["kid"].as_str().expect("a kid").to_string()
}

/// The JWT of a 200 `verify?jwt=true`, asserting the body's `jwt` and `X-Auth-Jwt` agree.
pub(super) fn jwt_of(res: &TestResponse) -> String {
    assert_eq!(res.status, OK, "{:?}", res.json);
    let jwt = res.json["jwt"]
        .as_str()
        .unwrap_or_else(|| panic!("no jwt in {:?}", res.json));
    assert_eq!(
        res.header("x-auth-jwt"),
        jwt,
        "X-Auth-Jwt is the body's jwt"
    );
    jwt.to_string()
}

/// `verify?jwt=true` with a bearer token; returns the JWT.
pub(super) async fn verify_jwt(app: &TestApp, token: &str) -> String {
    jwt_of(&app.get(VERIFY_JWT, token).await)
}

/// POST /api/auth/token with a bearer token and no body.
pub(super) async fn exchange(app: &TestApp, token: &str) -> TestResponse {
    app.call(Method::POST, TOKEN, Some(token), None).await
}

/// The (JWT, `expires_in`) of a 200 token exchange, asserting the answer's shape.
pub(super) fn access_token_of(res: &TestResponse) -> (String, i64) {
    assert_eq!(res.status, OK, "{:?}", res.json);
    assert_eq!(
        field_names(&res.json),
        ["access_token", "expires_in", "token_type"]
    );
    assert_eq!(res.json["token_type"], "Bearer");
    assert_eq!(res.header("cache-control"), "no-store");
    let jwt = res.json["access_token"].as_str().expect("a string");
    let expires_in = res.json["expires_in"].as_i64().expect("an integer");
    (jwt.to_string(), expires_in)
}

/// A token exchange with a bearer token, asserting 200; returns (JWT, `expires_in`).
pub(super) async fn access_token(app: &TestApp, token: &str) -> (String, i64) {
    access_token_of(&exchange(app, token).await)
}

/// `method path` carrying `key` in `X-Api-Key` only, without a body.
pub(super) fn by_api_key(method: Method, path: &str, key: &str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(path)
        .header("x-api-key", key)
        .body(Body::empty())
        .unwrap()
}

/// Creates an API key named `name` holding `scopes` (`None`: unrestricted), asserting 201.
pub(super) async fn api_key(
    app: &TestApp,
    token: &str,
    name: &str,
    scopes: Option<&[&str]>,
) -> Key {
    let body = json!({"name": name, "scopes": scopes});
    let res = app.post("/api/auth/apikeys", Some(token), body).await;
    assert_eq!(res.status, StatusCode::CREATED, "{:?}", res.json);
    Key {
        token: res.json["token"].as_str().expect("a token").to_string(),
        id: res.json["id"].as_str().expect("an id").to_string(),
        json: res.json.clone(),
    }
}

/// A created API key.
#[derive(Debug, Clone)]
pub(super) struct Key {
    pub(super) token: String,
    pub(super) id: String,
    pub(super) json: Value,
}

/// The session behind `token`, as `/api/auth/me` shows it.
pub(super) async fn session_of(app: &TestApp, token: &str) -> Value {
    let res = app.get(ME, token).await;
    assert_eq!(res.status, OK, "{:?}", res.json);
    res.json["session"].clone()
}

/// Re-authenticates the session of `token` with the test password; returns the new
/// `authenticated_at` in microseconds.
pub(super) async fn reauthenticate(app: &TestApp, token: &str) -> i64 {
    let res = app
        .post(REAUTH, Some(token), json!({"password": PASSWORD}))
        .await;
    assert_eq!(res.status, OK, "{:?}", res.json);
    micros(&res.json["authenticated_at"])
}

/// An app with these JWT settings on top of the defaults.
pub(super) async fn app_with(issuer: &str, audience: &str, ttl: i64) -> TestApp {
    let settings = Settings {
        jwt_issuer: issuer.to_string(),
        jwt_audience: audience.to_string(),
        jwt_ttl: ttl,
        ..Settings::default()
    };
    TestApp::with_settings(settings).await
}

/// An admin and Alice on `web`.
pub(super) async fn admin_and_alice(app: &TestApp) -> (Login, Login) {
    let admin = app.admin().await;
    let alice = app.user_with_login("alice", "web").await;
    (admin, alice)
}
