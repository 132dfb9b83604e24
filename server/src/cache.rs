//! The verification cache: token digest → the [`AuthRecord`] it authenticates.
//!
//! Every path that ends or changes a session goes through the services (`crate::service`),
//! which call [`AuthCache::invalidate`] here and publish the same target to other instances, so
//! a revoked token is refused on the very next request. A short TTL is only a backstop for a
//! missed cross-instance message.
//!
//! The generation counter closes one race: a request reads a row from the database, a
//! revocation commits and invalidates, and only then the request caches what it read. Reading
//! the generation before the database read, and dropping the entry again if the generation moved
//! by the time it is inserted, makes that stale insert harmless (see [`AuthCache::put`]).

use crate::principal::{AuthRecord, Rendered};
use crate::token::TokenDigest;
use foldhash::fast::RandomState;
use moka::sync::Cache;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// What an invalidation covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// One session or API key, by id.
    Session(String),
    /// Every session of a user (logout-all, deactivation, password change, overrides …).
    User(i32),
    /// Every session on a client (policy change, deletion).
    Client(i32),
    /// Everything (used after a lost cross-instance connection).
    All,
}

impl Target {
    fn matches(&self, record: &AuthRecord) -> bool {
        match self {
            Target::Session(id) => record.session.id == *id,
            Target::User(id) => record.user.id == *id,
            Target::Client(id) => record.client.id == *id,
            Target::All => true,
        }
    }

    /// The wire form used between instances: `s:<id>`, `u:<id>`, `c:<id>`, `all`.
    pub fn encode(&self) -> String {
        match self {
            Target::Session(id) => format!("s:{id}"),
            Target::User(id) => format!("u:{id}"),
            Target::Client(id) => format!("c:{id}"),
            Target::All => "all".into(),
        }
    }

    /// Parses [`Target::encode`]'s form.
    pub fn decode(s: &str) -> Option<Self> {
        match s.split_once(':') {
            Some(("s", id)) => Some(Target::Session(id.to_string())),
            Some(("u", id)) => id.parse().ok().map(Target::User),
            Some(("c", id)) => id.parse().ok().map(Target::Client),
            None if s == "all" => Some(Target::All),
            _ => None,
        }
    }
}

/// What the cache's own bookkeeping costs per entry beyond the key and the record (moka's
/// hash-table slot, access-order and timer nodes, the `Arc`), plus allocator slack; chosen so
/// the estimate matches the RSS a cold cache was measured to grow by per token.
const ENTRY_OVERHEAD: usize = 640;

/// An entry's estimated bytes, for the cache's capacity.
fn weight(digest: &TokenDigest, record: &Arc<AuthRecord>) -> u32 {
    let bytes =
        ENTRY_OVERHEAD + Rendered::ALLOWANCE + digest.as_str().len() + record.approx_bytes();
    u32::try_from(bytes).unwrap_or(u32::MAX)
}

/// The cache and its invalidation generation.
pub struct AuthCache {
    entries: Cache<TokenDigest, Arc<AuthRecord>, RandomState>,
    generation: AtomicU64,
}

impl AuthCache {
    /// A cache whose entries live at most `ttl` and that holds at most about `max_bytes`, by
    /// [`weight`]. A bound in bytes, not entries: a cold cache fills with every token verified
    /// within the TTL (about 1.3 KB each in RSS, `docs/operations.md#benchmark`), and an entry
    /// count says nothing about the memory an operator has to provide.
    pub fn new(ttl: Duration, max_bytes: u64) -> Self {
        let entries = Cache::builder()
            .max_capacity(max_bytes)
            .weigher(weight)
            .time_to_live(ttl)
            .support_invalidation_closures()
            // foldhash rather than the default SipHash (a third of a lookup): the keys are
            // SHA-256 digests, and only those of issued tokens are ever inserted, so a caller
            // cannot fill a bucket with collisions; the seed is random per process anyway.
            .build_with_hasher(RandomState::default());
        Self {
            entries,
            generation: AtomicU64::new(0),
        }
    }

    /// The current generation; read it before the database read whose row you will [`put`](Self::put).
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// The cached record for a digest.
    pub fn get(&self, digest: &TokenDigest) -> Option<Arc<AuthRecord>> {
        self.entries.get(digest)
    }

    /// Caches `row`, read from the database when the generation was `read_at`. If anything was
    /// invalidated since, the row may be stale, so it is dropped again: an invalidation either
    /// bumped the generation before this check, or registered its predicate after the insert
    /// (and so covers it).
    pub fn put(&self, digest: &TokenDigest, row: Arc<AuthRecord>, read_at: u64) {
        self.entries.insert(digest.clone(), row);
        if self.generation() != read_at {
            self.entries.invalidate(digest);
        }
    }

    /// Drops one digest (an expired or changed entry).
    pub fn forget(&self, digest: &TokenDigest) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.entries.invalidate(digest);
    }

    /// Drops every entry `target` covers, on this instance only.
    pub fn invalidate(&self, target: &Target) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        if *target == Target::All {
            self.entries.invalidate_all();
            return;
        }
        let target = target.clone();
        // Cannot fail: closures are enabled at construction.
        let _ = self
            .entries
            .invalidate_entries_if(move |_, record| target.matches(record));
    }
}

#[cfg(test)]
mod tests {
    use super::{AuthCache, Target};
    use crate::policy::ClientPolicy;
    use crate::principal::{AuthRecord, ClientInfo, SessionInfo, UserInfo};
    use crate::token::{TokenKind, generate};
    use std::sync::Arc;
    use std::time::Duration;

    fn row(session: &str, user: i32) -> Arc<AuthRecord> {
        Arc::new(AuthRecord {
            session: SessionInfo {
                id: session.into(),
                kind: TokenKind::Session,
                device_name: String::new(),
                user_agent: String::new(),
                ip: None,
                created: 0,
                last_used: 0,
                renewed: 0,
                expiry: None,
                authenticated_at: 0,
                token_hint: String::new(),
                name: None,
                scopes: None,
            },
            user: UserInfo {
                id: user,
                username: "u".into(),
                is_active: true,
                is_admin: false,
            },
            retired_until: None,
            rendered: Default::default(),
            client: ClientInfo {
                id: 1,
                name: "web".into(),
                policy: ClientPolicy::default(),
            },
            rate: None,
        })
    }

    #[test]
    fn a_row_read_before_an_invalidation_is_not_cached_after_it() {
        let cache = AuthCache::new(Duration::from_secs(60), 1 << 20);
        let digest = generate(TokenKind::Session).digest;
        let read_at = cache.generation();
        // A revocation lands between the database read and the insert.
        cache.invalidate(&Target::Session("s1".into()));
        cache.put(&digest, row("s1", 1), read_at);
        assert!(cache.get(&digest).is_none());
        // Without one, the row is cached; a later invalidation by user removes it.
        cache.put(&digest, row("s1", 1), cache.generation());
        assert!(cache.get(&digest).is_some());
        cache.invalidate(&Target::User(2));
        assert!(
            cache.get(&digest).is_some(),
            "another user's revocation leaves it"
        );
        cache.invalidate(&Target::User(1));
        assert!(cache.get(&digest).is_none());
    }

    #[test]
    fn the_cache_holds_at_most_its_bytes() {
        let one = u64::from(super::weight(
            &generate(TokenKind::Session).digest,
            &row("s-0000", 1),
        ));
        let cache = AuthCache::new(Duration::from_secs(60), 50 * one);
        for i in 0..1_000 {
            let digest = generate(TokenKind::Session).digest;
            cache.put(&digest, row(&format!("s-{i:04}"), 1), cache.generation());
        }
        cache.entries.run_pending_tasks();
        assert!(cache.entries.weighted_size() <= 50 * one);
        let held = cache.entries.entry_count();
        assert!((1..=50).contains(&held), "{held} entries held");
    }

    #[test]
    fn an_entry_weighs_its_strings() {
        let digest = generate(TokenKind::Session).digest;
        let small = row("s", 1);
        let mut big = (*small).clone();
        big.session.user_agent = "x".repeat(4_000);
        let (small, big) = (
            super::weight(&digest, &small),
            super::weight(&digest, &Arc::new(big)),
        );
        assert!(big >= small + 4_000, "{small} {big}");
    }

    #[test]
    fn targets_round_trip() {
        for t in [
            Target::Session("a-b".into()),
            Target::User(7),
            Target::Client(3),
            Target::All,
        ] {
            assert_eq!(Target::decode(&t.encode()), Some(t));
        }
        assert_eq!(Target::decode("x:1"), None);
        assert_eq!(Target::decode("u:x"), None);
    }
}
