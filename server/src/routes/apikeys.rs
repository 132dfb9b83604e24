//! API keys (docs/endpoints.md, "API keys"): list, create (name, scopes, expiry), delete, and
//! roll with a grace period.

use super::openapi::TAG_SESSIONS;
use crate::authn::Auth;
use crate::clock::to_datetime;
use crate::error::{AppError, AppResult, ErrorBody};
use crate::extract::{AppJson, AppPath, OptionalJson};
use crate::net::Caller;
use crate::policy::MAX_DURATION;
use crate::rules::{Fields, Whole};
use crate::scopes;
use crate::service::apikeys::{self, MAX_GRACE, NewKey};
use crate::service::sessions::Issued;
use crate::state::AppState;
use crate::token;
use axum::{Json, extract::State, http::StatusCode};
use chrono::{DateTime, Utc};
use entity::session;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_api_keys, create_named_api_key))
        .routes(routes!(delete_named_api_key))
        .routes(routes!(roll_api_key))
}

/// An API key (never its token).
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyView {
    /// The key's id: its session id, as the admin session listings show it.
    #[schema(example = "5f0c8a4e-8f0e-4f5b-9a57-1f2d3c4b5a69")]
    pub id: String,
    /// Unique among the user's keys.
    #[schema(example = "nightly-report")]
    pub name: String,
    /// `null` = unrestricted; otherwise all the key may do beyond `me`, `verify` and `token`.
    #[schema(example = json!(["reports:read"]))]
    pub scopes: Option<Vec<String>>,
    #[schema(example = "api")]
    pub client: String,
    pub created: DateTime<Utc>,
    /// Last authenticated use (may lag by up to 60 s).
    pub last_used: DateTime<Utc>,
    pub expiry: Option<DateTime<Utc>>,
    #[schema(example = "tsk_Q2xa")]
    pub token_hint: String,
}

impl ApiKeyView {
    /// Maps a stored key.
    pub fn new(s: &session::Model, client: String) -> Self {
        Self {
            id: s.id.clone(),
            name: s.name.clone().unwrap_or_default(),
            scopes: scopes::from_stored(s.scopes.as_deref()).map(|v| v.to_vec()),
            client,
            created: to_datetime(s.created),
            last_used: to_datetime(s.last_used),
            expiry: s.expiry.map(to_datetime),
            token_hint: s.token_hint.clone(),
        }
    }
}

/// An API key with its token: shown only when it is created or rolled.
#[derive(Debug, Serialize, ToSchema)]
pub struct NewApiKey {
    #[serde(flatten)]
    pub key: ApiKeyView,
    #[schema(example = "tsk_AbCdEfGhIjKlMnOpQrStUvWxYz0123453pnQdu")]
    pub token: String,
}

impl From<Issued> for NewApiKey {
    fn from(issued: Issued) -> Self {
        Self {
            key: ApiKeyView::new(&issued.session, issued.client_name),
            token: token::reveal(&issued.token),
        }
    }
}

/// A key to create.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateApiKeyRequest {
    /// 1–100 characters, unique among your keys.
    #[schema(value_type = String, required = true, example = "nightly-report", min_length = 1, max_length = 100,
        pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f][^\\x00-\\x1f\\x7f-\\x9f]*$")]
    pub name: Option<String>,
    /// Absent or `null`: unrestricted. Otherwise at most 50 scopes of `[a-z0-9:._-]{1,64}`; a
    /// key limited to scopes may call only `me`, `verify` and `token` on Tessera itself.
    #[schema(schema_with = scopes_schema)]
    pub scopes: Option<Vec<String>>,
    /// Seconds until the key expires (at least 60; capped by the API-access client's
    /// `max_lifetime`). Absent: the API-access client's policy.
    #[schema(value_type = Option<i64>, example = 2592000, minimum = 60, maximum = 3153600000_i64)]
    pub expires_in: Option<Whole>,
}

/// `scopes`: `null`, or an array of at most 50 scope strings (utoipa has no attribute for the
/// items' pattern, so the schema is built here).
fn scopes_schema() -> utoipa::openapi::schema::Array {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, SchemaType, Type};
    let item = ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(scopes::SCOPE_PATTERN))
        .min_length(Some(1))
        .max_length(Some(scopes::MAX_SCOPE_LEN))
        .build();
    ArrayBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Array, Type::Null]))
        .items(item)
        .max_items(Some(scopes::MAX_SCOPES))
        .description(Some(
            "Absent or `null`: unrestricted. Otherwise at most 50 scopes of `[a-z0-9:._-]{1,64}`; \
             a key limited to scopes may call only `me`, `verify` and `token` on Tessera itself.",
        ))
        .examples([serde_json::json!(["reports:read"])])
        .build()
}

/// Checks a create request, naming every bad field.
fn checked(req: CreateApiKeyRequest) -> AppResult<NewKey> {
    let mut fields = Fields::default();
    let name = match req.name {
        None => {
            fields.add("name", "This field is required.");
            String::new()
        }
        Some(name) if !scopes::valid_name(&name) => {
            fields.add("name", scopes::NAME_MSG);
            name
        }
        Some(name) => name,
    };
    let scopes = match req.scopes.as_deref().map(scopes::normalise) {
        None => None,
        Some(Some(list)) => Some(list),
        Some(None) => {
            fields.add("scopes", scopes::SCOPE_MSG);
            None
        }
    };
    if req
        .expires_in
        .is_some_and(|s| !(60..=MAX_DURATION).contains(&s.0))
    {
        fields.add(
            "expires_in",
            "Enter a number of seconds from 60 to 100 years.",
        );
    }
    fields.finish()?;
    Ok(NewKey {
        name,
        scopes,
        expires_in: req.expires_in.map(|w| w.0),
    })
}

/// List my API keys
///
/// The caller's live API keys, newest first (never their tokens).
#[utoipa::path(get, path = "/api/auth/apikeys", tag = TAG_SESSIONS, security(("bearer" = [])),
    responses((status = 200, description = "The caller's API keys", body = Vec<ApiKeyView>)))]
pub async fn list_api_keys(
    State(state): State<AppState>,
    auth: Auth,
) -> AppResult<Json<Vec<ApiKeyView>>> {
    let rows = apikeys::list(&state, auth.user().id).await?;
    Ok(Json(
        rows.iter()
            .map(|(key, client)| ApiKeyView::new(key, client.clone()))
            .collect(),
    ))
}

/// Create an API key
///
/// A named key, unrestricted or limited to scopes, optionally expiring. The token (prefix
/// `tsk_`) is shown once, in this response.
#[utoipa::path(post, path = "/api/auth/apikeys", tag = TAG_SESSIONS, security(("bearer" = [])),
    request_body = CreateApiKeyRequest,
    responses(
        (status = 201, description = "Created", body = NewApiKey),
        (status = 400, description = "The API-access client does not exist", body = ErrorBody,
            example = json!({"code": "api_access_unavailable", "detail": "API keys are not enabled on this server."})),
        (status = 409, description = "A key of that name exists, or the per-user limit is reached", body = ErrorBody,
            example = json!({"code": "conflict", "detail": "You already have an API key named \"ci\"."})),
    ))]
pub async fn create_named_api_key(
    State(state): State<AppState>,
    auth: Auth,
    caller: Caller,
    AppJson(req): AppJson<CreateApiKeyRequest>,
) -> AppResult<(StatusCode, Json<NewApiKey>)> {
    let key = checked(req)?;
    let issued = apikeys::create(&state, auth.user(), caller, key).await?;
    Ok((StatusCode::CREATED, Json(issued.into())))
}

/// Delete an API key
///
/// Someone else's key and an unknown id get the same 404.
#[utoipa::path(delete, path = "/api/auth/apikeys/{id}", tag = TAG_SESSIONS, security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Key id (UUID)")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such key of yours", body = ErrorBody,
            example = json!({"code": "not_found", "detail": "Not found."})),
    ))]
pub async fn delete_named_api_key(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<uuid::Uuid>,
) -> AppResult<StatusCode> {
    if !apikeys::delete(&state, auth.user(), &id.to_string()).await? {
        return Err(AppError::NotFound);
    }
    Ok(StatusCode::NO_CONTENT)
}

/// How long the old token keeps working after a roll.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct RollApiKeyRequest {
    /// Seconds (0–86400, default 0: the old token ends at once).
    #[schema(value_type = Option<i64>, example = 300, minimum = 0, maximum = 86400)]
    pub grace: Option<Whole>,
}

/// Roll an API key
///
/// A new token for the key (same id, name, scopes and expiry), shown once in this response. The
/// old token keeps working for `grace` seconds, then ends. The body may be left out.
#[utoipa::path(post, path = "/api/auth/apikeys/{id}/roll", tag = TAG_SESSIONS, security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Key id (UUID)")),
    request_body(content = RollApiKeyRequest, description = "Optional"),
    responses(
        (status = 200, description = "Rolled", body = NewApiKey),
        (status = 404, description = "No such key of yours", body = ErrorBody,
            example = json!({"code": "not_found", "detail": "Not found."})),
        (status = 409, description = "Rolled or deleted at the same time by another request", body = ErrorBody,
            example = json!({"code": "conflict", "detail": "The key changed while it was being rolled; list the keys and try again."})),
    ))]
pub async fn roll_api_key(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<uuid::Uuid>,
    OptionalJson(req): OptionalJson<RollApiKeyRequest>,
) -> AppResult<Json<NewApiKey>> {
    let grace = req.grace.map_or(0, |w| w.0);
    if !(0..=MAX_GRACE).contains(&grace) {
        return Err(AppError::field(
            "grace",
            "Enter a number of seconds from 0 to 86400.",
        ));
    }
    match apikeys::roll(&state, auth.user(), &id.to_string(), grace).await? {
        Some(issued) => Ok(Json(issued.into())),
        None => Err(AppError::NotFound),
    }
}
