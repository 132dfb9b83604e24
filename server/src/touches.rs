//! `last_used` and auto-renewal writes, taken off the request path.
//!
//! A request that is due to record a use (or a renewal) only notes it here; a background task
//! flushes the notes in one transaction every second, and on shutdown. Reads that order or show
//! `last_used` (session listings, `max_sessions` eviction) flush first, so on one instance
//! nothing is ever seen out of date.
//!
//! Idle timeouts need more than that coalesced column: a session used 30 s after its
//! `last_used` was written must not look idle 270 s later. So every use of a session whose
//! client has an `idle_timeout` is also remembered here ([`Touches::saw`]) until the session
//! would be idle anyway, and the idle check takes the newest use this instance knows of.

use crate::store::sessions;
use sea_orm::{DatabaseConnection, DbErr, TransactionTrait};
use std::collections::HashMap as StdHashMap;

/// foldhash rather than SipHash: the keys are session ids, which the server makes, so no caller
/// can choose colliding ones (as in `AuthCache::new`); `seen` is read on every use of an
/// idle-limited session.
type HashMap<K, V> = StdHashMap<K, V, foldhash::fast::RandomState>;
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

/// The newest use of an idle-limited session, and how long it may stay unused (µs).
#[derive(Debug, Clone, Copy)]
struct Seen {
    at: i64,
    idle: i64,
}

/// Pending writes by session id, and the newest uses of idle-limited sessions.
#[derive(Default)]
pub struct Touches {
    pending: Mutex<HashMap<String, Touch>>,
    seen: Mutex<HashMap<String, Seen>>,
}

impl Touches {
    /// Notes a use; a later note for the same session replaces an earlier one, keeping a
    /// renewal that has not been written yet.
    pub fn record(&self, session_id: &str, touch: Touch) {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        let entry = pending.entry(session_id.to_string()).or_insert(touch);
        let renewed_to = touch.renewed_to.or(entry.renewed_to);
        *entry = Touch {
            last_used: touch.last_used,
            renewed_to,
        };
    }

    /// How many writes are pending.
    pub fn len(&self) -> usize {
        self.pending.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Remembers a use at `at` (µs) of a session that ends after `idle_secs` unused.
    pub fn saw(&self, session_id: &str, at: i64, idle_secs: i64) {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let idle = idle_secs.saturating_mul(crate::clock::SECOND);
        match seen.get_mut(session_id) {
            Some(entry) => {
                entry.at = entry.at.max(at);
                entry.idle = idle;
            }
            None => {
                seen.insert(session_id.to_string(), Seen { at, idle });
            }
        }
    }

    /// The newest use of a session this instance remembers.
    pub fn last_seen(&self, session_id: &str) -> Option<i64> {
        let seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.get(session_id).map(|s| s.at)
    }

    /// Forgets a session (it ended).
    pub fn forget(&self, session_id: &str) {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.remove(session_id);
    }

    /// Forgets the uses of sessions that are idle by now anyway, so the map holds only
    /// sessions still in use; returns how many remain.
    pub fn prune_seen(&self, now: i64) -> usize {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.retain(|_, s| now - s.at <= s.idle);
        seen.len()
    }

    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Writes every pending note in one transaction; returns how many. On failure the notes are
    /// put back (unless newer ones arrived), so nothing is lost.
    pub async fn flush(&self, db: &DatabaseConnection) -> Result<usize, DbErr> {
        let mut batch: Vec<(String, Touch)> = {
            let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
            if pending.is_empty() {
                return Ok(0);
            }
            pending.drain().collect()
        };
        // Every instance locks the rows it updates in the same (id) order: two instances
        // flushing uses of the same sessions then wait for each other instead of deadlocking
        // (PostgreSQL would break such a deadlock only after `deadlock_timeout`, one second).
        batch.sort_unstable_by(|a, b| a.0.cmp(&b.0));
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
            let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
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
/// more after the server has drained), and forgets idle sessions' uses every minute.
pub async fn run(
    touches: Arc<Touches>,
    db: DatabaseConnection,
    clock: Arc<dyn crate::clock::Clock>,
    interval: std::time::Duration,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let mut ticker = tokio::time::interval(interval);
    let mut ticks: u64 = 0;
    loop {
        tokio::select! {
            _ = ticker.tick() => {
                // A failure keeps the notes for the next tick (and is logged by flush).
                let _ = touches.flush(&db).await;
                ticks += 1;
                if ticks.is_multiple_of(60) {
                    touches.prune_seen(clock.now_micros());
                }
            }
            _ = shutdown.changed() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::SECOND;

    #[test]
    fn remembers_the_newest_use_until_the_session_is_idle_anyway() {
        let touches = Touches::default();
        touches.saw("s", 10 * SECOND, 300);
        touches.saw("s", 5 * SECOND, 300);
        assert_eq!(touches.last_seen("s"), Some(10 * SECOND));
        assert_eq!(touches.prune_seen(310 * SECOND), 1);
        assert_eq!(touches.prune_seen(310 * SECOND + 1), 0);
        assert_eq!(touches.last_seen("s"), None);
        touches.saw("t", 0, 300);
        touches.forget("t");
        assert_eq!(touches.last_seen("t"), None);
    }
}
