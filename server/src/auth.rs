//! The `AuthSession` extractor: SPEC §3.1 in one place. Handlers never read headers.

use crate::error::{AppError, AppResult};
use crate::policy::{self, LAST_USED_GRANULARITY};
use crate::state::AppState;
use crate::store::sessions::{self, AuthRow};
use crate::throttle::{Allowance, BudgetKey};
use crate::token::{self, TokenDigest};
use crate::touches::Touch;
use axum::extract::FromRequestParts;
use axum::http::{header, request::Parts};
use secrecy::ExposeSecret;
use std::sync::{Arc, Mutex};
use subtle::ConstantTimeEq;

/// An authenticated request: the session, its user and client, read in one query.
#[derive(Debug, Clone)]
pub struct AuthSession {
    /// The joined row.
    pub row: AuthRow,
    /// The presented token's digest.
    pub digest: TokenDigest,
}

/// An authenticated request by an admin (others get 403); budget spent after the check.
#[derive(Debug, Clone)]
pub struct AdminSession(pub AuthSession);

/// An authenticated request whose budget the handler spends itself (forward-auth checks its
/// client lists first, so that 403 wins over 429).
#[derive(Debug, Clone)]
pub struct Unmetered(pub AuthSession);

fn unauthorized(code: &'static str, detail: &'static str) -> AppError {
    AppError::Unauthorized { code, detail }
}

/// The token in `Authorization: Bearer|Token <token>`, or the 401 the SPEC assigns.
pub fn bearer_token(parts: &Parts) -> AppResult<&str> {
    let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
        return Err(unauthorized(
            "not_authenticated",
            "Authentication credentials were not provided.",
        ));
    };
    // Split on bytes: a token with non-ASCII bytes is a malformed token, not a malformed header.
    let mut words = value
        .as_bytes()
        .split(|b| b.is_ascii_whitespace())
        .filter(|w| !w.is_empty());
    let scheme = words.next().unwrap_or(b"");
    if !scheme.eq_ignore_ascii_case(b"bearer") && !scheme.eq_ignore_ascii_case(b"token") {
        return Err(unauthorized(
            "not_authenticated",
            "Authentication credentials were not provided.",
        ));
    }
    match (words.next(), words.next()) {
        (Some(token), None) => {
            std::str::from_utf8(token).map_err(|_| unauthorized("invalid_token", "Invalid token."))
        }
        (None, _) => Err(unauthorized(
            "invalid_header",
            "Invalid token header. No credentials provided.",
        )),
        _ => Err(unauthorized(
            "invalid_header",
            "Invalid token header. Token string should not contain spaces.",
        )),
    }
}

/// A token resolved to its session, with what the cache needs to update it safely.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The joined row.
    pub row: AuthRow,
    /// The token's digest (the cache key).
    pub digest: TokenDigest,
    /// The cache generation at which `row` was known to be current.
    pub read_at: u64,
}

async fn fetch(state: &AppState, digest: &TokenDigest) -> AppResult<Option<(AuthRow, u64)>> {
    let read_at = state.cache.generation();
    let row = sessions::authenticate(&state.reader, digest).await?;
    if let Some(row) = &row {
        state.cache.put(digest, row.clone(), read_at);
    }
    Ok(row.map(|r| (r, read_at)))
}

/// Resolves a token string to its live session without counting a use: from the verification
/// cache when it can, else with one indexed read. An expired session is deleted when
/// `delete_expired` (authentication) and left to the purge otherwise (introspection, which must
/// have no side effects).
pub async fn lookup(
    state: &AppState,
    presented: &str,
    delete_expired: bool,
) -> AppResult<Verified> {
    let invalid = || unauthorized("invalid_token", "Invalid token.");
    let (kind, digest) = token::parse(presented).ok_or_else(invalid)?;
    let read_at = state.cache.generation();
    let (mut row, mut read_at) = match state.cache.get(&digest) {
        Some(row) => (row, read_at),
        None => fetch(state, &digest).await?.ok_or_else(invalid)?,
    };
    if row.kind != kind.as_str() {
        return Err(invalid());
    }
    let now = state.now();
    if row.expiry.is_some_and(|e| e <= now) {
        // A cached expiry may have been renewed by another instance: only the database decides.
        state.cache.forget(&digest);
        (row, read_at) = fetch(state, &digest).await?.ok_or_else(invalid)?;
        if row.expiry.is_some_and(|e| e <= now) {
            state.cache.forget(&digest);
            if delete_expired {
                sessions::delete(&state.db, &row.session_id).await?;
            }
            return Err(unauthorized("token_expired", "Token has expired."));
        }
    }
    if !row.is_active {
        return Err(unauthorized("user_inactive", "User inactive or deleted."));
    }
    Ok(Verified {
        row,
        digest,
        read_at,
    })
}

/// Records a use: `last_used` at most once a minute, and auto-renewal when due. The write is
/// queued (see [`crate::touches`]); the cached row is updated at once.
fn record_use(state: &AppState, verified: &mut Verified) {
    let now = state.now();
    let row = &mut verified.row;
    let renew = (row.auto_renew && policy::auto_renew_due(now, row.renewed, row.token_ttl))
        .then(|| policy::expiry(now, row.created, row.token_ttl, row.max_lifetime));
    if renew.is_none() && now - row.last_used < LAST_USED_GRANULARITY {
        return;
    }
    state.touches.record(
        &row.session_id,
        Touch {
            last_used: now,
            renewed_to: renew,
        },
    );
    row.last_used = now;
    if let Some(expiry) = renew {
        row.expiry = expiry;
        row.renewed = now;
    }
    state
        .cache
        .put(&verified.digest, row.clone(), verified.read_at);
}

/// Where the budget middleware collects the allowance a request spent, for `RateLimit-*`.
#[derive(Clone, Default)]
pub struct AllowanceSlot(pub Arc<Mutex<Option<Allowance>>>);

/// Spends one unit of the (user, client) budget of `auth`.
pub async fn spend_budget(state: &AppState, parts: &Parts, auth: &AuthSession) -> AppResult<()> {
    let rate = auth.row.effective_rate().and_then(|r| r.parse().ok());
    let key = BudgetKey::Pair(auth.row.user_id, auth.row.client_id);
    let allowance =
        state
            .throttles
            .spend(key, rate)
            .await
            .map_err(|refused| AppError::Throttled {
                wait_secs: refused.wait_secs,
            })?;
    if let (Some(allowance), Some(slot)) = (allowance, parts.extensions.get::<AllowanceSlot>()) {
        *slot.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(allowance);
    }
    Ok(())
}

async fn authenticate(parts: &Parts, state: &AppState) -> AppResult<AuthSession> {
    let mut verified = lookup(state, bearer_token(parts)?, true).await?;
    record_use(state, &mut verified);
    Ok(AuthSession {
        row: verified.row,
        digest: verified.digest,
    })
}

impl FromRequestParts<AppState> for AuthSession {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let auth = authenticate(parts, state).await?;
        spend_budget(state, parts, &auth).await?;
        Ok(auth)
    }
}

impl FromRequestParts<AppState> for AdminSession {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let auth = authenticate(parts, state).await?;
        if !auth.row.is_admin {
            return Err(AppError::Forbidden);
        }
        spend_budget(state, parts, &auth).await?;
        Ok(Self(auth))
    }
}

impl FromRequestParts<AppState> for Unmetered {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self(authenticate(parts, state).await?))
    }
}

/// A caller of the introspection endpoint: the introspection secret or an admin token.
/// Neither spends budget nor counts as a use.
#[derive(Debug, Clone)]
pub struct IntrospectionCaller;

impl FromRequestParts<AppState> for IntrospectionCaller {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let presented = bearer_token(parts)?;
        let secret_matches = state
            .settings
            .introspection_secret
            .as_ref()
            .is_some_and(|secret| {
                bool::from(
                    presented
                        .as_bytes()
                        .ct_eq(secret.expose_secret().as_bytes()),
                )
            });
        if secret_matches {
            return Ok(Self);
        }
        if lookup(state, presented, true).await?.row.is_admin {
            Ok(Self)
        } else {
            Err(AppError::Forbidden)
        }
    }
}
