//! `tessera-client`: a command-line app over the [`example_client`] library, and the reference
//! for how an app follows Tessera's token lifecycle.
//!
//! ```text
//! tessera-client --server http://127.0.0.1:8080 login --username alice --client cli
//! tessera-client whoami | sessions | revoke ID | revoke-others | refresh
//! tessera-client apikey list
//! tessera-client apikey create --name NAME [--scope SCOPE]... [--expires-in 30d]
//! tessera-client apikey roll ID [--grace 30] | apikey delete ID
//! tessera-client apikey show | apikey create | apikey delete      (the key named `default`)
//! tessera-client logout | logout-all
//! ```
//!
//! The token is kept in a 0600 file (see [`example_client::credentials`]), renewed before a
//! command when it is close to expiry, and deleted on logout or when the server answers 401.
//! Exit status: 0 on success, 1 on any error (the reason goes to stderr).

mod commands;
mod terminal;

use clap::{Parser, Subcommand};
use std::process::ExitCode;
use terminal::parse_seconds;

/// The server used when neither `--server` nor `TESSERA_SERVER` names one.
const DEFAULT_SERVER: &str = "http://127.0.0.1:8080";

/// Log in to a Tessera server and manage this device's token and your sessions.
#[derive(Debug, Parser)]
#[command(name = "tessera-client", version)]
struct Cli {
    /// The Tessera server [default: http://127.0.0.1:8080]. After login the stored server is
    /// used; naming a different one is refused, so a token is never sent to another server.
    #[arg(long, global = true, env = "TESSERA_SERVER", value_name = "URL")]
    server: Option<String>,

    #[command(subcommand)]
    command: Command,
}

/// One thing to do.
#[derive(Debug, Subcommand)]
enum Command {
    /// Log in and store the token (the password is prompted for, or read from stdin).
    Login {
        /// The user to log in as.
        #[arg(long)]
        username: String,
        /// The client (app kind) to log in on, which sets the token's lifetime and limits.
        #[arg(long, default_value = "cli")]
        client: String,
        /// How this device appears in session lists [default: "tessera-client on <host>"].
        #[arg(long)]
        device_name: Option<String>,
        /// Read the password from the first line of stdin (implied when stdin is no terminal).
        #[arg(long)]
        password_stdin: bool,
    },
    /// Show who is logged in, on which session.
    Whoami,
    /// List your live sessions (devices); `*` marks this one.
    Sessions,
    /// End another device's session.
    Revoke {
        /// The session id, as `sessions` lists it.
        id: String,
    },
    /// End every session of yours except this one (the API keys stay).
    RevokeOthers,
    /// Renew the token now and show the new expiry.
    Refresh,
    /// End this session and delete the stored token.
    Logout,
    /// End every session of yours and every API key, and delete the stored token.
    LogoutAll,
    /// Your API keys, for scripts and services.
    ///
    /// Without an id or --name, `show`, `create` and `delete` work on the key named `default`,
    /// as they did when a user had one key (the v1 /api/auth/apiaccess endpoints), so scripts
    /// written for them keep working. `list`, `create --name`, `roll ID` and `delete ID` work
    /// on any of your keys.
    Apikey {
        #[command(subcommand)]
        action: ApikeyAction,
    },
}

/// What to do with API keys.
#[derive(Debug, Clone, Subcommand)]
enum ApikeyAction {
    /// List your live API keys, newest first (never their secrets).
    List,
    /// Show the details of the key named `default` (not its secret).
    Show,
    /// Create a key and print it alone on stdout, the only time it is shown.
    ///
    /// Without --name: the unrestricted key named `default`, never expiring unless the
    /// API-access client's policy says otherwise (what `apikey create` always did; refused
    /// while one exists). With --name: a named key, optionally scoped and expiring.
    Create {
        /// The key's name, unique among your keys (compared exactly).
        #[arg(long)]
        name: Option<String>,
        /// A scope the key holds (repeat, or separate with commas); without any the key is
        /// unrestricted. A scoped key may only call me, verify and token.
        #[arg(
            long = "scope",
            value_name = "SCOPE",
            value_delimiter = ',',
            requires = "name"
        )]
        scopes: Vec<String>,
        /// Make a key that holds no scope at all (it may still call me, verify and token).
        #[arg(long, requires = "name", conflicts_with = "scopes")]
        no_scopes: bool,
        /// Expire the key after this long: seconds (3600) or 30s, 15m, 12h, 30d; at least 60 s.
        /// Default: the API-access client's policy (never, on the default `api` client).
        #[arg(long, value_name = "DURATION", value_parser = parse_seconds, requires = "name")]
        expires_in: Option<u64>,
    },
    /// Give a key a new secret and print it alone on stdout (same id, name, scopes, expiry).
    Roll {
        /// The key's id, as `apikey list` shows it.
        id: String,
        /// How long the old secret keeps working: seconds (30) or 30s, 15m, 12h; at most 1 day.
        /// Default 0: the old secret stops working at once.
        #[arg(long, value_name = "DURATION", value_parser = parse_seconds)]
        grace: Option<u64>,
    },
    /// Delete a key: the one with this id, or without an id the key named `default`.
    Delete {
        /// The key's id, as `apikey list` shows it.
        id: Option<String>,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    // Not `Cli::parse()`, whose usage errors exit 2: every error here exits 1.
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS // --help, --version
            };
        }
    };
    match commands::run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}
