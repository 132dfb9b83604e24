//! What an event is and is not: its fields, no secret in any event, no event for a change that
//! did not happen, and the per-type counter in `/metrics`.

use super::*;

/// The value of `tessera_events_total{type="<kind>"}` in `/metrics` (0 when absent).
async fn events_total(app: &TestApp, kind: &str) -> u64 {
    let res = app.call(Method::GET, "/metrics", None, None).await;
    assert_eq!(res.status, StatusCode::OK);
    let text = String::from_utf8(res.body).expect("UTF-8 metrics");
    let series = format!("tessera_events_total{{type=\"{kind}\"}} ");
    text.lines()
        .find_map(|line| line.strip_prefix(series.as_str()))
        .map_or(0, |value| {
            let value = value.trim();
            value
                .parse::<u64>()
                .or_else(|_| value.parse::<f64>().map(|v| v as u64))
                .unwrap_or_else(|_| panic!("not a count: {value}"))
        })
}

#[tokio::test]
async fn an_event_has_exactly_the_documented_fields() {
    let app = TestApp::new().await;
    let alice = app.user_with_login("alice", "web").await;
    app.clock.advance_secs(7.5);
    let res = app
        .call(Method::POST, "/api/auth/logout", Some(&alice.token), None)
        .await;
    assert_eq!(res.status, StatusCode::NO_CONTENT);
    let when = server::clock::to_datetime(app.clock.now_micros());
    let other = app.login("alice", "web").await;

    let res = app.get(EVENTS, &other.token).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    assert_eq!(res.header("cache-control"), "no-store");
    let events = res.json.as_array().expect("a list");
    let logout = events
        .iter()
        .find(|e| e["type"] == "logout")
        .unwrap_or_else(|| panic!("no logout: {events:?}"));
    let mut keys: Vec<&str> = logout
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "actor_id",
            "client",
            "detail",
            "id",
            "ip",
            "session_id",
            "time",
            "type",
            "user_agent",
            "user_id",
            "username",
        ]
    );
    assert!(logout["id"].is_i64(), "{logout}");
    let time = logout["time"].as_str().expect("a time");
    assert!(time.ends_with('Z'), "{time}");
    let parsed = chrono::DateTime::parse_from_rfc3339(time).unwrap().to_utc();
    assert_eq!(parsed, when, "the event's time is the server's clock");
    assert_eq!(
        logout["detail"],
        json!({}),
        "detail is {{}} when there is none"
    );
}

#[tokio::test]
async fn no_event_carries_a_token_digest_or_password() {
    let settings = Settings {
        signup_open: true,
        ..Settings::default()
    };
    let app = TestApp::with_settings(settings).await;
    let admin = app.admin().await;
    let mut tokens = vec![admin.token.clone()];
    let mut secrets: Vec<String> = vec![PASSWORD.into(), NEW_PASSWORD.into()];

    let alice = app.user_with_login("alice", "web").await;
    tokens.push(alice.token.clone());
    let res = attempt(&app, "alice", PASSWORD, "cli").await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    tokens.push(res.json["token"].as_str().unwrap().to_string());
    secrets.push(
        res.json["device_proof"]
            .as_str()
            .expect("a device proof")
            .into(),
    );
    let wrong = "a wrong guess 1234";
    secrets.push(wrong.into());
    assert_eq!(
        attempt(&app, "alice", wrong, "web").await.status,
        StatusCode::BAD_REQUEST
    );
    let key = api_key(&app, &alice.token).await;
    tokens.push(key.clone());
    assert_eq!(app.get("/api/auth/me", &key).await.status, StatusCode::OK);

    for password in ["a wrong reauth 5678", PASSWORD] {
        let body = json!({"password": password});
        app.post("/api/auth/reauth", Some(&alice.token), body).await;
    }
    secrets.push("a wrong reauth 5678".into());
    let change = json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD});
    let res = app
        .post("/api/auth/password", Some(&alice.token), change)
        .await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{:?}", res.json);
    let res = attempt(&app, "alice", NEW_PASSWORD, "mobile").await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    tokens.push(res.json["token"].as_str().unwrap().to_string());

    let by_admin = "set by the admin 9012";
    let patched = "patched by the admin 3456";
    let signed_up = "chosen at sign-up 7890";
    secrets.extend([by_admin, patched, signed_up].map(String::from));
    let uma = create_via_admin(&app, &admin.token, "uma", by_admin).await;
    let path = format!("/api/admin/users/{uma}");
    let res = patch(&app, &admin.token, &path, json!({"password": patched})).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    let body = json!({"username": "zoe", "password": signed_up});
    let res = app.post("/api/auth/signup", None, body).await;
    assert_eq!(res.status, StatusCode::CREATED, "{:?}", res.json);
    let res = app
        .post("/api/auth/revoke", None, json!({"token": key}))
        .await;
    assert_eq!(res.status, StatusCode::OK);

    let res = app
        .get(&format!("{ADMIN_EVENTS}?limit=1000"), &admin.token)
        .await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    let count = res.json.as_array().map_or(0, Vec::len);
    assert!(
        count >= 12,
        "the scenario recorded its events: {:?}",
        res.json
    );
    let mut bodies = vec![String::from_utf8(res.body).unwrap()];
    let mine = app.get(EVENTS, &alice.token).await;
    assert_eq!(mine.status, StatusCode::OK, "{:?}", mine.json);
    bodies.push(String::from_utf8(mine.body).unwrap());

    for body in &bodies {
        for token in &tokens {
            let (_, digest) = server::token::parse(token).expect("a well-formed token");
            assert!(!body.contains(token.as_str()), "a token leaked: {body}");
            assert!(!body.contains(digest.as_str()), "a digest leaked: {body}");
            // Not even the random part alone.
            assert!(!body.contains(&token[4..36]), "a token leaked: {body}");
        }
        for secret in &secrets {
            assert!(!body.contains(secret.as_str()), "{secret:?} leaked: {body}");
        }
    }
}

#[tokio::test]
async fn a_refused_user_creation_records_no_event() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let id = create_via_admin(&app, &admin.token, "uma", "long enough").await;
    let before = all_events(&app, &admin.token).await;
    let body = json!({"username": "uma", "password": "another one"});
    let res = app.post("/api/admin/users", Some(&admin.token), body).await;
    assert_error(&res, StatusCode::CONFLICT, "conflict");
    let body = json!({"username": "bad name!", "password": "x"});
    let res = app.post("/api/admin/users", Some(&admin.token), body).await;
    assert_error(&res, StatusCode::BAD_REQUEST, "validation_error");
    assert_eq!(all_events(&app, &admin.token).await, before);
    one(&app, &admin.token, "user.created", &json!(id)).await;
}

#[tokio::test]
async fn a_refused_change_to_the_last_admin_records_no_event() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let before = all_events(&app, &admin.token).await;
    let path = format!("/api/admin/users/{}", admin.user_id);
    for body in [json!({"is_admin": false}), json!({"is_active": false})] {
        let res = patch(&app, &admin.token, &path, body).await;
        assert_error(&res, StatusCode::CONFLICT, "conflict");
    }
    let res = app.delete(&path, &admin.token).await;
    assert_error(&res, StatusCode::CONFLICT, "conflict");
    let after = all_events(&app, &admin.token).await;
    assert_eq!(after, before, "no user.updated or user.deleted");
    assert_eq!(
        app.get(&path, &admin.token).await.json["is_admin"],
        true,
        "nothing changed"
    );
}

#[tokio::test]
async fn refused_client_and_session_changes_record_no_event() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let alice = app.user_with_login("alice", "web").await;
    let before = all_events(&app, &admin.token).await;

    let res = app
        .post(
            "/api/admin/clients",
            Some(&admin.token),
            json!({"name": "web"}),
        )
        .await;
    assert_error(&res, StatusCode::CONFLICT, "conflict");
    let res = patch(
        &app,
        &admin.token,
        "/api/admin/clients/nope",
        json!({"description": "x"}),
    )
    .await;
    assert_error(&res, StatusCode::NOT_FOUND, "not_found");
    let res = app.delete("/api/admin/clients/nope", &admin.token).await;
    assert_error(&res, StatusCode::NOT_FOUND, "not_found");
    let unknown = uuid::Uuid::new_v4();
    let res = app
        .delete(&format!("/api/auth/sessions/{unknown}"), &alice.token)
        .await;
    assert_error(&res, StatusCode::NOT_FOUND, "not_found");
    let res = app
        .delete(
            &format!("/api/auth/sessions/{}", admin.session_id),
            &alice.token,
        )
        .await;
    assert_error(&res, StatusCode::NOT_FOUND, "not_found");
    let res = app
        .call(
            Method::PUT,
            &format!("/api/admin/users/{}/throttles/nope", alice.user_id),
            Some(&admin.token),
            Some(json!({"rate": "5/m"})),
        )
        .await;
    assert_error(&res, StatusCode::NOT_FOUND, "not_found");
    let res = app
        .post("/api/admin/revocations", Some(&admin.token), json!({}))
        .await;
    assert_error(&res, StatusCode::BAD_REQUEST, "validation_error");

    assert_eq!(all_events(&app, &admin.token).await, before);
    assert_eq!(
        app.get("/api/auth/me", &admin.token).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn each_event_counts_in_the_metrics_by_type() {
    let app = TestApp::new().await;
    app.create_user("alice", false).await;
    let logins = events_total(&app, "login.succeeded").await;
    let failures = events_total(&app, "login.failed").await;
    app.login("alice", "web").await;
    assert_eq!(events_total(&app, "login.succeeded").await, logins + 1);
    app.login("alice", "cli").await;
    assert_eq!(events_total(&app, "login.succeeded").await, logins + 2);
    assert_eq!(events_total(&app, "login.failed").await, failures);
    let res = attempt(&app, "alice", "not the password", "web").await;
    assert_error(&res, StatusCode::BAD_REQUEST, "invalid_credentials");
    assert_eq!(events_total(&app, "login.failed").await, failures + 1);
}
