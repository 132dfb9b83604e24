//! Tessera: a per-device token and session server. The reference is `docs/` in the repository.
//!
//! [`app`] builds the HTTP application from an [`AppState`] without any I/O; [`openapi`] returns
//! the OpenAPI document without a database; [`startup::Application`] binds, runs the background
//! tasks and serves until told to stop. Layers, top to bottom (imports only point down):
//! `routes` → `authn` (one [`principal::Principal`]) → `service` (the only writers) → `store`
//! and the pure domain modules (`policy`, `rules`, `token`, `gcra`, `principal`), with the
//! infrastructure (`cache`, `budget`, `bus`, `touches`, `purge`, `metrics`) chosen once in
//! `startup`.

pub mod authn;
pub mod budget;
pub mod bus;
pub mod cache;
pub mod cli;
pub mod clock;
pub mod config;
pub mod context;
pub mod cookies;
pub mod db;
pub mod error;
pub mod extract;
pub mod gcra;
pub mod jwt;
pub mod keyring;
pub mod metrics;
pub mod middleware;
pub mod net;
pub mod password;
pub mod policy;
pub mod principal;
pub mod purge;
pub mod redis_budget;
pub mod routes;
pub mod rules;
pub mod scopes;
pub mod secret;
pub mod serve;
pub mod service;
pub mod startup;
pub mod state;
pub mod store;
pub mod token;
pub mod touches;

use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::http::HeaderName;
use error::AppError;
use state::AppState;
use std::sync::atomic::{AtomicU64, Ordering};
use tower::ServiceBuilder;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use utoipa_swagger_ui::SwaggerUi;

pub use config::Settings;

static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Request ids: this process's random prefix and a counter (cheaper than a UUID per request,
/// and still unique across instances in practice). A proxy's own `X-Request-Id` is kept.
#[derive(Clone)]
struct Counter(&'static str);

impl MakeRequestId for Counter {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        format!("{}-{n}", self.0).parse().ok().map(RequestId::new)
    }
}

fn process_prefix() -> &'static str {
    static PREFIX: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    PREFIX.get_or_init(|| {
        let mut bytes = [0u8; 4];
        let _ = getrandom::fill(&mut bytes);
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    })
}

/// One log line per request: method, matched route (never the raw path, which may hold ids),
/// status, latency and request id. Never a header, so never a token.
fn request_span(req: &Request) -> tracing::Span {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str);
    let id = req
        .headers()
        .get(&X_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    tracing::info_span!("request", method = %req.method(), route, request_id = id)
}

/// The whole HTTP application over `state`.
pub fn app(state: AppState) -> Router {
    let (router, api) = routes::router().split_for_parts();
    let api = routes::openapi::finish(api);
    let router = router
        .merge(routes::pages::router())
        .merge(SwaggerUi::new("/docs").url("/openapi.json", api))
        .method_not_allowed_fallback(|| async { AppError::MethodNotAllowed })
        .fallback(|| async { AppError::NotFound })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::track,
        ))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_request(())
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO))
                .on_failure(()),
        )
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            middleware::panic_response,
        ))
        // A body that stops arriving is cut off (its reader answers 408).
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
            serve::BODY_TIMEOUT,
        ))
        .with_state(state);
    // Paths are normalised before routing, so `login/` and `sessions//{id}` (as Durin clients
    // send them) reach their routes.
    Router::new().fallback_service(
        ServiceBuilder::new()
            .layer(SetRequestIdLayer::new(
                X_REQUEST_ID.clone(),
                Counter(process_prefix()),
            ))
            .layer(PropagateRequestIdLayer::new(X_REQUEST_ID.clone()))
            .map_request(middleware::normalise_path)
            .service(router),
    )
}

/// The OpenAPI document generated from the handlers.
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes::openapi::finish(routes::router().split_for_parts().1)
}
