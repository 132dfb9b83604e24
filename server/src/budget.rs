//! Request budgets (docs/concepts.md, "Budgets"): the (user, client) pair budget of every
//! authenticated request and the login budgets per IP and per username. Where they live is a
//! seam chosen once at start-up: this instance's memory, or Redis shared by every instance.

use crate::clock::Clock;
use crate::gcra::{self, Allowance, BudgetKey, Mode, Refused};
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

    async fn call(
        &self,
        keys: &[(BudgetKey, Rate)],
        mode: Mode,
    ) -> Result<Option<Allowance>, Refused> {
        if keys.is_empty() {
            return Ok(None);
        }
        let now = self.clock.now_micros();
        match &self.store {
            BudgetStore::Memory(memory) => memory.call(keys, now, mode),
            BudgetStore::Redis(redis) => redis.call(keys, now, mode).await,
        }
    }

    /// Where the budgets live.
    pub fn store(&self) -> &BudgetStore {
        &self.store
    }

    /// The store's health, when it is Redis.
    pub fn redis_health(&self) -> Option<&crate::redis_budget::Health> {
        match &self.store {
            BudgetStore::Redis(redis) => Some(redis.health()),
            BudgetStore::Memory(_) => None,
        }
    }

    /// Spends one unit of `key`'s budget at `rate`; a `None` rate means unlimited.
    pub async fn spend(
        &self,
        key: BudgetKey,
        rate: Option<Rate>,
    ) -> Result<Option<Allowance>, Refused> {
        match rate {
            Some(rate) => self.call(&[(key, rate)], Mode::Spend).await,
            None => Ok(None),
        }
    }

    /// Before a password check (docs/concepts.md, "Budgets"): refused when the IP's budget or
    /// `who`'s budget of failures has nothing left, in which case nothing is spent and Argon2
    /// never runs; otherwise the attempt spends one unit of the IP's budget. `who` is the
    /// username, or the proof of a known device.
    pub async fn before_password(
        &self,
        ip: Option<IpAddr>,
        who: Option<BudgetKey>,
    ) -> Result<(), Refused> {
        let ip = ip.map(|ip| (BudgetKey::LoginIp(ip), self.login_ip));
        let mut keys: Vec<(BudgetKey, Rate)> = ip.iter().cloned().collect();
        keys.extend(who.map(|who| (who, self.login_user)));
        self.call(&keys, Mode::Check).await?;
        self.call(&ip.into_iter().collect::<Vec<_>>(), Mode::Spend)
            .await?;
        Ok(())
    }

    /// After a failed password check: one unit of `who`'s budget of failures.
    pub async fn password_failed(&self, who: BudgetKey) {
        let _ = self.call(&[(who, self.login_user)], Mode::Force).await;
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
    fn call(
        &self,
        keys: &[(BudgetKey, Rate)],
        now: i64,
        mode: Mode,
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
        let (tats, first) = gcra::decide(now, &budgets, mode)?;
        if mode != Mode::Check {
            for (guard, tat) in guards.iter_mut().zip(tats) {
                **guard = tat;
            }
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
    async fn only_failures_spend_the_username_and_a_refusal_spends_nothing() {
        let (t, _clock) = budgets();
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let alice = || Some(BudgetKey::LoginUser("alice".into()));
        // Successful checks spend the IP's budget only.
        for _ in 0..12 {
            t.before_password(Some(ip), alice()).await.unwrap();
        }
        // Ten failures use up alice's budget of failures, from any address.
        for _ in 0..10 {
            t.password_failed(BudgetKey::LoginUser("alice".into()))
                .await;
        }
        let elsewhere: IpAddr = "10.0.0.2".parse().unwrap();
        assert!(t.before_password(Some(elsewhere), alice()).await.is_err());
        // A known device has a budget of its own.
        let proof = Some(BudgetKey::LoginProof("n1".into()));
        t.before_password(Some(elsewhere), proof).await.unwrap();
        // The refusals above spent nothing from the IP: 12 + 1 of 30 are gone from 10.0.0.1.
        for _ in 0..18 {
            t.before_password(Some(ip), None).await.unwrap();
        }
        assert!(t.before_password(Some(ip), None).await.is_err());
    }
}
