//! Cross-cutting HTTP behaviour: metrics, `Cache-Control`, the `RateLimit` fields, the body
//! limit, and path normalisation (docs/conventions.md).

use crate::cookies::ResponseNotes;
use crate::error::AppError;
use crate::extract::BODY_LIMIT;
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::time::Instant;

/// Records metrics and sets the headers every `/api/` response carries.
pub async fn track(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string());
    let is_api = req.uri().path().starts_with("/api/");
    let notes = ResponseNotes::default();
    req.extensions_mut().insert(notes.clone());
    // What security events record about this request (see crate::context).
    let peer = req
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    let context = crate::context::RequestContext::new(
        crate::net::client_ip(peer, req.headers(), &state.settings.trusted_proxies),
        req.headers().get(header::USER_AGENT).cloned(),
    );

    let mut response = crate::context::scope(context, async move {
        match buffer_body(req).await {
            Ok(req) => next.run(req).await,
            Err(refused) => refused,
        }
    })
    .await;

    let status = response.status();
    let headers = response.headers_mut();
    if is_api {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    notes.write_cookies(headers);
    if let Some(a) = notes.allowance() {
        let policy = format!("\"client\";q={};w={}", a.limit, a.window_secs);
        let left = format!("\"client\";r={};t={}", a.remaining, a.next_secs);
        if let (Ok(policy), Ok(left)) =
            (HeaderValue::from_str(&policy), HeaderValue::from_str(&left))
        {
            headers.insert("ratelimit-policy", policy);
            headers.insert("ratelimit", left);
        }
    }
    let route = route.as_deref().unwrap_or("unmatched");
    state.metrics.observe_request(
        method.as_str(),
        route,
        status.as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

/// Reads a request's whole body (at most [`BODY_LIMIT`] bytes) before routing it on. Every
/// route reads its body anyway; reading it here also means a request rejected before its body
/// was looked at (a 401, a 415) never leaves unread bytes on a keep-alive connection, where the
/// server would otherwise have to close it under the client's next request.
async fn buffer_body(req: Request) -> Result<Request, Response> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let chunked = req.headers().contains_key(header::TRANSFER_ENCODING);
    if declared.is_none_or(|n| n == 0) && !chunked {
        return Ok(req);
    }
    let too_large = || {
        let mut res = AppError::PayloadTooLarge.into_response();
        // The rest of the body stays unread: the connection cannot carry another request.
        res.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        res
    };
    if declared.is_some_and(|n| n > BODY_LIMIT as u64) {
        return Err(too_large());
    }
    let (parts, body) = req.into_parts();
    match axum::body::to_bytes(body, BODY_LIMIT).await {
        Ok(bytes) => Ok(Request::from_parts(parts, Body::from(bytes))),
        Err(err)
            if std::error::Error::source(&err)
                .is_some_and(|s| s.is::<http_body_util::LengthLimitError>()) =>
        {
            Err(too_large())
        }
        Err(err) if is_timeout(&err) => {
            let mut res = AppError::RequestTimeout.into_response();
            res.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            Err(res)
        }
        // Any other failure to read is the client's doing (a broken upload).
        Err(_) => Err(
            AppError::bad_request("invalid_body", "The request body could not be read.")
                .into_response(),
        ),
    }
}

/// Whether a body read failed because the body stopped arriving (the body timeout).
fn is_timeout(err: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(err);
    while let Some(e) = source {
        if e.is::<tower_http::timeout::TimeoutError>() {
            return true;
        }
        source = e.source();
    }
    false
}

/// Serves a path with repeated slashes like the path with single ones, and a path with a
/// trailing slash like the one without (not `/` itself, nor under `/docs`, whose assets live
/// below `/docs/`): Durin clients send `login/` and `sessions//{id}`.
pub fn normalise_path(mut req: Request<Body>) -> Request<Body> {
    let path = req.uri().path();
    let needs = path.contains("//") || (path.len() > 1 && path.ends_with('/'));
    if !needs {
        return req;
    }
    let mut clean = String::with_capacity(path.len());
    for c in path.chars() {
        if !(c == '/' && clean.ends_with('/')) {
            clean.push(c);
        }
    }
    if clean.len() > 1 && clean.ends_with('/') && !clean.starts_with("/docs") {
        clean.pop();
    }
    let rebuilt = match req.uri().query() {
        Some(q) => format!("{clean}?{q}"),
        None => clean,
    };
    if let Ok(uri) = rebuilt.parse::<Uri>() {
        *req.uri_mut() = uri;
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

#[cfg(test)]
mod tests {
    use super::normalise_path;
    use axum::body::Body;
    use axum::http::Request;

    fn path(p: &str) -> String {
        let req = Request::builder().uri(p).body(Body::empty()).unwrap();
        normalise_path(req).uri().to_string()
    }

    #[test]
    fn slashes() {
        assert_eq!(path("/api/auth/login/"), "/api/auth/login");
        assert_eq!(path("/api/auth/sessions//abc"), "/api/auth/sessions/abc");
        assert_eq!(path("//api///auth/me/?x=1"), "/api/auth/me?x=1");
        assert_eq!(path("/"), "/");
        assert_eq!(path("/docs/"), "/docs/");
    }
}
