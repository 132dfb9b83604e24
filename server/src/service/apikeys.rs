//! The v1 API key: one per user, on the API-access client (docs/endpoints.md, "API key").

use super::events::Event;
use super::sessions::{self, Issue, Issued};
use super::{flush_uses, invalidate};
use crate::cache::Target;
use crate::error::{AppError, AppResult};
use crate::net::Caller;
use crate::principal::UserInfo;
use crate::state::AppState;
use crate::store::{clients, sessions as store};
use crate::token::TokenKind;
use entity::session;

/// The user's live API key with its client's name, `last_used` up to date.
pub async fn find(state: &AppState, user_id: i32) -> AppResult<Option<(session::Model, String)>> {
    flush_uses(state).await?;
    let now = state.now();
    Ok(store::find_api_key(&state.db, user_id)
        .await?
        .filter(|(key, _)| key.expiry.is_none_or(|e| e > now)))
}

/// Creates the user's API key; 409 when a live one exists (an expired one is replaced).
pub async fn create(state: &AppState, user: &UserInfo, caller: Caller) -> AppResult<Issued> {
    let user_id = user.id;
    let Some(client) = clients::find_by_name(&state.db, &state.settings.api_access_client).await?
    else {
        return Err(AppError::bad_request(
            "api_access_unavailable",
            "API keys are not enabled on this server.",
        ));
    };
    let now = state.now();
    if let Some((old, _)) = store::find_api_key(&state.db, user_id).await? {
        if old.expiry.is_none_or(|e| e > now) {
            return Err(AppError::Conflict(
                "You already have an API key; delete it first.".into(),
            ));
        }
        store::delete(&state.db, &old.id).await?;
        invalidate(state, Target::Session(old.id)).await;
    }
    // The partial unique index turns a racing second POST into a 409 here.
    sessions::issue(
        state,
        Issue {
            kind: TokenKind::ApiKey,
            user_id,
            client,
            device_name: "API key".into(),
            user_agent: caller.user_agent,
            ip: caller.ip.map(|ip| ip.to_string()),
            login: false,
            event: Some(Event::new("apikey.created").user(user.id, &user.username)),
        },
    )
    .await
    .map_err(|err| match err {
        AppError::Conflict(_) => {
            AppError::Conflict("You already have an API key; delete it first.".into())
        }
        other => other,
    })
}

/// Deletes the user's API key; `false` when there is none.
pub async fn delete(state: &AppState, user: &UserInfo) -> AppResult<bool> {
    let Some((key, _)) = store::find_api_key(&state.db, user.id).await? else {
        return Ok(false);
    };
    sessions::revoke(state, user, &key.id, TokenKind::ApiKey).await
}
