//! Where a CLI keeps its token, and when it renews it.
//!
//! The token is a password-equivalent, so it lives in one file that only its owner can read:
//! `<config dir>/tessera-client/credentials.json` (on Linux `~/.config/tessera-client/`), mode
//! 0600 in a 0700 directory, written atomically (a 0600 temporary file in the same directory,
//! then a rename) so that a crash never leaves half a token nor a briefly readable file. The
//! environment variable [`CONFIG_DIR_ENV`] names another directory (tests use it). A mobile app
//! keeps the same fields in the Keychain (iOS) or the Keystore-backed storage (Android) instead.
//!
//! Renewal: see [`Credentials::needs_renewal`].

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The environment variable that overrides the directory of the credentials file.
pub const CONFIG_DIR_ENV: &str = "TESSERA_CLIENT_CONFIG_DIR";

/// The file name inside the directory.
pub const FILE_NAME: &str = "credentials.json";

/// The file of device proofs (server → proof), kept across logouts.
pub const PROOFS_FILE: &str = "device-proofs.json";

/// Renew when less than this is left, whatever the token's lifetime.
pub const RENEW_WITHIN: Duration = Duration::hours(1);

/// What a logged-in CLI remembers between runs.
#[derive(Clone, Serialize, Deserialize)]
pub struct Credentials {
    /// The server the token belongs to; it is sent nowhere else.
    pub server: String,
    /// The bearer token (`tss_…`).
    pub token: String,
    /// Who logged in (for the "log in again" hint).
    pub username: String,
    /// The client logged in on (for the "log in again" hint).
    pub client: String,
    /// The session's id, so that the CLI can mark itself in listings.
    pub session_id: String,
    /// When the token stops working unless renewed; `None` = never.
    pub expiry: Option<DateTime<Utc>>,
    /// When `expiry` was obtained (login or the last renewal), by this machine's clock.
    pub renewed_at: DateTime<Utc>,
}

// By hand, so that debugging output never shows the token.
impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("server", &self.server)
            .field("token", &"<redacted>")
            .field("username", &self.username)
            .field("client", &self.client)
            .field("session_id", &self.session_id)
            .field("expiry", &self.expiry)
            .field("renewed_at", &self.renewed_at)
            .finish()
    }
}

impl Credentials {
    /// Whether to renew (`POST /api/auth/refresh`) before using the token at `now`.
    ///
    /// The rule: a token that expires is renewed once less than the larger of one hour
    /// ([`RENEW_WITHIN`]) and a tenth of its lifetime (`expiry - renewed_at`) is left. So a
    /// 90-day CLI token renews in its last 9 days, a 1-day token in its last 2.4 hours, and a
    /// token shorter than an hour at every use. A token that never expires is never renewed.
    /// Near the client's `max_lifetime` the server cannot move the expiry any more; renewing
    /// then is harmless, and the 401 at the cap tells the person to log in again.
    pub fn needs_renewal(&self, now: DateTime<Utc>) -> bool {
        let Some(expiry) = self.expiry else {
            return false;
        };
        let lifetime = expiry - self.renewed_at;
        let threshold = RENEW_WITHIN.max(lifetime / 10);
        expiry - now < threshold
    }

    /// Records a renewal that returned `expiry` at `now`.
    pub fn renewed(&mut self, expiry: Option<DateTime<Utc>>, now: DateTime<Utc>) {
        self.expiry = expiry;
        self.renewed_at = now;
    }
}

/// What can go wrong with the credentials file.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Neither [`CONFIG_DIR_ENV`] nor the platform names a configuration directory.
    #[error("no configuration directory: set {CONFIG_DIR_ENV}")]
    NoConfigDir,
    /// Reading or writing failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not credentials (edited by hand, or from another program).
    #[error("{} is not a credentials file ({source}); delete it and log in again", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Why.
        source: serde_json::Error,
    },
}

/// The credentials file of one configuration directory.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
}

impl Store {
    /// The store in `dir` (created on the first save).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The store in `$TESSERA_CLIENT_CONFIG_DIR`, else in `<config dir>/tessera-client`.
    pub fn from_env() -> Result<Self, StoreError> {
        match std::env::var_os(CONFIG_DIR_ENV).filter(|d| !d.is_empty()) {
            Some(dir) => Ok(Self::new(dir)),
            None => dirs::config_dir()
                .map(|d| Self::new(d.join("tessera-client")))
                .ok_or(StoreError::NoConfigDir),
        }
    }

    /// The credentials file.
    pub fn path(&self) -> PathBuf {
        self.dir.join(FILE_NAME)
    }

    /// The stored credentials; `None` when logged out.
    pub fn load(&self) -> Result<Option<Credentials>, StoreError> {
        let path = self.path();
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(StoreError::Io { path, source }),
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|source| StoreError::Corrupt { path, source })
    }

    /// Saves `creds`, replacing the file atomically; the file is readable by its owner only.
    pub fn save(&self, creds: &Credentials) -> Result<(), StoreError> {
        self.replace(FILE_NAME, creds)
    }

    /// Writes `value` as JSON to the file `name` in the directory (made 0700), through a 0600
    /// temporary file and a rename, so the file is never half written nor readable by others.
    fn replace(&self, name: &str, value: &impl Serialize) -> Result<(), StoreError> {
        let path = self.dir.join(name);
        create_private_dir(&self.dir).map_err(|source| StoreError::Io {
            path: self.dir.clone(),
            source,
        })?;
        let json = serde_json::to_vec_pretty(value).map_err(|source| StoreError::Corrupt {
            path: path.clone(),
            source,
        })?;
        // Same directory, so the rename is atomic; the pid keeps two runs from sharing it.
        let tmp = self.dir.join(format!(".{name}.{}.tmp", std::process::id()));
        let written = write_private(&tmp, &json).and_then(|()| fs::rename(&tmp, &path));
        if let Err(source) = written {
            let _ = fs::remove_file(&tmp);
            return Err(StoreError::Io { path, source });
        }
        Ok(())
    }

    /// The device proof kept for `server` (it outlives logouts: it names this device).
    pub fn device_proof(&self, server: &str) -> Option<String> {
        let bytes = fs::read(self.dir.join(PROOFS_FILE)).ok()?;
        let proofs: std::collections::BTreeMap<String, String> =
            serde_json::from_slice(&bytes).ok()?;
        proofs.get(server).cloned()
    }

    /// Keeps `proof` as this device's proof for `server`, in a file readable by its owner only.
    pub fn save_device_proof(&self, server: &str, proof: &str) -> Result<(), StoreError> {
        let mut proofs: std::collections::BTreeMap<String, String> =
            fs::read(self.dir.join(PROOFS_FILE))
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok())
                .unwrap_or_default();
        proofs.insert(server.to_string(), proof.to_string());
        self.replace(PROOFS_FILE, &proofs)
    }

    /// Deletes the file; `Ok(false)` when there was none.
    pub fn remove(&self) -> Result<bool, StoreError> {
        let path = self.path();
        match fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(source) => Err(StoreError::Io { path, source }),
        }
    }
}

/// Creates `dir` (and its parents) as 0700 where it does not exist yet.
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Writes `bytes` to a new file at `path` that is created 0600, so it is never readable by
/// others, not even for a moment.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    // A leftover from a crashed run with the same pid would make `create_new` fail.
    let _ = fs::remove_file(path);
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds(expiry: Option<DateTime<Utc>>, renewed_at: DateTime<Utc>) -> Credentials {
        Credentials {
            server: "http://127.0.0.1:8080".into(),
            token: "tss_x".into(),
            username: "alice".into(),
            client: "cli".into(),
            session_id: "id".into(),
            expiry,
            renewed_at,
        }
    }

    #[test]
    fn renews_in_the_last_tenth_or_the_last_hour() {
        let t0 = Utc::now();
        let long = creds(Some(t0 + Duration::days(90)), t0);
        assert!(!long.needs_renewal(t0 + Duration::days(80)));
        assert!(long.needs_renewal(t0 + Duration::days(82)));
        let day = creds(Some(t0 + Duration::days(1)), t0);
        assert!(!day.needs_renewal(t0 + Duration::hours(21)));
        assert!(day.needs_renewal(t0 + Duration::hours(22)));
        let short = creds(Some(t0 + Duration::minutes(10)), t0);
        assert!(short.needs_renewal(t0));
        assert!(!creds(None, t0).needs_renewal(t0 + Duration::days(9999)));
        assert!(
            long.needs_renewal(t0 + Duration::days(91)),
            "expired: try, the 401 tells"
        );
    }

    #[test]
    fn debug_output_hides_the_token() {
        let shown = format!("{:?}", creds(None, Utc::now()));
        assert!(!shown.contains("tss_x"), "{shown}");
    }

    #[cfg(unix)]
    #[test]
    fn saves_0600_atomically_and_removes() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("tessera-store-{}", std::process::id()));
        let store = Store::new(dir.join("nested"));
        assert!(store.load().unwrap().is_none());
        let mut c = creds(None, Utc::now());
        store.save(&c).unwrap();
        c.token = "tss_y".into();
        store.save(&c).unwrap();
        assert_eq!(store.load().unwrap().unwrap().token, "tss_y");
        let mode = fs::metadata(store.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let dir_mode = fs::metadata(dir.join("nested"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(dir_mode & 0o777, 0o700);
        let names: Vec<_> = fs::read_dir(dir.join("nested")).unwrap().collect();
        assert_eq!(names.len(), 1, "no temporary file is left behind");
        assert!(store.remove().unwrap());
        assert!(!store.remove().unwrap());
        fs::remove_dir_all(dir).unwrap();
    }
}
