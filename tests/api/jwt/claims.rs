//! The JWT itself (RFC 9068, SPEC §4.3): the header naming the current key, a signature the
//! JWKS verifies, every claim and nothing else, `iss`/`aud` from the settings, `scope` only for
//! scoped keys; the `jwt` parameter of verify; the token exchange, for every kind of credential
//! (a cookie needs its CSRF token).

use super::*;

#[tokio::test]
async fn verify_with_jwt_true_adds_a_jwt_signed_by_the_current_key() {
    let app = TestApp::new().await;
    let (admin, alice) = admin_and_alice(&app).await;
    let plain = app.get(VERIFY, &alice.token).await;
    assert_eq!(plain.status, OK, "{:?}", plain.json);
    assert!(plain.json.get("jwt").is_none(), "{:?}", plain.json);
    assert!(plain.headers.get("x-auth-jwt").is_none());

    let res = app.get(VERIFY_JWT, &alice.token).await;
    let raw = jwt_of(&res);
    let mut usual = res.json.clone();
    usual.as_object_mut().unwrap().remove("jwt");
    assert_eq!(usual, plain.json, "the usual body, plus jwt");
    assert_eq!(res.header("x-auth-session-id"), alice.session_id);

    let keys = key_list(&app, &admin.token).await;
    let current = kid_in(&keys, "current");
    let jwt = check(&raw, &jwks(&app).await, PUBLIC_URL, PUBLIC_URL);
    assert_eq!(
        jwt.header,
        json!({"typ": "at+jwt", "alg": "EdDSA", "kid": current})
    );
    assert_eq!(field_names(&jwt.claims), CLAIMS, "{}", jwt.claims);
    let session = session_of(&app, &alice.token).await;
    assert_eq!(jwt.claims["iss"], PUBLIC_URL);
    assert_eq!(jwt.claims["aud"], PUBLIC_URL, "one string");
    assert_eq!(jwt.claims["sub"], alice.user_id.to_string());
    assert_eq!(jwt.claims["client_id"], "web");
    assert_eq!(jwt.claims["sid"], alice.session_id);
    assert_eq!(jwt.claims["username"], "alice");
    let proved = micros(&session["authenticated_at"]);
    assert_at(jwt.int("auth_time"), proved, "auth_time");
    assert_at(jwt.int("iat"), now(&app), "iat");
    assert_eq!(jwt.int("exp"), jwt.int("iat") + JWT_TTL);
    assert!(!jwt.str("jti").is_empty());

    // The check above is a real one: the next key does not verify it.
    let published = jwks(&app).await;
    let next = kid_in(&keys, "next");
    let entry = published.iter().find(|k| k["kid"] == next.as_str());
    let other = decode_with(
        &raw,
        entry.expect("next is published"),
        PUBLIC_URL,
        PUBLIC_URL,
    );
    assert!(other.is_err(), "a JWT verified by another key: {other:?}");
}

#[test]
fn the_default_issuer_and_audience_are_the_public_url() {
    let defaults = Settings::default();
    assert_eq!(defaults.public_url, PUBLIC_URL);
    assert_eq!(defaults.jwt_issuer, defaults.public_url);
    assert_eq!(defaults.jwt_audience, defaults.jwt_issuer);
    assert_eq!(defaults.jwt_ttl, JWT_TTL);
}

#[tokio::test]
async fn issuer_audience_and_lifetime_follow_the_settings() {
    let (issuer, audience) = ("https://auth.example.com", "https://reports.example.com");
    let app = app_with(issuer, audience, 60).await;
    let alice = app.user_with_login("alice", "web").await;
    let published = jwks(&app).await;
    for raw in [
        verify_jwt(&app, &alice.token).await,
        access_token(&app, &alice.token).await.0,
    ] {
        let jwt = check(&raw, &published, issuer, audience);
        assert_eq!(jwt.claims["iss"], issuer);
        assert_eq!(jwt.claims["aud"], audience);
        assert_eq!(jwt.int("exp"), jwt.int("iat") + 60);
        let entry = published.iter().find(|k| k["kid"] == jwt.kid()).unwrap();
        let refused = decode_with(&raw, entry, issuer, PUBLIC_URL);
        assert!(refused.is_err(), "another audience accepts it: {refused:?}");
    }
}

#[tokio::test]
async fn the_token_exchange_mints_a_fresh_jwt_on_every_call() {
    let app = TestApp::new().await;
    let (admin, alice) = admin_and_alice(&app).await;
    let current = kid_in(&key_list(&app, &admin.token).await, "current");
    let (first, expires_in) = access_token(&app, &alice.token).await;
    let (second, _) = access_token(&app, &alice.token).await;
    assert_ne!(first, second, "a fresh JWT on every call");
    let (first, second) = (verified(&app, &first).await, verified(&app, &second).await);
    assert_ne!(first.str("jti"), second.str("jti"));
    for jwt in [&first, &second] {
        assert_eq!(jwt.header["typ"], "at+jwt");
        assert_eq!(jwt.kid(), current);
        assert_eq!(field_names(&jwt.claims), CLAIMS);
        assert_eq!(jwt.claims["sid"], alice.session_id);
        assert_eq!(jwt.claims["client_id"], "web");
        assert_at(jwt.int("iat"), now(&app), "iat");
    }
    assert_eq!(expires_in, first.int("exp") - first.int("iat"));
    assert_eq!(expires_in, JWT_TTL);

    let res = app.call(Method::POST, TOKEN, None, None).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{:?}", res.json);
    assert_eq!(res.code(), "not_authenticated");
    let res = app.get(TOKEN, &alice.token).await;
    assert_eq!(res.status, StatusCode::METHOD_NOT_ALLOWED, "{:?}", res.json);
}

#[tokio::test]
async fn auth_time_is_the_latest_password_proof() {
    let app = TestApp::new().await;
    let alice = app.user_with_login("alice", "web").await;
    let logged_in = micros(&session_of(&app, &alice.token).await["authenticated_at"]);
    let before = verified(&app, &access_token(&app, &alice.token).await.0).await;
    assert_at(before.int("auth_time"), logged_in, "the login");

    app.clock.advance_secs(100.0);
    let proved = reauthenticate(&app, &alice.token).await;
    let after = verified(&app, &access_token(&app, &alice.token).await.0).await;
    assert_at(after.int("auth_time"), proved, "the re-authentication");
    assert_eq!(after.int("auth_time"), before.int("auth_time") + 100);
    assert_at(after.int("iat"), now(&app), "iat");
}

#[tokio::test]
async fn only_a_scoped_key_carries_a_scope_claim() {
    let app = TestApp::new().await;
    let alice = app.user_with_login("alice", "web").await;
    let full = api_key(&app, &alice.token, "full", None).await;
    let reads = api_key(&app, &alice.token, "reads", Some(&["reports:read"][..])).await;
    let two = ["reports:read", "reports:write"];
    let both = api_key(&app, &alice.token, "both", Some(&two[..])).await;
    let by_key = async |key: &Key| {
        let res = app
            .send(by_api_key(Method::GET, VERIFY_JWT, &key.token))
            .await;
        verified(&app, &jwt_of(&res)).await
    };

    let jwt = by_key(&reads).await;
    let mut with_scope = CLAIMS.to_vec();
    with_scope.push("scope");
    with_scope.sort_unstable();
    assert_eq!(field_names(&jwt.claims), with_scope);
    assert_eq!(jwt.claims["scope"], "reports:read");
    assert_eq!(jwt.claims["sid"], reads.id);
    assert_eq!(jwt.claims["client_id"], "api");
    assert_eq!(jwt.claims["sub"], alice.user_id.to_string());
    assert_eq!(
        jwt.int("exp"),
        jwt.int("iat") + JWT_TTL,
        "a key without expiry"
    );
    assert_at(
        jwt.int("auth_time"),
        micros(&reads.json["created"]),
        "a key's creation is its proof",
    );
    let claims = by_key(&both).await;
    let mut scopes: Vec<&str> = claims.str("scope").split(' ').collect();
    scopes.sort_unstable();
    assert_eq!(scopes, two, "space-separated");

    let jwt = by_key(&full).await;
    assert_eq!(field_names(&jwt.claims), CLAIMS, "an unrestricted key");
    assert_eq!(jwt.claims["sid"], full.id);
    let jwt = verified(&app, &verify_jwt(&app, &alice.token).await).await;
    assert!(jwt.claims.get("scope").is_none(), "a session");

    // A scoped key may exchange itself for a JWT, by X-Api-Key or by Authorization.
    let res = app
        .send(by_api_key(Method::POST, TOKEN, &reads.token))
        .await;
    let jwt = verified(&app, &access_token_of(&res).0).await;
    assert_eq!(jwt.claims["scope"], "reports:read");
    let jwt = verified(&app, &access_token(&app, &reads.token).await.0).await;
    assert_eq!(jwt.claims["sid"], reads.id);
}

#[tokio::test]
async fn the_jwt_parameter_is_true_or_false() {
    let app = TestApp::new().await;
    let alice = app.user_with_login("alice", "web").await;
    let res = app.get(&format!("{VERIFY}?jwt=false"), &alice.token).await;
    assert_eq!(res.status, OK, "{:?}", res.json);
    assert!(res.json.get("jwt").is_none(), "{:?}", res.json);
    assert!(res.headers.get("x-auth-jwt").is_none());
    for value in ["maybe", "1", "yes"] {
        let res = app
            .get(&format!("{VERIFY}?jwt={value}"), &alice.token)
            .await;
        assert_eq!(
            res.status,
            StatusCode::BAD_REQUEST,
            "{value}: {:?}",
            res.json
        );
        assert_eq!(res.code(), "validation_error", "{value}");
        assert!(
            res.json["fields"]["jwt"].is_array(),
            "{value}: {:?}",
            res.json
        );
        assert!(res.headers.get("x-auth-jwt").is_none());
        assert!(res.headers.get("x-auth-user-id").is_none());
    }
}

#[tokio::test]
async fn a_cookie_session_exchanges_only_with_its_csrf_token() {
    use crate::cookies::{COOKIE, browser_from, by_cookie};
    let app = TestApp::new().await;
    app.create_user("alice", false).await;
    let body = json!({"username": "alice", "password": PASSWORD, "client": "browser"});
    let browser = browser_from(&app.post("/api/auth/login", None, body).await, COOKIE);
    let post = |csrf: Option<&str>| {
        let mut req = Request::post(TOKEN).header("cookie", format!("{COOKIE}={}", browser.token));
        if let Some(csrf) = csrf {
            req = req.header("x-csrf-token", csrf);
        }
        req.body(Body::empty()).unwrap()
    };

    let res = app.send(post(None)).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{:?}", res.json);
    assert_eq!(res.code(), "csrf_failed");
    assert!(res.json.get("access_token").is_none());
    let res = app.send(post(Some("not-the-token"))).await;
    assert_eq!(res.code(), "csrf_failed", "{:?}", res.json);

    let res = app.send(post(Some(&browser.csrf))).await;
    let jwt = verified(&app, &access_token_of(&res).0).await;
    assert_eq!(jwt.claims["client_id"], "browser");
    assert_eq!(jwt.claims["sid"], browser.session_id);

    // verify is a GET: the cookie alone is enough.
    let res = app
        .send(by_cookie(Method::GET, VERIFY_JWT, &browser.token, &[]))
        .await;
    let jwt = verified(&app, &jwt_of(&res)).await;
    assert_eq!(jwt.claims["sid"], browser.session_id);
}

#[tokio::test]
async fn the_token_exchange_spends_the_pair_budget() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    app.patch_client(&admin.token, "cli", json!({"throttle_rate": "2/m"}))
        .await;
    let alice = app.user_with_login("alice", "cli").await;
    access_token(&app, &alice.token).await;
    verify_jwt(&app, &alice.token).await;
    let res = exchange(&app, &alice.token).await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS, "{:?}", res.json);
    assert_eq!(res.code(), "throttled");
    assert!(res.json.get("access_token").is_none());
}
