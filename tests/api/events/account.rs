//! Events of a user's own credentials: re-authentication, the password change, sign-up and
//! the API key.

use super::*;

#[tokio::test]
async fn reauthentication_records_reauth_succeeded_and_reauth_failed() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let alice = app.user_with_login("alice", "cli").await;
    let res = app
        .post(
            "/api/auth/reauth",
            Some(&alice.token),
            json!({"password": "not the password"}),
        )
        .await;
    assert_error(&res, StatusCode::BAD_REQUEST, "invalid_credentials");
    let expected = json!({
        "username": "alice",
        "client": "cli",
        "session_id": alice.session_id,
        "actor_id": null,
        "ip": LOCAL_IP,
    });
    let failed = one(&app, &admin.token, "reauth.failed", &json!(alice.user_id)).await;
    assert_fields(&failed, &expected);
    assert!(
        events_of(
            &app,
            &admin.token,
            "reauth.succeeded",
            &json!(alice.user_id)
        )
        .await
        .is_empty()
    );

    let res = app
        .post(
            "/api/auth/reauth",
            Some(&alice.token),
            json!({"password": PASSWORD}),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    let succeeded = one(
        &app,
        &admin.token,
        "reauth.succeeded",
        &json!(alice.user_id),
    )
    .await;
    assert_fields(&succeeded, &expected);
    one(&app, &admin.token, "reauth.failed", &json!(alice.user_id)).await;
}

#[tokio::test]
async fn a_password_change_records_password_changed_with_the_sessions_it_ended() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let alice = app.user_with_login("alice", "web").await;
    app.login("alice", "mobile").await;
    api_key(&app, &alice.token).await;
    let change = json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD});
    let res = app
        .post("/api/auth/password", Some(&alice.token), change)
        .await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{:?}", res.json);
    let event = one(
        &app,
        &admin.token,
        "password.changed",
        &json!(alice.user_id),
    )
    .await;
    assert_fields(
        &event,
        &json!({
            "username": "alice",
            "session_id": alice.session_id,
            "actor_id": null,
            "ip": LOCAL_IP,
            "detail": {"revoked": 1},
        }),
    );
    let body = event.to_string();
    assert!(
        !body.contains(NEW_PASSWORD) && !body.contains(PASSWORD),
        "{body}"
    );

    // A refused change records none.
    let wrong = json!({"current_password": "not the password", "new_password": "another one!"});
    let res = app
        .post("/api/auth/password", Some(&alice.token), wrong)
        .await;
    assert_error(&res, StatusCode::BAD_REQUEST, "invalid_credentials");
    one(
        &app,
        &admin.token,
        "password.changed",
        &json!(alice.user_id),
    )
    .await;
}

#[tokio::test]
async fn signup_records_signup_for_the_new_user() {
    let settings = Settings {
        signup_open: true,
        ..Settings::default()
    };
    let app = TestApp::with_settings(settings).await;
    let admin = app.admin().await;
    let body = json!({"username": "zoe", "password": PASSWORD});
    let res = app
        .send(json_request(
            "/api/auth/signup",
            &body,
            &[("user-agent", AGENT)],
        ))
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{:?}", res.json);
    let id = res.json["id"].as_i64().expect("the new user's id");
    let event = one(&app, &admin.token, "signup", &json!(id)).await;
    assert_fields(
        &event,
        &json!({
            "username": "zoe",
            "actor_id": null,
            "ip": LOCAL_IP,
            "user_agent": AGENT,
        }),
    );
    // A taken name signs nobody up.
    let res = app
        .post(
            "/api/auth/signup",
            None,
            json!({"username": "zoe", "password": "other password"}),
        )
        .await;
    assert_error(&res, StatusCode::CONFLICT, "conflict");
    let signups: Vec<Value> = all_events(&app, &admin.token)
        .await
        .into_iter()
        .filter(|e| e["type"] == "signup")
        .collect();
    assert_eq!(signups.len(), 1, "{signups:?}");
}

#[tokio::test]
async fn creating_and_deleting_the_api_key_records_apikey_events_with_the_key_id() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let alice = app.user_with_login("alice", "web").await;
    let key = api_key(&app, &alice.token).await;
    let key_id = session_id_of(&app, &key).await;
    assert_ne!(key_id, alice.session_id);
    let expected = json!({
        "username": "alice",
        "client": "api",
        "session_id": key_id,
        "actor_id": null,
        "ip": LOCAL_IP,
    });
    let created = one(&app, &admin.token, "apikey.created", &json!(alice.user_id)).await;
    assert_fields(&created, &expected);
    assert!(!created.to_string().contains(&key), "{created}");

    // A second key is refused and records nothing.
    let res = app
        .call(
            Method::POST,
            "/api/auth/apiaccess",
            Some(&alice.token),
            None,
        )
        .await;
    assert_error(&res, StatusCode::CONFLICT, "conflict");
    one(&app, &admin.token, "apikey.created", &json!(alice.user_id)).await;

    let res = app.delete("/api/auth/apiaccess", &alice.token).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{:?}", res.json);
    let deleted = one(&app, &admin.token, "apikey.deleted", &json!(alice.user_id)).await;
    assert_fields(&deleted, &expected);
    let res = app.delete("/api/auth/apiaccess", &alice.token).await;
    assert_error(&res, StatusCode::NOT_FOUND, "not_found");
    one(&app, &admin.token, "apikey.deleted", &json!(alice.user_id)).await;
}
