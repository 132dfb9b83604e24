//! A security event: an append-only record of one security-relevant action.
use sea_orm::entity::prelude::*;

/// A row of `events`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "events")]
pub struct Model {
    /// Increasing.
    #[sea_orm(primary_key)]
    pub id: i64,
    pub time: i64,
    /// `login.succeeded`, `session.revoked`, …
    #[sea_orm(column_name = "type")]
    pub kind: String,
    pub user_id: Option<i32>,
    pub username: Option<String>,
    pub client: Option<String>,
    pub session_id: Option<String>,
    /// The user who acted, when not the event's user (an admin).
    pub actor_id: Option<i32>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// A JSON object.
    pub detail: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
