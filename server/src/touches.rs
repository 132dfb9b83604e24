//! `last_used` and auto-renewal writes, taken off the request path.
//!
//! A request that is due to record a use (or a renewal) only notes it here; a background task
//! flushes the notes in one transaction every second, and on shutdown. Reads that order or show
//! `last_used` (session listings, `max_sessions` eviction) flush first, so on one instance
//! nothing is ever seen out of date.

use crate::store::sessions;
use sea_orm::{DatabaseConnection, DbErr, TransactionTrait};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::Mutex;

/// A use to write: `last_used`, and the new expiry when it was a renewal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Touch {
    /// When the session was used (µs).
    pub last_used: i64,
    /// `Some(expiry)` when the use renewed the session.
    pub renewed_to: Option<Option<i64>>,
}

/// Pending writes by session id.
#[derive(Default)]
pub struct Touches(Mutex<HashMap<String, Touch>>);

impl Touches {
    /// Notes a use; a later note for the same session replaces an earlier one, keeping a
    /// renewal that has not been written yet.
    pub fn record(&self, session_id: &str, touch: Touch) {
        let mut pending = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let entry = pending.entry(session_id.to_string()).or_insert(touch);
        let renewed_to = touch.renewed_to.or(entry.renewed_to);
        *entry = Touch {
            last_used: touch.last_used,
            renewed_to,
        };
    }

    /// How many writes are pending.
    pub fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Writes every pending note in one transaction; returns how many. On failure the notes are
    /// put back (unless newer ones arrived), so nothing is lost.
    pub async fn flush(&self, db: &DatabaseConnection) -> Result<usize, DbErr> {
        let batch: Vec<(String, Touch)> = {
            let mut pending = self.0.lock().unwrap_or_else(|p| p.into_inner());
            if pending.is_empty() {
                return Ok(0);
            }
            pending.drain().collect()
        };
        let result = async {
            let txn = db.begin().await?;
            for (id, touch) in &batch {
                // A session revoked meanwhile is simply not there to update.
                sessions::touch(&txn, id, touch.last_used, touch.renewed_to).await?;
            }
            txn.commit().await?;
            Ok::<(), DbErr>(())
        }
        .await;
        if let Err(err) = result {
            let mut pending = self.0.lock().unwrap_or_else(|p| p.into_inner());
            let n = batch.len();
            for (id, touch) in batch {
                pending.entry(id).or_insert(touch);
            }
            tracing::warn!(pending = n, "could not write last_used; will retry");
            return Err(err);
        }
        Ok(batch.len())
    }
}

/// Flushes pending writes every `interval` until `shutdown` turns true (the caller flushes once
/// more after the server has drained).
pub async fn run(
    touches: Arc<Touches>,
    db: DatabaseConnection,
    interval: std::time::Duration,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let mut ticker = tokio::time::interval(interval);
    loop {
        tokio::select! {
            _ = ticker.tick() => {
                // A failure keeps the notes for the next tick (and is logged by flush).
                let _ = touches.flush(&db).await;
            }
            _ = shutdown.changed() => return,
        }
    }
}
