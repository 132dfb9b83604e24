//! GCRA arithmetic (docs/concepts.md, "Budgets"): one "theoretical arrival time" (TAT) per key.
//! `N/m` allows a burst of N and then one request per 60/N s. A leaf module: pure functions
//! over microseconds, shared by the in-memory store and (as the same formulas in Lua) Redis.
//!
//! It is written here rather than taken from governor because login must check two budgets and
//! spend from neither when one refuses (governor cannot peek), it runs on the injected clock so
//! tests need no sleeps, and the very same arithmetic must run inside Redis.

use crate::clock::SECOND;
use crate::policy::Rate;
use std::net::IpAddr;

/// Whose budget a request spends.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum BudgetKey {
    /// A (user id, client id) pair.
    Pair(i32, i32),
    /// Login attempts from one IP.
    LoginIp(IpAddr),
    /// Failed password checks for one username.
    LoginUser(String),
    /// Failed password checks from one known device (the nonce of its device proof).
    LoginProof(String),
}

impl BudgetKey {
    /// The key's name in a shared store.
    pub fn name(&self) -> String {
        match self {
            BudgetKey::Pair(u, c) => format!("p:{u}:{c}"),
            BudgetKey::LoginIp(ip) => format!("ip:{ip}"),
            BudgetKey::LoginUser(name) => format!("u:{name}"),
            BudgetKey::LoginProof(nonce) => format!("d:{nonce}"),
        }
    }
}

/// The state of a budget after a spend, for the `RateLimit-Policy` and `RateLimit` headers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Allowance {
    /// The burst size (N of `N/period`).
    pub limit: u32,
    /// The period in seconds.
    pub window_secs: u64,
    /// Requests that could still be made right now.
    pub remaining: u32,
    /// Whole seconds until one more request becomes available (0 when the budget is full).
    pub next_secs: u64,
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
    // `slack` grows as time passes; every `emission` of it is one request available.
    let slack = (tolerance - ahead + emission).max(0);
    let remaining = (slack / emission).min(rate.count as i64) as u32;
    let next = if remaining >= rate.count {
        0
    } else {
        (remaining as i64 + 1) * emission - slack
    };
    Allowance {
        limit: rate.count,
        window_secs: rate.per_secs,
        remaining,
        next_secs: ceil_secs(next),
    }
}

/// What a budget call does with its keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Whether every key would allow one unit; spends nothing.
    Check = 0,
    /// One unit from every key, or from none when any refuses.
    Spend = 1,
    /// One unit from every key, refused or not (a failed password check always counts).
    Force = 2,
}

/// Decides a spend of one unit from every `(tat, rate)` at `now` ([`Mode::Spend`]: all or
/// none): the new TATs and the first key's allowance, or how long to wait. `tat` is `None` for
/// a key never seen.
pub fn spend(
    now: i64,
    budgets: &[(Option<i64>, Rate)],
) -> Result<(Vec<i64>, Option<Allowance>), Refused> {
    decide(now, budgets, Mode::Spend)
}

/// [`spend`] in any [`Mode`]; a check returns the TATs unchanged and no allowance.
pub fn decide(
    now: i64,
    budgets: &[(Option<i64>, Rate)],
    mode: Mode,
) -> Result<(Vec<i64>, Option<Allowance>), Refused> {
    let mut wait = 0;
    for (tat, rate) in budgets {
        let (_, tolerance) = params(*rate);
        let tat = tat.unwrap_or(now).max(now);
        wait = wait.max(tat - now - tolerance);
    }
    if wait > 0 && mode != Mode::Force {
        return Err(Refused {
            wait_secs: ceil_secs(wait).max(1),
        });
    }
    if mode == Mode::Check {
        let unchanged = budgets
            .iter()
            .map(|(tat, _)| tat.unwrap_or(i64::MIN))
            .collect();
        return Ok((unchanged, None));
    }
    let mut first = None;
    let tats = budgets
        .iter()
        .map(|(tat, rate)| {
            let (emission, _) = params(*rate);
            let next = tat.unwrap_or(now).max(now) + emission;
            first.get_or_insert(allowance(*rate, next - now));
            next
        })
        .collect();
    Ok((tats, first))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(s: &str) -> Rate {
        s.parse().unwrap()
    }

    #[test]
    fn burst_then_steady_rate() {
        let r = rate("3/m");
        let mut tat = None;
        let mut remaining = Vec::new();
        for _ in 0..3 {
            let (tats, a) = spend(0, &[(tat, r)]).unwrap();
            tat = Some(tats[0]);
            remaining.push(a.unwrap().remaining);
        }
        assert_eq!(remaining, [2, 1, 0]);
        assert_eq!(spend(0, &[(tat, r)]), Err(Refused { wait_secs: 20 }));
        assert_eq!(
            spend(19_500_000, &[(tat, r)]),
            Err(Refused { wait_secs: 1 })
        );
        assert!(spend(20 * SECOND, &[(tat, r)]).is_ok());
    }

    #[test]
    fn allowance_reports_the_next_unit() {
        let r = rate("3/m");
        // One spent of three: two left, the third back in 20 s.
        let a = allowance(r, 20 * SECOND);
        assert_eq!(
            (a.limit, a.window_secs, a.remaining, a.next_secs),
            (3, 60, 2, 20)
        );
        // All spent: none left, one back in 20 s.
        let a = allowance(r, 60 * SECOND);
        assert_eq!((a.remaining, a.next_secs), (0, 20));
    }

    #[test]
    fn all_or_none() {
        let (a, b) = (rate("1/m"), rate("5/m"));
        let (tats, _) = spend(0, &[(None, a), (None, b)]).unwrap();
        // The first is spent: a second call refuses and moves neither.
        assert!(spend(0, &[(Some(tats[0]), a), (Some(tats[1]), b)]).is_err());
    }
}
