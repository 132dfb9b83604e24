//! Budgets shared by every instance: the GCRA of [`crate::gcra`] as one atomic Lua script in
//! Redis (docs/operations.md, "Redis").
//!
//! Redis never holds a request up. The connection is made in the background (start-up never
//! waits for it), every call has a deadline (`TESSERA_REDIS_DEADLINE`, 50 ms by default), and
//! any failure lets the request through at once: an outage of the budget store must not lock
//! everyone out. Failures are counted (`tessera_budget_backend_errors_total`), shown
//! (`tessera_budget_backend_up`) and logged at most once a minute; the connection manager
//! reconnects by itself, so shared budgets resume within seconds of Redis answering again.

use crate::gcra::{Allowance, BudgetKey, Mode, Refused, allowance, ceil_secs, params};
use crate::policy::Rate;
use prometheus_client::metrics::{counter::Counter, gauge::Gauge};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Checks every key and, in mode 1, advances them all only when none refuses; in mode 0 only
/// checks; in mode 2 advances them all unconditionally (a failed login is always counted).
/// KEYS: the budgets. ARGV: mode, now (µs), then emission and tolerance (µs) per key.
/// Returns {1, first key's new TAT − now} or {0, µs to wait}.
const GCRA: &str = r"
local mode = tonumber(ARGV[1])
local now = tonumber(ARGV[2])
local tats = {}
local wait = 0
for i, key in ipairs(KEYS) do
  local tolerance = tonumber(ARGV[2 * i + 2])
  local tat = tonumber(redis.call('GET', key) or now)
  if tat < now then tat = now end
  tats[i] = tat
  if tat - now - tolerance > wait then wait = tat - now - tolerance end
end
if wait > 0 and mode ~= 2 then return {0, wait} end
if mode == 0 then return {1, 0} end
local first = 0
for i, key in ipairs(KEYS) do
  local nxt = tats[i] + tonumber(ARGV[2 * i + 1])
  redis.call('SET', key, string.format('%.0f', nxt), 'PX', math.floor((nxt - now) / 1000) + 1000)
  if i == 1 then first = nxt - now end
end
return {1, first}
";

/// Whether the budget store answers, for metrics and logs.
#[derive(Clone, Default)]
pub struct Health {
    /// 1 while the store answers, 0 after a failed call until the next good one.
    pub up: Gauge,
    /// Calls that failed or missed their deadline (each let its request through).
    pub errors: Counter,
    last_warning: Arc<Mutex<Option<Instant>>>,
}

impl Health {
    fn ok(&self) {
        self.up.set(1);
    }

    fn failed(&self, what: &str) {
        self.up.set(0);
        self.errors.inc();
        let mut last = self.last_warning.lock().unwrap_or_else(|p| p.into_inner());
        if last.is_none_or(|at| at.elapsed() >= Duration::from_secs(60)) {
            *last = Some(Instant::now());
            tracing::warn!(
                error = what,
                failed_so_far = self.errors.get(),
                "Redis budgets unavailable; letting requests through (this warning repeats at most once a minute)"
            );
        }
    }
}

/// Budgets in Redis under this deployment's key prefix.
#[derive(Clone)]
pub struct RedisBudgets {
    conn: Arc<OnceLock<ConnectionManager>>,
    prefix: String,
    script: redis::Script,
    deadline: Duration,
    health: Health,
}

impl RedisBudgets {
    /// Starts connecting to `url` in the background and returns at once; keys are named
    /// `<prefix>b:<key>`. Only a URL that cannot be parsed is an error.
    pub fn start(url: &str, prefix: &str, deadline: Duration) -> anyhow::Result<Self> {
        let client = redis::Client::open(url)
            .map_err(|e| anyhow::anyhow!("invalid TESSERA_REDIS_URL: {e}"))?;
        let budgets = Self {
            conn: Arc::new(OnceLock::new()),
            prefix: prefix.to_string(),
            script: redis::Script::new(GCRA),
            deadline,
            health: Health::default(),
        };
        let (slot, health) = (budgets.conn.clone(), budgets.health.clone());
        tokio::spawn(async move {
            let config = ConnectionManagerConfig::new()
                .set_connection_timeout(Duration::from_secs(1))
                .set_response_timeout(Duration::from_secs(1))
                .set_number_of_retries(2)
                .set_factor(100)
                .set_max_delay(1000);
            loop {
                match ConnectionManager::new_with_config(client.clone(), config.clone()).await {
                    Ok(manager) => {
                        let _ = slot.set(manager);
                        health.ok();
                        tracing::info!("Redis budgets connected");
                        return;
                    }
                    Err(err) => {
                        health.failed(&err.to_string());
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            }
        });
        Ok(budgets)
    }

    /// Waits until the background connection is made, at most `within`; whether it was.
    pub async fn wait_connected(&self, within: Duration) -> bool {
        let started = Instant::now();
        while self.conn.get().is_none() {
            if started.elapsed() >= within {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        true
    }

    /// The store's health handles (registered with the metrics).
    pub fn health(&self) -> &Health {
        &self.health
    }

    /// See [`crate::budget::Budgets`]. Any failure, or no answer within the deadline, lets the
    /// request through (`Ok(None)`).
    pub async fn call(
        &self,
        keys: &[(BudgetKey, Rate)],
        now: i64,
        mode: Mode,
    ) -> Result<Option<Allowance>, Refused> {
        let Some(conn) = self.conn.get() else {
            self.health.failed("not connected yet");
            return Ok(None);
        };
        let mut invocation = self.script.prepare_invoke();
        invocation.arg(mode as i64).arg(now);
        for (key, rate) in keys {
            let (emission, tolerance) = params(*rate);
            invocation
                .key(format!("{}b:{}", self.prefix, key.name()))
                .arg(emission)
                .arg(tolerance);
        }
        let mut conn = conn.clone();
        let answer = tokio::time::timeout(
            self.deadline,
            invocation.invoke_async::<(i64, i64)>(&mut conn),
        )
        .await;
        match answer {
            Ok(Ok((1, ahead))) => {
                self.health.ok();
                Ok((mode != Mode::Check)
                    .then(|| keys.first().map(|(_, rate)| allowance(*rate, ahead)))
                    .flatten())
            }
            Ok(Ok((_, wait))) => {
                self.health.ok();
                Err(Refused {
                    wait_secs: ceil_secs(wait).max(1),
                })
            }
            Ok(Err(err)) => {
                self.health.failed(&err.to_string());
                Ok(None)
            }
            Err(_) => {
                self.health.failed("no answer within the deadline");
                Ok(None)
            }
        }
    }
}
