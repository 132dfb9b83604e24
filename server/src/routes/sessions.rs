//! Session management (docs/endpoints.md): list your devices, revoke one, revoke all others.

use super::openapi::TAG_SESSIONS;
use super::views::{RevokedCount, SessionView};
use crate::authn::Auth;
use crate::error::{AppError, AppResult, ErrorBody};
use crate::extract::AppPath;
use crate::service::sessions;
use crate::service::sessions::{Scope, Why};
use crate::state::AppState;
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
/// Live sessions of the caller (not API keys), most recently used first.
#[utoipa::path(get, path = "/api/auth/sessions", tag = TAG_SESSIONS, security(("bearer" = [])),
    responses((status = 200, description = "The caller's sessions", body = Vec<SessionView>)))]
pub async fn list_sessions(
    State(state): State<AppState>,
    auth: Auth,
) -> AppResult<Json<Vec<SessionView>>> {
    let rows = sessions::list_for_user(&state, auth.user().id, &[TokenKind::Session]).await?;
    let current = Some(auth.session().id.as_str());
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
    params(("id" = uuid::Uuid, Path, description = "Session id (UUID)")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 400, description = "That is the current session", body = ErrorBody,
            example = json!({"code": "cannot_revoke_current", "detail": "Use POST /api/auth/logout to end the current session."})),
        (status = 404, description = "No such session of yours", body = ErrorBody,
            example = json!({"code": "not_found", "detail": "Not found."})),
    ))]
pub async fn delete_session(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<uuid::Uuid>,
) -> AppResult<StatusCode> {
    let id = id.to_string();
    if id == auth.session().id {
        return Err(AppError::bad_request(
            "cannot_revoke_current",
            "Use POST /api/auth/logout to end the current session.",
        ));
    }
    if !sessions::revoke(&state, auth.user(), &id, TokenKind::Session).await? {
        return Err(AppError::NotFound);
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Revoke all my other sessions
///
/// Ends every session of the caller except the presenting one; API keys are kept.
#[utoipa::path(delete, path = "/api/auth/sessions", tag = TAG_SESSIONS, security(("bearer" = [])),
    responses((status = 200, description = "How many were revoked", body = RevokedCount)))]
pub async fn delete_other_sessions(
    State(state): State<AppState>,
    auth: Auth,
) -> AppResult<Json<RevokedCount>> {
    let scope = Scope::SessionsExcept(&auth.session().id);
    let revoked = sessions::revoke_user(
        &state,
        (auth.user().id, &auth.user().username),
        scope,
        Why::OtherSessions,
    )
    .await?;
    Ok(Json(RevokedCount { revoked }))
}
