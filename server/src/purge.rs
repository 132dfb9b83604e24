//! The background purge of expired and idle sessions, of retired signing keys no JWT can
//! need any more, and of security events past their retention.

use crate::clock::Clock;
use crate::store::sessions;
use sea_orm::{DatabaseConnection, DbErr};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Deletes every session expired (or idle past its client's `idle_timeout`) at `clock`'s now,
/// `batch` rows per statement so that no statement holds SQLite's write lock for long, and the
/// retired signing keys past their publication window. Returns how many sessions were deleted.
pub async fn purge_once(
    db: &DatabaseConnection,
    clock: &dyn Clock,
    batch: u64,
) -> Result<u64, DbErr> {
    let batch = batch.max(1);
    let keys = crate::store::signing_keys::delete_expired(db, clock.now_micros()).await?;
    if keys > 0 {
        tracing::info!(deleted = keys, "retired signing keys deleted");
    }
    sessions::erase_sealed(db, clock.now_micros()).await?;
    let mut total = 0;
    loop {
        let now = clock.now_micros();
        let n = sessions::purge_expired(db, now, batch).await?
            + sessions::purge_idle(db, now, batch).await?;
        total += n;
        if n < batch {
            return Ok(total);
        }
        tokio::task::yield_now().await;
    }
}

/// Deletes the events older than `retention` (seconds) at `clock`'s now, `batch` rows per
/// statement. Returns how many were deleted.
pub async fn purge_events(
    db: &DatabaseConnection,
    clock: &dyn Clock,
    retention: i64,
    batch: u64,
) -> Result<u64, DbErr> {
    let batch = batch.max(1);
    let cutoff = clock
        .now_micros()
        .saturating_sub(retention.saturating_mul(crate::clock::SECOND));
    let mut total = 0;
    loop {
        let n = crate::store::events::purge_before(db, cutoff, batch).await?;
        total += n;
        if n < batch {
            return Ok(total);
        }
        tokio::task::yield_now().await;
    }
}

/// Runs [`purge_once`] (and [`purge_events`] when events have a `retention`, in seconds)
/// every `interval` until `shutdown` turns true.
pub async fn run(
    db: DatabaseConnection,
    clock: Arc<dyn Clock>,
    interval: Duration,
    batch: u64,
    retention: Option<i64>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut ticker = tokio::time::interval(interval.max(Duration::from_secs(1)));
    loop {
        tokio::select! {
            _ = ticker.tick() => {
                match purge_once(&db, clock.as_ref(), batch).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(purged = n, "expired sessions purged"),
                    Err(err) => tracing::warn!(error = %err, "expired-session purge failed"),
                }
                if let Some(retention) = retention {
                    match purge_events(&db, clock.as_ref(), retention, batch).await {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(purged = n, "old security events purged"),
                        Err(err) => tracing::warn!(error = %err, "event purge failed"),
                    }
                }
            }
            _ = shutdown.changed() => return,
        }
    }
}
