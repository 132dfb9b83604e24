//! The CSRF rule: unsafe cookie requests need the session's token and an own or allowed `Origin`; other credentials need neither.

use super::*;

#[tokio::test]
async fn unsafe_cookie_requests_without_the_csrf_token_or_from_a_foreign_origin_change_nothing() {
    let app = TestApp::new().await;
    let web = app.user_with_login("alice", "web").await;
    let alice = browser_login(&app, "alice").await;
    let other = browser_login(&app, "alice").await;
    assert_ne!(alice.csrf, other.csrf, "one CSRF token per session");
    let csrf = alice.csrf.as_str();
    let wrong = "A".repeat(43);
    let cases: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("no token", vec![]),
        ("an empty token", vec![("x-csrf-token", "")]),
        ("a wrong token", vec![("x-csrf-token", wrong.as_str())]),
        (
            "another session's token",
            vec![("x-csrf-token", other.csrf.as_str())],
        ),
        ("the token in another header", vec![("x-xsrf-token", csrf)]),
        (
            "a foreign origin",
            vec![("x-csrf-token", csrf), ("origin", EVIL)],
        ),
        (
            "Origin: null",
            vec![("x-csrf-token", csrf), ("origin", "null")],
        ),
        (
            "another port",
            vec![("x-csrf-token", csrf), ("origin", "http://127.0.0.1:9090")],
        ),
        (
            "another scheme",
            vec![("x-csrf-token", csrf), ("origin", "https://127.0.0.1:8080")],
        ),
    ];
    let new_password = json!({"current_password": PASSWORD, "new_password": "a brand new secret"});
    let targets: Vec<(Method, String, Option<Value>)> = vec![
        (Method::POST, "/api/auth/logout".into(), None),
        (Method::POST, "/api/auth/logoutall".into(), None),
        (Method::DELETE, session_path(&web.session_id), None),
        (Method::DELETE, "/api/auth/sessions".into(), None),
        (Method::POST, "/api/auth/refresh".into(), None),
        (
            Method::POST,
            "/api/auth/password".into(),
            Some(new_password),
        ),
    ];
    for (what, headers) in &cases {
        for (method, path, body) in &targets {
            let req = cookie_request_named(
                COOKIE,
                method.clone(),
                path,
                &alice.token,
                headers,
                body.clone(),
            );
            let res = app.send(req).await;
            assert_eq!(
                (res.status, res.code()),
                (StatusCode::FORBIDDEN, "csrf_failed"),
                "{method} {path} with {what}: {:?}",
                res.json
            );
            assert!(
                set_cookie(&res, COOKIE).is_none(),
                "a refused request leaves the cookie alone ({method} {path}, {what})"
            );
        }
    }
    // Nothing changed: the cookie still works, every session is still there, and so is the
    // password.
    let me = me_by_cookie(&app, &alice.token).await;
    assert_eq!(me.status, StatusCode::OK, "{:?}", me.json);
    assert_eq!(me.json["session"]["id"], alice.session_id);
    let list = app.get("/api/auth/sessions", &web.token).await;
    assert_eq!(
        ids(&list.json),
        sorted(&[
            web.session_id.as_str(),
            alice.session_id.as_str(),
            other.session_id.as_str(),
        ])
    );
    assert_eq!(app.get(ME, &web.token).await.status, StatusCode::OK);
    let again = app.send(login_request("alice", "web", &[])).await;
    assert_eq!(
        again.status,
        StatusCode::OK,
        "the password is unchanged: {:?}",
        again.json
    );
}

#[tokio::test]
async fn unsafe_cookie_requests_with_the_csrf_token_and_an_own_or_allowed_origin_succeed() {
    let settings = Settings {
        allowed_origins: vec!["https://app.example.com".into()],
        ..Settings::default()
    };
    let app = TestApp::with_settings(settings).await;
    app.create_user("alice", false).await;
    let alice = browser_login(&app, "alice").await;
    let csrf = alice.csrf.as_str();
    let origins: [Option<&str>; 3] = [None, Some(OWN_ORIGIN), Some("https://app.example.com")];
    for origin in origins {
        let web = app.login("alice", "web").await;
        let mut headers = vec![("x-csrf-token", csrf)];
        if let Some(origin) = origin {
            headers.push(("origin", origin));
        }
        let req = by_cookie(
            Method::DELETE,
            &session_path(&web.session_id),
            &alice.token,
            &headers,
        );
        let res = app.send(req).await;
        assert_eq!(
            res.status,
            StatusCode::NO_CONTENT,
            "Origin {origin:?}: {:?}",
            res.json
        );
        let gone = app.get(ME, &web.token).await;
        assert_error(&gone, StatusCode::UNAUTHORIZED, "invalid_token");
    }
    let headers = [
        ("x-csrf-token", csrf),
        ("origin", "https://app.example.com"),
    ];
    let req = by_cookie(Method::DELETE, "/api/auth/sessions", &alice.token, &headers);
    let res = app.send(req).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    assert_eq!(res.json, json!({"revoked": 0}));
}

#[tokio::test]
async fn the_own_origin_is_the_configured_public_url() {
    let settings = Settings {
        public_url: "https://auth.example.com".into(),
        ..Settings::default()
    };
    let app = TestApp::with_settings(settings).await;
    app.create_user("alice", false).await;
    let alice = browser_login(&app, "alice").await;
    let web = app.login("alice", "web").await;
    let path = session_path(&web.session_id);
    let headers = [
        ("x-csrf-token", alice.csrf.as_str()),
        ("origin", OWN_ORIGIN),
    ];
    let res = app
        .send(by_cookie(Method::DELETE, &path, &alice.token, &headers))
        .await;
    assert_error(&res, StatusCode::FORBIDDEN, "csrf_failed");
    let headers = [
        ("x-csrf-token", alice.csrf.as_str()),
        ("origin", "https://auth.example.com"),
    ];
    let res = app
        .send(by_cookie(Method::DELETE, &path, &alice.token, &headers))
        .await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{:?}", res.json);
}

#[tokio::test]
async fn bearer_and_api_key_requests_need_no_csrf_token() {
    let app = TestApp::new().await;
    let web = app.user_with_login("alice", "web").await;
    let other = app.login("alice", "web").await;
    let key = app
        .post("/api/auth/apiaccess", Some(&web.token), json!({}))
        .await;
    assert_eq!(key.status, StatusCode::CREATED, "{:?}", key.json);
    let key = key.json["token"].as_str().unwrap().to_string();

    let req = Request::delete(session_path(&other.session_id))
        .header("authorization", format!("Bearer {}", web.token))
        .header("origin", EVIL)
        .body(Body::empty())
        .unwrap();
    let res = app.send(req).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{:?}", res.json);
    assert_error(
        &app.get(ME, &other.token).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    );

    let req = Request::post("/api/auth/refresh")
        .header("authorization", format!("Bearer {}", web.token))
        .header("origin", "null")
        .header("content-type", "application/json")
        .body(Body::from("{}"))
        .unwrap();
    let res = app.send(req).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);

    let req = Request::post(VERIFY)
        .header("x-api-key", key.as_str())
        .header("origin", EVIL)
        .body(Body::empty())
        .unwrap();
    let res = app.send(req).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    assert_eq!(res.header("x-auth-kind"), "api_key");
}

#[tokio::test]
async fn authorization_and_the_api_key_header_win_over_the_cookie() {
    let app = TestApp::new().await;
    let alice = app.user_with_login("alice", "web").await;
    app.create_user("bob", false).await;
    let bob = browser_login(&app, "bob").await;
    let key = app
        .post("/api/auth/apiaccess", Some(&alice.token), json!({}))
        .await;
    assert_eq!(key.status, StatusCode::CREATED, "{:?}", key.json);
    let key = key.json["token"].as_str().unwrap().to_string();
    let bearer = format!("Bearer {}", alice.token);

    let res = app
        .send(by_cookie(
            Method::GET,
            ME,
            &bob.token,
            &[("authorization", bearer.as_str())],
        ))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    assert_eq!(res.json["user"]["username"], "alice");
    assert_eq!(res.json["session"]["client"], "web");

    let res = app
        .send(by_cookie(
            Method::GET,
            ME,
            &bob.token,
            &[("x-api-key", key.as_str())],
        ))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    assert_eq!(res.json["user"]["username"], "alice");
    assert_eq!(res.json["session"]["kind"], "api_key");

    // The first credential present is the one used: a refused header does not fall back to the
    // cookie.
    let req = by_cookie(
        Method::GET,
        ME,
        &bob.token,
        &[("authorization", "Bearer tss_garbage")],
    );
    let res = app.send(req).await;
    assert_error(&res, StatusCode::UNAUTHORIZED, "invalid_token");
    assert!(
        set_cookie(&res, COOKIE).is_none(),
        "the refused token was not the cookie's: the cookie stays"
    );

    // An unsafe request authenticated by Authorization needs no CSRF token, and acts on the
    // header's session, not the cookie's.
    let req = by_cookie(
        Method::POST,
        "/api/auth/logout",
        &bob.token,
        &[("authorization", bearer.as_str())],
    );
    let res = app.send(req).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{:?}", res.json);
    assert!(
        set_cookie(&res, COOKIE).is_none(),
        "logging out the bearer session must not clear the (still live) cookie"
    );
    assert_error(
        &app.get(ME, &alice.token).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    );
    let res = me_by_cookie(&app, &bob.token).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    assert_eq!(res.json["user"]["username"], "bob");
}
