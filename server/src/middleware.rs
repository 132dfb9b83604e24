//! Cross-cutting HTTP behaviour: metrics, `Cache-Control`, `RateLimit-*`, size limits, slashes.

use crate::auth::AllowanceSlot;
use crate::error::AppError;
use crate::extract::BODY_LIMIT;
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::time::Instant;

/// Records metrics and sets the headers every `/api/` response carries.
pub async fn track(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().as_str().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string());
    let is_api = req.uri().path().starts_with("/api/");
    let slot = AllowanceSlot::default();
    req.extensions_mut().insert(slot.clone());

    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let mut response = if declared.is_some_and(|n| n > BODY_LIMIT as u64) {
        AppError::PayloadTooLarge.into_response()
    } else {
        next.run(req).await
    };

    let status = response.status();
    let headers = response.headers_mut();
    if is_api {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    let allowance = *slot.0.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(a) = allowance {
        headers.insert("ratelimit-limit", HeaderValue::from(a.limit));
        headers.insert("ratelimit-remaining", HeaderValue::from(a.remaining));
        headers.insert("ratelimit-reset", HeaderValue::from(a.reset_secs));
    } else if status == StatusCode::TOO_MANY_REQUESTS {
        headers.insert("ratelimit-remaining", HeaderValue::from(0));
    }
    let route = route.as_deref().unwrap_or("unmatched");
    state.metrics.observe_request(
        &method,
        route,
        status.as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

/// Removes one trailing slash from the path (not from `/` itself, nor under `/docs`, whose
/// assets live below `/docs/`).
pub fn trim_trailing_slash(mut req: Request<Body>) -> Request<Body> {
    let path = req.uri().path();
    if path.len() > 1 && path.ends_with('/') && !path.starts_with("/docs") {
        let trimmed = &path[..path.len() - 1];
        let rebuilt = match req.uri().query() {
            Some(q) => format!("{trimmed}?{q}"),
            None => trimmed.to_string(),
        };
        if let Ok(uri) = rebuilt.parse::<Uri>() {
            *req.uri_mut() = uri;
        }
    }
    req
}

/// A panic is a bug: log it and answer the generic 500 body.
pub fn panic_response(err: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let detail = err
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| err.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    AppError::Internal(anyhow::anyhow!("handler panicked: {detail}")).into_response()
}
