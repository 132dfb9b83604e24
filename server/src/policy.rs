//! Client policy arithmetic: rates, expiry, renewal.

use crate::clock::SECOND;
use std::fmt;
use std::str::FromStr;

/// A request budget `N/s|m|h|d`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rate {
    /// Requests per period (≥ 1); also the burst.
    pub count: u32,
    /// The period in seconds.
    pub per_secs: u64,
}

impl FromStr for Rate {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || format!("invalid rate {s:?}: use N/s, N/m, N/h or N/d with N ≥ 1");
        let (n, unit) = s.split_once('/').ok_or_else(err)?;
        if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err());
        }
        let count: u32 = n.parse().map_err(|_| err())?;
        let per_secs = match unit {
            "s" => 1,
            "m" => 60,
            "h" => 3600,
            "d" => 86_400,
            _ => return Err(err()),
        };
        if count == 0 {
            return Err(err());
        }
        Ok(Rate { count, per_secs })
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = match self.per_secs {
            1 => "s",
            60 => "m",
            3600 => "h",
            _ => "d",
        };
        write!(f, "{}/{}", self.count, unit)
    }
}

/// Expiry (µs) for a session created at `created` and (re)issued at `now`:
/// min(now + ttl, created + max_lifetime), with `None` standing for infinity.
pub fn expiry(
    now: i64,
    created: i64,
    token_ttl: Option<i64>,
    max_lifetime: Option<i64>,
) -> Option<i64> {
    let by_ttl = token_ttl.map(|ttl| now.saturating_add(ttl.saturating_mul(SECOND)));
    let by_cap = max_lifetime.map(|cap| created.saturating_add(cap.saturating_mul(SECOND)));
    match (by_ttl, by_cap) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Whether an authenticated use at `now` auto-renews a session last renewed at `renewed`:
/// at least min(60 s, ttl / 2) must have passed.
pub fn auto_renew_due(now: i64, renewed: i64, token_ttl: Option<i64>) -> bool {
    match token_ttl {
        Some(ttl) => now - renewed >= (60 * SECOND).min(ttl * SECOND / 2),
        None => false,
    }
}

/// `last_used` is written at most once per this many microseconds.
pub const LAST_USED_GRANULARITY: i64 = 60 * SECOND;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse_and_print() {
        assert_eq!(
            "100/m".parse(),
            Ok(Rate {
                count: 100,
                per_secs: 60
            })
        );
        assert_eq!("1/d".parse::<Rate>().unwrap().to_string(), "1/d");
        for bad in [
            "0/m",
            "/m",
            "5/w",
            "5",
            "-1/s",
            "1.5/s",
            " 5/s",
            "5/S",
            "99999999999/s",
        ] {
            assert!(bad.parse::<Rate>().is_err(), "{bad}");
        }
    }

    #[test]
    fn expiry_takes_the_earlier_bound() {
        let s = SECOND;
        assert_eq!(expiry(100 * s, 0, Some(10), Some(50)), Some(50 * s));
        assert_eq!(expiry(10 * s, 0, Some(10), Some(50)), Some(20 * s));
        assert_eq!(expiry(10 * s, 0, None, Some(50)), Some(50 * s));
        assert_eq!(expiry(10 * s, 0, Some(5), None), Some(15 * s));
        assert_eq!(expiry(10 * s, 0, None, None), None);
    }

    #[test]
    fn renewal_threshold() {
        let s = SECOND;
        assert!(!auto_renew_due(59 * s, 0, Some(3600)));
        assert!(auto_renew_due(60 * s, 0, Some(3600)));
        assert!(auto_renew_due(5 * s, 0, Some(10)));
        assert!(!auto_renew_due(4 * s, 0, Some(10)));
        assert!(!auto_renew_due(1000 * s, 0, None));
    }
}
