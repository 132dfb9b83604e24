//! Remote-user login from a trusted single-sign-on proxy.

use super::*;

// --- Remote user ------------------------------------------------------------------------------

fn remote_settings(create: bool) -> Settings {
    Settings {
        // Settings keeps the header name lower-case (as the command line normalises it).
        remote_user_header: Some("x-remote-user".into()),
        remote_user_create: create,
        trusted_proxies: vec!["10.0.0.1/32".parse().unwrap()],
        ..Settings::default()
    }
}

async fn remote_app(create: bool) -> TestApp {
    TestApp::with_settings_and_peer(remote_settings(create), PROXY.parse().unwrap()).await
}

/// POST /api/auth/login/remote naming `user` in the remote-user header (when given).
fn remote_request(user: Option<&str>, body: &Value, headers: &[(&str, &str)]) -> Request<Body> {
    let mut all: Vec<(&str, &str)> = headers.to_vec();
    if let Some(user) = user {
        all.push(("x-remote-user", user));
    }
    json_request(REMOTE, body, &all)
}

#[tokio::test]
async fn a_trusted_proxy_logs_the_named_user_in() {
    let app = remote_app(false).await;
    let id = app.create_user("alice", false).await;
    let body = json!({"client": "cli", "device_name": "SSO laptop"});
    let res = app.send(remote_request(Some("alice"), &body, &[])).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    assert_eq!(res.header("cache-control"), "no-store");
    let token = res.json["token"].as_str().expect("a token").to_string();
    assert!(server::token::parse(&token).is_some(), "{token}");
    assert!(
        res.json.get("device_proof").is_none(),
        "no password was proved: {:?}",
        res.json
    );
    assert_eq!(
        res.json["user"],
        json!({"id": id, "username": "alice", "is_admin": false})
    );
    assert_eq!(res.json["session"]["client"], "cli");
    assert_eq!(res.json["session"]["device_name"], "SSO laptop");
    let me = app.get(ME, &token).await;
    assert_eq!(me.status, StatusCode::OK, "{:?}", me.json);
    assert_eq!(me.json["user"]["username"], "alice");
    assert_eq!(me.json["session"]["client"], "cli");

    // A form body works too, and X-Forwarded-For from the trusted proxy names the client IP.
    let form = post_request(
        REMOTE,
        "application/x-www-form-urlencoded",
        "client=mobile",
        &[
            ("x-remote-user", "alice"),
            ("x-forwarded-for", "203.0.113.5"),
        ],
    );
    let res = app.send(form).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    assert_eq!(res.json["session"]["client"], "mobile");
    assert_eq!(res.json["session"]["ip"], "203.0.113.5");

    let res = app
        .send(remote_request(
            Some("alice"),
            &json!({"client": "nope"}),
            &[],
        ))
        .await;
    assert_error(&res, StatusCode::BAD_REQUEST, "unknown_client");
}

#[tokio::test]
async fn remote_login_from_an_untrusted_peer_is_refused_whatever_it_forwards() {
    let app = remote_app(false).await;
    app.create_user("alice", false).await;
    let body = json!({"client": "cli"});
    for peer in ["192.0.2.50:1234", "10.0.0.2:5000", "127.0.0.1:40000"] {
        let peer: SocketAddr = peer.parse().unwrap();
        let req = remote_request(Some("alice"), &body, &[("x-forwarded-for", "10.0.0.1")]);
        let res = app.send_from(req, peer).await;
        assert_error(&res, StatusCode::FORBIDDEN, "permission_denied");
        assert!(res.json.get("token").is_none());
    }
    assert_eq!(session_rows(&app).await, 0);
}

#[tokio::test]
async fn remote_login_without_the_header_is_not_authenticated() {
    let app = remote_app(false).await;
    app.create_user("alice", false).await;
    let body = json!({"client": "cli"});
    for user in [None, Some(""), Some("   ")] {
        let res = app.send(remote_request(user, &body, &[])).await;
        assert_error(&res, StatusCode::UNAUTHORIZED, "not_authenticated");
    }
    assert_eq!(session_rows(&app).await, 0);
}

#[tokio::test]
async fn remote_login_of_an_unknown_or_inactive_user_fails_and_creates_nobody() {
    let app = remote_app(false).await;
    let admin = app.admin().await;
    let dave = app.create_user("dave", false).await;
    let res = app
        .call(
            Method::PATCH,
            &format!("/api/admin/users/{dave}"),
            Some(&admin.token),
            Some(json!({"is_active": false})),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    let users = user_rows(&app).await;
    let body = json!({"client": "cli"});
    for user in ["mallory", "dave", "Root"] {
        let res = app.send(remote_request(Some(user), &body, &[])).await;
        assert_error(&res, StatusCode::BAD_REQUEST, "invalid_credentials");
        assert_eq!(
            res.json["detail"],
            "Unable to log in with provided credentials."
        );
    }
    assert_eq!(user_rows(&app).await, users, "nobody was created");
    assert!(user_row(&app, "mallory").await.is_none());
}

#[tokio::test]
async fn remote_login_may_create_unknown_users_without_a_usable_password() {
    let app = remote_app(true).await;
    let admin = app.admin().await;
    let body = json!({"client": "cli"});
    let res = app.send(remote_request(Some("newbie"), &body, &[])).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    let token = res.json["token"].as_str().unwrap().to_string();
    let id = res.json["user"]["id"].clone();
    assert_eq!(res.json["user"]["username"], "newbie");
    assert_eq!(res.json["user"]["is_admin"], false);
    let row = user_row(&app, "newbie")
        .await
        .expect("the user was created");
    assert!(row.is_active);
    assert!(!row.is_admin);
    let me = app.get(ME, &token).await;
    assert_eq!(me.json["user"]["username"], "newbie");

    // The next remote login finds the same user.
    let again = app.send(remote_request(Some("newbie"), &body, &[])).await;
    assert_eq!(again.status, StatusCode::OK, "{:?}", again.json);
    assert_eq!(again.json["user"]["id"], id);

    // No password logs this user in, or re-authenticates, or can be changed.
    for password in [PASSWORD, "anything at all"] {
        let res = login_with_password(&app, "newbie", password).await;
        assert_error(&res, StatusCode::BAD_REQUEST, "invalid_credentials");
    }
    let res = app
        .post(REAUTH, Some(&token), json!({"password": "anything at all"}))
        .await;
    assert_error(&res, StatusCode::BAD_REQUEST, "invalid_credentials");
    let change = json!({"current_password": "anything at all", "new_password": NEW_PASSWORD});
    let res = app.post(PASSWORD_PATH, Some(&token), change).await;
    assert_error(&res, StatusCode::BAD_REQUEST, "invalid_credentials");

    // An inactive user is not unknown: creating is no way back in.
    let dave = app.create_user("dave", false).await;
    let res = app
        .call(
            Method::PATCH,
            &format!("/api/admin/users/{dave}"),
            Some(&admin.token),
            Some(json!({"is_active": false})),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    let res = app.send(remote_request(Some("dave"), &body, &[])).await;
    assert_error(&res, StatusCode::BAD_REQUEST, "invalid_credentials");
    assert!(
        !user_row(&app, "dave").await.unwrap().is_active,
        "still inactive"
    );
}

#[tokio::test]
async fn remote_login_does_not_exist_without_a_configured_header() {
    let settings = Settings {
        trusted_proxies: vec!["10.0.0.1/32".parse().unwrap()],
        ..Settings::default()
    };
    let app = TestApp::with_settings_and_peer(settings, PROXY.parse().unwrap()).await;
    app.create_user("alice", false).await;
    let res = app
        .send(remote_request(
            Some("alice"),
            &json!({"client": "cli"}),
            &[],
        ))
        .await;
    assert_error(&res, StatusCode::NOT_FOUND, "not_found");
    assert_eq!(session_rows(&app).await, 0);
}

#[tokio::test]
async fn remote_login_to_a_cookie_client_sets_the_cookie() {
    let app = remote_app(false).await;
    app.create_user("alice", false).await;
    let res = app
        .send(remote_request(
            Some("alice"),
            &json!({"client": "browser"}),
            &[],
        ))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    assert!(res.json.get("token").is_none(), "{:?}", res.json);
    assert!(res.json["csrf_token"].is_string(), "{:?}", res.json);
    let cookie = set_cookie(&res, COOKIE).expect("the session cookie");
    assert!(cookie.has("HttpOnly") && cookie.has("Secure") && cookie.has("SameSite=Lax"));
    let browser = browser_from(&res, COOKIE);
    let me = app
        .send(by_cookie(Method::GET, ME, &browser.token, &[]))
        .await;
    assert_eq!(me.status, StatusCode::OK, "{:?}", me.json);
    assert_eq!(me.json["user"]["username"], "alice");
    assert_eq!(me.json["session"]["client"], "browser");
    assert_eq!(me.json["session"]["id"], browser.session_id);
    let csrf = app
        .send(by_cookie(
            Method::GET,
            "/api/auth/csrf",
            &browser.token,
            &[],
        ))
        .await;
    assert_eq!(csrf.json, json!({"csrf_token": browser.csrf}));
}
