//! Operations and docs (docs/operations.md).

use axum::http::{Method, StatusCode};
use tests::TestApp;

#[tokio::test]
async fn health_and_readiness() {
    let app = TestApp::new().await;
    let res = app.call(Method::GET, "/healthz", None, None).await;
    assert_eq!(
        (res.status, res.json.clone()),
        (StatusCode::OK, serde_json::json!({"status": "ok"}))
    );
    let res = app.call(Method::GET, "/readyz", None, None).await;
    assert_eq!(
        (res.status, res.json.clone()),
        (StatusCode::OK, serde_json::json!({"status": "ready"}))
    );
    app.state.db.clone().close_by_ref().await.ok();
    let res = app.call(Method::GET, "/readyz", None, None).await;
    assert_eq!(
        (res.status, res.code()),
        (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
    );
}

#[tokio::test]
async fn metrics_count_requests_and_logins() {
    let app = TestApp::new().await;
    app.user_with_login("ben", "web").await;
    app.post(
        "/api/auth/login",
        None,
        serde_json::json!({"username": "ben", "password": "wrong password", "client": "web"}),
    )
    .await;
    let res = app.call(Method::GET, "/metrics", None, None).await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(res.header("content-type").starts_with("text/plain"));
    let text = String::from_utf8(res.body).unwrap();
    assert!(
        text.contains(
            r#"tessera_http_requests_total{method="POST",route="/api/auth/login",status="200"} 1"#
        ),
        "{text}"
    );
    assert!(text.contains(r#"tessera_logins_total{outcome="success"} 1"#));
    assert!(text.contains(r#"tessera_logins_total{outcome="invalid_credentials"} 1"#));
    assert!(text.contains("tessera_http_request_duration_seconds_bucket"));
}

/// The value of an unlabelled sample in Prometheus text.
fn sample(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no sample {name} in\n{text}"))
}

#[tokio::test]
async fn metrics_count_cache_hits_and_misses_and_show_pool_use() {
    let app = TestApp::new().await;
    let login = app.user_with_login("cat", "web").await;
    let metrics = || async {
        String::from_utf8(app.call(Method::GET, "/metrics", None, None).await.body).unwrap()
    };
    let before = metrics().await;
    let (hits, misses) = (
        sample(&before, "tessera_verification_cache_hits_total"),
        sample(&before, "tessera_verification_cache_misses_total"),
    );
    // The first use reads the database; the next two are answered from the cache.
    for _ in 0..3 {
        assert_eq!(
            app.get("/api/auth/me", &login.token).await.status,
            StatusCode::OK
        );
    }
    let after = metrics().await;
    assert_eq!(
        sample(&after, "tessera_verification_cache_misses_total"),
        misses + 1.0
    );
    assert_eq!(
        sample(&after, "tessera_verification_cache_hits_total"),
        hits + 2.0
    );
    for pool in ["writer", "reader"] {
        for state in ["idle", "in_use"] {
            let line = format!(r#"tessera_db_pool_connections{{pool="{pool}",state="{state}"}} "#);
            assert!(after.contains(&line), "{line} missing from\n{after}");
        }
    }
}

#[tokio::test]
async fn openapi_and_swagger_ui_are_served() {
    let app = TestApp::new().await;
    let res = app.call(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.json["openapi"], "3.1.0");
    assert_eq!(
        res.json["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    for path in [
        "/api/auth/login",
        "/api/auth/sessions/{id}",
        "/api/auth/verify",
        "/healthz",
        "/readyz",
        "/metrics",
    ] {
        assert!(res.json["paths"].get(path).is_some(), "{path} undocumented");
    }
    assert_eq!(
        res.json["paths"]["/api/auth/me"]["get"]["summary"],
        "Who am I"
    );
    assert_eq!(res.json, serde_json::to_value(server::openapi()).unwrap());
    let docs = app.call(Method::GET, "/docs/", None, None).await;
    assert_eq!(docs.status, StatusCode::OK);
    assert!(String::from_utf8_lossy(&docs.body).contains("swagger"));
    let redirect = app.call(Method::GET, "/docs", None, None).await;
    assert!(redirect.status.is_redirection() || redirect.status == StatusCode::OK);
}

/// Instances started together on an empty database all try to create the bootstrap admin;
/// the ones that lose the race must start anyway, not fail on "username exists".
#[tokio::test]
async fn bootstrap_admin_race_is_not_fatal() {
    use secrecy::SecretString;
    use server::service::users::ensure_bootstrap_admin;
    let app = TestApp::new().await;
    let spec = SecretString::from(format!("boot:{}", tests::PASSWORD));
    // Both calls look the name up before either has hashed and inserted, so one insert loses.
    let (a, b) = tokio::join!(
        ensure_bootstrap_admin(&app.state, &spec),
        ensure_bootstrap_admin(&app.state, &spec)
    );
    let (a, b) = (a.expect("first start"), b.expect("second start"));
    assert!(a ^ b, "exactly one creates the admin: {a} {b}");
    assert!(!ensure_bootstrap_admin(&app.state, &spec).await.unwrap());
    let login = app.login("boot", "web").await;
    let me = app.get("/api/auth/me", &login.token).await;
    assert_eq!(me.json["user"]["is_admin"], true, "{}", me.json);
}
