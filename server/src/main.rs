//! The `tessera` binary: parse configuration, set up logging, run the command.

use clap::Parser;
use server::config::{Cli, Command};
use std::io::IsTerminal;
use std::process::ExitCode;

/// mimalloc instead of glibc's malloc: the request path makes many small, short-lived
/// allocations across worker threads, where glibc's arenas cost about a tenth of the server's
/// CPU under load (see `scripts/bench.sh`).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let serving = matches!(cli.command, None | Some(Command::Serve));
    let wanted = cli.config.log.clone();
    let fallback = if serving { "info" } else { "warn" };
    let (filter, bad) = match wanted
        .as_deref()
        .map(tracing_subscriber::EnvFilter::try_new)
    {
        Some(Ok(filter)) => (filter, None),
        Some(Err(err)) => (tracing_subscriber::EnvFilter::new(fallback), Some(err)),
        None => (tracing_subscriber::EnvFilter::new(fallback), None),
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    if let Some(err) = bad {
        tracing::warn!(
            filter = wanted.as_deref().unwrap_or(""),
            error = %err,
            "TESSERA_LOG is not a valid tracing filter; using {fallback}"
        );
    }
    match server::cli::run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // One clear line, never a backtrace.
            eprintln!("tessera: {err:#}");
            ExitCode::FAILURE
        }
    }
}
