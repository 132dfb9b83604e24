//! Request budgets (docs/concepts.md and the throttle overrides of §4.5): GCRA per (user, client)
//! pair, per-user overrides, the order 401 → 403 → 429, `RateLimit-*`, and login budgets.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::{Value, json};
use server::Settings;
use std::net::SocketAddr;
use tests::{Login, PASSWORD, TestApp, TestResponse};

const OK: StatusCode = StatusCode::OK;

/// An app where `cli` has `rate`, with an admin (on `web`, unlimited) and alice on `cli`.
async fn setup(rate: &str) -> (TestApp, Login, Login) {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    app.patch_client(&admin.token, "cli", json!({"throttle_rate": rate}))
        .await;
    let alice = app.user_with_login("alice", "cli").await;
    (app, admin, alice)
}

async fn me(app: &TestApp, token: &str) -> TestResponse {
    app.get("/api/auth/me", token).await
}

fn assert_error(res: &TestResponse, status: StatusCode, code: &str) {
    assert_eq!(res.status, status, "{:?}", res.json);
    assert_eq!(res.code(), code);
}

fn assert_throttled(res: &TestResponse, secs: u64) {
    assert_error(res, StatusCode::TOO_MANY_REQUESTS, "throttled");
    assert_eq!(res.header("retry-after"), secs.to_string());
    let detail = format!("Request was throttled. Expected available in {secs} seconds.");
    assert_eq!(res.json["detail"], detail);
}

fn overrides(user: i64) -> String {
    format!("/api/admin/users/{user}/throttles")
}

async fn put_override(
    app: &TestApp,
    admin: &str,
    user: i64,
    client: &str,
    body: Value,
) -> TestResponse {
    let path = format!("{}/{client}", overrides(user));
    app.call(Method::PUT, &path, Some(admin), Some(body)).await
}

#[tokio::test]
async fn a_burst_then_429_with_retry_after() {
    let (app, _admin, alice) = setup("2/m").await;
    assert_eq!(me(&app, &alice.token).await.status, OK);
    assert_eq!(me(&app, &alice.token).await.status, OK);
    let res = me(&app, &alice.token).await;
    assert_throttled(&res, 30);
    let detail = "Request was throttled. Expected available in 30 seconds.";
    assert_eq!(res.json["detail"], detail);
    assert!(res.header("www-authenticate").is_empty());

    app.clock.advance_secs(29.0);
    assert_throttled(&me(&app, &alice.token).await, 1);
    app.clock.advance_secs(1.0);
    assert_eq!(
        me(&app, &alice.token).await.status,
        OK,
        "one more after 30 s"
    );
    assert_throttled(&me(&app, &alice.token).await, 30);
}

#[tokio::test]
async fn retry_after_is_rounded_up_to_whole_seconds() {
    let (app, admin, alice) = setup("7/m").await;
    for _ in 0..7 {
        assert_eq!(me(&app, &alice.token).await.status, OK);
    }
    assert_throttled(&me(&app, &alice.token).await, 9); // 60/7 = 8.57 s

    app.patch_client(&admin.token, "mobile", json!({"throttle_rate": "10/s"}))
        .await;
    let fast = app.login("alice", "mobile").await;
    for _ in 0..10 {
        assert_eq!(me(&app, &fast.token).await.status, OK);
    }
    assert_throttled(&me(&app, &fast.token).await, 1); // 0.1 s, at least 1
}

#[tokio::test]
async fn budgets_are_per_user_and_client_pair() {
    let (app, admin, alice) = setup("2/m").await;
    app.patch_client(&admin.token, "mobile", json!({"throttle_rate": "2/m"}))
        .await;
    let alice_mobile = app.login("alice", "mobile").await;
    let alice_cli_2 = app.login("alice", "cli").await;
    let bob = app.user_with_login("bob", "cli").await;

    assert_eq!(me(&app, &alice.token).await.status, OK);
    assert_eq!(me(&app, &alice_cli_2.token).await.status, OK);
    assert_throttled(&me(&app, &alice.token).await, 30);
    assert_throttled(&me(&app, &alice_cli_2.token).await, 30);

    for token in [
        &alice_mobile.token,
        &alice_mobile.token,
        &bob.token,
        &bob.token,
    ] {
        assert_eq!(
            me(&app, token).await.status,
            OK,
            "other pairs are unaffected"
        );
    }
    assert_throttled(&me(&app, &bob.token).await, 30);
}

#[tokio::test]
async fn an_override_beats_the_client_rate() {
    let (app, admin, alice) = setup("2/m").await;
    let bob = app.user_with_login("bob", "cli").await;
    let rate = json!({"rate": "5/m"});
    let res = put_override(&app, &admin.token, alice.user_id, "cli", rate).await;
    assert_eq!(res.status, OK, "{:?}", res.json);
    assert_eq!(res.json, json!({"client": "cli", "rate": "5/m"}));

    for _ in 0..5 {
        assert_eq!(me(&app, &alice.token).await.status, OK);
    }
    assert_throttled(&me(&app, &alice.token).await, 12);
    assert_eq!(me(&app, &bob.token).await.status, OK);
    assert_eq!(me(&app, &bob.token).await.status, OK);
    assert_throttled(&me(&app, &bob.token).await, 30);
}

#[tokio::test]
async fn a_null_override_is_unlimited_and_deleting_it_restores_the_client_rate() {
    let (app, admin, alice) = setup("2/m").await;
    let null = json!({"rate": null});
    let res = put_override(&app, &admin.token, alice.user_id, "cli", null).await;
    assert_eq!(res.status, OK, "{:?}", res.json);
    assert_eq!(res.json, json!({"client": "cli", "rate": null}));
    let path = overrides(alice.user_id);
    let listed = app.get(&path, &admin.token).await.json;
    assert_eq!(listed, json!([{"client": "cli", "rate": null}]));
    for _ in 0..10 {
        assert_eq!(me(&app, &alice.token).await.status, OK);
    }

    let res = app.delete(&format!("{path}/cli"), &admin.token).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&path, &admin.token).await.json, json!([]));
    assert_eq!(me(&app, &alice.token).await.status, OK);
    assert_eq!(me(&app, &alice.token).await.status, OK);
    assert_throttled(&me(&app, &alice.token).await, 30);

    let res = app.delete(&format!("{path}/cli"), &admin.token).await;
    assert_error(&res, StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn overrides_are_listed_per_user() {
    let (app, admin, alice) = setup("2/m").await;
    let bob = app.user_with_login("bob", "web").await;
    let (id, token) = (alice.user_id, &admin.token);
    let res = put_override(&app, token, id, "mobile", json!({"rate": "1/h"})).await;
    assert_eq!(res.status, OK);
    let res = put_override(&app, token, id, "cli", json!({"rate": "5/m"})).await;
    assert_eq!(res.status, OK);
    let res = put_override(&app, token, id, "cli", json!({"rate": "7/s"})).await;
    assert_eq!(
        res.json,
        json!({"client": "cli", "rate": "7/s"}),
        "PUT replaces"
    );

    let res = app.get(&overrides(id), token).await;
    assert_eq!(res.status, OK);
    let mut list = res.json.as_array().unwrap().clone();
    list.sort_by_key(|o| o["client"].to_string());
    let expected = [
        json!({"client": "cli", "rate": "7/s"}),
        json!({"client": "mobile", "rate": "1/h"}),
    ];
    assert_eq!(list, expected);
    assert_eq!(
        app.get(&overrides(bob.user_id), token).await.json,
        json!([])
    );
}

#[tokio::test]
async fn override_input_errors_and_unknown_targets() {
    let (app, admin, alice) = setup("2/m").await;
    let id = alice.user_id;
    let own = id.to_string();
    for (user, client) in [("99999", "cli"), ("abc", "cli"), (own.as_str(), "nope")] {
        let path = format!("/api/admin/users/{user}/throttles/{client}");
        let body = Some(json!({"rate": "5/m"}));
        let res = app.call(Method::PUT, &path, Some(&admin.token), body).await;
        assert_error(&res, StatusCode::NOT_FOUND, "not_found");
        let res = app.delete(&path, &admin.token).await;
        assert_error(&res, StatusCode::NOT_FOUND, "not_found");
    }
    let res = app
        .get("/api/admin/users/99999/throttles", &admin.token)
        .await;
    assert_error(&res, StatusCode::NOT_FOUND, "not_found");

    let bad = [
        json!({"rate": "5/w"}),
        json!({"rate": "0/m"}),
        json!({"rate": 5}),
        json!({}),
    ];
    for body in bad {
        let res = put_override(&app, &admin.token, id, "cli", body.clone()).await;
        assert_error(&res, StatusCode::BAD_REQUEST, "validation_error");
        assert!(
            res.json["fields"]["rate"].is_array(),
            "{body}: {:?}",
            res.json
        );
    }
    let res = app.get(&overrides(id), &admin.token).await;
    assert_eq!(res.json, json!([]), "nothing was stored");
    let res = put_override(&app, &alice.token, id, "cli", json!({"rate": null})).await;
    assert_error(&res, StatusCode::FORBIDDEN, "permission_denied");
}

#[tokio::test]
async fn a_bad_token_on_a_throttled_pair_is_401_not_429() {
    let (app, admin, alice) = setup("1/h").await;
    let spare = app.login("alice", "cli").await;
    assert_eq!(me(&app, &alice.token).await.status, OK);
    assert_throttled(&me(&app, &spare.token).await, 3600);

    let res = me(&app, "tss_notavalidtoken").await;
    assert_error(&res, StatusCode::UNAUTHORIZED, "invalid_token");

    let path = format!("/api/admin/users/{}", alice.user_id);
    let body = Some(json!({"is_active": false}));
    let res = app
        .call(Method::PATCH, &path, Some(&admin.token), body)
        .await;
    assert_eq!(res.status, OK, "{:?}", res.json);
    // Deactivation ended both sessions: 401, not the 429 their budget would give.
    for token in [&alice.token, &spare.token] {
        let res = me(&app, token).await;
        assert_error(&res, StatusCode::UNAUTHORIZED, "invalid_token");
    }
    let res = app.delete(&format!("{path}/sessions"), &admin.token).await;
    assert_eq!(res.json, json!({"revoked": 0}));
}

#[tokio::test]
async fn an_expired_token_on_a_throttled_pair_is_401_not_429() {
    let (app, admin, alice) = setup("1/d").await;
    app.patch_client(&admin.token, "cli", json!({"token_ttl": 60}))
        .await;
    let short = app.login("alice", "cli").await;
    assert_eq!(me(&app, &alice.token).await.status, OK);
    assert_throttled(&me(&app, &short.token).await, 86_400);
    app.clock.advance_secs(61.0);
    let res = me(&app, &short.token).await;
    assert_error(&res, StatusCode::UNAUTHORIZED, "token_expired");
}

#[tokio::test]
async fn a_non_admin_over_budget_gets_403_on_admin_routes() {
    let (app, _admin, alice) = setup("1/h").await;
    assert_eq!(me(&app, &alice.token).await.status, OK);
    assert_throttled(&me(&app, &alice.token).await, 3600);
    let res = app.get("/api/admin/users", &alice.token).await;
    assert_error(&res, StatusCode::FORBIDDEN, "permission_denied");
    assert!(res.header("retry-after").is_empty());
}

#[tokio::test]
async fn admin_routes_spend_the_admins_budget() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    app.patch_client(&admin.token, "web", json!({"throttle_rate": "2/m"}))
        .await;
    assert_eq!(app.get("/api/admin/clients", &admin.token).await.status, OK);
    assert_eq!(app.get("/api/admin/users", &admin.token).await.status, OK);
    assert_throttled(&app.get("/api/admin/clients", &admin.token).await, 30);
}

#[tokio::test]
async fn throttled_routes_carry_ratelimit_headers() {
    let (app, admin, alice) = setup("3/m").await;
    // Each unit of a 3/m budget comes back 20 s after it was spent.
    for (left, next) in [(2, 20), (1, 20), (0, 20)] {
        let res = me(&app, &alice.token).await;
        assert_eq!(res.status, OK);
        assert_eq!(res.header("ratelimit-policy"), "\"client\";q=3;w=60");
        assert_eq!(
            res.header("ratelimit"),
            format!("\"client\";r={left};t={next}")
        );
        assert!(
            res.header("ratelimit-limit").is_empty(),
            "the draft-06 fields are gone"
        );
    }
    let res = me(&app, &alice.token).await;
    assert_throttled(&res, 20);
    app.clock.advance_secs(30.0);
    let res = me(&app, &alice.token).await;
    assert_eq!(res.header("ratelimit"), "\"client\";r=0;t=10");

    let res = me(&app, &admin.token).await;
    assert_eq!(res.status, OK);
    assert!(
        res.header("ratelimit-policy").is_empty(),
        "web is unlimited"
    );
}

/// A login attempt, from the peer or with an `X-Forwarded-For` header.
async fn attempt(app: &TestApp, username: &str, password: &str, xff: Option<&str>) -> TestResponse {
    let body = json!({"username": username, "password": password, "client": "web"});
    let req = Request::post("/api/auth/login").header("content-type", "application/json");
    let req = match xff {
        Some(ip) => req.header("x-forwarded-for", ip),
        None => req,
    };
    app.send(req.body(Body::from(body.to_string())).unwrap())
        .await
}

#[tokio::test]
async fn login_attempts_are_throttled_per_username() {
    let per_user = "3/m".parse().unwrap();
    let settings = Settings {
        login_rate_per_username: per_user,
        ..Default::default()
    };
    let app = TestApp::with_settings(settings).await;
    app.create_user("alice", false).await;
    app.create_user("bob", false).await;
    let wrong = "wrong password";

    // Only failures spend the username's budget.
    for _ in 0..2 {
        let res = attempt(&app, "alice", wrong, None).await;
        assert_error(&res, StatusCode::BAD_REQUEST, "invalid_credentials");
        assert_eq!(attempt(&app, "alice", PASSWORD, None).await.status, OK);
    }
    let res = attempt(&app, "alice", wrong, None).await;
    assert_error(&res, StatusCode::BAD_REQUEST, "invalid_credentials");
    assert_throttled(&attempt(&app, "alice", wrong, None).await, 20);
    assert_throttled(&attempt(&app, "alice", PASSWORD, None).await, 20);

    let res = attempt(&app, "bob", PASSWORD, None).await;
    assert_eq!(res.status, OK, "same IP, another username");

    app.clock.advance_secs(20.0);
    let res = attempt(&app, "alice", PASSWORD, None).await;
    assert_eq!(res.status, OK, "refused attempts spent nothing");
    assert_eq!(attempt(&app, "alice", PASSWORD, None).await.status, OK);
    let res = attempt(&app, "alice", wrong, None).await;
    assert_error(&res, StatusCode::BAD_REQUEST, "invalid_credentials");
    assert_throttled(&attempt(&app, "alice", PASSWORD, None).await, 20);
}

#[tokio::test]
async fn login_attempts_are_throttled_per_ip() {
    let per_ip = "3/m".parse().unwrap();
    let settings = Settings {
        login_rate_per_ip: per_ip,
        ..Default::default()
    };
    let app = TestApp::with_settings(settings).await;
    for name in ["alice", "bob", "carol"] {
        app.create_user(name, false).await;
    }
    assert_eq!(attempt(&app, "alice", PASSWORD, None).await.status, OK);
    let res = attempt(&app, "nobody", PASSWORD, None).await;
    assert_error(&res, StatusCode::BAD_REQUEST, "invalid_credentials");
    let res = attempt(&app, "bob", "wrong password", None).await;
    assert_error(&res, StatusCode::BAD_REQUEST, "invalid_credentials");
    assert_throttled(&attempt(&app, "carol", PASSWORD, None).await, 20);
    app.clock.advance_secs(20.0);
    assert_eq!(attempt(&app, "carol", PASSWORD, None).await.status, OK);
}

#[tokio::test]
async fn the_login_ip_budget_follows_the_forwarded_client_ip() {
    let settings = Settings {
        login_rate_per_ip: "3/m".parse().unwrap(),
        trusted_proxies: vec!["10.0.0.0/8".parse().unwrap()],
        ..Default::default()
    };
    let peer: SocketAddr = "10.0.0.1:5000".parse().unwrap();
    let app = TestApp::with_settings_and_peer(settings, peer).await;
    app.create_user("alice", false).await;
    app.create_user("bob", false).await;
    for _ in 0..3 {
        let res = attempt(&app, "alice", PASSWORD, Some("1.2.3.4")).await;
        assert_eq!(res.status, OK);
    }
    assert_throttled(&attempt(&app, "bob", PASSWORD, Some("1.2.3.4")).await, 20);
    let res = attempt(&app, "bob", PASSWORD, Some("5.6.7.8")).await;
    assert_eq!(res.status, OK, "another client IP");
}
