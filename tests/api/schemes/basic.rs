//! HTTP Basic at login.

use super::*;

// --- HTTP Basic at login ---------------------------------------------------------------------

#[tokio::test]
async fn basic_credentials_log_in_with_the_client_in_a_json_or_form_body() {
    let app = TestApp::new().await;
    let id = app.create_user("alice", false).await;
    let auth = basic(&format!("alice:{PASSWORD}"));
    let res = app
        .send(basic_login(
            &auth,
            &json!({"client": "cli", "device_name": "build box"}),
        ))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    let token = res.json["token"].as_str().expect("a token").to_string();
    assert!(server::token::parse(&token).is_some(), "{token}");
    assert!(res.json["device_proof"].is_string(), "{:?}", res.json);
    assert_eq!(
        res.json["user"],
        json!({"id": id, "username": "alice", "is_admin": false})
    );
    assert_eq!(res.json["session"]["client"], "cli");
    assert_eq!(res.json["session"]["device_name"], "build box");
    let me = app.get(ME, &token).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json["user"]["username"], "alice");

    let form = post_request(
        "/api/auth/login",
        "application/x-www-form-urlencoded",
        "client=cli",
        &[("authorization", auth.as_str())],
    );
    let res = app.send(form).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    assert_eq!(res.json["session"]["client"], "cli");
    assert!(res.json["token"].is_string());

    // RFC 7235: the scheme name is case-insensitive.
    let lower = format!("basic {}", base64(format!("alice:{PASSWORD}").as_bytes()));
    let res = app
        .send(basic_login(&lower, &json!({"client": "cli"})))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
}

#[tokio::test]
async fn basic_credentials_that_are_wrong_fail_like_any_login() {
    let app = TestApp::new().await;
    app.create_user("alice", false).await;
    let body = json!({"client": "cli"});
    for credentials in [
        "alice:not the password",
        "nobody:correct horse battery",
        "ALICE:correct horse battery",
    ] {
        let res = app.send(basic_login(&basic(credentials), &body)).await;
        assert_error(&res, StatusCode::BAD_REQUEST, "invalid_credentials");
        assert_eq!(
            res.json["detail"],
            "Unable to log in with provided credentials."
        );
    }
    let auth = basic(&format!("alice:{PASSWORD}"));
    let res = app
        .send(basic_login(&auth, &json!({"client": "nope"})))
        .await;
    assert_error(&res, StatusCode::BAD_REQUEST, "unknown_client");
    let res = app.send(basic_login(&auth, &json!({}))).await;
    assert_validation(&res, &["client"]);
    assert_eq!(session_rows(&app).await, 0);
}

#[tokio::test]
async fn credentials_in_both_basic_and_the_body_are_a_validation_error_naming_authorization() {
    let app = TestApp::new().await;
    app.create_user("alice", false).await;
    let auth = basic(&format!("alice:{PASSWORD}"));
    let bodies = [
        json!({"client": "cli", "username": "alice"}),
        json!({"client": "cli", "password": PASSWORD}),
        json!({"client": "cli", "username": "alice", "password": PASSWORD}),
    ];
    for body in bodies {
        let res = app.send(basic_login(&auth, &body)).await;
        assert_validation(&res, &["authorization"]);
    }
    assert_eq!(session_rows(&app).await, 0, "no login happened");
}

#[tokio::test]
async fn malformed_basic_credentials_are_a_validation_error_naming_authorization() {
    let app = TestApp::new().await;
    app.create_user("alice", false).await;
    let not_utf8 = format!("Basic {}", base64(&[0xff, 0xfe, b':', b'x']));
    let cases = [
        "Basic !!!not base64!!!".to_string(),
        basic("alice-without-a-colon"),
        not_utf8,
    ];
    for auth in cases {
        let res = app
            .send(basic_login(&auth, &json!({"client": "cli"})))
            .await;
        assert_validation(&res, &["authorization"]);
    }
}

#[tokio::test]
async fn a_basic_password_may_contain_colons() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let password = "pass:word:with colons";
    let res = app
        .post(
            "/api/admin/users",
            Some(&admin.token),
            json!({"username": "carol", "password": password}),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{:?}", res.json);
    let auth = basic(&format!("carol:{password}"));
    let res = app
        .send(basic_login(&auth, &json!({"client": "cli"})))
        .await;
    assert_eq!(
        res.status,
        StatusCode::OK,
        "split at the first colon: {:?}",
        res.json
    );
    assert_eq!(res.json["user"]["username"], "carol");
    // Only the whole password after the first colon is right.
    let res = app
        .send(basic_login(
            &basic("carol:pass:word"),
            &json!({"client": "cli"}),
        ))
        .await;
    assert_error(&res, StatusCode::BAD_REQUEST, "invalid_credentials");
}
