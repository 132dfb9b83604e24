//! The signing keys as this instance last loaded them, and the JWTs it may hand out again
//! (docs/tokens.md, "JWT access tokens"). Memory only: `service::keys` loads and rotates.
//!
//! Every instance signs with the current key it loaded. Another instance's rotation reaches
//! this one within [`RELOAD_AFTER`]; that is why a retired key stays published for the JWT
//! lifetime plus [`PUBLISH_MARGIN`] (which covers the reload), and why the `next` key is published
//! ahead of its turn: verifiers' cached key sets already hold it when it starts signing.

use crate::clock::SECOND;
use crate::jwt::{Jwk, Signer};
use moka::sync::Cache;
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// How stale the loaded keys may get before the next use reloads them (µs).
pub const RELOAD_AFTER: i64 = 10 * SECOND;
/// How long past the JWT lifetime a retired key stays published (µs): the reload delay plus a
/// little clock skew between instances.
pub const PUBLISH_MARGIN: i64 = 15 * SECOND;

/// One published key.
#[derive(Debug, Clone)]
pub struct Published {
    pub jwk: Jwk,
    /// `Some(until)` for a retired key (µs).
    pub until: Option<i64>,
}

/// The keys as loaded at `at`.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// When they were read (µs, the injected clock).
    pub at: i64,
    /// The current key; `None` when its seed cannot be unsealed (another server secret).
    pub signer: Option<Signer>,
    pub published: Vec<Published>,
}

impl Loaded {
    /// The key set to publish at `now`: current, next, and retired keys still in their window.
    pub fn jwks(&self, now: i64) -> Vec<Jwk> {
        self.published
            .iter()
            .filter(|p| p.until.is_none_or(|until| now <= until))
            .map(|p| p.jwk.clone())
            .collect()
    }
}

/// A JWT handed out by `verify?jwt=true`, kept to hand out again for half its life.
#[derive(Debug, Clone)]
pub struct Minted {
    pub token: String,
    pub kid: String,
    /// Unix seconds.
    pub iat: i64,
    pub exp: i64,
    /// The `auth_time` it carries: a re-authentication makes it stale.
    pub auth_time: i64,
}

impl Minted {
    /// Whether it may be handed out again at `now` (µs): signed by the current key, with the
    /// session's current `auth_time`, and before half its lifetime has passed.
    pub fn reusable(&self, now: i64, kid: &str, auth_time: i64) -> bool {
        self.kid == kid
            && self.auth_time == auth_time
            && now.saturating_mul(2) < (self.iat + self.exp).saturating_mul(SECOND)
    }
}

/// The loaded keys and the reusable JWTs, by session id.
pub struct KeyRing {
    loaded: RwLock<Option<Arc<Loaded>>>,
    minted: Cache<String, Arc<Minted>, foldhash::fast::RandomState>,
}

impl KeyRing {
    /// An empty ring for JWTs of `ttl` seconds.
    pub fn new(ttl: i64) -> Self {
        let half = u64::try_from(ttl / 2).unwrap_or(0).max(1);
        Self {
            loaded: RwLock::new(None),
            minted: Cache::builder()
                .max_capacity(200_000)
                .time_to_live(Duration::from_secs(half))
                // Keyed by session ids, which the server makes: see `AuthCache::new`.
                .build_with_hasher(foldhash::fast::RandomState::default()),
        }
    }

    /// The loaded keys, unless they are older than [`RELOAD_AFTER`] at `now`.
    pub fn fresh(&self, now: i64) -> Option<Arc<Loaded>> {
        let guard = self.loaded.read().unwrap_or_else(|e| e.into_inner());
        guard
            .clone()
            .filter(|l| now - l.at < RELOAD_AFTER && l.at <= now)
    }

    /// Replaces the loaded keys.
    pub fn store(&self, loaded: Arc<Loaded>) {
        *self.loaded.write().unwrap_or_else(|e| e.into_inner()) = Some(loaded);
    }

    /// Forgets the loaded keys (after a rotation made here), so the next use reloads them.
    pub fn forget(&self) {
        *self.loaded.write().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// A JWT kept for session `sid`.
    pub fn minted(&self, sid: &str) -> Option<Arc<Minted>> {
        self.minted.get(sid)
    }

    /// Keeps a JWT for session `sid`.
    pub fn keep(&self, sid: &str, minted: Arc<Minted>) {
        self.minted.insert(sid.to_string(), minted);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minted() -> Minted {
        Minted {
            token: "t".into(),
            kid: "k".into(),
            iat: 1_000,
            exp: 1_300,
            auth_time: 900,
        }
    }

    #[test]
    fn reusable_only_before_half_life_with_the_same_key_and_auth_time() {
        let m = minted();
        assert!(m.reusable(1_000 * SECOND, "k", 900));
        assert!(m.reusable(1_149 * SECOND, "k", 900));
        assert!(!m.reusable(1_150 * SECOND, "k", 900));
        assert!(!m.reusable(1_151 * SECOND, "k", 900));
        assert!(!m.reusable(1_000 * SECOND, "other", 900));
        assert!(!m.reusable(1_000 * SECOND, "k", 901));
    }

    #[test]
    fn retired_keys_leave_the_key_set_after_their_window() {
        let published = |until| Published {
            jwk: Jwk::ed25519("k", "x"),
            until,
        };
        let loaded = Loaded {
            at: 0,
            signer: None,
            published: vec![published(None), published(Some(100))],
        };
        assert_eq!(loaded.jwks(100).len(), 2);
        assert_eq!(loaded.jwks(101).len(), 1);
    }

    #[test]
    fn loaded_keys_go_stale() {
        let ring = KeyRing::new(300);
        ring.store(Arc::new(Loaded {
            at: 0,
            signer: None,
            published: Vec::new(),
        }));
        assert!(ring.fresh(RELOAD_AFTER - 1).is_some());
        assert!(ring.fresh(RELOAD_AFTER).is_none());
        ring.forget();
        assert!(ring.fresh(0).is_none());
    }
}
