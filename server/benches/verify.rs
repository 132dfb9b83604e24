//! Micro-benchmarks of the authentication hot path: `cargo bench -p server`.
//!
//! - `token/parse_and_hash`: shape and checksum check plus SHA-256 of a presented token;
//! - `verify/cached`: `service::sessions::verify` answered by the verification cache;
//! - `verify/database`: the same with the cache emptied first (one indexed read on an SQLite
//!   file, through the direct readers, as `tessera serve` runs it);
//! - `verify/store_read_direct`: that read alone (`store::auth_direct`: the SeaORM query's SQL,
//!   prepared once, run by rusqlite on the calling thread);
//! - `verify/store_read_sqlx`: the same read through the sqlx reader pool
//!   (`store::auth::authenticate`: built by SeaORM, run by sqlx, decoded);
//! - `verify/round_trip_floor`: `SELECT 1` through that pool, the floor any sqlx read pays.

use criterion::{Criterion, criterion_group, criterion_main};
use server::Settings;
use server::cache::Target;
use server::service::sessions::{Mode, verify};
use server::state::AppState;
use server::token::{self, TokenKind};
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("a runtime");
    let minted = token::generate(TokenKind::Session);
    let presented = token::reveal(&minted);
    c.bench_function("token/parse_and_hash", |b| {
        b.iter(|| token::parse(black_box(&presented)))
    });

    let dir = std::env::temp_dir().join(format!("tessera-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let url = format!("sqlite://{}/bench.db?mode=rwc", dir.display());
    let state = rt.block_on(async {
        let db = server::db::connect(&url).await.expect("SQLite file");
        server::db::migrate(&db).await.expect("migrate");
        let reader = server::db::connect_reader(&url, &db)
            .await
            .expect("readers");
        assert!(reader.is_direct(), "an SQLite file is read directly");
        let state = AppState::with_parts(
            db,
            reader,
            Settings::default(),
            std::sync::Arc::new(server::clock::SystemClock),
            server::budget::BudgetStore::Memory(Default::default()),
            server::secret::ServerSecret::random(),
        );
        server::service::clients::seed_defaults(&state)
            .await
            .expect("seed");
        let user = server::store::users::create(&state.db, "bench", "x".into(), false, state.now())
            .await
            .expect("user");
        let client = server::store::clients::find_by_name(&state.db, "web")
            .await
            .expect("query")
            .expect("web");
        let new = server::store::sessions::NewSession {
            kind: TokenKind::Session,
            user_id: user.id,
            client_id: client.id,
            device_name: "bench".into(),
            user_agent: String::new(),
            ip: None,
            expiry: None,
            digest: minted.digest.clone(),
            hint: minted.hint.clone(),
            name: None,
            scopes: None,
        };
        server::store::sessions::insert(&state.db, new, state.now())
            .await
            .expect("session");
        state
    });
    let mut group = c.benchmark_group("verify");
    group.bench_function("cached", |b| {
        b.to_async(&rt).iter(|| async {
            verify(&state, black_box(&presented), Mode::Authenticate)
                .await
                .expect("valid")
        })
    });
    group.bench_function("database", |b| {
        b.to_async(&rt).iter(|| async {
            state.cache.invalidate(&Target::All);
            verify(&state, black_box(&presented), Mode::Authenticate)
                .await
                .expect("valid")
        })
    });
    let digest = token::parse(&presented).expect("well-formed").1;
    group.bench_function("store_read_direct", |b| {
        b.to_async(&rt).iter(|| async {
            state
                .reader
                .authenticate(black_box(&digest))
                .await
                .expect("read")
                .expect("found")
        })
    });
    group.bench_function("store_read_sqlx", |b| {
        b.to_async(&rt).iter(|| async {
            server::store::auth::authenticate(state.reader.pool(), black_box(&digest))
                .await
                .expect("read")
                .expect("found")
        })
    });
    group.bench_function("round_trip_floor", |b| {
        use sea_orm::ConnectionTrait;
        b.to_async(&rt).iter(|| async {
            let pool = state.reader.pool();
            let backend = pool.get_database_backend();
            pool.query_one_raw(sea_orm::Statement::from_string(backend, "SELECT 1"))
                .await
                .expect("select")
        })
    });
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench);
criterion_main!(benches);
