//! Admin API for users (docs/endpoints.md, "Users").

use super::openapi::TAG_ADMIN;
use super::pagination;
use super::views::UserView;
use crate::authn::{AdminOnly, Auth};
use crate::error::{AppResult, ErrorBody};
use crate::extract::{AppJson, AppPath, AppQuery};
use crate::rules::Fields;
use crate::rules::non_null;
use crate::service::users::{self, UserPatch};
use crate::state::AppState;
use axum::http::{HeaderMap, Uri};
use axum::{Json, extract::State, http::StatusCode};
use secrecy::SecretString;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(get_user, update_user, delete_user))
}

/// A page of users.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserListQuery {
    /// Page size (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u64>,
    /// The id of the previous page's last user.
    #[param(minimum = 0, maximum = 2147483647)]
    pub after: Option<i32>,
    /// Keeps usernames containing this text (ignoring case).
    #[param(example = "ali", max_length = 150)]
    pub q: Option<String>,
}

/// A new user.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateUserRequest {
    #[schema(value_type = String, required = true, example = "alice", pattern = "^[A-Za-z0-9@.+_-]{1,150}$")]
    pub username: Option<String>,
    #[schema(value_type = String, required = true, example = "correct horse battery", format = Password, min_length = 8, max_length = 1024, pattern = "\\S")]
    pub password: Option<String>,
    /// Default false.
    #[serde(default, deserialize_with = "non_null")]
    #[schema(value_type = bool)]
    pub is_admin: Option<bool>,
}

/// Changes to a user; an absent field is unchanged, and `null` is refused.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateUserRequest {
    /// A new password; ends the user's sessions (not the API keys).
    #[serde(default, deserialize_with = "non_null")]
    #[schema(value_type = String, format = Password, min_length = 8, max_length = 1024)]
    pub password: Option<String>,
    /// `false` ends every session and API key of the user at once.
    #[serde(default, deserialize_with = "non_null")]
    #[schema(value_type = bool)]
    pub is_active: Option<bool>,
    #[serde(default, deserialize_with = "non_null")]
    #[schema(value_type = bool)]
    pub is_admin: Option<bool>,
}

/// List users
///
/// By ascending id, paginated: `Link: <next page>; rel="next"` when more users exist.
#[utoipa::path(get, path = "/api/admin/users", tag = TAG_ADMIN, security(("bearer" = [])),
    params(UserListQuery),
    responses(
        (status = 200, description = "A page of users", body = Vec<UserView>,
            headers(("Link" = String, description = "`<URL of the next page>; rel=\"next\"` when more users exist"))),
        (status = 400, description = "Invalid query", body = ErrorBody,
            example = json!({"code": "validation_error", "detail": "Invalid input."})),
    ))]
pub async fn list_users(
    State(state): State<AppState>,
    _admin: Auth<AdminOnly>,
    uri: Uri,
    AppQuery(query): AppQuery<UserListQuery>,
) -> AppResult<(HeaderMap, Json<Vec<UserView>>)> {
    let mut fields = Fields::default();
    let limit = pagination::limit(&mut fields, query.limit);
    fields.check(
        "after",
        query.after.as_ref(),
        |n| *n >= 0,
        "Enter a user id.",
    );
    fields.check(
        "q",
        query.q.as_deref(),
        |q: &str| q.chars().count() <= 150,
        "Enter at most 150 characters.",
    );
    fields.finish()?;
    let rows = users::list(&state, query.after, limit + 1, query.q.as_deref()).await?;
    let (headers, rows) = pagination::page(&uri, rows, limit, |u| u.id.to_string());
    Ok((
        headers,
        Json(rows.into_iter().map(UserView::from).collect()),
    ))
}

/// Create a user
#[utoipa::path(post, path = "/api/admin/users", tag = TAG_ADMIN, security(("bearer" = [])),
    request_body = CreateUserRequest,
    responses(
        (status = 201, description = "Created", body = UserView),
        (status = 409, description = "Username taken", body = ErrorBody,
            example = json!({"code": "conflict", "detail": "A user with that username already exists."})),
    ))]
pub async fn create_user(
    State(state): State<AppState>,
    _admin: Auth<AdminOnly>,
    AppJson(req): AppJson<CreateUserRequest>,
) -> AppResult<(StatusCode, Json<UserView>)> {
    let mut fields = Fields::default();
    let username = fields.required("username", req.username);
    let password = fields.required("password", req.password);
    fields.finish()?;
    let created = users::create(
        &state,
        &username.unwrap_or_default(),
        SecretString::from(password.unwrap_or_default()),
        req.is_admin.unwrap_or(false),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// Show a user
#[utoipa::path(get, path = "/api/admin/users/{id}", tag = TAG_ADMIN, security(("bearer" = [])),
    params(("id" = i32, Path, description = "User id")),
    responses(
        (status = 200, description = "The user", body = UserView),
        (status = 404, description = "No such user", body = ErrorBody,
            example = json!({"code": "not_found", "detail": "Not found."})),
    ))]
pub async fn get_user(
    State(state): State<AppState>,
    _admin: Auth<AdminOnly>,
    AppPath(id): AppPath<i32>,
) -> AppResult<Json<UserView>> {
    Ok(Json(users::get(&state, id).await?.into()))
}

/// Change a user
///
/// Deactivation ends every session and API key of the user at once (reactivation restores
/// none); a new password ends their sessions. The last active admin cannot be deactivated or
/// demoted.
#[utoipa::path(patch, path = "/api/admin/users/{id}", tag = TAG_ADMIN, security(("bearer" = [])),
    params(("id" = i32, Path, description = "User id")),
    request_body = UpdateUserRequest,
    responses(
        (status = 200, description = "Updated", body = UserView),
        (status = 404, description = "No such user", body = ErrorBody,
            example = json!({"code": "not_found", "detail": "Not found."})),
        (status = 409, description = "Last active admin", body = ErrorBody,
            example = json!({"code": "conflict", "detail": "This is the last active admin; promote another user first."})),
    ))]
pub async fn update_user(
    State(state): State<AppState>,
    _admin: Auth<AdminOnly>,
    AppPath(id): AppPath<i32>,
    AppJson(req): AppJson<UpdateUserRequest>,
) -> AppResult<Json<UserView>> {
    let patch = UserPatch {
        password: req.password.map(SecretString::from),
        is_active: req.is_active,
        is_admin: req.is_admin,
    };
    Ok(Json(users::update(&state, id, patch).await?.into()))
}

/// Delete a user
///
/// Ends all their sessions and API keys.
#[utoipa::path(delete, path = "/api/admin/users/{id}", tag = TAG_ADMIN, security(("bearer" = [])),
    params(("id" = i32, Path, description = "User id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such user", body = ErrorBody,
            example = json!({"code": "not_found", "detail": "Not found."})),
        (status = 409, description = "Last active admin", body = ErrorBody,
            example = json!({"code": "conflict", "detail": "This is the last active admin; promote another user first."})),
    ))]
pub async fn delete_user(
    State(state): State<AppState>,
    _admin: Auth<AdminOnly>,
    AppPath(id): AppPath<i32>,
) -> AppResult<StatusCode> {
    users::delete(&state, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
