//! Events of admin actions: users, clients, throttle overrides and bulk revocation, each with
//! the admin as the actor.

use super::*;

/// The names in `detail.fields`, sorted.
fn changed_fields(event: &Value) -> Vec<&str> {
    let mut fields: Vec<&str> = event["detail"]["fields"]
        .as_array()
        .unwrap_or_else(|| panic!("no detail.fields: {event}"))
        .iter()
        .map(|f| {
            f.as_str()
                .unwrap_or_else(|| panic!("not a field name: {f}"))
        })
        .collect();
    fields.sort_unstable();
    fields
}

#[tokio::test]
async fn creating_a_user_records_user_created_with_the_admin_as_actor() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let id = create_via_admin(&app, &admin.token, "uma", "created by an admin").await;
    let event = one(&app, &admin.token, "user.created", &json!(id)).await;
    assert_fields(
        &event,
        &json!({
            "username": "uma",
            "client": null,
            "session_id": null,
            "actor_id": admin.user_id,
            "ip": LOCAL_IP,
        }),
    );
    assert!(
        !event.to_string().contains("created by an admin"),
        "{event}"
    );
}

#[tokio::test]
async fn changing_a_user_records_user_updated_naming_the_fields_but_never_the_password() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let id = create_via_admin(&app, &admin.token, "uma", "created by an admin").await;
    let path = format!("/api/admin/users/{id}");
    let secret = "the admin's new password for uma";
    let body = json!({"is_active": false, "password": secret});
    let res = patch(&app, &admin.token, &path, body).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    let event = one(&app, &admin.token, "user.updated", &json!(id)).await;
    assert_fields(
        &event,
        &json!({"username": "uma", "actor_id": admin.user_id, "ip": LOCAL_IP}),
    );
    assert_eq!(changed_fields(&event), ["is_active", "password"]);
    assert!(!event.to_string().contains(secret), "{event}");

    let res = patch(&app, &admin.token, &path, json!({"is_admin": true})).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    let updates = events_of(&app, &admin.token, "user.updated", &json!(id)).await;
    assert_eq!(updates.len(), 2, "{updates:?}");
    let newest = updates.iter().max_by_key(|e| e["id"].as_i64()).unwrap();
    assert_eq!(changed_fields(newest), ["is_admin"]);
}

#[tokio::test]
async fn deleting_a_user_records_user_deleted_keeping_the_id_and_name() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let alice = app.user_with_login("alice", "web").await;
    let res = app
        .delete(&format!("/api/admin/users/{}", alice.user_id), &admin.token)
        .await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{:?}", res.json);
    let event = one(&app, &admin.token, "user.deleted", &json!(alice.user_id)).await;
    assert_fields(
        &event,
        &json!({"username": "alice", "actor_id": admin.user_id, "ip": LOCAL_IP}),
    );
    // Her earlier events stay, with her id and name.
    let login = one(&app, &admin.token, "login.succeeded", &json!(alice.user_id)).await;
    assert_fields(
        &login,
        &json!({"username": "alice", "session_id": alice.session_id}),
    );
}

#[tokio::test]
async fn client_changes_record_client_events_naming_the_client() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let expected = json!({
        "client": "ios",
        "user_id": null,
        "actor_id": admin.user_id,
        "ip": LOCAL_IP,
    });
    let res = app
        .post(
            "/api/admin/clients",
            Some(&admin.token),
            json!({"name": "ios"}),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{:?}", res.json);
    let created = one_on_client(&app, &admin.token, "client.created", "ios").await;
    assert_fields(&created, &expected);

    let change = json!({"description": "iPhone app", "throttle_rate": "100/m"});
    app.patch_client(&admin.token, "ios", change).await;
    let updated = one_on_client(&app, &admin.token, "client.updated", "ios").await;
    assert_fields(&updated, &expected);
    assert_eq!(changed_fields(&updated), ["description", "throttle_rate"]);

    let res = app.delete("/api/admin/clients/ios", &admin.token).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{:?}", res.json);
    let deleted = one_on_client(&app, &admin.token, "client.deleted", "ios").await;
    assert_fields(&deleted, &expected);
}

#[tokio::test]
async fn throttle_overrides_record_throttle_set_and_throttle_removed() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let id = app.create_user("alice", false).await;
    let path = format!("/api/admin/users/{id}/throttles/cli");
    let expected = json!({
        "username": "alice",
        "client": "cli",
        "actor_id": admin.user_id,
        "ip": LOCAL_IP,
    });

    let res = app
        .call(
            Method::PUT,
            &path,
            Some(&admin.token),
            Some(json!({"rate": "5/m"})),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    let set = one(&app, &admin.token, "throttle.set", &json!(id)).await;
    assert_fields(&set, &expected);
    assert_eq!(set["detail"], json!({"rate": "5/m"}));

    let res = app
        .call(
            Method::PUT,
            &path,
            Some(&admin.token),
            Some(json!({"rate": null})),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    let sets = events_of(&app, &admin.token, "throttle.set", &json!(id)).await;
    assert_eq!(sets.len(), 2, "{sets:?}");
    let unlimited = sets.iter().max_by_key(|e| e["id"].as_i64()).unwrap();
    assert_eq!(unlimited["detail"], json!({"rate": null}), "unlimited");

    let res = app.delete(&path, &admin.token).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{:?}", res.json);
    let removed = one(&app, &admin.token, "throttle.removed", &json!(id)).await;
    assert_fields(&removed, &expected);
    // Nothing left to remove: 404 and no event.
    let res = app.delete(&path, &admin.token).await;
    assert_error(&res, StatusCode::NOT_FOUND, "not_found");
    one(&app, &admin.token, "throttle.removed", &json!(id)).await;
}

#[tokio::test]
async fn bulk_revocation_records_revocation_bulk_with_its_filters_and_count() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let alice = app.user_with_login("alice", "cli").await;
    app.user_with_login("bob", "cli").await;
    app.login("alice", "mobile").await;

    let res = app
        .post(
            "/api/admin/revocations",
            Some(&admin.token),
            json!({"client": "cli"}),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    assert_eq!(res.json["revoked"], 2);
    let event = one(&app, &admin.token, "revocation.bulk", &Value::Null).await;
    assert_fields(
        &event,
        &json!({
            "client": null,
            "actor_id": admin.user_id,
            "ip": LOCAL_IP,
            "detail": {"client": "cli", "user_id": null, "created_before": null, "revoked": 2},
        }),
    );

    app.clock.advance_secs(1.0);
    let before = now_rfc3339(&app);
    let body = json!({"user_id": alice.user_id, "created_before": before});
    let res = app
        .post("/api/admin/revocations", Some(&admin.token), body)
        .await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    assert_eq!(res.json["revoked"], 1, "her mobile session");
    let event = one(&app, &admin.token, "revocation.bulk", &json!(alice.user_id)).await;
    assert_fields(&event, &json!({"client": null, "actor_id": admin.user_id}));
    assert_fields(
        &event["detail"],
        &json!({"client": null, "user_id": alice.user_id, "revoked": 1}),
    );
    let at = |v: &Value| {
        let s = v.as_str().unwrap_or_else(|| panic!("not a timestamp: {v}"));
        chrono::DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    };
    assert_eq!(
        at(&event["detail"]["created_before"]),
        at(&json!(before)),
        "{event}"
    );
}
