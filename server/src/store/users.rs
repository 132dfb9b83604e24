//! Queries on `users`.

use entity::user;
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};

/// Inserts a user; a taken username is a unique violation.
pub async fn create(
    db: &impl ConnectionTrait,
    username: &str,
    password_hash: String,
    is_admin: bool,
    now: i64,
) -> Result<user::Model, DbErr> {
    let model = user::ActiveModel {
        username: Set(username.to_string()),
        password_hash: Set(password_hash),
        is_active: Set(true),
        is_admin: Set(is_admin),
        created: Set(now),
        last_login: Set(None),
        ..Default::default()
    };
    user::Entity::insert(model).exec_with_returning(db).await
}

/// The user with exactly this username.
pub async fn find_by_username(
    db: &impl ConnectionTrait,
    username: &str,
) -> Result<Option<user::Model>, DbErr> {
    user::Entity::find()
        .filter(user::Column::Username.eq(username))
        .one(db)
        .await
}

/// The user with this id.
pub async fn find(db: &impl ConnectionTrait, id: i32) -> Result<Option<user::Model>, DbErr> {
    user::Entity::find_by_id(id).one(db).await
}

/// Users by ascending id after `after`, at most `limit`, keeping usernames that contain `q`
/// (ignoring ASCII case).
pub async fn list(
    db: &impl ConnectionTrait,
    after: Option<i32>,
    limit: u64,
    q: Option<&str>,
) -> Result<Vec<user::Model>, DbErr> {
    let mut query = user::Entity::find();
    if let Some(after) = after {
        query = query.filter(user::Column::Id.gt(after));
    }
    if let Some(q) = q.filter(|q| !q.is_empty()) {
        // `_` and `%` are username characters too: escape them so they match themselves.
        let escaped: String = q
            .to_ascii_lowercase()
            .chars()
            .flat_map(|c| match c {
                '\\' | '%' | '_' => vec!['\\', c],
                c => vec![c],
            })
            .collect();
        let pattern = LikeExpr::new(format!("%{escaped}%")).escape('\\');
        query = query.filter(Func::lower(Expr::col(user::Column::Username)).like(pattern));
    }
    query
        .order_by_asc(user::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// How many users are both active and admins.
pub async fn count_active_admins(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    user::Entity::find()
        .filter(user::Column::IsActive.eq(true))
        .filter(user::Column::IsAdmin.eq(true))
        .count(db)
        .await
}

/// Writes the changed fields of a user.
pub async fn update(
    db: &impl ConnectionTrait,
    model: user::ActiveModel,
) -> Result<user::Model, DbErr> {
    user::Entity::update(model).exec(db).await
}

/// Deletes a user; their sessions and overrides go with them (foreign-key cascade).
pub async fn delete(db: &impl ConnectionTrait, id: i32) -> Result<u64, DbErr> {
    Ok(user::Entity::delete_by_id(id).exec(db).await?.rows_affected)
}

/// Records a successful login.
pub async fn set_last_login(db: &impl ConnectionTrait, id: i32, now: i64) -> Result<(), DbErr> {
    user::Entity::update_many()
        .col_expr(user::Column::LastLogin, now.into())
        .filter(user::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}
