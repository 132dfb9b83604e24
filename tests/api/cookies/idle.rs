//! The idle timeout (exact on one instance), the device cookie, and the cookie policy fields in the admin API.

use super::*;

#[tokio::test]
async fn a_browser_session_ends_after_twelve_idle_hours_however_long_it_was_used() {
    let app = TestApp::new().await;
    app.create_user("alice", false).await;
    let alice = browser_login(&app, "alice").await;
    app.clock.advance_secs(11.0 * HOUR);
    let res = me_by_cookie(&app, &alice.token).await;
    assert_eq!(res.status, StatusCode::OK, "11 h idle: {:?}", res.json);
    app.clock.advance_secs(11.0 * HOUR);
    let res = me_by_cookie(&app, &alice.token).await;
    assert_eq!(
        res.status,
        StatusCode::OK,
        "22 h since login but 11 h since the last use: {:?}",
        res.json
    );
    app.clock.advance_secs(12.0 * HOUR + 1.0);
    let res = me_by_cookie(&app, &alice.token).await;
    assert_error(&res, StatusCode::UNAUTHORIZED, "token_expired");
    assert_clears(&res, COOKIE);
    let res = me_by_cookie(&app, &alice.token).await;
    assert_error(&res, StatusCode::UNAUTHORIZED, "invalid_token");
    assert_eq!(session_rows(&app).await, 0, "the idle session was deleted");
}

#[tokio::test]
async fn the_idle_timeout_counts_uses_not_yet_written_to_the_database() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    app.patch_client(&admin.token, "mobile", json!({"idle_timeout": 300}))
        .await;
    let alice = app.user_with_login("alice", "mobile").await;
    app.clock.advance_secs(30.0);
    let res = app.get(ME, &alice.token).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    assert_eq!(
        res.json["session"]["last_used"], res.json["session"]["created"],
        "premise: a use 30 s after the last write is not written"
    );
    app.clock.advance_secs(299.0);
    let res = app.get(ME, &alice.token).await;
    assert_eq!(
        res.status,
        StatusCode::OK,
        "299 s after the (unwritten) last use: {:?}",
        res.json
    );
    app.clock.advance_secs(301.0);
    let res = app.get(ME, &alice.token).await;
    assert_error(&res, StatusCode::UNAUTHORIZED, "token_expired");
    assert!(
        set_cookie(&res, COOKIE).is_none(),
        "no cookie to clear for a bearer credential"
    );
    let res = app.get(ME, &alice.token).await;
    assert_error(&res, StatusCode::UNAUTHORIZED, "invalid_token");
}

#[tokio::test]
async fn the_idle_limit_is_exact_to_the_second() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    app.patch_client(&admin.token, "mobile", json!({"idle_timeout": 300}))
        .await;
    let alice = app.user_with_login("alice", "mobile").await;
    app.clock.advance_secs(300.0);
    assert_eq!(
        app.get(ME, &alice.token).await.status,
        StatusCode::OK,
        "exactly 300 s"
    );
    app.clock.advance_secs(300.5);
    let res = app.get(ME, &alice.token).await;
    assert_error(&res, StatusCode::UNAUTHORIZED, "token_expired");
}

#[tokio::test]
async fn introspection_is_not_a_use_and_reports_an_idle_session_inactive() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    app.patch_client(&admin.token, "mobile", json!({"idle_timeout": 300}))
        .await;
    let introspect = async |token: &str| {
        app.post(
            "/api/auth/introspect",
            Some(&admin.token),
            json!({"token": token}),
        )
        .await
    };
    let alice = app.user_with_login("alice", "mobile").await;
    app.clock.advance_secs(200.0);
    let res = introspect(&alice.token).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    assert_eq!(res.json["active"], true);
    app.clock.advance_secs(101.0);
    let res = app.get(ME, &alice.token).await;
    assert_error(&res, StatusCode::UNAUTHORIZED, "token_expired");

    let bob = app.user_with_login("bob", "mobile").await;
    app.clock.advance_secs(301.0);
    let res = introspect(&bob.token).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    assert_eq!(res.json, json!({"active": false}));
    let res = app.get(ME, &bob.token).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{:?}", res.json);
    assert!(
        matches!(res.code(), "token_expired" | "invalid_token"),
        "{:?}",
        res.json
    );
}

#[tokio::test]
async fn a_browser_that_logged_in_before_proves_it_with_the_device_cookie() {
    let app = TestApp::new().await;
    app.create_user("alice", false).await;
    let home: SocketAddr = "192.0.2.10:5000".parse().unwrap();
    let first = app
        .send_from(login_request("alice", "browser", &[]), home)
        .await;
    let first = browser_from(&first, COOKIE);
    assert!(!first.device.is_empty(), "a device-proof cookie");

    let attacker: SocketAddr = "198.51.100.7:6000".parse().unwrap();
    let guess = json!({"username": "alice", "password": "guess guess", "client": "web"});
    for _ in 0..10 {
        let res = app.send_from(guess_request(&guess), attacker).await;
        assert_error(&res, StatusCode::BAD_REQUEST, "invalid_credentials");
    }
    let res = app.send_from(guess_request(&guess), attacker).await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS, "{:?}", res.json);

    let without = app
        .send_from(login_request("alice", "browser", &[]), home)
        .await;
    assert_eq!(
        without.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{:?}",
        without.json
    );
    let cookie = format!("{DEVICE}={}", first.device);
    let with = app
        .send_from(
            login_request("alice", "browser", &[("cookie", cookie.as_str())]),
            home,
        )
        .await;
    assert_eq!(
        with.status,
        StatusCode::OK,
        "the device cookie proves the browser: {:?}",
        with.json
    );
}

fn guess_request(body: &Value) -> Request<Body> {
    Request::post("/api/auth/login")
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

#[tokio::test]
async fn admin_api_shows_and_validates_transport_and_idle_timeout() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let clients = "/api/admin/clients";
    let create = async |body: Value| app.post(clients, Some(&admin.token), body).await;
    let patch = async |name: &str, body: Value| {
        let path = format!("{clients}/{name}");
        app.call(Method::PATCH, &path, Some(&admin.token), Some(body))
            .await
    };
    let validation = |res: &TestResponse, field: &str| {
        assert_error(res, StatusCode::BAD_REQUEST, "validation_error");
        assert!(
            res.json["fields"][field].is_array(),
            "{field}: {:?}",
            res.json
        );
    };

    let res = create(json!({"name": "spa", "transport": "cookie", "idle_timeout": 600})).await;
    assert_eq!(res.status, StatusCode::CREATED, "{:?}", res.json);
    assert_eq!(res.json["transport"], "cookie");
    assert_eq!(res.json["idle_timeout"], 600);
    let shown = app.get(&format!("{clients}/spa"), &admin.token).await;
    assert_eq!(shown.json["transport"], "cookie");
    assert_eq!(shown.json["idle_timeout"], 600);
    // The new client is a cookie client from its first login.
    app.create_user("alice", false).await;
    let login = app.send(login_request("alice", "spa", &[])).await;
    assert_eq!(login.status, StatusCode::OK, "{:?}", login.json);
    assert!(login.json.get("token").is_none(), "{:?}", login.json);
    assert!(set_cookie(&login, COOKIE).is_some());

    let res = create(json!({"name": "plain"})).await;
    assert_eq!(res.status, StatusCode::CREATED, "{:?}", res.json);
    assert_eq!(res.json["transport"], "bearer");
    assert_eq!(res.json["idle_timeout"], json!(null));

    validation(
        &create(json!({"name": "spa2", "idle_timeout": 299})).await,
        "idle_timeout",
    );
    validation(
        &create(json!({"name": "spa2", "idle_timeout": 0})).await,
        "idle_timeout",
    );
    validation(
        &create(json!({"name": "spa2", "idle_timeout": "600"})).await,
        "idle_timeout",
    );
    validation(
        &create(json!({"name": "spa2", "transport": "smoke"})).await,
        "transport",
    );
    validation(
        &create(json!({"name": "spa2", "transport": 5})).await,
        "transport",
    );
    validation(
        &create(json!({"name": "spa2", "transport": null})).await,
        "transport",
    );
    let res = app.get(&format!("{clients}/spa2"), &admin.token).await;
    assert_error(&res, StatusCode::NOT_FOUND, "not_found");

    validation(&patch("web", json!({"transport": null})).await, "transport");
    validation(
        &patch("web", json!({"idle_timeout": 299})).await,
        "idle_timeout",
    );
    let res = patch("web", json!({"idle_timeout": 300})).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    assert_eq!(res.json["idle_timeout"], 300);
    assert_eq!(res.json["transport"], "bearer", "absent: unchanged");
    let res = patch("web", json!({"idle_timeout": null})).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    assert_eq!(res.json["idle_timeout"], json!(null));

    let browser = app.get(&format!("{clients}/browser"), &admin.token).await;
    assert_eq!(browser.status, StatusCode::OK, "{:?}", browser.json);
    assert_eq!(browser.json["transport"], "cookie");
    assert_eq!(browser.json["idle_timeout"], 43_200);
    assert_eq!(browser.json["token_ttl"], FOURTEEN_DAYS);
    let web = app.get(&format!("{clients}/web"), &admin.token).await;
    assert_eq!(web.json["transport"], "bearer");
    assert_eq!(web.json["idle_timeout"], json!(null));
}
