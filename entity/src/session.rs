//! One login on one device, or a user's API key.
use sea_orm::entity::prelude::*;

/// A row of `sessions`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sessions")]
pub struct Model {
    /// A UUID string.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// `session` or `api_key`.
    pub kind: String,
    pub user_id: i32,
    pub client_id: i32,
    pub device_name: String,
    pub user_agent: String,
    pub ip: Option<String>,
    pub created: i64,
    pub last_used: i64,
    /// When the expiry was last computed (login or renewal), for `auto_renew`.
    pub renewed: i64,
    pub expiry: Option<i64>,
    /// When the user last proved their password for this session (login or re-authentication).
    pub authenticated_at: i64,
    /// Hex SHA-256 of the whole token string.
    #[sea_orm(unique)]
    pub token_digest: String,
    pub token_hint: String,
    /// The digest of the token this session's last rotation replaced.
    pub previous_digest: Option<String>,
    /// Until when (µs) that token is still honoured.
    pub previous_until: Option<i64>,
    /// The current token, sealed under the server secret, kept only until `previous_until`.
    pub rotated_token: Option<String>,
    /// An API key's name (unique per user); `None` for sessions.
    pub name: Option<String>,
    /// An API key's scopes joined by spaces (`""` = none); `None` = unrestricted, and for
    /// sessions.
    pub scopes: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::UserId",
        to = "super::user::Column::Id",
        on_delete = "Cascade"
    )]
    User,
    #[sea_orm(
        belongs_to = "super::client::Entity",
        from = "Column::ClientId",
        to = "super::client::Column::Id",
        on_delete = "Cascade"
    )]
    Client,
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl Related<super::client::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Client.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
