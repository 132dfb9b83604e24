//! Refresh (docs/endpoints.md, "Token lifecycle"): renewal, and for clients with
//! `rotate_on_refresh` rotation with reuse detection (docs/tokens.md, "Rotation on refresh").

use super::events::{self, Event};
use super::invalidate;
use super::sessions::{delete_with_event, invalid_token};
use crate::cache::Target;
use crate::error::AppResult;
use crate::principal::{AuthRecord, Principal};
use crate::state::AppState;
use crate::store::sessions;
use crate::token::{self, TokenDigest, TokenKind};
use crate::touches::Touch;

/// Ends a session whose retired token came back after its window, and records it.
pub(super) async fn reuse_detected(state: &AppState, record: &AuthRecord) -> AppResult<()> {
    let event = Event::new("token.reuse_detected")
        .user(record.user.id, &record.user.username)
        .client(&record.client.name)
        .session(&record.session.id);
    if delete_with_event(state, &record.session.id, event).await? {
        tracing::warn!(session_id = %record.session.id, "a rotated-out token was reused: session ended");
    }
    Ok(())
}

/// The outcome of a refresh.
#[derive(Debug)]
pub struct Renewed {
    /// The new expiry.
    pub expiry: Option<i64>,
    /// The new token, when the client rotates tokens on refresh.
    pub token: Option<String>,
}

/// Renews the presenting session: expiry per the client's policy, counted from now. A client
/// with `rotate_on_refresh` also gets a new token (see [`rotate`]).
pub async fn renew(state: &AppState, principal: &Principal) -> AppResult<Renewed> {
    // API keys are not rotated by refresh (they have their own roll).
    if principal.client().policy.rotate_on_refresh && principal.session().kind == TokenKind::Session
    {
        return rotate(state, principal).await;
    }
    let session = principal.session();
    if session.kind == TokenKind::ApiKey {
        // API keys are rolled, never renewed: an expiry chosen at creation stays.
        return Ok(Renewed {
            expiry: session.expiry,
            token: None,
        });
    }
    let now = state.now();
    let expiry = principal.client().policy.expiry(now, session.created);
    // Supersede any queued auto-renewal, which would otherwise write an older expiry later.
    state.touches.record(
        &session.id,
        Touch {
            last_used: now,
            renewed_to: Some(expiry),
        },
    );
    let still_there = sessions::touch(&state.db, &session.id, now, Some(expiry)).await?;
    state.cache.forget(&principal.digest);
    if !still_there {
        // Logged out while this request was in flight.
        return Err(invalid_token());
    }
    Ok(Renewed {
        expiry,
        token: None,
    })
}

/// The new token a rotation sealed for session `id`, if the presented token (`digest`) is the
/// one it retired and its window is still open.
async fn rotated_token(state: &AppState, id: &str, digest: &TokenDigest) -> AppResult<Renewed> {
    let now = state.now();
    let session = sessions::find(&state.db, id)
        .await?
        .ok_or_else(invalid_token)?;
    let open = session.previous_digest.as_deref() == Some(digest.as_str())
        && session.previous_until.is_some_and(|until| now <= until);
    let token = session
        .rotated_token
        .filter(|_| open)
        .and_then(|sealed| state.secret.unseal(id, &sealed))
        .ok_or_else(invalid_token)?;
    Ok(Renewed {
        expiry: session.expiry,
        token: Some(token),
    })
}

/// Refresh with rotation (docs/tokens.md, "Rotation"): a new token for the same session; the
/// presented one keeps working for `TESSERA_ROTATION_GRACE` seconds, during which a refresh with
/// it returns the same new token again, on every instance (it is kept sealed under the server
/// secret for the window). The swap is conditional on the presented token still being the
/// current one, so of concurrent refreshes one rotates and the others get its token.
async fn rotate(state: &AppState, principal: &Principal) -> AppResult<Renewed> {
    let session = principal.session();
    if principal.record.retired_until.is_some() {
        // Verified: the window is still open. Hand back the token that replaced it.
        return rotated_token(state, &session.id, &principal.digest).await;
    }
    let now = state.now();
    let expiry = principal.client().policy.expiry(now, session.created);
    let minted = token::generate(TokenKind::Session);
    let plain = token::reveal(&minted);
    let sealed = state.secret.seal(&session.id, &plain);
    let grace = state
        .settings
        .rotation_grace
        .saturating_mul(crate::clock::SECOND);
    let rotation = sessions::Rotation {
        from: &principal.digest,
        to: &minted.digest,
        hint: &minted.hint,
        sealed: &sealed,
        until: now.saturating_add(grace),
        expiry,
    };
    // Supersede any queued auto-renewal, which would otherwise write an older expiry later.
    state.touches.record(
        &session.id,
        Touch {
            last_used: now,
            renewed_to: Some(expiry),
        },
    );
    let txn = super::begin(state).await?;
    if !sessions::rotate(&*txn, &session.id, &rotation, now).await? {
        // Another refresh rotated first (or the session ended).
        txn.rollback().await?;
        return rotated_token(state, &session.id, &principal.digest).await;
    }
    let user = principal.user();
    let event = Event::new("token.rotated")
        .user(user.id, &user.username)
        .client(&principal.client().name)
        .session(&session.id);
    let recorded = events::record(&*txn, state, event).await?;
    txn.commit().await?;
    recorded.emit(state);
    invalidate(state, Target::Session(session.id.clone())).await;
    Ok(Renewed {
        expiry,
        token: Some(plain),
    })
}
