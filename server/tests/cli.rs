//! The `tessera` binary: subcommands and configuration errors (docs/operations.md).

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

/// Runs `tessera migrate` on `db`, which must succeed.
#[track_caller]
fn migrate(db: &std::path::Path) {
    let out = tessera(db).arg("migrate").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
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
    migrate(&db);

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

#[test]
fn administrative_commands_never_create_a_database_and_name_theirs() {
    let db = temp_db("absent");
    let out = tessera(&db).args(["user", "list"]).output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no database at"), "{stderr}");
    assert!(stderr.contains("tessera migrate"), "{stderr}");
    assert!(!db.exists(), "user list created {}", db.display());

    migrate(&db);
    let out = tessera(&db).args(["user", "list"]).output().unwrap();
    let listing = String::from_utf8_lossy(&out.stdout);
    assert!(listing.contains(&db.display().to_string()), "{listing}");
    assert!(
        out.stderr.is_empty(),
        "quiet unless something is wrong: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_cli_refuses_what_the_api_refuses() {
    let db = temp_db("policy");
    migrate(&db);
    for args in [
        vec!["--token-ttl", "73000d"],
        vec!["--max-lifetime", "99999999d"],
        vec!["--max-sessions", "0"],
    ] {
        let out = tessera(&db)
            .args(["client", "create", "x"])
            .args(&args)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?} was accepted");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
    }
}

#[test]
fn users_are_deactivated_and_activated_from_the_command_line() {
    let db = temp_db("active");
    migrate(&db);
    let mut child = tessera(&db)
        .args(["user", "create", "dora", "--password-stdin"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"a long password\n")
        .unwrap();
    assert!(child.wait().unwrap().success());
    let out = tessera(&db)
        .args(["user", "deactivate", "dora"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listing = tessera(&db).args(["user", "list"]).output().unwrap();
    let listing = String::from_utf8_lossy(&listing.stdout).to_string();
    let row = listing
        .lines()
        .find(|l| l.contains("dora"))
        .unwrap()
        .to_string();
    assert!(row.contains("false"), "{row}");
    let out = tessera(&db)
        .args(["user", "activate", "dora"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let out = tessera(&db)
        .args(["user", "deactivate", "nobody"])
        .output()
        .unwrap();
    assert!(!out.status.success());
}

#[test]
fn configuration_messages_name_the_problem() {
    let db = temp_db("messages");
    // A refused PostgreSQL connection says why, not only "pool timed out".
    let out = tessera(&db)
        .arg("migrate")
        .env("TESSERA_DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.to_lowercase().contains("refused"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    // A bad bind address names the variable that was set.
    let out = tessera(&db)
        .arg("migrate")
        .env("TESSERA_BIND", "localhost")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("TESSERA_BIND"));
    // A bad log filter is reported, and the command still runs.
    let out = tessera(&db)
        .arg("migrate")
        .env("TESSERA_LOG", "server=[")
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("TESSERA_LOG is not a valid tracing filter"),
        "{stderr}"
    );
    // A host name and a bare proxy address are accepted.
    let out = tessera(&db)
        .arg("migrate")
        .env("TESSERA_BIND", "localhost:8080")
        .env("TESSERA_TRUSTED_PROXIES", "10.0.0.7,192.168.0.0/16")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `tessera serve` as an operator runs it: the start-up line, a warning for a missing
/// API-access client, one log line per request (never the token), no colours in a pipe.
#[test]
fn serve_logs_what_operators_need() {
    use std::io::{BufRead, BufReader, Read};
    let db = temp_db("serve");
    // Seeded with the default clients; then served naming an API-access client that is not one.
    migrate(&db);
    let mut child = tessera(&db)
        .env("TESSERA_BIND", "127.0.0.1:0")
        .env("TESSERA_LOG", "info")
        .env("TESSERA_API_ACCESS_CLIENT", "nope")
        .env("TESSERA_BOOTSTRAP_ADMIN", "root:a long password")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    let mut line = String::new();
    while !seen.contains("tessera listening") {
        line.clear();
        if stderr.read_line(&mut line).unwrap() == 0 {
            panic!("the server stopped: {seen}");
        }
        seen.push_str(&line);
    }
    let address = seen
        .split("address=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .expect("the start-up line names the address")
        .to_string();
    assert!(seen.contains("version="), "{seen}");
    assert!(seen.contains("database="), "{seen}");
    assert!(seen.contains("no API-access client"), "{seen}");
    assert!(
        !seen.contains('\u{1b}'),
        "no ANSI colours in a pipe: {seen:?}"
    );
    // One request, with a token that must not appear in the log.
    let mut conn = std::net::TcpStream::connect(&address).unwrap();
    let token = "tss_0000000000000000000000000000000004N2Tuc";
    write!(
        conn,
        "GET /api/auth/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    let mut logged = String::new();
    while !logged.contains("status=") {
        line.clear();
        if stderr.read_line(&mut line).unwrap() == 0 {
            break;
        }
        logged.push_str(&line);
    }
    assert!(logged.contains("route=\"/api/auth/me\""), "{logged}");
    assert!(logged.contains("status=401"), "{logged}");
    assert!(logged.contains("request_id="), "{logged}");
    assert!(
        !logged.contains(&token[4..]),
        "the token was logged: {logged}"
    );
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn the_sqlite_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let db = temp_db("modes");
    migrate(&db);
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&db), 0o600, "a new database is 0600");
    for suffix in ["-wal", "-shm"] {
        let file = std::path::PathBuf::from(format!("{}{suffix}", db.display()));
        if file.exists() {
            assert_eq!(mode(&file), 0o600, "{}", file.display());
        }
    }
    // An existing world-readable file is narrowed, with a warning.
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = tessera(&db)
        .arg("migrate")
        .env("TESSERA_LOG", "warn")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(mode(&db), 0o600);
    assert!(String::from_utf8_lossy(&out.stderr).contains("narrowing it to 0600"));
}
