//! Queries on `events`: append, list, purge.

use entity::event;
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

/// Appends an event; returns it with its id.
pub async fn insert(
    db: &impl ConnectionTrait,
    model: event::ActiveModel,
) -> Result<event::Model, DbErr> {
    event::Entity::insert(model).exec_with_returning(db).await
}

/// Filters of an event listing; every given one must match.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub user_id: Option<i32>,
    pub kind: Option<String>,
    /// At or after this time (µs).
    pub since: Option<i64>,
}

/// Events matching `filter`, newest first, with ids below `before` (the previous page's last).
pub async fn list(
    db: &impl ConnectionTrait,
    filter: &EventFilter,
    before: Option<i64>,
    limit: u64,
) -> Result<Vec<event::Model>, DbErr> {
    let mut query = event::Entity::find();
    if let Some(id) = filter.user_id {
        query = query.filter(event::Column::UserId.eq(id));
    }
    if let Some(kind) = &filter.kind {
        query = query.filter(event::Column::Kind.eq(kind.as_str()));
    }
    if let Some(since) = filter.since {
        query = query.filter(event::Column::Time.gte(since));
    }
    if let Some(id) = before {
        query = query.filter(event::Column::Id.lt(id));
    }
    query
        .order_by_desc(event::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// Deletes up to `batch` events older than `cutoff` (µs); returns how many.
pub async fn purge_before(
    db: &impl ConnectionTrait,
    cutoff: i64,
    batch: u64,
) -> Result<u64, DbErr> {
    let victims = Query::select()
        .column(event::Column::Id)
        .from(event::Entity)
        .and_where(Expr::col(event::Column::Time).lt(cutoff))
        .limit(batch)
        .to_owned();
    let res = event::Entity::delete_many()
        .filter(event::Column::Id.in_subquery(victims))
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}
