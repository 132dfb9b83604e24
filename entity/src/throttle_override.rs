//! A per-user rate for one client, overriding the client's own.
use sea_orm::entity::prelude::*;

/// A row of `throttle_overrides`; `rate` `None` means unlimited.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "throttle_overrides")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    pub client_id: i32,
    pub rate: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// Joins an override to the sessions of its (user, client) pair, so that one query
    /// authenticates a token and finds the rate that applies to it.
    #[sea_orm(
        belongs_to = "super::session::Entity",
        from = "(Column::UserId, Column::ClientId)",
        to = "(super::session::Column::UserId, super::session::Column::ClientId)"
    )]
    Session,
}

impl ActiveModelBehavior for ActiveModel {}
