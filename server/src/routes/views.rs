//! Response bodies shared by several resources. Entity models are mapped here, never serialised.

use crate::clock::to_datetime;
use crate::principal::{Principal, UserInfo};
use chrono::{DateTime, Utc};
use entity::{client, session, user};
use serde::Serialize;
use utoipa::ToSchema;

/// One device's session (or an API key, in admin listings).
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionView {
    /// Session id (UUID).
    #[schema(example = "5f0c8a4e-8f0e-4f5b-9a57-1f2d3c4b5a69")]
    pub id: String,
    /// `session` or `api_key`.
    #[schema(example = "session")]
    pub kind: String,
    /// Client name.
    #[schema(example = "cli")]
    pub client: String,
    #[schema(example = "Firefox 132 on Linux")]
    pub device_name: String,
    #[schema(example = "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0")]
    pub user_agent: String,
    #[schema(example = "203.0.113.7")]
    pub ip: Option<String>,
    #[serde(serialize_with = "super::rfc3339::one")]
    pub created: DateTime<Utc>,
    /// Last authenticated use (may lag by up to 60 s).
    #[serde(serialize_with = "super::rfc3339::one")]
    pub last_used: DateTime<Utc>,
    /// When the user last proved their password for this session (login or
    /// re-authentication; an API key's creation).
    #[serde(serialize_with = "super::rfc3339::one")]
    pub authenticated_at: DateTime<Utc>,
    /// `null` when the session never expires.
    #[serde(serialize_with = "super::rfc3339::option")]
    pub expiry: Option<DateTime<Utc>>,
    /// Whether this is the session making the request.
    pub is_current: bool,
    /// The token's first 8 characters.
    #[schema(example = "tss_Ab3x")]
    pub token_hint: String,
    /// An API key's name; `null` for sessions.
    #[schema(example = json!(null))]
    pub name: Option<String>,
    /// An API key's scopes; `null` for sessions and unrestricted keys.
    #[schema(example = json!(null))]
    pub scopes: Option<Vec<String>>,
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
            authenticated_at: to_datetime(s.authenticated_at),
            expiry: s.expiry.map(to_datetime),
            token_hint: s.token_hint,
            scopes: crate::scopes::from_stored(s.scopes.as_deref()).map(|v| v.to_vec()),
            name: s.name,
        }
    }

    /// The presenting session itself.
    pub fn current(principal: &Principal) -> Self {
        let s = principal.session();
        Self {
            is_current: true,
            id: s.id.clone(),
            kind: s.kind.as_str().to_string(),
            client: principal.client().name.clone(),
            device_name: s.device_name.clone(),
            user_agent: s.user_agent.clone(),
            ip: s.ip.clone(),
            created: to_datetime(s.created),
            last_used: to_datetime(s.last_used),
            authenticated_at: to_datetime(s.authenticated_at),
            expiry: s.expiry.map(to_datetime),
            token_hint: s.token_hint.clone(),
            name: s.name.clone(),
            scopes: s.scopes.as_deref().map(<[String]>::to_vec),
        }
    }
}

/// A session in the admin listing of every session: the session and whose it is.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminSessionView {
    #[serde(flatten)]
    pub session: SessionView,
    pub user_id: i32,
    #[schema(example = "alice")]
    pub username: String,
}

/// The user a token belongs to.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserSummary {
    pub id: i32,
    #[schema(example = "alice")]
    pub username: String,
    pub is_admin: bool,
}

impl From<&UserInfo> for UserSummary {
    fn from(u: &UserInfo) -> Self {
        Self {
            id: u.id,
            username: u.username.clone(),
            is_admin: u.is_admin,
        }
    }
}

impl From<&user::Model> for UserSummary {
    fn from(u: &user::Model) -> Self {
        Self {
            id: u.id,
            username: u.username.clone(),
            is_admin: u.is_admin,
        }
    }
}

/// A user as admins see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: i32,
    #[schema(example = "alice")]
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
    #[schema(example = "ios")]
    pub name: String,
    #[schema(example = "The iOS app")]
    pub description: String,
    /// Seconds, or `null` for tokens that never expire.
    #[schema(example = 2592000)]
    pub token_ttl: Option<i64>,
    /// Seconds from a session's creation, or `null`.
    #[schema(example = 7776000)]
    pub max_lifetime: Option<i64>,
    /// `N/s|m|h|d`, or `null` for unlimited.
    #[schema(example = "100/m")]
    pub throttle_rate: Option<String>,
    /// Most live sessions per user, or `null`.
    #[schema(example = 5)]
    pub max_sessions: Option<i32>,
    pub auto_renew: bool,
    /// Seconds without a use after which a session ends, or `null`.
    #[schema(example = 43200)]
    pub idle_timeout: Option<i64>,
    /// `bearer` or `cookie`.
    #[schema(value_type = String, example = "bearer", pattern = "^(bearer|cookie)$")]
    pub transport: String,
    /// Whether `refresh` issues a new token and retires the old one.
    pub rotate_on_refresh: bool,
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
            idle_timeout: c.idle_timeout,
            transport: c.transport,
            rotate_on_refresh: c.rotate_on_refresh,
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
