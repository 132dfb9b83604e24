//! Admin API for a user's sessions and throttle overrides (docs/endpoints.md).

use super::openapi::TAG_ADMIN;
use super::views::{RevokedCount, SessionView};
use crate::authn::{AdminOnly, Auth};
use crate::error::{AppError, AppResult, ErrorBody};
use crate::extract::{AppJson, AppPath};
use crate::policy::Rate;
use crate::service::sessions::{Scope, Why};
use crate::service::{sessions, throttles, users};
use crate::state::AppState;
use crate::token::TokenKind;
use axum::{Json, extract::State, http::StatusCode};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_user_sessions, delete_user_sessions))
        .routes(routes!(list_user_throttles))
        .routes(routes!(put_user_throttle, delete_user_throttle))
}

/// A user's rate on one client.
#[derive(Debug, Serialize, ToSchema)]
pub struct ThrottleView {
    #[schema(example = "cli")]
    pub client: String,
    /// `N/s|m|h|d`, or `null` for unlimited.
    #[schema(example = "1000/h")]
    pub rate: Option<String>,
}

/// `{"rate": "N/m" | null}`; `rate` is required, `null` means unlimited.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PutThrottleRequest {
    #[serde(default, deserialize_with = "crate::rules::double_option")]
    #[schema(value_type = Option<String>, required = true, pattern = "^[1-9][0-9]{0,8}/[smhd]$", example = "1000/h")]
    pub rate: Option<Option<Rate>>,
}

/// List a user's sessions and API keys
#[utoipa::path(get, path = "/api/admin/users/{id}/sessions", tag = TAG_ADMIN, security(("bearer" = [])),
    params(("id" = i32, Path, description = "User id")),
    responses(
        (status = 200, description = "Sessions and API keys, told apart by kind", body = Vec<SessionView>),
        (status = 404, description = "No such user", body = ErrorBody,
            example = json!({"code": "not_found", "detail": "Not found."})),
    ))]
pub async fn list_user_sessions(
    State(state): State<AppState>,
    _admin: Auth<AdminOnly>,
    AppPath(id): AppPath<i32>,
) -> AppResult<Json<Vec<SessionView>>> {
    let user = users::get(&state, id).await?;
    let kinds = [TokenKind::Session, TokenKind::ApiKey];
    let rows = sessions::list_for_user(&state, user.id, &kinds).await?;
    Ok(Json(
        rows.into_iter()
            .map(|(s, client)| SessionView::new(s, client, None))
            .collect(),
    ))
}

/// End all of a user's sessions and API keys
#[utoipa::path(delete, path = "/api/admin/users/{id}/sessions", tag = TAG_ADMIN, security(("bearer" = [])),
    params(("id" = i32, Path, description = "User id")),
    responses(
        (status = 200, description = "How many were ended", body = RevokedCount),
        (status = 404, description = "No such user", body = ErrorBody,
            example = json!({"code": "not_found", "detail": "Not found."})),
    ))]
pub async fn delete_user_sessions(
    State(state): State<AppState>,
    _admin: Auth<AdminOnly>,
    AppPath(id): AppPath<i32>,
) -> AppResult<Json<RevokedCount>> {
    let user = users::get(&state, id).await?;
    let revoked =
        sessions::revoke_user(&state, (user.id, &user.username), Scope::All, Why::Admin).await?;
    Ok(Json(RevokedCount { revoked }))
}

/// List a user's throttle overrides
#[utoipa::path(get, path = "/api/admin/users/{id}/throttles", tag = TAG_ADMIN, security(("bearer" = [])),
    params(("id" = i32, Path, description = "User id")),
    responses(
        (status = 200, description = "Overrides by client", body = Vec<ThrottleView>),
        (status = 404, description = "No such user", body = ErrorBody,
            example = json!({"code": "not_found", "detail": "Not found."})),
    ))]
pub async fn list_user_throttles(
    State(state): State<AppState>,
    _admin: Auth<AdminOnly>,
    AppPath(id): AppPath<i32>,
) -> AppResult<Json<Vec<ThrottleView>>> {
    let rows = throttles::list(&state, id).await?;
    Ok(Json(
        rows.into_iter()
            .map(|(client, rate)| ThrottleView { client, rate })
            .collect(),
    ))
}

/// Set a user's rate on a client
///
/// Overrides the client's rate for this user; `null` means unlimited. Applies from the next
/// request.
#[utoipa::path(put, path = "/api/admin/users/{id}/throttles/{client}", tag = TAG_ADMIN, security(("bearer" = [])),
    params(("id" = i32, Path, description = "User id"), ("client" = String, Path, description = "Client name")),
    request_body = PutThrottleRequest,
    responses(
        (status = 200, description = "The override", body = ThrottleView),
        (status = 404, description = "No such user or client", body = ErrorBody,
            example = json!({"code": "not_found", "detail": "Not found."})),
    ))]
pub async fn put_user_throttle(
    State(state): State<AppState>,
    _admin: Auth<AdminOnly>,
    AppPath((id, client)): AppPath<(i32, String)>,
    AppJson(req): AppJson<PutThrottleRequest>,
) -> AppResult<Json<ThrottleView>> {
    let Some(rate) = req.rate else {
        return Err(AppError::field("rate", "This field is required."));
    };
    throttles::put(&state, id, &client, rate).await?;
    Ok(Json(ThrottleView {
        client,
        rate: rate.map(|r| r.to_string()),
    }))
}

/// Remove a user's rate on a client
#[utoipa::path(delete, path = "/api/admin/users/{id}/throttles/{client}", tag = TAG_ADMIN, security(("bearer" = [])),
    params(("id" = i32, Path, description = "User id"), ("client" = String, Path, description = "Client name")),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "No such user, client or override", body = ErrorBody,
            example = json!({"code": "not_found", "detail": "Not found."})),
    ))]
pub async fn delete_user_throttle(
    State(state): State<AppState>,
    _admin: Auth<AdminOnly>,
    AppPath((id, client)): AppPath<(i32, String)>,
) -> AppResult<StatusCode> {
    throttles::delete(&state, id, &client).await?;
    Ok(StatusCode::NO_CONTENT)
}
