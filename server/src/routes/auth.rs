//! Token lifecycle (docs/endpoints.md): login (body or HTTP Basic; remote user in
//! [`super::account`]), refresh, logout, logout-all, me. Cookie clients get their token in a
//! cookie instead of the body (docs/tokens.md, "Browser apps").

use super::openapi::TAG_AUTH;
use super::rendered::{self, RenderedJson};
use super::views::{SessionView, UserSummary};
use crate::authn::{Auth, Identity};
use crate::clock::to_datetime;
use crate::cookies::{self, ResponseNotes};
use crate::error::{AppError, AppResult};
use crate::extract::JsonOrForm;
use crate::net::Caller;
use crate::policy::Transport;
use crate::principal::{Credential, Principal};
use crate::rules::Fields;
use crate::service::sessions::{Scope, Why};
use crate::service::{login, refresh, sessions};
use crate::state::AppState;
use crate::token;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use axum::{Json, extract::State};
use base64::Engine;
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

/// Login credentials (JSON or form-encoded). `username` and `password` may instead come in
/// `Authorization: Basic`, but not in both places.
#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    /// Required unless sent with HTTP Basic.
    #[schema(value_type = String, example = "alice", pattern = "\\S")]
    pub username: Option<String>,
    /// Required unless sent with HTTP Basic.
    #[schema(value_type = String, example = "correct horse battery", format = Password, pattern = "\\S")]
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

/// A new session. The token is shown only here; a cookie client's token is in the session
/// cookie instead, and the body carries the CSRF token its page must send.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    /// Bearer clients only.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "tss_AbCdEfGhIjKlMnOpQrStUvWxYz0123450DJdDE")]
    pub token: Option<String>,
    pub expiry: Option<DateTime<Utc>>,
    pub session: SessionView,
    pub user: UserSummary,
    /// Bearer clients after a password login: keep this (it outlives logouts) and send it with
    /// this device's next login. Cookie clients get it as the `tessera_device` cookie.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "v1.YWxpY2U.1796169419.3f9a0c2b7d1e4a5b6c7d8e9f.dGhpcyBpcyBhbiBleGFtcGxl")]
    pub device_proof: Option<String>,
    /// Cookie clients only: send it as `X-CSRF-Token` on every unsafe request.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "q2Jf3Yc0dW1pbkBleGFtcGxlLmNvbTpzZXNzaW9uLWlk")]
    pub csrf_token: Option<String>,
}

impl LoginResponse {
    /// The answer to a successful login; a cookie client's token and device proof go into
    /// cookies (through `notes`) instead of the body.
    pub fn new(state: &AppState, notes: &ResponseNotes, done: login::LoggedIn) -> Self {
        let session = done.issued.session;
        let (mut token, mut device_proof, mut csrf_token) = (
            Some(token::reveal(&done.issued.token)),
            done.device_proof,
            None,
        );
        if done.issued.transport == Transport::Cookie {
            let settings = &state.settings;
            if let Some(token) = token.take() {
                notes.set_session_cookie(cookies::session_cookie(
                    settings,
                    &token,
                    session.expiry,
                    state.now(),
                ));
            }
            if let Some(proof) = device_proof.take() {
                notes.set_device_cookie(cookies::device_cookie(settings, &proof));
            }
            csrf_token = Some(state.secret.csrf_token(&session.id));
        }
        Self {
            token,
            expiry: session.expiry.map(to_datetime),
            session: SessionView::new(session.clone(), done.issued.client_name, Some(&session.id)),
            user: UserSummary::from(&done.user),
            device_proof,
            csrf_token,
        }
    }
}

/// The username and password of `Authorization: Basic`, if the request uses that scheme
/// (UTF-8, split at the first colon).
fn basic_credentials(headers: &HeaderMap) -> AppResult<Option<(String, String)>> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let bad = || AppError::field("authorization", "Malformed Basic credentials.");
    let value = value.to_str().map_err(|_| bad())?.trim();
    let Some((scheme, encoded)) = value.split_once(' ') else {
        return Ok(None);
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| bad())?;
    let decoded = String::from_utf8(decoded).map_err(|_| bad())?;
    let (username, password) = decoded.split_once(':').ok_or_else(bad)?;
    Ok(Some((username.to_string(), password.to_string())))
}

/// `{"expiry"}` after a renewal, and the new `token` when the client rotates tokens.
#[derive(Debug, Serialize, ToSchema)]
pub struct RefreshResponse {
    /// Clients with `rotate_on_refresh` (bearer transport): the new token, shown only here.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "tss_AbCdEfGhIjKlMnOpQrStUvWxYz0123450DJdDE")]
    pub token: Option<String>,
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
/// Creates a new session on the named client. The username and password come in the body or
/// in `Authorization: Basic` (not both). Wrong password, unknown and inactive users all get
/// the same answer in about the same time. A cookie client (such as `browser`) gets its token
/// as an HttpOnly cookie and a `csrf_token` in the body; a foreign `Origin` is refused.
#[utoipa::path(post, path = "/api/auth/login", tag = TAG_AUTH,
    request_body(content(
        (LoginRequest = "application/json"),
        (LoginRequest = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 200, description = "Logged in", body = LoginResponse),
        (status = 403, description = "A cookie client's login from a foreign origin", body = crate::error::ErrorBody,
            example = json!({"code": "csrf_failed", "detail": "CSRF check failed: send the X-CSRF-Token header from a page of this site."})),
        (status = 400, description = "Invalid input, credentials or client", body = crate::error::ErrorBody,
            example = json!({"code": "invalid_credentials", "detail": "Unable to log in with provided credentials."})),
        (status = 429, description = "Too many attempts; see Retry-After", body = crate::error::ErrorBody,
            example = json!({"code": "throttled", "detail": "Request was throttled. Expected available in 6 seconds."})),
    ))]
pub async fn create_login(
    State(state): State<AppState>,
    caller: Caller,
    notes: ResponseNotes,
    headers: HeaderMap,
    JsonOrForm(req): JsonOrForm<LoginRequest>,
) -> AppResult<Json<LoginResponse>> {
    let basic = basic_credentials(&headers)?;
    let basic_used = basic.is_some();
    let mut fields = Fields::default();
    let (username, password) = match basic {
        Some(_) if req.username.is_some() || req.password.is_some() => {
            return Err(AppError::field(
                "authorization",
                "Send the username and password either in Authorization: Basic or in the body, not both.",
            ));
        }
        Some((username, password)) => (
            fields.required("username", Some(username)),
            fields.required("password", Some(password)),
        ),
        None => (
            fields.required("username", req.username),
            fields.required("password", req.password),
        ),
    };
    let client = fields.required("client", req.client);
    let device = super::account::device_name(&mut fields, req.device_name);
    fields.finish()?;
    let creds = login::Credentials {
        username: username.unwrap_or_default(),
        password: SecretString::from(password.unwrap_or_default()),
        client: client.unwrap_or_default(),
        device_name: device,
        device_proof: req
            .device_proof
            .or_else(|| cookies::read(&headers, cookies::DEVICE_COOKIE).map(str::to_string)),
        origin_allowed: crate::authn::origin_allowed(&headers, &state.settings),
        method: if basic_used { "basic" } else { "password" },
    };
    let done = login::login(&state, creds, caller).await?;
    Ok(Json(LoginResponse::new(&state, &notes, done)))
}

/// Renew the presenting token
///
/// Moves the expiry to min(now + token_ttl, created + max_lifetime). The token does not change;
/// a session cookie is sent again with the new `Max-Age`.
#[utoipa::path(post, path = "/api/auth/refresh", tag = TAG_AUTH, security(("bearer" = [])),
    responses((status = 200, description = "Renewed", body = RefreshResponse)))]
pub async fn refresh_token(
    State(state): State<AppState>,
    notes: ResponseNotes,
    headers: HeaderMap,
    auth: Auth,
) -> AppResult<Json<RefreshResponse>> {
    let renewed = refresh::renew(&state, &auth).await?;
    let mut token = renewed.token;
    if auth.client().policy.transport == Transport::Cookie {
        // A cookie client's token never goes in a body: a rotated one replaces the cookie's,
        // otherwise the cookie is re-sent as it is.
        let presented = (auth.credential == Credential::Cookie)
            .then(|| cookies::read(&headers, &state.settings.cookie_name))
            .flatten();
        let value = token.take().or_else(|| presented.map(str::to_string));
        if let Some(value) = value {
            notes.set_session_cookie(cookies::session_cookie(
                &state.settings,
                &value,
                renewed.expiry,
                state.now(),
            ));
        }
    }
    Ok(Json(RefreshResponse {
        token,
        expiry: renewed.expiry.map(to_datetime),
    }))
}

/// Log out this device
///
/// Ends the presenting session (or API key); a session cookie is cleared.
#[utoipa::path(post, path = "/api/auth/logout", tag = TAG_AUTH, security(("bearer" = [])),
    responses((status = 204, description = "Logged out")))]
pub async fn delete_logout(
    State(state): State<AppState>,
    notes: ResponseNotes,
    auth: Auth,
) -> AppResult<StatusCode> {
    sessions::end(&state, &auth).await?;
    clear_cookie(&state, &notes, &auth);
    Ok(StatusCode::NO_CONTENT)
}

/// Clears the session cookie when it was the request's credential.
fn clear_cookie(state: &AppState, notes: &ResponseNotes, auth: &Auth) {
    if auth.credential == Credential::Cookie {
        notes.set_session_cookie(cookies::clear_session_cookie(&state.settings));
    }
}

/// Log out everywhere
///
/// Ends every session and API key of the user; a session cookie is cleared.
#[utoipa::path(post, path = "/api/auth/logoutall", tag = TAG_AUTH, security(("bearer" = [])),
    responses((status = 204, description = "Logged out everywhere")))]
pub async fn delete_all_logins(
    State(state): State<AppState>,
    notes: ResponseNotes,
    auth: Auth,
) -> AppResult<StatusCode> {
    sessions::revoke_user(
        &state,
        (auth.user().id, &auth.user().username),
        Scope::All,
        Why::LogoutAll,
    )
    .await?;
    clear_cookie(&state, &notes, &auth);
    Ok(StatusCode::NO_CONTENT)
}

/// `/me`'s answer for a principal; `None` if it does not serialise.
pub(crate) fn render_me(principal: &Principal) -> Option<RenderedJson> {
    let me = MeResponse {
        user: UserSummary::from(principal.user()),
        session: SessionView::current(principal),
    };
    RenderedJson::new(&me, Vec::new())
}

/// Who am I
///
/// The user and the session (or API key) behind the presenting credential.
#[utoipa::path(get, path = "/api/auth/me", tag = TAG_AUTH, security(("bearer" = [])),
    responses((status = 200, description = "The caller", body = MeResponse)))]
pub async fn get_me(auth: Auth<Identity>) -> AppResult<Response> {
    // Rendered once per cached record, like forward-auth's answer (see `Rendered`).
    let view = auth.record.rendered.me.get_or_init(|| render_me(&auth));
    rendered::or_internal(&view).map(RenderedJson::response)
}
