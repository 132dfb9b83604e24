//! Opening the database: SQLite (WAL, busy timeout) or PostgreSQL.

use crate::store::auth_direct::DirectReaders;
use crate::store::reader::AuthReader;
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
        if !read_only {
            private_sqlite_files(url)?;
        }
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
    match Database::connect(opts).await {
        Ok(db) => Ok(db),
        Err(err) => Err(anyhow::anyhow!(
            "cannot open the database at {}: {}",
            redact(url),
            explain(url, err).await
        )),
    }
}

/// A connection error in words: a pool that timed out hides why it could not connect, so one
/// direct connection is tried to find the reason (refused, unknown host, bad password …).
async fn explain(url: &str, err: sea_orm::DbErr) -> String {
    use sea_orm::sqlx::Connection;
    let text = err.to_string();
    if !text.contains("timed out") || !url.starts_with("postgres") {
        return text;
    }
    let direct = tokio::time::timeout(
        Duration::from_secs(5),
        sea_orm::sqlx::PgConnection::connect(url),
    )
    .await;
    match direct {
        Ok(Err(cause)) => cause.to_string(),
        Ok(Ok(_)) => text,
        Err(_) => "no answer within 5 seconds".into(),
    }
}

/// The path of an SQLite file URL (`None` for an in-memory database).
fn sqlite_path(url: &str) -> Option<std::path::PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    if is_memory(url) {
        return None;
    }
    Some(std::path::PathBuf::from(
        rest.split('?').next().unwrap_or(rest),
    ))
}

/// The database holds password hashes and token digests: its file is created readable by its
/// owner only (SQLite gives the `-wal` and `-shm` files the mode of the database file), and an
/// existing file readable by others is narrowed to 0600 with a warning.
fn private_sqlite_files(url: &str) -> anyhow::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let Some(path) = sqlite_path(url) else {
        return Ok(());
    };
    if !path.exists() {
        if !url.contains("mode=rwc") {
            return Ok(());
        }
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .or_else(|e| match e.kind() {
                std::io::ErrorKind::AlreadyExists => std::fs::File::open(&path),
                _ => Err(e),
            })
            .with_context(|| format!("cannot create the database file {}", path.display()))?;
    }
    let mut files = vec![path.clone()];
    for suffix in ["-wal", "-shm"] {
        let mut name = path.clone().into_os_string();
        name.push(suffix);
        files.push(name.into());
    }
    for file in files {
        let Ok(meta) = std::fs::metadata(&file) else {
            continue;
        };
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            tracing::warn!(
                file = %file.display(),
                mode = format!("{mode:o}"),
                "the database file was readable by others; narrowing it to 0600"
            );
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))
                .with_context(|| format!("cannot change the mode of {}", file.display()))?;
        }
    }
    Ok(())
}

/// Whether `url` names an SQLite file that does not exist yet.
pub fn missing_sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    if is_memory(url) {
        return None;
    }
    let path = std::path::PathBuf::from(rest.split('?').next().unwrap_or(rest));
    (!path.exists()).then_some(path)
}

/// Connects to an existing database for an administrative command: unlike the server and
/// `migrate`, these never create an SQLite file (a typo or another working directory would
/// otherwise leave a new, empty database behind).
pub async fn connect_existing(url: &str) -> anyhow::Result<DatabaseConnection> {
    if let Some(path) = missing_sqlite_file(url) {
        anyhow::bail!(
            "no database at {} (TESSERA_DATABASE_URL={}): run `tessera migrate` or start the server first, or point TESSERA_DATABASE_URL at the right file",
            path.display(),
            redact(url)
        );
    }
    connect(url).await
}

fn is_memory(url: &str) -> bool {
    url.contains(":memory:") || url.contains("mode=memory")
}

/// Connects to `url` for writing (and reading). On SQLite this is a single connection: one
/// writer never meets SQLITE_BUSY from lock upgrades between its own transactions.
pub async fn connect(url: &str) -> anyhow::Result<DatabaseConnection> {
    open(url, if url.starts_with("sqlite:") { 1 } else { 16 }, false).await
}

/// The connections for the authentication read: on an SQLite file, a pool of read-only readers
/// (WAL lets them run beside the writer) and as many direct readers
/// ([`crate::store::auth_direct`]); on PostgreSQL and in-memory SQLite, `writer` itself.
pub async fn connect_reader(url: &str, writer: &DatabaseConnection) -> anyhow::Result<AuthReader> {
    let Some(path) = sqlite_path(url) else {
        return Ok(writer.clone().into());
    };
    let readers = std::thread::available_parallelism().map_or(4, |n| n.get() * 2);
    let pool = open(url, readers as u32, true).await?;
    let direct = DirectReaders::open(&path, readers)
        .with_context(|| format!("cannot open {} for reading", path.display()))?;
    Ok(AuthReader::with_direct(pool, direct))
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
