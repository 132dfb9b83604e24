//! The direct SQLite readers (`server::store::auth_direct`): on an SQLite file the
//! authentication read runs through rusqlite, not sqlx. Both must answer exactly alike for every
//! kind of row, and a server on a file must authenticate, revoke and rotate through them.

use axum::http::{Method, StatusCode};
use serde_json::json;
use server::Settings;
use server::cache::Target;
use server::store::auth_direct::DirectReaders;
use server::token::{self, TokenDigest};
use tests::{Login, TestApp};

fn digest(token: &str) -> TokenDigest {
    token::parse(token).expect("a well-formed token").1
}

/// Every kind of row the read can meet, read both ways: a plain session, a rotated session's
/// new and retired tokens, a session whose user has a throttle override, scoped and
/// unrestricted API keys, an inactive user's session, and a digest nobody has.
#[tokio::test]
async fn direct_and_pool_reads_agree_on_every_kind_of_row() {
    let (app, file) = TestApp::on_sqlite_file(Settings::default()).await;
    let admin = app.admin().await;
    app.patch_client(&admin.token, "mobile", json!({"rotate_on_refresh": true}))
        .await;
    let alice = app.user_with_login("alice", "mobile").await;
    let res = app
        .post("/api/auth/refresh", Some(&alice.token), json!({}))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    let rotated = res.json["token"].as_str().expect("a new token").to_string();

    let bob = app.user_with_login("bob", "cli").await;
    let path = format!("/api/admin/users/{}/throttles/cli", bob.user_id);
    let res = app
        .call(
            Method::PUT,
            &path,
            Some(&admin.token),
            Some(json!({"rate": "7/m"})),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);

    let carol = app.user_with_login("carol", "web").await;
    let mut keys = Vec::new();
    for body in [
        json!({"name": "reports", "scopes": ["reports:read", "a.b-c_d"]}),
        json!({"name": "none", "scopes": []}),
        json!({"name": "all", "expires_in": 3600}),
    ] {
        let res = app
            .post("/api/auth/apikeys", Some(&carol.token), body)
            .await;
        assert_eq!(res.status, StatusCode::CREATED, "{:?}", res.json);
        keys.push(res.json["token"].as_str().unwrap().to_string());
    }

    let dave: Login = app.user_with_login("dave", "web").await;
    let res = app
        .call(
            Method::PATCH,
            &format!("/api/admin/users/{}", dave.user_id),
            Some(&admin.token),
            Some(json!({"is_active": false})),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);

    let direct = DirectReaders::open(&file.path, 1).expect("open the direct readers");
    let pool = app.state.reader.pool();
    let mut tokens = vec![
        admin.token.clone(),
        alice.token.clone(),
        rotated,
        bob.token.clone(),
        carol.token.clone(),
        dave.token.clone(),
    ];
    tokens.extend(keys);
    let mut found = 0;
    for token in &tokens {
        let d = digest(token);
        let by_pool = server::store::auth::authenticate(pool, &d)
            .await
            .expect("pool read");
        let by_direct = direct.authenticate(&d).expect("direct read");
        assert_eq!(format!("{by_direct:?}"), format!("{by_pool:?}"), "{token}");
        found += usize::from(by_direct.is_some());
    }
    // Dave's session may be gone with his deactivation; every other token has a row.
    assert!(found >= tokens.len() - 1, "{found} of {}", tokens.len());

    // The retired token is found through the previous digest, with its grace window.
    let retired = direct.authenticate(&digest(&alice.token)).unwrap().unwrap();
    assert!(retired.retired_until.is_some());
    // The override replaces the client's rate; the scopes come back as stored.
    let bob_record = direct.authenticate(&digest(&bob.token)).unwrap().unwrap();
    assert_eq!(
        bob_record.rate.map(|r| r.to_string()).as_deref(),
        Some("7/m")
    );
    let key = direct.authenticate(&digest(&tokens[6])).unwrap().unwrap();
    let scopes = key.session.scopes.expect("a scoped key");
    assert!(
        scopes.contains(&"reports:read".to_string()) && scopes.contains(&"a.b-c_d".to_string()),
        "{scopes:?}"
    );

    let nobody = digest(&token::reveal(&token::generate(token::TokenKind::Session)));
    assert!(direct.authenticate(&nobody).unwrap().is_none());
    assert!(
        server::store::auth::authenticate(pool, &nobody)
            .await
            .unwrap()
            .is_none()
    );
}

/// With the cache emptied before every request, each authentication is a direct read: a
/// logout, a revocation and a rotation are seen at once.
#[tokio::test]
async fn a_file_database_authenticates_revokes_and_rotates_through_the_direct_read() {
    let (app, _file) = TestApp::on_sqlite_file(Settings::default()).await;
    let cold = |app: &TestApp| app.state.cache.invalidate(&Target::All);
    let admin = app.admin().await;
    app.patch_client(&admin.token, "mobile", json!({"rotate_on_refresh": true}))
        .await;

    let alice = app.user_with_login("alice", "cli").await;
    cold(&app);
    let res = app.get("/api/auth/me", &alice.token).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    assert_eq!(res.json["user"]["username"], "alice");
    let res = app
        .post("/api/auth/logout", Some(&alice.token), json!({}))
        .await;
    assert_eq!(res.status, StatusCode::NO_CONTENT);
    cold(&app);
    let res = app.get("/api/auth/me", &alice.token).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);

    let bob = app.user_with_login("bob", "mobile").await;
    let res = app
        .post("/api/auth/refresh", Some(&bob.token), json!({}))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    let new = res.json["token"].as_str().unwrap().to_string();
    cold(&app);
    // Inside the grace window the old token still works.
    assert_eq!(
        app.get("/api/auth/me", &bob.token).await.status,
        StatusCode::OK
    );
    cold(&app);
    assert_eq!(app.get("/api/auth/me", &new).await.status, StatusCode::OK);
    // After it, the old token is theft: the session ends for both tokens.
    app.clock.advance_secs(3600.0);
    cold(&app);
    let res = app.get("/api/auth/me", &bob.token).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    cold(&app);
    assert_eq!(
        app.get("/api/auth/me", &new).await.status,
        StatusCode::UNAUTHORIZED
    );

    // An admin revocation is seen by the next direct read.
    let carol = app.user_with_login("carol", "web").await;
    let res = app
        .delete(
            &format!("/api/admin/users/{}/sessions", carol.user_id),
            &admin.token,
        )
        .await;
    assert!(res.status.is_success(), "{:?}", res.json);
    cold(&app);
    assert_eq!(
        app.get("/api/auth/me", &carol.token).await.status,
        StatusCode::UNAUTHORIZED
    );
}
