//! Token lifecycle (SPEC §4.1): login, refresh, logout, logout-all, me.

use super::views::{SessionView, UserSummary};
use super::{TAG_AUTH, validation};
use crate::auth::AuthSession;
use crate::cache::Target;
use crate::clock::to_datetime;
use crate::error::{AppError, AppResult, ErrorBody};
use crate::extract::JsonOrForm;
use crate::net::{Caller, device_name};
use crate::policy;
use crate::state::AppState;
use crate::store::{clients, sessions, users};
use crate::token::{self, TokenKind};
use crate::touches::Touch;
use axum::{Json, extract::State, http::StatusCode};
use chrono::{DateTime, Utc};
use sea_orm::TransactionTrait;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_login))
        .routes(routes!(refresh_token))
        .routes(routes!(delete_logout))
        .routes(routes!(delete_all_logins))
        .routes(routes!(get_me))
}

/// Login credentials (JSON or form-encoded).
#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    #[schema(example = "alice")]
    pub username: Option<String>,
    #[schema(example = "correct horse battery staple", format = Password)]
    pub password: Option<String>,
    /// Client name, e.g. `web`, `mobile`, `cli`.
    #[schema(example = "cli")]
    pub client: Option<String>,
    /// Shown in the session list; derived from the User-Agent when absent.
    #[schema(example = "Alice's laptop")]
    pub device_name: Option<String>,
}

/// A new token and its session. The token is shown only here.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    #[schema(example = "tss_AbCdEfGhIjKlMnOpQrStUvWxYz0123451a2B3c")]
    pub token: String,
    pub expiry: Option<DateTime<Utc>>,
    pub session: SessionView,
    pub user: UserSummary,
}

/// `{"expiry"}` after a renewal.
#[derive(Debug, Serialize, ToSchema)]
pub struct RefreshResponse {
    pub expiry: Option<DateTime<Utc>>,
}

/// The caller and the session it uses.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeResponse {
    pub user: UserSummary,
    pub session: SessionView,
}

fn invalid_credentials() -> AppError {
    AppError::bad_request(
        "invalid_credentials",
        "Unable to log in with provided credentials.",
    )
}

/// Log in and get a token for one device
///
/// Creates a new session on the named client. Wrong password, unknown and inactive users all
/// get the same answer in about the same time.
#[utoipa::path(post, path = "/api/auth/login", tag = TAG_AUTH,
    request_body(content(
        (LoginRequest = "application/json"),
        (LoginRequest = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 200, description = "Logged in", body = LoginResponse),
        (status = 400, description = "Invalid input, credentials or client", body = ErrorBody),
        (status = 415, description = "Unsupported content type", body = ErrorBody),
        (status = 429, description = "Too many attempts", body = ErrorBody),
    ))]
pub async fn create_login(
    State(state): State<AppState>,
    caller: Caller,
    JsonOrForm(req): JsonOrForm<LoginRequest>,
) -> AppResult<Json<LoginResponse>> {
    let mut fields = validation::Fields::default();
    let username = fields.required("username", req.username);
    let password = fields.required("password", req.password);
    let client_name = fields.required("client", req.client);
    let device = req
        .device_name
        .map(|d| d.trim().to_string())
        .filter(|d| !d.is_empty());
    if device.as_ref().is_some_and(|d| d.chars().count() > 100) {
        fields.add(
            "device_name",
            "Ensure this field has no more than 100 characters.",
        );
    }
    fields.finish()?;
    let (username, password, client_name) = (
        username.unwrap_or_default(),
        password.unwrap_or_default(),
        client_name.unwrap_or_default(),
    );

    if let Err(refused) = state.throttles.spend_login(caller.ip, &username).await {
        state.metrics.observe_login("throttled");
        return Err(AppError::Throttled {
            wait_secs: refused.wait_secs,
        });
    }
    let Some(client) = clients::find_by_name(&state.db, &client_name).await? else {
        state.metrics.observe_login("unknown_client");
        return Err(AppError::bad_request(
            "unknown_client",
            "No client with that name.",
        ));
    };
    if client.name == state.settings.api_access_client {
        state.metrics.observe_login("invalid_client");
        return Err(AppError::bad_request(
            "invalid_client",
            "This client issues API keys only; use POST /api/auth/apiaccess.",
        ));
    }
    let user = users::find_by_username(&state.db, &username).await?;
    let verified = crate::password::verify(
        SecretString::from(password),
        user.as_ref().map(|u| u.password_hash.clone()),
    )
    .await?;
    let user = match user {
        Some(user) if verified && user.is_active => user,
        _ => {
            state.metrics.observe_login("invalid_credentials");
            return Err(invalid_credentials());
        }
    };

    let now = state.now();
    let minted = token::generate(TokenKind::Session);
    let new = sessions::NewSession {
        kind: TokenKind::Session,
        user_id: user.id,
        client_id: client.id,
        device_name: device.unwrap_or_else(|| device_name(&caller.user_agent)),
        user_agent: caller.user_agent,
        ip: caller.ip.map(|ip| ip.to_string()),
        expiry: policy::expiry(now, now, client.token_ttl, client.max_lifetime),
        digest: minted.digest.clone(),
        hint: minted.hint.clone(),
    };
    if client.max_sessions.is_some() {
        // Eviction orders by last_used: write the uses this instance has only noted so far.
        state.flush_touches().await?;
    }
    let txn = state.db.begin().await?;
    let session = sessions::insert(&txn, new, now).await?;
    let mut evicted = 0;
    if let Some(max) = client.max_sessions {
        evicted = sessions::enforce_max_sessions(&txn, user.id, client.id, max.max(1) as u64, now)
            .await?;
    }
    users::set_last_login(&txn, user.id, now).await?;
    txn.commit().await?;
    if evicted > 0 {
        state.invalidate(Target::User(user.id)).await;
    }
    state.metrics.observe_login("success");

    Ok(Json(LoginResponse {
        token: token::reveal(&minted),
        expiry: session.expiry.map(to_datetime),
        session: SessionView::new(session.clone(), client.name, Some(&session.id)),
        user: UserSummary {
            id: user.id,
            username: user.username,
            is_admin: user.is_admin,
        },
    }))
}

/// Renew the presenting token
///
/// Moves the expiry to min(now + token_ttl, created + max_lifetime). The token does not change.
#[utoipa::path(post, path = "/api/auth/refresh", tag = TAG_AUTH, security(("bearer" = [])),
    responses(
        (status = 200, description = "Renewed", body = RefreshResponse),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 429, description = "Throttled", body = ErrorBody),
    ))]
pub async fn refresh_token(
    State(state): State<AppState>,
    auth: AuthSession,
) -> AppResult<Json<RefreshResponse>> {
    let now = state.now();
    let row = &auth.row;
    let expiry = policy::expiry(now, row.created, row.token_ttl, row.max_lifetime);
    // Supersede any queued auto-renewal, which would otherwise write an older expiry later.
    state.touches.record(
        &row.session_id,
        Touch {
            last_used: now,
            renewed_to: Some(expiry),
        },
    );
    let still_there = sessions::touch(&state.db, &row.session_id, now, Some(expiry)).await?;
    state.cache.forget(&auth.digest);
    if !still_there {
        // Logged out while this request was in flight.
        return Err(AppError::Unauthorized {
            code: "invalid_token",
            detail: "Invalid token.",
        });
    }
    Ok(Json(RefreshResponse {
        expiry: expiry.map(to_datetime),
    }))
}

/// Log out this device
///
/// Ends the presenting session (or API key).
#[utoipa::path(post, path = "/api/auth/logout", tag = TAG_AUTH, security(("bearer" = [])),
    responses(
        (status = 204, description = "Logged out"),
        (status = 401, description = "Not authenticated", body = ErrorBody),
    ))]
pub async fn delete_logout(
    State(state): State<AppState>,
    auth: AuthSession,
) -> AppResult<StatusCode> {
    sessions::delete(&state.db, &auth.row.session_id).await?;
    state.invalidate(Target::Session(auth.row.session_id)).await;
    Ok(StatusCode::NO_CONTENT)
}

/// Log out everywhere
///
/// Ends every session of the user, and the API key.
#[utoipa::path(post, path = "/api/auth/logoutall", tag = TAG_AUTH, security(("bearer" = [])),
    responses(
        (status = 204, description = "Logged out everywhere"),
        (status = 401, description = "Not authenticated", body = ErrorBody),
    ))]
pub async fn delete_all_logins(
    State(state): State<AppState>,
    auth: AuthSession,
) -> AppResult<StatusCode> {
    sessions::delete_for_user(
        &state.db,
        auth.row.user_id,
        sessions::Scope::All,
        state.now(),
    )
    .await?;
    state.invalidate(Target::User(auth.row.user_id)).await;
    Ok(StatusCode::NO_CONTENT)
}

/// Who am I
///
/// The user and the session behind the presenting token.
#[utoipa::path(get, path = "/api/auth/me", tag = TAG_AUTH, security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller", body = MeResponse),
        (status = 401, description = "Not authenticated", body = ErrorBody),
    ))]
pub async fn get_me(auth: AuthSession) -> AppResult<Json<MeResponse>> {
    let row = auth.row;
    Ok(Json(MeResponse {
        user: UserSummary {
            id: row.user_id,
            username: row.username.clone(),
            is_admin: row.is_admin,
        },
        session: SessionView {
            is_current: true,
            id: row.session_id,
            kind: row.kind,
            client: row.client_name,
            device_name: row.device_name,
            user_agent: row.user_agent,
            ip: row.ip,
            created: to_datetime(row.created),
            last_used: to_datetime(row.last_used),
            expiry: row.expiry.map(to_datetime),
            token_hint: row.token_hint,
        },
    }))
}
