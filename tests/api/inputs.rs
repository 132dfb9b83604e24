//! Hostile and careless input (docs/conventions.md, "Validation"): NUL characters, `null` for
//! fields that cannot be null, wrong types, and bodies left unread. Every answer is a clear
//! 4xx on every database, never a 500.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::json;
use tests::{TestApp, TestResponse};

fn validation(res: &TestResponse, field: &str) {
    assert_eq!(res.status, StatusCode::BAD_REQUEST, "{:?}", res.json);
    assert_eq!(res.code(), "validation_error", "{:?}", res.json);
    assert!(
        res.json["fields"][field].is_array(),
        "{field}: {:?}",
        res.json
    );
}

#[tokio::test]
async fn nul_characters_are_a_validation_error_naming_the_field() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let login = |body| app.post("/api/auth/login", None, body);
    let res =
        login(json!({"username": "ro\u{0}ot", "password": tests::PASSWORD, "client": "web"})).await;
    validation(&res, "username");
    let res = login(json!({"username": "root", "password": tests::PASSWORD, "client": "web", "device_name": "a\u{0}b"})).await;
    validation(&res, "device_name");
    let res =
        login(json!({"username": "root", "password": tests::PASSWORD, "client": "w\u{0}eb"})).await;
    validation(&res, "client");
    // Form bodies and query strings too.
    let req = Request::post("/api/auth/login")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from("username=ro%00ot&password=x&client=web"))
        .unwrap();
    validation(&app.send(req).await, "username");
    let res = app.get("/api/admin/users?q=a%00b", &admin.token).await;
    validation(&res, "q");
    // An admin's fields.
    let res = app
        .post(
            "/api/admin/clients",
            Some(&admin.token),
            json!({"name": "ok", "description": "x\u{0}"}),
        )
        .await;
    validation(&res, "description");
    let res = app
        .post(
            "/api/admin/users",
            Some(&admin.token),
            json!({"username": "bob", "password": "long enough\u{0}"}),
        )
        .await;
    validation(&res, "password");
    // A NUL in a path is the same 404 as any unknown name.
    let res = app.get("/api/admin/clients/w%00eb", &admin.token).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    // An escaped backslash before "u0000" is not a NUL.
    let res = app
        .post(
            "/api/admin/clients",
            Some(&admin.token),
            json!({"name": "slash", "description": "\\u0000"}),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{:?}", res.json);
}

#[tokio::test]
async fn null_and_wrong_types_for_fields_that_cannot_be_null_are_refused() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let user = app.create_user("nora", false).await;
    let path = format!("/api/admin/users/{user}");
    for field in ["password", "is_active", "is_admin"] {
        let res = app
            .call(
                Method::PATCH,
                &path,
                Some(&admin.token),
                Some(json!({field: null})),
            )
            .await;
        validation(&res, field);
    }
    for field in ["description", "auto_renew", "name"] {
        let res = app
            .call(
                Method::PATCH,
                "/api/admin/clients/web",
                Some(&admin.token),
                Some(json!({field: null})),
            )
            .await;
        validation(&res, field);
    }
    let res = app
        .post(
            "/api/admin/users",
            Some(&admin.token),
            json!({"username": "x1", "password": tests::PASSWORD, "is_admin": 21}),
        )
        .await;
    validation(&res, "is_admin");
    let res = app
        .post(
            "/api/admin/users",
            Some(&admin.token),
            json!({"username": "x1", "password": tests::PASSWORD, "is_admin": null}),
        )
        .await;
    validation(&res, "is_admin");
    // Nullable fields take null.
    let res = app
        .call(
            Method::PATCH,
            "/api/admin/clients/web",
            Some(&admin.token),
            Some(json!({"token_ttl": null, "throttle_rate": null})),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    assert_eq!(res.json["token_ttl"], json!(null));
    assert!(
        res.json["created"].is_string(),
        "the client view carries created"
    );
}

/// A request rejected before its body is read (a 415, a 401) leaves the keep-alive connection
/// usable: the next request on it gets its answer.
#[tokio::test]
async fn an_unread_body_does_not_poison_the_connection() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let live = crate::live::start("keep").await;
    let address = live.base.trim_start_matches("http://").to_string();
    let mut conn = tokio::net::TcpStream::connect(&address).await.unwrap();
    let body = "x".repeat(2000);
    let requests = format!(
        "POST /api/auth/login HTTP/1.1\r\nHost: t\r\nContent-Type: text/plain\r\nContent-Length: {len}\r\n\r\n{body}\
         POST /api/admin/clients HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: {len}\r\n\r\n{body}\
         GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        len = body.len()
    );
    conn.write_all(requests.as_bytes()).await.unwrap();
    let mut answers = String::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(10),
        conn.read_to_string(&mut answers),
    )
    .await
    .expect("the server answers")
    .unwrap();
    let statuses: Vec<&str> = answers
        .match_indices("HTTP/1.1 ")
        .filter_map(|(at, _)| answers[at..].lines().next())
        .collect();
    assert_eq!(
        statuses,
        [
            "HTTP/1.1 415 Unsupported Media Type",
            "HTTP/1.1 401 Unauthorized",
            "HTTP/1.1 200 OK"
        ],
        "{answers}"
    );
}

#[tokio::test]
async fn bodies_must_be_json_objects() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    for body in ["[]", "[1,2]", "\"x\"", "3", "null", "true"] {
        let req = Request::builder()
            .method(Method::PATCH)
            .uri("/api/admin/clients/web")
            .header("authorization", format!("Bearer {}", admin.token))
            .header("content-type", "application/json")
            .body(Body::from(body))
            .unwrap();
        let res = app.send(req).await;
        validation(&res, "non_field_errors");
    }
}
