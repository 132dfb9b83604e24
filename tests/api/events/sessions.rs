//! Events of ending sessions: logout, logout-all, and revoking sessions by the user, by an
//! admin or by RFC 7009 revocation.

use super::*;

#[tokio::test]
async fn logout_records_logout_for_the_ended_session() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let alice = app.user_with_login("alice", "cli").await;
    let res = app
        .call(Method::POST, "/api/auth/logout", Some(&alice.token), None)
        .await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{:?}", res.json);
    let event = one(&app, &admin.token, "logout", &json!(alice.user_id)).await;
    assert_fields(
        &event,
        &json!({
            "username": "alice",
            "client": "cli",
            "session_id": alice.session_id,
            "actor_id": null,
            "ip": LOCAL_IP,
            "detail": {},
        }),
    );
}

#[tokio::test]
async fn logout_all_records_how_many_sessions_and_keys_ended() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let alice = app.user_with_login("alice", "web").await;
    app.login("alice", "mobile").await;
    api_key(&app, &alice.token).await;
    let res = app
        .call(
            Method::POST,
            "/api/auth/logoutall",
            Some(&alice.token),
            None,
        )
        .await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{:?}", res.json);
    let event = one(&app, &admin.token, "logout_all", &json!(alice.user_id)).await;
    assert_fields(
        &event,
        &json!({
            "username": "alice",
            "actor_id": null,
            "ip": LOCAL_IP,
            "detail": {"revoked": 3},
        }),
    );
}

#[tokio::test]
async fn revoking_one_of_my_sessions_records_session_revoked_by_the_user() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let alice = app.user_with_login("alice", "web").await;
    let phone = app.login("alice", "mobile").await;
    let path = format!("/api/auth/sessions/{}", phone.session_id);
    let res = app.delete(&path, &alice.token).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{:?}", res.json);
    let event = one(&app, &admin.token, "session.revoked", &json!(alice.user_id)).await;
    assert_fields(
        &event,
        &json!({
            "username": "alice",
            "client": "mobile",
            "session_id": phone.session_id,
            "actor_id": null,
            "ip": LOCAL_IP,
            "detail": {"by": "user"},
        }),
    );
}

#[tokio::test]
async fn revoking_my_other_sessions_records_session_revoked_with_the_count() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let alice = app.user_with_login("alice", "web").await;
    app.login("alice", "mobile").await;
    app.login("alice", "cli").await;
    api_key(&app, &alice.token).await;
    let res = app.delete("/api/auth/sessions", &alice.token).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    assert_eq!(res.json["revoked"], 2, "the API key is kept");
    let event = one(&app, &admin.token, "session.revoked", &json!(alice.user_id)).await;
    assert_fields(
        &event,
        &json!({
            "username": "alice",
            "actor_id": null,
            "detail": {"by": "user", "revoked": 2},
        }),
    );
}

#[tokio::test]
async fn an_admin_ending_a_users_sessions_records_session_revoked_with_the_admin_as_actor() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let alice = app.user_with_login("alice", "web").await;
    app.login("alice", "mobile").await;
    let path = format!("/api/admin/users/{}/sessions", alice.user_id);
    let res = app.delete(&path, &admin.token).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    assert_eq!(res.json["revoked"], 2);
    let event = one(&app, &admin.token, "session.revoked", &json!(alice.user_id)).await;
    assert_fields(
        &event,
        &json!({
            "username": "alice",
            "actor_id": admin.user_id,
            "ip": LOCAL_IP,
            "detail": {"by": "admin", "revoked": 2},
        }),
    );
}

#[tokio::test]
async fn rfc7009_revocation_records_session_revoked_by_rfc7009() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let alice = app.user_with_login("alice", "mobile").await;
    let res = app
        .post("/api/auth/revoke", None, json!({"token": alice.token}))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    let event = one(&app, &admin.token, "session.revoked", &json!(alice.user_id)).await;
    assert_fields(
        &event,
        &json!({
            "username": "alice",
            "session_id": alice.session_id,
            "actor_id": null,
            "ip": LOCAL_IP,
            "detail": {"by": "rfc7009"},
        }),
    );
    // Revoking it again ends nothing and records nothing.
    let res = app
        .post("/api/auth/revoke", None, json!({"token": alice.token}))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    one(&app, &admin.token, "session.revoked", &json!(alice.user_id)).await;
}
