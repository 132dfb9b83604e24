//! The v1 → v2 migration (`m20261204_000004_api_keys`, the 6th): a database at the 5th
//! migration, holding v1 keys (at most one per user) and a session written as v1 wrote them, is
//! migrated; each key becomes the unrestricted key named `default` with its token unchanged,
//! sessions get no name, and the one-key-per-user index gives way to one name per user.

use super::*;
use ::migration::{Migrator, MigratorTrait};
use sea_orm::ConnectionTrait;
use server::token::{self, TokenKind};

/// Migrations before API keys v2: create_tables, server_settings, browser_sessions, events,
/// rotation.
const V1_MIGRATIONS: u32 = 5;

async fn exec(db: &tests::TestDb, sql: &str) {
    db.execute_unprepared(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// Inserts a client as the 5th migration's schema has it.
async fn insert_client(db: &tests::TestDb, name: &str, token_ttl: &str, now: i64) {
    let sql = format!(
        "INSERT INTO clients (name, description, token_ttl, max_lifetime, throttle_rate, \
         max_sessions, auto_renew, created, transport, idle_timeout, rotate_on_refresh) \
         VALUES ('{name}', '', {token_ttl}, NULL, NULL, NULL, FALSE, {now}, 'bearer', NULL, FALSE)"
    );
    exec(db, &sql).await;
}

/// Inserts a user with `phc` as their password hash.
async fn insert_user(db: &tests::TestDb, username: &str, phc: &str, now: i64) {
    let sql = format!(
        "INSERT INTO users (username, password_hash, is_active, is_admin, created) \
         VALUES ('{username}', '{phc}', TRUE, FALSE, {now})"
    );
    exec(db, &sql).await;
}

/// A row of `sessions` written before the migration.
struct Row {
    id: String,
    token: String,
}

/// Mints a token of `kind` and stores it as a row of `sessions` for `username` on `client`,
/// as v1 did (no name, no scopes).
async fn insert_token(
    db: &tests::TestDb,
    kind: TokenKind,
    username: &str,
    client: &str,
    now: i64,
) -> Row {
    let minted = token::generate(kind);
    let secret = token::reveal(&minted);
    let digest = minted.digest.as_str();
    assert_eq!(digest.len(), 64);
    assert!(
        digest
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    );
    let id = uuid::Uuid::new_v4().to_string();
    let (kind, device) = match kind {
        TokenKind::ApiKey => ("api_key", "API key"),
        TokenKind::Session => ("session", "Unknown device"),
    };
    let sql = format!(
        "INSERT INTO sessions (id, kind, user_id, client_id, device_name, user_agent, ip, \
         created, last_used, renewed, token_digest, token_hint, authenticated_at) \
         SELECT '{id}', '{kind}', u.id, c.id, '{device}', 'curl/8.5.0', '127.0.0.1', \
         {now}, {now}, {now}, '{digest}', '{hint}', {now} \
         FROM users u, clients c WHERE u.username = '{username}' AND c.name = '{client}'",
        hint = &secret[..8],
    );
    exec(db, &sql).await;
    Row { id, token: secret }
}

/// A migrated v1 database and what it held.
struct V1 {
    app: TestApp,
    alice_key: Row,
    bob_key: Row,
    alice_session: Row,
    /// When the rows were written (microseconds).
    written: i64,
}

/// A database at the 5th migration with alice and bob, each holding a v1 key, and a v1 session
/// of alice's on `web`; then every migration is run, and an app started on it.
async fn migrated_v1() -> V1 {
    let db = tests::empty_database().await;
    Migrator::up(&db.conn(), Some(V1_MIGRATIONS))
        .await
        .expect("the v1 migrations");
    let now = chrono::Utc::now().timestamp_micros();
    insert_client(&db, "api", "NULL", now).await;
    insert_client(&db, "web", "86400", now).await;
    let phc = server::password::hash(tests::PASSWORD.to_string().into())
        .await
        .expect("a hash");
    insert_user(&db, "alice", &phc, now).await;
    insert_user(&db, "bob", &server::password::unusable(), now).await;
    let alice_key = insert_token(&db, TokenKind::ApiKey, "alice", "api", now).await;
    let bob_key = insert_token(&db, TokenKind::ApiKey, "bob", "api", now).await;
    let alice_session = insert_token(&db, TokenKind::Session, "alice", "web", now).await;
    // v1 allowed one key per user: a second is refused by its index.
    let second = format!(
        "INSERT INTO sessions (id, kind, user_id, client_id, device_name, user_agent, \
         created, last_used, renewed, token_digest, token_hint, authenticated_at) \
         SELECT '{}', 'api_key', u.id, c.id, 'API key', '', 0, 0, 0, '{}', 'tsk_xxxx', 0 \
         FROM users u, clients c WHERE u.username = 'alice' AND c.name = 'api'",
        uuid::Uuid::new_v4(),
        "0".repeat(64),
    );
    assert!(
        db.execute_unprepared(&second).await.is_err(),
        "v1 has one key per user"
    );

    server::db::migrate(&db.conn())
        .await
        .expect("the v2 migrations");
    let app = TestApp::on_database(db, Settings::default()).await;
    V1 {
        app,
        alice_key,
        bob_key,
        alice_session,
        written: now,
    }
}

#[tokio::test]
async fn a_v1_key_becomes_the_unrestricted_key_named_default_with_its_token() {
    let V1 {
        app,
        alice_key: Row {
            id: key_id,
            token: key,
        },
        written,
        ..
    } = migrated_v1().await;
    let me = assert_works(&app, &key, "the v1 token after the migration").await;
    assert_eq!(me["user"]["username"], "alice");
    let session = &me["session"];
    assert_eq!(session["id"], key_id.as_str());
    assert_eq!(session["kind"], "api_key");
    assert_eq!(session["client"], "api");
    assert_eq!(session["name"], "default");
    assert_eq!(session["scopes"], Value::Null);
    let res = app.send(by_api_key(Method::GET, ME, &key)).await;
    assert_eq!(
        res.status,
        StatusCode::OK,
        "through X-Api-Key: {:?}",
        res.json
    );

    let keys = list(&app, &key).await;
    assert_eq!(keys.len(), 1, "{keys:?}");
    let listed = &keys[0];
    assert_eq!(field_names(listed), KEY_FIELDS);
    assert_eq!(listed["id"], key_id.as_str());
    assert_eq!(listed["name"], "default");
    assert_eq!(listed["scopes"], Value::Null);
    assert_eq!(listed["client"], "api");
    assert_eq!(listed["expiry"], Value::Null);
    assert_eq!(listed["token_hint"], &key[..8]);
    assert_eq!(micros(&listed["created"]), written);

    let v1 = app.get(APIACCESS, &key).await;
    assert_eq!(v1.status, StatusCode::OK, "{:?}", v1.json);
    assert_eq!(&v1.json, listed, "the v1 endpoint shows the same key");
    let res = app.send(by_api_key(Method::GET, VERIFY, &key)).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    assert!(res.headers.get("x-auth-scopes").is_none(), "unrestricted");
}

#[tokio::test]
async fn migrated_sessions_stay_sessions_and_keys_stay_apart() {
    let V1 {
        app,
        alice_key,
        bob_key,
        alice_session,
        ..
    } = migrated_v1().await;
    let (session_id, session) = (alice_session.id, alice_session.token);
    let (alice_key_id, alice_key) = (alice_key.id, alice_key.token);
    let (bob_key_id, bob_key) = (bob_key.id, bob_key.token);
    let me = assert_works(&app, &session, "the v1 session").await;
    assert_eq!(me["session"]["id"], session_id.as_str());
    assert_eq!(me["session"]["kind"], "session");
    assert_eq!(me["session"]["name"], Value::Null);
    assert_eq!(me["session"]["scopes"], Value::Null);
    let keys = list(&app, &session).await;
    assert_eq!(column(&keys, "id"), [&*alice_key_id]);

    // Both users' keys are named default; each user sees their own.
    let keys = list(&app, &bob_key).await;
    assert_eq!(column(&keys, "id"), [&*bob_key_id]);
    assert_eq!(column(&keys, "name"), ["default"]);
    let res = app.delete(&key_path(&alice_key_id), &bob_key).await;
    assert_error(&res, StatusCode::NOT_FOUND, "not_found");
    assert_works(&app, &alice_key, "alice's key").await;
}

#[tokio::test]
async fn after_the_migration_a_user_may_hold_more_keys_with_distinct_names() {
    let V1 { app, alice_key, .. } = migrated_v1().await;
    let (key_id, key) = (alice_key.id, alice_key.token);
    let alice = app.login("alice", "web").await;
    let res = create(&app, &alice.token, json!({"name": "default"})).await;
    assert_error(&res, StatusCode::CONFLICT, "conflict");
    let res = app
        .call(Method::POST, APIACCESS, Some(&alice.token), None)
        .await;
    assert_error(&res, StatusCode::CONFLICT, "conflict");
    app.clock.advance_secs(1.0);
    let ci = scoped(&app, &alice.token, "ci", &["deploy"]).await;
    assert_eq!(
        column(&list(&app, &alice.token).await, "id"),
        [&*ci.id, &*key_id]
    );
    assert_works(&app, &ci.token, "the new key").await;
    assert_works(&app, &key, "the migrated key").await;

    // The migrated key rolls and deletes like any other.
    let res = roll(&app, &alice.token, &key_id, None).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    assert_eq!(res.json["name"], "default");
    assert_dead(&app, &key, "the v1 token after a roll").await;
    let res = app.delete(APIACCESS, &alice.token).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{:?}", res.json);
    assert_eq!(column(&list(&app, &alice.token).await, "id"), [&*ci.id]);
}
