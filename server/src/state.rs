//! Shared application state, built once and cloned into every handler.

use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::metrics::Metrics;
use crate::policy::Rate;
use crate::throttle::Throttles;
use ipnet::IpNet;
use sea_orm::DatabaseConnection;
use secrecy::SecretString;
use std::ops::Deref;
use std::sync::Arc;

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
        }
    }
}

/// Everything a handler may reach: the database pool, settings, clock, limiters, metrics.
pub struct Inner {
    /// The database pool.
    pub db: DatabaseConnection,
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
    /// Builds the state over an open (and migrated) database.
    pub fn new(db: DatabaseConnection, settings: Settings, clock: Arc<dyn Clock>) -> Self {
        let throttles = Throttles::new(clock.clone(), &settings);
        Self(Arc::new(Inner {
            db,
            settings,
            clock,
            throttles,
            metrics: Metrics::new(),
        }))
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
