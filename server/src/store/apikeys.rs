//! Queries on API keys: the `sessions` rows of kind `api_key`, which carry a name unique per
//! user and their scopes.

use super::sessions::live;
use crate::token::{TokenDigest, TokenKind};
use entity::{client, session, user};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
};

fn keys_of(user_id: i32) -> sea_orm::Select<session::Entity> {
    session::Entity::find()
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::Kind.eq(TokenKind::ApiKey.as_str()))
}

/// Takes the user's row lock for the rest of the transaction, so that concurrent key creations
/// of one user are checked against the per-user limit one after the other. A no-op update is
/// the one statement that locks on both databases: PostgreSQL locks the row, SQLite takes its
/// write lock at once (SQLite has no `SELECT … FOR UPDATE`).
pub async fn lock_user(db: &impl ConnectionTrait, user_id: i32) -> Result<bool, DbErr> {
    let res = user::Entity::update_many()
        .col_expr(user::Column::Id, Expr::col(user::Column::Id))
        .filter(user::Column::Id.eq(user_id))
        .exec(db)
        .await?;
    Ok(res.rows_affected > 0)
}

/// The user's live keys with their client's name, newest first.
pub async fn list(
    db: &impl ConnectionTrait,
    user_id: i32,
    now: i64,
) -> Result<Vec<(session::Model, String)>, DbErr> {
    let rows = keys_of(user_id)
        .find_also_related(client::Entity)
        .filter(live(now))
        .order_by_desc(session::Column::Created)
        .order_by_desc(session::Column::Id)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(s, c)| (s, c.map(|c| c.name).unwrap_or_default()))
        .collect())
}

/// How many live keys the user holds.
pub async fn count_live(db: &impl ConnectionTrait, user_id: i32, now: i64) -> Result<u64, DbErr> {
    keys_of(user_id).filter(live(now)).count(db).await
}

/// The user's key with this name, live or not, with its client's name.
pub async fn find_by_name(
    db: &impl ConnectionTrait,
    user_id: i32,
    name: &str,
) -> Result<Option<(session::Model, String)>, DbErr> {
    let row = keys_of(user_id)
        .filter(session::Column::Name.eq(name))
        .find_also_related(client::Entity)
        .one(db)
        .await?;
    Ok(row.map(|(s, c)| (s, c.map(|c| c.name).unwrap_or_default())))
}

/// A new token for a key.
#[derive(Debug)]
pub struct Roll<'a> {
    /// The key's current token digest (hex); the roll happens only if it still is (a
    /// compare-and-swap).
    pub from: &'a str,
    pub to: &'a TokenDigest,
    pub hint: &'a str,
    /// Until when (µs) the replaced token keeps working; `None` ends it at once.
    pub until: Option<i64>,
}

/// Gives a key a new token; returns whether `roll.from` was still its token.
pub async fn roll(db: &impl ConnectionTrait, id: &str, roll: &Roll<'_>) -> Result<bool, DbErr> {
    let previous = roll.until.map(|_| roll.from.to_string());
    let res = session::Entity::update_many()
        .col_expr(session::Column::TokenDigest, roll.to.as_str().into())
        .col_expr(session::Column::TokenHint, roll.hint.into())
        .col_expr(session::Column::PreviousDigest, previous.into())
        .col_expr(session::Column::PreviousUntil, roll.until.into())
        .col_expr(session::Column::RotatedToken, Option::<String>::None.into())
        .filter(session::Column::Id.eq(id))
        .filter(session::Column::TokenDigest.eq(roll.from))
        .exec(db)
        .await?;
    Ok(res.rows_affected > 0)
}
