//! Queries on `clients`.

use crate::error::AppResult;
use entity::client;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder,
};

/// A client's policy, as created.
#[derive(Debug, Clone)]
pub struct NewClient {
    pub name: String,
    pub description: String,
    pub token_ttl: Option<i64>,
    pub max_lifetime: Option<i64>,
    pub throttle_rate: Option<String>,
    pub max_sessions: Option<i32>,
    pub auto_renew: bool,
}

impl NewClient {
    /// A client with the SPEC's defaults.
    pub fn named(name: &str) -> Self {
        Self {
            name: name.to_string(),
            description: String::new(),
            token_ttl: Some(86_400),
            max_lifetime: None,
            throttle_rate: None,
            max_sessions: None,
            auto_renew: false,
        }
    }
}

/// Inserts a client; a taken name is a 409 through `sql_err`.
pub async fn create(
    db: &impl ConnectionTrait,
    new: NewClient,
    now: i64,
) -> AppResult<client::Model> {
    let model = client::ActiveModel {
        name: Set(new.name),
        description: Set(new.description),
        token_ttl: Set(new.token_ttl),
        max_lifetime: Set(new.max_lifetime),
        throttle_rate: Set(new.throttle_rate),
        max_sessions: Set(new.max_sessions),
        auto_renew: Set(new.auto_renew),
        created: Set(now),
        ..Default::default()
    };
    Ok(client::Entity::insert(model)
        .exec_with_returning(db)
        .await?)
}

/// The client with exactly this name.
pub async fn find_by_name(
    db: &impl ConnectionTrait,
    name: &str,
) -> AppResult<Option<client::Model>> {
    Ok(client::Entity::find()
        .filter(client::Column::Name.eq(name))
        .one(db)
        .await?)
}

/// Every client, by name.
pub async fn list(db: &impl ConnectionTrait) -> AppResult<Vec<client::Model>> {
    Ok(client::Entity::find()
        .order_by_asc(client::Column::Name)
        .all(db)
        .await?)
}

/// Writes the changed fields of a client.
pub async fn update(
    db: &impl ConnectionTrait,
    model: client::ActiveModel,
) -> AppResult<client::Model> {
    Ok(client::Entity::update(model).exec(db).await?)
}

/// Deletes a client; its sessions go with it (foreign-key cascade).
pub async fn delete(db: &impl ConnectionTrait, id: i32) -> AppResult<u64> {
    Ok(client::Entity::delete_by_id(id)
        .exec(db)
        .await?
        .rows_affected)
}

/// Creates `web`, `mobile`, `cli` and `api` when there are no clients at all.
pub async fn seed_defaults(db: &impl ConnectionTrait, api_client: &str, now: i64) -> AppResult<()> {
    if client::Entity::find().count(db).await? > 0 {
        return Ok(());
    }
    let day = 86_400;
    let mut defaults = vec![
        ("web", Some(day)),
        ("mobile", Some(30 * day)),
        ("cli", Some(90 * day)),
    ];
    defaults.push((api_client, None));
    for (name, ttl) in defaults {
        let mut new = NewClient::named(name);
        new.token_ttl = ttl;
        create(db, new, now).await?;
    }
    Ok(())
}
