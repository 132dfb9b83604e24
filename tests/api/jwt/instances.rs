//! Two instances on one database (SPEC §4.3; notes/jwt-contract.md "Signing keys"): each signs
//! with the current key it loaded, and a resource server may fetch the JWKS from either, so a
//! JWT minted on one verifies with the other's JWKS, before and after a rotation made on one of
//! them. Until the other instance reloads (at most 10 s later, by the injected clock) what
//! makes the wait harmless is checked: it already publishes the rotating instance's `next` key,
//! which becomes the new `current`, and every key it may still sign with stays published; then
//! the clock moves past the reload and it publishes and signs with the new keys.
//!
//! Runs on the suite's database (SQLite, or PostgreSQL in the matrix run), both instances over
//! one connection pool with one server secret, as instances sharing a database share it.

use super::*;
use server::budget::BudgetStore;
use server::clock::ManualClock;
use server::state::AppState;
use std::sync::Arc;

/// Two apps over one fresh database, one clock and one server secret, each started as
/// `tessera serve` starts (the default clients, the signing keys: A makes them, B finds them).
async fn two_instances() -> (TestApp, TestApp) {
    let db = Arc::new(tests::fresh_database().await);
    let clock = ManualClock::new();
    let secret = server::secret::ServerSecret::random();
    let instance = || {
        let state = AppState::with_parts(
            db.conn(),
            db.conn(),
            Settings::default(),
            Arc::new(clock.clone()),
            BudgetStore::Memory(Default::default()),
            secret.clone(),
        );
        TestApp::from_state(state, clock.clone(), Some(db.clone()))
    };
    let (a, b) = (instance(), instance());
    server::service::clients::seed_defaults(&a.state)
        .await
        .expect("seed clients");
    for app in [&a, &b] {
        server::service::keys::ensure(&app.state)
            .await
            .expect("the signing keys");
    }
    (a, b)
}

#[tokio::test]
async fn a_jwt_minted_on_one_instance_verifies_with_the_other_instances_jwks() {
    let (a, b) = two_instances().await;
    let admin = a.admin().await;
    let alice = a.user_with_login("alice", "web").await;
    let before = key_list(&a, &admin.token).await;
    let (current, next) = (kid_in(&before, "current"), kid_in(&before, "next"));
    let on_b = key_list(&b, &admin.token).await;
    assert_eq!(by_kid(&on_b), by_kid(&before), "one set of keys");
    let (jwks_a, jwks_b) = (jwks(&a).await, jwks(&b).await);
    assert_eq!(
        kids(&jwks_b),
        sorted(&[&current, &next]),
        "B publishes A's next"
    );
    assert_eq!(by_kid(&jwks_a), by_kid(&jwks_b), "the same keys");

    let minted_on_a = verify_jwt(&a, &alice.token).await;
    let minted_on_b = access_token(&b, &alice.token).await.0;
    for (raw, published, what) in [
        (&minted_on_a, &jwks_b, "A's JWT with B's JWKS"),
        (&minted_on_b, &jwks_a, "B's JWT with A's JWKS"),
    ] {
        let jwt = check(raw, published, PUBLIC_URL, PUBLIC_URL);
        assert_eq!(jwt.kid(), current, "{what}");
    }

    a.clock.advance_secs(5.0);
    let after = rotate(&a, &admin.token).await;
    assert_eq!(kid_in(&after, "current"), next);
    let rotated_on_a = access_token(&a, &alice.token).await.0;
    let jwks_b = jwks(&b).await;
    assert!(
        kids(&jwks_b).contains(&next),
        "B publishes A's new current key at once: {jwks_b:?}"
    );
    assert!(kids(&jwks_b).contains(&current), "and the one it retired");
    let jwt = check(&rotated_on_a, &jwks_b, PUBLIC_URL, PUBLIC_URL);
    assert_eq!(jwt.kid(), next, "A signs with its new current key at once");
    check(&minted_on_a, &jwks_b, PUBLIC_URL, PUBLIC_URL);

    // Whichever key B signs with until it reloads, A's JWKS publishes it.
    let jwks_a = jwks(&a).await;
    assert_eq!(kids(&jwks_a), kids(&after));
    let before_reload = verify_jwt(&b, &alice.token).await;
    for raw in [
        access_token(&b, &alice.token).await.0,
        before_reload.clone(),
        minted_on_b,
    ] {
        let jwt = check(&raw, &jwks_a, PUBLIC_URL, PUBLIC_URL);
        assert!(
            jwt.kid() == current || jwt.kid() == next,
            "{:?}",
            jwt.header
        );
    }

    // Past the reload delay, B publishes A's new key set and signs with the new current key.
    a.clock.advance_secs(11.0);
    let jwks_b = jwks(&b).await;
    assert_eq!(kids(&jwks_b), kids(&after), "B reloaded: {jwks_b:?}");
    let jwt = check(
        &access_token(&b, &alice.token).await.0,
        &jwks_b,
        PUBLIC_URL,
        PUBLIC_URL,
    );
    assert_eq!(jwt.kid(), next, "B signs with the new current key");
    let again = verify_jwt(&b, &alice.token).await;
    let jwt = check(&again, &jwks(&a).await, PUBLIC_URL, PUBLIC_URL);
    assert_eq!(
        jwt.kid(),
        next,
        "B's verify no longer hands out the old key's JWT"
    );
}
