//! The services: the only code that writes users, clients, sessions and overrides. Each owns its
//! transactions and, after they commit, the consequences every caller would otherwise have to
//! remember: evicting cached tokens here and on every other instance, and writing queued uses
//! before anything shows `last_used`. Handlers and the CLI call these and nothing below them.

pub mod account;
pub mod apikeys;
pub mod clients;
pub mod login;
pub mod sessions;
pub mod throttles;
pub mod users;

use crate::cache::Target;
use crate::error::AppResult;
use crate::state::AppState;

/// Drops cached sessions covered by `target` here and on every other instance. Called after
/// any committed change that ends sessions or alters what their cached record says.
pub(crate) async fn invalidate(state: &AppState, target: Target) {
    state.cache.invalidate(&target);
    if let Err(err) = state.bus.publish(&target).await {
        // The other instances' caches expire within the cache TTL regardless.
        tracing::error!(error = %err, "could not tell other instances about a revocation");
    }
}

/// Writes the queued `last_used` notes, before a read that shows or orders by them.
pub(crate) async fn flush_uses(state: &AppState) -> AppResult<()> {
    state.touches.flush(&state.db).await?;
    Ok(())
}
