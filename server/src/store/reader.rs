//! Where the authentication read runs, chosen once at start-up (`db::connect_reader`): the
//! reader pool, and on an SQLite file also [`DirectReaders`], which run the same query without
//! sqlx's per-query thread hand-off (see [`super::auth_direct`] for why).

use super::auth_direct::DirectReaders;
use crate::principal::AuthRecord;
use crate::token::TokenDigest;
use sea_orm::{DatabaseConnection, DbErr};
use std::sync::Arc;

/// The connections the authentication read uses.
#[derive(Debug, Clone)]
pub struct AuthReader {
    pool: DatabaseConnection,
    direct: Option<Arc<DirectReaders>>,
}

impl From<DatabaseConnection> for AuthReader {
    /// Reads through `pool` only.
    fn from(pool: DatabaseConnection) -> Self {
        Self { pool, direct: None }
    }
}

impl AuthReader {
    /// Reads through `direct` first, and through `pool` when a direct read cannot run.
    pub fn with_direct(pool: DatabaseConnection, direct: DirectReaders) -> Self {
        Self {
            pool,
            direct: Some(Arc::new(direct)),
        }
    }

    /// The pool (for the other reads that may go to a replica-like reader, and for metrics).
    pub fn pool(&self) -> &DatabaseConnection {
        &self.pool
    }

    /// Whether the direct SQLite readers are in use.
    pub fn is_direct(&self) -> bool {
        self.direct.is_some()
    }

    /// What the token with this digest authenticates ([`super::auth::authenticate`]).
    pub async fn authenticate(&self, digest: &TokenDigest) -> Result<Option<AuthRecord>, DbErr> {
        if let Some(direct) = &self.direct {
            match direct.authenticate(digest) {
                Ok(found) => return Ok(found),
                Err(err) => tracing::debug!(error = %err, "reading through the pool instead"),
            }
        }
        super::auth::authenticate(&self.pool, digest).await
    }
}
