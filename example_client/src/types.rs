//! The response bodies of docs/endpoints.md, as typed values.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A user as the token lifecycle endpoints return it.
#[derive(Debug, Clone, Deserialize)]
pub struct User {
    /// The user's id.
    pub id: i64,
    /// The login name.
    pub username: String,
    /// Whether the user may use the admin API.
    pub is_admin: bool,
}

/// One device's session (docs/endpoints.md). Never carries the token.
#[derive(Debug, Clone, Deserialize)]
pub struct Session {
    /// A UUID; what [`Client::revoke`](crate::Client::revoke) takes.
    pub id: String,
    /// `session`, or `api_key` in [`Client::me`](crate::Client::me) asked with an API key (an
    /// API key is never listed among sessions).
    pub kind: String,
    /// An API key's name; `None` for a session.
    #[serde(default)]
    pub name: Option<String>,
    /// An API key's scopes (`None` = unrestricted, as every session is).
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    /// The client the session logged in on (`cli`, `mobile`, …).
    pub client: String,
    /// The name given at login, or one derived from the User-Agent.
    pub device_name: String,
    /// The User-Agent sent at login.
    pub user_agent: String,
    /// The address the login came from.
    pub ip: Option<String>,
    /// When the device logged in.
    pub created: DateTime<Utc>,
    /// Last authenticated use; may lag the real last use by up to 60 s.
    pub last_used: DateTime<Utc>,
    /// When the token stops working unless renewed; `None` = never.
    pub expiry: Option<DateTime<Utc>>,
    /// Whether this is the session of the token that asked.
    pub is_current: bool,
    /// The first 8 characters of the token, for display.
    pub token_hint: String,
}

/// The answer to a login. Keep `token` in secure storage: it is shown only once.
#[derive(Clone, Deserialize)]
pub struct LoginResponse {
    /// The bearer token (`tss_…`).
    pub token: String,
    /// When it stops working unless renewed; `None` = never.
    pub expiry: Option<DateTime<Utc>>,
    /// The new session.
    pub session: Session,
    /// Who logged in.
    pub user: User,
    /// Proof that this device logged in before (docs/concepts.md, "Budgets"): sent with the next
    /// login, it keeps someone guessing the password elsewhere from locking this device out.
    #[serde(default)]
    pub device_proof: Option<String>,
}

// By hand, so that logging a response never leaks the token.
impl std::fmt::Debug for LoginResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginResponse")
            .field("token", &"<redacted>")
            .field("expiry", &self.expiry)
            .field("session", &self.session)
            .field("user", &self.user)
            .field(
                "device_proof",
                &self.device_proof.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// `GET /api/auth/me`.
#[derive(Debug, Clone, Deserialize)]
pub struct Me {
    /// Who the token belongs to.
    pub user: User,
    /// The token's own session.
    pub session: Session,
}

/// One of the user's API keys, without its secret (`GET /api/auth/apikeys`; the v1
/// `GET /api/auth/apiaccess` answers the same for the key named `default`).
#[derive(Debug, Clone, Deserialize)]
pub struct ApiKey {
    /// A UUID (the key's session id): what [`Client::roll_api_key`](crate::Client::roll_api_key)
    /// and [`Client::delete_api_key_by_id`](crate::Client::delete_api_key_by_id) take.
    pub id: String,
    /// Its name, unique among the user's keys (`default` for the v1 key).
    pub name: String,
    /// The scopes it holds; `None` = unrestricted. A scoped key may call only
    /// `GET /api/auth/me`, `/api/auth/verify` and `POST /api/auth/token`.
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    /// The API-access client the key lives on (default `api`).
    pub client: String,
    /// When the key was created (rolling keeps it).
    pub created: DateTime<Utc>,
    /// Last authenticated use.
    pub last_used: DateTime<Utc>,
    /// When it stops working; `None` = never.
    pub expiry: Option<DateTime<Utc>>,
    /// The first 8 characters of the key.
    pub token_hint: String,
}

/// What `POST /api/auth/apikeys` takes ([`Client::create_named_api_key`](crate::Client::create_named_api_key)).
#[derive(Debug, Clone, Default, Serialize)]
pub struct NewApiKeyRequest {
    /// 1–100 characters, not blank, no control characters; unique among the user's live keys
    /// (compared exactly).
    pub name: String,
    /// `None`: unrestricted. Else at most 50 scopes of 1–64 of `[a-z0-9:._-]` (repeats are
    /// dropped); an empty list makes a key that holds no scope.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
    /// Seconds until it expires (60 to 100 years), capped by the API-access client's
    /// `max_lifetime`; `None`: the API-access client's policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<u64>,
}

/// A newly created or rolled API key: the only time its secret is shown
/// (`POST /api/auth/apikeys`, `POST /api/auth/apikeys/{id}/roll`, `POST /api/auth/apiaccess`).
#[derive(Clone, Deserialize)]
pub struct NewApiKey {
    /// The key itself (`tsk_…`).
    pub token: String,
    /// Everything `GET /api/auth/apikeys` shows about it.
    #[serde(flatten)]
    pub key: ApiKey,
}

// By hand, so that logging a response never leaks the key.
impl std::fmt::Debug for NewApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewApiKey")
            .field("token", &"<redacted>")
            .field("key", &self.key)
            .finish()
    }
}

#[derive(Deserialize)]
pub(crate) struct ErrorBody {
    pub(crate) code: String,
    pub(crate) detail: String,
    /// Only in `validation_error` answers.
    #[serde(default)]
    pub(crate) fields: BTreeMap<String, Vec<String>>,
}

#[derive(Deserialize)]
pub(crate) struct ExpiryBody {
    pub(crate) expiry: Option<DateTime<Utc>>,
    /// Present when the client rotates tokens on refresh.
    #[serde(default)]
    pub(crate) token: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct RevokedBody {
    pub(crate) revoked: u64,
}
