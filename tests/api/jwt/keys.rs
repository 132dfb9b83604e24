//! Signing keys (SPEC §4.3, §4.5): the admin list (one `current`, one `next`, never private
//! material), the JWKS (their public halves, cacheable, for anyone), rotation (next becomes
//! current, a new next, the old current retired and still published while its JWTs may live,
//! the event `keys.rotated`), the retired key leaving the JWKS and the purge, and the RFC 8414
//! metadata.

use super::*;

const JWK_FIELDS: [&str; 6] = ["alg", "crv", "kid", "kty", "use", "x"];

#[tokio::test]
async fn admins_see_one_current_and_one_next_key() {
    let app = TestApp::new().await;
    let (admin, alice) = admin_and_alice(&app).await;
    let res = app.get(KEYS, &admin.token).await;
    assert_eq!(res.status, OK, "{:?}", res.json);
    assert_eq!(res.header("cache-control"), "no-store");
    let keys = res.json.as_array().expect("a list").clone();
    assert_eq!(keys.len(), 2, "{keys:?}");
    for key in &keys {
        assert_eq!(field_names(key), ["created", "kid", "state"], "{key}");
        assert!(!key["kid"].as_str().expect("a string kid").is_empty());
        assert!(key["created"].as_str().expect("a timestamp").ends_with('Z'));
        micros(&key["created"]);
    }
    let (current, next) = (kid_in(&keys, "current"), kid_in(&keys, "next"));
    assert_ne!(current, next);
    let again = key_list(&app, &admin.token).await;
    assert_eq!(by_kid(&again), by_kid(&keys), "the same keys");

    let res = app.get(KEYS, &alice.token).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{:?}", res.json);
    assert_eq!(res.code(), "permission_denied");
    let res = app
        .call(Method::POST, ROTATE, Some(&alice.token), None)
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{:?}", res.json);
    let res = app.call(Method::GET, KEYS, None, None).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{:?}", res.json);
    // An admin's scoped key reaches none of the admin API.
    let scoped = api_key(&app, &admin.token, "reads", Some(&["reports:read"][..])).await;
    let res = app.get(KEYS, &scoped.token).await;
    assert_eq!(res.code(), "permission_denied", "{:?}", res.json);
    let again = key_list(&app, &admin.token).await;
    assert_eq!(by_kid(&again), by_kid(&keys), "nothing rotated");
}

#[tokio::test]
async fn the_jwks_publishes_the_public_halves_of_those_keys_to_anyone() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let keys = key_list(&app, &admin.token).await;
    let res = app.call(Method::GET, JWKS, None, None).await;
    assert_eq!(res.status, OK, "{:?}", res.json);
    assert_eq!(res.header("cache-control"), "public, max-age=300");
    assert!(res.header("content-type").starts_with("application/json"));
    assert_eq!(field_names(&res.json), ["keys"]);
    let published = res.json["keys"].as_array().expect("a list").clone();
    assert_eq!(kids(&published), kids(&keys), "exactly current and next");
    let mut xs = Vec::new();
    for jwk in &published {
        assert_eq!(field_names(jwk), JWK_FIELDS, "no private field: {jwk}");
        assert!(jwk.get("d").is_none());
        assert_eq!(jwk["kty"], "OKP");
        assert_eq!(jwk["crv"], "Ed25519");
        assert_eq!(jwk["use"], "sig");
        assert_eq!(jwk["alg"], "EdDSA");
        let x = jwk["x"].as_str().expect("a string x");
        let raw = URL_SAFE_NO_PAD
            .decode(x)
            .expect("base64url without padding");
        assert_eq!(raw.len(), 32, "a raw Ed25519 public key");
        xs.push(x.to_string());
    }
    assert_ne!(xs[0], xs[1], "two key pairs");
    let body = String::from_utf8(res.body).unwrap();
    assert!(!body.contains("\"d\""), "{body}");
}

#[tokio::test]
async fn rotation_promotes_next_retires_current_and_records_keys_rotated() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let before = key_list(&app, &admin.token).await;
    let (old, next) = (kid_in(&before, "current"), kid_in(&before, "next"));
    app.clock.advance_secs(5.0);

    let after = rotate(&app, &admin.token).await;
    assert_eq!(after.len(), 3, "{after:?}");
    assert_eq!(kid_in(&after, "current"), next);
    assert_eq!(kid_in(&after, "retired"), old);
    let new = kid_in(&after, "next");
    assert!(new != old && new != next, "a new next key");
    assert_eq!(after[0]["kid"], new.as_str(), "newest first: {after:?}");
    for key in &after {
        assert_eq!(field_names(key), ["created", "kid", "state"], "{key}");
    }
    assert_eq!(by_kid(&key_list(&app, &admin.token).await), by_kid(&after));
    assert_eq!(kids(&jwks(&app).await), kids(&after), "the retired key too");

    let path = "/api/admin/events?type=keys.rotated";
    let res = app.get(path, &admin.token).await;
    assert_eq!(res.status, OK, "{:?}", res.json);
    let events = res.json.as_array().expect("a list").clone();
    assert_eq!(events.len(), 1, "{events:?}");
    let event = &events[0];
    assert_eq!(event["type"], "keys.rotated");
    assert_eq!(event["actor_id"], admin.user_id);
    assert_eq!(
        event["detail"],
        json!({"current": next, "next": new, "retired": old})
    );

    // A second rotation: both retired keys are still published.
    let again = rotate(&app, &admin.token).await;
    assert_eq!(kid_in(&again, "current"), new);
    let retired: Vec<Value> = again
        .iter()
        .filter(|k| k["state"] == "retired")
        .cloned()
        .collect();
    assert_eq!(kids(&retired), sorted(&[&old, &next]));
    assert_eq!(kids(&jwks(&app).await), kids(&again));
    let events = app.get(path, &admin.token).await.json;
    assert_eq!(events.as_array().map(Vec::len), Some(2), "{events:?}");
    assert_eq!(
        events[0]["detail"]["retired"],
        next.as_str(),
        "newest first"
    );
}

#[tokio::test]
async fn jwts_signed_before_a_rotation_still_verify() {
    let app = TestApp::new().await;
    let (admin, alice) = admin_and_alice(&app).await;
    let before = key_list(&app, &admin.token).await;
    let old = kid_in(&before, "current");
    let by_verify = verified(&app, &verify_jwt(&app, &alice.token).await).await;
    let by_exchange = verified(&app, &access_token(&app, &alice.token).await.0).await;
    assert_eq!(
        (by_verify.kid(), by_exchange.kid()),
        (old.as_str(), old.as_str())
    );

    app.clock.advance_secs(60.0);
    let after = rotate(&app, &admin.token).await;
    let published = jwks(&app).await;
    for jwt in [&by_verify, &by_exchange] {
        let again = check(&jwt.raw, &published, PUBLIC_URL, PUBLIC_URL);
        assert_eq!(again.claims, jwt.claims);
    }
    let fresh = verified(&app, &access_token(&app, &alice.token).await.0).await;
    assert_eq!(fresh.kid(), kid_in(&after, "current"));
}

/// Rotates at once, then checks that the retired key is published for `ttl` + 15 s and no
/// longer, and that the purge then deletes it.
async fn retired_key_lifetime(app: &TestApp, ttl: i64) {
    let (admin, alice) = admin_and_alice(app).await;
    let before = key_list(app, &admin.token).await;
    let old = kid_in(&before, "current");
    let signed = verify_jwt(app, &alice.token).await;
    let after = rotate(app, &admin.token).await;
    let live = sorted(&[&kid_in(&after, "current"), &kid_in(&after, "next")]);

    app.clock.advance_secs((ttl + PUBLISH_SLACK - 1) as f64);
    let published = jwks(app).await;
    assert!(kids(&published).contains(&old), "1 s before publish_until");
    check(&signed, &published, PUBLIC_URL, PUBLIC_URL);

    app.clock.advance_secs(2.0);
    assert_eq!(kids(&jwks(app).await), live, "1 s after publish_until");

    let db = &app.state.db;
    server::purge::purge_once(db, app.state.clock.as_ref(), 100)
        .await
        .expect("the purge runs");
    let listed = key_list(app, &admin.token).await;
    assert_eq!(kids(&listed), live, "the purge deleted the retired key");
    assert!(listed.iter().all(|k| k["state"] != "retired"), "{listed:?}");
    assert_eq!(kids(&jwks(app).await), live);
}

#[tokio::test]
async fn a_retired_key_is_published_until_its_last_jwt_expired_then_purged() {
    let app = TestApp::new().await;
    retired_key_lifetime(&app, JWT_TTL).await;
}

#[tokio::test]
async fn a_shorter_jwt_lifetime_retires_keys_sooner() {
    let app = app_with(PUBLIC_URL, PUBLIC_URL, 60).await;
    retired_key_lifetime(&app, 60).await;
}

#[tokio::test]
async fn the_metadata_names_the_issuer_and_the_endpoints() {
    let base = "https://auth.example.com";
    let custom = Settings {
        public_url: base.to_string(),
        jwt_issuer: base.to_string(),
        jwt_audience: base.to_string(),
        ..Settings::default()
    };
    for (app, base) in [
        (TestApp::new().await, PUBLIC_URL),
        (TestApp::with_settings(custom).await, base),
    ] {
        let res = app.call(Method::GET, METADATA, None, None).await;
        assert_eq!(res.status, OK, "{:?}", res.json);
        let meta = &res.json;
        assert_eq!(meta["issuer"], base);
        assert_eq!(meta["jwks_uri"], format!("{base}/.well-known/jwks.json"));
        assert_eq!(meta["token_endpoint"], format!("{base}/api/auth/token"));
        let introspection = format!("{base}/api/auth/introspect");
        assert_eq!(meta["introspection_endpoint"], introspection);
        assert_eq!(
            meta["revocation_endpoint"],
            format!("{base}/api/auth/revoke")
        );
        assert_eq!(meta["response_types_supported"], json!([]));
        // The JWKS is served where the metadata says.
        let path = meta["jwks_uri"].as_str().unwrap().trim_start_matches(base);
        assert_eq!(path, JWKS);
    }
}
