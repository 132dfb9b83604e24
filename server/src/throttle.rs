//! Request budgets (SPEC §3.2): GCRA per (user, client) pair and per login IP / username.
//!
//! GCRA keeps one "theoretical arrival time" (TAT) per key: `N/m` allows a burst of N and then
//! one request per 60/N s. It is written here rather than taken from governor because login
//! needs to check two budgets and spend from neither when one refuses, which governor cannot
//! do (no peek), and because it runs on the injected clock so tests need no sleeps.

use crate::clock::{Clock, SECOND};
use crate::policy::Rate;
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

struct Cell {
    tat: Mutex<i64>,
    /// The rate's period when the key was created, so idle expiry never drops live state.
    period_secs: u64,
}

/// All budgets of one server instance.
pub struct Throttles {
    clock: Arc<dyn Clock>,
    cells: Cache<BudgetKey, Arc<Cell>>,
    login_ip: Rate,
    login_user: Rate,
}

fn ceil_secs(micros: i64) -> u64 {
    (micros.max(0) as u64).div_ceil(SECOND as u64)
}

fn params(rate: Rate) -> (i64, i64) {
    let emission = (rate.per_secs as i64 * SECOND) / rate.count as i64;
    (emission.max(1), emission.max(1) * (rate.count as i64 - 1))
}

impl Throttles {
    /// Budgets on `clock`, with the login rates of `settings`.
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
            login_ip: settings.login_rate_per_ip,
            login_user: settings.login_rate_per_username,
        }
    }

    fn cell(&self, key: &BudgetKey, rate: Rate) -> Arc<Cell> {
        self.cells.get_with_by_ref(key, || {
            Arc::new(Cell {
                tat: Mutex::new(i64::MIN),
                period_secs: rate.per_secs,
            })
        })
    }

    fn check(&self, key: &BudgetKey, rate: Rate, spend: bool) -> Result<Allowance, Refused> {
        let now = self.clock.now_micros();
        let (emission, tolerance) = params(rate);
        let cell = self.cell(key, rate);
        let mut stored = cell.tat.lock().unwrap_or_else(|p| p.into_inner());
        let tat = (*stored).max(now);
        if tat - now > tolerance {
            return Err(Refused {
                wait_secs: ceil_secs(tat - now - tolerance).max(1),
            });
        }
        let next = tat + emission;
        if spend {
            *stored = next;
        }
        let remaining = ((tolerance - (next - now)).max(-emission) / emission + 1).max(0) as u32;
        Ok(Allowance {
            limit: rate.count,
            remaining,
            reset_secs: ceil_secs(next - now),
        })
    }

    /// Spends one unit of `key`'s budget at `rate`; `None` rate means unlimited.
    pub fn spend(&self, key: BudgetKey, rate: Option<Rate>) -> Result<Option<Allowance>, Refused> {
        match rate {
            Some(rate) => self.check(&key, rate, true).map(Some),
            None => Ok(None),
        }
    }

    /// Spends one login attempt from both the IP and the username budget, or from neither
    /// when either refuses.
    pub fn spend_login(&self, ip: Option<IpAddr>, username: &str) -> Result<(), Refused> {
        let user_key = BudgetKey::LoginUser(username.to_string());
        let ip_key = ip.map(BudgetKey::LoginIp);
        if let Some(key) = &ip_key {
            self.check(key, self.login_ip, false)?;
        }
        self.check(&user_key, self.login_user, false)?;
        if let Some(key) = &ip_key {
            self.check(key, self.login_ip, true)?;
        }
        self.check(&user_key, self.login_user, true)?;
        Ok(())
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

    #[test]
    fn burst_then_steady_rate() {
        let (t, clock) = throttles();
        let rate: Rate = "3/m".parse().unwrap();
        let key = BudgetKey::Pair(1, 1);
        let remaining: Vec<u32> = (0..3)
            .map(|_| t.spend(key.clone(), Some(rate)).unwrap().unwrap().remaining)
            .collect();
        assert_eq!(remaining, [2, 1, 0]);
        assert_eq!(
            t.spend(key.clone(), Some(rate)),
            Err(Refused { wait_secs: 20 })
        );
        clock.advance_secs(19.5);
        assert_eq!(
            t.spend(key.clone(), Some(rate)),
            Err(Refused { wait_secs: 1 })
        );
        clock.advance_secs(0.5);
        assert!(t.spend(key.clone(), Some(rate)).is_ok());
        assert!(
            t.spend(BudgetKey::Pair(1, 2), Some(rate)).is_ok(),
            "pairs are independent"
        );
        assert_eq!(t.spend(key, None), Ok(None));
    }

    #[test]
    fn refused_login_spends_nothing() {
        let (t, _clock) = throttles();
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        for _ in 0..10 {
            t.spend_login(Some(ip), "alice").unwrap();
        }
        for _ in 0..30 {
            assert!(t.spend_login(Some(ip), "alice").is_err());
        }
        // The IP spent 10 of its 30, not 40: other usernames from it still get through.
        for i in 0..20 {
            t.spend_login(Some(ip), &format!("user{i}")).unwrap();
        }
        assert!(t.spend_login(Some(ip), "bob").is_err());
    }
}
