//! The composition root: [`Application::build`] opens and migrates the database, seeds it,
//! chooses the seams (budgets in memory or Redis; invalidation local or over PostgreSQL
//! LISTEN/NOTIFY) and binds the listener; [`Application::run_until_stopped`] runs the
//! background tasks (purge, use flusher, invalidation listener), serves until SIGINT/SIGTERM,
//! drains, and writes the uses still queued. The binary and the real-TCP tests both use it.

use crate::budget::{BudgetStore, MemoryBudgets};
use crate::clock::{Clock, SystemClock};
use crate::config::{Config, Settings};
use crate::redis_budget::RedisBudgets;
use crate::secret::{self, ServerSecret};
use crate::service::{clients, keys, users};
use crate::state::AppState;
use crate::store::reader::AuthReader;
use crate::store::settings;
use crate::{bus, db, purge, serve, touches};
use anyhow::Context;
use sea_orm::DatabaseConnection;
use secrecy::ExposeSecret;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// A built server: state ready, listener bound, nothing running yet.
pub struct Application {
    state: AppState,
    listener: TcpListener,
    config: Config,
    listen_url: Option<String>,
}

impl Application {
    /// Opens (creating it if needed) and migrates the configured database, then
    /// [`Application::build_on`] it.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let db = db::connect(&config.database_url).await?;
        db::migrate(&db).await?;
        let reader = db::connect_reader(&config.database_url, &db).await?;
        let listen_url = config
            .database_url
            .starts_with("postgres")
            .then(|| config.database_url.clone());
        Self::build_on(config, db, reader, Arc::new(SystemClock), listen_url).await
    }

    /// Builds on an open, migrated database: seeds the default clients, creates the bootstrap
    /// admin, connects the budget store and binds the listener. `listen_url` is the PostgreSQL
    /// URL to LISTEN on for other instances' invalidations (`None` on SQLite).
    pub async fn build_on(
        config: Config,
        db: DatabaseConnection,
        reader: impl Into<AuthReader>,
        clock: Arc<dyn Clock>,
        listen_url: Option<String>,
    ) -> anyhow::Result<Self> {
        let secret = server_secret(&config, &db).await?;
        let store = match &config.redis_url {
            Some(url) => {
                // Deployments sharing one Redis keep apart by prefix: configured, or this
                // deployment's id, made once and kept in the database.
                let prefix = match &config.redis_prefix {
                    Some(prefix) => prefix.clone(),
                    None => {
                        let id = settings::get_or_insert(&db, "deployment_id", || {
                            secret::hex(&secret::random_bytes::<8>())
                        })
                        .await
                        .context("cannot read the deployment id")?;
                        format!("tessera:{id}:")
                    }
                };
                let deadline = Duration::from_millis(config.redis_deadline.max(1));
                BudgetStore::Redis(RedisBudgets::start(url, &prefix, deadline)?)
            }
            None => BudgetStore::Memory(MemoryBudgets::default()),
        };
        let settings = Settings::from(&config);
        settings.check_cookies()?;
        let state = AppState::with_parts(db, reader, settings, clock, store, secret);
        clients::seed_defaults(&state)
            .await
            .context("cannot create the default clients")?;
        if clients::get(&state, &state.settings.api_access_client)
            .await
            .is_err()
        {
            tracing::warn!(
                client = %state.settings.api_access_client,
                "no API-access client of that name (TESSERA_API_ACCESS_CLIENT): API keys cannot be created"
            );
        }
        keys::ensure(&state)
            .await
            .context("cannot create the JWT signing keys")?;
        if let Some(bootstrap) = &config.bootstrap_admin
            && users::ensure_bootstrap_admin(&state, bootstrap).await?
        {
            tracing::info!("bootstrap admin created");
        }
        let listener = TcpListener::bind(&config.bind)
            .await
            .with_context(|| format!("cannot listen on {} (TESSERA_BIND)", config.bind))?;
        Ok(Self {
            state,
            listener,
            config,
            listen_url,
        })
    }

    /// The bound address (port 0 in the configuration picks a free port).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// The state the server runs on.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until SIGINT or SIGTERM.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.run_until(shutdown_signal()).await
    }

    /// Serves until `stop` completes, then drains requests in flight, stops the background
    /// tasks and writes the queued uses.
    pub async fn run_until(
        self,
        stop: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let Self {
            state,
            listener,
            config,
            listen_url,
        } = self;
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut tasks = vec![
            tokio::spawn(purge::run(
                state.db.clone(),
                state.clock.clone(),
                Duration::from_secs(config.purge_interval),
                config.purge_batch,
                config.event_retention.0,
                stop_rx,
            )),
            tokio::spawn(touches::run(
                state.touches.clone(),
                state.db.clone(),
                state.clock.clone(),
                Duration::from_secs(1),
                stop_tx.subscribe(),
            )),
        ];
        let invalidation = match listen_url {
            Some(url) => {
                let (ready, subscribed) = tokio::sync::oneshot::channel();
                tasks.push(tokio::spawn(bus::listen(
                    url,
                    state.cache.clone(),
                    stop_tx.subscribe(),
                    Some(ready),
                )));
                match tokio::time::timeout(Duration::from_secs(5), subscribed).await {
                    Ok(Ok(())) => "LISTEN tessera_invalidate (subscribed)",
                    _ => "LISTEN tessera_invalidate (not yet subscribed; retrying)",
                }
            }
            None => "local (one instance)",
        };
        tracing::info!(
            version = env!("CARGO_PKG_VERSION"),
            address = %listener.local_addr()?,
            database = %db::redact(&config.database_url),
            redis = if config.redis_url.is_some() { "shared budgets (connecting in the background)" } else { "off (budgets in memory)" },
            invalidation,
            "tessera listening"
        );
        let limits = serve::Limits {
            max_connections: serve::fit_connection_cap(config.max_connections),
            shutdown_timeout: Duration::from_secs(config.shutdown_timeout),
            header_timeout: serve::HEADER_TIMEOUT,
        };
        serve::serve(listener, crate::app(state.clone()), limits, async move {
            stop.await;
            tracing::info!("shutting down: draining requests in flight");
        })
        .await;
        let _ = stop_tx.send(true);
        for task in tasks {
            let _ = task.await;
        }
        // Requests have drained (or their deadline passed): write the last queued uses.
        let written = state.touches.flush(&state.db).await?;
        tracing::info!(written, "queued last_used writes flushed; tessera stopped");
        Ok(())
    }
}

/// Completes on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

/// The server's secret: `TESSERA_SECRET_KEY`, or the one generated at first start and kept in
/// the database (so every instance, and the administrative commands, share it).
pub async fn server_secret(
    config: &Config,
    db: &DatabaseConnection,
) -> anyhow::Result<ServerSecret> {
    Ok(match &config.secret_key {
        Some(key) => ServerSecret::from_master(&secret::master_bytes(key.expose_secret())),
        None => {
            let stored = settings::get_or_insert(db, "secret_key", secret::new_master)
                .await
                .context("cannot read the server's secret key")?;
            ServerSecret::from_master(&secret::master_bytes(&stored))
        }
    })
}
