//! When a JWT expires and when verify hands out the same one again (SPEC §4.3): `exp` is
//! now + `jwt_ttl` but never past the session's (or key's) expiry; `verify?jwt=true` may reuse
//! a JWT for less than half its lifetime, never after, never one signed by a key that is no
//! longer current, never one whose `auth_time` is stale; the token exchange never reuses.

use super::*;

#[tokio::test]
async fn exp_never_passes_the_sessions_expiry() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let short = json!({"name": "short", "token_ttl": 120});
    let res = app
        .post("/api/admin/clients", Some(&admin.token), short)
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{:?}", res.json);
    let alice = app.user_with_login("alice", "short").await;
    let expiry = micros(&session_of(&app, &alice.token).await["expiry"]);

    let first = verified(&app, &verify_jwt(&app, &alice.token).await).await;
    assert_at(first.int("exp"), expiry, "login + 120 s, not + 300 s");
    assert!(
        first.int("exp") * SECOND <= expiry,
        "never past the session's expiry"
    );
    assert_eq!(first.int("exp") - first.int("iat"), 120);
    let (raw, expires_in) = access_token(&app, &alice.token).await;
    let exchanged = verified(&app, &raw).await;
    assert_eq!(exchanged.int("exp"), first.int("exp"));
    assert_eq!(expires_in, exchanged.int("exp") - exchanged.int("iat"));

    app.clock.advance_secs(30.0);
    let again = verify_jwt(&app, &alice.token).await;
    assert_eq!(again, first.raw, "30 s into a 120 s lifetime");
    let (raw, expires_in) = access_token(&app, &alice.token).await;
    let exchanged = verified(&app, &raw).await;
    assert_eq!(
        exchanged.int("exp"),
        first.int("exp"),
        "still the session's"
    );
    assert_eq!(expires_in, exchanged.int("exp") - exchanged.int("iat"));
    assert_eq!(expires_in, 90);

    app.clock.advance_secs(31.0);
    let later = verified(&app, &verify_jwt(&app, &alice.token).await).await;
    assert_ne!(later.raw, first.raw, "61 s into a 120 s lifetime");
    assert_eq!(later.int("exp"), first.int("exp"));
    assert_at(later.int("iat"), now(&app), "iat");

    // An API key that expires sooner than the JWT would.
    let body = json!({"name": "brief", "expires_in": 100});
    let res = app
        .post("/api/auth/apikeys", Some(&alice.token), body)
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{:?}", res.json);
    let key_expiry = micros(&res.json["expiry"]);
    let key = res.json["token"].as_str().unwrap().to_string();
    let (raw, expires_in) = access_token(&app, &key).await;
    let jwt = verified(&app, &raw).await;
    assert_at(jwt.int("exp"), key_expiry, "the key's expiry");
    assert!(jwt.int("exp") * SECOND <= key_expiry);
    assert_eq!(expires_in, 100);
}

#[tokio::test]
async fn verify_reuses_a_jwt_for_less_than_half_its_lifetime() {
    let app = TestApp::new().await;
    let alice = app.user_with_login("alice", "web").await;
    let first = verify_jwt(&app, &alice.token).await;
    assert_eq!(verify_jwt(&app, &alice.token).await, first, "at once");
    app.clock.advance_secs(149.0);
    assert_eq!(
        verify_jwt(&app, &alice.token).await,
        first,
        "149 s into 300"
    );

    app.clock.advance_secs(2.0);
    let second = verify_jwt(&app, &alice.token).await;
    assert_ne!(second, first, "151 s into 300");
    let (old, new) = (verified(&app, &first).await, verified(&app, &second).await);
    assert_ne!(new.str("jti"), old.str("jti"));
    assert_at(new.int("iat"), now(&app), "iat");
    assert_eq!(new.int("exp"), new.int("iat") + JWT_TTL);
    assert_eq!(new.claims["sid"], alice.session_id);
    assert_eq!(
        verify_jwt(&app, &alice.token).await,
        second,
        "the new one is reused in its turn"
    );

    // Another session of the same user, at the same moment, has its own.
    let other = app.login("alice", "web").await;
    let theirs = verified(&app, &verify_jwt(&app, &other.token).await).await;
    assert_ne!(theirs.raw, second);
    assert_eq!(theirs.claims["sid"], other.session_id);
}

#[tokio::test]
async fn the_reuse_window_follows_the_jwt_lifetime() {
    let app = app_with(PUBLIC_URL, PUBLIC_URL, 60).await;
    let alice = app.user_with_login("alice", "web").await;
    let first = verified(&app, &verify_jwt(&app, &alice.token).await).await;
    assert_eq!(first.int("exp"), first.int("iat") + 60);
    let (_, expires_in) = access_token(&app, &alice.token).await;
    assert_eq!(expires_in, 60);

    app.clock.advance_secs(29.0);
    assert_eq!(
        verify_jwt(&app, &alice.token).await,
        first.raw,
        "29 s into 60"
    );
    app.clock.advance_secs(2.0);
    let second = verify_jwt(&app, &alice.token).await;
    assert_ne!(second, first.raw, "31 s into 60");
    let second = verified(&app, &second).await;
    assert_ne!(second.str("jti"), first.str("jti"));
}

#[tokio::test]
async fn a_rotation_ends_the_reuse() {
    let app = TestApp::new().await;
    let (admin, alice) = admin_and_alice(&app).await;
    let keys = key_list(&app, &admin.token).await;
    let (old, next) = (kid_in(&keys, "current"), kid_in(&keys, "next"));
    let first = verified(&app, &verify_jwt(&app, &alice.token).await).await;
    assert_eq!(first.kid(), old);

    app.clock.advance_secs(10.0);
    let rotated = rotate(&app, &admin.token).await;
    assert_eq!(kid_in(&rotated, "current"), next);
    let second = verify_jwt(&app, &alice.token).await;
    assert_ne!(
        second, first.raw,
        "never one signed by a key no longer current"
    );
    let second = verified(&app, &second).await;
    assert_eq!(second.kid(), next);
    assert_ne!(second.str("jti"), first.str("jti"));
    assert_eq!(
        verify_jwt(&app, &alice.token).await,
        second.raw,
        "reused again, under the new key"
    );
    // The earlier JWT still verifies: its key is retired, not withdrawn.
    verified(&app, &first.raw).await;
}

#[tokio::test]
async fn a_reauthentication_ends_the_reuse() {
    let app = TestApp::new().await;
    let alice = app.user_with_login("alice", "web").await;
    let first = verified(&app, &verify_jwt(&app, &alice.token).await).await;
    app.clock.advance_secs(10.0);
    assert_eq!(verify_jwt(&app, &alice.token).await, first.raw);

    let proved = reauthenticate(&app, &alice.token).await;
    let second = verify_jwt(&app, &alice.token).await;
    assert_ne!(second, first.raw, "never one whose auth_time is stale");
    let second = verified(&app, &second).await;
    assert_at(second.int("auth_time"), proved, "the new proof");
    assert_eq!(second.int("auth_time"), first.int("auth_time") + 10);
    assert_ne!(second.str("jti"), first.str("jti"));
}

#[tokio::test]
async fn the_token_exchange_never_reuses() {
    let app = TestApp::new().await;
    let alice = app.user_with_login("alice", "web").await;
    let by_verify = verify_jwt(&app, &alice.token).await;
    let (one, _) = access_token(&app, &alice.token).await;
    let (two, _) = access_token(&app, &alice.token).await;
    assert_ne!(one, by_verify);
    assert_ne!(two, by_verify);
    assert_ne!(one, two);
    let mut jtis = Vec::new();
    for raw in [&by_verify, &one, &two] {
        let jwt = verified(&app, raw).await;
        jtis.push(jwt.str("jti").to_string());
    }
    jtis.sort_unstable();
    jtis.dedup();
    assert_eq!(jtis.len(), 3, "unique jti: {jtis:?}");
}
