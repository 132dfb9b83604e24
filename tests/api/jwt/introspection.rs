//! Introspection and RFC 7009 revocation beside the JWTs (SPEC §4.3, §2). What `forward.rs`,
//! `apikeys/scopes.rs` and `events/sessions.rs` already cover (the fields for a session and an
//! unrestricted key, revoking a session, a key, unknown and malformed tokens) is not repeated:
//! here are every field for a scoped key, introspection and the JWT telling the same story,
//! revoking a scoped key and a cookie session, and a JWT never being a Tessera credential.

use super::*;

const INTROSPECT: &str = "/api/auth/introspect";
const REVOKE: &str = "/api/auth/revoke";

/// Introspects `token` as `admin`, asserting 200.
async fn introspect(app: &TestApp, admin: &str, token: &str) -> Value {
    let res = app
        .post(INTROSPECT, Some(admin), json!({"token": token}))
        .await;
    assert_eq!(res.status, OK, "{:?}", res.json);
    res.json
}

/// RFC 7009 revocation of `token`, without a credential, asserting 200 `{}`.
async fn revoke(app: &TestApp, token: &str) {
    let res = app.post(REVOKE, None, json!({"token": token})).await;
    assert_eq!((res.status, res.json.clone()), (OK, json!({})), "{token}");
}

/// An RFC 3339 timestamp as unix seconds.
fn unix(v: &Value) -> i64 {
    micros(v).div_euclid(SECOND)
}

#[tokio::test]
async fn introspection_of_a_scoped_key_names_every_field() {
    let app = TestApp::new().await;
    let (admin, alice) = admin_and_alice(&app).await;
    let body = json!({"name": "reads", "scopes": ["reports:read"], "expires_in": 3600});
    let res = app
        .post("/api/auth/apikeys", Some(&alice.token), body)
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{:?}", res.json);
    let (token, id) = (res.json["token"].as_str().unwrap(), &res.json["id"]);
    let created = unix(&res.json["created"]);
    let expected = json!({
        "active": true, "token_type": "Bearer", "kind": "api_key",
        "sub": alice.user_id.to_string(), "user_id": alice.user_id, "username": "alice",
        "client": "api", "client_id": "api", "session_id": id, "scope": "reports:read",
        "iat": created, "exp": unix(&res.json["expiry"]), "auth_time": created,
    });
    assert_eq!(introspect(&app, &admin.token, token).await, expected);
    assert_eq!(unix(&res.json["expiry"]), created + 3600);
}

#[tokio::test]
async fn introspection_and_the_jwt_tell_the_same_story() {
    let app = TestApp::new().await;
    let (admin, alice) = admin_and_alice(&app).await;
    app.clock.advance_secs(100.0);
    reauthenticate(&app, &alice.token).await;
    let seen = introspect(&app, &admin.token, &alice.token).await;
    let jwt = verified(&app, &access_token(&app, &alice.token).await.0).await;
    assert_eq!(seen["active"], true);
    assert_eq!(
        jwt.claims["auth_time"], seen["auth_time"],
        "the re-authentication"
    );
    assert_ne!(
        seen["auth_time"], seen["iat"],
        "iat is the session's creation"
    );
    assert_eq!(jwt.claims["sub"], seen["sub"]);
    assert_eq!(jwt.claims["client_id"], seen["client_id"]);
    assert_eq!(jwt.claims["sid"], seen["session_id"]);
    assert_eq!(jwt.claims["username"], seen["username"]);
    let session_exp = seen["exp"].as_i64().expect("web sessions expire");
    assert!(jwt.int("exp") <= session_exp, "the JWT outlives nothing");

    let key = api_key(&app, &alice.token, "reads", Some(&["reports:read"][..])).await;
    let seen = introspect(&app, &admin.token, &key.token).await;
    let jwt = verified(&app, &access_token(&app, &key.token).await.0).await;
    assert_eq!(jwt.claims["scope"], seen["scope"]);
    assert_eq!(jwt.claims["auth_time"], seen["auth_time"]);
    assert_eq!(jwt.claims["sid"], seen["session_id"]);
}

#[tokio::test]
async fn rfc7009_ends_a_scoped_key_and_a_cookie_session() {
    use crate::cookies::{COOKIE, browser_from, by_cookie};
    let app = TestApp::new().await;
    let (admin, alice) = admin_and_alice(&app).await;
    let key = api_key(&app, &alice.token, "reads", Some(&["reports:read"][..])).await;
    let res = app
        .send(by_api_key(Method::GET, VERIFY_JWT, &key.token))
        .await;
    jwt_of(&res);
    revoke(&app, &key.token).await;
    let res = app
        .send(by_api_key(Method::GET, VERIFY_JWT, &key.token))
        .await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{:?}", res.json);
    assert_eq!(res.code(), "invalid_token");
    assert!(res.headers.get("x-auth-jwt").is_none());
    let res = app.send(by_api_key(Method::POST, TOKEN, &key.token)).await;
    assert_eq!(res.code(), "invalid_token", "{:?}", res.json);
    let seen = introspect(&app, &admin.token, &key.token).await;
    assert_eq!(seen, json!({"active": false}));

    let body = json!({"username": "alice", "password": PASSWORD, "client": "browser"});
    let browser = browser_from(&app.post("/api/auth/login", None, body).await, COOKIE);
    let by_browser = || by_cookie(Method::GET, VERIFY_JWT, &browser.token, &[]);
    jwt_of(&app.send(by_browser()).await);
    revoke(&app, &browser.token).await;
    let res = app.send(by_browser()).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{:?}", res.json);
    assert_eq!(res.code(), "invalid_token");
    assert_eq!(app.get(ME, &alice.token).await.status, OK, "only those two");
}

#[tokio::test]
async fn a_jwt_is_never_a_tessera_credential() {
    let app = TestApp::new().await;
    let (admin, alice) = admin_and_alice(&app).await;
    let (jwt, _) = access_token(&app, &alice.token).await;
    for path in [ME, VERIFY, VERIFY_JWT] {
        let res = app.get(path, &jwt).await;
        assert_eq!(
            res.status,
            StatusCode::UNAUTHORIZED,
            "{path}: {:?}",
            res.json
        );
        assert_eq!(res.code(), "invalid_token", "{path}");
        assert!(res.headers.get("x-auth-user-id").is_none());
    }
    let res = exchange(&app, &jwt).await;
    assert_eq!(res.code(), "invalid_token", "{:?}", res.json);
    let res = app.send(by_api_key(Method::GET, VERIFY, &jwt)).await;
    assert_eq!(res.code(), "invalid_token", "{:?}", res.json);

    let seen = introspect(&app, &admin.token, &jwt).await;
    assert_eq!(seen, json!({"active": false}));
    // Revoking a JWT is revoking an unknown token: 200 {}, and the session goes on.
    revoke(&app, &jwt).await;
    assert_eq!(app.get(ME, &alice.token).await.status, OK);
    let seen = introspect(&app, &admin.token, &alice.token).await;
    assert_eq!(seen["active"], true);
}
