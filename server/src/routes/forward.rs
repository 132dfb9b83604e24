//! Resource-server integration (docs/endpoints.md): forward-auth, introspection (RFC 7662) and
//! revocation (RFC 7009).

use super::openapi::TAG_INTEGRATION;
use super::rendered::{self, Headers, RenderedJson};
use crate::authn::{self, Auth, ForwardAuth, IntrospectionCaller};
use crate::clock::{SECOND, to_datetime};
use crate::cookies::ResponseNotes;
use crate::error::{AppError, AppResult, ErrorBody};
use crate::extract::{AppQuery, JsonOrForm};
use crate::principal::Principal;
use crate::scopes;
use crate::service::sessions::{self, Mode};
use crate::service::tokens;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderName, HeaderValue};
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(verify_token))
        .routes(routes!(introspect_token))
        .routes(routes!(revoke_token))
}

/// Client filters for forward-auth.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VerifyQuery {
    /// Comma-separated client names; when given, the token's client must be one of them
    /// (names are trimmed; empty items are ignored).
    #[param(example = "web,mobile")]
    pub allow_clients: Option<String>,
    /// Comma-separated client names the token's client must not be.
    #[param(example = "cli")]
    pub deny_clients: Option<String>,
    /// Freshness: the session's last password proof (login or re-authentication; an API key's
    /// creation) must be at most this many seconds old, else 401 `reauthentication_required`.
    #[param(example = 300, minimum = 0, maximum = 3153600000_i64)]
    pub max_age: Option<u64>,
    /// Comma-separated scopes the credential must all hold, else 403 `insufficient_scope`.
    /// Sessions and unrestricted API keys hold every scope.
    #[param(
        example = "reports:read",
        pattern = "^[a-z0-9:._-]{0,64}(,[a-z0-9:._-]{0,64})*$"
    )]
    pub scope: Option<String>,
    /// `true`: also answer a JWT access token for the upstream, in the body (`jwt`) and in
    /// `X-Auth-Jwt`. The same JWT may be handed out again for up to half its lifetime.
    #[param(example = true)]
    pub jwt: Option<bool>,
}

/// The scopes `?scope=` asks for (items trimmed, empty ones ignored); a malformed one is a
/// `validation_error` naming `scope` (no key could hold it).
fn wanted_scopes(query: &Option<String>) -> AppResult<Vec<&str>> {
    let wanted: Vec<&str> = query
        .as_deref()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if wanted.iter().any(|s| !scopes::valid_scope(s)) {
        return Err(AppError::field("scope", scopes::SCOPE_MSG));
    }
    Ok(wanted)
}

/// Who the credential belongs to.
#[derive(Debug, Serialize, ToSchema)]
pub struct VerifyResponse {
    pub user_id: i32,
    #[schema(example = "alice")]
    pub username: String,
    #[schema(example = "web")]
    pub client: String,
    #[schema(example = "5f0c8a4e-8f0e-4f5b-9a57-1f2d3c4b5a69")]
    pub session_id: String,
    /// `session` or `api_key`.
    #[schema(example = "session")]
    pub kind: String,
    /// The key's scopes; `null` for sessions and unrestricted keys (which hold every scope).
    pub scopes: Option<Vec<String>>,
    #[serde(serialize_with = "super::rfc3339::option")]
    pub expiry: Option<DateTime<Utc>>,
    // Last: `RenderedJson::response_with` appends it to the rendered answer.
    /// With `?jwt=true`: a JWT access token for the upstream.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwt: Option<String>,
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

// Header names as constants: `HeaderName::from_static` is a `const fn`, so these are checked
// once at compile time instead of on every verification.
const X_AUTH_USER_ID: HeaderName = HeaderName::from_static("x-auth-user-id");
const X_AUTH_USERNAME: HeaderName = HeaderName::from_static("x-auth-username");
const X_AUTH_CLIENT: HeaderName = HeaderName::from_static("x-auth-client");
const X_AUTH_SESSION_ID: HeaderName = HeaderName::from_static("x-auth-session-id");
const X_AUTH_KIND: HeaderName = HeaderName::from_static("x-auth-kind");
const X_AUTH_SCOPES: HeaderName = HeaderName::from_static("x-auth-scopes");
const X_AUTH_JWT: HeaderName = HeaderName::from_static("x-auth-jwt");

/// The `X-Auth-*` identity headers; a value that cannot be a header value is left out.
fn identity_headers(principal: &Principal) -> Headers {
    let mut headers = Headers::with_capacity(6);
    headers.push((X_AUTH_USER_ID, HeaderValue::from(principal.user().id)));
    let mut set = |name: HeaderName, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.push((name, v));
        }
    };
    set(X_AUTH_USERNAME, &principal.user().username);
    set(X_AUTH_CLIENT, &principal.client().name);
    set(X_AUTH_SESSION_ID, &principal.session().id);
    set(X_AUTH_KIND, principal.session().kind.as_str());
    if let Some(held) = &principal.session().scopes {
        set(X_AUTH_SCOPES, &held.join(" "));
    }
    headers
}

/// Forward-auth for reverse proxies
///
/// Authenticates the credential (nginx `auth_request`, Traefik ForwardAuth, Envoy ext_authz),
/// applies the client filters and then the (user, client) budget, and answers 200 with
/// `X-Auth-*` identity headers. Every HTTP method is answered alike. A browser's session
/// cookie is accepted like a header credential; for its CSRF rule the method is taken from
/// `X-Forwarded-Method` (Traefik) or `X-Original-Method` (nginx) when present.
#[utoipa::path(method(get, post, put, patch, delete, options), path = "/api/auth/verify",
    tag = TAG_INTEGRATION, security(("bearer" = [])),
    params(VerifyQuery),
    responses(
        (status = 200, description = "Valid; identity in the body and X-Auth-* headers", body = VerifyResponse,
            headers(("X-Auth-User-Id" = String), ("X-Auth-Username" = String), ("X-Auth-Client" = String),
                    ("X-Auth-Session-Id" = String), ("X-Auth-Kind" = String),
                    ("X-Auth-Scopes" = String, description = "Space-separated; only for an API key limited to scopes"),
                    ("X-Auth-Jwt" = String, description = "With `?jwt=true`: a JWT access token for the upstream"))),
        (status = 403, description = "Client not allowed, or a scope missing", body = ErrorBody,
            example = json!({"code": "insufficient_scope", "detail": "The credential lacks a required scope."})),
    ))]
pub async fn verify_token(
    State(state): State<AppState>,
    notes: ResponseNotes,
    auth: Auth<ForwardAuth>,
    AppQuery(query): AppQuery<VerifyQuery>,
) -> AppResult<Response> {
    if let Some(max_age) = query.max_age {
        let max_age = i64::try_from(max_age)
            .ok()
            .filter(|s| *s <= crate::policy::MAX_DURATION)
            .ok_or_else(|| {
                AppError::field("max_age", "Enter a number of seconds from 0 to 100 years.")
            })?;
        let age = state.now() - auth.session().authenticated_at;
        if age > max_age * SECOND {
            return Err(AppError::unauthorized(
                "reauthentication_required",
                "Please confirm your password again.",
            ));
        }
    }
    let client = auth.client().name.as_str();
    if listed(&query.allow_clients, client) == Some(false)
        || listed(&query.deny_clients, client) == Some(true)
    {
        return Err(AppError::Forbidden);
    }
    let wanted = wanted_scopes(&query.scope)?;
    let missing = scopes::missing(&auth.session().scopes, &wanted);
    if !missing.is_empty() {
        return Err(AppError::InsufficientScope(
            missing.into_iter().map(str::to_string).collect(),
        ));
    }
    authn::spend(&state, Some(&notes), &auth).await?;
    // Rendered once per cached record: the identity headers and body only change with it.
    let view = auth
        .record
        .rendered
        .verify
        .get_or_init(|| render_verify(&auth));
    let view = rendered::or_internal(&view)?;
    match query.jwt {
        Some(true) => {
            let minted = tokens::mint(&state, &auth, tokens::Reuse::Allowed).await?;
            Ok(view.response_with("jwt", &minted.token, X_AUTH_JWT))
        }
        _ => Ok(view.response()),
    }
}

/// Forward-auth's answer for a principal, without a JWT; `None` if it does not serialise.
pub(crate) fn render_verify(principal: &Principal) -> Option<RenderedJson> {
    RenderedJson::new(&VerifyResponse::of(principal), identity_headers(principal))
}

impl VerifyResponse {
    /// The answer for a principal, without a JWT (`verify?jwt=true` appends one).
    fn of(principal: &Principal) -> Self {
        let (user, session) = (principal.user(), principal.session());
        Self {
            user_id: user.id,
            username: user.username.clone(),
            client: principal.client().name.clone(),
            session_id: session.id.clone(),
            kind: session.kind.as_str().to_string(),
            scopes: session.scopes.as_deref().map(<[String]>::to_vec),
            expiry: session.expiry.map(to_datetime),
            jwt: None,
        }
    }
}

/// The token to introspect (JSON or form-encoded).
#[derive(Debug, Deserialize, ToSchema)]
pub struct IntrospectRequest {
    /// The token; an empty or malformed one is simply not active.
    #[schema(value_type = String, required = true, example = "tss_AbCdEfGhIjKlMnOpQrStUvWxYz0123450DJdDE")]
    pub token: Option<String>,
}

/// An active token (RFC 7662).
#[derive(Debug, Serialize, ToSchema)]
pub struct ActiveToken {
    /// Always true.
    pub active: bool,
    /// Always `Bearer`.
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// `session` or `api_key`.
    #[schema(example = "session")]
    pub kind: &'static str,
    /// The user id, as a string.
    #[schema(example = "42")]
    pub sub: String,
    pub user_id: i32,
    #[schema(example = "alice")]
    pub username: String,
    #[schema(example = "web")]
    pub client: String,
    /// The client name again, under its RFC 7662 name.
    #[schema(example = "web")]
    pub client_id: String,
    #[schema(example = "5f0c8a4e-8f0e-4f5b-9a57-1f2d3c4b5a69")]
    pub session_id: String,
    /// When the session was created, Unix seconds.
    pub iat: i64,
    /// Expiry in Unix seconds, or `null`.
    pub exp: Option<i64>,
    /// When the user last proved their password for this session, Unix seconds.
    pub auth_time: i64,
    /// A scoped API key's scopes, space-separated; absent for sessions and unrestricted keys.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "reports:read")]
    pub scope: Option<String>,
}

/// `{"active": false}`, and nothing else.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InactiveToken {
    /// Always false.
    pub active: bool,
}

/// The introspection answer.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum IntrospectResponse {
    Active(Box<ActiveToken>),
    Inactive(InactiveToken),
}

/// Introspect a token (RFC 7662)
///
/// For trusted services: authenticate with an admin token or the introspection secret. An
/// unknown, expired, revoked, malformed or empty token, or one whose user is inactive, is
/// `{"active": false}`. Introspection spends no budget and does not count as a use.
#[utoipa::path(post, path = "/api/auth/introspect", tag = TAG_INTEGRATION, security(("introspection" = [])),
    request_body(content(
        (IntrospectRequest = "application/json"),
        (IntrospectRequest = "application/x-www-form-urlencoded"),
    )),
    responses((status = 200, description = "The token's state", body = IntrospectResponse)))]
pub async fn introspect_token(
    State(state): State<AppState>,
    _caller: IntrospectionCaller,
    JsonOrForm(req): JsonOrForm<IntrospectRequest>,
) -> AppResult<Json<IntrospectResponse>> {
    let Some(token) = req.token else {
        return Err(AppError::field("token", "This field is required."));
    };
    let inactive = || {
        Json(IntrospectResponse::Inactive(InactiveToken {
            active: false,
        }))
    };
    let record = match sessions::verify(&state, token.trim(), Mode::Inspect).await {
        Ok(verified) => verified.record,
        Err(AppError::Unauthorized { .. }) => return Ok(inactive()),
        Err(other) => return Err(other),
    };
    let (user, session) = (&record.user, &record.session);
    let secs = |micros: i64| micros.div_euclid(SECOND);
    Ok(Json(IntrospectResponse::Active(Box::new(ActiveToken {
        active: true,
        token_type: "Bearer",
        kind: session.kind.as_str(),
        sub: user.id.to_string(),
        user_id: user.id,
        username: user.username.clone(),
        client: record.client.name.clone(),
        client_id: record.client.name.clone(),
        session_id: session.id.clone(),
        iat: secs(session.created),
        exp: session.expiry.map(secs),
        auth_time: secs(session.authenticated_at),
        scope: session.scopes.as_ref().map(|held| held.join(" ")),
    }))))
}

/// The token to revoke (JSON or form-encoded); `token_type_hint` is accepted and ignored.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RevokeRequest {
    /// The token to end.
    #[schema(value_type = String, required = true, example = "tss_AbCdEfGhIjKlMnOpQrStUvWxYz0123450DJdDE")]
    pub token: Option<String>,
    /// Ignored (RFC 7009 lets servers ignore it).
    #[schema(example = "access_token")]
    pub token_type_hint: Option<String>,
}

/// `{}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Empty {}

/// Revoke a token (RFC 7009)
///
/// Possession of a token is the right to revoke it, so no caller authentication is needed.
/// Always 200 `{}`, whether the token was live, unknown or malformed (a malformed one never
/// reaches the database); a live token's session or API key ends on every instance at once.
#[utoipa::path(post, path = "/api/auth/revoke", tag = TAG_INTEGRATION,
    request_body(content(
        (RevokeRequest = "application/json"),
        (RevokeRequest = "application/x-www-form-urlencoded"),
    )),
    responses((status = 200, description = "Revoked, or nothing to revoke", body = Empty)))]
pub async fn revoke_token(
    State(state): State<AppState>,
    JsonOrForm(req): JsonOrForm<RevokeRequest>,
) -> AppResult<Json<Empty>> {
    let Some(token) = req.token else {
        return Err(AppError::field("token", "This field is required."));
    };
    sessions::revoke_token(&state, token.trim()).await?;
    Ok(Json(Empty {}))
}
