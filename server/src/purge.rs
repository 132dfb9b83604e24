//! The background purge of expired sessions.

use crate::state::AppState;
use crate::store::sessions;
use std::time::Duration;
use tokio::sync::watch;

/// Deletes every session expired at the state's `now`, `batch` rows per statement so that no
/// statement holds SQLite's write lock for long. Returns how many were deleted.
pub async fn purge_once(state: &AppState, batch: u64) -> anyhow::Result<u64> {
    let mut total = 0;
    loop {
        let n = sessions::purge_expired(&state.db, state.now(), batch.max(1))
            .await
            .map_err(|e| anyhow::anyhow!("purge failed: {e}"))?;
        total += n;
        if n < batch.max(1) {
            return Ok(total);
        }
        tokio::task::yield_now().await;
    }
}

/// Runs [`purge_once`] every `interval` until `shutdown` turns true.
pub async fn run(
    state: AppState,
    interval: Duration,
    batch: u64,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut ticker = tokio::time::interval(interval.max(Duration::from_secs(1)));
    loop {
        tokio::select! {
            _ = ticker.tick() => match purge_once(&state, batch).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(purged = n, "expired sessions purged"),
                Err(err) => tracing::warn!(error = %err, "expired-session purge failed"),
            },
            _ = shutdown.changed() => return,
        }
    }
}
