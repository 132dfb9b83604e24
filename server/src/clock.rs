//! Time as the server sees it, injectable so tests can move it instead of sleeping.

use chrono::{DateTime, TimeZone, Utc};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

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
        Utc::now().timestamp_micros()
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
