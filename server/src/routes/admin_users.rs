//! Admin API for users (SPEC §4.5).

use super::TAG_ADMIN;
use super::validation::{Fields, PASSWORD_MSG, USERNAME_MSG, valid_password, valid_username};
use super::views::UserView;
use crate::auth::AdminSession;
use crate::cache::Target;
use crate::error::{AppError, AppResult, ErrorBody};
use crate::extract::{AppJson, AppPath};
use crate::state::AppState;
use crate::store::{sessions, users};
use axum::{Json, extract::State, http::StatusCode};
use entity::user;
use sea_orm::{ActiveValue::Set, IntoActiveModel, TransactionTrait};
use secrecy::SecretString;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(get_user, update_user, delete_user))
}

/// A new user.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateUserRequest {
    #[schema(example = "alice")]
    pub username: Option<String>,
    #[schema(example = "correct horse battery staple", format = Password)]
    pub password: Option<String>,
    pub is_admin: Option<bool>,
}

/// Changes to a user; absent fields are unchanged.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateUserRequest {
    /// A new password; ends the user's sessions (not the API key).
    #[schema(format = Password)]
    pub password: Option<String>,
    pub is_active: Option<bool>,
    pub is_admin: Option<bool>,
}

const LAST_ADMIN: &str = "This is the last active admin; promote another user first.";

/// Finds a user by path id.
pub async fn find(state: &AppState, id: i32) -> AppResult<user::Model> {
    users::find(&state.db, id).await?.ok_or(AppError::NotFound)
}

/// List users
#[utoipa::path(get, path = "/api/admin/users", tag = TAG_ADMIN, security(("bearer" = [])),
    responses(
        (status = 200, description = "All users", body = Vec<UserView>),
        (status = 403, description = "Not an admin", body = ErrorBody),
    ))]
pub async fn list_users(
    State(state): State<AppState>,
    _admin: AdminSession,
) -> AppResult<Json<Vec<UserView>>> {
    Ok(Json(
        users::list(&state.db)
            .await?
            .into_iter()
            .map(UserView::from)
            .collect(),
    ))
}

/// Create a user
#[utoipa::path(post, path = "/api/admin/users", tag = TAG_ADMIN, security(("bearer" = [])),
    request_body = CreateUserRequest,
    responses(
        (status = 201, description = "Created", body = UserView),
        (status = 400, description = "Invalid fields", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 409, description = "Username taken", body = ErrorBody),
    ))]
pub async fn create_user(
    State(state): State<AppState>,
    _admin: AdminSession,
    AppJson(req): AppJson<CreateUserRequest>,
) -> AppResult<(StatusCode, Json<UserView>)> {
    let mut fields = Fields::default();
    let username = fields.required("username", req.username);
    fields.check(
        "username",
        username.as_deref(),
        valid_username,
        USERNAME_MSG,
    );
    let password = fields.required("password", req.password);
    fields.check(
        "password",
        password.as_deref(),
        valid_password,
        PASSWORD_MSG,
    );
    fields.finish()?;
    let (username, password) = (username.unwrap_or_default(), password.unwrap_or_default());
    if users::find_by_username(&state.db, &username)
        .await?
        .is_some()
    {
        return Err(AppError::Conflict(
            "A user with that username already exists.".into(),
        ));
    }
    let hash = crate::password::hash(SecretString::from(password)).await?;
    let created = users::create(
        &state.db,
        &username,
        hash,
        req.is_admin.unwrap_or(false),
        state.now(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// Show a user
#[utoipa::path(get, path = "/api/admin/users/{id}", tag = TAG_ADMIN, security(("bearer" = [])),
    params(("id" = i32, Path, description = "User id")),
    responses(
        (status = 200, description = "The user", body = UserView),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
    ))]
pub async fn get_user(
    State(state): State<AppState>,
    _admin: AdminSession,
    AppPath(id): AppPath<i32>,
) -> AppResult<Json<UserView>> {
    Ok(Json(find(&state, id).await?.into()))
}

/// Change a user
///
/// Deactivation refuses the user's tokens at once (reactivation restores them); a new password
/// ends their sessions. The last active admin cannot be deactivated or demoted.
#[utoipa::path(patch, path = "/api/admin/users/{id}", tag = TAG_ADMIN, security(("bearer" = [])),
    params(("id" = i32, Path, description = "User id")),
    request_body = UpdateUserRequest,
    responses(
        (status = 200, description = "Updated", body = UserView),
        (status = 400, description = "Invalid fields", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
        (status = 409, description = "Last active admin", body = ErrorBody),
    ))]
pub async fn update_user(
    State(state): State<AppState>,
    _admin: AdminSession,
    AppPath(id): AppPath<i32>,
    AppJson(req): AppJson<UpdateUserRequest>,
) -> AppResult<Json<UserView>> {
    let mut fields = Fields::default();
    fields.check(
        "password",
        req.password.as_deref(),
        valid_password,
        PASSWORD_MSG,
    );
    fields.finish()?;
    let existing = find(&state, id).await?;
    let hash = match req.password {
        Some(p) => Some(crate::password::hash(SecretString::from(p)).await?),
        None => None,
    };
    let txn = state.db.begin().await?;
    let stays_admin =
        req.is_active.unwrap_or(existing.is_active) && req.is_admin.unwrap_or(existing.is_admin);
    if existing.is_active
        && existing.is_admin
        && !stays_admin
        && users::count_active_admins(&txn).await? <= 1
    {
        return Err(AppError::Conflict(LAST_ADMIN.into()));
    }
    let mut model = existing.into_active_model();
    if let Some(v) = req.is_active {
        model.is_active = Set(v);
    }
    if let Some(v) = req.is_admin {
        model.is_admin = Set(v);
    }
    let password_changed = hash.is_some();
    if let Some(h) = hash {
        model.password_hash = Set(h);
    }
    let updated = users::update(&txn, model).await?;
    if password_changed {
        sessions::delete_for_user(&txn, id, sessions::Scope::SessionsOnly, state.now()).await?;
    }
    txn.commit().await?;
    state.invalidate(Target::User(id)).await;
    Ok(Json(updated.into()))
}

/// Delete a user
///
/// Ends all their sessions and the API key.
#[utoipa::path(delete, path = "/api/admin/users/{id}", tag = TAG_ADMIN, security(("bearer" = [])),
    params(("id" = i32, Path, description = "User id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
        (status = 409, description = "Last active admin", body = ErrorBody),
    ))]
pub async fn delete_user(
    State(state): State<AppState>,
    _admin: AdminSession,
    AppPath(id): AppPath<i32>,
) -> AppResult<StatusCode> {
    let existing = find(&state, id).await?;
    let txn = state.db.begin().await?;
    if existing.is_active && existing.is_admin && users::count_active_admins(&txn).await? <= 1 {
        return Err(AppError::Conflict(LAST_ADMIN.into()));
    }
    users::delete(&txn, id).await?;
    txn.commit().await?;
    state.invalidate(Target::User(id)).await;
    Ok(StatusCode::NO_CONTENT)
}
