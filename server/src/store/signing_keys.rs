//! Queries on `signing_keys`.

use entity::signing_key;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
};

/// Every key, newest first.
pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<signing_key::Model>, DbErr> {
    signing_key::Entity::find()
        .order_by_desc(signing_key::Column::Created)
        .order_by_desc(signing_key::Column::Kid)
        .all(db)
        .await
}

/// A key to store.
#[derive(Debug)]
pub struct NewKey<'a> {
    pub kid: &'a str,
    pub state: &'a str,
    pub public_key: &'a str,
    /// The seed, sealed.
    pub private_key: &'a str,
}

/// Inserts a key created at `now`.
pub async fn insert(db: &impl ConnectionTrait, key: NewKey<'_>, now: i64) -> Result<(), DbErr> {
    let model = signing_key::ActiveModel {
        kid: Set(key.kid.to_string()),
        state: Set(key.state.to_string()),
        public_key: Set(key.public_key.to_string()),
        private_key: Set(key.private_key.to_string()),
        created: Set(now),
        retired_at: Set(None),
        publish_until: Set(None),
    };
    signing_key::Entity::insert(model).exec(db).await?;
    Ok(())
}

/// Retires the current key at `now`, published until `until`; returns its kid.
pub async fn retire_current(
    db: &impl ConnectionTrait,
    now: i64,
    until: i64,
) -> Result<Option<String>, DbErr> {
    let Some(current) = signing_key::Entity::find()
        .filter(signing_key::Column::State.eq("current"))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    signing_key::Entity::update_many()
        .col_expr(signing_key::Column::State, "retired".into())
        .col_expr(signing_key::Column::RetiredAt, Some(now).into())
        .col_expr(signing_key::Column::PublishUntil, Some(until).into())
        .filter(signing_key::Column::Kid.eq(&current.kid))
        .exec(db)
        .await?;
    Ok(Some(current.kid))
}

/// Makes the `next` key the current one; returns its kid.
pub async fn promote_next(db: &impl ConnectionTrait) -> Result<Option<String>, DbErr> {
    let Some(next) = signing_key::Entity::find()
        .filter(signing_key::Column::State.eq("next"))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    signing_key::Entity::update_many()
        .col_expr(signing_key::Column::State, "current".into())
        .filter(signing_key::Column::Kid.eq(&next.kid))
        .exec(db)
        .await?;
    Ok(Some(next.kid))
}

/// Deletes retired keys whose publication window closed before `now`; returns how many.
pub async fn delete_expired(db: &impl ConnectionTrait, now: i64) -> Result<u64, DbErr> {
    let res = signing_key::Entity::delete_many()
        .filter(signing_key::Column::State.eq("retired"))
        .filter(signing_key::Column::PublishUntil.lt(now))
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}
