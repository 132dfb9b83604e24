//! Refresh rotation across instances (docs/tokens.md, "Rotation"): the new token is sealed in
//! the database under the server secret both instances share, so a refresh with the previous
//! token inside the grace window returns the same new token whichever instance answers it.

use axum::http::StatusCode;
use serde_json::json;
use server::Settings;
use server::budget::BudgetStore;
use server::clock::ManualClock;
use server::redis_budget::RedisBudgets;
use server::state::AppState;
use std::sync::Arc;
use std::time::Duration;
use tests::TestApp;

const REFRESH: &str = "/api/auth/refresh";
const ME: &str = "/api/auth/me";

/// Refreshes with `token` on `app`, asserting 200; returns the token in the answer.
async fn refreshed(app: &TestApp, token: &str, what: &str) -> String {
    let res = app.post(REFRESH, Some(token), json!({})).await;
    assert_eq!(res.status, StatusCode::OK, "{what}: {:?}", res.json);
    let token = res.json["token"].as_str();
    token
        .unwrap_or_else(|| panic!("{what}: no token in {:?}", res.json))
        .to_string()
}

/// Asserts that `token` authenticates on `app`.
async fn assert_works(app: &TestApp, token: &str, what: &str) {
    let res = app.get(ME, token).await;
    assert_eq!(res.status, StatusCode::OK, "{what}: {:?}", res.json);
}

/// Two instances (separate caches and listeners) on one PostgreSQL and one Redis, with one
/// server secret, as in `revocations.rs`. Ignored by default; CI runs it with
/// `--include-ignored` and both variables set, and it fails (rather than skipping) when either
/// is missing.
#[tokio::test]
#[ignore = "needs PostgreSQL and Redis: set TESSERA_TEST_POSTGRES_URL and TESSERA_TEST_REDIS_URL, run with --include-ignored"]
async fn a_refresh_with_the_previous_token_gets_the_same_new_token_on_either_instance() {
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
    // One secret for both, as instances sharing a database share its server secret.
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
    a.patch_client(&admin.token, "mobile", json!({"rotate_on_refresh": true}))
        .await;
    let t0 = a.user_with_login("alice", "mobile").await.token;

    let t1 = refreshed(a, &t0, "A rotates T0").await;
    assert_ne!(t1, t0, "a rotation issues a new token");
    let again = refreshed(b, &t0, "B, refreshing with T0 in its window").await;
    assert_eq!(again, t1, "B hands back the token A rotated to");
    assert_works(b, &t0, "T0 on B, in its window").await;
    assert_works(b, &t1, "T1 on B").await;
    // A now has T1 cached as the current token: B's rotation must not be undone by it.
    assert_works(a, &t1, "T1 on A").await;

    let t2 = refreshed(b, &t1, "B rotates T1").await;
    assert!(
        t2 != t1 && t2 != t0,
        "a second rotation issues another token"
    );
    let again = refreshed(a, &t1, "A, refreshing with T1 in its window").await;
    assert_eq!(again, t2, "A hands back the token B rotated to");
    assert_works(a, &t2, "T2 on A").await;
    let _ = stop.send(true);
}
