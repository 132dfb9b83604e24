//! The authentication read: what one token digest authenticates (its session joined with the
//! user, the client and the throttle override), in one indexed query, as an [`AuthRecord`].

use crate::policy::{ClientPolicy, Rate};
use crate::principal::{AuthRecord, ClientInfo, SessionInfo, UserInfo};
use crate::token::{TokenDigest, TokenKind};
use entity::{client, session, throttle_override, user};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, FromQueryResult, JoinType,
    QueryFilter, QuerySelect, QueryTrait, RelationTrait, Select,
};

/// The row of the authentication read; a store detail turned into an [`AuthRecord`] here (and
/// by [`super::auth_direct`], which decodes the same columns from SQLite itself).
#[derive(Debug, Clone, FromQueryResult)]
pub(super) struct AuthRow {
    pub(super) session_id: String,
    pub(super) kind: String,
    pub(super) user_id: i32,
    pub(super) client_id: i32,
    pub(super) device_name: String,
    pub(super) user_agent: String,
    pub(super) ip: Option<String>,
    pub(super) created: i64,
    pub(super) last_used: i64,
    pub(super) renewed: i64,
    pub(super) expiry: Option<i64>,
    pub(super) authenticated_at: i64,
    pub(super) token_hint: String,
    pub(super) username: String,
    pub(super) is_active: bool,
    pub(super) is_admin: bool,
    pub(super) client_name: String,
    pub(super) description: String,
    pub(super) token_ttl: Option<i64>,
    pub(super) max_lifetime: Option<i64>,
    pub(super) client_rate: Option<String>,
    pub(super) max_sessions: Option<i32>,
    pub(super) auto_renew: bool,
    pub(super) transport: String,
    pub(super) idle_timeout: Option<i64>,
    pub(super) previous_until: Option<i64>,
    pub(super) key_name: Option<String>,
    pub(super) scopes: Option<String>,
    pub(super) rotate_on_refresh: bool,
    /// Set when the (user, client) pair has an override row.
    pub(super) override_client_id: Option<i32>,
    pub(super) override_rate: Option<String>,
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
    pub(super) fn into_record(self, retired: bool) -> Option<AuthRecord> {
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
            rendered: Default::default(),
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
    select(by, digest.as_str())
        .into_model::<AuthRow>()
        .one(db)
        .await
}

/// Which digest column the authentication read matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    /// The session's current token.
    Current,
    /// The token its last rotation retired.
    Previous,
}

/// The authentication read as SQL text for `backend`, with one `?`/`$1` placeholder for the
/// digest: the same query [`authenticate`] runs, for a reader that prepares it itself.
pub fn sql(by: By, backend: DbBackend) -> String {
    let column = match by {
        By::Current => session::Column::TokenDigest,
        By::Previous => session::Column::PreviousDigest,
    };
    select(column, "").build(backend).sql
}

/// The session joined with its user, client and throttle override, matched on `by`.
fn select(by: session::Column, digest: &str) -> Select<session::Entity> {
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
        .filter(by.eq(digest))
}
