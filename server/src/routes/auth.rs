//! Token lifecycle (docs/endpoints.md): login, refresh, logout, logout-all, me.

use super::openapi::TAG_AUTH;
use super::views::{SessionView, UserSummary};
use crate::authn::Auth;
use crate::clock::to_datetime;
use crate::error::AppResult;
use crate::extract::JsonOrForm;
use crate::net::Caller;
use crate::rules::Fields;
use crate::service::sessions::Scope;
use crate::service::{login, sessions};
use crate::state::AppState;
use crate::token;
use axum::{Json, extract::State, http::StatusCode};
use chrono::{DateTime, Utc};
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
    #[schema(value_type = String, required = true, example = "alice", pattern = "\\S")]
    pub username: Option<String>,
    #[schema(value_type = String, required = true, example = "correct horse battery", format = Password, pattern = "\\S")]
    pub password: Option<String>,
    /// Client name, e.g. `web`, `mobile`, `cli`.
    #[schema(value_type = String, required = true, example = "cli", pattern = "\\S")]
    pub client: Option<String>,
    /// Shown in the session list (at most 100 characters); derived from the User-Agent when
    /// absent.
    #[schema(example = "Alice's laptop", max_length = 100)]
    pub device_name: Option<String>,
    /// The `device_proof` of an earlier login from this device: failed logins from it then
    /// spend a budget of its own, so password guessing elsewhere cannot lock it out. An
    /// invalid one is ignored.
    #[schema(example = "v1.YWxpY2U.1796169419.3f9a0c2b7d1e4a5b6c7d8e9f.dGhpcyBpcyBhbiBleGFtcGxl")]
    pub device_proof: Option<String>,
}

/// A new token and its session. The token is shown only here.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    #[schema(example = "tss_AbCdEfGhIjKlMnOpQrStUvWxYz0123450DJdDE")]
    pub token: String,
    pub expiry: Option<DateTime<Utc>>,
    pub session: SessionView,
    pub user: UserSummary,
    /// Keep this (it outlives logouts) and send it with this device's next login.
    #[schema(example = "v1.YWxpY2U.1796169419.3f9a0c2b7d1e4a5b6c7d8e9f.dGhpcyBpcyBhbiBleGFtcGxl")]
    pub device_proof: String,
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
        (status = 400, description = "Invalid input, credentials or client", body = crate::error::ErrorBody,
            example = json!({"code": "invalid_credentials", "detail": "Unable to log in with provided credentials."})),
        (status = 429, description = "Too many attempts; see Retry-After", body = crate::error::ErrorBody,
            example = json!({"code": "throttled", "detail": "Request was throttled. Expected available in 6 seconds."})),
    ))]
pub async fn create_login(
    State(state): State<AppState>,
    caller: Caller,
    JsonOrForm(req): JsonOrForm<LoginRequest>,
) -> AppResult<Json<LoginResponse>> {
    let mut fields = Fields::default();
    let username = fields.required("username", req.username);
    let password = fields.required("password", req.password);
    let client = fields.required("client", req.client);
    let device = req
        .device_name
        .map(|d| d.trim().to_string())
        .filter(|d| !d.is_empty());
    fields.check(
        "device_name",
        device.as_deref(),
        |d: &str| d.chars().count() <= 100,
        "Ensure this field has no more than 100 characters.",
    );
    fields.finish()?;
    let creds = login::Credentials {
        username: username.unwrap_or_default(),
        password: SecretString::from(password.unwrap_or_default()),
        client: client.unwrap_or_default(),
        device_name: device,
        device_proof: req.device_proof,
    };
    let done = login::login(&state, creds, caller).await?;
    let session = done.issued.session;
    Ok(Json(LoginResponse {
        token: token::reveal(&done.issued.token),
        expiry: session.expiry.map(to_datetime),
        session: SessionView::new(session.clone(), done.issued.client_name, Some(&session.id)),
        user: UserSummary::from(&done.user),
        device_proof: done.device_proof,
    }))
}

/// Renew the presenting token
///
/// Moves the expiry to min(now + token_ttl, created + max_lifetime). The token does not change.
#[utoipa::path(post, path = "/api/auth/refresh", tag = TAG_AUTH, security(("bearer" = [])),
    responses((status = 200, description = "Renewed", body = RefreshResponse)))]
pub async fn refresh_token(
    State(state): State<AppState>,
    auth: Auth,
) -> AppResult<Json<RefreshResponse>> {
    let expiry = sessions::renew(&state, &auth).await?;
    Ok(Json(RefreshResponse {
        expiry: expiry.map(to_datetime),
    }))
}

/// Log out this device
///
/// Ends the presenting session (or API key).
#[utoipa::path(post, path = "/api/auth/logout", tag = TAG_AUTH, security(("bearer" = [])),
    responses((status = 204, description = "Logged out")))]
pub async fn delete_logout(State(state): State<AppState>, auth: Auth) -> AppResult<StatusCode> {
    sessions::end(&state, &auth).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Log out everywhere
///
/// Ends every session and API key of the user.
#[utoipa::path(post, path = "/api/auth/logoutall", tag = TAG_AUTH, security(("bearer" = [])),
    responses((status = 204, description = "Logged out everywhere")))]
pub async fn delete_all_logins(State(state): State<AppState>, auth: Auth) -> AppResult<StatusCode> {
    sessions::revoke_user(&state, auth.user().id, Scope::All).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Who am I
///
/// The user and the session (or API key) behind the presenting credential.
#[utoipa::path(get, path = "/api/auth/me", tag = TAG_AUTH, security(("bearer" = [])),
    responses((status = 200, description = "The caller", body = MeResponse)))]
pub async fn get_me(auth: Auth) -> Json<MeResponse> {
    Json(MeResponse {
        user: UserSummary::from(auth.user()),
        session: SessionView::current(&auth),
    })
}
