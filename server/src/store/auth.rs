//! The authentication read: what one token digest authenticates (its session joined with the
//! user, the client and the throttle override), in one indexed query, as an [`AuthRecord`].

use crate::policy::{ClientPolicy, Rate};
use crate::principal::{AuthRecord, ClientInfo, SessionInfo, UserInfo};
use crate::token::{TokenDigest, TokenKind};
use entity::{client, session, throttle_override, user};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, JoinType, QueryFilter,
    QuerySelect, RelationTrait,
};

/// The row of the authentication read; a store detail turned into an [`AuthRecord`] here.
#[derive(Debug, Clone, FromQueryResult)]
struct AuthRow {
    session_id: String,
    kind: String,
    user_id: i32,
    client_id: i32,
    device_name: String,
    user_agent: String,
    ip: Option<String>,
    created: i64,
    last_used: i64,
    renewed: i64,
    expiry: Option<i64>,
    authenticated_at: i64,
    token_hint: String,
    username: String,
    is_active: bool,
    is_admin: bool,
    client_name: String,
    description: String,
    token_ttl: Option<i64>,
    max_lifetime: Option<i64>,
    client_rate: Option<String>,
    max_sessions: Option<i32>,
    auto_renew: bool,
    transport: String,
    idle_timeout: Option<i64>,
    previous_until: Option<i64>,
    key_name: Option<String>,
    scopes: Option<String>,
    rotate_on_refresh: bool,
    /// Set when the (user, client) pair has an override row.
    override_client_id: Option<i32>,
    override_rate: Option<String>,
}

/// A stored rate; one that does not parse (never written by Tessera) counts as unlimited.
fn stored_rate(s: Option<&str>) -> Option<Rate> {
    let s = s?;
    s.parse()
        .inspect_err(|_| tracing::warn!(rate = s, "ignoring an unparsable stored rate"))
        .ok()
}

impl AuthRow {
    /// The record; `retired` when the token matched the session's previous (rotated-out) one.
    fn into_record(self, retired: bool) -> Option<AuthRecord> {
        let client_rate = stored_rate(self.client_rate.as_deref());
        let rate = if self.override_client_id.is_some() {
            stored_rate(self.override_rate.as_deref())
        } else {
            client_rate
        };
        Some(AuthRecord {
            session: SessionInfo {
                id: self.session_id,
                kind: TokenKind::from_stored(&self.kind)?,
                device_name: self.device_name,
                user_agent: self.user_agent,
                ip: self.ip,
                created: self.created,
                last_used: self.last_used,
                renewed: self.renewed,
                expiry: self.expiry,
                authenticated_at: self.authenticated_at,
                token_hint: self.token_hint,
                name: self.key_name,
                scopes: crate::scopes::from_stored(self.scopes.as_deref()),
            },
            user: UserInfo {
                id: self.user_id,
                username: self.username,
                is_active: self.is_active,
                is_admin: self.is_admin,
            },
            client: ClientInfo {
                id: self.client_id,
                name: self.client_name,
                policy: ClientPolicy {
                    description: self.description,
                    token_ttl: self.token_ttl,
                    max_lifetime: self.max_lifetime,
                    throttle_rate: client_rate,
                    max_sessions: self.max_sessions.map(i64::from),
                    auto_renew: self.auto_renew,
                    idle_timeout: self.idle_timeout,
                    // Written only by Tessera; anything else reads as the default.
                    transport: self.transport.parse().unwrap_or_default(),
                    rotate_on_refresh: self.rotate_on_refresh,
                },
            },
            rate,
            // A retired token without a window (never written so) is past it.
            retired_until: retired.then(|| self.previous_until.unwrap_or(i64::MIN)),
        })
    }
}

/// Finds what the token with this digest authenticates: its session joined with its user,
/// client and throttle override, in one indexed read; when no session has it as its token,
/// a second indexed read looks for a session that had it before its last rotation.
pub async fn authenticate(
    db: &impl ConnectionTrait,
    digest: &TokenDigest,
) -> Result<Option<AuthRecord>, DbErr> {
    if let Some(row) = read(db, session::Column::TokenDigest, digest).await? {
        return Ok(row.into_record(false));
    }
    Ok(read(db, session::Column::PreviousDigest, digest)
        .await?
        .and_then(|row| row.into_record(true)))
}

async fn read(
    db: &impl ConnectionTrait,
    by: session::Column,
    digest: &TokenDigest,
) -> Result<Option<AuthRow>, DbErr> {
    use session::Column as S;
    session::Entity::find()
        .select_only()
        .column_as(S::Id, "session_id")
        .columns([
            S::Kind,
            S::UserId,
            S::ClientId,
            S::DeviceName,
            S::UserAgent,
            S::Ip,
            S::Created,
        ])
        .columns([
            S::LastUsed,
            S::Renewed,
            S::Expiry,
            S::AuthenticatedAt,
            S::TokenHint,
            S::PreviousUntil,
            S::Scopes,
        ])
        .column_as(S::Name, "key_name")
        .columns([
            user::Column::Username,
            user::Column::IsActive,
            user::Column::IsAdmin,
        ])
        .column_as(client::Column::Name, "client_name")
        .columns([
            client::Column::Description,
            client::Column::TokenTtl,
            client::Column::MaxLifetime,
            client::Column::MaxSessions,
            client::Column::AutoRenew,
            client::Column::Transport,
            client::Column::IdleTimeout,
            client::Column::RotateOnRefresh,
        ])
        .column_as(client::Column::ThrottleRate, "client_rate")
        .column_as(throttle_override::Column::ClientId, "override_client_id")
        .column_as(throttle_override::Column::Rate, "override_rate")
        .join(JoinType::InnerJoin, session::Relation::User.def())
        .join(JoinType::InnerJoin, session::Relation::Client.def())
        .join(
            JoinType::LeftJoin,
            throttle_override::Relation::Session.def().rev(),
        )
        .filter(by.eq(digest.as_str()))
        .into_model::<AuthRow>()
        .one(db)
        .await
}
