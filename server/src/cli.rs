//! The `tessera` subcommands.

use crate::cache::Target;
use crate::clock::SystemClock;
use crate::config::{Cli, ClientCommand, Command, Config, UserCommand};
use crate::error::AppError;
use crate::redis_budget::RedisBudgets;
use crate::routes::validation::{
    PASSWORD_MSG, USERNAME_MSG, valid_client_name, valid_password, valid_username,
};
use crate::state::{AppState, Settings};
use crate::store::clients::{self, NewClient};
use crate::store::users;
use crate::{db, notify, purge, touches};
use anyhow::{Context, bail};
use chrono::Utc;
use sea_orm::DatabaseConnection;
use secrecy::{ExposeSecret, SecretString};
use std::io::BufRead;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

fn now() -> i64 {
    Utc::now().timestamp_micros()
}

fn app_err(err: AppError) -> anyhow::Error {
    match err {
        AppError::Conflict(msg) => anyhow::anyhow!(msg),
        AppError::Internal(e) => e,
        other => anyhow::anyhow!(other.to_string()),
    }
}

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = cli.config;
    let db = db::connect(&config.database_url).await?;
    db::migrate(&db).await?;
    // Seeded by whichever command first meets an empty clients table, so that creating a
    // client from the CLI before the first `serve` does not leave the defaults out.
    clients::seed_defaults(&db, &config.api_access_client, now())
        .await
        .map_err(app_err)?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config, db).await,
        Command::Migrate => {
            println!("migrations applied");
            Ok(())
        }
        Command::User(cmd) => user(cmd, &db).await,
        Command::Client(cmd) => client(cmd, &db).await,
    }
}

async fn create_user(
    db: &DatabaseConnection,
    username: &str,
    password: SecretString,
    admin: bool,
) -> anyhow::Result<()> {
    if !valid_username(username) {
        bail!("invalid username: {USERNAME_MSG}");
    }
    if !valid_password(password.expose_secret()) {
        bail!("invalid password: {PASSWORD_MSG}");
    }
    let hash = crate::password::hash(password).await?;
    users::create(db, username, hash, admin, now())
        .await
        .map_err(app_err)?;
    Ok(())
}

async fn serve(config: Config, db: DatabaseConnection) -> anyhow::Result<()> {
    if let Some(bootstrap) = &config.bootstrap_admin {
        let (username, password) = bootstrap
            .expose_secret()
            .split_once(':')
            .context("TESSERA_BOOTSTRAP_ADMIN must be username:password")?;
        if users::find_by_username(&db, username)
            .await
            .map_err(app_err)?
            .is_none()
        {
            create_user(
                &db,
                username,
                SecretString::from(password.to_string()),
                true,
            )
            .await
            .context("cannot create the bootstrap admin")?;
            tracing::info!(username, "bootstrap admin created");
        }
    }
    let reader = db::connect_reader(&config.database_url, &db).await?;
    let redis = match &config.redis_url {
        Some(url) => Some(RedisBudgets::connect(url, "tessera:").await?),
        None => None,
    };
    let state = AppState::with_reader(
        db,
        reader,
        Settings::from(&config),
        Arc::new(SystemClock),
        redis,
    );
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .with_context(|| format!("cannot listen on {}", config.bind))?;
    tracing::info!(address = %config.bind, "tessera listening");

    let (stop_tx, stop_rx) = watch::channel(false);
    let purge = tokio::spawn(purge::run(
        state.clone(),
        Duration::from_secs(config.purge_interval),
        config.purge_batch,
        stop_rx,
    ));
    let flusher = tokio::spawn(touches::run(
        state.clone(),
        Duration::from_secs(1),
        stop_tx.subscribe(),
    ));
    let listener_task = config.database_url.starts_with("postgres").then(|| {
        tokio::spawn(notify::listen(
            config.database_url.clone(),
            state.clone(),
            stop_tx.subscribe(),
            None,
        ))
    });
    let app =
        crate::app(state.clone()).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    let _ = stop_tx.send(true);
    let _ = purge.await;
    let _ = flusher.await;
    if let Some(task) = listener_task {
        let _ = task.await;
    }
    // Requests have drained: write the last queued uses.
    let written = state.touches.flush(&state.db).await.map_err(app_err)?;
    tracing::info!(written, "last_used writes flushed");
    tracing::info!("tessera stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down: draining in-flight requests");
}

fn read_password(from_stdin: bool) -> anyhow::Result<SecretString> {
    let line = if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from stdin")?;
        line.trim_end_matches(['\r', '\n']).to_string()
    } else {
        rpassword::prompt_password("Password: ")
            .context("cannot read the password (use --password-stdin)")?
    };
    Ok(SecretString::from(line))
}

async fn user(cmd: UserCommand, db: &DatabaseConnection) -> anyhow::Result<()> {
    match cmd {
        UserCommand::Create {
            username,
            admin,
            password_stdin,
        } => {
            let password = read_password(password_stdin)?;
            create_user(db, &username, password, admin).await?;
            println!(
                "created user {username}{}",
                if admin { " (admin)" } else { "" }
            );
        }
        UserCommand::List => {
            println!(
                "{:<6} {:<30} {:<7} {:<6}",
                "ID", "USERNAME", "ACTIVE", "ADMIN"
            );
            for u in users::list(db).await.map_err(app_err)? {
                println!(
                    "{:<6} {:<30} {:<7} {:<6}",
                    u.id, u.username, u.is_active, u.is_admin
                );
            }
        }
    }
    Ok(())
}

fn show(secs: Option<i64>) -> String {
    secs.map_or("never".into(), |s| format!("{s}s"))
}

async fn client(cmd: ClientCommand, db: &DatabaseConnection) -> anyhow::Result<()> {
    match cmd {
        ClientCommand::Create(args) => {
            if !valid_client_name(&args.name) {
                bail!(
                    "invalid client name: 1–64 of A-Z a-z 0-9 . _ -, starting with a letter or digit"
                );
            }
            let new = NewClient {
                name: args.name.clone(),
                description: args.description,
                token_ttl: args.token_ttl.0,
                max_lifetime: args.max_lifetime.0,
                throttle_rate: args.throttle_rate.map(|r| r.to_string()),
                max_sessions: args.max_sessions,
                auto_renew: args.auto_renew,
            };
            clients::create(db, new, now()).await.map_err(app_err)?;
            println!("created client {}", args.name);
        }
        ClientCommand::List => {
            println!(
                "{:<20} {:<12} {:<12} {:<10} {:<9} {:<6}",
                "NAME", "TOKEN_TTL", "MAX_LIFE", "RATE", "SESSIONS", "RENEW"
            );
            for c in clients::list(db).await.map_err(app_err)? {
                println!(
                    "{:<20} {:<12} {:<12} {:<10} {:<9} {:<6}",
                    c.name,
                    show(c.token_ttl),
                    show(c.max_lifetime),
                    c.throttle_rate.unwrap_or_else(|| "-".into()),
                    c.max_sessions.map_or("-".into(), |n| n.to_string()),
                    c.auto_renew
                );
            }
        }
        ClientCommand::Delete { name } => {
            let Some(c) = clients::find_by_name(db, &name).await.map_err(app_err)? else {
                bail!("no client named {name}");
            };
            clients::delete(db, c.id).await.map_err(app_err)?;
            // Running PostgreSQL instances evict the client's cached sessions at once; an SQLite
            // server (another process) notices within its cache TTL.
            notify::publish(db, &Target::Client(c.id)).await?;
            println!("deleted client {name} and its sessions");
        }
    }
    Ok(())
}
