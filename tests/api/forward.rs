//! Resource-server integration (docs/endpoints.md): forward-auth (`/api/auth/verify`) and RFC 7662
//! introspection (`/api/auth/introspect`).

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::{Value, json};
use server::Settings;
use server::token::{self, TokenKind};
use tests::{Login, TestApp, TestResponse};

const OK: StatusCode = StatusCode::OK;
const SECRET: &str = "s3cret-value";
const VERIFY: &str = "/api/auth/verify";
const X_AUTH: [&str; 4] = [
    "x-auth-user-id",
    "x-auth-username",
    "x-auth-client",
    "x-auth-session-id",
];

fn with_secret() -> Settings {
    let introspection_secret = Some(SECRET.to_string().into());
    Settings {
        introspection_secret,
        ..Default::default()
    }
}

fn assert_error(res: &TestResponse, status: StatusCode, code: &str) {
    assert_eq!(res.status, status, "{:?}", res.json);
    assert_eq!(res.code(), code);
    for name in X_AUTH {
        assert!(
            res.headers.get(name).is_none(),
            "{name} on a {} response",
            res.status
        );
    }
}

async fn introspect(app: &TestApp, caller: Option<&str>, token: &str) -> TestResponse {
    app.post("/api/auth/introspect", caller, json!({"token": token}))
        .await
}

async fn active(app: &TestApp, caller: &str, token: &str) -> Value {
    introspect(app, Some(caller), token).await.json["active"].clone()
}

/// An RFC 3339 timestamp as Unix seconds.
fn unix(expiry: &Value) -> i64 {
    let parsed = chrono::DateTime::parse_from_rfc3339(expiry.as_str().unwrap());
    parsed.unwrap().timestamp()
}

/// Alice on `client`, with her session's expiry.
async fn alice_on(app: &TestApp, client: &str) -> (Login, Value) {
    let login = app.user_with_login("alice", client).await;
    let me = app.get("/api/auth/me", &login.token).await;
    (login, me.json["session"]["expiry"].clone())
}

#[tokio::test]
async fn verify_answers_identity_in_body_and_headers() {
    let app = TestApp::new().await;
    let (alice, expiry) = alice_on(&app, "cli").await;
    assert!(expiry.is_string());
    let res = app.get(VERIFY, &alice.token).await;
    assert_eq!(res.status, OK, "{:?}", res.json);
    let expected = json!({
        "user_id": alice.user_id, "username": "alice", "client": "cli",
        "session_id": alice.session_id, "kind": "session", "scopes": null, "expiry": expiry,
    });
    assert_eq!(res.json, expected);
    assert_eq!(res.header("x-auth-kind"), "session");
    assert_eq!(res.header("x-auth-user-id"), alice.user_id.to_string());
    assert_eq!(res.header("x-auth-username"), "alice");
    assert_eq!(res.header("x-auth-client"), "cli");
    assert_eq!(res.header("x-auth-session-id"), alice.session_id);
}

#[tokio::test]
async fn verify_answers_every_method_alike() {
    let app = TestApp::new().await;
    let alice = app.user_with_login("alice", "web").await;
    let get = app.get(VERIFY, &alice.token).await;
    assert_eq!(get.status, OK);
    let methods = [
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::PATCH,
        Method::OPTIONS,
    ];
    for method in methods {
        let res = app
            .call(method.clone(), VERIFY, Some(&alice.token), None)
            .await;
        assert_eq!(res.status, OK, "{method}: {:?}", res.json);
        assert_eq!(res.json, get.json, "{method}");
        let session = res.header("x-auth-session-id");
        assert_eq!(session, alice.session_id, "{method}");
    }
    let res = app
        .call(Method::HEAD, VERIFY, Some(&alice.token), None)
        .await;
    assert_eq!(res.status, OK);
    assert_eq!(res.header("x-auth-user-id"), alice.user_id.to_string());
}

#[tokio::test]
async fn verify_without_valid_credentials_is_401_without_identity() {
    let app = TestApp::new().await;
    let res = app.call(Method::GET, VERIFY, None, None).await;
    assert_error(&res, StatusCode::UNAUTHORIZED, "not_authenticated");
    assert_eq!(res.header("www-authenticate"), "Bearer realm=\"tessera\"");

    let res = app.get(VERIFY, "tss_garbage").await;
    assert_error(&res, StatusCode::UNAUTHORIZED, "invalid_token");

    let basic = Request::get(VERIFY).header("authorization", "Basic YTpi");
    let res = app.send(basic.body(Body::empty()).unwrap()).await;
    assert_error(&res, StatusCode::UNAUTHORIZED, "not_authenticated");
}

#[tokio::test]
async fn verify_applies_allow_and_deny_lists() {
    let app = TestApp::new().await;
    let web = app.user_with_login("alice", "web").await;
    let cli = app.login("alice", "cli").await;
    let check = async |query: &str, token: &str| app.get(&format!("{VERIFY}?{query}"), token).await;

    let queries = [
        "allow_clients=web,%20mobile",
        "allow_clients=%20mobile%20,,web,",
        "deny_clients=cli",
    ];
    for query in queries {
        let res = check(query, &web.token).await;
        assert_eq!(res.status, OK, "{query}: {:?}", res.json);
        assert_eq!(res.header("x-auth-client"), "web");
        let res = check(query, &cli.token).await;
        assert_error(&res, StatusCode::FORBIDDEN, "permission_denied");
        assert!(res.header("www-authenticate").is_empty());
    }
    let res = check("deny_clients=%20cli%20,", &cli.token).await;
    assert_error(&res, StatusCode::FORBIDDEN, "permission_denied");
    let res = check("allow_clients=web,cli&deny_clients=cli", &cli.token).await;
    assert_error(&res, StatusCode::FORBIDDEN, "permission_denied");
    let res = check("allow_clients=web,cli&deny_clients=mobile", &cli.token).await;
    assert_eq!(res.status, OK);
    let res = check("allow_clients=Web", &web.token).await;
    assert_error(&res, StatusCode::FORBIDDEN, "permission_denied");
}

#[tokio::test]
async fn verify_spends_the_pair_budget() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    app.patch_client(&admin.token, "cli", json!({"throttle_rate": "2/m"}))
        .await;
    let alice = app.user_with_login("alice", "cli").await;
    assert_eq!(app.get(VERIFY, &alice.token).await.status, OK);
    assert_eq!(app.get("/api/auth/me", &alice.token).await.status, OK);
    let res = app.get(VERIFY, &alice.token).await;
    assert_error(&res, StatusCode::TOO_MANY_REQUESTS, "throttled");
    assert_eq!(res.header("retry-after"), "30");
}

#[tokio::test]
async fn introspection_describes_a_live_session_token() {
    let app = TestApp::with_settings(with_secret()).await;
    let (alice, expiry) = alice_on(&app, "cli").await;
    let res = introspect(&app, Some(SECRET), &alice.token).await;
    assert_eq!(res.status, OK, "{:?}", res.json);
    let created = unix(&app.get("/api/auth/me", &alice.token).await.json["session"]["created"]);
    let expected = json!({
        "active": true, "token_type": "Bearer", "kind": "session",
        "sub": alice.user_id.to_string(), "user_id": alice.user_id, "username": "alice",
        "client": "cli", "client_id": "cli", "session_id": alice.session_id,
        "iat": created, "exp": unix(&expiry), "auth_time": created,
    });
    assert_eq!(res.json, expected);
    assert_eq!(res.header("cache-control"), "no-store");
}

#[tokio::test]
async fn introspection_describes_an_api_key() {
    let app = TestApp::with_settings(with_secret()).await;
    let alice = app.user_with_login("alice", "web").await;
    let path = "/api/auth/apiaccess";
    let key = app.call(Method::POST, path, Some(&alice.token), None).await;
    assert_eq!(key.status, StatusCode::CREATED);
    let key = key.json["token"].as_str().unwrap().to_string();
    let session_id = app.get("/api/auth/me", &key).await.json["session"]["id"].clone();
    let res = introspect(&app, Some(SECRET), &key).await;
    assert_eq!(res.status, OK, "{:?}", res.json);
    assert_eq!(res.json["active"], true);
    assert_eq!(res.json["token_type"], "Bearer");
    assert_eq!(res.json["kind"], "api_key");
    assert_eq!(res.json["client"], "api");
    assert_eq!(res.json["client_id"], "api");
    assert_eq!(res.json["sub"], alice.user_id.to_string());
    assert_eq!(res.json["session_id"], session_id);
    assert_eq!(res.json["exp"], json!(null));
    assert_eq!(
        res.json["iat"], res.json["auth_time"],
        "a key's creation is its proof"
    );
    assert!(
        res.json.get("scope").is_none(),
        "unrestricted keys carry no scope"
    );
}

#[tokio::test]
async fn introspection_of_dead_tokens_is_exactly_active_false() {
    let app = TestApp::with_settings(with_secret()).await;
    let admin = app.admin().await;
    app.patch_client(&admin.token, "mobile", json!({"token_ttl": 60}))
        .await;
    let alice = app.user_with_login("alice", "web").await;
    let bob = app.user_with_login("bob", "web").await;
    let carol = app.user_with_login("carol", "mobile").await;
    let inactive = json!({"active": false});

    let unknown = token::reveal(&token::generate(TokenKind::Session));
    let mut bad_checksum = alice.token.clone();
    let last = if bad_checksum.ends_with('0') {
        "1"
    } else {
        "0"
    };
    bad_checksum.replace_range(41.., last);
    for dead in [
        &*unknown,
        &*bad_checksum,
        "tss_short",
        "not a token",
        "tsk_",
    ] {
        let res = introspect(&app, Some(SECRET), dead).await;
        assert_eq!(res.status, OK, "{dead}: {:?}", res.json);
        assert_eq!(res.json, inactive, "{dead}");
    }
    assert_eq!(active(&app, SECRET, &alice.token).await, true);

    let logout = app.call(Method::POST, "/api/auth/logout", Some(&alice.token), None);
    assert_eq!(logout.await.status, StatusCode::NO_CONTENT);
    let res = introspect(&app, Some(SECRET), &alice.token).await;
    assert_eq!(res.json, inactive, "revoked");

    let path = format!("/api/admin/users/{}", bob.user_id);
    let body = Some(json!({"is_active": false}));
    let res = app
        .call(Method::PATCH, &path, Some(&admin.token), body)
        .await;
    assert_eq!(res.status, OK, "{:?}", res.json);
    let res = introspect(&app, Some(SECRET), &bob.token).await;
    assert_eq!(res.json, inactive, "inactive user");

    assert_eq!(active(&app, SECRET, &carol.token).await, true);
    app.clock.advance_secs(61.0);
    let res = introspect(&app, Some(SECRET), &carol.token).await;
    assert_eq!(res.status, OK);
    assert_eq!(res.json, inactive, "expired");
    assert_eq!(res.body, b"{\"active\":false}");
}

#[tokio::test]
async fn introspection_accepts_a_form_body() {
    let app = TestApp::with_settings(with_secret()).await;
    let alice = app.user_with_login("alice", "web").await;
    let req = Request::post("/api/auth/introspect")
        .header("authorization", format!("Token {SECRET}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(format!("token={}", alice.token)));
    let res = app.send(req.unwrap()).await;
    assert_eq!(res.status, OK, "{:?}", res.json);
    assert_eq!(res.json["active"], true);
    assert_eq!(res.json["session_id"], alice.session_id);

    let path = "/api/auth/introspect";
    let res = app.post(path, Some(SECRET), json!({})).await;
    assert_error(&res, StatusCode::BAD_REQUEST, "validation_error");
    assert!(res.json["fields"]["token"].is_array(), "{:?}", res.json);
    // An empty token is a token that is not active, not a malformed request (RFC 7662).
    let res = app.post(path, Some(SECRET), json!({"token": ""})).await;
    assert_eq!(
        (res.status, res.json.clone()),
        (OK, json!({"active": false}))
    );
}

#[tokio::test]
async fn introspection_callers_need_the_secret_or_an_admin_token() {
    let app = TestApp::with_settings(with_secret()).await;
    let admin = app.admin().await;
    let alice = app.user_with_login("alice", "web").await;

    let res = introspect(&app, Some("s3cret-valuf"), &alice.token).await;
    assert_error(&res, StatusCode::UNAUTHORIZED, "invalid_token");
    assert_eq!(
        res.header("www-authenticate"),
        "Bearer realm=\"tessera\", error=\"invalid_token\""
    );
    assert!(res.json.get("active").is_none());

    let res = introspect(&app, None, &alice.token).await;
    assert_error(&res, StatusCode::UNAUTHORIZED, "not_authenticated");

    let res = introspect(&app, Some(&alice.token), &alice.token).await;
    assert_error(&res, StatusCode::FORBIDDEN, "permission_denied");

    let res = introspect(&app, Some(&admin.token), &alice.token).await;
    assert_eq!(res.status, OK, "{:?}", res.json);
    assert_eq!(res.json["active"], true);
    assert_eq!(res.json["username"], "alice");
}

#[tokio::test]
async fn admin_tokens_introspect_without_a_configured_secret() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let alice = app.user_with_login("alice", "web").await;
    assert_eq!(active(&app, &admin.token, &alice.token).await, true);
    let res = introspect(&app, Some(SECRET), &alice.token).await;
    assert_error(&res, StatusCode::UNAUTHORIZED, "invalid_token");
}

#[tokio::test]
async fn introspection_spends_no_budget() {
    let app = TestApp::with_settings(with_secret()).await;
    let admin = app.admin().await;
    app.patch_client(&admin.token, "cli", json!({"throttle_rate": "1/m"}))
        .await;
    app.patch_client(&admin.token, "web", json!({"throttle_rate": "1/m"}))
        .await;
    let alice = app.user_with_login("alice", "cli").await;
    for _ in 0..3 {
        assert_eq!(active(&app, SECRET, &alice.token).await, true);
        assert_eq!(active(&app, &admin.token, &alice.token).await, true);
    }
    let me = async || app.get("/api/auth/me", &alice.token).await;
    assert_eq!(me().await.status, OK, "the token's budget is whole");
    assert_eq!(me().await.code(), "throttled");
    let clients = async || app.get("/api/admin/clients", &admin.token).await;
    assert_eq!(clients().await.status, OK, "so is the caller's");
    assert_eq!(clients().await.code(), "throttled");
}

#[tokio::test]
async fn introspection_is_not_a_use() {
    let app = TestApp::with_settings(with_secret()).await;
    let admin = app.admin().await;
    let policy = json!({"token_ttl": 3600, "auto_renew": true});
    app.patch_client(&admin.token, "cli", policy).await;
    let alice = app.user_with_login("alice", "cli").await;
    let listing = format!("/api/admin/users/{}/sessions", alice.user_id);
    let before = app.get(&listing, &admin.token).await.json[0].clone();
    assert_eq!(before["id"], alice.session_id);
    assert_eq!(before["last_used"], before["created"]);

    app.clock.advance_secs(120.0);
    let res = introspect(&app, Some(SECRET), &alice.token).await;
    assert_eq!(res.json["exp"], unix(&before["expiry"]), "not renewed");
    let after = app.get(&listing, &admin.token).await.json[0].clone();
    assert_eq!(
        after["last_used"], before["last_used"],
        "last_used untouched"
    );
    assert_eq!(after["expiry"], before["expiry"], "no auto-renewal");

    // A real use does both, so the listing would have shown it.
    assert_eq!(app.get("/api/auth/me", &alice.token).await.status, OK);
    let used = app.get(&listing, &admin.token).await.json[0].clone();
    assert_ne!(used["last_used"], before["last_used"]);
    assert!(unix(&used["expiry"]) > unix(&before["expiry"]));
}

#[tokio::test]
async fn an_empty_allow_list_is_no_list() {
    let app = TestApp::new().await;
    let user = app.user_with_login("empty-list", "cli").await;
    for query in [
        "?allow_clients=",
        "?allow_clients=%20,%20",
        "?deny_clients=",
    ] {
        let res = app
            .get(&format!("/api/auth/verify{query}"), &user.token)
            .await;
        assert_eq!(res.status, StatusCode::OK, "{query}: {:?}", res.json);
    }
    let res = app
        .get("/api/auth/verify?allow_clients=,web,", &user.token)
        .await;
    assert_eq!(res.code(), "permission_denied");
}

#[tokio::test]
async fn rfc7009_revocation_ends_what_the_token_names_and_always_answers_200() {
    let app = TestApp::new().await;
    let alice = app.user_with_login("alice", "web").await;
    let other = app.login("alice", "web").await;
    let key = app
        .post("/api/auth/apiaccess", Some(&alice.token), json!({}))
        .await;
    let key = key.json["token"].as_str().unwrap().to_string();
    assert_eq!(app.get("/api/auth/me", &other.token).await.status, OK); // now cached
    // A session token, as JSON: it ends, and only it.
    let res = app
        .post("/api/auth/revoke", None, json!({"token": other.token}))
        .await;
    assert_eq!((res.status, res.json.clone()), (OK, json!({})));
    assert_error(
        &app.get("/api/auth/me", &other.token).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    );
    assert_eq!(app.get("/api/auth/me", &alice.token).await.status, OK);
    // An API key, as a form with a hint.
    let req = Request::post("/api/auth/revoke")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(format!(
            "token={key}&token_type_hint=access_token"
        )));
    let res = app.send(req.unwrap()).await;
    assert_eq!((res.status, res.json.clone()), (OK, json!({})));
    assert_error(
        &app.get("/api/auth/me", &key).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    );
    // Unknown, malformed, already revoked and empty tokens: the same 200 {}.
    let unknown = token::reveal(&token::generate(TokenKind::Session));
    for t in [unknown.as_str(), "tss_nope", other.token.as_str(), ""] {
        let res = app
            .post("/api/auth/revoke", None, json!({"token": t}))
            .await;
        assert_eq!((res.status, res.json.clone()), (OK, json!({})), "{t}");
    }
    // A missing field is the caller's mistake.
    let res = app.post("/api/auth/revoke", None, json!({})).await;
    assert_error(&res, StatusCode::BAD_REQUEST, "validation_error");
    assert!(res.json["fields"]["token"].is_array());
}
