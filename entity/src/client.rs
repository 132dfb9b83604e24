//! A kind of app (web, mobile, cli, api) and its token policy.
use sea_orm::entity::prelude::*;

/// A row of `clients`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "clients")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub name: String,
    pub description: String,
    /// Seconds; `None` means tokens never expire.
    pub token_ttl: Option<i64>,
    /// Seconds from a session's creation; `None` means no cap.
    pub max_lifetime: Option<i64>,
    pub throttle_rate: Option<String>,
    pub max_sessions: Option<i32>,
    pub auto_renew: bool,
    /// `bearer` or `cookie`.
    pub transport: String,
    /// Seconds without a use after which a session ends; `None` = no idle limit.
    pub idle_timeout: Option<i64>,
    /// Whether `refresh` issues a new token and retires the old one.
    pub rotate_on_refresh: bool,
    pub created: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::session::Entity")]
    Session,
}

impl Related<super::session::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Session.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
