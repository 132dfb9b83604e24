//! Request budgets (docs/concepts.md, "Budgets"): the (user, client) pair budget of every
//! authenticated request and the login budgets per IP and per username. Where they live is a
//! seam chosen once at start-up: this instance's memory, or Redis shared by every instance.

use crate::clock::Clock;
use crate::gcra::{self, Allowance, BudgetKey, Refused};
use crate::policy::Rate;
use crate::redis_budget::RedisBudgets;
use moka::sync::Cache;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Where budgets are kept.
pub enum BudgetStore {
    /// In this instance's memory.
    Memory(MemoryBudgets),
    /// In Redis, shared by every instance.
    Redis(RedisBudgets),
}

/// All budgets of one instance.
pub struct Budgets {
    clock: Arc<dyn Clock>,
    store: BudgetStore,
    login_ip: Rate,
    login_user: Rate,
}

impl Budgets {
    /// Budgets in `store`, on `clock`, with these login rates.
    pub fn new(
        clock: Arc<dyn Clock>,
        store: BudgetStore,
        login_ip: Rate,
        login_user: Rate,
    ) -> Self {
        Self {
            clock,
            store,
            login_ip,
            login_user,
        }
    }

    async fn spend_all(&self, keys: &[(BudgetKey, Rate)]) -> Result<Option<Allowance>, Refused> {
        let now = self.clock.now_micros();
        match &self.store {
            BudgetStore::Memory(memory) => memory.spend_all(keys, now),
            BudgetStore::Redis(redis) => redis.spend_all(keys, now).await,
        }
    }

    /// Spends one unit of `key`'s budget at `rate`; a `None` rate means unlimited.
    pub async fn spend(
        &self,
        key: BudgetKey,
        rate: Option<Rate>,
    ) -> Result<Option<Allowance>, Refused> {
        match rate {
            Some(rate) => self.spend_all(&[(key, rate)]).await,
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

struct Cell {
    tat: Mutex<i64>,
    /// The rate's period when the key was created, so idle expiry never drops live state.
    period_secs: u64,
}

/// Budgets in this instance's memory.
pub struct MemoryBudgets {
    cells: Cache<BudgetKey, Arc<Cell>>,
}

impl Default for MemoryBudgets {
    fn default() -> Self {
        // A key idle for a whole period is back to a full burst, so dropping it then loses
        // nothing; memory stays bounded by the keys active in the last period (≥ 10 min).
        let cells = Cache::builder()
            .max_capacity(10_000_000)
            .expire_after(IdleExpiry)
            .build();
        Self { cells }
    }
}

impl MemoryBudgets {
    fn spend_all(
        &self,
        keys: &[(BudgetKey, Rate)],
        now: i64,
    ) -> Result<Option<Allowance>, Refused> {
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
        let budgets: Vec<(Option<i64>, Rate)> = keys
            .iter()
            .zip(&guards)
            .map(|((_, rate), tat)| ((**tat != i64::MIN).then_some(**tat), *rate))
            .collect();
        let (tats, first) = gcra::spend(now, &budgets)?;
        for (guard, tat) in guards.iter_mut().zip(tats) {
            **guard = tat;
        }
        Ok(first)
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

    fn budgets() -> (Budgets, ManualClock) {
        let clock = ManualClock::new();
        let rate = |s: &str| s.parse().unwrap();
        (
            Budgets::new(
                Arc::new(clock.clone()),
                BudgetStore::Memory(MemoryBudgets::default()),
                rate("30/m"),
                rate("10/m"),
            ),
            clock,
        )
    }

    #[tokio::test]
    async fn burst_then_steady_rate() {
        let (t, clock) = budgets();
        let rate: Rate = "3/m".parse().unwrap();
        let key = BudgetKey::Pair(1, 1);
        for left in [2, 1, 0] {
            let a = t.spend(key.clone(), Some(rate)).await.unwrap().unwrap();
            assert_eq!(a.remaining, left);
        }
        assert_eq!(
            t.spend(key.clone(), Some(rate)).await,
            Err(Refused { wait_secs: 20 })
        );
        clock.advance_secs(20.0);
        assert!(t.spend(key.clone(), Some(rate)).await.is_ok());
        assert!(
            t.spend(BudgetKey::Pair(1, 2), Some(rate)).await.is_ok(),
            "pairs are independent"
        );
        assert_eq!(t.spend(key, None).await, Ok(None));
    }

    #[tokio::test]
    async fn refused_login_spends_nothing() {
        let (t, _clock) = budgets();
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
