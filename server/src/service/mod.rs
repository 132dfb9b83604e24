//! The services: the only code that writes users, clients, sessions and overrides. Each owns its
//! transactions and, after they commit, the consequences every caller would otherwise have to
//! remember: evicting cached tokens here and on every other instance, and writing queued uses
//! before anything shows `last_used`. Handlers and the CLI call these and nothing below them.

pub mod account;
pub mod apikeys;
pub mod clients;
pub mod events;
pub mod keys;
pub mod login;
pub mod refresh;
pub mod revocations;
pub mod sessions;
pub mod throttles;
pub mod tokens;
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

/// A transaction that is rolled back when dropped uncommitted (an early return or a `?`), at
/// once rather than whenever its pooled connection is next used: until then PostgreSQL would
/// hold its row locks, and a later request touching those rows would wait on them.
pub(crate) struct Txn(Option<sea_orm::DatabaseTransaction>);

/// Begins a transaction on the writer.
pub(crate) async fn begin(state: &AppState) -> AppResult<Txn> {
    use sea_orm::TransactionTrait;
    Ok(Txn(Some(state.db.begin().await?)))
}

impl Txn {
    /// Rolls back now (for an expected refusal; an unexpected `?` relies on the drop).
    pub(crate) async fn rollback(mut self) -> AppResult<()> {
        if let Some(txn) = self.0.take() {
            txn.rollback().await?;
        }
        Ok(())
    }

    /// Commits.
    pub(crate) async fn commit(mut self) -> AppResult<()> {
        if let Some(txn) = self.0.take() {
            txn.commit().await?;
        }
        Ok(())
    }
}

impl std::ops::Deref for Txn {
    type Target = sea_orm::DatabaseTransaction;

    fn deref(&self) -> &Self::Target {
        // Present until commit, which consumes the Txn.
        self.0.as_ref().expect("an open transaction")
    }
}

impl Drop for Txn {
    fn drop(&mut self) {
        if let Some(txn) = self.0.take() {
            // Dropped only inside the runtime (services run in requests and tasks).
            if let Ok(handle) = tokio::runtime::Handle::try_current() {
                handle.spawn(async move {
                    if let Err(err) = txn.rollback().await {
                        tracing::warn!(error = %err, "rollback failed");
                    }
                });
            }
        }
    }
}
