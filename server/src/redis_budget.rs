//! Budgets shared by every instance: the GCRA of [`crate::gcra`] as one atomic Lua script.

use crate::gcra::{Allowance, BudgetKey, Refused, allowance, ceil_secs, params};
use crate::policy::Rate;
use redis::aio::ConnectionManager;

/// Checks every key and, only when none refuses, advances them all, atomically.
/// KEYS: the budgets. ARGV: now (µs), then emission and tolerance (µs) per key.
/// Returns {1, first key's new TAT − now} or {0, µs to wait}.
const GCRA: &str = r"
local now = tonumber(ARGV[1])
local tats = {}
local wait = 0
for i, key in ipairs(KEYS) do
  local tolerance = tonumber(ARGV[2 * i + 1])
  local tat = tonumber(redis.call('GET', key) or now)
  if tat < now then tat = now end
  tats[i] = tat
  if tat - now - tolerance > wait then wait = tat - now - tolerance end
end
if wait > 0 then return {0, wait} end
local first = 0
for i, key in ipairs(KEYS) do
  local nxt = tats[i] + tonumber(ARGV[2 * i])
  redis.call('SET', key, string.format('%.0f', nxt), 'PX', math.floor((nxt - now) / 1000) + 1000)
  if i == 1 then first = nxt - now end
end
return {1, first}
";

/// A Redis connection (reconnecting on its own) and the key prefix of this deployment.
#[derive(Clone)]
pub struct RedisBudgets {
    conn: ConnectionManager,
    prefix: String,
    script: redis::Script,
}

impl RedisBudgets {
    /// Connects to `url`; keys are named `<prefix>b:<key>`.
    pub async fn connect(url: &str, prefix: &str) -> anyhow::Result<Self> {
        let client = redis::Client::open(url)
            .map_err(|e| anyhow::anyhow!("invalid TESSERA_REDIS_URL: {e}"))?;
        let conn = ConnectionManager::new(client)
            .await
            .map_err(|e| anyhow::anyhow!("cannot connect to Redis: {e}"))?;
        Ok(Self {
            conn,
            prefix: prefix.to_string(),
            script: redis::Script::new(GCRA),
        })
    }

    /// See [`crate::budget::Budgets`]. When Redis cannot be reached the request is let
    /// through (and logged): an outage of the budget store must not lock every user out.
    pub async fn spend_all(
        &self,
        keys: &[(BudgetKey, Rate)],
        now: i64,
    ) -> Result<Option<Allowance>, Refused> {
        let mut invocation = self.script.prepare_invoke();
        invocation.arg(now);
        for (key, rate) in keys {
            let (emission, tolerance) = params(*rate);
            invocation
                .key(format!("{}b:{}", self.prefix, key.name()))
                .arg(emission)
                .arg(tolerance);
        }
        let mut conn = self.conn.clone();
        match invocation.invoke_async::<(i64, i64)>(&mut conn).await {
            Ok((1, ahead)) => Ok(keys.first().map(|(_, rate)| allowance(*rate, ahead))),
            Ok((_, wait)) => Err(Refused {
                wait_secs: ceil_secs(wait).max(1),
            }),
            Err(err) => {
                tracing::warn!(error = %err, "Redis budget check failed; letting the request through");
                Ok(None)
            }
        }
    }
}
