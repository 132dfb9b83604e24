//! Scopes at forward-auth and introspection (SPEC §4.3, §3): `verify?scope=` against a session,
//! an unrestricted key and scoped keys; the exact 403 `insufficient_scope` challenge naming only
//! the missing scopes; `scopes` and `X-Auth-Scopes` on success; the order of the checks; and the
//! `scope` of introspection.

use super::*;

const READS: &str = "/api/auth/verify?scope=reports:read";

/// Alice's web session, her unrestricted key, a key holding `reports:read`, a key holding
/// `other`.
async fn credentials(app: &TestApp) -> (Login, Key, Key, Key) {
    let alice = user(app, "alice").await;
    let full = named(app, &alice.token, "full").await;
    let reads = scoped(app, &alice.token, "reads", &["reports:read"]).await;
    let other = scoped(app, &alice.token, "other", &["other"]).await;
    (alice, full, reads, other)
}

/// Asserts the 403 `insufficient_scope` answer whose challenge names `missing`, with no
/// identity header.
fn assert_insufficient(res: &TestResponse, missing: &str) {
    assert_error(res, StatusCode::FORBIDDEN, "insufficient_scope");
    assert_eq!(res.json["detail"], "The credential lacks a required scope.");
    let challenge =
        format!("Bearer realm=\"tessera\", error=\"insufficient_scope\", scope=\"{missing}\"");
    assert_eq!(res.header("www-authenticate"), challenge);
    assert_no_identity(res);
}

fn assert_no_identity(res: &TestResponse) {
    for name in X_AUTH {
        assert!(
            res.headers.get(name).is_none(),
            "{name} on a {}",
            res.status
        );
    }
}

/// The scopes a 403 `insufficient_scope` challenge names, sorted.
fn challenged(res: &TestResponse) -> Vec<String> {
    assert_error(res, StatusCode::FORBIDDEN, "insufficient_scope");
    let header = res.header("www-authenticate");
    let prefix = "Bearer realm=\"tessera\", error=\"insufficient_scope\", scope=\"";
    let scopes = header
        .strip_prefix(prefix)
        .and_then(|rest| rest.strip_suffix('"'))
        .unwrap_or_else(|| panic!("not a scope challenge: {header}"));
    let mut scopes: Vec<String> = scopes.split(' ').map(str::to_string).collect();
    scopes.sort_unstable();
    scopes
}

#[tokio::test]
async fn the_scope_matrix_at_verify_and_me() {
    let app = TestApp::new().await;
    let (alice, full, reads, other) = credentials(&app).await;
    for (what, token) in [
        ("a session", &alice.token),
        ("an unrestricted key", &full.token),
        ("a reports:read key", &reads.token),
    ] {
        let res = app.get(READS, token).await;
        assert_eq!(res.status, StatusCode::OK, "{what}: {:?}", res.json);
        assert_eq!(res.header("x-auth-user-id"), alice.user_id.to_string());
    }
    let res = app.get(READS, &other.token).await;
    assert_insufficient(&res, "reports:read");
    // Every credential may call /me and a verify without scopes.
    for token in [&alice.token, &full.token, &reads.token, &other.token] {
        assert_works(&app, token, "me").await;
        let res = app.get(VERIFY, token).await;
        assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    }
    // Every method of verify alike.
    let res = app
        .call(Method::POST, READS, Some(&other.token), None)
        .await;
    assert_insufficient(&res, "reports:read");
    let res = app.call(Method::PUT, READS, Some(&reads.token), None).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
}

#[tokio::test]
async fn the_challenge_names_only_the_missing_scopes() {
    let app = TestApp::new().await;
    let (alice, _, reads, other) = credentials(&app).await;
    let ask =
        async |query: &str, token: &str| app.get(&format!("{VERIFY}?scope={query}"), token).await;
    let res = ask("other,reports:read", &other.token).await;
    assert_insufficient(&res, "reports:read");
    // Items are trimmed and empty ones ignored.
    let res = ask("%20other%20,,reports:read,", &other.token).await;
    assert_insufficient(&res, "reports:read");
    let res = ask("reports:read,reports:write", &reads.token).await;
    assert_insufficient(&res, "reports:write");
    assert_eq!(ask("other", &other.token).await.status, StatusCode::OK);
    assert_eq!(
        ask(",,", &other.token).await.status,
        StatusCode::OK,
        "no scope asked"
    );

    let two = scoped(&app, &alice.token, "two", &["a", "b"]).await;
    let res = ask("c,b,d", &two.token).await;
    assert_eq!(challenged(&res), ["c", "d"]);
    assert_no_identity(&res);
    assert_eq!(ask("b,a", &two.token).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_successful_verify_tells_a_scoped_keys_scopes() {
    let app = TestApp::new().await;
    let (alice, full, _, _) = credentials(&app).await;
    let rw = scoped(&app, &alice.token, "rw", &["reports:read", "reports:write"]).await;
    let res = app.get(READS, &rw.token).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    assert_eq!(res.json["scopes"], json!(["reports:read", "reports:write"]));
    assert_eq!(res.json["kind"], "api_key");
    assert_eq!(res.json["session_id"], rw.id.as_str());
    assert_eq!(res.header("x-auth-scopes"), "reports:read reports:write");
    assert_eq!(res.header("x-auth-kind"), "api_key");

    for (what, token, kind) in [
        ("a session", &alice.token, "session"),
        ("an unrestricted key", &full.token, "api_key"),
    ] {
        let res = app.get(READS, token).await;
        assert_eq!(res.status, StatusCode::OK, "{what}: {:?}", res.json);
        assert_eq!(res.json["scopes"], Value::Null, "{what}");
        assert_eq!(res.json["kind"], kind, "{what}");
        assert!(res.headers.get("x-auth-scopes").is_none(), "{what}");
    }

    // A key holding no scope is still scoped: it passes a verify that asks for none.
    let none = scoped(&app, &alice.token, "none", &[]).await;
    let res = app.get(VERIFY, &none.token).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    assert_eq!(res.json["scopes"], json!([]));
    let res = app.get(&format!("{VERIFY}?scope=x"), &none.token).await;
    assert_insufficient(&res, "x");
}

#[tokio::test]
async fn a_malformed_scope_in_the_query_is_a_validation_error() {
    let app = TestApp::new().await;
    let (alice, _, reads, _) = credentials(&app).await;
    let long = "a".repeat(65);
    for query in ["Bad!", "reports:read,Reports", "a%20b", long.as_str()] {
        for token in [&alice.token, &reads.token] {
            let res = app.get(&format!("{VERIFY}?scope={query}"), token).await;
            assert_error(&res, StatusCode::BAD_REQUEST, "validation_error");
            assert!(
                res.json["fields"]["scope"].is_array(),
                "{query}: {:?}",
                res.json
            );
            assert_no_identity(&res);
        }
    }
}

#[tokio::test]
async fn client_lists_come_before_scopes() {
    let app = TestApp::new().await;
    let (_, _, _, other) = credentials(&app).await;
    for query in [
        "allow_clients=web&scope=reports:read",
        "deny_clients=api&scope=reports:read",
    ] {
        let res = app.get(&format!("{VERIFY}?{query}"), &other.token).await;
        assert_error(&res, StatusCode::FORBIDDEN, "permission_denied");
        assert_eq!(res.header("www-authenticate"), "", "{query}");
        assert_no_identity(&res);
    }
    let query = "allow_clients=api&scope=other";
    let res = app.get(&format!("{VERIFY}?{query}"), &other.token).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
}

#[tokio::test]
async fn scope_and_permission_refusals_come_before_the_budget_and_spend_none() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    app.patch_client(&admin.token, "api", json!({"throttle_rate": "2/m"}))
        .await;
    let alice = user(&app, "alice").await;
    let other = scoped(&app, &alice.token, "other", &["other"]).await;
    for _ in 0..3 {
        let res = app.get(READS, &other.token).await;
        assert_insufficient(&res, "reports:read");
        let res = app.get("/api/auth/sessions", &other.token).await;
        assert_error(&res, StatusCode::FORBIDDEN, "permission_denied");
    }
    // The whole budget of 2 is still there.
    assert_eq!(app.get(VERIFY, &other.token).await.status, StatusCode::OK);
    assert_works(&app, &other.token, "the second unit").await;
    let res = app.get(VERIFY, &other.token).await;
    assert_error(&res, StatusCode::TOO_MANY_REQUESTS, "throttled");
    // Over budget, the refusals still come first.
    let res = app.get(READS, &other.token).await;
    assert_insufficient(&res, "reports:read");
    let res = app.get("/api/auth/sessions", &other.token).await;
    assert_error(&res, StatusCode::FORBIDDEN, "permission_denied");
}

#[tokio::test]
async fn introspection_tells_a_scoped_keys_scope_only() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let (alice, full, reads, _) = credentials(&app).await;
    let two = scoped(&app, &alice.token, "two", &["a:b", "c"]).await;
    let introspect = async |token: &str| {
        let res = app
            .post(
                "/api/auth/introspect",
                Some(&admin.token),
                json!({"token": token}),
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
        assert_eq!(res.json["active"], true, "{:?}", res.json);
        res.json
    };
    let res = introspect(&reads.token).await;
    assert_eq!(res["scope"], "reports:read");
    assert_eq!(res["kind"], "api_key");
    assert_eq!(res["session_id"], reads.id.as_str());
    assert_eq!(introspect(&two.token).await["scope"], "a:b c");
    for (what, token) in [
        ("a session", &alice.token),
        ("an unrestricted key", &full.token),
    ] {
        let res = introspect(token).await;
        assert!(res.get("scope").is_none(), "{what}: {res}");
    }
}
