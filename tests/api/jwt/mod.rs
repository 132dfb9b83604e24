//! JWT access tokens, the JWKS and signing keys (SPEC §4.3, §4.5, §5; notes/jwt-contract.md):
//! `verify?jwt=true` and `POST /api/auth/token` hand out RFC 9068 tokens signed with Ed25519 by
//! the current key, checked here as a downstream service would (the JWKS, `iss`, `aud`); the
//! reuse window of verify; the key list, rotation, publication and purge of retired keys; the
//! authorization-server metadata; two instances on one database; `tessera keys`.
//!
//! Shared here: the paths, a decoder that checks a JWT's signature against a JWKS, and helpers
//! that mint JWTs, list and rotate keys, and compare unix seconds with the injected clock.
//! `exp` is never checked against the wall clock (the tests move their own clock): the tests
//! compare it with the injected one.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};
use server::Settings;
use server::clock::Clock;
use tests::{Login, PASSWORD, TestApp, TestResponse};

mod claims;
mod cli;
mod expiry;
mod instances;
mod introspection;
mod keys;

const OK: StatusCode = StatusCode::OK;
const VERIFY: &str = "/api/auth/verify";
const VERIFY_JWT: &str = "/api/auth/verify?jwt=true";
const TOKEN: &str = "/api/auth/token";
const JWKS: &str = "/.well-known/jwks.json";
const METADATA: &str = "/.well-known/oauth-authorization-server";
const KEYS: &str = "/api/admin/keys";
const ROTATE: &str = "/api/admin/keys/rotate";
const REAUTH: &str = "/api/auth/reauth";
const ME: &str = "/api/auth/me";
const SECOND: i64 = 1_000_000;
/// The default JWT lifetime (`TESSERA_JWT_TTL`).
const JWT_TTL: i64 = 300;
/// How long after a rotation the retired key stays published: `jwt_ttl` + 15 s.
const PUBLISH_SLACK: i64 = 15;
/// The default public URL (`http://` + the default bind address): the default issuer and
/// audience.
const PUBLIC_URL: &str = "http://127.0.0.1:8080";
/// Every claim of a session's (or an unrestricted key's) JWT, sorted; a scoped key's adds
/// `scope`.
const CLAIMS: [&str; 10] = [
    "aud",
    "auth_time",
    "client_id",
    "exp",
    "iat",
    "iss",
    "jti",
    "sid",
    "sub",
    "username",
];

/// A JWT whose signature, issuer and audience were checked.
#[derive(Debug, Clone)]
struct Jwt {
    raw: String,
    header: Value,
    claims: Value,
}

impl Jwt {
    fn kid(&self) -> &str {
        self.header["kid"].as_str().expect("a kid")
    }

    /// A string claim.
    fn str(&self, claim: &str) -> &str {
        self.claims[claim]
            .as_str()
            .unwrap_or_else(|| panic!("no string {claim} in {}", self.claims))
    }

    /// An integer claim (unix seconds).
    fn int(&self, claim: &str) -> i64 {
        self.claims[claim]
            .as_i64()
            .unwrap_or_else(|| panic!("no integer {claim} in {}", self.claims))
    }
}

/// The header and the claims of a compact JWS, decoded without checking anything.
fn parts(raw: &str) -> (Value, Value) {
    let segments: Vec<&str> = raw.split('.').collect();
    assert_eq!(segments.len(), 3, "not a compact JWS: {raw}");
    let part = |s: &str| -> Value {
        let bytes = URL_SAFE_NO_PAD
            .decode(s)
            .unwrap_or_else(|e| panic!("{s} is not base64url without padding: {e}"));
        serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{s} is not JSON: {e}"))
    };
    (part(segments[0]), part(segments[1]))
}

/// Checks `raw` against one JWKS entry as a resource server would: EdDSA, the signature, `iss`
/// and `aud` (but not `exp`, see the module doc). Returns the claims.
fn decode_with(
    raw: &str,
    entry: &Value,
    issuer: &str,
    audience: &str,
) -> Result<Value, jsonwebtoken::errors::Error> {
    let jwk: Jwk = serde_json::from_value(entry.clone())
        .unwrap_or_else(|e| panic!("not a JWK: {entry}: {e}"));
    let key = DecodingKey::from_jwk(&jwk)?;
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_issuer(&[issuer]);
    validation.set_audience(&[audience]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation.validate_exp = false;
    jsonwebtoken::decode::<Value>(raw, &key, &validation).map(|data| data.claims)
}

/// Checks `raw` against the entry of `jwks` its `kid` names, with this issuer and audience.
fn check(raw: &str, jwks: &[Value], issuer: &str, audience: &str) -> Jwt {
    let (header, claims) = parts(raw);
    let kid = header["kid"]
        .as_str()
        .unwrap_or_else(|| panic!("no kid in {header}"));
    let entry = jwks
        .iter()
        .find(|k| k["kid"] == kid)
        .unwrap_or_else(|| panic!("kid {kid} is not published: {jwks:?}"));
    let checked = decode_with(raw, entry, issuer, audience)
        .unwrap_or_else(|e| panic!("{raw} does not verify with key {kid}: {e}"));
    assert_eq!(checked, claims);
    Jwt {
        raw: raw.to_string(),
        header,
        claims,
    }
}

/// Checks `raw` against `app`'s JWKS, issuer and audience (from its settings).
async fn verified(app: &TestApp, raw: &str) -> Jwt {
    let settings = &app.state.settings;
    check(
        raw,
        &jwks(app).await,
        &settings.jwt_issuer,
        &settings.jwt_audience,
    )
}

/// The JWKS `keys`, fetched without a credential, asserting 200.
async fn jwks(app: &TestApp) -> Vec<Value> {
    let res = app.call(Method::GET, JWKS, None, None).await;
    assert_eq!(res.status, OK, "{:?}", res.json);
    match &res.json["keys"] {
        Value::Array(keys) => keys.clone(),
        other => panic!("no keys array: {other:?}"),
    }
}

/// The `kid` of each item, sorted.
fn kids(items: &[Value]) -> Vec<String> {
    let mut kids: Vec<String> = items
        .iter()
        .map(|k| {
            k["kid"]
                .as_str()
                .unwrap_or_else(|| panic!("no kid: {k}"))
                .to_string()
        })
        .collect();
    kids.sort_unstable();
    kids
}

/// These kids, sorted.
fn sorted<S: AsRef<str>>(kids: &[S]) -> Vec<String> {
    let mut kids: Vec<String> = kids.iter().map(|k| k.as_ref().to_string()).collect();
    kids.sort_unstable();
    kids
}

/// GET /api/admin/keys as `admin`, asserting 200 and a list.
async fn key_list(app: &TestApp, admin: &str) -> Vec<Value> {
    let res = app.get(KEYS, admin).await;
    assert_eq!(res.status, OK, "{:?}", res.json);
    res.json
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {:?}", res.json))
        .clone()
}

/// POST /api/admin/keys/rotate (no body) as `admin`, asserting 200; returns the new list.
async fn rotate(app: &TestApp, admin: &str) -> Vec<Value> {
    let res = app.call(Method::POST, ROTATE, Some(admin), None).await;
    assert_eq!(res.status, OK, "{:?}", res.json);
    res.json
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {:?}", res.json))
        .clone()
}

/// The kid of the one key of `list` in `state`.
fn kid_in(list: &[Value], state: &str) -> String {
    let found: Vec<&Value> = list.iter().filter(|k| k["state"] == state).collect();
    assert_eq!(found.len(), 1, "one {state} key in {list:?}");
    found[0]["kid"].as_str().expect("a kid").to_string()
}

/// The JWT of a 200 `verify?jwt=true`, asserting the body's `jwt` and `X-Auth-Jwt` agree.
fn jwt_of(res: &TestResponse) -> String {
    assert_eq!(res.status, OK, "{:?}", res.json);
    let jwt = res.json["jwt"]
        .as_str()
        .unwrap_or_else(|| panic!("no jwt in {:?}", res.json));
    assert_eq!(res.header("x-auth-jwt"), jwt, "X-Auth-Jwt is the body's jwt");
    jwt.to_string()
}

/// `verify?jwt=true` with a bearer token; returns the JWT.
async fn verify_jwt(app: &TestApp, token: &str) -> String {
    jwt_of(&app.get(VERIFY_JWT, token).await)
}

/// POST /api/auth/token with a bearer token and no body.
async fn exchange(app: &TestApp, token: &str) -> TestResponse {
    app.call(Method::POST, TOKEN, Some(token), None).await
}

/// The (JWT, `expires_in`) of a 200 token exchange, asserting the answer's shape.
fn access_token_of(res: &TestResponse) -> (String, i64) {
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
async fn access_token(app: &TestApp, token: &str) -> (String, i64) {
    access_token_of(&exchange(app, token).await)
}

/// `method path` carrying `key` in `X-Api-Key` only, without a body.
fn by_api_key(method: Method, path: &str, key: &str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(path)
        .header("x-api-key", key)
        .body(Body::empty())
        .unwrap()
}

/// An API key: (token, id, the creation answer).
async fn api_key(app: &TestApp, token: &str, name: &str, scopes: Option<&[&str]>) -> Key {
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
struct Key {
    token: String,
    id: String,
    json: Value,
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

/// An RFC 3339 timestamp in microseconds since the epoch.
fn micros(v: &Value) -> i64 {
    let s = v
        .as_str()
        .unwrap_or_else(|| panic!("not a timestamp: {v:?}"));
    chrono::DateTime::parse_from_rfc3339(s)
        .unwrap_or_else(|e| panic!("{s}: {e}"))
        .timestamp_micros()
}

/// Asserts that the unix seconds `got` name the instant `micros`, to the second.
#[track_caller]
fn assert_at(got: i64, micros: i64, what: &str) {
    assert!(
        (got * SECOND - micros).abs() < SECOND,
        "{what}: {got} is not the unix second of {micros} µs"
    );
}

/// The server's now, in microseconds.
fn now(app: &TestApp) -> i64 {
    app.clock.now_micros()
}

/// The session Alice's `token` is, as `/api/auth/me` shows it.
async fn session_of(app: &TestApp, token: &str) -> Value {
    let res = app.get(ME, token).await;
    assert_eq!(res.status, OK, "{:?}", res.json);
    res.json["session"].clone()
}

/// Re-authenticates the session of `token` with the test password; returns the new
/// `authenticated_at` in microseconds.
async fn reauthenticate(app: &TestApp, token: &str) -> i64 {
    let res = app
        .post(REAUTH, Some(token), json!({"password": PASSWORD}))
        .await;
    assert_eq!(res.status, OK, "{:?}", res.json);
    micros(&res.json["authenticated_at"])
}

/// An app with these JWT settings on top of the defaults.
async fn app_with(issuer: &str, audience: &str, ttl: i64) -> TestApp {
    let settings = Settings {
        jwt_issuer: issuer.to_string(),
        jwt_audience: audience.to_string(),
        jwt_ttl: ttl,
        ..Settings::default()
    };
    TestApp::with_settings(settings).await
}

/// An admin and Alice on `web`.
async fn admin_and_alice(app: &TestApp) -> (Login, Login) {
    let admin = app.admin().await;
    let alice = app.user_with_login("alice", "web").await;
    (admin, alice)
}
