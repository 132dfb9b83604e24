//! Client policy as a value (docs/concepts.md): its typed fields, the one validation the admin
//! API, the CLI and the seeded defaults all use, and the arithmetic of rates, expiry and renewal.
//! Pure: no I/O.

use crate::clock::SECOND;
use crate::rules::{Fields, non_null};
use serde::{Deserialize, Deserializer};
use std::fmt;
use std::str::FromStr;
use utoipa::ToSchema;

/// Longest accepted duration: 100 years, so every expiry stays a representable date.
pub const MAX_DURATION: i64 = 100 * 365 * 86_400;

/// A request budget `N/s|m|h|d`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rate {
    /// Requests per period (≥ 1); also the burst.
    pub count: u32,
    /// The period in seconds.
    pub per_secs: u64,
}

/// The message for a rate that does not parse.
pub const RATE_MSG: &str = "Enter N/s, N/m, N/h or N/d with N ≥ 1, or null.";
/// The JSON Schema pattern of a rate.
pub const RATE_PATTERN: &str = "^[1-9][0-9]{0,8}/[smhd]$";

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

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        let s = String::deserialize(de)?;
        s.parse().map_err(|_| serde::de::Error::custom(RATE_MSG))
    }
}

/// A duration flag of the CLI: seconds, or `None` for `never`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetime(pub Option<i64>);

impl FromStr for Lifetime {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_duration(s).map(Lifetime)
    }
}

/// Parses `30s`, `15m`, `12h`, `30d` into seconds, or `never` into `None`. The range is
/// checked later, by [`ClientPolicy::validate`], as for the API.
pub fn parse_duration(s: &str) -> Result<Option<i64>, String> {
    if s.eq_ignore_ascii_case("never") {
        return Ok(None);
    }
    let err = || format!("invalid duration {s:?}: use 30s, 15m, 12h, 30d or never");
    let (num, unit) = s.split_at(s.len().checked_sub(1).ok_or_else(err)?);
    if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err());
    }
    let n: i64 = num.parse().map_err(|_| err())?;
    let mult = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(err()),
    };
    match n.checked_mul(mult) {
        Some(secs) if secs > 0 => Ok(Some(secs)),
        Some(_) => Err(err()),
        // Too large for any clock: report it as out of range, like the API does.
        None => Ok(Some(i64::MAX)),
    }
}

/// How a client's token travels (docs/tokens.md, "Browser apps").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// In the response body, then in `Authorization` (or `X-Api-Key`).
    #[default]
    Bearer,
    /// In an HttpOnly cookie, with CSRF protection on unsafe requests.
    Cookie,
}

impl Transport {
    /// The stored and serialised name.
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Bearer => "bearer",
            Transport::Cookie => "cookie",
        }
    }
}

impl FromStr for Transport {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "bearer" => Ok(Transport::Bearer),
            "cookie" => Ok(Transport::Cookie),
            _ => Err(format!("invalid transport {s:?}: use bearer or cookie")),
        }
    }
}

/// Shortest accepted idle timeout, seconds (5 minutes).
pub const MIN_IDLE_TIMEOUT: i64 = 300;

/// A client's token policy with typed fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientPolicy {
    /// For admins.
    pub description: String,
    /// Lifetime given at login and each renewal, seconds; `None` = never expires.
    pub token_ttl: Option<i64>,
    /// Cap counted from the session's creation, seconds; `None` = no cap.
    pub max_lifetime: Option<i64>,
    /// Budget per (user, client); `None` = unlimited.
    pub throttle_rate: Option<Rate>,
    /// Most live sessions per user; `None` = no limit.
    pub max_sessions: Option<i64>,
    /// Whether a use renews the session.
    pub auto_renew: bool,
    /// Seconds without a use after which a session ends; `None` = no idle limit.
    pub idle_timeout: Option<i64>,
    /// How the token travels.
    pub transport: Transport,
    /// Whether `refresh` issues a new token and retires the old one.
    pub rotate_on_refresh: bool,
}

impl Default for ClientPolicy {
    /// The defaults of a new client: a one-day TTL, everything else off.
    fn default() -> Self {
        Self {
            description: String::new(),
            token_ttl: Some(86_400),
            max_lifetime: None,
            throttle_rate: None,
            max_sessions: None,
            auto_renew: false,
            idle_timeout: None,
            transport: Transport::Bearer,
            rotate_on_refresh: false,
        }
    }
}

/// The message for a duration out of range.
pub const DURATION_MSG: &str = "Enter a number of seconds > 0 (at most 100 years), or null.";
/// The message for an idle timeout out of range.
pub const IDLE_TIMEOUT_MSG: &str = "Enter a number of seconds ≥ 300 (at most 100 years), or null.";
/// The message for an unknown transport.
pub const TRANSPORT_MSG: &str = "Enter bearer or cookie.";
/// The message for `max_sessions` out of range.
pub const MAX_SESSIONS_MSG: &str = "Enter an integer ≥ 1, or null.";

impl ClientPolicy {
    /// Records every out-of-range field in `fields`.
    pub fn validate(&self, fields: &mut Fields) {
        let seconds = |v: &i64| (1..=MAX_DURATION).contains(v);
        fields.check("token_ttl", self.token_ttl.as_ref(), seconds, DURATION_MSG);
        fields.check(
            "max_lifetime",
            self.max_lifetime.as_ref(),
            seconds,
            DURATION_MSG,
        );
        fields.check(
            "idle_timeout",
            self.idle_timeout.as_ref(),
            |v| (MIN_IDLE_TIMEOUT..=MAX_DURATION).contains(v),
            IDLE_TIMEOUT_MSG,
        );
        fields.check(
            "max_sessions",
            self.max_sessions.as_ref(),
            |n| (1..=i32::MAX as i64).contains(n),
            MAX_SESSIONS_MSG,
        );
    }

    /// This policy with `patch` applied; a rate that does not parse is recorded in `fields`
    /// (and leaves the rate unchanged).
    pub fn patched(mut self, patch: ClientPolicyPatch, fields: &mut Fields) -> Self {
        if let Some(v) = patch.description {
            self.description = v;
        }
        if let Some(v) = patch.token_ttl {
            self.token_ttl = v;
        }
        if let Some(v) = patch.max_lifetime {
            self.max_lifetime = v;
        }
        match patch.throttle_rate {
            Some(Some(raw)) => match raw.parse() {
                Ok(rate) => self.throttle_rate = Some(rate),
                Err(_) => fields.add("throttle_rate", RATE_MSG),
            },
            Some(None) => self.throttle_rate = None,
            None => {}
        }
        if let Some(v) = patch.max_sessions {
            self.max_sessions = v;
        }
        if let Some(v) = patch.auto_renew {
            self.auto_renew = v;
        }
        if let Some(v) = patch.idle_timeout {
            self.idle_timeout = v;
        }
        if let Some(v) = patch.rotate_on_refresh {
            self.rotate_on_refresh = v;
        }
        if let Some(raw) = patch.transport {
            match raw.parse() {
                Ok(transport) => self.transport = transport,
                Err(_) => fields.add("transport", TRANSPORT_MSG),
            }
        }
        self
    }

    /// The names of the fields in which `other` differs from this policy (for events).
    pub fn changed_fields(&self, other: &ClientPolicy) -> Vec<&'static str> {
        let mut changed = Vec::new();
        let mut check = |differs: bool, name| {
            if differs {
                changed.push(name);
            }
        };
        check(self.description != other.description, "description");
        check(self.token_ttl != other.token_ttl, "token_ttl");
        check(self.max_lifetime != other.max_lifetime, "max_lifetime");
        check(self.throttle_rate != other.throttle_rate, "throttle_rate");
        check(self.max_sessions != other.max_sessions, "max_sessions");
        check(self.auto_renew != other.auto_renew, "auto_renew");
        check(self.idle_timeout != other.idle_timeout, "idle_timeout");
        check(self.transport != other.transport, "transport");
        check(
            self.rotate_on_refresh != other.rotate_on_refresh,
            "rotate_on_refresh",
        );
        changed
    }

    /// Whether a session last used at `latest_use` (µs) has been idle too long at `now`.
    pub fn idle_at(&self, now: i64, latest_use: i64) -> bool {
        self.idle_timeout
            .is_some_and(|idle| now - latest_use > idle.saturating_mul(SECOND))
    }

    /// Expiry (µs) of a session created at `created` and (re)issued at `now`.
    pub fn expiry(&self, now: i64, created: i64) -> Option<i64> {
        expiry(now, created, self.token_ttl, self.max_lifetime)
    }
}

/// A client as an admin sends it, to create one or to change one: an absent field is
/// unchanged (or takes its default); `null` sets null where the field is nullable and is a
/// `validation_error` where it is not (`description`, `auto_renew`, `transport`,
/// `rotate_on_refresh`).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct ClientPolicyPatch {
    /// 1–64 of `A-Z a-z 0-9 . _ -`, starting with a letter or digit. Required on create; on a
    /// change it may be sent but must be the client's own name (names cannot change).
    #[serde(default, deserialize_with = "non_null")]
    #[schema(value_type = String, example = "ios", pattern = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    pub name: Option<String>,
    /// For admins; may be empty.
    #[serde(default, deserialize_with = "non_null")]
    #[schema(value_type = String, example = "The iOS app")]
    pub description: Option<String>,
    /// Seconds > 0 (at most 100 years), or `null` for tokens that never expire. Default 86400.
    #[serde(default, deserialize_with = "crate::rules::double_option_whole")]
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 3153600000_i64, example = 2592000)]
    pub token_ttl: Option<Option<i64>>,
    /// Seconds > 0 from a session's creation (at most 100 years), or `null` (default).
    #[serde(default, deserialize_with = "crate::rules::double_option_whole")]
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 3153600000_i64, example = 7776000)]
    pub max_lifetime: Option<Option<i64>>,
    /// `N/s`, `N/m`, `N/h` or `N/d` (N ≥ 1), or `null` for unlimited (default).
    #[serde(default, deserialize_with = "crate::rules::double_option")]
    #[schema(value_type = Option<String>, pattern = "^[1-9][0-9]{0,8}/[smhd]$", example = "100/m")]
    pub throttle_rate: Option<Option<String>>,
    /// Most live sessions per user (≥ 1), or `null` for no limit (default).
    #[serde(default, deserialize_with = "crate::rules::double_option_whole")]
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 2147483647, example = 5)]
    pub max_sessions: Option<Option<i64>>,
    /// Renew sessions on use (default false).
    #[serde(default, deserialize_with = "non_null")]
    #[schema(value_type = bool, example = false)]
    pub auto_renew: Option<bool>,
    /// Seconds without a use after which a session ends (≥ 300, at most 100 years), or `null`
    /// for no idle limit (default).
    #[serde(default, deserialize_with = "crate::rules::double_option_whole")]
    #[schema(value_type = Option<i64>, minimum = 300, maximum = 3153600000_i64, example = 43200)]
    pub idle_timeout: Option<Option<i64>>,
    /// `bearer` (default): the token is in the login response and travels in `Authorization`;
    /// `cookie`: it travels in an HttpOnly cookie with CSRF protection (browser apps).
    #[serde(default, deserialize_with = "non_null")]
    #[schema(value_type = String, example = "bearer", pattern = "^(bearer|cookie)$")]
    pub transport: Option<String>,
    /// `refresh` issues a new token and retires the old one after a short grace window; a
    /// retired token presented later ends the session (default false).
    #[serde(default, deserialize_with = "non_null")]
    #[schema(value_type = bool, example = false)]
    pub rotate_on_refresh: Option<bool>,
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
        Some(ttl) => now - renewed >= (60 * SECOND).min(ttl.saturating_mul(SECOND) / 2),
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
    fn durations() {
        assert_eq!(parse_duration("30s"), Ok(Some(30)));
        assert_eq!(parse_duration("15m"), Ok(Some(900)));
        assert_eq!(parse_duration("12h"), Ok(Some(43_200)));
        assert_eq!(parse_duration("30d"), Ok(Some(2_592_000)));
        assert_eq!(parse_duration("never"), Ok(None));
        for bad in ["", "d", "0s", "-5m", "5w", "5", "1.5h", "+5s"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_cli_and_the_api_refuse_the_same_durations() {
        // 200 years parses as a duration but is refused by the one validation.
        let policy = ClientPolicy {
            token_ttl: parse_duration("73000d").unwrap(),
            max_lifetime: parse_duration("99999999999999999d").unwrap(),
            ..ClientPolicy::default()
        };
        let mut fields = Fields::default();
        let policy = policy.patched(
            ClientPolicyPatch {
                throttle_rate: Some(Some("5/w".into())),
                ..Default::default()
            },
            &mut fields,
        );
        policy.validate(&mut fields);
        let errors = fields.finish().unwrap_err().0;
        assert!(errors.contains_key("token_ttl") && errors.contains_key("max_lifetime"));
        assert!(errors.contains_key("throttle_rate"));
        let mut fields = Fields::default();
        ClientPolicy::default().validate(&mut fields);
        assert!(fields.finish().is_ok());
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

    #[test]
    fn idle_timeout_is_checked_to_the_microsecond() {
        let policy = ClientPolicy {
            idle_timeout: Some(300),
            ..ClientPolicy::default()
        };
        assert!(!policy.idle_at(300 * SECOND, 0));
        assert!(policy.idle_at(300 * SECOND + 1, 0));
        assert!(!ClientPolicy::default().idle_at(i64::MAX, 0));
        let mut fields = Fields::default();
        let policy = policy.patched(
            ClientPolicyPatch {
                idle_timeout: Some(Some(299)),
                transport: Some("smoke".into()),
                ..Default::default()
            },
            &mut fields,
        );
        policy.validate(&mut fields);
        let errors = fields.finish().unwrap_err().0;
        assert!(errors.contains_key("idle_timeout") && errors.contains_key("transport"));
    }
}
