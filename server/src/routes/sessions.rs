//! Session management (SPEC §4.2): list your devices, revoke one, revoke all others.

use super::TAG_SESSIONS;
use super::views::{RevokedCount, SessionView};
use crate::auth::AuthSession;
use crate::cache::Target;
use crate::error::{AppError, AppResult, ErrorBody};
use crate::extract::AppPath;
use crate::state::AppState;
use crate::store::sessions::{self, Scope};
use crate::token::TokenKind;
use axum::{Json, extract::State, http::StatusCode};
use utoipa_axum::{router::OpenApiRouter, routes};

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_sessions, delete_other_sessions))
        .routes(routes!(delete_session))
}

/// List my sessions
///
/// Live sessions of the caller (not the API key), most recently used first.
#[utoipa::path(get, path = "/api/auth/sessions", tag = TAG_SESSIONS, security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's sessions", body = Vec<SessionView>),
        (status = 401, description = "Not authenticated", body = ErrorBody),
    ))]
pub async fn list_sessions(
    State(state): State<AppState>,
    auth: AuthSession,
) -> AppResult<Json<Vec<SessionView>>> {
    state.flush_touches().await?;
    let rows = sessions::list_for_user(
        &state.db,
        auth.row.user_id,
        &[TokenKind::Session],
        state.now(),
    )
    .await?;
    let current = Some(auth.row.session_id.as_str());
    Ok(Json(
        rows.into_iter()
            .map(|(s, client)| SessionView::new(s, client, current))
            .collect(),
    ))
}

/// Revoke one of my sessions
///
/// Ends another device's session. Someone else's session and an unknown id get the same 404.
#[utoipa::path(delete, path = "/api/auth/sessions/{id}", tag = TAG_SESSIONS, security(("bearer" = [])),
    params(("id" = String, Path, description = "Session id (UUID)")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 400, description = "That is the current session", body = ErrorBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 404, description = "No such session of yours", body = ErrorBody),
    ))]
pub async fn delete_session(
    State(state): State<AppState>,
    auth: AuthSession,
    AppPath(id): AppPath<uuid::Uuid>,
) -> AppResult<StatusCode> {
    let id = id.to_string();
    if id == auth.row.session_id {
        return Err(AppError::bad_request(
            "cannot_revoke_current",
            "Use POST /api/auth/logout to end the current session.",
        ));
    }
    let found = sessions::find_for_user(
        &state.db,
        auth.row.user_id,
        &id,
        TokenKind::Session,
        state.now(),
    )
    .await?;
    if found.is_none() || !sessions::delete(&state.db, &id).await? {
        return Err(AppError::NotFound);
    }
    state.invalidate(Target::Session(id)).await;
    Ok(StatusCode::NO_CONTENT)
}

/// Revoke all my other sessions
///
/// Ends every session of the caller except the presenting one; the API key is kept.
#[utoipa::path(delete, path = "/api/auth/sessions", tag = TAG_SESSIONS, security(("bearer" = [])),
    responses(
        (status = 200, description = "How many were revoked", body = RevokedCount),
        (status = 401, description = "Not authenticated", body = ErrorBody),
    ))]
pub async fn delete_other_sessions(
    State(state): State<AppState>,
    auth: AuthSession,
) -> AppResult<Json<RevokedCount>> {
    let scope = Scope::SessionsExcept(&auth.row.session_id);
    let revoked =
        sessions::delete_for_user(&state.db, auth.row.user_id, scope, state.now()).await?;
    state.invalidate(Target::User(auth.row.user_id)).await;
    Ok(Json(RevokedCount { revoked }))
}
