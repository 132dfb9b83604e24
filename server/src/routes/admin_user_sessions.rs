//! Admin API for a user's sessions and throttle overrides (SPEC §4.5).

use super::TAG_ADMIN;
use super::admin_users::find;
use super::views::{RevokedCount, SessionView};
use crate::auth::AdminSession;
use crate::cache::Target;
use crate::error::{AppError, AppResult, ErrorBody};
use crate::extract::{AppJson, AppPath};
use crate::policy::Rate;
use crate::state::AppState;
use crate::store::{clients, sessions, throttles};
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
    pub client: String,
    /// `N/s|m|h|d`, or `null` for unlimited.
    #[schema(example = "1000/h")]
    pub rate: Option<String>,
}

/// `{"rate": "N/m" | null}`; `rate` is required.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PutThrottleRequest {
    #[serde(default, deserialize_with = "crate::extract::double_option")]
    #[schema(value_type = Option<String>, example = "1000/h")]
    pub rate: Option<Option<String>>,
}

/// List a user's sessions and API key
#[utoipa::path(get, path = "/api/admin/users/{id}/sessions", tag = TAG_ADMIN, security(("bearer" = [])),
    params(("id" = i32, Path, description = "User id")),
    responses(
        (status = 200, description = "Sessions and the API key, told apart by kind", body = Vec<SessionView>),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
    ))]
pub async fn list_user_sessions(
    State(state): State<AppState>,
    _admin: AdminSession,
    AppPath(id): AppPath<i32>,
) -> AppResult<Json<Vec<SessionView>>> {
    let user = find(&state, id).await?;
    let kinds = [TokenKind::Session, TokenKind::ApiKey];
    state.flush_touches().await?;
    let rows = sessions::list_for_user(&state.db, user.id, &kinds, state.now()).await?;
    Ok(Json(
        rows.into_iter()
            .map(|(s, client)| SessionView::new(s, client, None))
            .collect(),
    ))
}

/// End all of a user's sessions and the API key
#[utoipa::path(delete, path = "/api/admin/users/{id}/sessions", tag = TAG_ADMIN, security(("bearer" = [])),
    params(("id" = i32, Path, description = "User id")),
    responses(
        (status = 200, description = "How many were ended", body = RevokedCount),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
    ))]
pub async fn delete_user_sessions(
    State(state): State<AppState>,
    _admin: AdminSession,
    AppPath(id): AppPath<i32>,
) -> AppResult<Json<RevokedCount>> {
    let user = find(&state, id).await?;
    let revoked =
        sessions::delete_for_user(&state.db, user.id, sessions::Scope::All, state.now()).await?;
    state.invalidate(Target::User(user.id)).await;
    Ok(Json(RevokedCount { revoked }))
}

/// List a user's throttle overrides
#[utoipa::path(get, path = "/api/admin/users/{id}/throttles", tag = TAG_ADMIN, security(("bearer" = [])),
    params(("id" = i32, Path, description = "User id")),
    responses(
        (status = 200, description = "Overrides by client", body = Vec<ThrottleView>),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
    ))]
pub async fn list_user_throttles(
    State(state): State<AppState>,
    _admin: AdminSession,
    AppPath(id): AppPath<i32>,
) -> AppResult<Json<Vec<ThrottleView>>> {
    let user = find(&state, id).await?;
    let rows = throttles::list(&state.db, user.id).await?;
    Ok(Json(
        rows.into_iter()
            .map(|(client, rate)| ThrottleView { client, rate })
            .collect(),
    ))
}

/// Set a user's rate on a client
///
/// Overrides the client's rate for this user; `null` means unlimited. Applies from the next request.
#[utoipa::path(put, path = "/api/admin/users/{id}/throttles/{client}", tag = TAG_ADMIN, security(("bearer" = [])),
    params(("id" = i32, Path, description = "User id"), ("client" = String, Path, description = "Client name")),
    request_body = PutThrottleRequest,
    responses(
        (status = 200, description = "The override", body = ThrottleView),
        (status = 400, description = "Invalid rate", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such user or client", body = ErrorBody),
    ))]
pub async fn put_user_throttle(
    State(state): State<AppState>,
    _admin: AdminSession,
    AppPath((id, client)): AppPath<(i32, String)>,
    AppJson(req): AppJson<PutThrottleRequest>,
) -> AppResult<Json<ThrottleView>> {
    let user = find(&state, id).await?;
    let client = clients::find_by_name(&state.db, &client)
        .await?
        .ok_or(AppError::NotFound)?;
    let rate = match req.rate {
        None => return Err(AppError::field("rate", "This field is required.")),
        Some(Some(r)) if r.parse::<Rate>().is_err() => {
            return Err(AppError::field(
                "rate",
                "Enter N/s, N/m, N/h or N/d with N ≥ 1, or null.",
            ));
        }
        Some(rate) => rate,
    };
    throttles::put(&state.db, user.id, client.id, rate.clone()).await?;
    // The effective rate is part of the cached row.
    state.invalidate(Target::User(user.id)).await;
    Ok(Json(ThrottleView {
        client: client.name,
        rate,
    }))
}

/// Remove a user's rate on a client
#[utoipa::path(delete, path = "/api/admin/users/{id}/throttles/{client}", tag = TAG_ADMIN, security(("bearer" = [])),
    params(("id" = i32, Path, description = "User id"), ("client" = String, Path, description = "Client name")),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such user, client or override", body = ErrorBody),
    ))]
pub async fn delete_user_throttle(
    State(state): State<AppState>,
    _admin: AdminSession,
    AppPath((id, client)): AppPath<(i32, String)>,
) -> AppResult<StatusCode> {
    let user = find(&state, id).await?;
    let client = clients::find_by_name(&state.db, &client)
        .await?
        .ok_or(AppError::NotFound)?;
    if !throttles::delete(&state.db, user.id, client.id).await? {
        return Err(AppError::NotFound);
    }
    state.invalidate(Target::User(user.id)).await;
    Ok(StatusCode::NO_CONTENT)
}
