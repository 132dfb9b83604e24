//! A live Tessera on a real TCP port, for the suites that drive it from outside the process
//! (the `tessera-client` binary, a browser): the wall clock, the default clients, one user.

use server::state::{AppState, Settings};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// A wall-clock state on a fresh database with the default clients and user `username`
/// (password [`tests::PASSWORD`]).
pub async fn state_with_user(username: &str) -> AppState {
    let db = tests::fresh_database().await;
    let state = AppState::with_system_clock(db, Settings::default());
    server::store::clients::seed_defaults(&state.db, "api", state.now())
        .await
        .unwrap();
    let hash = server::password::hash(tests::PASSWORD.to_string().into())
        .await
        .unwrap();
    server::store::users::create(&state.db, username, hash, false, state.now())
        .await
        .unwrap();
    state
}

/// Serves `state` on 127.0.0.1 port 0 until the test's runtime ends; returns the base URL.
pub async fn serve(state: AppState) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let app = server::app(state).into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(listener, app).await
    });
    base
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
