//! The API-access key (SPEC §4.4): one per user, on the API-access client.

use super::TAG_SESSIONS;
use crate::auth::AuthSession;
use crate::cache::Target;
use crate::clock::to_datetime;
use crate::error::{AppError, AppResult, ErrorBody};
use crate::net::Caller;
use crate::policy;
use crate::state::AppState;
use crate::store::{clients, sessions};
use crate::token::{self, TokenKind};
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
    pub client: String,
    pub created: DateTime<Utc>,
    pub last_used: DateTime<Utc>,
    pub expiry: Option<DateTime<Utc>>,
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
    #[schema(example = "tsk_AbCdEfGhIjKlMnOpQrStUvWxYz0123451a2B3c")]
    pub token: String,
}

/// Show my API key
#[utoipa::path(get, path = "/api/auth/apiaccess", tag = TAG_SESSIONS, security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's API key", body = ApiKeyView),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 404, description = "No API key", body = ErrorBody),
    ))]
pub async fn get_api_key(
    State(state): State<AppState>,
    auth: AuthSession,
) -> AppResult<Json<ApiKeyView>> {
    let now = state.now();
    match sessions::find_api_key(&state.db, auth.row.user_id).await? {
        Some((key, client)) if key.expiry.is_none_or(|e| e > now) => {
            Ok(Json(ApiKeyView::new(&key, client)))
        }
        _ => Err(AppError::NotFound),
    }
}

/// Create my API key
///
/// The token (prefix `tsk_`) is shown once, in this response.
#[utoipa::path(post, path = "/api/auth/apiaccess", tag = TAG_SESSIONS, security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = NewApiKey),
        (status = 400, description = "The API-access client does not exist", body = ErrorBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 409, description = "An API key exists already", body = ErrorBody),
    ))]
pub async fn create_api_key(
    State(state): State<AppState>,
    auth: AuthSession,
    caller: Caller,
) -> AppResult<(StatusCode, Json<NewApiKey>)> {
    let Some(client) = clients::find_by_name(&state.db, &state.settings.api_access_client).await?
    else {
        return Err(AppError::bad_request(
            "api_access_unavailable",
            "API keys are not enabled on this server.",
        ));
    };
    let now = state.now();
    if let Some((old, _)) = sessions::find_api_key(&state.db, auth.row.user_id).await? {
        if old.expiry.is_none_or(|e| e > now) {
            return Err(AppError::Conflict(
                "You already have an API key; delete it first.".into(),
            ));
        }
        sessions::delete(&state.db, &old.id).await?;
        state.invalidate(Target::Session(old.id)).await;
    }
    let minted = token::generate(TokenKind::ApiKey);
    let new = sessions::NewSession {
        kind: TokenKind::ApiKey,
        user_id: auth.row.user_id,
        client_id: client.id,
        device_name: "API key".into(),
        user_agent: caller.user_agent,
        ip: caller.ip.map(|ip| ip.to_string()),
        expiry: policy::expiry(now, now, client.token_ttl, client.max_lifetime),
        digest: minted.digest.clone(),
        hint: minted.hint.clone(),
    };
    // The partial unique index turns a racing second POST into a 409 here.
    let key = sessions::insert(&state.db, new, now).await?;
    let body = NewApiKey {
        key: ApiKeyView::new(&key, client.name),
        token: token::reveal(&minted),
    };
    Ok((StatusCode::CREATED, Json(body)))
}

/// Delete my API key
#[utoipa::path(delete, path = "/api/auth/apiaccess", tag = TAG_SESSIONS, security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 404, description = "No API key", body = ErrorBody),
    ))]
pub async fn delete_api_key(
    State(state): State<AppState>,
    auth: AuthSession,
) -> AppResult<StatusCode> {
    let Some((key, _)) = sessions::find_api_key(&state.db, auth.row.user_id).await? else {
        return Err(AppError::NotFound);
    };
    if !sessions::delete(&state.db, &key.id).await? {
        return Err(AppError::NotFound);
    }
    state.invalidate(Target::Session(key.id)).await;
    Ok(StatusCode::NO_CONTENT)
}
