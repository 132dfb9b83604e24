//! The OpenAPI document tells the truth (docs/conventions.md): every operation declares every
//! status its extractors can answer, with the codes possible at each, and the document is
//! checked against the running routes, not only against itself.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::Value;
use std::collections::BTreeSet;
use tests::TestApp;

fn document() -> Value {
    serde_json::to_value(server::openapi()).unwrap()
}

/// (method, path, operation) of every operation.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if ["get", "put", "post", "delete", "patch", "options", "head"]
                .contains(&method.as_str())
            {
                out.push((method.clone(), path.clone(), op.clone()));
            }
        }
    }
    out
}

fn schemes(op: &Value) -> Vec<String> {
    op["security"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .flat_map(|o| o.keys().cloned())
        .collect()
}

fn codes(op: &Value, status: &str) -> BTreeSet<String> {
    op["responses"][status]["content"]["application/json"]["examples"]
        .as_object()
        .map(|e| e.keys().cloned().collect())
        .unwrap_or_default()
}

#[test]
fn every_operation_declares_what_its_extractors_answer() {
    let doc = document();
    let mut ids = BTreeSet::new();
    for (method, path, op) in operations(&doc) {
        let at = format!("{method} {path}");
        assert!(
            ids.insert(op["operationId"].as_str().unwrap_or("").to_string()),
            "duplicate operationId at {at}"
        );
        assert!(
            op["summary"].as_str().is_some_and(|s| !s.is_empty()),
            "{at} has no summary"
        );
        let schemes = schemes(&op);
        if schemes.iter().any(|s| s == "bearer") {
            let c = codes(&op, "401");
            for code in [
                "not_authenticated",
                "invalid_header",
                "invalid_token",
                "token_expired",
            ] {
                assert!(c.contains(code), "{at}: 401 lacks {code}");
            }
            assert!(codes(&op, "429").contains("throttled"), "{at}: no 429");
        }
        if path.starts_with("/api/admin/") {
            assert!(
                codes(&op, "403").contains("permission_denied"),
                "{at}: no 403"
            );
        }
        if op.get("requestBody").is_some() {
            assert!(
                codes(&op, "400").contains("invalid_json"),
                "{at}: no 400 invalid_json"
            );
            assert!(
                codes(&op, "400").contains("validation_error"),
                "{at}: no 400 validation_error"
            );
            assert!(
                codes(&op, "413").contains("payload_too_large"),
                "{at}: no 413"
            );
            assert!(
                codes(&op, "415").contains("unsupported_media_type"),
                "{at}: no 415"
            );
        }
        for (status, response) in op["responses"].as_object().unwrap() {
            if status.starts_with('4') || status.starts_with('5') {
                let examples = &response["content"]["application/json"]["examples"];
                assert!(
                    examples.as_object().is_some_and(|e| !e.is_empty()),
                    "{at} {status}: no examples"
                );
            }
        }
    }
}

#[test]
fn the_document_has_no_placeholder_names_and_a_licence() {
    let doc = document();
    assert!(doc["info"]["license"]["name"].as_str().is_some());
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    assert!(
        !schemas.contains_key("BTreeMap"),
        "a schema is named BTreeMap"
    );
    // verify's filters are query parameters (Swagger UI could not run it as path parameters),
    // and every method it answers is documented.
    let verify = &doc["paths"]["/api/auth/verify"];
    for method in ["get", "post", "put", "patch", "delete", "options"] {
        assert!(verify.get(method).is_some(), "verify lacks {method}");
    }
    for p in verify["get"]["parameters"].as_array().unwrap() {
        assert_eq!(p["in"], "query", "{p}");
        assert_eq!(p["required"], false, "{p}");
    }
    // Examples are realistic: the token examples are well-formed tokens.
    let text = doc.to_string();
    for token in text
        .split('"')
        .filter(|s| s.starts_with("tss_") || s.starts_with("tsk_"))
    {
        if token.len() == 42 {
            assert!(
                server::token::parse(token).is_some(),
                "example token {token} has a bad checksum"
            );
        }
    }
}

/// Every operation that declares a bearer credential answers 401 without one: the document
/// and the extractors cannot drift apart.
#[tokio::test]
async fn declared_credentials_are_really_required() {
    let app = TestApp::new().await;
    for (method, path, op) in operations(&document()) {
        if !schemes(&op)
            .iter()
            .any(|s| s == "bearer" || s == "introspection")
        {
            continue;
        }
        let uri = path
            .replace("{id}", "1")
            .replace("{name}", "web")
            .replace("{client}", "web");
        let method: Method = method.to_uppercase().parse().unwrap();
        let req = Request::builder()
            .method(method.clone())
            .uri(&uri)
            .header("content-type", "application/json")
            .body(Body::from("{}"))
            .unwrap();
        let res = app.send(req).await;
        assert_eq!(
            res.status,
            StatusCode::UNAUTHORIZED,
            "{method} {uri}: {:?}",
            res.json
        );
        assert_eq!(res.code(), "not_authenticated", "{method} {uri}");
    }
}
