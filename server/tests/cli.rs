//! The `tessera` binary: subcommands and configuration errors (SPEC §5).

use std::io::Write;
use std::process::{Command, Stdio};

fn tessera(db: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tessera"));
    cmd.env_clear()
        .env(
            "TESSERA_DATABASE_URL",
            format!("sqlite://{}?mode=rwc", db.display()),
        )
        .env("TESSERA_LOG", "error");
    cmd
}

fn temp_db(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("tessera-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("t.db");
    let _ = std::fs::remove_file(&db);
    db
}

#[test]
fn users_and_clients_from_the_command_line() {
    let db = temp_db("crud");
    let out = tessera(&db).arg("migrate").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let mut child = tessera(&db)
        .args(["user", "create", "alice", "--admin", "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"a long password\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let out = tessera(&db).args(["user", "list"]).output().unwrap();
    let listing = String::from_utf8_lossy(&out.stdout);
    assert!(
        listing.contains("alice") && listing.contains("true"),
        "{listing}"
    );

    let out = tessera(&db)
        .args([
            "client",
            "create",
            "ios",
            "--token-ttl",
            "30d",
            "--max-lifetime",
            "90d",
            "--throttle-rate",
            "100/m",
        ])
        .args(["--max-sessions", "5", "--auto-renew"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = tessera(&db).args(["client", "list"]).output().unwrap();
    let listing = String::from_utf8_lossy(&out.stdout);
    assert!(
        listing.contains("ios") && listing.contains("2592000s") && listing.contains("100/m"),
        "{listing}"
    );
    assert!(listing.contains("web"), "defaults are seeded: {listing}");

    let out = tessera(&db)
        .args(["client", "delete", "ios"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let out = tessera(&db)
        .args(["client", "delete", "ios"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "tessera: no client named ios"
    );
}

#[test]
fn bad_configuration_is_one_line_and_non_zero() {
    let db = temp_db("bad");
    let cases: Vec<Vec<(&str, &str)>> = vec![
        vec![("TESSERA_DATABASE_URL", "mysql://nope")],
        vec![("TESSERA_DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")],
        vec![("TESSERA_LOGIN_RATE_PER_IP", "fast")],
    ];
    for envs in cases {
        let mut cmd = tessera(&db);
        cmd.arg("migrate");
        for (k, v) in &envs {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        assert!(!out.status.success(), "{envs:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"),
            "{stderr}"
        );
        assert!(!stderr.trim().is_empty());
    }
    let out = tessera(&db)
        .args(["client", "create", "x", "--token-ttl", "5w"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let out = tessera(&db)
        .args(["user", "create", "bad name", "--password-stdin"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).lines().count(),
        1,
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
