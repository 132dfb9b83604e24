//! Sign-up behind `TESSERA_SIGNUP=open`.

use super::*;

// --- Sign-up ----------------------------------------------------------------------------------

fn open_signup() -> Settings {
    Settings {
        signup_open: true,
        ..Settings::default()
    }
}

async fn signup(app: &TestApp, username: &str, password: &str) -> TestResponse {
    let body = json!({"username": username, "password": password});
    app.post(SIGNUP, None, body).await
}

#[tokio::test]
async fn signup_is_closed_by_default() {
    let app = TestApp::new().await;
    let res = signup(&app, "zoe", PASSWORD).await;
    assert_error(&res, StatusCode::NOT_FOUND, "not_found");
    assert!(user_row(&app, "zoe").await.is_none());
}

#[tokio::test]
async fn open_signup_creates_a_user_who_can_log_in() {
    let app = TestApp::with_settings(open_signup()).await;
    let res = signup(&app, "zoe", PASSWORD).await;
    assert_eq!(res.status, StatusCode::CREATED, "{:?}", res.json);
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
        [
            "created",
            "id",
            "is_active",
            "is_admin",
            "last_login",
            "username"
        ]
    );
    assert!(res.json["id"].is_i64(), "{:?}", res.json);
    assert_eq!(res.json["username"], "zoe");
    assert_eq!(res.json["is_active"], true);
    assert_eq!(res.json["is_admin"], false);
    assert_eq!(res.json["last_login"], json!(null));
    assert_eq!(timestamp(&res.json["created"]), now(&app));
    assert!(!String::from_utf8_lossy(&res.body).contains(PASSWORD));

    let login = app.login("zoe", "web").await;
    assert_eq!(json!(login.user_id), res.json["id"]);

    let res = signup(&app, "zoe", "another password").await;
    assert_error(&res, StatusCode::CONFLICT, "conflict");
    let res = login_with_password(&app, "zoe", "another password").await;
    assert_error(&res, StatusCode::BAD_REQUEST, "invalid_credentials");
}

#[tokio::test]
async fn signup_names_each_bad_field() {
    let app = TestApp::with_settings(open_signup()).await;
    let res = signup(&app, "bad name!", "short").await;
    assert_validation(&res, &["username", "password"]);
    let res = app.post(SIGNUP, None, json!({})).await;
    assert_validation(&res, &["username", "password"]);
    let res = signup(&app, &"u".repeat(151), PASSWORD).await;
    assert_validation(&res, &["username"]);
    let res = signup(&app, "", PASSWORD).await;
    assert_validation(&res, &["username"]);
    let res = signup(&app, "zoe", &"p".repeat(1025)).await;
    assert_validation(&res, &["password"]);
    let res = signup(&app, "zoe", "1234567").await;
    assert_validation(&res, &["password"]);
    assert_eq!(user_rows(&app).await, 0, "nobody was created");
    // The limits themselves are fine.
    let res = signup(&app, &"u".repeat(150), "12345678").await;
    assert_eq!(res.status, StatusCode::CREATED, "{:?}", res.json);
}

#[tokio::test]
async fn signup_spends_the_per_ip_login_budget() {
    let settings = Settings {
        login_rate_per_ip: "2/m".parse().unwrap(),
        ..open_signup()
    };
    let app = TestApp::with_settings(settings).await;
    for name in ["one", "two"] {
        let res = signup(&app, name, PASSWORD).await;
        assert_eq!(res.status, StatusCode::CREATED, "{name}: {:?}", res.json);
    }
    let res = signup(&app, "three", PASSWORD).await;
    assert_error(&res, StatusCode::TOO_MANY_REQUESTS, "throttled");
    let retry: u64 = res.header("retry-after").parse().expect("Retry-After");
    assert!(retry >= 1, "{retry}");
    assert!(
        user_row(&app, "three").await.is_none(),
        "a refused sign-up creates nobody"
    );
    // Another address has its own budget.
    let elsewhere: SocketAddr = "192.0.2.99:4000".parse().unwrap();
    let body = json!({"username": "three", "password": PASSWORD});
    let res = app
        .send_from(json_request(SIGNUP, &body, &[]), elsewhere)
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{:?}", res.json);
}
