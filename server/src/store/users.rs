//! Queries on `users`.

use crate::error::AppResult;
use entity::user;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder,
};

/// Inserts a user; a taken username is a 409 through `sql_err`.
pub async fn create(
    db: &impl ConnectionTrait,
    username: &str,
    password_hash: String,
    is_admin: bool,
    now: i64,
) -> AppResult<user::Model> {
    let model = user::ActiveModel {
        username: Set(username.to_string()),
        password_hash: Set(password_hash),
        is_active: Set(true),
        is_admin: Set(is_admin),
        created: Set(now),
        last_login: Set(None),
        ..Default::default()
    };
    Ok(user::Entity::insert(model).exec_with_returning(db).await?)
}

/// The user with exactly this username.
pub async fn find_by_username(
    db: &impl ConnectionTrait,
    username: &str,
) -> AppResult<Option<user::Model>> {
    Ok(user::Entity::find()
        .filter(user::Column::Username.eq(username))
        .one(db)
        .await?)
}

/// The user with this id.
pub async fn find(db: &impl ConnectionTrait, id: i32) -> AppResult<Option<user::Model>> {
    Ok(user::Entity::find_by_id(id).one(db).await?)
}

/// Every user, by id.
pub async fn list(db: &impl ConnectionTrait) -> AppResult<Vec<user::Model>> {
    Ok(user::Entity::find()
        .order_by_asc(user::Column::Id)
        .all(db)
        .await?)
}

/// How many users are both active and admins.
pub async fn count_active_admins(db: &impl ConnectionTrait) -> AppResult<u64> {
    Ok(user::Entity::find()
        .filter(user::Column::IsActive.eq(true))
        .filter(user::Column::IsAdmin.eq(true))
        .count(db)
        .await?)
}

/// Writes the changed fields of a user.
pub async fn update(db: &impl ConnectionTrait, model: user::ActiveModel) -> AppResult<user::Model> {
    Ok(user::Entity::update(model).exec(db).await?)
}

/// Deletes a user; their sessions and overrides go with them (foreign-key cascade).
pub async fn delete(db: &impl ConnectionTrait, id: i32) -> AppResult<u64> {
    Ok(user::Entity::delete_by_id(id).exec(db).await?.rows_affected)
}

/// Records a successful login.
pub async fn set_last_login(db: &impl ConnectionTrait, id: i32, now: i64) -> AppResult<()> {
    user::Entity::update_many()
        .col_expr(user::Column::LastLogin, now.into())
        .filter(user::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}
