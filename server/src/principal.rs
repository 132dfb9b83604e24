//! Who is calling: the [`Principal`] every authenticated handler receives, and the
//! [`AuthRecord`] it is built from (what one token authenticates, read in one query and held in
//! the verification cache). Pure: no I/O.

use crate::policy::{ClientPolicy, Rate};
use crate::token::{TokenDigest, TokenKind};
use std::sync::Arc;

/// The user behind a credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserInfo {
    pub id: i32,
    pub username: String,
    pub is_active: bool,
    pub is_admin: bool,
}

/// The client a session belongs to, with its policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientInfo {
    pub id: i32,
    pub name: String,
    pub policy: ClientPolicy,
}

/// A session or API key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    /// A UUID string.
    pub id: String,
    pub kind: TokenKind,
    pub device_name: String,
    pub user_agent: String,
    pub ip: Option<String>,
    /// Microseconds since the epoch, as every timestamp here.
    pub created: i64,
    pub last_used: i64,
    /// When the expiry was last computed (login or renewal), for auto-renewal.
    pub renewed: i64,
    pub expiry: Option<i64>,
    /// When the user last proved their password for this session (µs).
    pub authenticated_at: i64,
    /// The token's first characters, for display.
    pub token_hint: String,
    /// An API key's name; `None` for sessions.
    pub name: Option<String>,
    /// An API key's scopes; `None` = unrestricted (and for sessions).
    pub scopes: crate::scopes::Scopes,
}

/// Everything one token authenticates: its session, user and client, and the rate that applies
/// (a per-user override if there is one, else the client's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthRecord {
    pub session: SessionInfo,
    pub user: UserInfo,
    pub client: ClientInfo,
    /// The effective (user, client) rate; `None` = unlimited.
    pub rate: Option<Rate>,
    /// `Some(until)` when the presented token is one a rotation retired: honoured until then
    /// (µs), and proof of theft afterwards.
    pub retired_until: Option<i64>,
}

impl AuthRecord {
    /// Roughly the heap memory this record holds, in bytes: the struct and its strings. The
    /// verification cache weighs its entries by it to stay within `TESSERA_CACHE_MAX_MB`.
    pub fn approx_bytes(&self) -> usize {
        let opt = |s: &Option<String>| s.as_ref().map_or(0, String::capacity);
        let s = &self.session;
        // An `Arc<[String]>`: its two counts, then each `String` and its bytes.
        let scopes = s.scopes.as_ref().map_or(0, |held| {
            2 * size_of::<usize>()
                + held
                    .iter()
                    .map(|x| size_of::<String>() + x.capacity())
                    .sum::<usize>()
        });
        size_of::<Self>()
            + s.id.capacity()
            + s.device_name.capacity()
            + s.user_agent.capacity()
            + opt(&s.ip)
            + s.token_hint.capacity()
            + opt(&s.name)
            + scopes
            + self.user.username.capacity()
            + self.client.name.capacity()
            + self.client.policy.description.capacity()
    }
}

/// Where the credential was presented (docs/tokens.md, "Presenting a credential").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    /// `Authorization: Bearer|Token <token>`.
    Authorization,
    /// `X-Api-Key: <tsk_ token>`.
    ApiKeyHeader,
    /// The session cookie of a `cookie`-transport client (docs/tokens.md, "Browser apps").
    Cookie,
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The session, user and client (shared with the cache; never mutated).
    pub record: Arc<AuthRecord>,
    /// Where the token came from.
    pub credential: Credential,
    /// The presented token's digest.
    pub digest: TokenDigest,
}

impl Principal {
    /// The user.
    pub fn user(&self) -> &UserInfo {
        &self.record.user
    }

    /// The session (or API key).
    pub fn session(&self) -> &SessionInfo {
        &self.record.session
    }

    /// The client and its policy.
    pub fn client(&self) -> &ClientInfo {
        &self.record.client
    }

    /// Whether the credential is an API key limited to scopes (docs/endpoints.md, "API keys"):
    /// such a key may call only the endpoints that say who is calling.
    pub fn is_scoped(&self) -> bool {
        self.record.session.scopes.is_some()
    }
}
