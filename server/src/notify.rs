//! Cross-instance cache invalidation over PostgreSQL LISTEN/NOTIFY.
//!
//! Each instance publishes what it invalidated on one channel and listens on it, so a token
//! revoked through instance A is evicted from instance B's cache as soon as the notification
//! arrives (milliseconds). While B's listener is disconnected it may miss messages, so after
//! every (re)connection it clears its whole cache; the cache TTL bounds the gap in between.
//! SQLite is single-instance, so there nothing is published.

use crate::cache::Target;
use crate::state::AppState;
use sea_orm::sqlx::postgres::PgListener;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use std::time::Duration;
use tokio::sync::watch;

/// The NOTIFY channel.
pub const CHANNEL: &str = "tessera_invalidate";

/// Tells the other instances (PostgreSQL only) to drop what `target` covers.
pub async fn publish(db: &DatabaseConnection, target: &Target) -> Result<(), sea_orm::DbErr> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    let stmt = Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT pg_notify($1, $2)",
        [CHANNEL.into(), target.encode().into()],
    );
    db.execute_raw(stmt).await.map(|_| ())
}

/// Applies other instances' invalidations to this one's cache until `shutdown` turns true.
/// `ready` is told once the first LISTEN is in place.
pub async fn listen(
    url: String,
    state: AppState,
    mut shutdown: watch::Receiver<bool>,
    mut ready: Option<tokio::sync::oneshot::Sender<()>>,
) {
    loop {
        match PgListener::connect(&url).await {
            Ok(mut listener) => match listener.listen(CHANNEL).await {
                Ok(()) => {
                    // Anything published while we were not listening is lost: start clean.
                    state.cache.invalidate(&Target::All);
                    if let Some(ready) = ready.take() {
                        let _ = ready.send(());
                    }
                    loop {
                        tokio::select! {
                            message = listener.recv() => match message {
                                Ok(n) => match Target::decode(n.payload()) {
                                    Some(target) => state.cache.invalidate(&target),
                                    None => tracing::warn!(payload = n.payload(), "unknown invalidation"),
                                },
                                Err(err) => {
                                    tracing::warn!(error = %err, "invalidation listener lost its connection");
                                    state.cache.invalidate(&Target::All);
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
