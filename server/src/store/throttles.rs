//! Queries on `throttle_overrides`.

use crate::policy::Rate;
use entity::{client, throttle_override};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    sea_query::OnConflict,
};

/// A user's overrides with their client names, by client name.
pub async fn list(
    db: &impl ConnectionTrait,
    user_id: i32,
) -> Result<Vec<(String, Option<String>)>, DbErr> {
    let rows = throttle_override::Entity::find()
        .filter(throttle_override::Column::UserId.eq(user_id))
        .all(db)
        .await?;
    let clients = client::Entity::find()
        .order_by_asc(client::Column::Name)
        .all(db)
        .await?;
    Ok(clients
        .into_iter()
        .filter_map(|c| {
            rows.iter()
                .find(|r| r.client_id == c.id)
                .map(|r| (c.name, r.rate.clone()))
        })
        .collect())
}

/// Sets (inserts or replaces) an override.
pub async fn put(
    db: &impl ConnectionTrait,
    user_id: i32,
    client_id: i32,
    rate: Option<Rate>,
) -> Result<(), DbErr> {
    let model = throttle_override::ActiveModel {
        user_id: Set(user_id),
        client_id: Set(client_id),
        rate: Set(rate.map(|r| r.to_string())),
    };
    throttle_override::Entity::insert(model)
        .on_conflict(
            OnConflict::columns([
                throttle_override::Column::UserId,
                throttle_override::Column::ClientId,
            ])
            .update_column(throttle_override::Column::Rate)
            .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Removes an override; returns whether there was one.
pub async fn delete(
    db: &impl ConnectionTrait,
    user_id: i32,
    client_id: i32,
) -> Result<bool, DbErr> {
    let res = throttle_override::Entity::delete_by_id((user_id, client_id))
        .exec(db)
        .await?;
    Ok(res.rows_affected > 0)
}
