//! The two event lists: a user's own (`GET /api/auth/events`) and every event for admins
//! (`GET /api/admin/events`), newest first, paginated, with the admin filters.

use super::*;

/// Reauthenticates `login` with `password` (right or wrong).
async fn reauth(app: &TestApp, login: &Login, password: &str) -> StatusCode {
    let body = json!({"password": password});
    app.post("/api/auth/reauth", Some(&login.token), body)
        .await
        .status
}

/// Asserts that the ids strictly decrease: newest first.
fn assert_newest_first(events: &[Value]) {
    let ids = event_ids(events);
    assert!(
        ids.windows(2).all(|w| w[0] > w[1]),
        "not newest first: {ids:?}"
    );
}

#[tokio::test]
async fn my_events_are_only_mine_and_newest_first() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let alice_id = create_via_admin(&app, &admin.token, "alice", PASSWORD).await;
    let bob_id = create_via_admin(&app, &admin.token, "bob", PASSWORD).await;
    app.clock.advance_secs(1.0);
    let alice = app.login("alice", "web").await;
    let bob = app.login("bob", "web").await;
    assert_eq!(
        reauth(&app, &alice, "not the password").await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(reauth(&app, &alice, PASSWORD).await, StatusCode::OK);
    let phone = app.login("alice", "mobile").await;
    let res = app
        .call(Method::POST, "/api/auth/logout", Some(&phone.token), None)
        .await;
    assert_eq!(res.status, StatusCode::NO_CONTENT);
    assert_eq!(
        reauth(&app, &bob, "not the password").await,
        StatusCode::BAD_REQUEST
    );

    let mine = list(&app, &alice.token, EVENTS).await;
    assert_eq!(
        types(&mine),
        [
            "logout",
            "login.succeeded",
            "reauth.succeeded",
            "reauth.failed",
            "login.succeeded",
            "user.created",
        ]
    );
    assert_newest_first(&mine);
    assert!(mine.iter().all(|e| e["user_id"] == alice_id), "{mine:?}");
    assert_eq!(
        mine[5]["actor_id"],
        json!(admin.user_id),
        "the admin created her"
    );

    let his = list(&app, &bob.token, EVENTS).await;
    assert_eq!(
        types(&his),
        ["reauth.failed", "login.succeeded", "user.created"]
    );
    assert!(his.iter().all(|e| e["user_id"] == bob_id), "{his:?}");

    // The admin's own list holds what happened to the admin, not what the admin did.
    let roots = list(&app, &admin.token, EVENTS).await;
    assert!(!roots.is_empty());
    assert!(
        roots.iter().all(|e| e["user_id"] == admin.user_id),
        "{roots:?}"
    );
    assert!(types(&roots).contains(&"login.succeeded"), "{roots:?}");

    let res = app.call(Method::GET, EVENTS, None, None).await;
    assert_error(&res, StatusCode::UNAUTHORIZED, "not_authenticated");
}

#[tokio::test]
async fn my_events_come_in_pages_linked_by_the_last_event_id() {
    let app = TestApp::new().await;
    let alice = app.user_with_login("alice", "web").await;
    for _ in 0..2 {
        assert_eq!(reauth(&app, &alice, PASSWORD).await, StatusCode::OK);
        assert_eq!(
            reauth(&app, &alice, "not the password").await,
            StatusCode::BAD_REQUEST
        );
    }
    let all = list(&app, &alice.token, EVENTS).await;
    assert!(all.len() >= 5, "{all:?}");
    assert_newest_first(&all);

    let mut paged: Vec<Value> = Vec::new();
    let mut path = format!("{EVENTS}?limit=2");
    loop {
        let res = app.get(&path, &alice.token).await;
        assert_eq!(res.status, StatusCode::OK, "{path}: {:?}", res.json);
        let next = next_page(&res);
        let Value::Array(page) = res.json else {
            panic!("{path}: not a list");
        };
        assert!(page.len() <= 2, "{path}: {page:?}");
        paged.extend(page);
        match next {
            Some(next) => {
                let last = paged.last().expect("a full page before a next link");
                let cursor = format!("after={}", last["id"]);
                assert!(next.contains(&cursor), "{next} lacks {cursor}");
                assert!(next.contains("limit=2"), "{next} keeps the limit");
                path = next;
            }
            None => break,
        }
        assert!(paged.len() <= all.len(), "the pages never end");
    }
    assert_eq!(paged, all, "the pages are the whole list in order");

    // A full last page has no link; an explicit cursor starts after that event.
    let exact = app
        .get(&format!("{EVENTS}?limit={}", all.len()), &alice.token)
        .await;
    assert_eq!(exact.header("link"), "", "nothing after the last event");
    let after = format!("{EVENTS}?after={}", all[1]["id"]);
    assert_eq!(list(&app, &alice.token, &after).await, all[2..]);
}

#[tokio::test]
async fn an_out_of_range_limit_is_a_validation_error() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    for path in [EVENTS, ADMIN_EVENTS] {
        for limit in ["0", "1001"] {
            let res = app
                .get(&format!("{path}?limit={limit}"), &admin.token)
                .await;
            assert_error(&res, StatusCode::BAD_REQUEST, "validation_error");
            assert!(
                res.json["fields"]["limit"].is_array(),
                "{path}: {:?}",
                res.json
            );
        }
        let res = app.get(&format!("{path}?limit=x"), &admin.token).await;
        assert_error(&res, StatusCode::BAD_REQUEST, "validation_error");
    }
    let res = app
        .get(&format!("{ADMIN_EVENTS}?limit=1000"), &admin.token)
        .await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
}

#[tokio::test]
async fn admins_filter_events_by_user_type_and_time() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    create_via_admin(&app, &admin.token, "alice", PASSWORD).await;
    create_via_admin(&app, &admin.token, "bob", PASSWORD).await;
    let alice = app.login("alice", "web").await;
    let bob = app.login("bob", "web").await;
    assert_eq!(
        attempt(&app, "alice", "wrong one", "web").await.status,
        StatusCode::BAD_REQUEST
    );
    app.clock.advance_secs(5.0);
    let since = now_rfc3339(&app);
    app.clock.advance_secs(5.0);
    assert_eq!(
        attempt(&app, "bob", "wrong two", "web").await.status,
        StatusCode::BAD_REQUEST
    );
    app.login("alice", "cli").await;

    let every = all_events(&app, &admin.token).await;
    assert_newest_first(&every);
    assert!(every.iter().any(|e| e["user_id"] == admin.user_id));

    let path = format!("{ADMIN_EVENTS}?user_id={}", alice.user_id);
    let hers = list(&app, &admin.token, &path).await;
    let expected: Vec<&Value> = every
        .iter()
        .filter(|e| e["user_id"] == alice.user_id)
        .collect();
    assert_eq!(hers.iter().collect::<Vec<_>>(), expected);
    assert_eq!(
        types(&hers),
        [
            "login.succeeded",
            "login.failed",
            "login.succeeded",
            "user.created"
        ]
    );

    let path = format!("{ADMIN_EVENTS}?type=login.failed");
    let failed = list(&app, &admin.token, &path).await;
    assert_eq!(failed.len(), 2, "{failed:?}");
    assert!(failed.iter().all(|e| e["type"] == "login.failed"));
    assert_eq!(failed[0]["user_id"], json!(bob.user_id));
    assert_eq!(failed[1]["user_id"], json!(alice.user_id));

    let path = format!("{ADMIN_EVENTS}?since={since}");
    let recent = list(&app, &admin.token, &path).await;
    assert_eq!(
        types(&recent),
        ["login.succeeded", "login.failed"],
        "{recent:?}"
    );
    assert_eq!(recent[0]["user_id"], json!(alice.user_id));
    assert_eq!(recent[1]["user_id"], json!(bob.user_id));

    let path = format!(
        "{ADMIN_EVENTS}?user_id={}&type=login.succeeded&since={since}",
        alice.user_id
    );
    let combined = list(&app, &admin.token, &path).await;
    assert_eq!(combined.len(), 1, "{combined:?}");
    assert_fields(
        &combined[0],
        &json!({"client": "cli", "user_id": alice.user_id}),
    );

    let none = list(
        &app,
        &admin.token,
        &format!("{ADMIN_EVENTS}?type=keys.rotated"),
    )
    .await;
    assert!(none.is_empty(), "{none:?}");
    let res = app
        .get(&format!("{ADMIN_EVENTS}?since=yesterday"), &admin.token)
        .await;
    assert_error(&res, StatusCode::BAD_REQUEST, "validation_error");
}

#[tokio::test]
async fn the_admin_list_pages_with_a_next_link() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    for name in ["ann", "ben", "cat"] {
        app.user_with_login(name, "web").await;
    }
    let all = all_events(&app, &admin.token).await;
    let first = app
        .get(
            &format!("{ADMIN_EVENTS}?type=login.succeeded&limit=2"),
            &admin.token,
        )
        .await;
    assert_eq!(first.status, StatusCode::OK, "{:?}", first.json);
    let logins: Vec<&Value> = all
        .iter()
        .filter(|e| e["type"] == "login.succeeded")
        .collect();
    assert_eq!(logins.len(), 4, "root, ann, ben, cat");
    assert_eq!(
        first.json.as_array().unwrap().iter().collect::<Vec<_>>(),
        logins[..2]
    );
    let next = next_page(&first).expect("a next page");
    assert!(
        next.contains("type=login.succeeded"),
        "{next} keeps the filter"
    );
    assert!(
        next.contains(&format!("after={}", logins[1]["id"])),
        "{next}"
    );
    let second = app.get(&next, &admin.token).await;
    assert_eq!(
        second.json.as_array().unwrap().iter().collect::<Vec<_>>(),
        logins[2..]
    );
    assert_eq!(second.header("link"), "", "nothing after the last");
}

#[tokio::test]
async fn non_admins_cannot_list_every_event() {
    let app = TestApp::new().await;
    app.admin().await;
    let alice = app.user_with_login("alice", "web").await;
    for path in [
        ADMIN_EVENTS.to_string(),
        format!("{ADMIN_EVENTS}?user_id={}", alice.user_id),
    ] {
        let res = app.get(&path, &alice.token).await;
        assert_error(&res, StatusCode::FORBIDDEN, "permission_denied");
        assert_eq!(res.header("www-authenticate"), "");
    }
    let res = app.call(Method::GET, ADMIN_EVENTS, None, None).await;
    assert_error(&res, StatusCode::UNAUTHORIZED, "not_authenticated");
}
