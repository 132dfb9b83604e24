//! Paginated admin lists (docs/conventions.md, "Pagination"), the listing of every session,
//! and the other v2 conventions: repeated slashes and the `X-Api-Key` header.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::{Value, json};
use tests::TestApp;

fn ids(v: &Value, key: &str) -> Vec<Value> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x[key].clone())
        .collect()
}

#[tokio::test]
async fn admin_users_are_paginated_by_id_with_a_next_link() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    for name in ["ann", "bob", "cy_x", "Dan"] {
        app.create_user(name, false).await;
    }
    let first = app.get("/api/admin/users?limit=2", &admin.token).await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(ids(&first.json, "username"), [json!("root"), json!("ann")]);
    let link = first.header("link").to_string();
    assert_eq!(link, "</api/admin/users?limit=2&after=2>; rel=\"next\"");
    let next = link.trim_start_matches('<').split('>').next().unwrap();
    let second = app.get(next, &admin.token).await;
    assert_eq!(ids(&second.json, "username"), [json!("bob"), json!("cy_x")]);
    let third = app
        .get(
            &format!("/api/admin/users?limit=2&after={}", 4),
            &admin.token,
        )
        .await;
    assert_eq!(ids(&third.json, "username"), [json!("Dan")]);
    assert_eq!(third.header("link"), "", "no next page after the last");
    // A full last page has no link either.
    let all = app.get("/api/admin/users?limit=5", &admin.token).await;
    assert_eq!(all.json.as_array().unwrap().len(), 5);
    assert_eq!(all.header("link"), "");
    // `q` keeps usernames containing it, ignoring case; `_` matches itself only.
    let found = app.get("/api/admin/users?q=D", &admin.token).await;
    assert_eq!(ids(&found.json, "username"), [json!("Dan")]);
    let found = app.get("/api/admin/users?q=_", &admin.token).await;
    assert_eq!(ids(&found.json, "username"), [json!("cy_x")]);
    for bad in ["limit=0", "limit=1001", "limit=x", "after=x"] {
        let res = app
            .get(&format!("/api/admin/users?{bad}"), &admin.token)
            .await;
        assert_eq!(res.code(), "validation_error", "{bad}");
    }
}

#[tokio::test]
async fn every_session_is_listed_newest_first_with_filters() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    app.clock.advance_secs(1.0);
    let alice = app.user_with_login("alice", "cli").await;
    app.clock.advance_secs(1.0);
    let phone = app.login("alice", "mobile").await;
    app.clock.advance_secs(1.0);
    let key = app
        .post("/api/auth/apiaccess", Some(&alice.token), json!({}))
        .await;
    assert_eq!(key.status, StatusCode::CREATED);

    let all = app.get("/api/admin/sessions", &admin.token).await;
    assert_eq!(all.status, StatusCode::OK, "{:?}", all.json);
    let rows = all.json.as_array().unwrap();
    assert_eq!(rows.len(), 4, "root's, alice's two and her key");
    assert_eq!(rows[0]["kind"], "api_key", "newest first");
    assert_eq!(rows[1]["id"], json!(phone.session_id));
    assert_eq!(rows[1]["username"], "alice");
    assert_eq!(rows[1]["user_id"], json!(alice.user_id));
    assert_eq!(rows[1]["is_current"], false);

    let mine = app
        .get(
            &format!("/api/admin/sessions?user_id={}&kind=session", alice.user_id),
            &admin.token,
        )
        .await;
    assert_eq!(
        ids(&mine.json, "id"),
        [json!(phone.session_id), json!(alice.session_id)]
    );
    let on_cli = app
        .get("/api/admin/sessions?client=cli", &admin.token)
        .await;
    assert_eq!(
        ids(&on_cli.json, "id"),
        [json!(alice.session_id)],
        "{:?}",
        on_cli.json
    );
    let none = app
        .get("/api/admin/sessions?client=nope", &admin.token)
        .await;
    assert_eq!(none.json, json!([]));

    let page = app
        .get("/api/admin/sessions?limit=1&kind=session", &admin.token)
        .await;
    let link = page.header("link").to_string();
    assert_eq!(
        link,
        format!(
            "</api/admin/sessions?limit=1&kind=session&after={}>; rel=\"next\"",
            phone.session_id
        )
    );
    let next = link
        .trim_start_matches('<')
        .split('>')
        .next()
        .unwrap()
        .to_string();
    let page = app.get(&next, &admin.token).await;
    assert_eq!(ids(&page.json, "id"), [json!(alice.session_id)]);

    // A cursor that no longer exists is said to, not silently an empty page.
    app.post("/api/auth/logout", Some(&phone.token), json!({}))
        .await;
    let res = app.get(&next, &admin.token).await;
    assert_eq!(res.code(), "validation_error");
    assert!(res.json["fields"]["after"].is_array());
    let res = app
        .get("/api/admin/sessions?kind=other", &admin.token)
        .await;
    assert_eq!(res.code(), "validation_error");
    let res = app.get("/api/admin/sessions", &alice.token).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn repeated_slashes_are_served_like_single_ones() {
    let app = TestApp::new().await;
    let alice = app.user_with_login("alice", "cli").await;
    let phone = app.login("alice", "mobile").await;
    let res = app
        .delete(
            &format!("/api/auth/sessions//{}", phone.session_id),
            &alice.token,
        )
        .await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{:?}", res.json);
    assert_eq!(
        app.get("//api//auth/me/", &alice.token).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn api_keys_may_travel_in_x_api_key() {
    let app = TestApp::new().await;
    let alice = app.user_with_login("alice", "cli").await;
    let key = app
        .post("/api/auth/apiaccess", Some(&alice.token), json!({}))
        .await;
    let key = key.json["token"].as_str().unwrap().to_string();
    let with = |name: &str, value: &str| {
        Request::get("/api/auth/me")
            .header(name, value)
            .body(Body::empty())
            .unwrap()
    };
    let res = app.send(with("x-api-key", &key)).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.json["session"]["kind"], "api_key");
    // Only API keys travel there.
    let res = app.send(with("x-api-key", &alice.token)).await;
    assert_eq!(
        (res.status, res.code()),
        (StatusCode::UNAUTHORIZED, "invalid_token")
    );
    let res = app.send(with("x-api-key", "tsk_nope")).await;
    assert_eq!(res.code(), "invalid_token");
    // Authorization comes first; the other header is ignored.
    let req = Request::get("/api/auth/me")
        .header("authorization", format!("Bearer {}", alice.token))
        .header("x-api-key", "tsk_nope")
        .body(Body::empty())
        .unwrap();
    let res = app.send(req).await;
    assert_eq!(res.json["session"]["kind"], "session");
    // `Basic` is not a bearer credential: the key is used.
    let req = Request::get("/api/auth/me")
        .header("authorization", "Basic YTpi")
        .header("x-api-key", &key)
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.send(req).await.status, StatusCode::OK);
    // And forward-auth reads it too.
    let res = app
        .send(
            Request::builder()
                .method(Method::POST)
                .uri("/api/auth/verify")
                .header("x-api-key", &key)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(res.header("x-auth-kind"), "api_key");
}
