//! JWT access tokens for downstream services (docs/tokens.md, "JWT access tokens"): the token
//! exchange, the published keys (RFC 7517) and the server metadata (RFC 8414).

use super::openapi::TAG_INTEGRATION;
use crate::authn::{Auth, Identity};
use crate::error::AppResult;
use crate::jwt::Jwk;
use crate::service::{keys, tokens};
use crate::state::AppState;
use axum::http::header;
use axum::{Json, extract::State};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_access_token))
        .routes(routes!(get_jwks))
        .routes(routes!(get_server_metadata))
}

/// A JWT access token.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessToken {
    /// An RFC 9068 JWT signed with EdDSA; check it against `/.well-known/jwks.json`.
    #[schema(example = "eyJ0eXAiOiJhdCtqd3QiLCJhbGciOiJFZERTQSIsImtpZCI6Ii4uLiJ9.eyJ…")]
    pub access_token: String,
    /// Always `Bearer`.
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until it expires.
    #[schema(example = 300)]
    pub expires_in: i64,
}

/// Exchange the credential for a JWT
///
/// A freshly minted JWT access token for services downstream of Tessera, on every call. Any
/// credential may ask, API keys limited to scopes included (their scopes go in `scope`).
#[utoipa::path(post, path = "/api/auth/token", tag = TAG_INTEGRATION, security(("bearer" = [])),
    responses(
        (status = 200, description = "A new JWT", body = AccessToken),
        (status = 503, description = "The signing key cannot be used", body = crate::error::ErrorBody,
            example = json!({"code": "unavailable", "detail": "The service is temporarily unavailable."})),
    ))]
pub async fn create_access_token(
    State(state): State<AppState>,
    auth: Auth<Identity>,
) -> AppResult<Json<AccessToken>> {
    let minted = tokens::mint(&state, &auth, tokens::Reuse::Never).await?;
    let now = state.now().div_euclid(crate::clock::SECOND);
    Ok(Json(AccessToken {
        access_token: minted.token.clone(),
        token_type: "Bearer",
        expires_in: (minted.exp - now).max(0),
    }))
}

/// A JSON Web Key Set.
#[derive(Debug, Serialize, ToSchema)]
pub struct JwkSet {
    /// The current key, the next one, and retired ones whose JWTs may still be live.
    pub keys: Vec<Jwk>,
}

/// The JWT signing keys (JWKS)
///
/// The public keys that sign Tessera's JWT access tokens (RFC 7517, `OKP`/`Ed25519`): the
/// current key, the next one (published ahead of its turn) and retired keys until their last
/// JWT has expired. Cacheable for five minutes.
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = TAG_INTEGRATION,
    responses((status = 200, description = "The key set", body = JwkSet)))]
pub async fn get_jwks(
    State(state): State<AppState>,
) -> AppResult<([(header::HeaderName, &'static str); 1], Json<JwkSet>)> {
    let loaded = keys::loaded(&state).await?;
    Ok((
        [(header::CACHE_CONTROL, "public, max-age=300")],
        Json(JwkSet {
            keys: loaded.jwks(state.now()),
        }),
    ))
}

/// RFC 8414 authorization server metadata.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServerMetadata {
    #[schema(example = "https://auth.example.com")]
    pub issuer: String,
    #[schema(example = "https://auth.example.com/.well-known/jwks.json")]
    pub jwks_uri: String,
    #[schema(example = "https://auth.example.com/api/auth/token")]
    pub token_endpoint: String,
    #[schema(example = "https://auth.example.com/api/auth/introspect")]
    pub introspection_endpoint: String,
    #[schema(example = "https://auth.example.com/api/auth/revoke")]
    pub revocation_endpoint: String,
    /// Empty: Tessera has no authorization endpoint.
    pub response_types_supported: Vec<String>,
    /// Callers of the introspection endpoint present a bearer credential.
    #[schema(example = json!(["bearer"]))]
    pub introspection_endpoint_auth_methods_supported: Vec<&'static str>,
    /// Revocation needs no caller authentication (possession of the token is the right).
    #[schema(example = json!(["none"]))]
    pub revocation_endpoint_auth_methods_supported: Vec<&'static str>,
}

/// Authorization server metadata (RFC 8414)
///
/// Where a service finds Tessera's keys and endpoints.
#[utoipa::path(get, path = "/.well-known/oauth-authorization-server", tag = TAG_INTEGRATION,
    responses((status = 200, description = "The metadata", body = ServerMetadata)))]
pub async fn get_server_metadata(State(state): State<AppState>) -> Json<ServerMetadata> {
    let base = state.settings.public_url.trim_end_matches('/');
    let url = |path: &str| format!("{base}{path}");
    Json(ServerMetadata {
        issuer: state.settings.jwt_issuer.clone(),
        jwks_uri: url("/.well-known/jwks.json"),
        token_endpoint: url("/api/auth/token"),
        introspection_endpoint: url("/api/auth/introspect"),
        revocation_endpoint: url("/api/auth/revoke"),
        response_types_supported: Vec::new(),
        introspection_endpoint_auth_methods_supported: vec!["bearer"],
        revocation_endpoint_auth_methods_supported: vec!["none"],
    })
}
