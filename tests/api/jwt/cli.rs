//! `tessera keys list` and `tessera keys rotate` (SPEC §5): the `tessera` binary on an SQLite
//! file, then a server started on that file as `tessera serve` starts it, which must sign with
//! the key the command line made current (so the command line seals private keys under the
//! server secret kept in the database, not under a secret of its own).

use super::*;
use crate::live::TempDir;
use clap::Parser;
use server::clock::ManualClock;
use server::config::Cli;
use server::startup::Application;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// The `tessera` binary of this build, built once per test process as `cli_device.rs` builds
/// `tessera-client` (`CARGO_BIN_EXE_tessera` exists only inside the `server` package).
fn tessera_binary() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let exe = std::env::current_exe().unwrap();
        let profile_dir = exe.parent().and_then(Path::parent).unwrap();
        let target_dir = profile_dir.parent().unwrap();
        let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
            Some("debug") => "dev",
            Some(other) => other,
            None => panic!("unexpected test executable path {}", exe.display()),
        };
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| env!("CARGO").into());
        let status = std::process::Command::new(cargo)
            .args(["build", "--quiet", "-p", "server", "--bin", "tessera"])
            .args(["--profile", profile])
            .env("CARGO_TARGET_DIR", target_dir)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("run cargo build for tessera");
        assert!(status.success(), "cargo build of tessera failed");
        let bin = profile_dir.join(format!("tessera{}", std::env::consts::EXE_SUFFIX));
        assert!(bin.is_file(), "{} was not built", bin.display());
        bin
    })
}

/// Runs `tessera args…` on the database `url` with nothing else configured, asserting exit
/// status 0; returns stdout.
async fn tessera(url: &str, args: &[&str]) -> String {
    let out = tokio::process::Command::new(tessera_binary())
        .args(args)
        .env_clear()
        .env("TESSERA_DATABASE_URL", url)
        .env("TESSERA_LOG", "error")
        .kill_on_drop(true)
        .output()
        .await
        .expect("run tessera");
    let (stdout, stderr) = (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    );
    assert!(
        out.status.success(),
        "tessera {args:?}: {:?}\n{stdout}\n{stderr}",
        out.status
    );
    stdout
}

/// The (kid, state) rows of a `tessera keys` table, sorted by kid; asserts the header.
fn rows(table: &str) -> Vec<(String, String)> {
    let header = ["KID", "STATE", "CREATED"];
    assert!(
        table
            .lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == header),
        "no KID STATE CREATED header:\n{table}"
    );
    let mut rows: Vec<(String, String)> = table
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split_whitespace().collect();
            let state = *cells.get(1)?;
            ["current", "next", "retired"]
                .contains(&state)
                .then(|| (cells[0].to_string(), state.to_string()))
        })
        .collect();
    rows.sort_unstable();
    rows
}

/// The kid of the one row in `state`.
fn kid_of(rows: &[(String, String)], state: &str) -> String {
    let found: Vec<&String> = rows
        .iter()
        .filter(|(_, s)| s == state)
        .map(|(kid, _)| kid)
        .collect();
    assert_eq!(found.len(), 1, "one {state} key in {rows:?}");
    found[0].clone()
}

#[tokio::test]
async fn keys_list_and_rotate_from_the_command_line() {
    let dir = TempDir::new("jwt-keys");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
    tessera(&url, &["migrate"]).await;

    let listed = rows(&tessera(&url, &["keys", "list"]).await);
    assert_eq!(listed.len(), 2, "{listed:?}");
    let (current, next) = (kid_of(&listed, "current"), kid_of(&listed, "next"));
    assert_ne!(current, next);
    let again = rows(&tessera(&url, &["keys", "list"]).await);
    assert_eq!(again, listed, "listing keeps the keys it found");

    let rotated = rows(&tessera(&url, &["keys", "rotate"]).await);
    assert_eq!(rotated.len(), 3, "the new list: {rotated:?}");
    assert_eq!(kid_of(&rotated, "current"), next);
    assert_eq!(kid_of(&rotated, "retired"), current);
    let new = kid_of(&rotated, "next");
    assert!(new != current && new != next, "a new next key");
    assert_eq!(rows(&tessera(&url, &["keys", "list"]).await), rotated);

    // A server on that file, built as `tessera serve` builds it (the secret kept in the
    // database), publishes the three keys and signs with the one the CLI made current.
    let db = server::db::connect(&url).await.expect("open the file");
    let config = Cli::try_parse_from(["tessera", "--bind", "127.0.0.1:0"])
        .expect("valid arguments")
        .config;
    let clock = ManualClock::new();
    let built = Application::build_on(config, db.clone(), db, Arc::new(clock.clone()), None)
        .await
        .expect("the application builds");
    let app = TestApp::from_state(built.state().clone(), clock, None);
    let published = jwks(&app).await;
    let all: Vec<&str> = rotated.iter().map(|(kid, _)| kid.as_str()).collect();
    assert_eq!(kids(&published), sorted(&all));

    let alice = app.user_with_login("alice", "web").await;
    let jwt = verified(&app, &access_token(&app, &alice.token).await.0).await;
    assert_eq!(jwt.kid(), next, "signed with the key the CLI made current");
    let jwt = verified(&app, &verify_jwt(&app, &alice.token).await).await;
    assert_eq!(jwt.kid(), next);
}
