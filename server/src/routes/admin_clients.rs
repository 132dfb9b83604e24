//! Admin API for clients (docs/endpoints.md, "Clients").

use super::openapi::TAG_ADMIN;
use super::views::ClientView;
use crate::authn::{AdminOnly, Auth};
use crate::error::{AppResult, ErrorBody};
use crate::extract::{AppJson, AppPath};
use crate::policy::{ClientPolicy, ClientPolicyPatch};
use crate::rules::Fields;
use crate::service::clients;
use crate::state::AppState;
use axum::{Json, extract::State, http::StatusCode};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_clients, create_client))
        .routes(routes!(get_client, update_client, delete_client))
}

/// A new client (the document's view of the body): `name` is required, every other field
/// has its default.
#[derive(ToSchema)]
#[expect(
    dead_code,
    reason = "a schema for the document only; the body is parsed as ClientPolicyPatch"
)]
pub struct CreateClientRequest {
    /// 1–64 of `A-Z a-z 0-9 . _ -`, starting with a letter or digit; cannot change later.
    #[schema(example = "ios", pattern = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    name: String,
    #[serde(flatten)]
    policy: ClientPolicyPatch,
}

/// List clients
#[utoipa::path(get, path = "/api/admin/clients", tag = TAG_ADMIN, security(("bearer" = [])),
    responses((status = 200, description = "All clients, by name", body = Vec<ClientView>)))]
pub async fn list_clients(
    State(state): State<AppState>,
    _admin: Auth<AdminOnly>,
) -> AppResult<Json<Vec<ClientView>>> {
    let all = clients::list(&state).await?;
    Ok(Json(all.into_iter().map(ClientView::from).collect()))
}

/// Create a client
#[utoipa::path(post, path = "/api/admin/clients", tag = TAG_ADMIN, security(("bearer" = [])),
    request_body(content = CreateClientRequest, description = "Only `name` is required; every other field has its default."),
    responses(
        (status = 201, description = "Created", body = ClientView),
        (status = 409, description = "Name taken", body = ErrorBody,
            example = json!({"code": "conflict", "detail": "A client with that name already exists."})),
    ))]
pub async fn create_client(
    State(state): State<AppState>,
    _admin: Auth<AdminOnly>,
    AppJson(mut req): AppJson<ClientPolicyPatch>,
) -> AppResult<(StatusCode, Json<ClientView>)> {
    let mut fields = Fields::default();
    let name = fields.required("name", req.name.take());
    clients::check_name(&mut fields, name.as_deref());
    let policy = ClientPolicy::default().patched(req, &mut fields);
    policy.validate(&mut fields);
    fields.finish()?;
    let created = clients::create(&state, &name.unwrap_or_default(), &policy).await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// Show a client
#[utoipa::path(get, path = "/api/admin/clients/{name}", tag = TAG_ADMIN, security(("bearer" = [])),
    params(("name" = String, Path, description = "Client name")),
    responses(
        (status = 200, description = "The client", body = ClientView),
        (status = 404, description = "No such client", body = ErrorBody,
            example = json!({"code": "not_found", "detail": "Not found."})),
    ))]
pub async fn get_client(
    State(state): State<AppState>,
    _admin: Auth<AdminOnly>,
    AppPath(name): AppPath<String>,
) -> AppResult<Json<ClientView>> {
    Ok(Json(clients::get(&state, &name).await?.into()))
}

/// Change a client's policy
///
/// Rates apply from the next request, `max_sessions` from the next login, `token_ttl` and
/// `max_lifetime` from the next renewal.
#[utoipa::path(patch, path = "/api/admin/clients/{name}", tag = TAG_ADMIN, security(("bearer" = [])),
    params(("name" = String, Path, description = "Client name")),
    request_body(content = ClientPolicyPatch, description = "An absent field is unchanged; `name`, if sent, must be the client's own."),
    responses(
        (status = 200, description = "Updated", body = ClientView),
        (status = 404, description = "No such client", body = ErrorBody,
            example = json!({"code": "not_found", "detail": "Not found."})),
    ))]
pub async fn update_client(
    State(state): State<AppState>,
    _admin: Auth<AdminOnly>,
    AppPath(name): AppPath<String>,
    AppJson(req): AppJson<ClientPolicyPatch>,
) -> AppResult<Json<ClientView>> {
    Ok(Json(clients::update(&state, &name, req).await?.into()))
}

/// Delete a client
///
/// Ends every session and API key on it.
#[utoipa::path(delete, path = "/api/admin/clients/{name}", tag = TAG_ADMIN, security(("bearer" = [])),
    params(("name" = String, Path, description = "Client name")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such client", body = ErrorBody,
            example = json!({"code": "not_found", "detail": "Not found."})),
    ))]
pub async fn delete_client(
    State(state): State<AppState>,
    _admin: Auth<AdminOnly>,
    AppPath(name): AppPath<String>,
) -> AppResult<StatusCode> {
    clients::delete(&state, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}
