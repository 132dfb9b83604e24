//! Response bodies shared by several resources. Entity models are mapped here, never serialised.

use crate::clock::to_datetime;
use chrono::{DateTime, Utc};
use entity::{client, session, user};
use serde::Serialize;
use utoipa::ToSchema;

/// One device's session (or the API key, in admin listings).
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionView {
    /// Session id (UUID).
    pub id: String,
    /// `session` or `api_key`.
    #[schema(example = "session")]
    pub kind: String,
    /// Client name.
    pub client: String,
    pub device_name: String,
    pub user_agent: String,
    pub ip: Option<String>,
    pub created: DateTime<Utc>,
    /// Last authenticated use (may lag by up to 60 s).
    pub last_used: DateTime<Utc>,
    /// `null` when the session never expires.
    pub expiry: Option<DateTime<Utc>>,
    /// Whether this is the session making the request.
    pub is_current: bool,
    /// The token's first 8 characters.
    #[schema(example = "tss_Ab3x")]
    pub token_hint: String,
}

impl SessionView {
    /// Maps a stored session; `current` is the id of the session making the request.
    pub fn new(s: session::Model, client: String, current: Option<&str>) -> Self {
        Self {
            is_current: current == Some(s.id.as_str()),
            id: s.id,
            kind: s.kind,
            client,
            device_name: s.device_name,
            user_agent: s.user_agent,
            ip: s.ip,
            created: to_datetime(s.created),
            last_used: to_datetime(s.last_used),
            expiry: s.expiry.map(to_datetime),
            token_hint: s.token_hint,
        }
    }
}

/// The user a token belongs to.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserSummary {
    pub id: i32,
    pub username: String,
    pub is_admin: bool,
}

/// A user as admins see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: i32,
    pub username: String,
    pub is_active: bool,
    pub is_admin: bool,
    pub created: DateTime<Utc>,
    pub last_login: Option<DateTime<Utc>>,
}

impl From<user::Model> for UserView {
    fn from(u: user::Model) -> Self {
        Self {
            id: u.id,
            username: u.username,
            is_active: u.is_active,
            is_admin: u.is_admin,
            created: to_datetime(u.created),
            last_login: u.last_login.map(to_datetime),
        }
    }
}

/// A client and its token policy.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClientView {
    pub name: String,
    pub description: String,
    /// Seconds, or `null` for tokens that never expire.
    pub token_ttl: Option<i64>,
    /// Seconds from a session's creation, or `null`.
    pub max_lifetime: Option<i64>,
    /// `N/s|m|h|d`, or `null` for unlimited.
    pub throttle_rate: Option<String>,
    pub max_sessions: Option<i32>,
    pub auto_renew: bool,
    pub created: DateTime<Utc>,
}

impl From<client::Model> for ClientView {
    fn from(c: client::Model) -> Self {
        Self {
            name: c.name,
            description: c.description,
            token_ttl: c.token_ttl,
            max_lifetime: c.max_lifetime,
            throttle_rate: c.throttle_rate,
            max_sessions: c.max_sessions,
            auto_renew: c.auto_renew,
            created: to_datetime(c.created),
        }
    }
}

/// `{"revoked": n}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct RevokedCount {
    /// How many sessions were ended.
    pub revoked: u64,
}
