//! Signing keys (docs/tokens.md, "JWT access tokens"): created at first start, loaded into the
//! [`crate::keyring`], rotated (next → current → retired), and purged once no JWT they signed
//! can still be live.

use super::events::{self, Event};
use crate::clock::SECOND;
use crate::error::{AppError, AppResult};
use crate::jwt::{self, Jwk, Signer};
use crate::keyring::{Loaded, PUBLISH_MARGIN, Published};
use crate::state::AppState;
use crate::store::signing_keys::{self as store, NewKey};
use entity::signing_key;
use std::sync::Arc;

/// The context a key's seed is sealed under (binds the sealed value to its key id).
fn seal_context(kid: &str) -> String {
    format!("signing-key:{kid}")
}

async fn insert_new(
    db: &impl sea_orm::ConnectionTrait,
    state: &AppState,
    role: &str,
) -> AppResult<String> {
    let pair = jwt::generate();
    let sealed = state.secret.seal(&seal_context(&pair.kid), &pair.seed);
    let key = NewKey {
        kid: &pair.kid,
        state: role,
        public_key: &pair.public,
        private_key: &sealed,
    };
    store::insert(db, key, state.now()).await?;
    Ok(pair.kid)
}

/// Creates a current and a next key when there is no current one (the first start). Instances
/// racing here are settled by the unique index on the state: the losers' inserts fail, and
/// they use the winner's keys.
pub async fn ensure(state: &AppState) -> AppResult<()> {
    let keys = store::list(&state.db).await?;
    let has = |role: &str| keys.iter().any(|k| k.state == role);
    for role in ["current", "next"] {
        if !has(role) {
            match insert_new(&state.db, state, role).await {
                Ok(_) | Err(AppError::Conflict(_)) => {}
                Err(err) => return Err(err),
            }
        }
    }
    Ok(())
}

fn build(state: &AppState, keys: &[signing_key::Model]) -> Loaded {
    let signer = keys.iter().find(|k| k.state == "current").and_then(|k| {
        let seed = state.secret.unseal(&seal_context(&k.kid), &k.private_key);
        if seed.is_none() {
            tracing::error!(kid = %k.kid, "the current signing key cannot be unsealed: was TESSERA_SECRET_KEY changed?");
        }
        Signer::from_seed(&k.kid, &seed?)
    });
    // Current first, then next, then retired keys newest first.
    let rank = |s: &str| match s {
        "current" => 0,
        "next" => 1,
        _ => 2,
    };
    let mut ordered: Vec<&signing_key::Model> = keys.iter().collect();
    ordered.sort_by_key(|k| rank(&k.state));
    Loaded {
        at: state.now(),
        signer,
        published: ordered
            .into_iter()
            .map(|k| Published {
                jwk: Jwk::ed25519(&k.kid, &k.public_key),
                until: (k.state == "retired").then(|| k.publish_until.unwrap_or(i64::MIN)),
            })
            .collect(),
    }
}

/// The keys, from the ring when loaded less than ten seconds ago, else from the database
/// (creating them first if there are none).
pub async fn loaded(state: &AppState) -> AppResult<Arc<Loaded>> {
    if let Some(loaded) = state.keys.fresh(state.now()) {
        return Ok(loaded);
    }
    let mut keys = store::list(state.reader.pool()).await?;
    if !keys.iter().any(|k| k.state == "current") {
        ensure(state).await?;
        keys = store::list(&state.db).await?;
    }
    let loaded = Arc::new(build(state, &keys));
    state.keys.store(loaded.clone());
    Ok(loaded)
}

/// Every key, newest first.
pub async fn list(state: &AppState) -> AppResult<Vec<signing_key::Model>> {
    Ok(store::list(&state.db).await?)
}

/// Rotates: the next key becomes current, a new next is made, and the old current is retired,
/// published until the last JWT it signed has expired. The event names the admin who asked
/// (none from the command line). Returns the new list.
pub async fn rotate(state: &AppState) -> AppResult<Vec<signing_key::Model>> {
    ensure(state).await?;
    let now = state.now();
    let until = now
        .saturating_add(state.settings.jwt_ttl.saturating_mul(SECOND))
        .saturating_add(PUBLISH_MARGIN);
    let txn = super::begin(state).await?;
    let retired = store::retire_current(&*txn, now, until).await?;
    let current = match store::promote_next(&*txn).await? {
        Some(kid) => kid,
        None => insert_new(&*txn, state, "current").await?,
    };
    let next = insert_new(&*txn, state, "next").await?;
    let event = Event::new("keys.rotated")
        .with("current", current)
        .with("next", next)
        .with("retired", retired);
    let recorded = events::record(&*txn, state, event).await?;
    txn.commit().await?;
    recorded.emit(state);
    state.keys.forget();
    tracing::info!("signing keys rotated");
    list(state).await
}

/// Deletes retired keys whose publication window has closed; returns how many.
pub async fn purge(state: &AppState) -> AppResult<u64> {
    Ok(store::delete_expired(&state.db, state.now()).await?)
}
