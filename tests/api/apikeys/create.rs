//! The rules of `POST /api/auth/apikeys` (SPEC §1 "API key", §4.4): name, scopes and
//! `expires_in` validation, the expiry and its cap by the API-access client's `max_lifetime`,
//! unique names per user, and the per-user limit `TESSERA_MAX_API_KEYS`.

use super::*;

#[tokio::test]
async fn a_missing_blank_long_or_controlled_name_is_a_validation_error() {
    let app = TestApp::new().await;
    let alice = user(&app, "alice").await;
    let bad = [
        json!({}),
        json!({"name": null}),
        json!({"name": ""}),
        json!({"name": "   "}),
        json!({"name": "\t \n"}),
        json!({"name": "x".repeat(101)}),
        json!({"name": "é".repeat(101)}),
        json!({"name": "bell\u{7}"}),
        json!({"name": "two\nlines"}),
        json!({"name": "nul\u{0}"}),
        json!({"name": 42}),
        json!({"name": ["ci"]}),
    ];
    for body in bad {
        let res = create(&app, &alice.token, body.clone()).await;
        assert_invalid(&res, "name", &body.to_string());
    }
    assert!(list(&app, &alice.token).await.is_empty(), "nothing created");
}

#[tokio::test]
async fn names_of_up_to_100_characters_are_kept_exactly() {
    let app = TestApp::new().await;
    let alice = user(&app, "alice").await;
    for name in [
        "x".repeat(100),
        "é".repeat(100),
        "CI deploy (prod) #1".to_string(),
        "ci".to_string(),
        "CI".to_string(),
    ] {
        let key = named(&app, &alice.token, &name).await;
        assert_eq!(key.json["name"], name.as_str());
    }
    let keys = list(&app, &alice.token).await;
    assert_eq!(keys.len(), 5, "names are case-sensitive: {keys:?}");
}

#[tokio::test]
async fn malformed_scopes_are_a_validation_error() {
    let app = TestApp::new().await;
    let alice = user(&app, "alice").await;
    let fifty_one: Vec<String> = (0..51).map(|i| format!("s{i}")).collect();
    let bad = [
        json!(["Read"]),
        json!(["reports:Read"]),
        json!([""]),
        json!(["a b"]),
        json!(["reports/read"]),
        json!(["é"]),
        json!(["a".repeat(65)]),
        json!(fifty_one),
        json!("reports:read"),
        json!([1]),
        json!(["ok", null]),
        json!({"reports": "read"}),
    ];
    for scopes in bad {
        let body = json!({"name": "ci", "scopes": scopes});
        let res = create(&app, &alice.token, body.clone()).await;
        assert_invalid(&res, "scopes", &body.to_string());
    }
    assert!(list(&app, &alice.token).await.is_empty(), "nothing created");
}

#[tokio::test]
async fn scopes_keep_their_order_drop_repeats_and_may_be_empty_or_null() {
    let app = TestApp::new().await;
    let alice = user(&app, "alice").await;
    let key = scoped(
        &app,
        &alice.token,
        "a",
        &["b", "a:1", "b", "x.y_z-0", "a:1"],
    )
    .await;
    assert_eq!(key.json["scopes"], json!(["b", "a:1", "x.y_z-0"]));

    let fifty: Vec<String> = (0..50).map(|i| format!("s{i}")).collect();
    let body = json!({"name": "fifty", "scopes": fifty});
    let key = new_key(&app, &alice.token, body).await;
    assert_eq!(key.json["scopes"], json!(fifty));
    // Fifty once each, however often repeated.
    let mut repeated = fifty.clone();
    repeated.extend(fifty.iter().cloned());
    let body = json!({"name": "repeated", "scopes": repeated});
    let key = new_key(&app, &alice.token, body).await;
    assert_eq!(key.json["scopes"], json!(fifty));

    let long = "a".repeat(64);
    let key = scoped(&app, &alice.token, "long", &[long.as_str()]).await;
    assert_eq!(key.json["scopes"], json!([long]));

    let none = scoped(&app, &alice.token, "none", &[]).await;
    assert_eq!(none.json["scopes"], json!([]), "an empty list is not null");
    let null = new_key(&app, &alice.token, json!({"name": "null", "scopes": null})).await;
    assert_eq!(null.json["scopes"], Value::Null);

    let keys = list(&app, &alice.token).await;
    let by_name = |n: &str| keys.iter().find(|k| k["name"] == n).cloned().unwrap();
    assert_eq!(by_name("a")["scopes"], json!(["b", "a:1", "x.y_z-0"]));
    assert_eq!(by_name("none")["scopes"], json!([]));
    assert_eq!(by_name("null")["scopes"], Value::Null);
}

#[tokio::test]
async fn expires_in_must_be_an_integer_from_60_seconds_to_100_years() {
    let app = TestApp::new().await;
    let alice = user(&app, "alice").await;
    let bad = [
        json!(59),
        json!(0),
        json!(-60),
        json!(MAX_EXPIRES_IN + 1),
        json!("3600"),
        json!(60.5),
        json!(true),
        json!([3600]),
    ];
    for expires_in in bad {
        let body = json!({"name": "ci", "expires_in": expires_in});
        let res = create(&app, &alice.token, body.clone()).await;
        assert_invalid(&res, "expires_in", &body.to_string());
    }
    assert!(list(&app, &alice.token).await.is_empty(), "nothing created");

    let key = new_key(&app, &alice.token, json!({"name": "min", "expires_in": 60})).await;
    assert_expiry_in(&app, &key.json["expiry"], 60);
    let body = json!({"name": "max", "expires_in": MAX_EXPIRES_IN});
    let key = new_key(&app, &alice.token, body).await;
    assert_expiry_in(&app, &key.json["expiry"], MAX_EXPIRES_IN);
}

#[tokio::test]
async fn expires_in_sets_the_expiry_and_the_key_then_expires() {
    let app = TestApp::new().await;
    let alice = user(&app, "alice").await;
    let body = json!({"name": "hour", "expires_in": 3600});
    let key = new_key(&app, &alice.token, body).await;
    assert_expiry_in(&app, &key.json["expiry"], 3600);
    let forever = named(&app, &alice.token, "forever").await;
    assert_eq!(forever.json["expiry"], Value::Null);
    let listed = list(&app, &alice.token).await;
    let hour = listed.iter().find(|k| k["name"] == "hour").unwrap();
    assert_eq!(hour["expiry"], key.json["expiry"]);

    app.clock.advance_secs(3599.0);
    let me = assert_works(&app, &key.token, "a second before its expiry").await;
    assert_eq!(me["session"]["expiry"], key.json["expiry"]);
    app.clock.advance_secs(2.0);
    let res = app.get(ME, &key.token).await;
    assert_error(&res, StatusCode::UNAUTHORIZED, "token_expired");
    assert_works(&app, &forever.token, "the key without expiry").await;
    // Only live keys are listed (alice's web session lasts a day).
    let keys = list(&app, &alice.token).await;
    assert_eq!(column(&keys, "name"), ["forever"]);
}

#[tokio::test]
async fn the_api_clients_max_lifetime_caps_the_expiry() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let alice = user(&app, "alice").await;
    app.patch_client(&admin.token, "api", json!({"max_lifetime": 600}))
        .await;
    let body = json!({"name": "long", "expires_in": 3600});
    let long = new_key(&app, &alice.token, body).await;
    assert_expiry_in(&app, &long.json["expiry"], 600);
    let body = json!({"name": "short", "expires_in": 60});
    let short = new_key(&app, &alice.token, body).await;
    assert_expiry_in(&app, &short.json["expiry"], 60);
    // Without expires_in the client's policy applies: no ttl, a 600 s lifetime.
    let policy = named(&app, &alice.token, "policy").await;
    assert_expiry_in(&app, &policy.json["expiry"], 600);

    app.clock.advance_secs(601.0);
    let res = app.get(ME, &long.token).await;
    assert_error(&res, StatusCode::UNAUTHORIZED, "token_expired");
}

#[tokio::test]
async fn expires_in_is_capped_by_max_lifetime_only() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let alice = user(&app, "alice").await;
    let policy = json!({"token_ttl": 300, "max_lifetime": 7200});
    app.patch_client(&admin.token, "api", policy).await;
    let body = json!({"name": "hour", "expires_in": 3600});
    let hour = new_key(&app, &alice.token, body).await;
    assert_expiry_in(&app, &hour.json["expiry"], 3600);
    let default = named(&app, &alice.token, "default ttl").await;
    assert_expiry_in(&app, &default.json["expiry"], 300);
}

#[tokio::test]
async fn a_duplicate_name_is_a_conflict_but_another_user_may_use_it() {
    let app = TestApp::new().await;
    let alice = user(&app, "alice").await;
    let bob = user(&app, "bob").await;
    let first = named(&app, &alice.token, "ci").await;
    let body = json!({"name": "ci", "scopes": ["other"], "expires_in": 600});
    let res = create(&app, &alice.token, body).await;
    assert_error(&res, StatusCode::CONFLICT, "conflict");
    assert!(!String::from_utf8_lossy(&res.body).contains("tsk_"));
    assert_works(&app, &first.token, "the first ci").await;
    assert_eq!(column(&list(&app, &alice.token).await, "id"), [&*first.id]);

    let bobs = named(&app, &bob.token, "ci").await;
    assert_ne!(bobs.id, first.id);
    assert_works(&app, &bobs.token, "bob's ci").await;
}

#[tokio::test]
async fn an_expired_keys_name_is_free_again() {
    let app = TestApp::new().await;
    let alice = user(&app, "alice").await;
    let old = new_key(&app, &alice.token, json!({"name": "ci", "expires_in": 60})).await;
    app.clock.advance_secs(61.0);
    let new = named(&app, &alice.token, "ci").await;
    assert_ne!(new.id, old.id);
    assert_eq!(column(&list(&app, &alice.token).await, "id"), [&*new.id]);
    assert_works(&app, &new.token, "the new ci").await;
    let res = app.get(ME, &old.token).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{:?}", res.json);
}

#[tokio::test]
async fn the_per_user_limit_is_a_conflict() {
    let app = app_with_limit(3).await;
    let alice = user(&app, "alice").await;
    let bob = user(&app, "bob").await;
    let keys = [
        named(&app, &alice.token, "a").await,
        named(&app, &alice.token, "b").await,
        scoped(&app, &alice.token, "c", &["x"]).await,
    ];
    let res = create(&app, &alice.token, json!({"name": "d"})).await;
    assert_error(&res, StatusCode::CONFLICT, "conflict");
    // The v1 endpoint counts against the same limit.
    let res = app
        .call(Method::POST, APIACCESS, Some(&alice.token), None)
        .await;
    assert_error(&res, StatusCode::CONFLICT, "conflict");
    assert_eq!(list(&app, &alice.token).await.len(), 3);
    // The limit is per user.
    named(&app, &bob.token, "d").await;

    let res = app.delete(&key_path(&keys[0].id), &alice.token).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT);
    named(&app, &alice.token, "d").await;
    let res = create(&app, &alice.token, json!({"name": "e"})).await;
    assert_error(&res, StatusCode::CONFLICT, "conflict");
}

#[tokio::test]
async fn expired_keys_do_not_count_against_the_limit() {
    let app = app_with_limit(2).await;
    let alice = user(&app, "alice").await;
    new_key(
        &app,
        &alice.token,
        json!({"name": "brief", "expires_in": 60}),
    )
    .await;
    named(&app, &alice.token, "kept").await;
    let res = create(&app, &alice.token, json!({"name": "third"})).await;
    assert_error(&res, StatusCode::CONFLICT, "conflict");
    app.clock.advance_secs(61.0);
    named(&app, &alice.token, "third").await;
    let keys = list(&app, &alice.token).await;
    assert_eq!(column(&keys, "name").len(), 2, "{keys:?}");
}

#[tokio::test]
async fn by_default_a_user_holds_at_most_20_keys() {
    let app = TestApp::new().await;
    let alice = user(&app, "alice").await;
    for i in 0..20 {
        named(&app, &alice.token, &format!("key {i}")).await;
    }
    let res = create(&app, &alice.token, json!({"name": "key 20"})).await;
    assert_error(&res, StatusCode::CONFLICT, "conflict");
    assert_eq!(list(&app, &alice.token).await.len(), 20);
}
