//! Time as the server sees it, injectable so tests can move it instead of sleeping.

use chrono::{DateTime, TimeZone, Utc};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A source of the current time.
pub trait Clock: Send + Sync + 'static {
    /// The current time in microseconds since the Unix epoch.
    fn now_micros(&self) -> i64;
}

/// The wall clock.
#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_micros(&self) -> i64 {
        // std's clock rather than chrono's `Utc::now`, which also works out a calendar date no
        // caller wants: a verification reads the time several times.
        let micros = |d: std::time::Duration| i64::try_from(d.as_micros()).unwrap_or(i64::MAX);
        match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(since) => micros(since),
            Err(before) => -micros(before.duration()),
        }
    }
}

/// A clock that only moves when told to; for tests.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    /// A clock stopped at the current wall time.
    pub fn new() -> Self {
        Self(Arc::new(AtomicI64::new(Utc::now().timestamp_micros())))
    }

    /// Moves the clock forward by `secs` seconds (fractions allowed).
    pub fn advance_secs(&self, secs: f64) {
        self.0.fetch_add((secs * 1e6) as i64, Ordering::SeqCst);
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for ManualClock {
    fn now_micros(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// Converts stored microseconds to a UTC timestamp.
pub fn to_datetime(micros: i64) -> DateTime<Utc> {
    Utc.timestamp_micros(micros).single().unwrap_or_default()
}

/// Microseconds in one second.
pub const SECOND: i64 = 1_000_000;

#[cfg(test)]
mod tests {
    use super::{Clock, SECOND, SystemClock};

    #[test]
    fn the_system_clock_reads_microseconds_since_the_epoch() {
        let chrono = chrono::Utc::now().timestamp_micros();
        let ours = SystemClock.now_micros();
        // Read one after the other: the same instant, give or take scheduling.
        assert!((ours - chrono).abs() < SECOND, "{ours} vs {chrono}");
    }
}
