//! Login events: success by each method, each failure reason, throttling; and the caller's IP
//! and User-Agent on the events.

use super::*;

/// Standard base64 with padding, as `Authorization: Basic` carries it.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b1 = chunk.get(1).copied().unwrap_or(0);
        let b2 = chunk.get(2).copied().unwrap_or(0);
        let n = (u32::from(chunk[0]) << 16) | (u32::from(b1) << 8) | u32::from(b2);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[tokio::test]
async fn a_password_login_records_login_succeeded_with_the_new_session() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let alice = app.user_with_login("alice", "mobile").await;
    let event = one(&app, &admin.token, "login.succeeded", &json!(alice.user_id)).await;
    assert_fields(
        &event,
        &json!({
            "type": "login.succeeded",
            "user_id": alice.user_id,
            "username": "alice",
            "client": "mobile",
            "session_id": alice.session_id,
            "actor_id": null,
            "ip": LOCAL_IP,
            "detail": {"method": "password"},
        }),
    );
}

#[tokio::test]
async fn a_basic_login_records_login_succeeded_with_method_basic() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let id = app.create_user("alice", false).await;
    let auth = format!("Basic {}", base64(format!("alice:{PASSWORD}").as_bytes()));
    let req = json_request(
        "/api/auth/login",
        &json!({"client": "cli"}),
        &[("authorization", auth.as_str())],
    );
    let res = app.send(req).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    let event = one(&app, &admin.token, "login.succeeded", &json!(id)).await;
    assert_fields(
        &event,
        &json!({
            "user_id": id,
            "username": "alice",
            "client": "cli",
            "session_id": res.json["session"]["id"],
            "actor_id": null,
            "ip": LOCAL_IP,
            "detail": {"method": "basic"},
        }),
    );
}

#[tokio::test]
async fn a_remote_user_login_records_method_remote_and_the_forwarded_ip() {
    let settings = Settings {
        remote_user_header: Some("x-remote-user".into()),
        trusted_proxies: vec!["10.0.0.1/32".parse().unwrap()],
        ..Settings::default()
    };
    let app = TestApp::with_settings_and_peer(settings, "10.0.0.1:5000".parse().unwrap()).await;
    let admin = app.admin().await;
    let id = app.create_user("alice", false).await;
    let headers = [
        ("x-remote-user", "alice"),
        ("x-forwarded-for", "192.0.2.50"),
    ];
    let req = json_request(
        "/api/auth/login/remote",
        &json!({"client": "cli"}),
        &headers,
    );
    let res = app.send(req).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    let event = one(&app, &admin.token, "login.succeeded", &json!(id)).await;
    assert_fields(
        &event,
        &json!({
            "username": "alice",
            "client": "cli",
            "session_id": res.json["session"]["id"],
            "ip": "192.0.2.50",
            "detail": {"method": "remote"},
        }),
    );
}

#[tokio::test]
async fn a_login_with_an_unknown_username_records_login_failed_unknown_user() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let res = attempt(&app, "nobody", PASSWORD, "web").await;
    assert_error(&res, StatusCode::BAD_REQUEST, "invalid_credentials");
    let event = one(&app, &admin.token, "login.failed", &Value::Null).await;
    assert_fields(
        &event,
        &json!({"username": "nobody", "client": "web", "actor_id": null, "ip": LOCAL_IP}),
    );
    assert_eq!(event["detail"]["reason"], "unknown_user", "{event}");
}

#[tokio::test]
async fn a_wrong_password_records_login_failed_wrong_password_with_the_user() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let id = app.create_user("alice", false).await;
    let res = attempt(&app, "alice", "not the password", "mobile").await;
    assert_error(&res, StatusCode::BAD_REQUEST, "invalid_credentials");
    let event = one(&app, &admin.token, "login.failed", &json!(id)).await;
    assert_fields(
        &event,
        &json!({"username": "alice", "client": "mobile", "session_id": null, "ip": LOCAL_IP}),
    );
    assert_eq!(event["detail"]["reason"], "wrong_password", "{event}");
}

#[tokio::test]
async fn an_inactive_user_logging_in_records_login_failed_inactive_user() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let id = app.create_user("dave", false).await;
    let path = format!("/api/admin/users/{id}");
    let res = patch(&app, &admin.token, &path, json!({"is_active": false})).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    let res = attempt(&app, "dave", PASSWORD, "web").await;
    assert_error(&res, StatusCode::BAD_REQUEST, "invalid_credentials");
    let event = one(&app, &admin.token, "login.failed", &json!(id)).await;
    assert_fields(&event, &json!({"username": "dave", "client": "web"}));
    assert_eq!(event["detail"]["reason"], "inactive_user", "{event}");
}

#[tokio::test]
async fn a_login_to_an_unknown_client_records_login_failed_unknown_client() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    app.create_user("alice", false).await;
    let res = attempt(&app, "alice", PASSWORD, "nope").await;
    assert_error(&res, StatusCode::BAD_REQUEST, "unknown_client");
    let event = one_on_client(&app, &admin.token, "login.failed", "nope").await;
    assert_fields(&event, &json!({"username": "alice", "session_id": null}));
    assert_eq!(event["detail"]["reason"], "unknown_client", "{event}");
}

#[tokio::test]
async fn a_login_to_the_api_access_client_records_login_failed_invalid_client() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    app.create_user("alice", false).await;
    let res = attempt(&app, "alice", PASSWORD, "api").await;
    assert_error(&res, StatusCode::BAD_REQUEST, "invalid_client");
    let event = one_on_client(&app, &admin.token, "login.failed", "api").await;
    assert_fields(&event, &json!({"username": "alice", "session_id": null}));
    assert_eq!(event["detail"]["reason"], "invalid_client", "{event}");
}

#[tokio::test]
async fn a_login_refused_by_the_username_budget_records_login_throttled() {
    let settings = Settings {
        login_rate_per_username: "1/m".parse().unwrap(),
        ..Settings::default()
    };
    let app = TestApp::with_settings(settings).await;
    let admin = app.admin().await;
    let id = app.create_user("alice", false).await;
    let res = attempt(&app, "alice", "not the password", "web").await;
    assert_error(&res, StatusCode::BAD_REQUEST, "invalid_credentials");
    let res = attempt(&app, "alice", PASSWORD, "web").await;
    assert_error(&res, StatusCode::TOO_MANY_REQUESTS, "throttled");

    let events = all_events(&app, &admin.token).await;
    let throttled: Vec<&Value> = events
        .iter()
        .filter(|e| e["type"] == "login.throttled")
        .collect();
    assert_eq!(throttled.len(), 1, "{events:?}");
    assert_fields(throttled[0], &json!({"username": "alice", "ip": LOCAL_IP}));
    let user = &throttled[0]["user_id"];
    assert!(user.is_null() || *user == json!(id), "{user}");
    assert!(
        !events
            .iter()
            .any(|e| e["type"] == "login.succeeded" && e["username"] == "alice"),
        "the refused attempt logged nobody in: {events:?}"
    );
}

#[tokio::test]
async fn a_login_refused_by_the_ip_budget_records_login_throttled_for_the_attempted_name() {
    let settings = Settings {
        login_rate_per_ip: "2/m".parse().unwrap(),
        ..Settings::default()
    };
    let peer: SocketAddr = "198.51.100.7:5555".parse().unwrap();
    let app = TestApp::with_settings_and_peer(settings, peer).await;
    // The admin logs in from elsewhere, with a budget of its own.
    app.create_user("root", true).await;
    let body = json!({"username": "root", "password": PASSWORD, "client": "web"});
    let elsewhere: SocketAddr = "192.0.2.1:4000".parse().unwrap();
    let res = app
        .send_from(json_request("/api/auth/login", &body, &[]), elsewhere)
        .await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    let admin = res.json["token"].as_str().unwrap().to_string();

    for name in ["one", "two"] {
        let res = attempt(&app, name, PASSWORD, "web").await;
        assert_error(&res, StatusCode::BAD_REQUEST, "invalid_credentials");
    }
    let res = attempt(&app, "nobody", PASSWORD, "web").await;
    assert_error(&res, StatusCode::TOO_MANY_REQUESTS, "throttled");
    let event = one(&app, &admin, "login.throttled", &Value::Null).await;
    assert_fields(
        &event,
        &json!({"username": "nobody", "session_id": null, "ip": "198.51.100.7"}),
    );
}

#[tokio::test]
async fn events_record_the_callers_ip_and_user_agent() {
    let peer: SocketAddr = "198.51.100.7:5555".parse().unwrap();
    let app = TestApp::with_settings_and_peer(Settings::default(), peer).await;
    let admin = app.admin().await;
    let id = app.create_user("alice", false).await;
    let body = json!({"username": "alice", "password": PASSWORD, "client": "web"});
    let res = app
        .send(json_request(
            "/api/auth/login",
            &body,
            &[("user-agent", AGENT)],
        ))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    let event = one(&app, &admin.token, "login.succeeded", &json!(id)).await;
    assert_fields(&event, &json!({"ip": "198.51.100.7", "user_agent": AGENT}));

    // Another address, another agent: each event keeps its own.
    let other: SocketAddr = "[2001:db8::7]:6000".parse().unwrap();
    let wrong = json!({"username": "alice", "password": "not the password", "client": "web"});
    let req = json_request("/api/auth/login", &wrong, &[("user-agent", "curl/8.5.0")]);
    let res = app.send_from(req, other).await;
    assert_error(&res, StatusCode::BAD_REQUEST, "invalid_credentials");
    let event = one(&app, &admin.token, "login.failed", &json!(id)).await;
    assert_fields(
        &event,
        &json!({"ip": "2001:db8::7", "user_agent": "curl/8.5.0"}),
    );

    // An admin's change records the admin's request.
    let req = Request::delete(format!("/api/admin/users/{id}/sessions"))
        .header("authorization", format!("Bearer {}", admin.token))
        .header("user-agent", AGENT)
        .body(Body::empty())
        .unwrap();
    let res = app.send_from(req, "192.0.2.33:7000".parse().unwrap()).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    let event = one(&app, &admin.token, "session.revoked", &json!(id)).await;
    assert_fields(
        &event,
        &json!({"actor_id": admin.user_id, "ip": "192.0.2.33", "user_agent": AGENT}),
    );
}

#[tokio::test]
async fn a_login_behind_a_trusted_proxy_records_the_forwarded_client_ip() {
    let settings = Settings {
        trusted_proxies: vec!["10.0.0.0/8".parse().unwrap()],
        ..Settings::default()
    };
    let peer: SocketAddr = "10.0.0.1:5000".parse().unwrap();
    let app = TestApp::with_settings_and_peer(settings, peer).await;
    let admin = app.admin().await;
    let alice = app.user_with_login("alice", "web").await;
    let body = json!({"username": "alice", "password": PASSWORD, "client": "cli"});
    let xff = [("x-forwarded-for", "6.6.6.6, 203.0.113.5, 10.0.0.7")];
    let res = app.send(json_request("/api/auth/login", &body, &xff)).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    let events = events_of(&app, &admin.token, "login.succeeded", &json!(alice.user_id)).await;
    assert_eq!(events.len(), 2, "{events:?}");
    let ip_on = |client: &str| {
        let event = events.iter().find(|e| e["client"] == client);
        event.map(|e| e["ip"].clone())
    };
    assert_eq!(ip_on("cli"), Some(json!("203.0.113.5")), "{events:?}");
    assert_eq!(
        ip_on("web"),
        Some(json!("10.0.0.1")),
        "no header: the peer itself"
    );
}
