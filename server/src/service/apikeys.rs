//! API keys (docs/endpoints.md, "API keys"): several named, optionally scoped and expiring keys
//! per user, on the API-access client; rolled with a grace period, never renewed. The v1
//! endpoints manage the key named `default`.

use super::events::{self, Event};
use super::sessions::{self, Issued};
use super::{flush_uses, invalidate};
use crate::cache::Target;
use crate::clock::SECOND;
use crate::error::{AppError, AppResult};
use crate::net::Caller;
use crate::principal::UserInfo;
use crate::scopes;
use crate::state::AppState;
use crate::store::apikeys::{self as store, Roll};
use crate::store::{clients, sessions as session_store};
use crate::token::{self, TokenKind};
use entity::session;

/// Longest grace a roll may give the old token: one day.
pub const MAX_GRACE: i64 = 86_400;

/// A key to create; its fields are already checked (see [`crate::scopes`]).
#[derive(Debug, Clone)]
pub struct NewKey {
    pub name: String,
    /// `None` = unrestricted.
    pub scopes: Option<Vec<String>>,
    /// Seconds until it expires (capped by the API-access client's `max_lifetime`); `None` =
    /// the client's policy.
    pub expires_in: Option<i64>,
}

fn unavailable() -> AppError {
    AppError::bad_request(
        "api_access_unavailable",
        "API keys are not enabled on this server.",
    )
}

/// The user's live keys with their client's name, newest first, `last_used` up to date.
pub async fn list(state: &AppState, user_id: i32) -> AppResult<Vec<(session::Model, String)>> {
    flush_uses(state).await?;
    Ok(store::list(&state.db, user_id, state.now()).await?)
}

/// The user's live key named `name`, `last_used` up to date.
pub async fn find_named(
    state: &AppState,
    user_id: i32,
    name: &str,
) -> AppResult<Option<(session::Model, String)>> {
    flush_uses(state).await?;
    let now = state.now();
    Ok(store::find_by_name(&state.db, user_id, name)
        .await?
        .filter(|(key, _)| key.expiry.is_none_or(|e| e > now)))
}

/// Creates a key. 409 when the user has a live key of that name or already holds
/// `TESSERA_MAX_API_KEYS` live keys (an expired key of the same name is replaced); 400
/// `api_access_unavailable` when the API-access client does not exist.
pub async fn create(
    state: &AppState,
    user: &UserInfo,
    caller: Caller,
    key: NewKey,
) -> AppResult<Issued> {
    let Some(client) = clients::find_by_name(&state.db, &state.settings.api_access_client).await?
    else {
        return Err(unavailable());
    };
    let now = state.now();
    // An asked-for expiry replaces the client's `token_ttl`; `max_lifetime` still caps it.
    let ttl = key.expires_in.or(client.token_ttl);
    let expiry = crate::policy::expiry(now, now, ttl, client.max_lifetime);
    let minted = token::generate(TokenKind::ApiKey);
    let txn = super::begin(state).await?;
    if !store::lock_user(&*txn, user.id).await? {
        // Deleted while this request was in flight.
        txn.rollback().await?;
        return Err(sessions::invalid_token());
    }
    if let Some((old, _)) = store::find_by_name(&*txn, user.id, &key.name).await? {
        if old.expiry.is_none_or(|e| e > now) {
            txn.rollback().await?;
            return Err(AppError::Conflict(format!(
                "You already have an API key named {:?}.",
                key.name
            )));
        }
        session_store::delete(&*txn, &old.id).await?;
    }
    let max = state.settings.max_api_keys;
    if store::count_live(&*txn, user.id, now).await? >= u64::from(max) {
        txn.rollback().await?;
        return Err(AppError::Conflict(format!(
            "You have {max} API keys, the most one person may hold; delete one first."
        )));
    }
    let stored_scopes = key.scopes.as_deref().map(scopes::to_stored);
    let new = session_store::NewSession {
        kind: TokenKind::ApiKey,
        user_id: user.id,
        client_id: client.id,
        device_name: "API key".into(),
        user_agent: caller.user_agent,
        ip: caller.ip.map(|ip| ip.to_string()),
        expiry,
        digest: minted.digest.clone(),
        hint: minted.hint.clone(),
        name: Some(key.name.clone()),
        scopes: stored_scopes,
    };
    let session = session_store::insert(&*txn, new, now).await?;
    let event = Event::new("apikey.created")
        .user(user.id, &user.username)
        .client(&client.name)
        .session(&session.id)
        .with("name", key.name)
        .with("scopes", serde_json::json!(key.scopes));
    let recorded = events::record(&*txn, state, event).await?;
    txn.commit().await?;
    recorded.emit(state);
    Ok(Issued {
        session,
        transport: crate::policy::Transport::Bearer,
        client_name: client.name,
        token: minted,
    })
}

/// Deletes one of the user's live keys by id; `false` when there is none.
pub async fn delete(state: &AppState, user: &UserInfo, id: &str) -> AppResult<bool> {
    sessions::revoke(state, user, id, TokenKind::ApiKey).await
}

/// Deletes the user's key named `name`; `false` when there is no live one.
pub async fn delete_named(state: &AppState, user: &UserInfo, name: &str) -> AppResult<bool> {
    match find_named(state, user.id, name).await? {
        Some((key, _)) => delete(state, user, &key.id).await,
        None => Ok(false),
    }
}

/// Gives one of the user's live keys a new token; the old one keeps working for `grace`
/// seconds (0–86400), then ends (without alarm: unlike a refresh rotation, the holder asked for
/// the overlap). `None` when there is no such key. The key keeps its id, name, scopes and expiry.
pub async fn roll(
    state: &AppState,
    user: &UserInfo,
    id: &str,
    grace: i64,
) -> AppResult<Option<Issued>> {
    let now = state.now();
    let Some(key) =
        session_store::find_for_user(&state.db, user.id, id, TokenKind::ApiKey, now).await?
    else {
        return Ok(None);
    };
    let Some(client) = clients::find(&state.db, key.client_id).await? else {
        return Ok(None);
    };
    let minted = token::generate(TokenKind::ApiKey);
    let roll = Roll {
        from: &key.token_digest,
        to: &minted.digest,
        hint: &minted.hint,
        until: (grace > 0).then(|| now.saturating_add(grace.saturating_mul(SECOND))),
    };
    let txn = super::begin(state).await?;
    if !store::roll(&*txn, id, &roll).await? {
        // Rolled (or deleted) by another request in between.
        txn.rollback().await?;
        return Err(AppError::Conflict(
            "The key changed while it was being rolled; list the keys and try again.".into(),
        ));
    }
    let event = Event::new("apikey.rolled")
        .user(user.id, &user.username)
        .client(&client.name)
        .session(id)
        .with("grace", grace);
    let recorded = events::record(&*txn, state, event).await?;
    txn.commit().await?;
    recorded.emit(state);
    // The cached record of the old token must learn it is retired (or gone).
    invalidate(state, Target::Session(id.to_string())).await;
    let session = session::Model {
        token_digest: minted.digest.as_str().to_string(),
        token_hint: minted.hint.clone(),
        previous_digest: roll.until.map(|_| key.token_digest.clone()),
        previous_until: roll.until,
        rotated_token: None,
        ..key
    };
    Ok(Some(Issued {
        session,
        transport: crate::policy::Transport::Bearer,
        client_name: client.name,
        token: minted,
    }))
}
