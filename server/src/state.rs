//! Shared application state, built once and cloned into every handler. It only holds things:
//! the behaviour that keeps them consistent (cache invalidation, queued writes) lives in
//! `crate::service`.

use crate::budget::{BudgetStore, Budgets, MemoryBudgets};
use crate::bus::InvalidationBus;
use crate::cache::AuthCache;
use crate::clock::{Clock, SystemClock};
use crate::config::Settings;
use crate::keyring::KeyRing;
use crate::metrics::Metrics;
use crate::secret::ServerSecret;
use crate::store::reader::AuthReader;
use crate::touches::Touches;
use sea_orm::DatabaseConnection;
use std::ops::Deref;
use std::sync::Arc;

/// Everything a handler may reach: the database pools, settings, clock, cache, budgets, metrics.
pub struct Inner {
    /// The connection every write goes through (on SQLite, the single writer).
    pub db: DatabaseConnection,
    /// Connections for the authentication read (on an SQLite file, read-only readers; elsewhere
    /// `db`).
    pub reader: AuthReader,
    /// Token digest → session, user and client.
    pub cache: Arc<AuthCache>,
    /// `last_used` / renewal writes waiting to be flushed.
    pub touches: Arc<Touches>,
    /// How invalidations reach other instances.
    pub bus: InvalidationBus,
    /// Runtime settings.
    pub settings: Settings,
    /// The time source (a manual clock in tests).
    pub clock: Arc<dyn Clock>,
    /// Request budgets.
    pub budgets: Budgets,
    /// Prometheus metrics.
    pub metrics: Metrics,
    /// Keys derived from the server's secret (device proofs).
    pub secret: ServerSecret,
    /// The JWT signing keys as loaded, and JWTs to hand out again.
    pub keys: KeyRing,
}

/// A cheap handle on [`Inner`].
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

impl AppState {
    /// The state over an open (and migrated) database, reading through the same pool, with
    /// budgets in memory.
    pub fn new(db: DatabaseConnection, settings: Settings, clock: Arc<dyn Clock>) -> Self {
        let store = BudgetStore::Memory(MemoryBudgets::default());
        Self::with_parts(
            db.clone(),
            db,
            settings,
            clock,
            store,
            ServerSecret::random(),
        )
    }

    /// The state with the wall clock.
    pub fn with_system_clock(db: DatabaseConnection, settings: Settings) -> Self {
        Self::new(db, settings, Arc::new(SystemClock))
    }

    /// The state with separate writer and reader pools, the given budget store and secret; the
    /// invalidation bus follows the database (NOTIFY on PostgreSQL, local otherwise).
    pub fn with_parts(
        db: DatabaseConnection,
        reader: impl Into<AuthReader>,
        settings: Settings,
        clock: Arc<dyn Clock>,
        store: BudgetStore,
        secret: ServerSecret,
    ) -> Self {
        let budgets = Budgets::new(
            clock.clone(),
            store,
            settings.login_rate_per_ip,
            settings.login_rate_per_username,
        );
        let settings_ttl = settings.jwt_ttl;
        Self(Arc::new(Inner {
            bus: InvalidationBus::for_database(&db),
            cache: Arc::new(AuthCache::new(settings.cache_ttl, settings.cache_max_bytes)),
            touches: Arc::new(Touches::default()),
            db,
            reader: reader.into(),
            settings,
            clock,
            metrics: Metrics::new(budgets.redis_health()),
            budgets,
            secret,
            keys: KeyRing::new(settings_ttl),
        }))
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
