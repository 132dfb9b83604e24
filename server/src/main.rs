//! The `tessera` binary: parse configuration, set up logging, run the command.

use clap::Parser;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = server::config::Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_new(&cli.config.log)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    match server::cli::run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // One clear line, never a backtrace.
            eprintln!("tessera: {err:#}");
            ExitCode::FAILURE
        }
    }
}
