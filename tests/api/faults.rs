//! Faults (docs/operations.md, "When things fail"): Redis killed, paused, unreachable at start
//! and back again; slow and stalled clients; shutdown with a request half sent; a database that
//! drops connections or stays locked. Nothing hangs and nothing answers 500.

use axum::http::StatusCode;
use sea_orm::{ConnectionTrait, TransactionTrait};
use serde_json::json;
use server::budget::BudgetStore;
use server::redis_budget::RedisBudgets;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tests::TestApp;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The longest a request may take while Redis misbehaves: the 50 ms deadline plus the
/// request's own work on a loaded test machine.
const PROMPT: Duration = Duration::from_millis(750);

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A `redis-server` of the test's own (never the shared one on 6379).
struct Redis {
    port: u16,
    child: Child,
}

impl Redis {
    fn start(port: u16) -> Self {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is installed (CI has it; see .ci/run)");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "redis-server did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Self { port, child }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill {sig}");
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.signal("-CONT");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn metric(app: &TestApp, name: &str) -> f64 {
    let res = app
        .send(
            axum::http::Request::get("/metrics")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    let text = String::from_utf8_lossy(&res.body).to_string();
    text.lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
        .and_then(|l| l.split_whitespace().last())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in {text}"))
}

/// A /me on a rate-limited client, which must answer within [`PROMPT`].
async fn prompt_me(app: &TestApp, token: &str) -> StatusCode {
    let started = Instant::now();
    let status = app.get("/api/auth/me", token).await.status;
    assert!(
        started.elapsed() < PROMPT,
        "a request waited {:?} for Redis",
        started.elapsed()
    );
    status
}

async fn app_on(redis_url: &str, prefix: &str) -> TestApp {
    let budgets = RedisBudgets::start(redis_url, prefix, Duration::from_millis(50)).unwrap();
    TestApp::with_store(Default::default(), BudgetStore::Redis(budgets)).await
}

#[tokio::test]
#[ignore = "needs redis-server on the PATH; CI runs it with --include-ignored"]
async fn redis_killed_paused_and_back_never_holds_a_request_up() {
    let redis = Redis::start(free_port());
    let prefix = format!("t{}:", uuid::Uuid::new_v4().simple());
    let app = app_on(&redis.url(), &prefix).await;
    let BudgetStore::Redis(budgets) = store_of(&app) else {
        unreachable!()
    };
    assert!(budgets.wait_connected(Duration::from_secs(5)).await);
    let admin = app.admin().await;
    app.patch_client(&admin.token, "cli", json!({"throttle_rate": "1000/m"}))
        .await;
    let alice = app.user_with_login("alice", "cli").await;
    assert_eq!(prompt_me(&app, &alice.token).await, StatusCode::OK);
    assert_eq!(metric(&app, "tessera_budget_backend_up").await, 1.0);

    // Paused: the TCP connection stays open and nothing answers.
    redis.signal("-STOP");
    for _ in 0..5 {
        assert_eq!(prompt_me(&app, &alice.token).await, StatusCode::OK);
    }
    assert_eq!(metric(&app, "tessera_budget_backend_up").await, 0.0);
    redis.signal("-CONT");

    // Killed: every request is let through at once, logins too.
    let port = redis.port;
    drop(redis);
    for _ in 0..5 {
        assert_eq!(prompt_me(&app, &alice.token).await, StatusCode::OK);
    }
    let started = Instant::now();
    app.login("alice", "cli").await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "login waited for Redis"
    );
    assert_eq!(metric(&app, "tessera_budget_backend_up").await, 0.0);
    assert!(metric(&app, "tessera_budget_backend_errors_total").await >= 5.0);

    // Back again: shared budgets resume within 5 s.
    let _redis = Redis::start(port);
    let back = Instant::now();
    while metric(&app, "tessera_budget_backend_up").await < 1.0 {
        assert!(
            back.elapsed() < Duration::from_secs(6),
            "budgets did not resume"
        );
        prompt_me(&app, &alice.token).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!(
        "shared budgets resumed {:?} after Redis came back",
        back.elapsed()
    );
}

fn store_of(app: &TestApp) -> &BudgetStore {
    app.state.budgets.store()
}

#[tokio::test]
#[ignore = "needs redis-server on the PATH; CI runs it with --include-ignored"]
async fn an_instance_started_while_redis_is_unreachable_serves_at_once() {
    let nothing = format!("redis://127.0.0.1:{}", free_port());
    let started = Instant::now();
    let app = app_on(&nothing, "x:").await;
    let alice = app.user_with_login("alice", "web").await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "start-up waited for Redis"
    );
    assert_eq!(prompt_me(&app, &alice.token).await, StatusCode::OK);
    assert_eq!(metric(&app, "tessera_budget_backend_up").await, 0.0);
    assert!(metric(&app, "tessera_budget_backend_errors_total").await >= 1.0);
}

#[tokio::test]
#[ignore = "needs redis-server on the PATH; CI runs it with --include-ignored"]
async fn two_deployments_on_one_redis_keep_their_budgets_apart() {
    let redis = Redis::start(free_port());
    let mut apps = Vec::new();
    for deployment in ["one:", "two:"] {
        let app = app_on(&redis.url(), deployment).await;
        let BudgetStore::Redis(budgets) = store_of(&app) else {
            unreachable!()
        };
        assert!(budgets.wait_connected(Duration::from_secs(5)).await);
        let admin = app.admin().await;
        app.patch_client(&admin.token, "cli", json!({"throttle_rate": "1/h"}))
            .await;
        apps.push(app);
    }
    // User ids and client ids are the same in both databases; the budgets are not shared.
    let first = apps[0].user_with_login("alice", "cli").await;
    assert_eq!(
        apps[0].get("/api/auth/me", &first.token).await.status,
        StatusCode::OK
    );
    let second = apps[1].user_with_login("alice", "cli").await;
    assert_eq!(second.user_id, first.user_id);
    assert_eq!(
        apps[1].get("/api/auth/me", &second.token).await.status,
        StatusCode::OK
    );
    assert_eq!(
        apps[0].get("/api/auth/me", &first.token).await.code(),
        "throttled"
    );
}

/// Reads until the server closes the connection, at most `within`; what it sent.
async fn read_until_closed(conn: &mut tokio::net::TcpStream, within: Duration) -> Option<String> {
    let mut got = Vec::new();
    let read = tokio::time::timeout(within, conn.read_to_end(&mut got)).await;
    read.ok().map(|_| String::from_utf8_lossy(&got).to_string())
}

#[tokio::test]
async fn stalled_heads_and_bodies_are_cut_off() {
    let live = crate::live::start("slow").await;
    let address = live.base.trim_start_matches("http://").to_string();
    // A head that never ends is dropped after 10 s.
    let mut head = tokio::net::TcpStream::connect(&address).await.unwrap();
    head.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .unwrap();
    // A body that stops is answered 408 after 30 s.
    let mut body = tokio::net::TcpStream::connect(&address).await.unwrap();
    body.write_all(
        b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"user",
    )
    .await
    .unwrap();
    let started = Instant::now();
    // Meanwhile other clients are served promptly.
    let http = reqwest::Client::new();
    let ok = http
        .get(format!("{}/healthz", live.base))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let answer = read_until_closed(&mut head, Duration::from_secs(15)).await;
    assert!(answer.is_some(), "a stalled head was still open after 15 s");
    assert!(
        started.elapsed() >= Duration::from_secs(9),
        "closed too early"
    );
    let answer = read_until_closed(&mut body, Duration::from_secs(35)).await;
    let answer = answer.expect("a stalled body was still open after 35 s");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("request_timeout"), "{answer}");
}

#[tokio::test]
async fn shutdown_closes_a_half_sent_request_after_its_deadline_and_flushes() {
    let clock = server::clock::ManualClock::new();
    let mut live = crate::live::start_on(
        "half",
        &["--shutdown-timeout", "2"],
        std::sync::Arc::new(clock.clone()),
    )
    .await;
    let http = reqwest::Client::new();
    let login: serde_json::Value = http
        .post(format!("{}/api/auth/login", live.base))
        .json(&json!({"username": "half", "password": tests::PASSWORD, "client": "web"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    clock.advance_secs(61.0);
    let me = http
        .get(format!("{}/api/auth/me", live.base))
        .bearer_auth(login["token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    let used_at = live.state.now();
    // A request whose body never comes keeps its connection busy.
    let address = live.base.trim_start_matches("http://").to_string();
    let mut half = tokio::net::TcpStream::connect(&address).await.unwrap();
    half.write_all(b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n{")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    live.stop().await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "shutdown took {:?}",
        started.elapsed()
    );
    let session = login["session"]["id"].as_str().unwrap();
    assert_eq!(
        live.stored_last_used(session).await,
        used_at,
        "the queued use was written"
    );
}

/// Every answer during an outage is a success or a 503 with `Retry-After`, never a 500.
fn assert_ok_or_unavailable(res: &tests::TestResponse) {
    assert!(
        res.status.is_success() || res.status == StatusCode::SERVICE_UNAVAILABLE,
        "{} {:?}",
        res.status,
        res.json
    );
    if res.status == StatusCode::SERVICE_UNAVAILABLE {
        assert_eq!(res.code(), "unavailable");
        assert!(!res.header("retry-after").is_empty());
    }
}

#[tokio::test]
async fn a_sqlite_lock_held_elsewhere_is_a_503_not_a_500() {
    let dir = crate::live::TempDir::new("locked");
    let url = format!("sqlite://{}/t.db?mode=rwc", dir.path().display());
    let db = server::db::connect(&url).await.unwrap();
    server::db::migrate(&db).await.unwrap();
    let clock = server::clock::ManualClock::new();
    let state =
        server::state::AppState::new(db, Default::default(), std::sync::Arc::new(clock.clone()));
    server::service::clients::seed_defaults(&state)
        .await
        .unwrap();
    let app = TestApp::from_state(state, clock, None);
    let alice = app.user_with_login("alice", "web").await;
    let phone = app.login("alice", "web").await;
    // Another process holds the write lock longer than the busy timeout (5 s).
    let other = sea_orm::Database::connect(url.as_str()).await.unwrap();
    let txn = other.begin().await.unwrap();
    txn.execute_unprepared("UPDATE clients SET description = description")
        .await
        .unwrap();
    let res = app
        .post("/api/auth/logout", Some(&phone.token), json!({}))
        .await;
    assert_ok_or_unavailable(&res);
    assert_eq!(
        res.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{:?}",
        res.json
    );
    // Reads go on beside the lock.
    assert_eq!(
        app.get("/api/auth/me", &alice.token).await.status,
        StatusCode::OK
    );
    txn.rollback().await.unwrap();
    let res = app
        .post("/api/auth/logout", Some(&phone.token), json!({}))
        .await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "recovered by itself");
}

#[tokio::test]
async fn postgres_connections_killed_in_a_loop_give_503s_never_500s() {
    let Some(url) = tests::postgres_url() else {
        // The SQLite variant of a lost database is the lock test above.
        return;
    };
    let db = tests::fresh_database().await;
    let name = format!("tessera_fault_{}", uuid::Uuid::new_v4().simple());
    let separator = if url.contains('?') { '&' } else { '?' };
    let mut opts = sea_orm::ConnectOptions::new(format!("{url}{separator}application_name={name}"));
    opts.set_schema_search_path(db.schema().unwrap().to_string())
        .max_connections(4)
        .sqlx_logging(false);
    let pool = sea_orm::Database::connect(opts).await.unwrap();
    let clock = server::clock::ManualClock::new();
    let state =
        server::state::AppState::new(pool, Default::default(), std::sync::Arc::new(clock.clone()));
    server::service::clients::seed_defaults(&state)
        .await
        .unwrap();
    let app = TestApp::from_state(state, clock.clone(), None);
    let alice = app.user_with_login("alice", "web").await;
    let killer = sea_orm::Database::connect(url.as_str()).await.unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let kill_loop = {
        let stop = stop.clone();
        let name = name.clone();
        tokio::spawn(async move {
            let mut killed = 0i64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let stmt = sea_orm::Statement::from_sql_and_values(
                    sea_orm::DbBackend::Postgres,
                    "SELECT count(*) AS n FROM (SELECT pg_terminate_backend(pid) AS t \
                     FROM pg_stat_activity WHERE application_name = $1) x WHERE t",
                    [name.clone().into()],
                );
                if let Ok(Some(row)) = killer.query_one_raw(stmt).await {
                    killed += row.try_get::<i64>("", "n").unwrap_or(0);
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            killed
        })
    };
    let mut answers = (0, 0);
    for i in 0..60 {
        // Cache misses too: every few requests the cache is emptied.
        if i % 3 == 0 {
            app.state.cache.invalidate(&server::cache::Target::All);
        }
        let res = app.get("/api/auth/sessions", &alice.token).await;
        assert_ok_or_unavailable(&res);
        let res = app.get("/api/auth/me", &alice.token).await;
        assert_ok_or_unavailable(&res);
        if res.status.is_success() {
            answers.0 += 1
        } else {
            answers.1 += 1
        }
        clock.advance_secs(61.0);
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let killed = kill_loop.await.unwrap();
    eprintln!(
        "{killed} connections killed (a kill every 20 ms): {} answered, {} unavailable",
        answers.0, answers.1
    );
    assert!(
        killed > 0,
        "the loop killed no connection of the test's pool"
    );
    let res = app.get("/api/auth/me", &alice.token).await;
    assert_eq!(res.status, StatusCode::OK, "recovered by itself");
}
