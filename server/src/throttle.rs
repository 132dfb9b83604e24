//! Request budgets (SPEC §3.2): GCRA per (user, client) pair and per login IP / username.
//!
//! GCRA keeps one "theoretical arrival time" (TAT) per key: `N/m` allows a burst of N and then
//! one request per 60/N s. It is written here rather than taken from governor because login
//! must check two budgets and spend from neither when one refuses (governor cannot peek), it
//! runs on the injected clock so tests need no sleeps, and the very same arithmetic runs in
//! Redis (see [`crate::redis_budget`]) when budgets are shared between instances.

use crate::clock::{Clock, SECOND};
use crate::policy::Rate;
use crate::redis_budget::RedisBudgets;
use crate::state::Settings;
use moka::sync::Cache;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Whose budget a request spends.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum BudgetKey {
    /// A (user id, client id) pair.
    Pair(i32, i32),
    /// Login attempts from one IP.
    LoginIp(IpAddr),
    /// Login attempts for one username.
    LoginUser(String),
}

impl BudgetKey {
    /// The key's name in a shared store.
    pub fn name(&self) -> String {
        match self {
            BudgetKey::Pair(u, c) => format!("p:{u}:{c}"),
            BudgetKey::LoginIp(ip) => format!("ip:{ip}"),
            BudgetKey::LoginUser(name) => format!("u:{name}"),
        }
    }
}

/// The state of a budget after a spend, for `RateLimit-*` headers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Allowance {
    /// The burst size (N of `N/period`).
    pub limit: u32,
    /// Requests that could still be made right now.
    pub remaining: u32,
    /// Whole seconds until the budget is full again.
    pub reset_secs: u64,
}

/// A refusal: the whole seconds (≥ 1) to wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refused {
    /// Seconds until the next request would be allowed, rounded up.
    pub wait_secs: u64,
}

/// GCRA parameters of a rate, in µs: (emission interval, burst tolerance).
pub fn params(rate: Rate) -> (i64, i64) {
    let emission = ((rate.per_secs as i64 * SECOND) / rate.count as i64).max(1);
    (emission, emission * (rate.count as i64 - 1))
}

/// Whole seconds, rounded up, of a µs duration.
pub fn ceil_secs(micros: i64) -> u64 {
    (micros.max(0) as u64).div_ceil(SECOND as u64)
}

/// The allowance left after a spend that moved the TAT to `now + ahead`.
pub fn allowance(rate: Rate, ahead: i64) -> Allowance {
    let (emission, tolerance) = params(rate);
    let remaining = ((tolerance - ahead).max(-emission) / emission + 1).max(0) as u32;
    Allowance {
        limit: rate.count,
        remaining,
        reset_secs: ceil_secs(ahead),
    }
}

struct Cell {
    tat: Mutex<i64>,
    /// The rate's period when the key was created, so idle expiry never drops live state.
    period_secs: u64,
}

/// All budgets of one instance, held here or shared through Redis.
pub struct Throttles {
    clock: Arc<dyn Clock>,
    cells: Cache<BudgetKey, Arc<Cell>>,
    redis: Option<RedisBudgets>,
    login_ip: Rate,
    login_user: Rate,
}

impl Throttles {
    /// In-memory budgets on `clock`, with the login rates of `settings`.
    pub fn new(clock: Arc<dyn Clock>, settings: &Settings) -> Self {
        // A key idle for a whole period is back to a full burst, so dropping it then loses
        // nothing; memory stays bounded by the keys active in the last period (≥ 10 min).
        let cells = Cache::builder()
            .max_capacity(10_000_000)
            .expire_after(IdleExpiry)
            .build();
        Self {
            clock,
            cells,
            redis: None,
            login_ip: settings.login_rate_per_ip,
            login_user: settings.login_rate_per_username,
        }
    }

    /// Shares every budget through Redis instead of this instance's memory.
    pub fn with_redis(mut self, redis: RedisBudgets) -> Self {
        self.redis = Some(redis);
        self
    }

    /// Spends one unit from every `(key, rate)` or, when any refuses, from none. Returns the
    /// allowance left on the first key.
    async fn spend_all(&self, keys: &[(BudgetKey, Rate)]) -> Result<Allowance, Refused> {
        let now = self.clock.now_micros();
        if let Some(redis) = &self.redis {
            return redis.spend_all(keys, now).await;
        }
        let cells: Vec<Arc<Cell>> = keys
            .iter()
            .map(|(key, rate)| {
                self.cells.get_with_by_ref(key, || {
                    Arc::new(Cell {
                        tat: Mutex::new(i64::MIN),
                        period_secs: rate.per_secs,
                    })
                })
            })
            .collect();
        // Locks are taken in a fixed order (the caller's), and keys of one call never repeat.
        let mut guards: Vec<_> = cells
            .iter()
            .map(|c| c.tat.lock().unwrap_or_else(|p| p.into_inner()))
            .collect();
        let mut wait = 0;
        for ((_, rate), tat) in keys.iter().zip(&guards) {
            let (_, tolerance) = params(*rate);
            let tat = (**tat).max(now);
            wait = wait.max(tat - now - tolerance);
        }
        if wait > 0 {
            return Err(Refused {
                wait_secs: ceil_secs(wait).max(1),
            });
        }
        let mut first = None;
        for ((_, rate), tat) in keys.iter().zip(guards.iter_mut()) {
            let (emission, _) = params(*rate);
            let next = (**tat).max(now) + emission;
            **tat = next;
            first.get_or_insert(allowance(*rate, next - now));
        }
        Ok(first.unwrap_or(Allowance {
            limit: 0,
            remaining: 0,
            reset_secs: 0,
        }))
    }

    /// Spends one unit of `key`'s budget at `rate`; `None` rate means unlimited.
    pub async fn spend(
        &self,
        key: BudgetKey,
        rate: Option<Rate>,
    ) -> Result<Option<Allowance>, Refused> {
        match rate {
            Some(rate) => self.spend_all(&[(key, rate)]).await.map(Some),
            None => Ok(None),
        }
    }

    /// Spends one login attempt from both the IP and the username budget, or from neither.
    pub async fn spend_login(&self, ip: Option<IpAddr>, username: &str) -> Result<(), Refused> {
        let mut keys = Vec::with_capacity(2);
        if let Some(ip) = ip {
            keys.push((BudgetKey::LoginIp(ip), self.login_ip));
        }
        keys.push((BudgetKey::LoginUser(username.to_string()), self.login_user));
        self.spend_all(&keys).await.map(|_| ())
    }
}

struct IdleExpiry;

impl IdleExpiry {
    fn idle(cell: &Cell) -> Option<Duration> {
        Some(Duration::from_secs(cell.period_secs.max(600)))
    }
}

impl moka::Expiry<BudgetKey, Arc<Cell>> for IdleExpiry {
    fn expire_after_create(
        &self,
        _: &BudgetKey,
        cell: &Arc<Cell>,
        _: std::time::Instant,
    ) -> Option<Duration> {
        Self::idle(cell)
    }

    fn expire_after_read(
        &self,
        _: &BudgetKey,
        cell: &Arc<Cell>,
        _: std::time::Instant,
        _: Option<Duration>,
        _: std::time::Instant,
    ) -> Option<Duration> {
        Self::idle(cell)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    fn throttles() -> (Throttles, ManualClock) {
        let clock = ManualClock::new();
        (
            Throttles::new(Arc::new(clock.clone()), &Settings::default()),
            clock,
        )
    }

    #[tokio::test]
    async fn burst_then_steady_rate() {
        let (t, clock) = throttles();
        let rate: Rate = "3/m".parse().unwrap();
        let key = BudgetKey::Pair(1, 1);
        let mut remaining = Vec::new();
        for _ in 0..3 {
            remaining.push(
                t.spend(key.clone(), Some(rate))
                    .await
                    .unwrap()
                    .unwrap()
                    .remaining,
            );
        }
        assert_eq!(remaining, [2, 1, 0]);
        assert_eq!(
            t.spend(key.clone(), Some(rate)).await,
            Err(Refused { wait_secs: 20 })
        );
        clock.advance_secs(19.5);
        assert_eq!(
            t.spend(key.clone(), Some(rate)).await,
            Err(Refused { wait_secs: 1 })
        );
        clock.advance_secs(0.5);
        assert!(t.spend(key.clone(), Some(rate)).await.is_ok());
        assert!(
            t.spend(BudgetKey::Pair(1, 2), Some(rate)).await.is_ok(),
            "pairs are independent"
        );
        assert_eq!(t.spend(key, None).await, Ok(None));
    }

    #[tokio::test]
    async fn refused_login_spends_nothing() {
        let (t, _clock) = throttles();
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        for _ in 0..10 {
            t.spend_login(Some(ip), "alice").await.unwrap();
        }
        for _ in 0..30 {
            assert!(t.spend_login(Some(ip), "alice").await.is_err());
        }
        // The IP spent 10 of its 30, not 40: other usernames from it still get through.
        for i in 0..20 {
            t.spend_login(Some(ip), &format!("user{i}")).await.unwrap();
        }
        assert!(t.spend_login(Some(ip), "bob").await.is_err());
    }
}
