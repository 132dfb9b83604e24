//! HTTP routes, one module per resource, and the OpenAPI document they generate.

pub mod admin_clients;
pub mod admin_user_sessions;
pub mod admin_users;
pub mod apiaccess;
pub mod auth;
pub mod forward;
pub mod ops;
pub mod sessions;
pub mod validation;
pub mod views;

use crate::error::ErrorBody;
use crate::state::AppState;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

/// Tag of the token lifecycle.
pub const TAG_AUTH: &str = "auth";
/// Tag of session management and API keys.
pub const TAG_SESSIONS: &str = "sessions";
/// Tag of forward-auth and introspection.
pub const TAG_INTEGRATION: &str = "integration";
/// Tag of the admin API.
pub const TAG_ADMIN: &str = "admin";
/// Tag of health and metrics.
pub const TAG_OPS: &str = "operations";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tessera",
        description = "Per-device tokens and sessions: login, renewal, session management, API keys, \
                       forward-auth and introspection. Use **Authorize** with a token from `POST /api/auth/login`."
    ),
    modifiers(&SecurityAddon),
    components(schemas(ErrorBody)),
    tags(
        (name = TAG_AUTH, description = "Log in, renew, log out"),
        (name = TAG_SESSIONS, description = "Your devices and your API key"),
        (name = TAG_INTEGRATION, description = "For reverse proxies and other services"),
        (name = TAG_ADMIN, description = "Users, clients and throttles (admins only)"),
        (name = TAG_OPS, description = "Health and metrics"),
    )
)]
struct ApiDoc;

struct SecurityAddon;

impl Modify for SecurityAddon {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A token from login (`tss_…`) or an API key (`tsk_…`).",
                    ))
                    .build(),
            ),
        );
    }
}

/// Every documented route, with the document under construction.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(auth::router())
        .merge(sessions::router())
        .merge(apiaccess::router())
        .merge(forward::router())
        .merge(admin_clients::router())
        .merge(admin_users::router())
        .merge(admin_user_sessions::router())
        .merge(ops::router())
}
