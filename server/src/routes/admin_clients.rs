//! Admin API for clients (SPEC §4.5).

use super::TAG_ADMIN;
use super::validation::{Fields, valid_client_name};
use super::views::ClientView;
use crate::auth::AdminSession;
use crate::cache::Target;
use crate::error::{AppError, AppResult, ErrorBody};
use crate::extract::{AppJson, AppPath, double_option};
use crate::policy::Rate;
use crate::state::AppState;
use crate::store::clients::{self, NewClient};
use axum::{Json, extract::State, http::StatusCode};
use entity::client;
use sea_orm::{ActiveValue::Set, IntoActiveModel};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_clients, create_client))
        .routes(routes!(get_client, update_client, delete_client))
}

/// Longest accepted duration: 100 years, so every expiry stays a representable date.
const MAX_DURATION: i64 = 100 * 365 * 86_400;

/// A new client; only `name` is required.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateClientRequest {
    #[schema(example = "ios")]
    pub name: Option<String>,
    pub description: Option<String>,
    /// Seconds > 0, or `null` for tokens that never expire (default 86400).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>, example = 2592000)]
    pub token_ttl: Option<Option<i64>>,
    /// Seconds > 0 from a session's creation, or `null` (default).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>)]
    pub max_lifetime: Option<Option<i64>>,
    /// `N/s|m|h|d`, or `null` for unlimited (default).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, example = "100/m")]
    pub throttle_rate: Option<Option<String>>,
    /// ≥ 1, or `null` for no limit (default).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>, example = 5)]
    pub max_sessions: Option<Option<i64>>,
    pub auto_renew: Option<bool>,
}

/// Changes to a client; an absent field is unchanged, `null` sets null.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateClientRequest {
    pub description: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>)]
    pub token_ttl: Option<Option<i64>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>)]
    pub max_lifetime: Option<Option<i64>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub throttle_rate: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>)]
    pub max_sessions: Option<Option<i64>>,
    pub auto_renew: Option<bool>,
    /// Names cannot change; sending a different one is a validation error.
    pub name: Option<String>,
}

struct Policy {
    token_ttl: Option<Option<i64>>,
    max_lifetime: Option<Option<i64>>,
    throttle_rate: Option<Option<String>>,
    max_sessions: Option<Option<i32>>,
}

fn validate_policy(
    fields: &mut Fields,
    token_ttl: Option<Option<i64>>,
    max_lifetime: Option<Option<i64>>,
    throttle_rate: Option<Option<String>>,
    max_sessions: Option<Option<i64>>,
) -> Policy {
    let seconds = |v: &i64| (1..=MAX_DURATION).contains(v);
    fields.check(
        "token_ttl",
        token_ttl.flatten().as_ref(),
        seconds,
        "Enter a number of seconds > 0 (at most 100 years), or null.",
    );
    fields.check(
        "max_lifetime",
        max_lifetime.flatten().as_ref(),
        seconds,
        "Enter a number of seconds > 0 (at most 100 years), or null.",
    );
    let rate_ok = |r: &String| r.parse::<Rate>().is_ok();
    fields.check(
        "throttle_rate",
        throttle_rate.clone().flatten().as_ref(),
        rate_ok,
        "Enter N/s, N/m, N/h or N/d with N ≥ 1, or null.",
    );
    let sessions_ok = |n: &i64| (1..=i32::MAX as i64).contains(n);
    fields.check(
        "max_sessions",
        max_sessions.flatten().as_ref(),
        sessions_ok,
        "Enter an integer ≥ 1, or null.",
    );
    Policy {
        token_ttl,
        max_lifetime,
        throttle_rate,
        max_sessions: max_sessions.map(|o| o.map(|n| n.clamp(1, i32::MAX as i64) as i32)),
    }
}

async fn find(state: &AppState, name: &str) -> AppResult<client::Model> {
    clients::find_by_name(&state.db, name)
        .await?
        .ok_or(AppError::NotFound)
}

/// List clients
#[utoipa::path(get, path = "/api/admin/clients", tag = TAG_ADMIN, security(("bearer" = [])),
    responses(
        (status = 200, description = "All clients", body = Vec<ClientView>),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    ))]
pub async fn list_clients(
    State(state): State<AppState>,
    _admin: AdminSession,
) -> AppResult<Json<Vec<ClientView>>> {
    Ok(Json(
        clients::list(&state.db)
            .await?
            .into_iter()
            .map(ClientView::from)
            .collect(),
    ))
}

/// Create a client
#[utoipa::path(post, path = "/api/admin/clients", tag = TAG_ADMIN, security(("bearer" = [])),
    request_body = CreateClientRequest,
    responses(
        (status = 201, description = "Created", body = ClientView),
        (status = 400, description = "Invalid fields", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 409, description = "Name taken", body = ErrorBody),
    ))]
pub async fn create_client(
    State(state): State<AppState>,
    _admin: AdminSession,
    AppJson(req): AppJson<CreateClientRequest>,
) -> AppResult<(StatusCode, Json<ClientView>)> {
    let mut fields = Fields::default();
    let name = fields.required("name", req.name);
    fields.check(
        "name",
        name.as_deref(),
        valid_client_name,
        "Enter 1–64 of A-Z a-z 0-9 . _ -, starting with a letter or digit.",
    );
    let policy = validate_policy(
        &mut fields,
        req.token_ttl,
        req.max_lifetime,
        req.throttle_rate,
        req.max_sessions,
    );
    fields.finish()?;
    let defaults = NewClient::named(&name.unwrap_or_default());
    let new = NewClient {
        description: req.description.unwrap_or_default(),
        token_ttl: policy.token_ttl.unwrap_or(defaults.token_ttl),
        max_lifetime: policy.max_lifetime.unwrap_or(defaults.max_lifetime),
        throttle_rate: policy.throttle_rate.unwrap_or(defaults.throttle_rate),
        max_sessions: policy.max_sessions.unwrap_or(defaults.max_sessions),
        auto_renew: req.auto_renew.unwrap_or(defaults.auto_renew),
        name: defaults.name,
    };
    let created = clients::create(&state.db, new, state.now())
        .await
        .map_err(|err| match err {
            AppError::Conflict(_) => {
                AppError::Conflict("A client with that name already exists.".into())
            }
            other => other,
        })?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// Show a client
#[utoipa::path(get, path = "/api/admin/clients/{name}", tag = TAG_ADMIN, security(("bearer" = [])),
    params(("name" = String, Path, description = "Client name")),
    responses(
        (status = 200, description = "The client", body = ClientView),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such client", body = ErrorBody),
    ))]
pub async fn get_client(
    State(state): State<AppState>,
    _admin: AdminSession,
    AppPath(name): AppPath<String>,
) -> AppResult<Json<ClientView>> {
    Ok(Json(find(&state, &name).await?.into()))
}

/// Change a client's policy
///
/// Rates apply from the next request, `max_sessions` from the next login, `token_ttl` and
/// `max_lifetime` from the next renewal.
#[utoipa::path(patch, path = "/api/admin/clients/{name}", tag = TAG_ADMIN, security(("bearer" = [])),
    params(("name" = String, Path, description = "Client name")),
    request_body = UpdateClientRequest,
    responses(
        (status = 200, description = "Updated", body = ClientView),
        (status = 400, description = "Invalid fields", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such client", body = ErrorBody),
    ))]
pub async fn update_client(
    State(state): State<AppState>,
    _admin: AdminSession,
    AppPath(name): AppPath<String>,
    AppJson(req): AppJson<UpdateClientRequest>,
) -> AppResult<Json<ClientView>> {
    let existing = find(&state, &name).await?;
    let mut fields = Fields::default();
    fields.check(
        "name",
        req.name.as_ref(),
        |n| *n == existing.name,
        "A client's name cannot change.",
    );
    let policy = validate_policy(
        &mut fields,
        req.token_ttl,
        req.max_lifetime,
        req.throttle_rate,
        req.max_sessions,
    );
    fields.finish()?;
    let mut model = existing.into_active_model();
    if let Some(v) = req.description {
        model.description = Set(v);
    }
    if let Some(v) = policy.token_ttl {
        model.token_ttl = Set(v);
    }
    if let Some(v) = policy.max_lifetime {
        model.max_lifetime = Set(v);
    }
    if let Some(v) = policy.throttle_rate {
        model.throttle_rate = Set(v);
    }
    if let Some(v) = policy.max_sessions {
        model.max_sessions = Set(v);
    }
    if let Some(v) = req.auto_renew {
        model.auto_renew = Set(v);
    }
    let updated = clients::update(&state.db, model).await?;
    // Cached rows carry the policy (TTL, rate, auto-renew): refetch them.
    state.invalidate(Target::Client(updated.id)).await;
    Ok(Json(updated.into()))
}

/// Delete a client
///
/// Ends every session and API key on it.
#[utoipa::path(delete, path = "/api/admin/clients/{name}", tag = TAG_ADMIN, security(("bearer" = [])),
    params(("name" = String, Path, description = "Client name")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such client", body = ErrorBody),
    ))]
pub async fn delete_client(
    State(state): State<AppState>,
    _admin: AdminSession,
    AppPath(name): AppPath<String>,
) -> AppResult<StatusCode> {
    let existing = find(&state, &name).await?;
    clients::delete(&state.db, existing.id).await?;
    state.invalidate(Target::Client(existing.id)).await;
    Ok(StatusCode::NO_CONTENT)
}
