//! Per-user throttle overrides: (user, client) → rate, or `None` for unlimited.

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

async fn client_id(state: &AppState, user_id: i32, client: &str) -> AppResult<i32> {
    super::users::get(state, user_id).await?;
    Ok(clients::find_by_name(&state.db, client)
        .await?
        .ok_or(AppError::NotFound)?
        .id)
}

/// Sets (or replaces) a user's rate on a client; it applies from the next request.
pub async fn put(
    state: &AppState,
    user_id: i32,
    client: &str,
    rate: Option<Rate>,
) -> AppResult<()> {
    let client_id = client_id(state, user_id, client).await?;
    throttles::put(&state.db, user_id, client_id, rate).await?;
    tracing::info!(user_id, client, rate = ?rate.map(|r| r.to_string()), "throttle override set");
    // The effective rate is part of the cached record.
    invalidate(state, Target::User(user_id)).await;
    Ok(())
}

/// Removes a user's rate on a client; 404 when there is none.
pub async fn delete(state: &AppState, user_id: i32, client: &str) -> AppResult<()> {
    let client_id = client_id(state, user_id, client).await?;
    if !throttles::delete(&state.db, user_id, client_id).await? {
        return Err(AppError::NotFound);
    }
    tracing::info!(user_id, client, "throttle override removed");
    invalidate(state, Target::User(user_id)).await;
    Ok(())
}
