//! A live Tessera on a real TCP port, started exactly as the binary starts it
//! ([`server::startup::Application`]: seeding, purge, use flusher, LISTEN on PostgreSQL, drain
//! on shutdown), for the suites that drive it from outside the process (real TCP, the
//! `tessera-client` binary, a browser): the wall clock, the default clients, one user.

use clap::Parser;
use server::clock::{Clock, SystemClock};
use server::config::Cli;
use server::startup::Application;
use server::state::AppState;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tests::TestDb;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A running server; dropped, it stops with its runtime.
pub struct Live {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// The server's state (its database, cache, queued uses).
    pub state: AppState,
    stop: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<anyhow::Result<()>>>,
    _db: TestDb,
}

impl Live {
    /// The stored `last_used` of a session (what reached the database, not what is queued).
    pub async fn stored_last_used(&self, session_id: &str) -> i64 {
        use sea_orm::EntityTrait;
        entity::session::Entity::find_by_id(session_id.to_string())
            .one(&self.state.db)
            .await
            .unwrap()
            .expect("the session exists")
            .last_used
    }

    /// Asks the server to stop as SIGTERM would, and waits until it has drained and written
    /// its queued uses.
    pub async fn stop(&mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.handle.take() {
            Some(handle) => handle.await?,
            None => Ok(()),
        }
    }
}

/// Starts a server on a fresh database with the default clients and user `username`
/// (password [`tests::PASSWORD`]), configured by `args` (flags, as on the command line) on top
/// of the defaults. It listens on a port the system picks, unless `args` names a `--bind`.
pub async fn start_with(username: &str, args: &[&str]) -> Live {
    start_on(username, args, Arc::new(SystemClock)).await
}

/// [`start_with`] on the given clock.
pub async fn start_on(username: &str, args: &[&str], clock: Arc<dyn Clock>) -> Live {
    let db = tests::fresh_database().await;
    let mut argv = vec!["tessera"];
    // Port 0 lets the system pick, but then the server learns its URL only once bound; a test
    // that must configure that URL beforehand (`--public-url`) picks the port and binds it.
    if !args
        .iter()
        .any(|a| *a == "--bind" || a.starts_with("--bind="))
    {
        argv.extend(["--bind", "127.0.0.1:0"]);
    }
    argv.extend_from_slice(args);
    let config = Cli::try_parse_from(argv).expect("valid arguments").config;
    let listen_url = tests::postgres_url().map(|url| match db.schema() {
        Some(schema) => format!("{url}?options=-c%20search_path%3D{schema}"),
        None => url,
    });
    let app = Application::build_on(config, db.conn(), db.conn(), clock, listen_url)
        .await
        .expect("the application builds");
    let state = app.state().clone();
    server::service::users::create(&state, username, tests::PASSWORD.to_string().into(), false)
        .await
        .unwrap();
    let base = format!("http://{}", app.local_addr());
    let (stop, stopped) = oneshot::channel::<()>();
    let handle = tokio::spawn(app.run_until(async {
        stopped.await.ok();
    }));
    Live {
        base,
        state,
        stop: Some(stop),
        handle: Some(handle),
        _db: db,
    }
}

/// [`start_with`] with the default configuration.
pub async fn start(username: &str) -> Live {
    start_with(username, &[]).await
}

/// A free TCP port on 127.0.0.1: bound, read and released, for a process to take a moment
/// later (chromedriver; a server whose own URL must be configured before it starts).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// Creates a client with a throttle rate on a live server.
pub async fn throttled_client(live: &Live, name: &str, rate: &str) {
    let policy = server::policy::ClientPolicy {
        throttle_rate: Some(rate.parse().unwrap()),
        ..Default::default()
    };
    server::service::clients::create(&live.state, name, &policy)
        .await
        .unwrap();
}

/// A fresh directory under the system's temporary directory, deleted on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    /// A new, empty directory named after `label`.
    pub fn new(label: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("tessera-{label}-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
