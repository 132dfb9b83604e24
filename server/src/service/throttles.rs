//! Per-user throttle overrides: (user, client) → rate, or `None` for unlimited.

use super::events::{self, Event};
use super::invalidate;
use crate::cache::Target;
use crate::error::{AppError, AppResult};
use crate::policy::Rate;
use crate::state::AppState;
use crate::store::{clients, throttles};

/// A user's overrides as (client name, rate), by client name.
pub async fn list(state: &AppState, user_id: i32) -> AppResult<Vec<(String, Option<String>)>> {
    super::users::get(state, user_id).await?;
    Ok(throttles::list(&state.db, user_id).await?)
}

/// The user (for the event) and the client's id; 404 for either unknown.
async fn target(
    state: &AppState,
    user_id: i32,
    client: &str,
) -> AppResult<(entity::user::Model, i32)> {
    let user = super::users::get(state, user_id).await?;
    let client_id = clients::find_by_name(&state.db, client)
        .await?
        .ok_or(AppError::NotFound)?
        .id;
    Ok((user, client_id))
}

/// Sets (or replaces) a user's rate on a client; it applies from the next request.
pub async fn put(
    state: &AppState,
    user_id: i32,
    client: &str,
    rate: Option<Rate>,
) -> AppResult<()> {
    let (user, client_id) = target(state, user_id, client).await?;
    let txn = super::begin(state).await?;
    throttles::put(&*txn, user_id, client_id, rate).await?;
    let event = Event::new("throttle.set")
        .user(user.id, &user.username)
        .client(client)
        .with("rate", rate.map(|r| r.to_string()));
    let recorded = events::record(&*txn, state, event).await?;
    txn.commit().await?;
    recorded.emit(state);
    // The effective rate is part of the cached record.
    invalidate(state, Target::User(user_id)).await;
    Ok(())
}

/// Removes a user's rate on a client; 404 when there is none.
pub async fn delete(state: &AppState, user_id: i32, client: &str) -> AppResult<()> {
    let (user, client_id) = target(state, user_id, client).await?;
    let txn = super::begin(state).await?;
    if !throttles::delete(&*txn, user_id, client_id).await? {
        txn.rollback().await?;
        return Err(AppError::NotFound);
    }
    let event = Event::new("throttle.removed")
        .user(user.id, &user.username)
        .client(client);
    let recorded = events::record(&*txn, state, event).await?;
    txn.commit().await?;
    recorded.emit(state);
    invalidate(state, Target::User(user_id)).await;
    Ok(())
}
