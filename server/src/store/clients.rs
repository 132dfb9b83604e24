//! Queries on `clients`.

use crate::policy::ClientPolicy;
use entity::client;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder,
};

fn columns(model: &mut client::ActiveModel, policy: &ClientPolicy) {
    model.description = Set(policy.description.clone());
    model.token_ttl = Set(policy.token_ttl);
    model.max_lifetime = Set(policy.max_lifetime);
    model.throttle_rate = Set(policy.throttle_rate.map(|r| r.to_string()));
    // Validated to 1..=i32::MAX before it gets here.
    model.max_sessions = Set(policy
        .max_sessions
        .map(|n| n.clamp(1, i32::MAX as i64) as i32));
    model.auto_renew = Set(policy.auto_renew);
    model.idle_timeout = Set(policy.idle_timeout);
    model.transport = Set(policy.transport.as_str().to_string());
    model.rotate_on_refresh = Set(policy.rotate_on_refresh);
}

/// Inserts a client; a taken name is a unique violation.
pub async fn create(
    db: &impl ConnectionTrait,
    name: &str,
    policy: &ClientPolicy,
    now: i64,
) -> Result<client::Model, DbErr> {
    let mut model = client::ActiveModel {
        name: Set(name.to_string()),
        created: Set(now),
        ..Default::default()
    };
    columns(&mut model, policy);
    client::Entity::insert(model).exec_with_returning(db).await
}

/// Writes a client's whole policy.
pub async fn update(
    db: &impl ConnectionTrait,
    id: i32,
    policy: &ClientPolicy,
) -> Result<client::Model, DbErr> {
    let mut model = client::ActiveModel {
        id: sea_orm::ActiveValue::Unchanged(id),
        ..Default::default()
    };
    columns(&mut model, policy);
    client::Entity::update(model).exec(db).await
}

/// The client with this id.
pub async fn find(db: &impl ConnectionTrait, id: i32) -> Result<Option<client::Model>, DbErr> {
    client::Entity::find_by_id(id).one(db).await
}

/// The client with exactly this name.
pub async fn find_by_name(
    db: &impl ConnectionTrait,
    name: &str,
) -> Result<Option<client::Model>, DbErr> {
    client::Entity::find()
        .filter(client::Column::Name.eq(name))
        .one(db)
        .await
}

/// Every client, by name.
pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<client::Model>, DbErr> {
    client::Entity::find()
        .order_by_asc(client::Column::Name)
        .all(db)
        .await
}

/// How many clients there are.
pub async fn count(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    client::Entity::find().count(db).await
}

/// Deletes a client; its sessions go with it (foreign-key cascade).
pub async fn delete(db: &impl ConnectionTrait, id: i32) -> Result<u64, DbErr> {
    Ok(client::Entity::delete_by_id(id)
        .exec(db)
        .await?
        .rows_affected)
}
