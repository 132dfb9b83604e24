//! Running the `tessera-client` binary as one "device": a config directory of its own.

use crate::live::TempDir;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;
use tokio::io::AsyncWriteExt;

/// The `tessera-client` binary of this build.
///
/// Cargo builds a dependency's library for this package's tests but not its binaries, and
/// `CARGO_BIN_EXE_*` exists only inside the binary's own package. So it is built here, once
/// per test process, with the same cargo, profile and target directory as this test
/// executable (`target/<profile>/deps/api-…` → `target/<profile>/tessera-client`); cargo
/// makes that a no-op when it is up to date.
fn cli_binary() -> &'static Path {
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
            .args(["build", "--quiet", "-p", "example_client", "--bin"])
            .args(["tessera-client", "--profile", profile])
            .env("CARGO_TARGET_DIR", target_dir)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("run cargo build for tessera-client");
        assert!(status.success(), "cargo build of tessera-client failed");
        let bin = profile_dir.join(format!("tessera-client{}", std::env::consts::EXE_SUFFIX));
        assert!(bin.is_file(), "{} was not built", bin.display());
        bin
    })
}

/// What one run of the CLI did.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Asserts exit status 0; returns stdout.
    #[track_caller]
    pub fn ok(&self) -> &str {
        assert_eq!(self.code, Some(0), "{self:#?}");
        &self.stdout
    }

    /// Asserts exit status 1; returns stderr.
    #[track_caller]
    pub fn failed(&self) -> &str {
        assert_eq!(self.code, Some(1), "{self:#?}");
        &self.stderr
    }
}

/// One device: the CLI with a config directory of its own.
pub struct Device {
    dir: TempDir,
    base: String,
}

impl Device {
    /// A device with a fresh config directory, for the server at `base`.
    pub fn new(label: &str, base: &str) -> Self {
        Self {
            dir: TempDir::new(label),
            base: base.to_string(),
        }
    }

    /// Where the CLI keeps its token.
    pub fn credentials_path(&self) -> PathBuf {
        self.dir.path().join("credentials.json")
    }

    /// The stored credentials, parsed.
    pub fn credentials(&self) -> Value {
        serde_json::from_slice(&std::fs::read(self.credentials_path()).unwrap()).unwrap()
    }

    /// The stored session id.
    pub fn session_id(&self) -> String {
        self.credentials()["session_id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Runs the CLI with `args`, feeding `stdin` (else no input).
    pub async fn run_with_stdin(&self, args: &[&str], stdin: Option<&str>) -> Run {
        // Async, since the server answers from this same (single-threaded) runtime.
        let mut child = tokio::process::Command::new(cli_binary())
            .args(args)
            .env("TESSERA_CLIENT_CONFIG_DIR", self.dir.path())
            .env_remove("TESSERA_SERVER")
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
            pipe.write_all(text.as_bytes()).await.unwrap();
        }
        let out = child.wait_with_output().await.unwrap();
        Run {
            code: out.status.code(),
            stdout: String::from_utf8(out.stdout).unwrap(),
            stderr: String::from_utf8(out.stderr).unwrap(),
        }
    }

    /// Runs the CLI with `args` and no input.
    pub async fn run(&self, args: &[&str]) -> Run {
        self.run_with_stdin(args, None).await
    }

    /// Logs in as `dev`, the password piped on stdin (no terminal, so no prompt).
    pub async fn login(&self, client: &str, device: &str) -> Run {
        let args = [
            "--server",
            &self.base,
            "login",
            "--username",
            "dev",
            "--client",
            client,
            "--device-name",
            device,
        ];
        let pw = format!("{}\n", tests::PASSWORD);
        self.run_with_stdin(&args, Some(&pw)).await
    }

    /// Asserts the credentials file and the device proof are 0600 and alone (no temporary
    /// file left).
    #[track_caller]
    pub fn assert_private_credentials(&self) {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(self.credentials_path()).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        let proofs = self.dir.path().join("device-proofs.json");
        let meta = std::fs::metadata(&proofs).expect("the device proof is kept");
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        let names: Vec<_> = std::fs::read_dir(self.dir.path()).unwrap().collect();
        assert_eq!(
            names.len(),
            2,
            "credentials.json and device-proofs.json, no temporary file"
        );
    }
}
