//! Shared application state, built once and cloned into every handler.

use crate::cache::{AuthCache, Target};
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::metrics::Metrics;
use crate::policy::Rate;
use crate::redis_budget::RedisBudgets;
use crate::throttle::Throttles;
use crate::touches::Touches;
use ipnet::IpNet;
use sea_orm::DatabaseConnection;
use secrecy::SecretString;
use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

/// Runtime settings the HTTP layer needs (a subset of [`Config`]).
#[derive(Debug, Clone)]
pub struct Settings {
    /// Name of the client that issues API keys.
    pub api_access_client: String,
    /// Shared secret accepted by the introspection endpoint.
    pub introspection_secret: Option<SecretString>,
    /// Login budget per client IP.
    pub login_rate_per_ip: Rate,
    /// Login budget per username.
    pub login_rate_per_username: Rate,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpNet>,
    /// Longest a verified token stays cached (a backstop; revocations evict at once).
    pub cache_ttl: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            api_access_client: "api".into(),
            introspection_secret: None,
            login_rate_per_ip: Rate {
                count: 30,
                per_secs: 60,
            },
            login_rate_per_username: Rate {
                count: 10,
                per_secs: 60,
            },
            trusted_proxies: Vec::new(),
            cache_ttl: Duration::from_secs(10),
        }
    }
}

impl From<&Config> for Settings {
    fn from(c: &Config) -> Self {
        Self {
            api_access_client: c.api_access_client.clone(),
            introspection_secret: c.introspection_secret.clone(),
            login_rate_per_ip: c.login_rate_per_ip,
            login_rate_per_username: c.login_rate_per_username,
            trusted_proxies: c.trusted_proxies.clone(),
            cache_ttl: Duration::from_secs(c.cache_ttl),
        }
    }
}

/// Everything a handler may reach: the database pools, settings, clock, cache, limiters, metrics.
pub struct Inner {
    /// The connection every write goes through (on SQLite, the single writer).
    pub db: DatabaseConnection,
    /// Connections for the authentication read (on SQLite, a pool of readers; elsewhere `db`).
    pub reader: DatabaseConnection,
    /// Token digest → session, user and client.
    pub cache: AuthCache,
    /// `last_used` / renewal writes waiting to be flushed.
    pub touches: Touches,
    /// Runtime settings.
    pub settings: Settings,
    /// The time source (a manual clock in tests).
    pub clock: Arc<dyn Clock>,
    /// Request budgets.
    pub throttles: Throttles,
    /// Prometheus metrics.
    pub metrics: Metrics,
}

/// A cheap handle on [`Inner`].
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

impl AppState {
    /// Builds the state over an open (and migrated) database, reading through the same pool.
    pub fn new(db: DatabaseConnection, settings: Settings, clock: Arc<dyn Clock>) -> Self {
        Self::with_reader(db.clone(), db, settings, clock, None)
    }

    /// Builds the state with separate writer and reader pools, and budgets shared through
    /// Redis when given.
    pub fn with_reader(
        db: DatabaseConnection,
        reader: DatabaseConnection,
        settings: Settings,
        clock: Arc<dyn Clock>,
        redis: Option<RedisBudgets>,
    ) -> Self {
        let mut throttles = Throttles::new(clock.clone(), &settings);
        if let Some(redis) = redis {
            throttles = throttles.with_redis(redis);
        }
        let cache = AuthCache::new(settings.cache_ttl, 1_000_000);
        Self(Arc::new(Inner {
            db,
            reader,
            cache,
            touches: Touches::default(),
            settings,
            clock,
            throttles,
            metrics: Metrics::new(),
        }))
    }

    /// Drops cached sessions covered by `target` here and on every other instance. Call it
    /// after any committed change that ends sessions or alters what their row says.
    pub async fn invalidate(&self, target: Target) {
        self.cache.invalidate(&target);
        if let Err(err) = crate::notify::publish(&self.db, &target).await {
            tracing::error!(error = %err, "could not tell other instances about a revocation");
        }
    }

    /// Writes pending `last_used` notes before a read that shows or orders by them.
    pub async fn flush_touches(&self) -> crate::error::AppResult<()> {
        self.touches.flush(&self.db).await.map(|_| ())
    }

    /// The state with the wall clock.
    pub fn with_system_clock(db: DatabaseConnection, settings: Settings) -> Self {
        Self::new(db, settings, Arc::new(SystemClock))
    }

    /// Now, in microseconds since the epoch.
    pub fn now(&self) -> i64 {
        self.0.clock.now_micros()
    }
}

impl Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}
