//! The key endpoints of SPEC §4.4: create (the answer, the token as a credential), list (newest
//! first, the caller's only, no token), delete (and its 404s), the v1 endpoint beside named keys,
//! the missing API-access client, and the `apikey.*` events.

use super::*;

#[tokio::test]
async fn create_answers_201_with_the_token_shown_once() {
    let app = TestApp::new().await;
    let alice = user(&app, "alice").await;
    let res = create(&app, &alice.token, json!({"name": "ci"})).await;
    assert_eq!(res.status, StatusCode::CREATED, "{:?}", res.json);
    assert_eq!(res.header("cache-control"), "no-store");
    assert_eq!(field_names(&res.json), new_key_fields());
    let key = Key::from_answer(&res);
    assert!(key.token.starts_with("tsk_"), "{}", key.token);
    assert_eq!(key.token.len(), 42);
    let (kind, _) = server::token::parse(&key.token).expect("a well-formed token");
    assert_eq!(kind, server::token::TokenKind::ApiKey);
    assert!(uuid::Uuid::parse_str(&key.id).is_ok(), "{}", key.id);
    assert_eq!(res.json["name"], "ci");
    assert_eq!(res.json["scopes"], Value::Null, "unrestricted");
    assert_eq!(res.json["client"], "api");
    assert_eq!(res.json["token_hint"], &key.token[..8]);
    assert_eq!(
        res.json["expiry"],
        Value::Null,
        "the api client's ttl is null"
    );
    assert_eq!(micros(&res.json["created"]), app.clock.now_micros());
    assert_eq!(res.json["last_used"], res.json["created"]);

    let listed = list(&app, &alice.token).await;
    let mut expected = res.json.clone();
    expected.as_object_mut().unwrap().remove("token");
    assert_eq!(listed, [expected]);
}

#[tokio::test]
async fn the_token_works_as_bearer_and_in_x_api_key() {
    let app = TestApp::new().await;
    let alice = user(&app, "alice").await;
    let key = scoped(&app, &alice.token, "reports", &["reports:read"]).await;

    let me = assert_works(&app, &key.token, "as Bearer").await;
    assert_eq!(me["user"]["id"], alice.user_id);
    let session = &me["session"];
    assert_eq!(session["id"], key.id.as_str());
    assert_eq!(session["kind"], "api_key");
    assert_eq!(session["client"], "api");
    assert_eq!(session["name"], "reports");
    assert_eq!(session["scopes"], json!(["reports:read"]));
    assert_eq!(session["is_current"], true);
    assert_eq!(session["token_hint"], &key.token[..8]);

    let res = app.send(by_api_key(Method::GET, ME, &key.token)).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    assert_eq!(res.json, me, "the same answer through X-Api-Key");
    let res = app.send(by_api_key(Method::POST, VERIFY, &key.token)).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    assert_eq!(res.header("x-auth-session-id"), key.id);
    assert_eq!(res.header("x-auth-kind"), "api_key");
}

#[tokio::test]
async fn list_is_newest_first_only_the_callers_and_never_shows_a_token() {
    let app = TestApp::new().await;
    let alice = user(&app, "alice").await;
    let bob = user(&app, "bob").await;
    let a = named(&app, &alice.token, "a").await;
    app.clock.advance_secs(1.0);
    let b = scoped(&app, &alice.token, "b", &["x:y", "z"]).await;
    app.clock.advance_secs(1.0);
    let c = named(&app, &alice.token, "c").await;
    let bobs = named(&app, &bob.token, "a").await;

    let keys = list(&app, &alice.token).await;
    assert_eq!(column(&keys, "name"), ["c", "b", "a"]);
    assert_eq!(column(&keys, "id"), [&*c.id, &*b.id, &*a.id]);
    for (listed, key) in keys.iter().zip([&c, &b, &a]) {
        assert_eq!(field_names(listed), KEY_FIELDS, "{listed}");
        assert_eq!(listed["token_hint"], &key.token[..8]);
        assert_eq!(listed["client"], "api");
    }
    assert_eq!(keys[1]["scopes"], json!(["x:y", "z"]));
    assert_eq!(keys[0]["scopes"], Value::Null);
    assert!(
        !column(&keys, "id").contains(&alice.session_id.as_str()),
        "login sessions are not keys"
    );
    let body = app.get(KEYS, &alice.token).await.body;
    let body = String::from_utf8_lossy(&body);
    for key in [&a, &b, &c] {
        let (_, digest) = server::token::parse(&key.token).unwrap();
        assert!(!body.contains(&key.token), "a token leaked: {body}");
        assert!(!body.contains(digest.as_str()), "a digest leaked: {body}");
    }

    let keys = list(&app, &bob.token).await;
    assert_eq!(column(&keys, "id"), [&*bobs.id]);
    // A key lists its user's keys like any unrestricted credential.
    let keys = list(&app, &a.token).await;
    assert_eq!(column(&keys, "name"), ["c", "b", "a"]);
}

#[tokio::test]
async fn keys_created_at_the_same_moment_are_listed_by_descending_id() {
    let app = TestApp::new().await;
    let alice = user(&app, "alice").await;
    for name in ["one", "two", "three", "four"] {
        named(&app, &alice.token, name).await;
    }
    let keys = list(&app, &alice.token).await;
    let ids = column(&keys, "id");
    let mut descending = ids.clone();
    descending.sort_unstable_by(|x, y| y.cmp(x));
    assert_eq!(ids, descending);
}

#[tokio::test]
async fn delete_ends_that_key_only() {
    let app = TestApp::new().await;
    let alice = user(&app, "alice").await;
    let a = named(&app, &alice.token, "a").await;
    let b = named(&app, &alice.token, "b").await;
    let res = app.delete(&key_path(&a.id), &alice.token).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{:?}", res.json);
    assert!(res.body.is_empty());
    assert_dead(&app, &a.token, "the deleted key").await;
    assert_works(&app, &b.token, "the other key").await;
    assert_works(&app, &alice.token, "the session").await;
    assert_eq!(column(&list(&app, &alice.token).await, "id"), [&*b.id]);
    let res = app.delete(&key_path(&a.id), &alice.token).await;
    assert_error(&res, StatusCode::NOT_FOUND, "not_found");
    // The name is free again.
    let again = named(&app, &alice.token, "a").await;
    assert_ne!(again.id, a.id);
}

#[tokio::test]
async fn delete_answers_404_for_another_users_an_unknown_or_a_malformed_id() {
    let app = TestApp::new().await;
    let alice = user(&app, "alice").await;
    let bob = user(&app, "bob").await;
    let key = named(&app, &alice.token, "ci").await;

    let res = app.delete(&key_path(&key.id), &bob.token).await;
    assert_error(&res, StatusCode::NOT_FOUND, "not_found");
    let unknown = uuid::Uuid::new_v4().to_string();
    for id in [unknown.as_str(), "not-a-uuid", "42"] {
        let res = app.delete(&key_path(id), &alice.token).await;
        assert_error(&res, StatusCode::NOT_FOUND, "not_found");
    }
    // A login session is not a key.
    let res = app.delete(&key_path(&alice.session_id), &alice.token).await;
    assert_error(&res, StatusCode::NOT_FOUND, "not_found");
    assert_works(&app, &alice.token, "the session").await;
    assert_works(&app, &key.token, "alice's key after bob's delete").await;
    assert_eq!(column(&list(&app, &alice.token).await, "id"), [&*key.id]);
}

#[tokio::test]
async fn every_key_endpoint_needs_a_credential() {
    let app = TestApp::new().await;
    let alice = user(&app, "alice").await;
    let key = named(&app, &alice.token, "ci").await;
    let roll_path = format!("{}/roll", key_path(&key.id));
    let calls = [
        (Method::GET, KEYS.to_string(), None),
        (Method::POST, KEYS.to_string(), Some(json!({"name": "x"}))),
        (Method::DELETE, key_path(&key.id), None),
        (Method::POST, roll_path, Some(json!({}))),
    ];
    for (method, path, body) in calls {
        let res = app.call(method, &path, None, body).await;
        assert_error(&res, StatusCode::UNAUTHORIZED, "not_authenticated");
        assert_eq!(res.header("www-authenticate"), "Bearer realm=\"tessera\"");
    }
    assert_eq!(list(&app, &alice.token).await.len(), 1, "nothing changed");
    assert_works(&app, &key.token, "the key").await;
}

#[tokio::test]
async fn the_v1_endpoint_manages_only_the_key_named_default() {
    let app = TestApp::new().await;
    let alice = user(&app, "alice").await;
    let ci = scoped(&app, &alice.token, "ci", &["deploy"]).await;
    let res = app.get(APIACCESS, &alice.token).await;
    assert_error(&res, StatusCode::NOT_FOUND, "not_found");

    let res = app
        .call(Method::POST, APIACCESS, Some(&alice.token), None)
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{:?}", res.json);
    assert_eq!(field_names(&res.json), new_key_fields());
    assert_eq!(res.json["name"], "default");
    assert_eq!(res.json["scopes"], Value::Null);
    let default = Key::from_answer(&res);
    let shown = app.get(APIACCESS, &alice.token).await;
    assert_eq!(shown.status, StatusCode::OK, "{:?}", shown.json);
    assert_eq!(shown.json["id"], default.id.as_str());
    let res = app
        .call(Method::POST, APIACCESS, Some(&alice.token), None)
        .await;
    assert_error(&res, StatusCode::CONFLICT, "conflict");
    // The same name through v2 is the same conflict.
    let res = create(&app, &alice.token, json!({"name": "default"})).await;
    assert_error(&res, StatusCode::CONFLICT, "conflict");

    let res = app.delete(APIACCESS, &alice.token).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{:?}", res.json);
    assert_dead(&app, &default.token, "the default key").await;
    assert_works(&app, &ci.token, "the named key").await;
    assert_eq!(column(&list(&app, &alice.token).await, "id"), [&*ci.id]);
    let res = app.delete(APIACCESS, &alice.token).await;
    assert_error(&res, StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn without_the_api_access_client_keys_end_and_none_can_be_made() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let alice = user(&app, "alice").await;
    let key = named(&app, &alice.token, "ci").await;
    let res = app.delete("/api/admin/clients/api", &admin.token).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{:?}", res.json);
    assert_dead(&app, &key.token, "a key of the deleted client").await;
    assert!(list(&app, &alice.token).await.is_empty());
    let res = create(&app, &alice.token, json!({"name": "ci"})).await;
    assert_error(&res, StatusCode::BAD_REQUEST, "api_access_unavailable");
    let res = create(
        &app,
        &alice.token,
        json!({"name": "other", "scopes": ["a"]}),
    )
    .await;
    assert_error(&res, StatusCode::BAD_REQUEST, "api_access_unavailable");
}

#[tokio::test]
async fn create_and_delete_record_apikey_events_with_name_and_scopes() {
    let app = TestApp::new().await;
    let alice = user(&app, "alice").await;
    let key = scoped(&app, &alice.token, "ci", &["deploy", "reports:read"]).await;
    let created = my_events(&app, &alice.token, "apikey.created").await;
    assert_eq!(created.len(), 1, "{created:?}");
    assert_eq!(created[0]["session_id"], key.id.as_str());
    assert_eq!(created[0]["client"], "api");
    assert_eq!(created[0]["user_id"], alice.user_id);
    assert_eq!(created[0]["detail"]["name"], "ci");
    assert_eq!(
        created[0]["detail"]["scopes"],
        json!(["deploy", "reports:read"])
    );
    assert!(!created[0].to_string().contains(&key.token));
    // A refused create records nothing.
    let res = create(&app, &alice.token, json!({"name": "ci"})).await;
    assert_error(&res, StatusCode::CONFLICT, "conflict");
    assert_eq!(
        my_events(&app, &alice.token, "apikey.created").await.len(),
        1
    );

    let res = app.delete(&key_path(&key.id), &alice.token).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{:?}", res.json);
    let deleted = my_events(&app, &alice.token, "apikey.deleted").await;
    assert_eq!(deleted.len(), 1, "{deleted:?}");
    assert_eq!(deleted[0]["session_id"], key.id.as_str());
    let res = app.delete(&key_path(&key.id), &alice.token).await;
    assert_error(&res, StatusCode::NOT_FOUND, "not_found");
    assert_eq!(
        my_events(&app, &alice.token, "apikey.deleted").await.len(),
        1
    );
}
