//! The authentication read on an SQLite file without sqlx: the same query as
//! [`super::auth::authenticate`] (its SQL text is rendered from the SeaORM query, so the two
//! cannot drift apart), prepared once per connection and run inline on the calling thread.
//!
//! Why not sqlx here: sqlx-sqlite runs every query on the connection's own worker thread and
//! hands the result back over a channel, and that hand-off (two thread wake-ups) costs more than
//! the read itself. `cargo bench -p server --bench verify` measured a bare `SELECT 1` through
//! sqlx at about 200 µs against a few µs for the indexed read here, so a verification that misses
//! the cache was bound by the hand-off (issue 16, "cold cache").
//!
//! Running SQLite inline on an async worker is safe for this one statement because it never
//! waits: the connections are read-only readers of a WAL database (a reader never waits for the
//! writer), their busy timeout is zero, and a connection that is busy or fails answers
//! [`Unavailable`] so the caller falls back to the sqlx pool. The read touches a handful of
//! B-tree pages, served from SQLite's page cache or the OS's.

use super::auth::{AuthRow, By, sql};
use crate::principal::AuthRecord;
use crate::token::TokenDigest;
use rusqlite::{Connection, OpenFlags, Row};
use sea_orm::DbBackend;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// SQLite's page cache per connection, in KiB (SQLite's default is 2,000): the upper levels of
/// the digest index and the small `users` and `clients` tables stay in it.
const CACHE_KIB: i64 = 8_192;

/// A few read-only connections to one SQLite file, each with the authentication read prepared.
pub struct DirectReaders {
    conns: Vec<Mutex<Connection>>,
    next: AtomicUsize,
    current: String,
    previous: String,
}

impl std::fmt::Debug for DirectReaders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DirectReaders")
            .field("connections", &self.conns.len())
            .finish_non_exhaustive()
    }
}

/// The direct read could not run (no free connection, a busy database, an error): read
/// through the pool instead.
#[derive(Debug, thiserror::Error)]
#[error("the direct SQLite read is unavailable: {0}")]
pub struct Unavailable(String);

impl From<rusqlite::Error> for Unavailable {
    fn from(err: rusqlite::Error) -> Self {
        Self(err.to_string())
    }
}

impl DirectReaders {
    /// Opens `count` read-only connections to the SQLite file at `path` and prepares the read
    /// on each, so a schema that does not match fails here, at start-up, not on a request.
    pub fn open(path: &Path, count: usize) -> Result<Self, Unavailable> {
        let current = sql(By::Current, DbBackend::Sqlite);
        let previous = sql(By::Previous, DbBackend::Sqlite);
        let mut conns = Vec::with_capacity(count.max(1));
        for _ in 0..count.max(1) {
            let conn = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            conn.busy_timeout(std::time::Duration::ZERO)?;
            conn.pragma_update(None, "cache_size", -CACHE_KIB)?;
            conn.set_prepared_statement_cache_capacity(4);
            conn.prepare_cached(&current)?;
            conn.prepare_cached(&previous)?;
            conns.push(Mutex::new(conn));
        }
        Ok(Self {
            conns,
            next: AtomicUsize::new(0),
            current,
            previous,
        })
    }

    /// What the token with this digest authenticates, as [`super::auth::authenticate`] answers
    /// it, or [`Unavailable`] when the read should go through the pool instead.
    pub fn authenticate(&self, digest: &TokenDigest) -> Result<Option<AuthRecord>, Unavailable> {
        // A free connection: each async worker holds at most one, for one statement, so with
        // more connections than workers one is almost always free; when none is, the pool reads.
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let n = self.conns.len();
        let conn = (0..n)
            .find_map(|i| self.conns[(start + i) % n].try_lock().ok())
            .ok_or_else(|| Unavailable("every direct connection is in use".into()))?;
        if let Some(row) = read(&conn, &self.current, digest)? {
            return Ok(row.into_record(false));
        }
        Ok(read(&conn, &self.previous, digest)?.and_then(|row| row.into_record(true)))
    }
}

fn read(conn: &Connection, sql: &str, digest: &TokenDigest) -> rusqlite::Result<Option<AuthRow>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query([digest.as_str()])?;
    rows.next()?.map(decode).transpose()
}

/// The row by column name, as SeaORM's `FromQueryResult` decodes it.
fn decode(row: &Row<'_>) -> rusqlite::Result<AuthRow> {
    Ok(AuthRow {
        session_id: row.get("session_id")?,
        kind: row.get("kind")?,
        user_id: row.get("user_id")?,
        client_id: row.get("client_id")?,
        device_name: row.get("device_name")?,
        user_agent: row.get("user_agent")?,
        ip: row.get("ip")?,
        created: row.get("created")?,
        last_used: row.get("last_used")?,
        renewed: row.get("renewed")?,
        expiry: row.get("expiry")?,
        authenticated_at: row.get("authenticated_at")?,
        token_hint: row.get("token_hint")?,
        username: row.get("username")?,
        is_active: row.get("is_active")?,
        is_admin: row.get("is_admin")?,
        client_name: row.get("client_name")?,
        description: row.get("description")?,
        token_ttl: row.get("token_ttl")?,
        max_lifetime: row.get("max_lifetime")?,
        client_rate: row.get("client_rate")?,
        max_sessions: row.get("max_sessions")?,
        auto_renew: row.get("auto_renew")?,
        transport: row.get("transport")?,
        idle_timeout: row.get("idle_timeout")?,
        previous_until: row.get("previous_until")?,
        key_name: row.get("key_name")?,
        scopes: row.get("scopes")?,
        rotate_on_refresh: row.get("rotate_on_refresh")?,
        override_client_id: row.get("override_client_id")?,
        override_rate: row.get("override_rate")?,
    })
}
