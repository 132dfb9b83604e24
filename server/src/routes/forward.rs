//! Resource-server integration (SPEC §4.3): forward-auth and introspection.

use super::TAG_INTEGRATION;
use crate::auth::{IntrospectionCaller, Unmetered, lookup, spend_budget};
use crate::clock::SECOND;
use crate::error::{AppError, AppResult, ErrorBody};
use crate::extract::{AppQuery, JsonOrForm};
use crate::state::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, request::Parts};
use axum::{Json, routing::MethodRouter};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(verify_token))
        .routes(routes!(introspect_token))
}

/// The other methods forward-auth answers like GET (proxies forward the original method).
pub fn verify_other_methods() -> MethodRouter<AppState> {
    axum::routing::post(verify_token)
        .put(verify_token)
        .patch(verify_token)
        .delete(verify_token)
        .options(verify_token)
}

/// Client filters for forward-auth.
#[derive(Debug, Deserialize, IntoParams)]
pub struct VerifyQuery {
    /// Comma-separated client names; when given, the token's client must be one of them.
    pub allow_clients: Option<String>,
    /// Comma-separated client names the token's client must not be.
    pub deny_clients: Option<String>,
}

/// Who the token belongs to.
#[derive(Debug, Serialize, ToSchema)]
pub struct VerifyResponse {
    pub user_id: i32,
    pub username: String,
    pub client: String,
    pub session_id: String,
    pub expiry: Option<DateTime<Utc>>,
}

/// Whether `name` is in a comma-separated list; `None` when there is no list, or only empty
/// items (so `?allow_clients=` does not lock everyone out).
fn listed(list: &Option<String>, name: &str) -> Option<bool> {
    let items: Vec<&str> = list
        .as_deref()?
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    (!items.is_empty()).then(|| items.contains(&name))
}

/// Forward-auth for reverse proxies
///
/// Authenticates the `Authorization` header (nginx `auth_request`, Traefik ForwardAuth, Envoy
/// ext_authz), applies the (user, client) budget and the client filters, and answers 200 with
/// `X-Auth-*` identity headers. Every HTTP method is answered alike.
#[utoipa::path(get, path = "/api/auth/verify", tag = TAG_INTEGRATION, security(("bearer" = [])),
    params(VerifyQuery),
    responses(
        (status = 200, description = "Valid; identity in the body and X-Auth-* headers", body = VerifyResponse,
            headers(("X-Auth-User-Id" = String), ("X-Auth-Username" = String), ("X-Auth-Client" = String), ("X-Auth-Session-Id" = String))),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Client not allowed", body = ErrorBody),
        (status = 429, description = "Over budget", body = ErrorBody),
    ))]
pub async fn verify_token(
    State(state): State<AppState>,
    parts: Parts,
    Unmetered(auth): Unmetered,
    AppQuery(query): AppQuery<VerifyQuery>,
) -> AppResult<(HeaderMap, Json<VerifyResponse>)> {
    let client = auth.row.client_name.as_str();
    if listed(&query.allow_clients, client) == Some(false)
        || listed(&query.deny_clients, client) == Some(true)
    {
        return Err(AppError::Forbidden);
    }
    spend_budget(&state, &parts, &auth).await?;
    let row = auth.row;
    let mut headers = HeaderMap::new();
    let mut set = |name: &'static str, value: String| {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(HeaderName::from_static(name), v);
        }
    };
    set("x-auth-user-id", row.user_id.to_string());
    set("x-auth-username", row.username.clone());
    set("x-auth-client", row.client_name.clone());
    set("x-auth-session-id", row.session_id.clone());
    Ok((
        headers,
        Json(VerifyResponse {
            user_id: row.user_id,
            username: row.username,
            client: row.client_name,
            session_id: row.session_id,
            expiry: row.expiry.map(crate::clock::to_datetime),
        }),
    ))
}

/// The token to introspect (JSON or form-encoded).
#[derive(Debug, Deserialize, ToSchema)]
pub struct IntrospectRequest {
    pub token: Option<String>,
}

/// An active token (RFC 7662).
#[derive(Debug, Serialize, ToSchema)]
pub struct ActiveToken {
    /// Always true.
    pub active: bool,
    pub user_id: i32,
    pub username: String,
    pub client: String,
    pub session_id: String,
    /// Expiry in Unix seconds, or `null`.
    pub exp: Option<i64>,
    /// `session` or `api_key`.
    pub token_type: String,
}

/// `{"active": false}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct InactiveToken {
    /// Always false.
    pub active: bool,
}

/// The introspection answer.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum IntrospectResponse {
    Active(ActiveToken),
    Inactive(InactiveToken),
}

/// Introspect a token (RFC 7662)
///
/// For trusted services: authenticate with an admin token or the introspection secret. An
/// unknown, expired, revoked or malformed token, or one whose user is inactive, is
/// `{"active": false}`. Introspection spends no budget and does not count as a use.
#[utoipa::path(post, path = "/api/auth/introspect", tag = TAG_INTEGRATION, security(("bearer" = [])),
    request_body(content(
        (IntrospectRequest = "application/json"),
        (IntrospectRequest = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 200, description = "The token's state", body = IntrospectResponse),
        (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 401, description = "Caller not authenticated", body = ErrorBody),
        (status = 403, description = "Caller not allowed", body = ErrorBody),
    ))]
pub async fn introspect_token(
    State(state): State<AppState>,
    _caller: IntrospectionCaller,
    JsonOrForm(req): JsonOrForm<IntrospectRequest>,
) -> AppResult<Json<IntrospectResponse>> {
    let Some(token) = req.token.filter(|t| !t.trim().is_empty()) else {
        return Err(AppError::field("token", "This field is required."));
    };
    let inactive = || {
        Json(IntrospectResponse::Inactive(InactiveToken {
            active: false,
        }))
    };
    let row = match lookup(&state, token.trim(), false).await {
        Ok(verified) => verified.row,
        Err(AppError::Unauthorized { .. }) => return Ok(inactive()),
        Err(other) => return Err(other),
    };
    Ok(Json(IntrospectResponse::Active(ActiveToken {
        active: true,
        user_id: row.user_id,
        username: row.username,
        client: row.client_name,
        session_id: row.session_id,
        exp: row.expiry.map(|e| e.div_euclid(SECOND)),
        token_type: row.kind,
    })))
}
