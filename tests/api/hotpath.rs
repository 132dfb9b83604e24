//! The cheap hot path: the verification cache, queued `last_used` writes, and several
//! instances sharing one PostgreSQL (revocations) and one Redis (budgets).

use axum::http::StatusCode;
use sea_orm::EntityTrait;
use serde_json::json;
use server::Settings;
use server::budget::BudgetStore;
use server::clock::ManualClock;
use server::redis_budget::RedisBudgets;
use server::state::AppState;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tests::TestApp;

async fn stored_last_used(app: &TestApp, session_id: &str) -> i64 {
    let row = entity::session::Entity::find_by_id(session_id.to_string())
        .one(&app.state.db)
        .await
        .unwrap();
    row.unwrap().last_used
}

#[tokio::test]
async fn uses_are_queued_then_flushed() {
    let app = TestApp::new().await;
    let login = app.user_with_login("queue", "web").await;
    let at_login = stored_last_used(&app, &login.session_id).await;
    app.clock.advance_secs(61.0);
    let me = app.get("/api/auth/me", &login.token).await;
    assert_ne!(me.json["session"]["last_used"], json!(null));
    assert_eq!(
        app.state.touches.len(),
        1,
        "the use is noted, not written on the request"
    );
    assert_eq!(stored_last_used(&app, &login.session_id).await, at_login);
    assert_eq!(app.state.touches.flush(&app.state.db).await.unwrap(), 1);
    assert_eq!(
        stored_last_used(&app, &login.session_id).await,
        at_login + 61_000_000
    );
    assert!(app.state.touches.is_empty());
    // The listing flushes first, so it never shows an older last use than /me does.
    app.clock.advance_secs(61.0);
    let me = app.get("/api/auth/me", &login.token).await;
    let listed = app.get("/api/auth/sessions", &login.token).await;
    assert_eq!(listed.json[0]["last_used"], me.json["session"]["last_used"]);
}

#[tokio::test]
async fn a_cached_expiry_renewed_elsewhere_is_rechecked() {
    let app = TestApp::new().await;
    let login = app.user_with_login("renewed", "web").await;
    assert_eq!(
        app.get("/api/auth/me", &login.token).await.status,
        StatusCode::OK
    ); // now cached
    // Another instance renews the session: only the database knows.
    let far = app.state.now() + 10 * 86_400 * 1_000_000;
    server::store::sessions::touch(
        &app.state.db,
        &login.session_id,
        app.state.now(),
        Some(Some(far)),
    )
    .await
    .unwrap();
    app.clock.advance_secs(86_401.0);
    assert_eq!(
        app.get("/api/auth/me", &login.token).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn cached_rows_follow_overrides_and_policy_at_once() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let login = app.user_with_login("policy", "cli").await;
    assert_eq!(
        app.get("/api/auth/me", &login.token).await.status,
        StatusCode::OK
    ); // cached
    let path = format!("/api/admin/users/{}/throttles/cli", login.user_id);
    let res = app
        .call(
            axum::http::Method::PUT,
            &path,
            Some(&admin.token),
            Some(json!({"rate": "1/h"})),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(
        app.get("/api/auth/me", &login.token).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.get("/api/auth/me", &login.token).await.code(),
        "throttled"
    );
    app.delete(&path, &admin.token).await;
    assert_eq!(
        app.get("/api/auth/me", &login.token).await.status,
        StatusCode::OK
    );
    app.patch_client(&admin.token, "cli", json!({"throttle_rate": "1/h"}))
        .await;
    assert_eq!(
        app.get("/api/auth/me", &login.token).await.code(),
        "throttled"
    );
}

/// Forward-auth's answer and `/me` are rendered once per cached record and answered from the
/// copy: every change to what they show (a renewal, a use, the user's own fields) must show at
/// once, and a repeated answer must be the same as the first.
#[tokio::test]
async fn rendered_answers_follow_the_record() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    app.patch_client(
        &admin.token,
        "cli",
        json!({"token_ttl": 3600, "auto_renew": true}),
    )
    .await;
    let login = app.user_with_login("rendered", "cli").await;
    let first = app.get("/api/auth/verify", &login.token).await;
    let again = app.get("/api/auth/verify", &login.token).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body, first.body, "the same answer from the copy");
    for name in [
        "x-auth-user-id",
        "x-auth-username",
        "x-auth-client",
        "x-auth-session-id",
    ] {
        assert_eq!(again.headers.get(name), first.headers.get(name), "{name}");
    }
    assert_eq!(again.header("x-auth-username"), "rendered");
    assert_eq!(again.header("content-type"), "application/json");
    let me = app.get("/api/auth/me", &login.token).await;
    assert_eq!(me.json["user"]["is_admin"], json!(false));
    assert_eq!(me.json["session"]["expiry"], first.json["expiry"]);

    // A renewal (and a use) make a new record, rendered afresh.
    app.clock.advance_secs(120.0);
    let renewed = app.get("/api/auth/verify", &login.token).await;
    assert_ne!(renewed.json["expiry"], first.json["expiry"], "renewed");
    let me_after = app.get("/api/auth/me", &login.token).await;
    assert_eq!(me_after.json["session"]["expiry"], renewed.json["expiry"]);
    assert_ne!(
        me_after.json["session"]["last_used"],
        me.json["session"]["last_used"]
    );

    // The user's own fields: an admin's change invalidates the cached record.
    let res = app
        .call(
            axum::http::Method::PATCH,
            &format!("/api/admin/users/{}", login.user_id),
            Some(&admin.token),
            Some(json!({"is_admin": true})),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    let me_admin = app.get("/api/auth/me", &login.token).await;
    assert_eq!(me_admin.json["user"]["is_admin"], json!(true));
}

/// Two instances (separate caches, listeners and budgets) on one PostgreSQL and one Redis.
/// Ignored by default; CI runs it with `--include-ignored` and both variables set, and it
/// fails (rather than skipping) when either is missing.
#[tokio::test]
#[ignore = "needs PostgreSQL and Redis: set TESSERA_TEST_POSTGRES_URL and TESSERA_TEST_REDIS_URL, run with --include-ignored"]
async fn two_instances_share_revocations_and_budgets() {
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
    let user = a.user_with_login("shared", "cli").await;
    assert_eq!(
        b.get("/api/auth/me", &user.token).await.status,
        StatusCode::OK,
        "B accepts A's token"
    );
    assert_eq!(
        b.get("/api/auth/me", &user.token).await.status,
        StatusCode::OK
    ); // cached on B
    a.post("/api/auth/logout", Some(&user.token), json!({}))
        .await;
    let started = Instant::now();
    while b.get("/api/auth/me", &user.token).await.status == StatusCode::OK {
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "B still accepts a token revoked on A"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    eprintln!(
        "revocation reached instance B after {:?}",
        started.elapsed()
    );

    a.patch_client(&admin.token, "cli", json!({"throttle_rate": "4/h"}))
        .await;
    let user = a.login("shared", "cli").await;
    for app in [a, b, a, b] {
        assert_eq!(
            app.get("/api/auth/me", &user.token).await.status,
            StatusCode::OK
        );
    }
    let refused = b.get("/api/auth/me", &user.token).await;
    assert_eq!(
        refused.code(),
        "throttled",
        "the budget is shared, not 4 per instance"
    );
    assert_eq!(a.get("/api/auth/me", &user.token).await.code(), "throttled");
    let _ = stop.send(true);
}
