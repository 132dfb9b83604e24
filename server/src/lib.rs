//! Tessera: a per-device token and session server.
//!
//! [`app`] builds the HTTP application from an [`AppState`] without any I/O; [`openapi`] returns
//! the OpenAPI document without a database. The `tessera` binary wires both to configuration.

pub mod auth;
pub mod cache;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod error;
pub mod extract;
pub mod metrics;
pub mod middleware;
pub mod net;
pub mod notify;
pub mod password;
pub mod policy;
pub mod purge;
pub mod redis_budget;
pub mod routes;
pub mod state;
pub mod store;
pub mod throttle;
pub mod token;
pub mod touches;

use axum::Router;
use error::AppError;
use state::AppState;
use tower::ServiceBuilder;
use utoipa_swagger_ui::SwaggerUi;

pub use state::Settings;

/// The whole HTTP application over `state`.
pub fn app(state: AppState) -> Router {
    let (router, api) = routes::router().split_for_parts();
    let router = router
        .route("/api/auth/verify", routes::forward::verify_other_methods())
        .merge(SwaggerUi::new("/docs").url("/openapi.json", api))
        .method_not_allowed_fallback(|| async { AppError::MethodNotAllowed })
        .fallback(|| async { AppError::NotFound })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::track,
        ))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            middleware::panic_response,
        ))
        .with_state(state);
    // Trailing slashes are trimmed before routing, so `login/` (as Durin clients send it) is
    // served by the `login` route.
    Router::new().fallback_service(
        ServiceBuilder::new()
            .map_request(middleware::trim_trailing_slash)
            .service(router),
    )
}

/// The OpenAPI document generated from the handlers.
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes::router().split_for_parts().1
}
