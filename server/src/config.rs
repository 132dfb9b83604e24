//! Command line and environment configuration (docs/operations.md), and the [`Settings`] the
//! running server derives from it. Every default lives in one constant below, used both by clap
//! and by [`Settings::default`], so tests and production cannot drift apart.

use crate::policy::{ClientPolicy, Lifetime, Rate, Transport};
use clap::{Args, Parser, Subcommand};
use ipnet::IpNet;
use secrecy::SecretString;
use std::net::IpAddr;
use std::time::Duration;

/// Default of `TESSERA_DATABASE_URL`.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://tessera.db?mode=rwc";
/// Default of `TESSERA_BIND`.
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
/// Default of `TESSERA_API_ACCESS_CLIENT`.
pub const DEFAULT_API_ACCESS_CLIENT: &str = "api";
/// Default of `TESSERA_LOGIN_RATE_PER_IP`.
pub const DEFAULT_LOGIN_RATE_PER_IP: &str = "30/m";
/// Default of `TESSERA_LOGIN_RATE_PER_USERNAME`.
pub const DEFAULT_LOGIN_RATE_PER_USERNAME: &str = "10/m";
/// Default of `TESSERA_CACHE_TTL`, seconds.
pub const DEFAULT_CACHE_TTL: u64 = 10;
/// Default of `TESSERA_CACHE_MAX_MB`, MiB.
pub const DEFAULT_CACHE_MAX_MB: u64 = 256;

/// Tessera: a per-device token and session server.
#[derive(Debug, Parser)]
#[command(name = "tessera", version, about)]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Settings shared by every subcommand; each flag also reads an environment variable.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Database URL: `sqlite://path?mode=rwc` or `postgres://user@host/db`.
    #[arg(long, global = true, env = "TESSERA_DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    pub database_url: String,
    /// Address to listen on: `host:port` (`127.0.0.1:8080`, `[::1]:8080`, `localhost:8080`).
    #[arg(long, global = true, env = "TESSERA_BIND", default_value = DEFAULT_BIND, value_parser = parse_bind)]
    pub bind: String,
    /// `username:password` of an admin created at start-up when no user of that name exists.
    #[arg(
        long,
        global = true,
        env = "TESSERA_BOOTSTRAP_ADMIN",
        hide_env_values = true
    )]
    pub bootstrap_admin: Option<SecretString>,
    /// Name of the client that issues API keys.
    #[arg(long, global = true, env = "TESSERA_API_ACCESS_CLIENT", default_value = DEFAULT_API_ACCESS_CLIENT)]
    pub api_access_client: String,
    /// The cookie client the account page and the admin console sign in to.
    #[arg(
        long,
        global = true,
        env = "TESSERA_ACCOUNT_CLIENT",
        default_value = "browser"
    )]
    pub account_client: String,
    /// Shared secret that services may present to `POST /api/auth/introspect`.
    #[arg(
        long,
        global = true,
        env = "TESSERA_INTROSPECTION_SECRET",
        hide_env_values = true
    )]
    pub introspection_secret: Option<SecretString>,
    /// Login attempts allowed per client IP.
    #[arg(long, global = true, env = "TESSERA_LOGIN_RATE_PER_IP", default_value = DEFAULT_LOGIN_RATE_PER_IP)]
    pub login_rate_per_ip: Rate,
    /// Login attempts allowed per username.
    #[arg(long, global = true, env = "TESSERA_LOGIN_RATE_PER_USERNAME", default_value = DEFAULT_LOGIN_RATE_PER_USERNAME)]
    pub login_rate_per_username: Rate,
    /// Comma-separated CIDRs (or single addresses) of reverse proxies whose `X-Forwarded-For`
    /// is believed.
    #[arg(long, global = true, env = "TESSERA_TRUSTED_PROXIES", value_delimiter = ',', num_args = 0.., value_parser = parse_proxy)]
    pub trusted_proxies: Vec<IpNet>,
    /// Seconds between runs of the expired-session purge.
    #[arg(
        long,
        global = true,
        env = "TESSERA_PURGE_INTERVAL",
        default_value_t = 300
    )]
    pub purge_interval: u64,
    /// Expired sessions deleted per purge statement.
    #[arg(
        long,
        global = true,
        env = "TESSERA_PURGE_BATCH",
        default_value_t = 500
    )]
    pub purge_batch: u64,
    /// Seconds a verified token may stay cached; revocations evict it at once regardless.
    #[arg(long, global = true, env = "TESSERA_CACHE_TTL", default_value_t = DEFAULT_CACHE_TTL)]
    pub cache_ttl: u64,
    /// MiB the verification cache may hold (estimated per entry); the least useful entries
    /// are evicted beyond it.
    #[arg(long, global = true, env = "TESSERA_CACHE_MAX_MB", default_value_t = DEFAULT_CACHE_MAX_MB,
        value_parser = clap::value_parser!(u64).range(1..=1_048_576))]
    pub cache_max_mb: u64,
    /// Redis URL; when set, budgets are shared by every instance.
    #[arg(long, global = true, env = "TESSERA_REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<String>,
    /// Prefix of this deployment's Redis keys (default: `tessera:<deployment id>:`, the id kept
    /// in the database), so that deployments may share one Redis.
    #[arg(long, global = true, env = "TESSERA_REDIS_PREFIX")]
    pub redis_prefix: Option<String>,
    /// Milliseconds a budget call may take before the request is let through without it.
    #[arg(
        long,
        global = true,
        env = "TESSERA_REDIS_DEADLINE",
        default_value_t = 50
    )]
    pub redis_deadline: u64,
    /// Most connections served at once; more wait to be accepted. Capped below the open-file
    /// limit, which is raised to its hard limit at start.
    #[arg(
        long,
        global = true,
        env = "TESSERA_MAX_CONNECTIONS",
        default_value_t = 10_000
    )]
    pub max_connections: usize,
    /// Seconds requests in flight may take to finish after SIGINT/SIGTERM.
    #[arg(
        long,
        global = true,
        env = "TESSERA_SHUTDOWN_TIMEOUT",
        default_value_t = 20
    )]
    pub shutdown_timeout: u64,
    /// The server's secret (HMAC keys for device proofs); by default a random one is made at
    /// first start and kept in the database, so every instance shares it.
    #[arg(
        long,
        global = true,
        env = "TESSERA_SECRET_KEY",
        hide_env_values = true
    )]
    pub secret_key: Option<SecretString>,
    /// Tracing filter, e.g. `info` or `server=debug` (default `info` for `serve`, `warn` for
    /// the administrative commands, which stay quiet unless something is wrong).
    /// The server's own origin as browsers see it (`https://auth.example.com`); default
    /// `http://` + the bind address. Cookie requests with another `Origin` are refused.
    /// Kept as configured (the JWT issuer's default is exactly this); normalised in
    /// [`Settings`].
    #[arg(long, global = true, env = "TESSERA_PUBLIC_URL", value_parser = check_origin)]
    pub public_url: Option<String>,
    /// Other origins whose pages may send cookie requests (comma-separated).
    #[arg(long, global = true, env = "TESSERA_ALLOWED_ORIGINS", value_delimiter = ',', num_args = 0.., value_parser = parse_origin_item)]
    pub allowed_origins: Vec<String>,
    /// The session cookie's name; default `__Host-tessera` (`tessera` when not Secure).
    #[arg(long, global = true, env = "TESSERA_COOKIE_NAME", value_parser = parse_cookie_name)]
    pub cookie_name: Option<String>,
    /// Mark cookies `Secure` (set `false` only for plain-HTTP development).
    #[arg(long, global = true, env = "TESSERA_COOKIE_SECURE", default_value_t = true, action = clap::ArgAction::Set)]
    pub cookie_secure: bool,
    /// The header a trusted single-sign-on proxy names the signed-in user in (e.g.
    /// `X-Remote-User`); unset, `/api/auth/login/remote` does not exist.
    #[arg(long, global = true, env = "TESSERA_REMOTE_USER_HEADER", value_parser = parse_header_name)]
    pub remote_user_header: Option<String>,
    /// Create users that remote-user login names and that do not exist yet.
    #[arg(long, global = true, env = "TESSERA_REMOTE_USER_CREATE", default_value_t = false, action = clap::ArgAction::Set)]
    pub remote_user_create: bool,
    /// `open` lets anyone create an account at `POST /api/auth/signup`; `closed` (default) hides it.
    #[arg(long, global = true, env = "TESSERA_SIGNUP", default_value = "closed", value_parser = ["closed", "open"])]
    pub signup: String,
    /// Seconds a rotated-out token keeps working (and a refresh with it returns the same new
    /// token), so a lost response or two concurrent refreshes are harmless.
    #[arg(
        long,
        global = true,
        env = "TESSERA_ROTATION_GRACE",
        default_value_t = 10
    )]
    pub rotation_grace: u64,
    /// The `iss` of JWT access tokens; default `TESSERA_PUBLIC_URL` exactly as configured.
    #[arg(long, global = true, env = "TESSERA_JWT_ISSUER")]
    pub jwt_issuer: Option<String>,
    /// The `aud` of JWT access tokens; default the issuer.
    #[arg(long, global = true, env = "TESSERA_JWT_AUDIENCE")]
    pub jwt_audience: Option<String>,
    /// Lifetime of JWT access tokens (`300`, `5m`; 1 s to 1 day). A revoked session's JWTs
    /// live until they expire, so keep it short.
    #[arg(long, global = true, env = "TESSERA_JWT_TTL", default_value = "300", value_parser = parse_jwt_ttl)]
    pub jwt_ttl: i64,
    /// Most API keys one user may hold.
    #[arg(long, global = true, env = "TESSERA_MAX_API_KEYS", default_value_t = 20,
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub max_api_keys: u32,
    /// How long security events are kept (`90d`; `never` keeps them forever).
    #[arg(
        long,
        global = true,
        env = "TESSERA_EVENT_RETENTION",
        default_value = "90d"
    )]
    pub event_retention: Lifetime,
    #[arg(long, global = true, env = "TESSERA_LOG")]
    pub log: Option<String>,
}

/// Accepts `ip:port`, `[v6]:port` or `host:port` (resolved when the server binds).
fn parse_bind(s: &str) -> Result<String, String> {
    let err = || {
        format!(
            "invalid bind address {s:?} (TESSERA_BIND or --bind): use host:port, e.g. 127.0.0.1:8080"
        )
    };
    let (host, port) = s.rsplit_once(':').ok_or_else(err)?;
    if host.is_empty() || port.parse::<u16>().is_err() {
        return Err(err());
    }
    Ok(s.to_string())
}

/// Accepts a CIDR, or a bare address as a single-host network (/32 or /128).
fn parse_header_name(s: &str) -> Result<String, String> {
    axum::http::HeaderName::from_bytes(s.trim().as_bytes())
        .map(|h| h.as_str().to_string())
        .map_err(|_| format!("invalid header name {s:?} in TESSERA_REMOTE_USER_HEADER"))
}

/// An origin as browsers send it: `scheme://host[:port]`, lower-case, no path or slash.
pub fn parse_origin(s: &str) -> Result<String, String> {
    let err =
        || format!("invalid origin {s:?}: use scheme://host[:port], e.g. https://app.example.com");
    let s = s.trim().trim_end_matches('/').to_ascii_lowercase();
    let (scheme, rest) = s.split_once("://").ok_or_else(err)?;
    if !matches!(scheme, "http" | "https")
        || rest.is_empty()
        || rest.contains(['/', '?', '#', '@', ' '])
    {
        return Err(err());
    }
    // Browsers leave the scheme's default port out of `Origin`.
    let default_port = if scheme == "https" { ":443" } else { ":80" };
    Ok(s.strip_suffix(default_port)
        .map_or(s.clone(), str::to_string))
}

/// An item of `TESSERA_ALLOWED_ORIGINS`; empty items (a trailing comma) are dropped later.
/// Checks an origin and keeps it as written (trimmed).
fn check_origin(s: &str) -> Result<String, String> {
    parse_origin(s).map(|_| s.trim().to_string())
}

/// The JWT lifetime: 1 s to 1 day (`never` makes no sense for a token nobody can revoke).
fn parse_jwt_ttl(s: &str) -> Result<i64, String> {
    let secs = match s.parse::<i64>() {
        Ok(n) => Some(n),
        Err(_) => crate::policy::parse_duration(s)?,
    };
    secs.filter(|n| (1..=86_400).contains(n))
        .ok_or_else(|| format!("invalid JWT lifetime {s:?}: use 1 s to 1 day, e.g. 300 or 5m"))
}

fn parse_origin_item(s: &str) -> Result<String, String> {
    if s.trim().is_empty() {
        return Ok(String::new());
    }
    parse_origin(s)
}

fn parse_cookie_name(s: &str) -> Result<String, String> {
    // RFC 6265 `token`: visible ASCII without separators.
    let ok = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b));
    ok.then(|| s.to_string())
        .ok_or_else(|| format!("invalid cookie name {s:?} in TESSERA_COOKIE_NAME"))
}

fn parse_proxy(s: &str) -> Result<IpNet, String> {
    let s = s.trim();
    s.parse::<IpNet>()
        .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| {
            format!("invalid proxy {s:?} in TESSERA_TRUSTED_PROXIES: use an address or a CIDR such as 10.0.0.0/8")
        })
}

/// What to do; `serve` when none is given.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Migrate, seed, and serve HTTP until SIGINT/SIGTERM.
    Serve,
    /// Create the database if needed and apply pending migrations.
    Migrate,
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API clients.
    #[command(subcommand)]
    Client(ClientCommand),
    /// Manage the JWT signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
}

/// `tessera keys …`
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// List the signing keys (never their private halves).
    List,
    /// Rotate: next becomes current, a new next is made, the old current is retired (published
    /// until its last JWT has expired). Running servers switch within ten seconds.
    Rotate,
}

/// `tessera user …`
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; the password is prompted for, or read from stdin.
    Create {
        username: String,
        /// Make the user an admin.
        #[arg(long)]
        admin: bool,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users.
    List,
    /// Deactivate a user: every session and API key of theirs ends.
    Deactivate { username: String },
    /// Reactivate a user (their ended sessions stay ended).
    Activate { username: String },
}

/// `tessera client …`
#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Create a client.
    Create(ClientCreateArgs),
    /// List clients.
    List,
    /// Delete a client and end its sessions.
    Delete { name: String },
}

/// Policy flags of `tessera client create`; checked by the same [`ClientPolicy::validate`] as
/// the admin API.
#[derive(Debug, Args)]
pub struct ClientCreateArgs {
    pub name: String,
    /// Token lifetime (`30s`, `15m`, `12h`, `30d` or `never`).
    #[arg(long, default_value = "1d")]
    pub token_ttl: Lifetime,
    /// Absolute session lifetime cap (`never` for none).
    #[arg(long, default_value = "never")]
    pub max_lifetime: Lifetime,
    /// Request budget per user, e.g. `100/m`.
    #[arg(long)]
    pub throttle_rate: Option<Rate>,
    /// Most live sessions per user on this client.
    #[arg(long)]
    pub max_sessions: Option<i64>,
    /// Renew sessions on use.
    #[arg(long)]
    pub auto_renew: bool,
    /// End sessions unused for this long (`12h`; at least `5m`; `never` for no limit).
    #[arg(long, default_value = "never")]
    pub idle_timeout: Lifetime,
    /// How the token travels: `bearer` or `cookie` (browser apps, with CSRF protection).
    #[arg(long, default_value = "bearer")]
    pub transport: Transport,
    /// `refresh` issues a new token and retires the old one.
    #[arg(long)]
    pub rotate_on_refresh: bool,
    /// Description for admins.
    #[arg(long, default_value = "")]
    pub description: String,
}

impl ClientCreateArgs {
    /// The policy these flags describe (not yet validated).
    pub fn policy(&self) -> ClientPolicy {
        ClientPolicy {
            description: self.description.clone(),
            token_ttl: self.token_ttl.0,
            max_lifetime: self.max_lifetime.0,
            throttle_rate: self.throttle_rate,
            max_sessions: self.max_sessions,
            auto_renew: self.auto_renew,
            idle_timeout: self.idle_timeout.0,
            transport: self.transport,
            rotate_on_refresh: self.rotate_on_refresh,
        }
    }
}

/// Runtime settings the HTTP layer needs, derived from [`Config`].
#[derive(Debug, Clone)]
pub struct Settings {
    /// Name of the client that issues API keys.
    pub api_access_client: String,
    /// The client the web pages sign in to.
    pub account_client: String,
    /// Shared secret accepted by the introspection endpoint.
    pub introspection_secret: Option<SecretString>,
    /// Login budget per client IP.
    pub login_rate_per_ip: Rate,
    /// Login budget per username.
    pub login_rate_per_username: Rate,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpNet>,
    /// Longest a verified token stays cached (a backstop; revocations evict at once).
    pub cache_ttl: Duration,
    /// Bytes the verification cache may hold, by its own estimate of each entry.
    pub cache_max_bytes: u64,
    /// The server's own origin (`scheme://host[:port]`).
    pub public_url: String,
    /// Other origins allowed on cookie requests.
    pub allowed_origins: Vec<String>,
    /// The session cookie's name.
    pub cookie_name: String,
    /// Whether cookies are marked `Secure`.
    pub cookie_secure: bool,
    /// The remote-user header (lower-case), when remote-user login is on.
    pub remote_user_header: Option<String>,
    /// Whether remote-user login creates unknown users.
    pub remote_user_create: bool,
    /// Whether `POST /api/auth/signup` is open.
    pub signup_open: bool,
    /// Seconds a rotated-out token is still honoured.
    pub rotation_grace: i64,
    /// Most API keys one user may hold.
    pub max_api_keys: u32,
    /// The `iss` of JWT access tokens.
    pub jwt_issuer: String,
    /// The `aud` of JWT access tokens.
    pub jwt_audience: String,
    /// Lifetime of JWT access tokens, seconds.
    pub jwt_ttl: i64,
}

impl Settings {
    /// Refuses cookie settings browsers would silently reject: a `__Host-` or `__Secure-` name
    /// without `Secure`.
    pub fn check_cookies(&self) -> anyhow::Result<()> {
        let prefixed = ["__Host-", "__Secure-"]
            .iter()
            .any(|p| self.cookie_name.starts_with(p));
        if prefixed && !self.cookie_secure {
            anyhow::bail!(
                "TESSERA_COOKIE_NAME {} needs Secure cookies: browsers drop it when TESSERA_COOKIE_SECURE=false",
                self.cookie_name
            );
        }
        Ok(())
    }
}

/// The default session cookie name: `__Host-` requires `Secure`, so plain-HTTP development
/// gets a plain name.
pub fn default_cookie_name(secure: bool) -> &'static str {
    if secure { "__Host-tessera" } else { "tessera" }
}

impl Default for Settings {
    /// The defaults of the command line, for tests and embedders.
    fn default() -> Self {
        let rate = |s: &str| s.parse().expect("the default rates parse");
        Self {
            api_access_client: DEFAULT_API_ACCESS_CLIENT.into(),
            account_client: "browser".into(),
            introspection_secret: None,
            login_rate_per_ip: rate(DEFAULT_LOGIN_RATE_PER_IP),
            login_rate_per_username: rate(DEFAULT_LOGIN_RATE_PER_USERNAME),
            trusted_proxies: Vec::new(),
            cache_ttl: Duration::from_secs(DEFAULT_CACHE_TTL),
            cache_max_bytes: DEFAULT_CACHE_MAX_MB << 20,
            public_url: format!("http://{DEFAULT_BIND}"),
            allowed_origins: Vec::new(),
            cookie_name: default_cookie_name(true).into(),
            cookie_secure: true,
            remote_user_header: None,
            remote_user_create: false,
            signup_open: false,
            rotation_grace: 10,
            max_api_keys: 20,
            jwt_issuer: format!("http://{DEFAULT_BIND}"),
            jwt_audience: format!("http://{DEFAULT_BIND}"),
            jwt_ttl: 300,
        }
    }
}

impl From<&Config> for Settings {
    fn from(c: &Config) -> Self {
        let issuer = c
            .jwt_issuer
            .clone()
            .or_else(|| c.public_url.clone())
            .unwrap_or_else(|| format!("http://{}", c.bind));
        Self {
            api_access_client: c.api_access_client.clone(),
            account_client: c.account_client.clone(),
            introspection_secret: c.introspection_secret.clone(),
            login_rate_per_ip: c.login_rate_per_ip,
            login_rate_per_username: c.login_rate_per_username,
            trusted_proxies: c.trusted_proxies.clone(),
            cache_ttl: Duration::from_secs(c.cache_ttl),
            cache_max_bytes: c.cache_max_mb << 20,
            public_url: c
                .public_url
                .as_deref()
                .and_then(|raw| parse_origin(raw).ok())
                .unwrap_or_else(|| format!("http://{}", c.bind)),
            allowed_origins: c
                .allowed_origins
                .iter()
                .filter(|o| !o.is_empty())
                .cloned()
                .collect(),
            cookie_name: c
                .cookie_name
                .clone()
                .unwrap_or_else(|| default_cookie_name(c.cookie_secure).into()),
            cookie_secure: c.cookie_secure,
            remote_user_header: c.remote_user_header.clone(),
            remote_user_create: c.remote_user_create,
            signup_open: c.signup == "open",
            rotation_grace: i64::try_from(c.rotation_grace).unwrap_or(i64::MAX),
            max_api_keys: c.max_api_keys,
            jwt_issuer: issuer.clone(),
            jwt_audience: c.jwt_audience.clone().unwrap_or(issuer),
            jwt_ttl: c.jwt_ttl,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_default_equals_the_command_line_defaults() {
        let cli = Cli::try_parse_from(["tessera"]).unwrap();
        let from_cli = Settings::from(&cli.config);
        let default = Settings::default();
        assert_eq!(from_cli.api_access_client, default.api_access_client);
        assert_eq!(from_cli.login_rate_per_ip, default.login_rate_per_ip);
        assert_eq!(
            from_cli.login_rate_per_username,
            default.login_rate_per_username
        );
        assert_eq!(from_cli.cache_ttl, default.cache_ttl);
        assert_eq!(from_cli.cache_max_bytes, default.cache_max_bytes);
    }

    #[test]
    fn cookie_and_origin_settings_are_checked() {
        let cli = Cli::try_parse_from(["tessera", "--cookie-secure", "false"]).unwrap();
        let settings = Settings::from(&cli.config);
        assert_eq!(settings.cookie_name, "tessera");
        assert!(settings.check_cookies().is_ok());
        let cli = Cli::try_parse_from([
            "tessera",
            "--cookie-secure",
            "false",
            "--cookie-name",
            "__Host-x",
        ])
        .unwrap();
        assert!(Settings::from(&cli.config).check_cookies().is_err());
        let cli = Cli::try_parse_from([
            "tessera",
            "--public-url",
            "HTTPS://Auth.Example.com/",
            "--allowed-origins",
            "https://app.example.com,",
        ])
        .unwrap();
        let settings = Settings::from(&cli.config);
        assert_eq!(settings.public_url, "https://auth.example.com");
        assert_eq!(settings.allowed_origins, ["https://app.example.com"]);
        assert_eq!(
            Settings::from(&Cli::try_parse_from(["tessera"]).unwrap().config).public_url,
            format!("http://{DEFAULT_BIND}")
        );
        assert_eq!(
            parse_origin("https://x.example:443").unwrap(),
            "https://x.example"
        );
        assert_eq!(
            parse_origin("http://x.example:8080").unwrap(),
            "http://x.example:8080"
        );
        for bad in ["example.com", "ftp://x", "https://x/path", "https://"] {
            assert!(parse_origin(bad).is_err(), "{bad}");
        }
        assert!(Cli::try_parse_from(["tessera", "--cookie-name", "a;b"]).is_err());
        assert!(Cli::try_parse_from(["tessera", "--signup", "maybe"]).is_err());
    }

    #[test]
    fn bind_and_proxies_accept_what_people_write() {
        assert!(parse_bind("localhost:8080").is_ok());
        assert!(parse_bind("[::1]:8080").is_ok());
        let err = parse_bind("localhost").unwrap_err();
        assert!(err.contains("TESSERA_BIND"), "{err}");
        assert_eq!(
            parse_proxy("10.0.0.7").unwrap(),
            "10.0.0.7/32".parse::<IpNet>().unwrap()
        );
        assert_eq!(
            parse_proxy("::1").unwrap(),
            "::1/128".parse::<IpNet>().unwrap()
        );
        assert!(parse_proxy("10.0.0.0/8").is_ok());
        assert!(parse_proxy("nope").is_err());
    }
}
