//! Login to a cookie client, the cookie as a credential, refresh, logout and forward-auth by cookie.

use super::*;

#[tokio::test]
async fn login_to_a_cookie_client_sets_the_cookie_and_leaves_the_token_out_of_the_body() {
    let app = TestApp::new().await;
    app.create_user("alice", false).await;
    let res = app.send(login_request("alice", "browser", &[])).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    assert_eq!(res.header("cache-control"), "no-store");
    let mut keys: Vec<&str> = res
        .json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["csrf_token", "expiry", "session", "user"],
        "no token and no device_proof in the body of a cookie login"
    );
    assert_eq!(res.json["session"]["client"], "browser");
    assert_eq!(res.json["user"]["username"], "alice");

    let session = set_cookie(&res, COOKIE).expect("the session cookie");
    let token = session.value.clone();
    assert!(
        server::token::parse(&token).is_some(),
        "a well-formed token: {token}"
    );
    assert!(token.starts_with("tss_"), "{token}");
    assert_eq!(res.json["session"]["token_hint"], &token[..8]);
    assert!(session.has("HttpOnly"), "{session:?}");
    assert!(session.has("Secure"), "{session:?}");
    assert!(session.has("SameSite=Lax"), "{session:?}");
    assert_eq!(session.attr("Path"), Some("/"), "{session:?}");
    assert_eq!(session.max_age(), FOURTEEN_DAYS, "{session:?}");
    assert!(
        session.attr("Domain").is_none(),
        "__Host- cookies carry no Domain"
    );
    let created = timestamp(&res.json["session"]["created"]);
    let expiry = timestamp(&res.json["expiry"]);
    assert_eq!((expiry - created).num_seconds(), FOURTEEN_DAYS);

    let device = set_cookie(&res, DEVICE).expect("the device-proof cookie");
    assert!(!device.value.is_empty());
    assert!(device.has("HttpOnly"), "{device:?}");
    assert!(device.has("Secure"), "{device:?}");
    assert!(device.has("SameSite=Strict"), "{device:?}");
    assert_eq!(device.attr("Path"), Some("/api/auth"), "{device:?}");
    assert_eq!(device.max_age(), 90 * 86_400, "{device:?}");

    let body = String::from_utf8_lossy(&res.body);
    assert!(!body.contains(&token), "the token is only in the cookie");
    assert!(
        !body.contains(&device.value),
        "the device proof is only in the cookie"
    );
    let csrf = res.json["csrf_token"].as_str().unwrap();
    assert_eq!(
        csrf.len(),
        43,
        "base64url without padding of 32 bytes: {csrf}"
    );
    assert!(
        csrf.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "{csrf}"
    );
}

#[tokio::test]
async fn without_secure_cookies_the_cookie_is_plain_and_not_secure() {
    let settings = Settings {
        cookie_secure: false,
        cookie_name: "tessera".into(),
        ..Settings::default()
    };
    let app = TestApp::with_settings(settings).await;
    app.create_user("alice", false).await;
    let res = app.send(login_request("alice", "browser", &[])).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    assert!(
        set_cookie(&res, COOKIE).is_none(),
        "no __Host- cookie without Secure"
    );
    let session = set_cookie(&res, "tessera").expect("the tessera cookie");
    assert!(!session.has("Secure"), "{session:?}");
    assert!(session.has("HttpOnly"), "{session:?}");
    assert!(session.has("SameSite=Lax"), "{session:?}");
    assert_eq!(session.attr("Path"), Some("/"));
    assert_eq!(session.max_age(), FOURTEEN_DAYS);
    let device = set_cookie(&res, DEVICE).expect("the device-proof cookie");
    assert!(!device.has("Secure"), "{device:?}");

    let req = cookie_request_named("tessera", Method::GET, ME, &session.value, &[], None);
    let me = app.send(req).await;
    assert_eq!(me.status, StatusCode::OK, "{:?}", me.json);
    assert_eq!(me.json["session"]["client"], "browser");
    let res = me_by_cookie(&app, &session.value).await;
    assert_error(&res, StatusCode::UNAUTHORIZED, "not_authenticated");
}

#[tokio::test]
async fn the_cookie_authenticates_requests() {
    let app = TestApp::new().await;
    app.create_user("alice", false).await;
    let alice = browser_login(&app, "alice").await;
    let res = me_by_cookie(&app, &alice.token).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    assert_eq!(res.json["user"]["username"], "alice");
    assert_eq!(res.json["session"]["client"], "browser");
    assert_eq!(res.json["session"]["id"], alice.session_id);
    assert_eq!(res.json["session"]["is_current"], true);
    let list = app
        .send(by_cookie(
            Method::GET,
            "/api/auth/sessions",
            &alice.token,
            &[],
        ))
        .await;
    assert_eq!(list.status, StatusCode::OK, "{:?}", list.json);
    assert_eq!(ids(&list.json), std::slice::from_ref(&alice.session_id));
    // Other cookies around it do not matter.
    let req = Request::get(ME)
        .header(
            "cookie",
            format!("theme=dark; {COOKIE}={}; lang=en", alice.token),
        )
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.send(req).await.status, StatusCode::OK);
}
#[tokio::test]
async fn a_cookie_holding_a_bearer_clients_token_is_ignored() {
    let app = TestApp::new().await;
    let web = app.user_with_login("alice", "web").await;
    let key = app
        .post("/api/auth/apiaccess", Some(&web.token), json!({}))
        .await;
    let key = key.json["token"].as_str().unwrap().to_string();
    for (what, token) in [("a web session", &web.token), ("an API key", &key)] {
        let res = me_by_cookie(&app, token).await;
        assert_error(&res, StatusCode::UNAUTHORIZED, "not_authenticated");
        assert_eq!(
            res.header("www-authenticate"),
            "Bearer realm=\"tessera\"",
            "{what}: as if no credential was presented"
        );
        let verify = app.send(by_cookie(Method::GET, VERIFY, token, &[])).await;
        assert_error(&verify, StatusCode::UNAUTHORIZED, "not_authenticated");
        assert!(verify.headers.get("x-auth-user-id").is_none(), "{what}");
    }
    // The token itself still works where it belongs.
    assert_eq!(app.get(ME, &web.token).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_login_to_a_cookie_client_from_a_foreign_origin_is_refused_and_creates_no_session() {
    let app = TestApp::new().await;
    app.create_user("alice", false).await;
    for origin in [EVIL, "null", "http://127.0.0.1:9090"] {
        let res = app
            .send(login_request("alice", "browser", &[("origin", origin)]))
            .await;
        assert_error(&res, StatusCode::FORBIDDEN, "csrf_failed");
        assert!(set_cookie(&res, COOKIE).is_none(), "{origin}");
        assert!(set_cookie(&res, DEVICE).is_none(), "{origin}");
        assert_eq!(
            session_rows(&app).await,
            0,
            "no session for a login from {origin}"
        );
    }
    let res = app
        .send(login_request("alice", "browser", &[("origin", OWN_ORIGIN)]))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    assert!(set_cookie(&res, COOKIE).is_some());
    assert_eq!(session_rows(&app).await, 1);
    // Bearer clients do not look at Origin.
    let res = app
        .send(login_request("alice", "web", &[("origin", EVIL)]))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    assert!(res.json["token"].is_string());
}

#[tokio::test]
async fn the_csrf_endpoint_repeats_the_login_csrf_token_for_cookie_sessions_only() {
    let app = TestApp::new().await;
    let web = app.user_with_login("alice", "web").await;
    let first = browser_login(&app, "alice").await;
    let second = browser_login(&app, "alice").await;
    for browser in [&first, &second] {
        let res = app
            .send(by_cookie(
                Method::GET,
                "/api/auth/csrf",
                &browser.token,
                &[],
            ))
            .await;
        assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
        assert_eq!(res.json, json!({"csrf_token": browser.csrf}));
        assert_eq!(res.header("cache-control"), "no-store");
    }
    let res = app.get("/api/auth/csrf", &web.token).await;
    assert_error(&res, StatusCode::BAD_REQUEST, "validation_error");
    let res = app.call(Method::GET, "/api/auth/csrf", None, None).await;
    assert_error(&res, StatusCode::UNAUTHORIZED, "not_authenticated");
}

#[tokio::test]
async fn refresh_by_cookie_resends_the_cookie_with_the_new_max_age() {
    let app = TestApp::new().await;
    app.create_user("alice", false).await;
    let alice = browser_login(&app, "alice").await;
    app.clock.advance_secs(HOUR);
    let headers = [("x-csrf-token", alice.csrf.as_str())];
    let res = app
        .send(by_cookie(
            Method::POST,
            "/api/auth/refresh",
            &alice.token,
            &headers,
        ))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    let keys: Vec<&String> = res.json.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["expiry"], "no token in the body: {:?}", res.json);
    let cookie = set_cookie(&res, COOKIE).expect("the cookie is re-sent");
    assert_eq!(cookie.value, alice.token, "the same token");
    assert_eq!(
        cookie.max_age(),
        FOURTEEN_DAYS,
        "Max-Age counts from the renewal, not from the login"
    );
    assert!(cookie.has("HttpOnly") && cookie.has("Secure") && cookie.has("SameSite=Lax"));
    assert_eq!(cookie.attr("Path"), Some("/"));
    let me = me_by_cookie(&app, &alice.token).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json["session"]["expiry"], res.json["expiry"]);
    let created = timestamp(&me.json["session"]["created"]);
    let expiry = timestamp(&res.json["expiry"]);
    assert_eq!((expiry - created).num_seconds(), FOURTEEN_DAYS + 3_600);
}

#[tokio::test]
async fn auto_renewal_of_a_cookie_session_resends_the_cookie() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    app.patch_client(
        &admin.token,
        "browser",
        json!({"auto_renew": true, "token_ttl": 600}),
    )
    .await;
    app.create_user("alice", false).await;
    let alice = browser_login(&app, "alice").await;
    app.clock.advance_secs(120.0);
    let res = me_by_cookie(&app, &alice.token).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    let cookie = set_cookie(&res, COOKIE).expect("the renewed cookie is re-sent");
    assert_eq!(cookie.value, alice.token);
    assert_eq!(cookie.max_age(), 600);
}

#[tokio::test]
async fn logout_by_cookie_clears_it_and_a_stale_cookie_is_cleared_again() {
    let app = TestApp::new().await;
    app.create_user("alice", false).await;
    let alice = browser_login(&app, "alice").await;
    let headers = [("x-csrf-token", alice.csrf.as_str())];
    let res = app
        .send(by_cookie(
            Method::POST,
            "/api/auth/logout",
            &alice.token,
            &headers,
        ))
        .await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{:?}", res.json);
    assert!(res.body.is_empty());
    assert_clears(&res, COOKIE);
    let res = me_by_cookie(&app, &alice.token).await;
    assert_error(&res, StatusCode::UNAUTHORIZED, "invalid_token");
    assert_clears(&res, COOKIE);
    // A malformed cookie is the cookie's own bad token too.
    let res = me_by_cookie(&app, "tss_garbage").await;
    assert_error(&res, StatusCode::UNAUTHORIZED, "invalid_token");
    assert_clears(&res, COOKIE);
}

#[tokio::test]
async fn logoutall_by_cookie_clears_it_and_ends_every_session() {
    let app = TestApp::new().await;
    let web = app.user_with_login("alice", "web").await;
    let alice = browser_login(&app, "alice").await;
    let headers = [("x-csrf-token", alice.csrf.as_str())];
    let res = app
        .send(by_cookie(
            Method::POST,
            "/api/auth/logoutall",
            &alice.token,
            &headers,
        ))
        .await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{:?}", res.json);
    assert_clears(&res, COOKIE);
    assert_error(
        &app.get(ME, &web.token).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    );
    let res = me_by_cookie(&app, &alice.token).await;
    assert_error(&res, StatusCode::UNAUTHORIZED, "invalid_token");
    assert_clears(&res, COOKIE);
}

#[tokio::test]
async fn verify_accepts_the_cookie_and_applies_csrf_to_the_original_method() {
    let app = TestApp::new().await;
    app.create_user("alice", false).await;
    let alice = browser_login(&app, "alice").await;
    let csrf = alice.csrf.as_str();
    let check = async |method: Method, headers: &[(&str, &str)]| {
        app.send(by_cookie(method, VERIFY, &alice.token, headers))
            .await
    };

    let res = check(Method::GET, &[]).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    assert_eq!(res.header("x-auth-client"), "browser");
    assert_eq!(res.header("x-auth-session-id"), alice.session_id);
    assert_eq!(res.json["client"], "browser");

    let refused: [(Method, &[(&str, &str)]); 4] = [
        (Method::POST, &[]),
        (Method::DELETE, &[]),
        (Method::GET, &[("x-original-method", "POST")]),
        (Method::GET, &[("x-forwarded-method", "DELETE")]),
    ];
    for (method, headers) in refused {
        let res = check(method.clone(), headers).await;
        assert_error(&res, StatusCode::FORBIDDEN, "csrf_failed");
        assert!(
            res.headers.get("x-auth-user-id").is_none(),
            "{method} {headers:?}: no identity on a refusal"
        );
    }
    let allowed: [(Method, &[(&str, &str)]); 5] = [
        (Method::POST, &[("x-csrf-token", csrf)]),
        (
            Method::GET,
            &[("x-original-method", "POST"), ("x-csrf-token", csrf)],
        ),
        (
            Method::GET,
            &[("x-forwarded-method", "DELETE"), ("x-csrf-token", csrf)],
        ),
        (Method::GET, &[("x-original-method", "GET")]),
        (Method::GET, &[("x-forwarded-method", "HEAD")]),
    ];
    for (method, headers) in allowed {
        let res = check(method.clone(), headers).await;
        assert_eq!(
            res.status,
            StatusCode::OK,
            "{method} {headers:?}: {:?}",
            res.json
        );
        assert_eq!(res.header("x-auth-client"), "browser");
    }
    // The proxied page's foreign Origin is refused like on any unsafe cookie request.
    let headers = [
        ("x-original-method", "POST"),
        ("x-csrf-token", csrf),
        ("origin", EVIL),
    ];
    let res = check(Method::GET, &headers[..]).await;
    assert_error(&res, StatusCode::FORBIDDEN, "csrf_failed");
}

#[tokio::test]
async fn the_original_method_headers_count_only_on_verify() {
    let app = TestApp::new().await;
    app.create_user("alice", false).await;
    let alice = browser_login(&app, "alice").await;
    for header in ["x-original-method", "x-forwarded-method"] {
        let req = by_cookie(
            Method::POST,
            "/api/auth/logout",
            &alice.token,
            &[(header, "GET")],
        );
        let res = app.send(req).await;
        assert_error(&res, StatusCode::FORBIDDEN, "csrf_failed");
    }
    let res = me_by_cookie(&app, &alice.token).await;
    assert_eq!(
        res.status,
        StatusCode::OK,
        "still logged in: {:?}",
        res.json
    );
}
