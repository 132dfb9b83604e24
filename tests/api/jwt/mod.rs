//! JWT access tokens, the JWKS and signing keys (SPEC §4.3, §4.5, §5; notes/jwt-contract.md):
//! `verify?jwt=true` and `POST /api/auth/token` hand out RFC 9068 tokens signed with Ed25519 by
//! the current key, checked here as a downstream service would (the JWKS, `iss`, `aud`); the
//! reuse window of verify; the key list, rotation, publication and purge of retired keys; the
//! authorization-server metadata; two instances on one database; `tessera keys`.
//!
//! Shared here: the paths, a decoder that checks a JWT's signature against a JWKS as a
//! resource server would, and unix seconds compared with the injected clock; `calls.rs` holds
//! the requests (minting JWTs, listing and rotating keys, API keys). `exp` is never checked
//! against the wall clock (the tests move their own clock): the tests compare it with the
//! injected one.

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

mod calls;
mod claims;
mod cli;
mod expiry;
mod instances;
mod introspection;
mod keys;

use calls::*;

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
    let jwk: Jwk =
        serde_json::from_value(entry.clone()).unwrap_or_else(|e| panic!("not a JWK: {entry}: {e}"));
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

/// The items (keys, JWKS entries) ordered by kid, for comparing lists whose order may tie.
fn by_kid(items: &[Value]) -> Vec<Value> {
    let mut items = items.to_vec();
    items.sort_by(|x, y| x["kid"].as_str().cmp(&y["kid"].as_str()));
    items
}

/// These kids, sorted.
fn sorted<S: AsRef<str>>(kids: &[S]) -> Vec<String> {
    let mut kids: Vec<String> = kids.iter().map(|k| k.as_ref().to_string()).collect();
    kids.sort_unstable();
    kids
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
