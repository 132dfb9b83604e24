//! The other ways in and the account's own actions (docs/endpoints.md): remote-user login by a
//! trusted single-sign-on proxy, sign-up, re-authentication, password change, and the CSRF
//! token of a cookie session.

use super::auth::LoginResponse;
use super::openapi::TAG_AUTH;
use super::views::UserView;
use crate::authn::Auth;
use crate::clock::to_datetime;
use crate::cookies::ResponseNotes;
use crate::error::{AppError, AppResult, ErrorBody};
use crate::extract::{AppJson, JsonOrForm};
use crate::net::Caller;
use crate::principal::Credential;
use crate::rules::Fields;
use crate::service::{account, login};
use crate::state::AppState;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::{Extension, Json};
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_remote_login))
        .routes(routes!(create_signup))
        .routes(routes!(create_reauth))
        .routes(routes!(update_password))
        .routes(routes!(get_csrf_token))
}

/// A remote-user login (JSON or form-encoded). The user comes from the proxy's header.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RemoteLoginRequest {
    /// Client name, e.g. `web` or `browser`.
    #[schema(value_type = String, required = true, example = "browser", pattern = "\\S")]
    pub client: Option<String>,
    /// Shown in the session list (at most 100 characters); derived from the User-Agent when
    /// absent.
    #[schema(example = "Alice's laptop", max_length = 100)]
    pub device_name: Option<String>,
}

/// The device name of a login body: trimmed, empty as absent, at most 100 characters.
pub fn device_name(fields: &mut Fields, raw: Option<String>) -> Option<String> {
    let device = raw.map(|d| d.trim().to_string()).filter(|d| !d.is_empty());
    fields.check(
        "device_name",
        device.as_deref(),
        |d: &str| d.chars().count() <= 100,
        "Ensure this field has no more than 100 characters.",
    );
    device
}

/// Log in as the user a single-sign-on proxy vouches for
///
/// For a trusted proxy (`TESSERA_TRUSTED_PROXIES`) that has already authenticated the person
/// and names them in `TESSERA_REMOTE_USER_HEADER`. Any other caller gets 403, whatever it
/// sends. 404 when remote-user login is not configured. Otherwise like a password login.
#[utoipa::path(post, path = "/api/auth/login/remote", tag = TAG_AUTH,
    request_body(content(
        (RemoteLoginRequest = "application/json"),
        (RemoteLoginRequest = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 200, description = "Logged in", body = LoginResponse),
        (status = 400, description = "Unknown or inactive user, unknown client, invalid input", body = ErrorBody,
            example = json!({"code": "invalid_credentials", "detail": "Unable to log in with provided credentials."})),
        (status = 401, description = "The proxy named no user", body = ErrorBody,
            example = json!({"code": "not_authenticated", "detail": "Authentication credentials were not provided."})),
        (status = 403, description = "Not called by a trusted proxy", body = ErrorBody,
            example = json!({"code": "permission_denied", "detail": "You do not have permission to perform this action."})),
        (status = 404, description = "Remote-user login is not configured", body = ErrorBody,
            example = json!({"code": "not_found", "detail": "Not found."})),
        (status = 429, description = "Too many attempts; see Retry-After", body = ErrorBody,
            example = json!({"code": "throttled", "detail": "Request was throttled. Expected available in 6 seconds."})),
    ))]
pub async fn create_remote_login(
    State(state): State<AppState>,
    caller: Caller,
    notes: ResponseNotes,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    JsonOrForm(req): JsonOrForm<RemoteLoginRequest>,
) -> AppResult<Json<LoginResponse>> {
    let Some(header) = state.settings.remote_user_header.as_deref() else {
        return Err(AppError::NotFound);
    };
    // Only the TCP peer counts: X-Forwarded-For is what a caller says about itself.
    let trusted = peer.is_some_and(|Extension(ConnectInfo(addr))| {
        let ip = addr.ip();
        state
            .settings
            .trusted_proxies
            .iter()
            .any(|net| net.contains(&ip))
    });
    if !trusted {
        return Err(AppError::Forbidden);
    }
    let username = headers
        .get(header)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .ok_or_else(|| {
            AppError::unauthorized(
                "not_authenticated",
                "Authentication credentials were not provided.",
            )
        })?
        .to_string();
    let mut fields = Fields::default();
    let client = fields.required("client", req.client);
    let device_name = device_name(&mut fields, req.device_name);
    fields.finish()?;
    let remote = login::RemoteLogin {
        username,
        client: client.unwrap_or_default(),
        device_name,
        origin_allowed: crate::authn::origin_allowed(&headers, &state.settings),
    };
    let done = login::login_remote(&state, remote, caller).await?;
    Ok(Json(LoginResponse::new(&state, &notes, done)))
}

/// A new account.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SignupRequest {
    /// 1–150 of `A-Z a-z 0-9 @ . + _ -`.
    #[schema(value_type = String, required = true, example = "alice", pattern = "^[A-Za-z0-9@.+_-]{1,150}$")]
    pub username: Option<String>,
    /// 8–1024 characters.
    #[schema(value_type = String, required = true, format = Password, example = "correct horse battery", min_length = 8, max_length = 1024)]
    pub password: Option<String>,
}

/// Create an account
///
/// Open only when the server runs with `TESSERA_SIGNUP=open` (404 otherwise). The new user is
/// not an admin and logs in as usual. Spends the caller's per-IP login budget.
#[utoipa::path(post, path = "/api/auth/signup", tag = TAG_AUTH,
    request_body = SignupRequest,
    responses(
        (status = 201, description = "Created", body = UserView),
        (status = 404, description = "Sign-up is closed", body = ErrorBody,
            example = json!({"code": "not_found", "detail": "Not found."})),
        (status = 409, description = "The username is taken", body = ErrorBody,
            example = json!({"code": "conflict", "detail": "A user with that username already exists."})),
        (status = 429, description = "Too many attempts; see Retry-After", body = ErrorBody,
            example = json!({"code": "throttled", "detail": "Request was throttled. Expected available in 6 seconds."})),
    ))]
pub async fn create_signup(
    State(state): State<AppState>,
    caller: Caller,
    AppJson(req): AppJson<SignupRequest>,
) -> AppResult<(StatusCode, Json<UserView>)> {
    if !state.settings.signup_open {
        return Err(AppError::NotFound);
    }
    let mut fields = Fields::default();
    let username = fields.required("username", req.username);
    let password = fields.required("password", req.password);
    fields.finish()?;
    let user = account::signup(
        &state,
        &username.unwrap_or_default(),
        SecretString::from(password.unwrap_or_default()),
        &caller,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(UserView::from(user))))
}

/// The password, proved again.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ReauthRequest {
    #[schema(value_type = String, required = true, format = Password, example = "correct horse battery", pattern = "\\S")]
    pub password: Option<String>,
}

/// When the password was last proved.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReauthResponse {
    pub authenticated_at: DateTime<Utc>,
}

/// Confirm the password again
///
/// For a sensitive action: the presenting session's `authenticated_at` becomes now, which
/// `verify?max_age=N` checks. The token does not change.
#[utoipa::path(post, path = "/api/auth/reauth", tag = TAG_AUTH, security(("bearer" = [])),
    request_body = ReauthRequest,
    responses(
        (status = 200, description = "Confirmed", body = ReauthResponse),
        (status = 400, description = "Wrong password or invalid input", body = ErrorBody,
            example = json!({"code": "invalid_credentials", "detail": "Unable to log in with provided credentials."})),
    ))]
pub async fn create_reauth(
    State(state): State<AppState>,
    caller: Caller,
    auth: Auth,
    AppJson(req): AppJson<ReauthRequest>,
) -> AppResult<Json<ReauthResponse>> {
    let mut fields = Fields::default();
    let password = fields.required("password", req.password);
    fields.finish()?;
    let password = SecretString::from(password.unwrap_or_default());
    let at = account::reauthenticate(&state, &auth, password, &caller).await?;
    Ok(Json(ReauthResponse {
        authenticated_at: to_datetime(at),
    }))
}

/// A password change.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PasswordChangeRequest {
    #[schema(value_type = String, required = true, format = Password, example = "correct horse battery", pattern = "\\S")]
    pub current_password: Option<String>,
    /// 8–1024 characters.
    #[schema(value_type = String, required = true, format = Password, example = "battery staple horse", min_length = 8, max_length = 1024)]
    pub new_password: Option<String>,
}

/// Change my password
///
/// Every other session of the user ends (API keys are kept); this one counts as freshly
/// authenticated.
#[utoipa::path(post, path = "/api/auth/password", tag = TAG_AUTH, security(("bearer" = [])),
    request_body = PasswordChangeRequest,
    responses(
        (status = 204, description = "Changed"),
        (status = 400, description = "Wrong current password or invalid new one", body = ErrorBody,
            example = json!({"code": "invalid_credentials", "detail": "Unable to log in with provided credentials."})),
    ))]
pub async fn update_password(
    State(state): State<AppState>,
    caller: Caller,
    auth: Auth,
    AppJson(req): AppJson<PasswordChangeRequest>,
) -> AppResult<StatusCode> {
    let mut fields = Fields::default();
    let current = fields.required("current_password", req.current_password);
    let new = fields.required("new_password", req.new_password);
    fields.finish()?;
    account::change_password(
        &state,
        &auth,
        SecretString::from(current.unwrap_or_default()),
        SecretString::from(new.unwrap_or_default()),
        &caller,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The CSRF token of a cookie session.
#[derive(Debug, Serialize, ToSchema)]
pub struct CsrfResponse {
    /// Send it as `X-CSRF-Token` on every unsafe request made with the cookie.
    #[schema(example = "q2Jf3Yc0dW1pbkBleGFtcGxlLmNvbTpzZXNzaW9uLWlk")]
    pub csrf_token: String,
}

/// Get the CSRF token of this browser session
///
/// For a page that was reloaded and lost the token the login gave it. Only for the session
/// cookie; other credentials need no CSRF token (400).
#[utoipa::path(get, path = "/api/auth/csrf", tag = TAG_AUTH, security(("bearer" = [])),
    responses(
        (status = 200, description = "The token", body = CsrfResponse),
        (status = 400, description = "Not a cookie session", body = ErrorBody,
            example = json!({"code": "validation_error", "detail": "Invalid input.", "fields": {"credential": ["Only a session cookie has a CSRF token."]}})),
    ))]
pub async fn get_csrf_token(
    State(state): State<AppState>,
    auth: Auth,
) -> AppResult<Json<CsrfResponse>> {
    if auth.credential != Credential::Cookie {
        return Err(AppError::field(
            "credential",
            "Only a session cookie has a CSRF token.",
        ));
    }
    Ok(Json(CsrfResponse {
        csrf_token: state.secret.csrf_token(&auth.session().id),
    }))
}
