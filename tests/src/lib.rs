//! Test harness: an in-process Tessera on a fresh database per test.
//!
//! Every [`TestApp`] gets its own database: an in-memory SQLite by default, or a fresh schema in
//! the PostgreSQL named by `TESSERA_TEST_POSTGRES_URL`. Time is a [`ManualClock`], so expiry
//! and throttling are tested by moving it, never by sleeping.

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection};
use serde_json::{Value, json};
use server::Settings;
use server::clock::ManualClock;
use server::state::AppState;
use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::Arc;
use tower::ServiceExt;

/// The environment variable that switches the suite to PostgreSQL.
pub const POSTGRES_ENV: &str = "TESSERA_TEST_POSTGRES_URL";

/// A password every test user has.
pub const PASSWORD: &str = "correct horse battery";

/// The PostgreSQL URL of the matrix run, when set.
pub fn postgres_url() -> Option<String> {
    std::env::var(POSTGRES_ENV).ok().filter(|u| !u.is_empty())
}

/// A fresh, migrated, empty database (no clients seeded). On PostgreSQL it is a schema of its
/// own, dropped again when this value is dropped.
pub struct TestDb {
    conn: DatabaseConnection,
    /// (server URL, schema) to drop.
    schema: Option<(String, String)>,
}

impl Deref for TestDb {
    type Target = DatabaseConnection;

    fn deref(&self) -> &DatabaseConnection {
        &self.conn
    }
}

impl TestDb {
    /// The connection.
    pub fn conn(&self) -> DatabaseConnection {
        self.conn.clone()
    }

    /// The schema name on PostgreSQL.
    pub fn schema(&self) -> Option<&str> {
        self.schema.as_ref().map(|(_, s)| s.as_str())
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((url, schema)) = self.schema.take() else {
            return;
        };
        // Drop runs inside the test's runtime, which cannot be blocked on: a thread with its
        // own small runtime does the cleanup.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            rt.block_on(async {
                if let Ok(admin) = Database::connect(&url).await {
                    let _ = admin
                        .execute_unprepared(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                        .await;
                    let _ = admin.close().await;
                }
            });
        })
        .join();
    }
}

/// A fresh, migrated, empty database (no clients seeded).
pub async fn fresh_database() -> TestDb {
    let db = empty_database().await;
    server::db::migrate(&db.conn).await.expect("migrate");
    db
}

/// A fresh database with no tables at all, not even the migrations' own: for tests that run
/// some migrations, write rows of that schema, then migrate the rest (see
/// [`TestApp::on_database`]). Dropped like [`fresh_database`].
pub async fn empty_database() -> TestDb {
    let (conn, schema) = match postgres_url() {
        Some(url) => {
            let admin = Database::connect(&url)
                .await
                .expect("connect to PostgreSQL");
            let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
            admin
                .execute_unprepared(&format!("CREATE SCHEMA {schema}"))
                .await
                .expect("create schema");
            let _ = admin.close().await;
            let mut opts = ConnectOptions::new(url.clone());
            opts.set_schema_search_path(schema.clone())
                .max_connections(8)
                .sqlx_logging(false);
            let conn = Database::connect(opts)
                .await
                .expect("connect to the test schema");
            (conn, Some((url, schema)))
        }
        None => (
            server::db::connect("sqlite::memory:")
                .await
                .expect("open in-memory SQLite"),
            None,
        ),
    };
    TestDb { conn, schema }
}

/// An SQLite database file in a directory of its own, removed when dropped.
pub struct SqliteFile {
    dir: std::path::PathBuf,
    /// The file.
    pub path: std::path::PathBuf,
    /// Its `sqlite://…?mode=rwc` URL.
    pub url: String,
}

impl SqliteFile {
    /// A new, not yet created file.
    pub fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("tessera-test-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        let path = dir.join("tessera.db");
        let url = format!("sqlite://{}?mode=rwc", path.display());
        Self { dir, path, url }
    }
}

impl Default for SqliteFile {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for SqliteFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A response, with its body parsed as JSON when it is JSON.
#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    pub json: Value,
}

impl TestResponse {
    /// A header as a string ("" when absent).
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The error `code` of an error body.
    pub fn code(&self) -> &str {
        self.json["code"].as_str().unwrap_or("")
    }
}

/// One Tessera with its own database and clock.
pub struct TestApp {
    pub state: AppState,
    pub clock: ManualClock,
    pub router: Router,
    pub peer: SocketAddr,
    /// Keeps the database (a PostgreSQL schema) until the app is dropped.
    _db: Option<Arc<TestDb>>,
}

/// A logged-in user.
#[derive(Debug, Clone)]
pub struct Login {
    pub token: String,
    pub session_id: String,
    pub user_id: i64,
}

impl TestApp {
    /// A fresh app with default settings and the default clients.
    pub async fn new() -> Self {
        Self::with_settings(Settings::default()).await
    }

    /// A fresh app with these settings and the default clients.
    pub async fn with_settings(settings: Settings) -> Self {
        Self::with_settings_and_peer(settings, "127.0.0.1:40000".parse().unwrap()).await
    }

    /// A fresh app whose requests come from `peer`.
    pub async fn with_settings_and_peer(settings: Settings, peer: SocketAddr) -> Self {
        let store = server::budget::BudgetStore::Memory(Default::default());
        Self::build(settings, peer, store).await
    }

    /// A fresh app whose budgets live in `store` (e.g. a Redis the test started).
    pub async fn with_store(settings: Settings, store: server::budget::BudgetStore) -> Self {
        Self::build(settings, "127.0.0.1:40000".parse().unwrap(), store).await
    }

    /// An app on `db`, a database the test prepared (and migrated) itself, with these
    /// settings; the default clients are seeded only when it has no client, as at start-up.
    pub async fn on_database(db: TestDb, settings: Settings) -> Self {
        let store = server::budget::BudgetStore::Memory(Default::default());
        Self::assemble(db, settings, "127.0.0.1:40000".parse().unwrap(), store).await
    }

    async fn build(
        settings: Settings,
        peer: SocketAddr,
        store: server::budget::BudgetStore,
    ) -> Self {
        Self::assemble(fresh_database().await, settings, peer, store).await
    }

    async fn assemble(
        db: TestDb,
        settings: Settings,
        peer: SocketAddr,
        store: server::budget::BudgetStore,
    ) -> Self {
        let clock = ManualClock::new();
        let state = AppState::with_parts(
            db.conn(),
            db.conn(),
            settings,
            Arc::new(clock.clone()),
            store,
            server::secret::ServerSecret::random(),
        );
        server::service::clients::seed_defaults(&state)
            .await
            .expect("seed clients");
        // As `tessera serve` starts: a current and a next signing key.
        server::service::keys::ensure(&state)
            .await
            .expect("create the signing keys");
        let router = server::app(state.clone());
        Self {
            state,
            clock,
            router,
            peer,
            _db: Some(Arc::new(db)),
        }
    }

    /// An app on a fresh SQLite *file*, read as `tessera serve` reads one: a single writer,
    /// read-only readers, and the direct readers for the authentication read. The file lives as
    /// long as the returned [`SqliteFile`].
    pub async fn on_sqlite_file(settings: Settings) -> (Self, SqliteFile) {
        let file = SqliteFile::new();
        let db = server::db::connect(&file.url).await.expect("open the file");
        server::db::migrate(&db).await.expect("migrate");
        let reader = server::db::connect_reader(&file.url, &db)
            .await
            .expect("open the readers");
        assert!(reader.is_direct(), "an SQLite file gets the direct readers");
        let clock = ManualClock::new();
        let state = AppState::with_parts(
            db,
            reader,
            settings,
            Arc::new(clock.clone()),
            server::budget::BudgetStore::Memory(Default::default()),
            server::secret::ServerSecret::random(),
        );
        server::service::clients::seed_defaults(&state)
            .await
            .expect("seed clients");
        server::service::keys::ensure(&state)
            .await
            .expect("create the signing keys");
        (Self::from_state(state, clock, None), file)
    }

    /// An app over an existing state (e.g. a second instance on the same database); `db`
    /// keeps that database alive.
    pub fn from_state(state: AppState, clock: ManualClock, db: Option<Arc<TestDb>>) -> Self {
        let router = server::app(state.clone());
        Self {
            state,
            clock,
            router,
            peer: "127.0.0.1:40000".parse().unwrap(),
            _db: db,
        }
    }

    /// Sends a raw request.
    pub async fn send(&self, req: Request<Body>) -> TestResponse {
        self.send_from(req, self.peer).await
    }

    /// Sends a raw request from the TCP peer `peer`.
    pub async fn send_from(&self, mut req: Request<Body>, peer: SocketAddr) -> TestResponse {
        // What a real connection gives each request.
        req.extensions_mut().insert(ConnectInfo(peer));
        let res = self.router.clone().oneshot(req).await.expect("infallible");
        let status = res.status();
        let headers = res.headers().clone();
        let body = res
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes()
            .to_vec();
        let json = serde_json::from_slice(&body).unwrap_or(Value::Null);
        TestResponse {
            status,
            headers,
            body,
            json,
        }
    }

    /// Sends `method path` with an optional bearer token and JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> TestResponse {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let req = match body {
            Some(b) => req
                .header("content-type", "application/json")
                .body(Body::from(b.to_string())),
            None => req.body(Body::empty()),
        };
        self.send(req.unwrap()).await
    }

    /// GET with a token.
    pub async fn get(&self, path: &str, token: &str) -> TestResponse {
        self.call(Method::GET, path, Some(token), None).await
    }

    /// POST JSON with an optional token.
    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> TestResponse {
        self.call(Method::POST, path, token, Some(body)).await
    }

    /// DELETE with a token.
    pub async fn delete(&self, path: &str, token: &str) -> TestResponse {
        self.call(Method::DELETE, path, Some(token), None).await
    }

    /// Creates a user directly in the database; returns its id.
    pub async fn create_user(&self, username: &str, is_admin: bool) -> i64 {
        let user = server::service::users::create(
            &self.state,
            username,
            PASSWORD.to_string().into(),
            is_admin,
        )
        .await
        .unwrap();
        user.id as i64
    }

    /// Logs `username` in on `client`, asserting success.
    pub async fn login(&self, username: &str, client: &str) -> Login {
        let res = self
            .post(
                "/api/auth/login",
                None,
                json!({"username": username, "password": PASSWORD, "client": client}),
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "login failed: {:?}", res.json);
        Login {
            token: res.json["token"].as_str().unwrap().to_string(),
            session_id: res.json["session"]["id"].as_str().unwrap().to_string(),
            user_id: res.json["user"]["id"].as_i64().unwrap(),
        }
    }

    /// Creates a user and logs them in.
    pub async fn user_with_login(&self, username: &str, client: &str) -> Login {
        self.create_user(username, false).await;
        self.login(username, client).await
    }

    /// Creates an admin and logs them in on `web`.
    pub async fn admin(&self) -> Login {
        self.create_user("root", true).await;
        self.login("root", "web").await
    }

    /// Changes a client's policy through the admin API.
    pub async fn patch_client(&self, admin: &str, name: &str, body: Value) {
        let res = self
            .call(
                Method::PATCH,
                &format!("/api/admin/clients/{name}"),
                Some(admin),
                Some(body),
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    }
}
