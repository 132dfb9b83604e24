//! Bulk revocation, the admins' kill switch (docs/endpoints.md, "Bulk revocation"): which
//! sessions and keys each filter ends, what the count counts, validation, and how fast another
//! instance on the same PostgreSQL refuses what was ended.

use axum::http::{Method, StatusCode};
use chrono::SecondsFormat;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};
use server::Settings;
use server::budget::BudgetStore;
use server::clock::ManualClock;
use server::redis_budget::RedisBudgets;
use server::state::AppState;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tests::{TestApp, TestResponse};

const PATH: &str = "/api/admin/revocations";

/// Runs a bulk revocation, asserting 200 and exactly `{"revoked": n}`.
async fn assert_revoked(app: &TestApp, admin: &str, body: Value, n: u64) {
    let res = app.post(PATH, Some(admin), body.clone()).await;
    assert_eq!(res.status, StatusCode::OK, "{body}: {:?}", res.json);
    assert_eq!(res.json, json!({ "revoked": n }), "{body}");
}

/// Asserts that `token` still authenticates.
async fn assert_works(app: &TestApp, token: &str, what: &str) {
    let res = app.get("/api/auth/me", token).await;
    assert_eq!(res.status, StatusCode::OK, "{what}: {:?}", res.json);
}

/// Asserts that `token` is refused as revoked.
async fn assert_ended(app: &TestApp, token: &str, what: &str) {
    let res = app.get("/api/auth/me", token).await;
    assert_eq!(
        res.status,
        StatusCode::UNAUTHORIZED,
        "{what}: {:?}",
        res.json
    );
    assert_eq!(res.code(), "invalid_token", "{what}");
}

async fn session_rows(app: &TestApp) -> u64 {
    entity::session::Entity::find()
        .count(&app.state.db)
        .await
        .unwrap()
}

fn assert_validation(res: &TestResponse, field: &str) {
    assert_eq!(res.status, StatusCode::BAD_REQUEST, "{:?}", res.json);
    assert_eq!(res.code(), "validation_error", "{:?}", res.json);
    assert!(
        res.json["fields"][field].is_array(),
        "{field}: {:?}",
        res.json
    );
}

/// Creates an API key for the owner of `token`; returns the key.
async fn api_key(app: &TestApp, token: &str) -> String {
    let res = app
        .call(Method::POST, "/api/auth/apiaccess", Some(token), None)
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{:?}", res.json);
    res.json["token"].as_str().unwrap().to_string()
}

/// A moment of the test clock as the API writes it (RFC 3339, microseconds, `Z`).
fn rfc3339(micros: i64) -> String {
    server::clock::to_datetime(micros).to_rfc3339_opts(SecondsFormat::Micros, true)
}

#[tokio::test]
async fn by_client_ends_that_clients_sessions_at_once() {
    let app = TestApp::new().await;
    let admin = app.admin().await; // on web: not matched
    let alice_web = app.user_with_login("alice", "web").await;
    let alice_mobile = app.login("alice", "mobile").await;
    let bob_web = app.user_with_login("bob", "web").await;
    let bob_mobile = app.login("bob", "mobile").await;
    let all = [&alice_web, &alice_mobile, &bob_web, &bob_mobile];
    for login in all {
        assert_works(&app, &login.token, "before").await; // now cached
    }
    assert_revoked(&app, &admin.token, json!({"client": "mobile"}), 2).await;
    assert_ended(&app, &alice_mobile.token, "alice on mobile").await;
    assert_ended(&app, &bob_mobile.token, "bob on mobile").await;
    assert_works(&app, &alice_web.token, "alice on web").await;
    assert_works(&app, &bob_web.token, "bob on web").await;
    assert_works(&app, &admin.token, "the admin").await;
    // Ended, not blocked: the user may log in on the client again.
    let again = app.login("alice", "mobile").await;
    assert_works(&app, &again.token, "a new mobile login").await;
    assert_revoked(&app, &admin.token, json!({"client": "mobile"}), 1).await;
}

#[tokio::test]
async fn by_user_ends_their_sessions_and_api_key() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let alice_web = app.user_with_login("alice", "web").await;
    let alice_cli = app.login("alice", "cli").await;
    let alice_key = api_key(&app, &alice_web.token).await;
    let bob = app.user_with_login("bob", "web").await;
    let bob_key = api_key(&app, &bob.token).await;
    for token in [&alice_web.token, &alice_cli.token, &alice_key, &bob_key] {
        assert_works(&app, token, "before").await;
    }
    let body = json!({"user_id": alice_web.user_id});
    assert_revoked(&app, &admin.token, body, 3).await;
    assert_ended(&app, &alice_web.token, "alice on web").await;
    assert_ended(&app, &alice_cli.token, "alice on cli").await;
    assert_ended(&app, &alice_key, "alice's API key").await;
    assert_works(&app, &bob.token, "bob").await;
    assert_works(&app, &bob_key, "bob's API key").await;
    assert_works(&app, &admin.token, "the admin").await;
    let again = app.login("alice", "web").await;
    let res = app.get("/api/auth/apiaccess", &again.token).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND, "the key is gone");
    // An unknown user matches nothing.
    assert_revoked(&app, &admin.token, json!({"user_id": 999_999}), 0).await;
    assert_works(&app, &again.token, "alice's new login").await;
}

#[tokio::test]
async fn by_created_before_ends_only_what_is_older_than_the_cut() {
    let app = TestApp::new().await;
    let old = app.user_with_login("alice", "web").await;
    let old_key = api_key(&app, &old.token).await;
    app.clock.advance_secs(0.5);
    let cut = app.state.now();
    // Created exactly at the cut: not before it.
    let at_cut = app.user_with_login("bob", "web").await;
    app.clock.advance_secs(0.5);
    let admin = app.admin().await;
    let newer = app.login("alice", "cli").await;
    let body = json!({"created_before": rfc3339(cut)});
    assert_revoked(&app, &admin.token, body, 2).await;
    assert_ended(&app, &old.token, "created before the cut").await;
    assert_ended(&app, &old_key, "a key created before the cut").await;
    assert_works(&app, &at_cut.token, "created at the cut").await;
    assert_works(&app, &newer.token, "created after the cut").await;
    assert_works(&app, &admin.token, "the admin").await;
}

#[tokio::test]
async fn combined_filters_end_only_the_intersection() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let alice_web = app.user_with_login("alice", "web").await;
    let alice_mobile = app.login("alice", "mobile").await;
    let bob_web = app.user_with_login("bob", "web").await;
    let bob_mobile = app.login("bob", "mobile").await;
    let body = json!({"client": "mobile", "user_id": alice_web.user_id});
    assert_revoked(&app, &admin.token, body, 1).await;
    assert_ended(&app, &alice_mobile.token, "alice on mobile").await;
    assert_works(&app, &alice_web.token, "alice on web").await;
    assert_works(&app, &bob_web.token, "bob on web").await;
    assert_works(&app, &bob_mobile.token, "bob on mobile").await;
    // All three: the cut excludes what the other two would match.
    app.clock.advance_secs(1.0);
    let cut = rfc3339(app.state.now());
    app.clock.advance_secs(1.0);
    let later = app.login("bob", "mobile").await;
    let body = json!({"client": "mobile", "user_id": bob_web.user_id, "created_before": cut});
    assert_revoked(&app, &admin.token, body, 1).await;
    assert_ended(&app, &bob_mobile.token, "bob's older mobile session").await;
    assert_works(&app, &later.token, "bob's newer mobile session").await;
    assert_works(&app, &bob_web.token, "bob on web").await;
}

#[tokio::test]
async fn invalid_requests_are_refused_and_end_nothing() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let alice = app.user_with_login("alice", "mobile").await;
    let post = |body| app.post(PATH, Some(&admin.token), body);
    assert_validation(&post(json!({})).await, "non_field_errors");
    let res = post(json!({"created_before": "yesterday"})).await;
    assert_validation(&res, "created_before");
    assert_validation(&post(json!({"user_id": "x"})).await, "user_id");
    assert_validation(
        &post(json!({"user_id": 2_147_483_648_i64})).await,
        "user_id",
    );
    let res = post(json!({"clients": "mobile"})).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST, "{:?}", res.json);
    assert_eq!(res.code(), "validation_error");
    let res = post(json!({"client": "mobile", "extra": true})).await;
    assert_eq!(
        res.code(),
        "validation_error",
        "an unknown field beside a known one"
    );
    // Only admins.
    let res = app
        .post(PATH, Some(&alice.token), json!({"client": "mobile"}))
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{:?}", res.json);
    assert_eq!(res.code(), "permission_denied");
    let res = app.post(PATH, None, json!({"client": "mobile"})).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    // An unknown client matches nothing.
    assert_revoked(&app, &admin.token, json!({"client": "nope"}), 0).await;
    assert_works(&app, &alice.token, "alice after every refusal").await;
    assert_works(&app, &admin.token, "the admin").await;
}

#[tokio::test]
async fn the_count_leaves_out_sessions_that_had_already_expired() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    app.patch_client(&admin.token, "mobile", json!({"token_ttl": 60}))
        .await;
    let short = app.user_with_login("alice", "mobile").await;
    let long = app.login("alice", "cli").await;
    app.clock.advance_secs(61.0);
    // The expired row is still stored (nothing purged it, nothing presented it).
    assert_eq!(session_rows(&app).await, 3);
    let body = json!({"user_id": short.user_id});
    assert_revoked(&app, &admin.token, body, 1).await;
    assert_ended(&app, &long.token, "the live session").await;
    assert_eq!(
        app.get("/api/auth/me", &short.token).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_works(&app, &admin.token, "the admin").await;
    assert_eq!(session_rows(&app).await, 1, "the expired row went too");
}

/// Two instances (separate caches and listeners) on one PostgreSQL and one Redis, as in
/// `hotpath.rs`. Ignored by default; CI runs it with `--include-ignored` and both variables
/// set, and it fails (rather than skipping) when either is missing.
#[tokio::test]
#[ignore = "needs PostgreSQL and Redis: set TESSERA_TEST_POSTGRES_URL and TESSERA_TEST_REDIS_URL, run with --include-ignored"]
async fn another_instance_refuses_what_was_revoked_within_a_second() {
    let (Ok(pg), Ok(redis_url)) = (
        std::env::var(tests::POSTGRES_ENV),
        std::env::var("TESSERA_TEST_REDIS_URL"),
    ) else {
        panic!("set TESSERA_TEST_POSTGRES_URL and TESSERA_TEST_REDIS_URL to run this test");
    };
    let db = Arc::new(tests::fresh_database().await);
    let prefix = format!("test:{}:", uuid::Uuid::new_v4().simple());
    let clock = ManualClock::new();
    let (stop, _) = tokio::sync::watch::channel(false);
    let mut instances = Vec::new();
    let secret = server::secret::ServerSecret::random();
    for _ in 0..2 {
        let redis = RedisBudgets::start(&redis_url, &prefix, Duration::from_millis(500)).unwrap();
        assert!(
            redis.wait_connected(Duration::from_secs(5)).await,
            "Redis connects"
        );
        let state = AppState::with_parts(
            db.conn(),
            db.conn(),
            Settings::default(),
            Arc::new(clock.clone()),
            BudgetStore::Redis(redis),
            secret.clone(),
        );
        let (ready, subscribed) = tokio::sync::oneshot::channel();
        tokio::spawn(server::bus::listen(
            pg.clone(),
            state.cache.clone(),
            stop.subscribe(),
            Some(ready),
        ));
        subscribed.await.expect("the listener subscribes");
        instances.push(TestApp::from_state(state, clock.clone(), Some(db.clone())));
    }
    let (a, b) = (&instances[0], &instances[1]);
    server::service::clients::seed_defaults(&a.state)
        .await
        .unwrap();

    let admin = a.admin().await;
    let ended = a.user_with_login("shared", "mobile").await;
    let kept = a.login("shared", "cli").await;
    for token in [&ended.token, &kept.token, &ended.token, &kept.token] {
        assert_works(b, token, "B accepts A's token").await; // the second time, from B's cache
    }
    assert_revoked(a, &admin.token, json!({"client": "mobile"}), 1).await;
    let started = Instant::now();
    assert_ended(a, &ended.token, "on A, the very next request").await;
    loop {
        let res = b.get("/api/auth/me", &ended.token).await;
        if res.status != StatusCode::OK {
            assert_eq!(res.code(), "invalid_token", "{:?}", res.json);
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "B still accepts a token revoked in bulk on A"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    eprintln!(
        "bulk revocation reached instance B after {:?}",
        started.elapsed()
    );
    assert_works(b, &kept.token, "B still accepts the unmatched session").await;
    assert_works(b, &admin.token, "B still accepts the admin").await;
    let _ = stop.send(true);
}
