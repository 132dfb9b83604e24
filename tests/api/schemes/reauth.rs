//! Re-authentication with `verify?max_age=`, and the password change.

use super::*;

// --- Re-authentication ------------------------------------------------------------------------

async fn verify_max_age(app: &TestApp, token: &str, max_age: &str) -> TestResponse {
    app.get(&format!("{VERIFY}?max_age={max_age}"), token).await
}

#[tokio::test]
async fn reauthentication_refreshes_the_proof_that_verify_max_age_asks_for() {
    let app = TestApp::new().await;
    let alice = app.user_with_login("alice", "web").await;
    let me = app.get(ME, &alice.token).await;
    let session = &me.json["session"];
    assert_eq!(
        session["authenticated_at"], session["created"],
        "the login is the first proof"
    );

    app.clock.advance_secs(600.0);
    let res = verify_max_age(&app, &alice.token, "300").await;
    assert_error(&res, StatusCode::UNAUTHORIZED, "reauthentication_required");
    assert!(
        res.headers.get("x-auth-user-id").is_none(),
        "no identity on a refusal"
    );
    let res = verify_max_age(&app, &alice.token, "600").await;
    assert_eq!(
        res.status,
        StatusCode::OK,
        "exactly 600 s old: {:?}",
        res.json
    );
    assert_eq!(
        app.get(ME, &alice.token).await.status,
        StatusCode::OK,
        "the session goes on"
    );

    let res = app
        .post(REAUTH, Some(&alice.token), json!({"password": PASSWORD}))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    let keys: Vec<&String> = res.json.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["authenticated_at"]);
    let proved = res.json["authenticated_at"].clone();
    assert_eq!(timestamp(&proved), now(&app));
    for max_age in ["300", "0"] {
        let res = verify_max_age(&app, &alice.token, max_age).await;
        assert_eq!(
            res.status,
            StatusCode::OK,
            "max_age={max_age}: {:?}",
            res.json
        );
    }
    let me = app.get(ME, &alice.token).await;
    assert_eq!(me.json["session"]["authenticated_at"], proved);

    app.clock.advance_secs(100.0);
    let res = app
        .post(
            REAUTH,
            Some(&alice.token),
            json!({"password": "not the password"}),
        )
        .await;
    assert_error(&res, StatusCode::BAD_REQUEST, "invalid_credentials");
    let me = app.get(ME, &alice.token).await;
    assert_eq!(
        me.json["session"]["authenticated_at"], proved,
        "a failure changes nothing"
    );
    let res = verify_max_age(&app, &alice.token, "99").await;
    assert_error(&res, StatusCode::UNAUTHORIZED, "reauthentication_required");

    let res = app.post(REAUTH, Some(&alice.token), json!({})).await;
    assert_validation(&res, &["password"]);
    let res = app
        .call(
            Method::POST,
            REAUTH,
            None,
            Some(json!({"password": PASSWORD})),
        )
        .await;
    assert_error(&res, StatusCode::UNAUTHORIZED, "not_authenticated");
}

#[tokio::test]
async fn max_age_must_be_a_non_negative_integer() {
    let app = TestApp::new().await;
    let alice = app.user_with_login("alice", "web").await;
    for max_age in ["abc", "-1", "1.5", "", "%20"] {
        let res = verify_max_age(&app, &alice.token, max_age).await;
        assert_validation(&res, &["max_age"]);
        assert!(res.headers.get("x-auth-user-id").is_none());
    }
}

#[tokio::test]
async fn an_api_key_counts_its_creation_as_its_proof() {
    let app = TestApp::new().await;
    let alice = app.user_with_login("alice", "web").await;
    app.clock.advance_secs(1_000.0);
    let key = api_key(&app, &alice.token).await;
    let res = verify_max_age(&app, &key, "60").await;
    assert_eq!(res.status, StatusCode::OK, "a new key: {:?}", res.json);
    assert_eq!(res.header("x-auth-kind"), "api_key");
    app.clock.advance_secs(600.0);
    let res = verify_max_age(&app, &key, "300").await;
    assert_error(&res, StatusCode::UNAUTHORIZED, "reauthentication_required");
    let res = verify_max_age(&app, &key, "600").await;
    assert_eq!(
        res.status,
        StatusCode::OK,
        "created 600 s ago: {:?}",
        res.json
    );
}

// --- Password change --------------------------------------------------------------------------

#[tokio::test]
async fn changing_the_password_ends_the_other_sessions_and_keeps_the_api_keys() {
    let app = TestApp::new().await;
    let first = app.user_with_login("alice", "web").await;
    let second = app.login("alice", "mobile").await;
    let key = api_key(&app, &first.token).await;
    let bob = app.user_with_login("bob", "web").await;
    app.clock.advance_secs(120.0);

    let change = json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD});
    let res = app.post(PASSWORD_PATH, Some(&first.token), change).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{:?}", res.json);
    assert!(res.body.is_empty());

    let res = app.get(ME, &second.token).await;
    assert_error(&res, StatusCode::UNAUTHORIZED, "invalid_token");
    let me = app.get(ME, &first.token).await;
    assert_eq!(me.status, StatusCode::OK, "{:?}", me.json);
    assert_eq!(
        timestamp(&me.json["session"]["authenticated_at"]),
        now(&app)
    );
    let res = app.get(ME, &key).await;
    assert_eq!(
        res.status,
        StatusCode::OK,
        "the API key is kept: {:?}",
        res.json
    );
    assert_eq!(
        app.get(ME, &bob.token).await.status,
        StatusCode::OK,
        "other users untouched"
    );
    let list = app.get("/api/auth/sessions", &first.token).await;
    let ids: Vec<&str> = list
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [first.session_id.as_str()]);

    let res = login_with_password(&app, "alice", NEW_PASSWORD).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    let res = login_with_password(&app, "alice", PASSWORD).await;
    assert_error(&res, StatusCode::BAD_REQUEST, "invalid_credentials");
}

#[tokio::test]
async fn a_refused_password_change_changes_nothing() {
    let app = TestApp::new().await;
    let first = app.user_with_login("alice", "web").await;
    let second = app.login("alice", "mobile").await;
    let proved = app.get(ME, &first.token).await.json["session"]["authenticated_at"].clone();
    app.clock.advance_secs(60.0);

    let wrong = json!({"current_password": "not the password", "new_password": NEW_PASSWORD});
    let res = app.post(PASSWORD_PATH, Some(&first.token), wrong).await;
    assert_error(&res, StatusCode::BAD_REQUEST, "invalid_credentials");

    let short = json!({"current_password": PASSWORD, "new_password": "short"});
    let res = app.post(PASSWORD_PATH, Some(&first.token), short).await;
    assert_validation(&res, &["new_password"]);
    let long = json!({"current_password": PASSWORD, "new_password": "x".repeat(1025)});
    let res = app.post(PASSWORD_PATH, Some(&first.token), long).await;
    assert_validation(&res, &["new_password"]);

    let res = app.post(PASSWORD_PATH, Some(&first.token), json!({})).await;
    assert_validation(&res, &["current_password", "new_password"]);
    let res = app
        .post(
            PASSWORD_PATH,
            Some(&first.token),
            json!({"current_password": PASSWORD}),
        )
        .await;
    assert_validation(&res, &["new_password"]);

    assert_eq!(app.get(ME, &second.token).await.status, StatusCode::OK);
    let me = app.get(ME, &first.token).await;
    assert_eq!(me.json["session"]["authenticated_at"], proved);
    let res = login_with_password(&app, "alice", PASSWORD).await;
    assert_eq!(
        res.status,
        StatusCode::OK,
        "the old password still works: {:?}",
        res.json
    );
    let res = login_with_password(&app, "alice", NEW_PASSWORD).await;
    assert_error(&res, StatusCode::BAD_REQUEST, "invalid_credentials");
}
