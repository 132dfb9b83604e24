//! Cross-instance cache invalidation: a seam chosen once at start-up. On PostgreSQL it is
//! LISTEN/NOTIFY; SQLite serves one instance, so there the bus is local only.
//!
//! Each instance publishes what it invalidated on one channel and listens on it, so a token
//! revoked through instance A is evicted from instance B's cache as soon as the notification
//! arrives (milliseconds). While B's listener is disconnected it may miss messages, so after
//! every (re)connection it clears its whole cache; the cache TTL bounds the gap in between.
//! SQLite is single-instance, so there nothing is published.

use crate::cache::{AuthCache, Target};
use sea_orm::sqlx::postgres::PgListener;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// The NOTIFY channel.
pub const CHANNEL: &str = "tessera_invalidate";

/// How invalidations reach the other instances.
#[derive(Clone)]
pub enum InvalidationBus {
    /// One instance: nothing to tell.
    Local,
    /// `NOTIFY` on [`CHANNEL`] through this connection.
    PgNotify(DatabaseConnection),
}

impl InvalidationBus {
    /// The bus for a database: NOTIFY on PostgreSQL, local otherwise.
    pub fn for_database(db: &DatabaseConnection) -> Self {
        if db.get_database_backend() == DbBackend::Postgres {
            Self::PgNotify(db.clone())
        } else {
            Self::Local
        }
    }

    /// Whether other instances listen (and this one should run [`listen`]).
    pub fn is_shared(&self) -> bool {
        matches!(self, Self::PgNotify(_))
    }

    /// Tells the other instances to drop what `target` covers.
    pub async fn publish(&self, target: &Target) -> Result<(), DbErr> {
        let Self::PgNotify(db) = self else {
            return Ok(());
        };
        let stmt = Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_notify($1, $2)",
            [CHANNEL.into(), target.encode().into()],
        );
        db.execute_raw(stmt).await.map(|_| ())
    }
}

/// Applies other instances' invalidations to this one's cache until `shutdown` turns true.
/// `ready` is told once the first LISTEN is in place.
pub async fn listen(
    url: String,
    cache: Arc<AuthCache>,
    mut shutdown: watch::Receiver<bool>,
    mut ready: Option<tokio::sync::oneshot::Sender<()>>,
) {
    loop {
        match PgListener::connect(&url).await {
            Ok(mut listener) => match listener.listen(CHANNEL).await {
                Ok(()) => {
                    // Anything published while we were not listening is lost: start clean.
                    cache.invalidate(&Target::All);
                    if let Some(ready) = ready.take() {
                        let _ = ready.send(());
                    }
                    loop {
                        tokio::select! {
                            message = listener.recv() => match message {
                                Ok(n) => match Target::decode(n.payload()) {
                                    Some(target) => cache.invalidate(&target),
                                    None => tracing::warn!(payload = n.payload(), "unknown invalidation"),
                                },
                                Err(err) => {
                                    tracing::warn!(error = %err, "invalidation listener lost its connection");
                                    cache.invalidate(&Target::All);
                                    break;
                                }
                            },
                            _ = shutdown.changed() => return,
                        }
                    }
                }
                Err(err) => tracing::warn!(error = %err, "cannot LISTEN for invalidations"),
            },
            Err(err) => tracing::warn!(error = %err, "cannot connect the invalidation listener"),
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = shutdown.changed() => return,
        }
    }
}
