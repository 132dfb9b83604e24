//! Opening the database: SQLite (WAL, busy timeout) or PostgreSQL.

use anyhow::Context;
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, Database, DatabaseConnection};
use std::time::Duration;

/// Connects to `url` with at most `max` connections. SQLite files run in WAL mode with a busy
/// timeout, so readers never wait for the writer and a briefly locked database is retried.
async fn open(url: &str, max: u32, read_only: bool) -> anyhow::Result<DatabaseConnection> {
    let mut opts = ConnectOptions::new(url.to_string());
    opts.sqlx_logging(false)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(5))
        .max_connections(max);
    if url.starts_with("sqlite:") {
        opts.map_sqlx_sqlite_opts(move |o| {
            o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(5))
                .foreign_keys(true)
                .read_only(read_only)
        });
    } else if !url.starts_with("postgres:") && !url.starts_with("postgresql:") {
        anyhow::bail!("unsupported database URL (use sqlite://… or postgres://…)");
    }
    Database::connect(opts)
        .await
        .with_context(|| format!("cannot open the database at {}", redact(url)))
}

fn is_memory(url: &str) -> bool {
    url.contains(":memory:") || url.contains("mode=memory")
}

/// Connects to `url` for writing (and reading). On SQLite this is a single connection: one
/// writer never meets SQLITE_BUSY from lock upgrades between its own transactions.
pub async fn connect(url: &str) -> anyhow::Result<DatabaseConnection> {
    open(url, if url.starts_with("sqlite:") { 1 } else { 16 }, false).await
}

/// A pool for the authentication read: read-only readers on an SQLite file (WAL lets them run
/// beside the writer), or `writer` itself on PostgreSQL and in-memory SQLite.
pub async fn connect_reader(
    url: &str,
    writer: &DatabaseConnection,
) -> anyhow::Result<DatabaseConnection> {
    if url.starts_with("sqlite:") && !is_memory(url) {
        let readers = std::thread::available_parallelism().map_or(4, |n| n.get() as u32 * 2);
        open(url, readers, true).await
    } else {
        Ok(writer.clone())
    }
}

/// Applies pending migrations.
pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    Migrator::up(db, None)
        .await
        .context("database migration failed")
}

/// The URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}://{user}:***{}", &url[..scheme], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}
