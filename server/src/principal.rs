//! Who is calling: the [`Principal`] every authenticated handler receives, and the
//! [`AuthRecord`] it is built from (what one token authenticates, read in one query and held in
//! the verification cache). Pure: no I/O.

use crate::policy::{ClientPolicy, Rate};
use crate::token::{TokenDigest, TokenKind};
use std::any::Any;
use std::sync::{Arc, OnceLock};

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
    /// Responses rendered from this record, kept with it while it is cached.
    pub rendered: Rendered,
}

/// Responses rendered from one [`AuthRecord`] (the forward-auth answer and `/me`), kept with
/// the cached record so that a cached verification does not serialise the same JSON and build
/// the same headers on every request (issue 16: they were two fifths of what a verification adds
/// to `/healthz`). The record is immutable; every change (a use noted, a renewal, an
/// invalidation) makes a new one, and cloning a record starts with nothing rendered, so a
/// rendered response can never outlive the fields it was rendered from.
#[derive(Default)]
pub struct Rendered {
    /// `GET /api/auth/verify`'s answer.
    pub verify: Memo,
    /// `GET /api/auth/me`'s answer.
    pub me: Memo,
}

impl Rendered {
    /// Estimated heap bytes of both responses once rendered (bodies of about 250 and 550
    /// bytes, five identity headers and a content type), for the cache's weigher, which runs
    /// before anything is rendered.
    pub const ALLOWANCE: usize = 1_536;
}

impl Clone for Rendered {
    /// Nothing rendered: a clone is made to be changed.
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl PartialEq for Rendered {
    /// Derived data: equal records render equal responses.
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for Rendered {}

impl std::fmt::Debug for Rendered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Rendered")
    }
}

/// One value computed at most once from a record. The type is the caller's (the HTTP layer's
/// response parts), so this layer stays free of HTTP types.
#[derive(Default)]
pub struct Memo(OnceLock<Arc<dyn Any + Send + Sync>>);

impl Memo {
    /// The kept value, or `init()`'s, kept for next time. Two requests racing both compute it;
    /// one value is kept. A slot holding another type (no caller does that) is left alone.
    pub fn get_or_init<T: Any + Send + Sync>(&self, init: impl FnOnce() -> T) -> Arc<T> {
        if let Some(kept) = self.0.get() {
            return match kept.clone().downcast::<T>() {
                Ok(value) => value,
                Err(_) => Arc::new(init()),
            };
        }
        let value = Arc::new(init());
        let _ = self.0.set(value.clone());
        value
    }
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

#[cfg(test)]
mod tests {
    use super::{Memo, Rendered};
    use std::sync::Arc;

    #[test]
    fn a_memo_computes_once_and_keeps_the_value() {
        let memo = Memo::default();
        let first = memo.get_or_init(|| String::from("rendered"));
        let again = memo.get_or_init(|| -> String { panic!("computed twice") });
        assert!(Arc::ptr_eq(&first, &again));
        // Another type is computed, not mistaken for the kept value.
        assert_eq!(*memo.get_or_init(|| 7_u8), 7);
        assert_eq!(*memo.get_or_init(String::new), "rendered");
    }

    #[test]
    fn a_cloned_record_renders_afresh() {
        let rendered = Rendered::default();
        rendered.verify.get_or_init(|| 1_u32);
        let copy = rendered.clone();
        assert_eq!(
            *copy.verify.get_or_init(|| 2_u32),
            2,
            "nothing carried over"
        );
        assert_eq!(*rendered.verify.get_or_init(|| 3_u32), 1);
    }
}
