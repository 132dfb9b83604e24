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
    current: Query,
    previous: Query,
}

/// One of the two statements: its SQL and where its columns are.
struct Query {
    sql: String,
    at: Vec<usize>,
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
        let mut current = Query {
            sql: sql(By::Current, DbBackend::Sqlite),
            at: Vec::new(),
        };
        let mut previous = Query {
            sql: sql(By::Previous, DbBackend::Sqlite),
            at: Vec::new(),
        };
        let mut conns = Vec::with_capacity(count.max(1));
        for _ in 0..count.max(1) {
            let conn = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            conn.busy_timeout(std::time::Duration::ZERO)?;
            conn.pragma_update(None, "cache_size", -CACHE_KIB)?;
            conn.set_prepared_statement_cache_capacity(4);
            // The same SQL gives the same columns on every connection.
            current.at = positions(&conn, &current.sql)?;
            previous.at = positions(&conn, &previous.sql)?;
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

fn read(
    conn: &Connection,
    query: &Query,
    digest: &TokenDigest,
) -> rusqlite::Result<Option<AuthRow>> {
    let mut stmt = conn.prepare_cached(&query.sql)?;
    let mut rows = stmt.query([digest.as_str()])?;
    rows.next()?.map(|row| decode(row, &query.at)).transpose()
}

/// The columns of the authentication read, decoded by name as SeaORM's `FromQueryResult` does,
/// but with each name looked up once per connection, when the statement is prepared
/// ([`positions`]): rusqlite's `row.get("name")` compares the name with every column's on every
/// call, and a cold-cache profile (`perf`, issue 16) showed that at about 8 % of the server's CPU.
macro_rules! auth_columns {
    ($($name:ident),* $(,)?) => {
        const COLUMNS: &[&str] = &[$(stringify!($name)),*];

        /// Decodes a row, given [`positions`] of the statement it came from.
        fn decode(row: &Row<'_>, at: &[usize]) -> rusqlite::Result<AuthRow> {
            // `at` has one position per column; a missing one would be an index out of range,
            // which rusqlite answers with an error, never a panic.
            let mut at = at.iter().copied();
            Ok(AuthRow {
                $($name: row.get(at.next().unwrap_or(usize::MAX))?,)*
            })
        }
    };
}

auth_columns!(
    session_id,
    kind,
    user_id,
    client_id,
    device_name,
    user_agent,
    ip,
    created,
    last_used,
    renewed,
    expiry,
    authenticated_at,
    token_hint,
    username,
    is_active,
    is_admin,
    client_name,
    description,
    token_ttl,
    max_lifetime,
    client_rate,
    max_sessions,
    auto_renew,
    transport,
    idle_timeout,
    previous_until,
    key_name,
    scopes,
    rotate_on_refresh,
    override_client_id,
    override_rate,
);

/// Where each of [`COLUMNS`] is in the statement's result; a column the query lacks is an
/// error at start-up.
fn positions(conn: &Connection, sql: &str) -> Result<Vec<usize>, Unavailable> {
    let stmt = conn.prepare_cached(sql)?;
    let names = stmt.column_names();
    COLUMNS
        .iter()
        .map(|want| {
            names
                .iter()
                .position(|have| have == want)
                .ok_or_else(|| Unavailable(format!("the authentication read has no column {want}")))
        })
        .collect()
}
