//! A key pair that signs JWT access tokens.
use sea_orm::entity::prelude::*;

/// A row of `signing_keys`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "signing_keys")]
pub struct Model {
    /// The key id in JWT headers and the JWKS.
    #[sea_orm(primary_key, auto_increment = false)]
    pub kid: String,
    /// `next`, `current` or `retired`.
    pub state: String,
    /// The raw Ed25519 public key, base64url without padding (the JWK's `x`).
    pub public_key: String,
    /// The 32-byte seed, sealed under the server secret.
    pub private_key: String,
    pub created: i64,
    /// When the key stopped signing.
    pub retired_at: Option<i64>,
    /// Until when a retired key stays published (its last JWT has expired by then).
    pub publish_until: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
