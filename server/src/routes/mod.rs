//! HTTP routes, one module per resource: each parses the request, calls a service and maps the
//! result to a response type. Each module's `router()` is an `OpenApiRouter`, so the OpenAPI
//! document is generated from the same calls that route requests.

pub mod account;
pub mod admin_clients;
pub mod admin_keys;
pub mod admin_revocations;
pub mod admin_sessions;
pub mod admin_user_sessions;
pub mod admin_users;
pub mod apiaccess;
pub mod apikeys;
pub mod auth;
pub mod events;
pub mod forward;
pub mod openapi;
pub mod ops;
pub mod pages;
pub mod pagination;
pub mod rendered;
pub mod rfc3339;
pub mod sessions;
pub mod tokens;
pub mod views;

use crate::state::AppState;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

/// Every documented route, with the document under construction.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .merge(auth::router())
        .merge(account::router())
        .merge(sessions::router())
        .merge(apiaccess::router())
        .merge(apikeys::router())
        .merge(forward::router())
        .merge(admin_clients::router())
        .merge(admin_users::router())
        .merge(admin_user_sessions::router())
        .merge(admin_sessions::router())
        .merge(admin_revocations::router())
        .merge(admin_keys::router())
        .merge(tokens::router())
        .merge(events::router())
        .merge(ops::router())
}
