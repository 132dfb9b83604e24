//! Sessions and API keys: verification (through the cache), uses, issue, renewal, revocation
//! and listings.

use super::events::{self, Event};
use super::{flush_uses, invalidate};
use crate::cache::Target;
use crate::error::{AppError, AppResult};
use crate::policy::{LAST_USED_GRANULARITY, auto_renew_due};
use crate::principal::{AuthRecord, Principal, UserInfo};
use crate::state::AppState;
use crate::store::sessions::{self, ListedSession, NewSession};
pub use crate::store::sessions::{Scope, SessionFilter};
use crate::token::{self, NewToken, TokenDigest, TokenKind};
use crate::touches::Touch;
use entity::session;
use std::sync::Arc;

/// A token resolved to what it authenticates, with what the cache needs to update it safely.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The session, user and client.
    pub record: Arc<AuthRecord>,
    /// The token's digest (the cache key).
    pub digest: TokenDigest,
    /// The cache generation at which `record` was known to be current.
    read_at: u64,
}

/// What a verification may do besides reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Authentication: an expired session is deleted at once.
    Authenticate,
    /// Introspection: no side effects; an expired session is left to the purge.
    Inspect,
}

pub(super) fn invalid_token() -> AppError {
    AppError::unauthorized("invalid_token", "Invalid token.")
}

async fn fetch(
    state: &AppState,
    digest: &TokenDigest,
) -> AppResult<Option<(Arc<AuthRecord>, u64)>> {
    let read_at = state.cache.generation();
    // A connection lost under the read (a restarted or failed-over database) is retried once,
    // on a fresh connection from the pool; a second failure is a 503.
    let read = match state.reader.authenticate(digest).await {
        Err(err) if crate::error::is_unavailable(&err) => state.reader.authenticate(digest).await,
        read => read,
    };
    let Some(record) = read? else {
        return Ok(None);
    };
    let record = Arc::new(record);
    state.cache.put(digest, record.clone(), read_at);
    Ok(Some((record, read_at)))
}

/// Resolves a presented token string to its live session without counting a use: from the
/// verification cache when it can, else with one indexed read. A malformed token never reaches
/// the database.
pub async fn verify(state: &AppState, presented: &str, mode: Mode) -> AppResult<Verified> {
    let (kind, digest) = token::parse(presented).ok_or_else(invalid_token)?;
    let read_at = state.cache.generation();
    let (mut record, mut read_at) = match state.cache.get(&digest) {
        Some(record) => {
            state.metrics.cache_hit();
            (record, read_at)
        }
        None => {
            state.metrics.cache_miss();
            fetch(state, &digest).await?.ok_or_else(invalid_token)?
        }
    };
    if record.session.kind != kind {
        return Err(invalid_token());
    }
    let now = state.now();
    if record.retired_until.is_some_and(|until| now > until) {
        // A rotated-out token after its grace window: whoever holds it copied it. A rolled
        // API key's old token has simply ended: its holder asked for the overlap.
        state.cache.forget(&digest);
        if mode == Mode::Authenticate && kind == TokenKind::Session {
            super::refresh::reuse_detected(state, &record).await?;
        }
        return Err(invalid_token());
    }
    if has_ended(state, &record, now) {
        // A cached expiry may have been renewed, or the session used, on another instance:
        // only the database decides.
        state.cache.forget(&digest);
        (record, read_at) = fetch(state, &digest).await?.ok_or_else(invalid_token)?;
        if has_ended(state, &record, now) {
            state.cache.forget(&digest);
            if mode == Mode::Authenticate {
                sessions::delete(&state.db, &record.session.id).await?;
                state.touches.forget(&record.session.id);
            }
            return Err(AppError::unauthorized(
                "token_expired",
                "Token has expired.",
            ));
        }
    }
    if !record.user.is_active {
        return Err(AppError::unauthorized(
            "user_inactive",
            "User inactive or deleted.",
        ));
    }
    Ok(Verified {
        record,
        digest,
        read_at,
    })
}

/// Whether a session has expired, or been idle past its client's `idle_timeout`, at `now`.
///
/// Its latest use is the newest one this instance knows of (exact for uses made here). A
/// session this instance has not seen used is judged by its stored `last_used` plus the 60 s
/// that column may lag, so the limit is never cut short by a use made elsewhere.
fn has_ended(state: &AppState, record: &AuthRecord, now: i64) -> bool {
    let session = &record.session;
    if session.expiry.is_some_and(|e| e <= now) {
        return true;
    }
    let policy = &record.client.policy;
    if policy.idle_timeout.is_none() {
        return false;
    }
    let latest = match state.touches.last_seen(&session.id) {
        Some(seen) => seen.max(session.last_used),
        None => session.last_used.saturating_add(LAST_USED_GRANULARITY),
    };
    policy.idle_at(now, latest)
}

/// Counts an authenticated use: `last_used` at most once a minute, and auto-renewal when due.
/// The write is queued (see [`crate::touches`]); the cached record is replaced at once.
/// Returns whether the use renewed the session.
pub fn note_use(state: &AppState, verified: &mut Verified) -> bool {
    let now = state.now();
    let record = &verified.record;
    let policy = &record.client.policy;
    if let Some(idle) = policy.idle_timeout {
        state.touches.saw(&record.session.id, now, idle);
    }
    // API keys are rolled, never renewed: their expiry is fixed when they are created.
    let renew = (policy.auto_renew
        && record.session.kind == TokenKind::Session
        && auto_renew_due(now, record.session.renewed, policy.token_ttl))
    .then(|| policy.expiry(now, record.session.created));
    if renew.is_none() && now - record.session.last_used < LAST_USED_GRANULARITY {
        return false;
    }
    state.touches.record(
        &record.session.id,
        Touch {
            last_used: now,
            renewed_to: renew,
        },
    );
    let mut updated = AuthRecord::clone(record);
    updated.session.last_used = now;
    if let Some(expiry) = renew {
        updated.session.expiry = expiry;
        updated.session.renewed = now;
    }
    let updated = Arc::new(updated);
    state
        .cache
        .put(&verified.digest, updated.clone(), verified.read_at);
    verified.record = updated;
    renew.is_some()
}

/// A session or key to create.
#[derive(Debug)]
pub struct Issue {
    pub kind: TokenKind,
    pub user_id: i32,
    pub client: entity::client::Model,
    pub device_name: String,
    pub user_agent: String,
    pub ip: Option<String>,
    /// Whether this is a login (sets the user's `last_login`).
    pub login: bool,
    /// The event to record with it (its session and client are filled in here).
    pub event: Option<Event>,
}

/// A new session and its token (shown once).
pub struct Issued {
    pub session: session::Model,
    pub client_name: String,
    /// How the token travels (a cookie client's token goes in a cookie, not the body).
    pub transport: crate::policy::Transport,
    pub token: NewToken,
}

/// Creates a session or key: mints the token, inserts it, and ends the user's least recently
/// used sessions beyond the client's `max_sessions`, in one transaction.
pub async fn issue(state: &AppState, issue: Issue) -> AppResult<Issued> {
    let now = state.now();
    let client = issue.client;
    let minted = token::generate(issue.kind);
    let new = NewSession {
        kind: issue.kind,
        user_id: issue.user_id,
        client_id: client.id,
        device_name: issue.device_name,
        user_agent: issue.user_agent,
        ip: issue.ip,
        expiry: crate::policy::expiry(now, now, client.token_ttl, client.max_lifetime),
        digest: minted.digest.clone(),
        hint: minted.hint.clone(),
        name: None,
        scopes: None,
    };
    let cap = client
        .max_sessions
        .filter(|_| issue.kind == TokenKind::Session);
    if cap.is_some() {
        // Eviction orders by last_used: write the uses this instance has only noted so far.
        flush_uses(state).await?;
    }
    let txn = super::begin(state).await?;
    let session = sessions::insert(&*txn, new, now).await?;
    let mut evicted = 0;
    if let Some(max) = cap {
        evicted =
            sessions::enforce_max_sessions(&*txn, issue.user_id, client.id, max.max(1) as u64, now)
                .await?;
    }
    if issue.login {
        crate::store::users::set_last_login(&*txn, issue.user_id, now).await?;
    }
    let recorded = match issue.event {
        Some(event) => {
            let event = event.session(&session.id).client(&client.name);
            Some(events::record(&*txn, state, event).await?)
        }
        None => None,
    };
    txn.commit().await?;
    if let Some(recorded) = recorded {
        recorded.emit(state);
    }
    if let Some(idle) = client.idle_timeout {
        state.touches.saw(&session.id, now, idle);
    }
    if evicted > 0 {
        tracing::info!(user_id = issue.user_id, client = %client.name, evicted, "sessions beyond max_sessions ended");
        invalidate(state, Target::User(issue.user_id)).await;
    }
    Ok(Issued {
        session,
        transport: client.transport.parse().unwrap_or_default(),
        client_name: client.name,
        token: minted,
    })
}

/// Records that the presenting session's user proved their password again just now, with
/// `event`; returns the new `authenticated_at` (µs).
pub async fn reauthenticated(
    state: &AppState,
    principal: &Principal,
    event: Event,
) -> AppResult<i64> {
    let now = state.now();
    let id = &principal.session().id;
    let txn = super::begin(state).await?;
    if !sessions::set_authenticated_at(&*txn, id, now).await? {
        // Logged out while this request was in flight.
        txn.rollback().await?;
        return Err(invalid_token());
    }
    let recorded = events::record(&*txn, state, event).await?;
    txn.commit().await?;
    recorded.emit(state);
    invalidate(state, Target::Session(id.clone())).await;
    Ok(now)
}

/// Deletes one session and records `event` about it, in one transaction; returns whether the
/// session was still there (no event otherwise).
pub(super) async fn delete_with_event(state: &AppState, id: &str, event: Event) -> AppResult<bool> {
    let txn = super::begin(state).await?;
    if !sessions::delete(&*txn, id).await? {
        txn.rollback().await?;
        return Ok(false);
    }
    let recorded = events::record(&*txn, state, event).await?;
    txn.commit().await?;
    recorded.emit(state);
    invalidate(state, Target::Session(id.to_string())).await;
    Ok(true)
}

/// Ends the presenting session (logout).
pub async fn end(state: &AppState, principal: &Principal) -> AppResult<()> {
    let id = &principal.session().id;
    let user = principal.user();
    let event = Event::new("logout")
        .user(user.id, &user.username)
        .client(&principal.client().name)
        .session(id);
    delete_with_event(state, id, event).await?;
    Ok(())
}

/// Ends the session or key of a presented token (RFC 7009: possession is the right to revoke
/// it). A malformed token never reaches the database; an unknown one changes nothing.
pub async fn revoke_token(state: &AppState, presented: &str) -> AppResult<()> {
    let Some((_, digest)) = token::parse(presented) else {
        return Ok(());
    };
    if let Some(record) = crate::store::auth::authenticate(&state.db, &digest).await? {
        let event = Event::new("session.revoked")
            .user(record.user.id, &record.user.username)
            .client(&record.client.name)
            .session(&record.session.id)
            .with("by", "rfc7009");
        delete_with_event(state, &record.session.id, event).await?;
    }
    Ok(())
}

/// Ends one of `user`'s live sessions of `kind` by id (at the user's own request); `false`
/// when there is none.
pub async fn revoke(
    state: &AppState,
    user: &UserInfo,
    id: &str,
    kind: TokenKind,
) -> AppResult<bool> {
    let Some(found) = sessions::find_for_user(&state.db, user.id, id, kind, state.now()).await?
    else {
        return Ok(false);
    };
    let client = crate::store::clients::find(&state.db, found.client_id).await?;
    let kind_name = if kind == TokenKind::ApiKey {
        "apikey.deleted"
    } else {
        "session.revoked"
    };
    let mut event = Event::new(kind_name)
        .user(user.id, &user.username)
        .session(id);
    if let Some(client) = client {
        event = event.client(&client.name);
    }
    if kind == TokenKind::Session {
        event = event.with("by", "user");
    }
    delete_with_event(state, id, event).await
}

/// Why a user's sessions end all at once, for the event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// The user logged out everywhere (`logout_all`).
    LogoutAll,
    /// The user ended their other sessions (`session.revoked`, by the user).
    OtherSessions,
    /// An admin ended them (`session.revoked`, by an admin).
    Admin,
}

/// Ends a user's sessions in `scope` and records why, with the count (`detail.revoked`);
/// returns how many live ones ended.
pub async fn revoke_user(
    state: &AppState,
    user: (i32, &str),
    scope: Scope<'_>,
    why: Why,
) -> AppResult<u64> {
    let (user_id, username) = user;
    let event = match why {
        Why::LogoutAll => Event::new("logout_all"),
        Why::OtherSessions => Event::new("session.revoked").with("by", "user"),
        Why::Admin => Event::new("session.revoked").with("by", "admin"),
    }
    .user(user_id, username);
    let txn = super::begin(state).await?;
    let revoked = sessions::delete_for_user(&*txn, user_id, scope, state.now()).await?;
    let recorded = events::record(&*txn, state, event.with("revoked", revoked)).await?;
    txn.commit().await?;
    recorded.emit(state);
    tracing::info!(user_id, revoked, scope = ?scope, "sessions revoked");
    invalidate(state, Target::User(user_id)).await;
    Ok(revoked)
}

/// A user's live sessions of these kinds, with client names, most recently used first.
pub async fn list_for_user(
    state: &AppState,
    user_id: i32,
    kinds: &[TokenKind],
) -> AppResult<Vec<(session::Model, String)>> {
    flush_uses(state).await?;
    Ok(sessions::list_for_user(&state.db, user_id, kinds, state.now()).await?)
}

/// A page of every live session matching `filter`, newest first, after the session `after`.
/// An `after` that no longer exists is `Ok(None)`.
pub async fn list_all(
    state: &AppState,
    filter: &SessionFilter,
    after: Option<&str>,
    limit: u64,
) -> AppResult<Option<Vec<ListedSession>>> {
    flush_uses(state).await?;
    let position = match after {
        Some(id) => match sessions::find(&state.db, id).await? {
            Some(s) => Some((s.created, s.id)),
            None => return Ok(None),
        },
        None => None,
    };
    Ok(Some(
        sessions::list_all(&state.db, filter, position, limit, state.now()).await?,
    ))
}
