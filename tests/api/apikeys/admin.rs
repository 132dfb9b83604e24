//! Keys in the session views (SPEC §4.2, §4.5): the admin listings show keys with their name and
//! scopes and sessions with `null` for both; the user's own session list gains the two fields
//! and never lists keys; revoking other sessions keeps keys; logout-all and the admin's "end all"
//! end them.

use super::*;

/// Alice with a web session, a mobile session, a scoped key and an unrestricted key.
async fn alice_with_keys(app: &TestApp) -> (Login, Login, Key, Key) {
    let alice = user(app, "alice").await;
    let phone = app.login("alice", "mobile").await;
    let ci = scoped(app, &alice.token, "ci", &["deploy", "reports:read"]).await;
    let full = named(app, &alice.token, "full").await;
    (alice, phone, ci, full)
}

/// The item of `items` whose `id` is `id`.
fn by_id<'a>(items: &'a [Value], id: &str) -> &'a Value {
    items
        .iter()
        .find(|s| s["id"] == id)
        .unwrap_or_else(|| panic!("{id} not in {items:?}"))
}

/// GET `path` as `token`, asserting 200 and a list.
async fn listing(app: &TestApp, token: &str, path: &str) -> Vec<Value> {
    let res = app.get(path, token).await;
    assert_eq!(res.status, StatusCode::OK, "{path}: {:?}", res.json);
    res.json
        .as_array()
        .cloned()
        .unwrap_or_else(|| panic!("{path}: not a list"))
}

/// Asserts that a session view is of a key named `name` with `scopes`.
fn assert_key_view(view: &Value, key: &Key, name: &str, scopes: Value) {
    assert_eq!(view["kind"], "api_key", "{view}");
    assert_eq!(view["client"], "api", "{view}");
    assert_eq!(view["name"], name, "{view}");
    assert_eq!(view["scopes"], scopes, "{view}");
    assert_eq!(view["token_hint"], &key.token[..8], "{view}");
}

/// Asserts that a session view is of a login session: `name` and `scopes` present and null.
fn assert_session_view(view: &Value) {
    assert_eq!(view["kind"], "session", "{view}");
    let fields = view.as_object().unwrap();
    assert_eq!(fields.get("name"), Some(&Value::Null), "{view}");
    assert_eq!(fields.get("scopes"), Some(&Value::Null), "{view}");
}

#[tokio::test]
async fn a_users_sessions_show_keys_with_name_and_scopes() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let (alice, phone, ci, full) = alice_with_keys(&app).await;
    let path = format!("/api/admin/users/{}/sessions", alice.user_id);
    let items = listing(&app, &admin.token, &path).await;
    assert_eq!(items.len(), 4, "{items:?}");
    assert_key_view(
        by_id(&items, &ci.id),
        &ci,
        "ci",
        json!(["deploy", "reports:read"]),
    );
    assert_key_view(by_id(&items, &full.id), &full, "full", Value::Null);
    for login in [&alice, &phone] {
        assert_session_view(by_id(&items, &login.session_id));
    }
    for item in &items {
        assert_eq!(item["is_current"], false, "{item}");
    }
}

#[tokio::test]
async fn every_session_listing_filters_keys_by_kind() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let (alice, _, ci, full) = alice_with_keys(&app).await;
    let bob = user(&app, "bob").await;
    let bobs = scoped(&app, &bob.token, "ci", &["other"]).await;

    let keys = listing(&app, &admin.token, "/api/admin/sessions?kind=api_key").await;
    assert_eq!(keys.len(), 3, "{keys:?}");
    assert_key_view(
        by_id(&keys, &ci.id),
        &ci,
        "ci",
        json!(["deploy", "reports:read"]),
    );
    assert_key_view(by_id(&keys, &full.id), &full, "full", Value::Null);
    let view = by_id(&keys, &bobs.id);
    assert_key_view(view, &bobs, "ci", json!(["other"]));
    assert_eq!(view["user_id"], bob.user_id);
    assert_eq!(view["username"], "bob");
    assert_eq!(by_id(&keys, &ci.id)["username"], "alice");

    let sessions = listing(&app, &admin.token, "/api/admin/sessions?kind=session").await;
    assert_eq!(sessions.len(), 4, "root, alice twice, bob: {sessions:?}");
    sessions.iter().for_each(assert_session_view);
    let path = format!("/api/admin/sessions?kind=api_key&user_id={}", alice.user_id);
    let mine = listing(&app, &admin.token, &path).await;
    assert_eq!(mine.len(), 2, "{mine:?}");
}

#[tokio::test]
async fn my_session_list_has_name_and_scopes_and_no_keys() {
    let app = TestApp::new().await;
    let (alice, phone, ci, full) = alice_with_keys(&app).await;
    let items = listing(&app, &alice.token, "/api/auth/sessions").await;
    let mut ids = column(&items, "id");
    ids.sort_unstable();
    let mut expected = vec![alice.session_id.as_str(), phone.session_id.as_str()];
    expected.sort_unstable();
    assert_eq!(ids, expected, "keys are not sessions");
    items.iter().for_each(assert_session_view);
    let me = assert_works(&app, &alice.token, "the session").await;
    assert_session_view(&me["session"]);
    let me = assert_works(&app, &ci.token, "the scoped key").await;
    assert_key_view(&me["session"], &ci, "ci", json!(["deploy", "reports:read"]));
    let me = assert_works(&app, &full.token, "the unrestricted key").await;
    assert_key_view(&me["session"], &full, "full", Value::Null);
}

#[tokio::test]
async fn revoking_my_other_sessions_keeps_the_keys() {
    let app = TestApp::new().await;
    let (alice, phone, ci, full) = alice_with_keys(&app).await;
    let res = app.delete("/api/auth/sessions", &alice.token).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    assert_eq!(res.json, json!({"revoked": 1}), "the phone only");
    assert_dead(&app, &phone.token, "the phone").await;
    assert_works(&app, &ci.token, "the scoped key").await;
    assert_works(&app, &full.token, "the unrestricted key").await;
    assert_eq!(list(&app, &alice.token).await.len(), 2);

    // The same from an unrestricted key: every session ends, the keys stay.
    let res = app.delete("/api/auth/sessions", &full.token).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    assert_eq!(res.json, json!({"revoked": 1}), "the web session");
    assert_dead(&app, &alice.token, "the web session").await;
    assert_works(&app, &ci.token, "the scoped key").await;
    assert_eq!(list(&app, &full.token).await.len(), 2);
}

#[tokio::test]
async fn logoutall_ends_every_key() {
    let app = TestApp::new().await;
    let (alice, phone, ci, full) = alice_with_keys(&app).await;
    let bob = user(&app, "bob").await;
    let bobs = named(&app, &bob.token, "ci").await;
    let res = app
        .call(
            Method::POST,
            "/api/auth/logoutall",
            Some(&phone.token),
            None,
        )
        .await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{:?}", res.json);
    for (what, token) in [
        ("web", &alice.token),
        ("phone", &phone.token),
        ("scoped key", &ci.token),
        ("unrestricted key", &full.token),
    ] {
        assert_dead(&app, token, what).await;
    }
    assert_works(&app, &bobs.token, "bob's key").await;
    let again = app.login("alice", "web").await;
    assert!(list(&app, &again.token).await.is_empty());
}

#[tokio::test]
async fn the_admins_end_all_ends_the_keys_too() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let (alice, phone, ci, full) = alice_with_keys(&app).await;
    let path = format!("/api/admin/users/{}/sessions", alice.user_id);
    let res = app.delete(&path, &admin.token).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    assert_eq!(res.json, json!({"revoked": 4}));
    for token in [&alice.token, &phone.token, &ci.token, &full.token] {
        assert_dead(&app, token, "after the admin's end-all").await;
    }
    assert!(listing(&app, &admin.token, &path).await.is_empty());
}

#[tokio::test]
async fn a_password_change_keeps_the_keys() {
    let app = TestApp::new().await;
    let (alice, phone, ci, full) = alice_with_keys(&app).await;
    let body = json!({"current_password": tests::PASSWORD, "new_password": "a brand new secret"});
    let res = app
        .post("/api/auth/password", Some(&alice.token), body)
        .await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{:?}", res.json);
    assert_dead(&app, &phone.token, "the phone").await;
    assert_works(&app, &ci.token, "the scoped key").await;
    assert_works(&app, &full.token, "the unrestricted key").await;
    assert_eq!(list(&app, &alice.token).await.len(), 2);
}
