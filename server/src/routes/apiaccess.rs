//! The API-access key (docs/endpoints.md, "API key"): one per user, on the API-access client.

use super::openapi::TAG_SESSIONS;
use crate::authn::Auth;
use crate::clock::to_datetime;
use crate::error::{AppError, AppResult, ErrorBody};
use crate::net::Caller;
use crate::service::apikeys;
use crate::state::AppState;
use crate::token;
use axum::{Json, extract::State, http::StatusCode};
use chrono::{DateTime, Utc};
use entity::session;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_api_key, create_api_key, delete_api_key))
}

/// The caller's API key (never the token itself).
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyView {
    #[schema(example = "api")]
    pub client: String,
    pub created: DateTime<Utc>,
    pub last_used: DateTime<Utc>,
    pub expiry: Option<DateTime<Utc>>,
    #[schema(example = "tsk_Q2xa")]
    pub token_hint: String,
}

impl ApiKeyView {
    fn new(s: &session::Model, client: String) -> Self {
        Self {
            client,
            created: to_datetime(s.created),
            last_used: to_datetime(s.last_used),
            expiry: s.expiry.map(to_datetime),
            token_hint: s.token_hint.clone(),
        }
    }
}

/// A new API key; the token is shown only here.
#[derive(Debug, Serialize, ToSchema)]
pub struct NewApiKey {
    #[serde(flatten)]
    pub key: ApiKeyView,
    #[schema(example = "tsk_AbCdEfGhIjKlMnOpQrStUvWxYz0123453pnQdu")]
    pub token: String,
}

/// Show my API key
#[utoipa::path(get, path = "/api/auth/apiaccess", tag = TAG_SESSIONS, security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's API key", body = ApiKeyView),
        (status = 404, description = "No API key", body = ErrorBody,
            example = json!({"code": "not_found", "detail": "Not found."})),
    ))]
pub async fn get_api_key(State(state): State<AppState>, auth: Auth) -> AppResult<Json<ApiKeyView>> {
    match apikeys::find(&state, auth.user().id).await? {
        Some((key, client)) => Ok(Json(ApiKeyView::new(&key, client))),
        None => Err(AppError::NotFound),
    }
}

/// Create my API key
///
/// The token (prefix `tsk_`) is shown once, in this response.
#[utoipa::path(post, path = "/api/auth/apiaccess", tag = TAG_SESSIONS, security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = NewApiKey),
        (status = 400, description = "The API-access client does not exist", body = ErrorBody,
            example = json!({"code": "api_access_unavailable", "detail": "API keys are not enabled on this server."})),
        (status = 409, description = "An API key exists already", body = ErrorBody,
            example = json!({"code": "conflict", "detail": "You already have an API key; delete it first."})),
    ))]
pub async fn create_api_key(
    State(state): State<AppState>,
    auth: Auth,
    caller: Caller,
) -> AppResult<(StatusCode, Json<NewApiKey>)> {
    let issued = apikeys::create(&state, auth.user(), caller).await?;
    let body = NewApiKey {
        key: ApiKeyView::new(&issued.session, issued.client_name),
        token: token::reveal(&issued.token),
    };
    Ok((StatusCode::CREATED, Json(body)))
}

/// Delete my API key
#[utoipa::path(delete, path = "/api/auth/apiaccess", tag = TAG_SESSIONS, security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No API key", body = ErrorBody,
            example = json!({"code": "not_found", "detail": "Not found."})),
    ))]
pub async fn delete_api_key(State(state): State<AppState>, auth: Auth) -> AppResult<StatusCode> {
    if !apikeys::delete(&state, auth.user()).await? {
        return Err(AppError::NotFound);
    }
    Ok(StatusCode::NO_CONTENT)
}
