//! HTTP conventions (docs/conventions.md): error bodies, 404/405, sizes, content types, slashes, caching.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::json;
use tests::TestApp;

#[tokio::test]
async fn unknown_paths_and_wrong_methods_get_json_errors() {
    let app = TestApp::new().await;
    let res = app.call(Method::GET, "/api/nothing/here", None, None).await;
    assert_eq!(
        (res.status, res.code()),
        (StatusCode::NOT_FOUND, "not_found")
    );
    let res = app.call(Method::GET, "/api/auth/login", None, None).await;
    assert_eq!(
        (res.status, res.code()),
        (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed")
    );
    assert!(res.header("allow").contains("POST"));
    // 405 comes before authentication.
    let res = app.call(Method::PUT, "/api/auth/me", None, None).await;
    assert_eq!(res.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(res.json["detail"].is_string());
}

#[tokio::test]
async fn oversized_bodies_get_413() {
    let app = TestApp::new().await;
    let big = format!("{{\"username\": \"{}\"}}", "a".repeat(70_000));
    let res = app
        .send(
            Request::post("/api/auth/login")
                .header("content-type", "application/json")
                .body(Body::from(big.clone()))
                .unwrap(),
        )
        .await;
    assert_eq!(
        (res.status, res.code()),
        (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")
    );
    // Without a Content-Length (a chunked stream) the limit still holds.
    let stream = futures::stream::iter(
        big.into_bytes()
            .chunks(1000)
            .map(|c| Ok::<_, std::io::Error>(c.to_vec()))
            .collect::<Vec<_>>(),
    );
    let req = Request::post("/api/auth/login")
        .header("content-type", "application/json")
        .body(Body::from_stream(stream))
        .unwrap();
    let res = app.send(req).await;
    assert_eq!(
        (res.status, res.code()),
        (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")
    );
}

#[tokio::test]
async fn bad_bodies_get_4xx_not_5xx() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let send = |ct: &'static str, body: &'static [u8]| {
        Request::post("/api/admin/clients")
            .header("authorization", format!("Bearer {}", admin.token))
            .header("content-type", ct)
            .body(Body::from(body))
            .unwrap()
    };
    let cases: Vec<(Request<Body>, StatusCode, &str)> = vec![
        (
            send("application/json", b"{\"name\": "),
            StatusCode::BAD_REQUEST,
            "invalid_json",
        ),
        (
            send("application/json", b""),
            StatusCode::BAD_REQUEST,
            "invalid_json",
        ),
        (
            send("application/json", b"\xff\xfe"),
            StatusCode::BAD_REQUEST,
            "invalid_json",
        ),
        (
            send("application/json", b"[1, 2]"),
            StatusCode::BAD_REQUEST,
            "validation_error",
        ),
        (
            send("application/json", b"{\"name\": 5}"),
            StatusCode::BAD_REQUEST,
            "validation_error",
        ),
        (
            send("text/plain", b"{}"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            send("application/x-www-form-urlencoded", b"name=x"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
    ];
    for (req, status, code) in cases {
        let res = app.send(req).await;
        assert_eq!((res.status, res.code()), (status, code), "{:?}", res.json);
        assert!(res.json["detail"].is_string());
    }
    let res = app
        .send(
            Request::post("/api/auth/login")
                .body(Body::from("{}"))
                .unwrap(),
        )
        .await;
    assert_eq!(
        res.code(),
        "unsupported_media_type",
        "no content type at all"
    );
}

#[tokio::test]
async fn trailing_slashes_are_served_identically() {
    let app = TestApp::new().await;
    let user = app.user_with_login("zoe", "web").await;
    let a = app.get("/api/auth/me", &user.token).await;
    let b = app.get("/api/auth/me/", &user.token).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.json, b.json);
    assert_eq!(
        app.call(Method::GET, "/healthz/", None, None).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn every_api_response_is_no_store() {
    let app = TestApp::new().await;
    let user = app.user_with_login("amy", "web").await;
    for res in [
        app.get("/api/auth/me", &user.token).await,
        app.call(Method::GET, "/api/auth/me", None, None).await,
        app.call(Method::GET, "/api/nope", None, None).await,
        app.post("/api/auth/login", None, json!({})).await,
    ] {
        assert_eq!(res.header("cache-control"), "no-store");
    }
}

#[tokio::test]
async fn error_bodies_have_code_and_detail_only() {
    let app = TestApp::new().await;
    let res = app.call(Method::GET, "/api/auth/me", None, None).await;
    let keys: Vec<&String> = res.json.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["code", "detail"]);
    assert_eq!(res.header("content-type"), "application/json");
}
