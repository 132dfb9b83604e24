//! Rolling a key (`POST /api/auth/apikeys/{id}/roll`, SPEC §4.4): a new token for the same key,
//! the old one honoured for `grace` seconds and then 401 `invalid_token`, with no reuse alarm
//! (unlike refresh rotation, the key lives on); no body is grace 0; the `apikey.rolled` event.

use super::*;

/// The new key of a successful roll, checked against the key before it.
fn rolled(res: &TestResponse, before: &Key) -> Key {
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    assert_eq!(res.header("cache-control"), "no-store");
    assert_eq!(field_names(&res.json), new_key_fields());
    let after = Key::from_answer(res);
    assert!(after.token.starts_with("tsk_") && after.token.len() == 42);
    assert!(server::token::parse(&after.token).is_some(), "well-formed");
    assert_ne!(after.token, before.token, "a new token");
    assert_eq!(after.id, before.id, "the same key");
    for kept in ["name", "scopes", "expiry", "created", "client"] {
        assert_eq!(after.json[kept], before.json[kept], "{kept} is kept");
    }
    assert_eq!(after.json["token_hint"], &after.token[..8]);
    after
}

#[tokio::test]
async fn the_old_token_works_for_the_grace_window_then_is_invalid_without_an_alarm() {
    let app = TestApp::new().await;
    let alice = user(&app, "alice").await;
    let body = json!({"name": "ci", "scopes": ["reports:read"], "expires_in": 86400});
    let old = new_key(&app, &alice.token, body).await;
    app.clock.advance_secs(5.0);
    let res = roll(&app, &alice.token, &old.id, Some(json!({"grace": 30}))).await;
    let new = rolled(&res, &old);
    assert_ne!(new.json["token_hint"], old.json["token_hint"]);

    let me = assert_works(&app, &new.token, "the new token").await;
    assert_eq!(me["session"]["id"], old.id.as_str());
    assert_eq!(me["session"]["token_hint"], &new.token[..8]);
    app.clock.advance_secs(29.0);
    assert_works(&app, &old.token, "the old token inside the window").await;
    assert_works(&app, &new.token, "the new token inside the window").await;
    app.clock.advance_secs(2.0);
    assert_dead(&app, &old.token, "the old token after the window").await;
    // No reuse alarm: the key itself lives on.
    assert_works(&app, &new.token, "the new token after the window").await;
    assert_dead(&app, &old.token, "the old token again").await;
    assert_works(&app, &new.token, "the new token at last").await;
    let keys = list(&app, &alice.token).await;
    assert_eq!(column(&keys, "id"), [&*old.id]);
    assert_eq!(keys[0]["token_hint"], &new.token[..8]);
    assert_eq!(keys[0]["scopes"], json!(["reports:read"]));
    let alarms = my_events(&app, &alice.token, "token.reuse_detected").await;
    assert!(alarms.is_empty(), "{alarms:?}");
}

#[tokio::test]
async fn a_roll_without_a_body_has_no_grace() {
    let app = TestApp::new().await;
    let alice = user(&app, "alice").await;
    let old = named(&app, &alice.token, "ci").await;
    let res = roll(&app, &alice.token, &old.id, None).await;
    let new = rolled(&res, &old);
    assert_dead(&app, &old.token, "the old token at once").await;
    assert_works(&app, &new.token, "the new token").await;

    // `{}` and an explicit 0 are the same.
    for body in [json!({}), json!({"grace": 0})] {
        let before = new_key(&app, &alice.token, json!({"name": body.to_string()})).await;
        let res = roll(&app, &alice.token, &before.id, Some(body.clone())).await;
        let after = rolled(&res, &before);
        assert_dead(&app, &before.token, &body.to_string()).await;
        assert_works(&app, &after.token, &body.to_string()).await;
    }
}

#[tokio::test]
async fn grace_must_be_an_integer_from_0_to_86400() {
    let app = TestApp::new().await;
    let alice = user(&app, "alice").await;
    let key = named(&app, &alice.token, "ci").await;
    for grace in [
        json!(86401),
        json!(-1),
        json!("30"),
        json!(1.5),
        json!([30]),
    ] {
        let body = json!({"grace": grace});
        let res = roll(&app, &alice.token, &key.id, Some(body.clone())).await;
        assert_invalid(&res, "grace", &body.to_string());
    }
    // Nothing was rolled.
    let me = assert_works(&app, &key.token, "the unrolled key").await;
    assert_eq!(me["session"]["token_hint"], &key.token[..8]);
    assert!(
        my_events(&app, &alice.token, "apikey.rolled")
            .await
            .is_empty()
    );

    let res = roll(&app, &key.token, &key.id, Some(json!({"grace": 86400}))).await;
    let new = rolled(&res, &key);
    app.clock.advance_secs(86399.0);
    assert_works(&app, &key.token, "the old token a second before a day").await;
    app.clock.advance_secs(2.0);
    assert_dead(&app, &key.token, "the old token after a day").await;
    assert_works(&app, &new.token, "the new token after a day").await;
}

#[tokio::test]
async fn only_the_owner_may_roll_a_key() {
    let app = TestApp::new().await;
    let alice = user(&app, "alice").await;
    let bob = user(&app, "bob").await;
    let key = named(&app, &alice.token, "ci").await;
    let bobs = named(&app, &bob.token, "ci").await;
    let res = roll(&app, &bob.token, &key.id, None).await;
    assert_error(&res, StatusCode::NOT_FOUND, "not_found");
    let res = roll(&app, &bobs.token, &key.id, Some(json!({"grace": 10}))).await;
    assert_error(&res, StatusCode::NOT_FOUND, "not_found");
    let unknown = uuid::Uuid::new_v4().to_string();
    for id in [unknown.as_str(), "not-a-uuid", alice.session_id.as_str()] {
        let res = roll(&app, &alice.token, id, None).await;
        assert_error(&res, StatusCode::NOT_FOUND, "not_found");
    }
    let me = assert_works(&app, &key.token, "alice's key, not rolled").await;
    assert_eq!(me["session"]["token_hint"], &key.token[..8]);
    assert_works(&app, &alice.token, "alice's session, not a key").await;
}

#[tokio::test]
async fn a_deleted_key_cannot_be_rolled() {
    let app = TestApp::new().await;
    let alice = user(&app, "alice").await;
    let key = named(&app, &alice.token, "ci").await;
    let res = app.delete(&key_path(&key.id), &alice.token).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT);
    let res = roll(&app, &alice.token, &key.id, None).await;
    assert_error(&res, StatusCode::NOT_FOUND, "not_found");
    assert!(
        list(&app, &alice.token).await.is_empty(),
        "not brought back"
    );
}

#[tokio::test]
async fn rolling_records_apikey_rolled_with_the_grace() {
    let app = TestApp::new().await;
    let alice = user(&app, "alice").await;
    let key = named(&app, &alice.token, "ci").await;
    let res = roll(&app, &alice.token, &key.id, Some(json!({"grace": 30}))).await;
    let new = rolled(&res, &key);
    let events = my_events(&app, &alice.token, "apikey.rolled").await;
    assert_eq!(events.len(), 1, "{events:?}");
    let event = &events[0];
    assert_eq!(event["session_id"], key.id.as_str());
    assert_eq!(event["user_id"], alice.user_id);
    assert_eq!(event["client"], "api");
    assert_eq!(event["detail"]["grace"], 30);
    let text = event.to_string();
    assert!(
        !text.contains(&key.token) && !text.contains(&new.token),
        "{text}"
    );

    let res = roll(&app, &alice.token, &key.id, None).await;
    rolled(&res, &new);
    let events = my_events(&app, &alice.token, "apikey.rolled").await;
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[0]["detail"]["grace"], 0, "newest first");
}
