//! `tessera-client`: a small CLI over the [`example_client`] library.
//!
//! ```text
//! tessera-client URL login USERNAME CLIENT   # password from the first line of stdin; prints the token
//! tessera-client URL whoami                  # token from TESSERA_TOKEN
//! tessera-client URL sessions
//! ```

use example_client::Client;
use std::io::BufRead;
use std::process::ExitCode;

async fn run(args: &[String]) -> Result<(), String> {
    let (url, cmd) = match args {
        [url, cmd, ..] => (url, cmd.as_str()),
        _ => {
            return Err(
                "usage: tessera-client URL (login USERNAME CLIENT | whoami | sessions)".into(),
            );
        }
    };
    let client = Client::new(url);
    let authed = || {
        std::env::var("TESSERA_TOKEN")
            .map(|t| client.clone().with_token(t))
            .map_err(|_| "set TESSERA_TOKEN (from login)".to_string())
    };
    let explain = |e: example_client::Error| {
        if e.needs_login() {
            format!("{e}\nYour session has ended: log in again.")
        } else {
            e.to_string()
        }
    };
    match (cmd, &args[2..]) {
        ("login", [username, client_name]) => {
            let mut password = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut password)
                .map_err(|e| e.to_string())?;
            let mut c = client.clone();
            let res = c
                .login(username, password.trim_end(), client_name, None)
                .await
                .map_err(explain)?;
            println!("{}", res.token);
        }
        ("whoami", []) => {
            let me = authed()?.me().await.map_err(explain)?;
            println!(
                "{} (id {}) on {} — {}",
                me.user.username, me.user.id, me.session.client, me.session.device_name
            );
        }
        ("sessions", []) => {
            for s in authed()?.sessions().await.map_err(explain)? {
                let mark = if s.is_current { "*" } else { " " };
                println!(
                    "{mark} {} {:<8} {:<30} {}",
                    s.id,
                    s.client,
                    s.device_name,
                    s.ip.unwrap_or_default()
                );
            }
        }
        _ => {
            return Err(
                "usage: tessera-client URL (login USERNAME CLIENT | whoami | sessions)".into(),
            );
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("{msg}");
            ExitCode::FAILURE
        }
    }
}
