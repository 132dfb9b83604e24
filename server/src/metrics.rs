//! Prometheus metrics: requests by route and status with latency, logins by outcome, security
//! events by type, verification cache hits and misses, and database pool use.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::{
    counter::Counter, family::Family, gauge::Gauge, histogram::Histogram,
};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LoginLabels {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EventLabels {
    r#type: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    /// `writer` or `reader`.
    pool: &'static str,
    /// `idle` or `in_use`.
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DbErrorLabels {
    kind: &'static str,
}

/// The registry and the handles the middleware and handlers update.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    logins: Family<LoginLabels, Counter>,
    events: Family<EventLabels, Counter>,
    cache_hits: Counter,
    cache_misses: Counter,
    pool: Family<PoolLabels, Gauge>,
}

/// Failed database calls, by kind: process-wide, because they are counted where database
/// errors are mapped (`crate::error`), which holds no state.
static DB_ERRORS: std::sync::LazyLock<Family<DbErrorLabels, Counter>> =
    std::sync::LazyLock::new(Family::default);

/// When the last summary of database failures was logged, and how many came since.
static DB_SUMMARY: std::sync::Mutex<Option<(std::time::Instant, u64)>> =
    std::sync::Mutex::new(None);

/// Counts a failed database call (`unavailable`: lost, refused or locked, answered 503; or
/// `other`) and logs it in a summary at most every 10 s, so that an outage does not write a
/// line per request.
pub fn db_error(kind: &'static str, err: &dyn std::fmt::Display) {
    DB_ERRORS.get_or_create(&DbErrorLabels { kind }).inc();
    let mut summary = DB_SUMMARY.lock().unwrap_or_else(|p| p.into_inner());
    let now = std::time::Instant::now();
    match &mut *summary {
        Some((since, count)) if now.duration_since(*since) < std::time::Duration::from_secs(10) => {
            *count += 1;
        }
        last => {
            let before = last.as_ref().map_or(0, |(_, count)| *count);
            tracing::warn!(kind, error = %err, suppressed_since_last = before, "database call failed");
            *last = Some((now, 0));
        }
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new(None)
    }
}

impl Metrics {
    /// A fresh registry (one per state, so tests do not share counters), with the health of the
    /// Redis budget store when budgets live there (else the in-memory store, always up).
    pub fn new(budget: Option<&crate::redis_budget::Health>) -> Self {
        let mut registry = Registry::with_prefix("tessera");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new([
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
            ])
        });
        let logins = Family::<LoginLabels, Counter>::default();
        let events = Family::<EventLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by route and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by route",
            latency.clone(),
        );
        registry.register("logins", "Login attempts by outcome", logins.clone());
        registry.register(
            "events",
            "Security events recorded, by type",
            events.clone(),
        );
        let (cache_hits, cache_misses) = (Counter::default(), Counter::default());
        registry.register(
            "verification_cache_hits",
            "Token verifications answered from the verification cache",
            cache_hits.clone(),
        );
        registry.register(
            "verification_cache_misses",
            "Token verifications that read the database",
            cache_misses.clone(),
        );
        let pool = Family::<PoolLabels, Gauge>::default();
        registry.register(
            "db_pool_connections",
            "Database pool connections by pool (writer, reader) and state (idle, in_use)",
            pool.clone(),
        );
        registry.register(
            "db_errors",
            "Database calls that failed, by kind (unavailable: answered 503)",
            DB_ERRORS.clone(),
        );
        let (up, errors) = match budget {
            Some(h) => (h.up.clone(), h.errors.clone()),
            None => {
                let up = Gauge::default();
                up.set(1);
                (up, Counter::default())
            }
        };
        registry.register(
            "budget_backend_up",
            "Whether the budget store answers (1) or requests pass unthrottled (0)",
            up,
        );
        registry.register(
            "budget_backend_errors",
            "Budget calls that failed or missed their deadline and let their request through",
            errors,
        );
        Self {
            registry,
            requests,
            latency,
            logins,
            events,
            cache_hits,
            cache_misses,
            pool,
        }
    }

    /// Counts a verification answered from the cache.
    pub fn cache_hit(&self) {
        self.cache_hits.inc();
    }

    /// Counts a verification that read the database.
    pub fn cache_miss(&self) {
        self.cache_misses.inc();
    }

    /// Records a pool's connections (`size` open, `idle` of them unused), read when `/metrics`
    /// is scraped.
    pub fn observe_pool(&self, pool: &'static str, size: u32, idle: usize) {
        let idle = i64::try_from(idle).unwrap_or(i64::MAX);
        let size = i64::from(size);
        let gauge = |state| self.pool.get_or_create(&PoolLabels { pool, state });
        gauge("idle").set(idle);
        gauge("in_use").set((size - idle).max(0));
    }

    /// Records one finished request.
    pub fn observe_request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let (method, route) = (method.to_string(), route.to_string());
        self.latency
            .get_or_create(&RouteLabels {
                method: method.clone(),
                route: route.clone(),
            })
            .observe(seconds);
        self.requests
            .get_or_create(&RequestLabels {
                method,
                route,
                status,
            })
            .inc();
    }

    /// Records a login attempt: `success`, `invalid_credentials`, `throttled`, …
    pub fn observe_login(&self, outcome: &'static str) {
        self.logins.get_or_create(&LoginLabels { outcome }).inc();
    }

    /// Counts a recorded security event.
    pub fn observe_event(&self, kind: &str) {
        self.events
            .get_or_create(&EventLabels {
                r#type: kind.to_string(),
            })
            .inc();
    }

    /// The Prometheus text exposition (format 0.0.4).
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        to_prometheus_text(&out)
    }
}

/// Rewrites the OpenMetrics text that prometheus-client writes into the classic Prometheus text
/// format that `text/plain; version=0.0.4` promises: there a counter's `HELP` and `TYPE` name
/// its samples (`x_total`), and neither `# UNIT` nor `# EOF` exists. Written here because the
/// crate offers no 0.0.4 encoder; `promtool check metrics` (CI) verifies the result.
fn to_prometheus_text(openmetrics: &str) -> String {
    let counters: std::collections::HashSet<&str> = openmetrics
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|rest| rest.strip_suffix(" counter"))
        .collect();
    let mut out = String::with_capacity(openmetrics.len() + 64);
    for line in openmetrics.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        let meta = ["# HELP ", "# TYPE "]
            .into_iter()
            .find_map(|p| line.strip_prefix(p).map(|rest| (p, rest)));
        match meta {
            Some((prefix, rest)) => {
                let (name, tail) = rest.split_once(' ').unwrap_or((rest, ""));
                if counters.contains(name) {
                    out.push_str(&format!("{prefix}{name}_total {tail}\n"));
                } else {
                    out.push_str(line);
                    out.push('\n');
                }
            }
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn counters_are_named_by_their_samples() {
        let m = super::Metrics::new(None);
        m.observe_login("success");
        let text = m.render();
        assert!(
            text.contains("# TYPE tessera_logins_total counter\n"),
            "{text}"
        );
        assert!(text.contains("# HELP tessera_logins_total "), "{text}");
        assert!(!text.contains("# EOF"));
    }
}
