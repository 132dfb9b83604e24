//! The v1 "Get API key" endpoints (docs/endpoints.md, "API keys"), kept for Durin-style pages:
//! they manage the caller's key named `default`, unrestricted.

use super::apikeys::{ApiKeyView, NewApiKey};
use super::openapi::TAG_SESSIONS;
use crate::authn::Auth;
use crate::error::{AppError, AppResult, ErrorBody};
use crate::net::Caller;
use crate::scopes::DEFAULT_KEY_NAME;
use crate::service::apikeys::{self, NewKey};
use crate::state::AppState;
use axum::{Json, extract::State, http::StatusCode};
use utoipa_axum::{router::OpenApiRouter, routes};

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_api_key, create_api_key, delete_api_key))
}

/// Show my default API key
///
/// The caller's key named `default` (v1; see `/api/auth/apikeys` for every key).
#[utoipa::path(get, path = "/api/auth/apiaccess", tag = TAG_SESSIONS, security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's default API key", body = ApiKeyView),
        (status = 404, description = "No default API key", body = ErrorBody,
            example = json!({"code": "not_found", "detail": "Not found."})),
    ))]
pub async fn get_api_key(State(state): State<AppState>, auth: Auth) -> AppResult<Json<ApiKeyView>> {
    match apikeys::find_named(&state, auth.user().id, DEFAULT_KEY_NAME).await? {
        Some((key, client)) => Ok(Json(ApiKeyView::new(&key, client))),
        None => Err(AppError::NotFound),
    }
}

/// Create my default API key
///
/// An unrestricted key named `default` (v1). The token (prefix `tsk_`) is shown once, in this
/// response.
#[utoipa::path(post, path = "/api/auth/apiaccess", tag = TAG_SESSIONS, security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = NewApiKey),
        (status = 400, description = "The API-access client does not exist", body = ErrorBody,
            example = json!({"code": "api_access_unavailable", "detail": "API keys are not enabled on this server."})),
        (status = 409, description = "A default key exists already, or the per-user limit is reached", body = ErrorBody,
            example = json!({"code": "conflict", "detail": "You already have an API key named \"default\"."})),
    ))]
pub async fn create_api_key(
    State(state): State<AppState>,
    auth: Auth,
    caller: Caller,
) -> AppResult<(StatusCode, Json<NewApiKey>)> {
    let key = NewKey {
        name: DEFAULT_KEY_NAME.into(),
        scopes: None,
        expires_in: None,
    };
    let issued = apikeys::create(&state, auth.user(), caller, key).await?;
    Ok((StatusCode::CREATED, Json(issued.into())))
}

/// Delete my default API key
#[utoipa::path(delete, path = "/api/auth/apiaccess", tag = TAG_SESSIONS, security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No default API key", body = ErrorBody,
            example = json!({"code": "not_found", "detail": "Not found."})),
    ))]
pub async fn delete_api_key(State(state): State<AppState>, auth: Auth) -> AppResult<StatusCode> {
    if !apikeys::delete_named(&state, auth.user(), DEFAULT_KEY_NAME).await? {
        return Err(AppError::NotFound);
    }
    Ok(StatusCode::NO_CONTENT)
}
