//! Writes `openapi/openapi.json` from `server::openapi()`; `--check` fails when it drifts.

use std::path::PathBuf;
use std::process::ExitCode;

// The committed document's path.
fn target() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("openapi.json")
}

fn main() -> ExitCode {
    let rendered = openapi::render();
    let path = target();
    if std::env::args().any(|a| a == "--check") {
        let current = std::fs::read_to_string(&path).unwrap_or_default();
        if current != rendered {
            eprintln!(
                "{} is out of date: run `cargo run -p openapi`",
                path.display()
            );
            return ExitCode::FAILURE;
        }
        return ExitCode::SUCCESS;
    }
    match std::fs::write(&path, rendered) {
        Ok(()) => {
            println!("wrote {}", path.display());
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("cannot write {}: {err}", path.display());
            ExitCode::FAILURE
        }
    }
}
