//! Command line and environment configuration (SPEC §5).

use crate::policy::Rate;
use clap::{Args, Parser, Subcommand};
use ipnet::IpNet;
use secrecy::SecretString;

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
    #[arg(
        long,
        global = true,
        env = "TESSERA_DATABASE_URL",
        default_value = "sqlite://tessera.db?mode=rwc"
    )]
    pub database_url: String,
    /// Address to listen on.
    #[arg(
        long,
        global = true,
        env = "TESSERA_BIND",
        default_value = "127.0.0.1:8080"
    )]
    pub bind: std::net::SocketAddr,
    /// `username:password` of an admin created at start-up when no user of that name exists.
    #[arg(
        long,
        global = true,
        env = "TESSERA_BOOTSTRAP_ADMIN",
        hide_env_values = true
    )]
    pub bootstrap_admin: Option<SecretString>,
    /// Name of the client that issues API keys.
    #[arg(
        long,
        global = true,
        env = "TESSERA_API_ACCESS_CLIENT",
        default_value = "api"
    )]
    pub api_access_client: String,
    /// Shared secret that services may present to `POST /api/auth/introspect`.
    #[arg(
        long,
        global = true,
        env = "TESSERA_INTROSPECTION_SECRET",
        hide_env_values = true
    )]
    pub introspection_secret: Option<SecretString>,
    /// Login attempts allowed per client IP.
    #[arg(
        long,
        global = true,
        env = "TESSERA_LOGIN_RATE_PER_IP",
        default_value = "30/m"
    )]
    pub login_rate_per_ip: Rate,
    /// Login attempts allowed per username.
    #[arg(
        long,
        global = true,
        env = "TESSERA_LOGIN_RATE_PER_USERNAME",
        default_value = "10/m"
    )]
    pub login_rate_per_username: Rate,
    /// Comma-separated CIDRs of reverse proxies whose `X-Forwarded-For` is believed.
    #[arg(long, global = true, env = "TESSERA_TRUSTED_PROXIES", value_delimiter = ',', num_args = 0..)]
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
    #[arg(long, global = true, env = "TESSERA_CACHE_TTL", default_value_t = 10)]
    pub cache_ttl: u64,
    /// Redis URL; when set, (user, client) budgets are shared by every instance.
    #[arg(long, global = true, env = "TESSERA_REDIS_URL")]
    pub redis_url: Option<String>,
    /// Tracing filter, e.g. `info` or `server=debug`.
    #[arg(long, global = true, env = "TESSERA_LOG", default_value = "info")]
    pub log: String,
}

/// What to do; `serve` when none is given.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Migrate, seed, and serve HTTP until SIGINT/SIGTERM.
    Serve,
    /// Apply pending database migrations.
    Migrate,
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API clients.
    #[command(subcommand)]
    Client(ClientCommand),
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

/// Policy flags of `tessera client create`.
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
    #[arg(long, value_parser = clap::value_parser!(i32).range(1..))]
    pub max_sessions: Option<i32>,
    /// Renew sessions on use.
    #[arg(long)]
    pub auto_renew: bool,
    /// Description for admins.
    #[arg(long, default_value = "")]
    pub description: String,
}

/// A duration flag: seconds, or `None` for `never`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetime(pub Option<i64>);

impl std::str::FromStr for Lifetime {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_duration(s).map(Lifetime)
    }
}

/// Parses `30s`, `15m`, `12h`, `30d` into seconds, or `never` into `None`.
pub fn parse_duration(s: &str) -> Result<Option<i64>, String> {
    if s.eq_ignore_ascii_case("never") {
        return Ok(None);
    }
    let err = || format!("invalid duration {s:?}: use 30s, 15m, 12h, 30d or never");
    let (num, unit) = s.split_at(s.len().checked_sub(1).ok_or_else(err)?);
    let n: i64 = num.parse().map_err(|_| err())?;
    let mult = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(err()),
    };
    match n.checked_mul(mult) {
        Some(secs) if secs > 0 => Ok(Some(secs)),
        _ => Err(err()),
    }
}

#[cfg(test)]
mod tests {
    use super::parse_duration;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s"), Ok(Some(30)));
        assert_eq!(parse_duration("15m"), Ok(Some(900)));
        assert_eq!(parse_duration("12h"), Ok(Some(43_200)));
        assert_eq!(parse_duration("30d"), Ok(Some(2_592_000)));
        assert_eq!(parse_duration("never"), Ok(None));
        for bad in ["", "d", "0s", "-5m", "5w", "5", "1.5h"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
