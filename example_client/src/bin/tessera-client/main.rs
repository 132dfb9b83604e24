//! `tessera-client`: a command-line app over the [`example_client`] library, and the reference
//! for how an app follows Tessera's token lifecycle.
//!
//! ```text
//! tessera-client --server http://127.0.0.1:8080 login --username alice --client cli
//! tessera-client whoami | sessions | revoke ID | revoke-others | refresh
//! tessera-client apikey show | apikey create | apikey delete
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
    /// End every session of yours except this one (the API key stays).
    RevokeOthers,
    /// Renew the token now and show the new expiry.
    Refresh,
    /// End this session and delete the stored token.
    Logout,
    /// End every session of yours and your API key, and delete the stored token.
    LogoutAll,
    /// Your API access key, for scripts and services.
    Apikey {
        #[command(subcommand)]
        action: ApikeyAction,
    },
}

/// What to do with the API key.
#[derive(Debug, Clone, Copy, Subcommand)]
enum ApikeyAction {
    /// Show the key's details (not its secret).
    Show,
    /// Create the key and print it, the only time it is shown.
    Create,
    /// Delete the key.
    Delete,
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
