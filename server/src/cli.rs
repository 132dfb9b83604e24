//! The `tessera` subcommands. `serve` hands over to [`crate::startup`]; the administrative
//! commands call the same services as the admin API (so a deletion here invalidates cached
//! tokens like one made over HTTP), never create a database, and name the one they use.

use crate::clock::SystemClock;
use crate::config::{Cli, ClientCommand, Command, Config, KeysCommand, Settings, UserCommand};
use crate::service::users::UserPatch;
use crate::service::{clients, keys, users};
use crate::startup::Application;
use crate::state::AppState;
use crate::{db, policy};
use anyhow::Context;
use secrecy::SecretString;
use std::io::BufRead;
use std::sync::Arc;

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = cli.config;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => Application::build(config).await?.run_until_stopped().await,
        Command::Migrate => {
            let db = db::connect(&config.database_url).await?;
            db::migrate(&db).await?;
            let state = AppState::new(db, Settings::from(&config), Arc::new(SystemClock));
            clients::seed_defaults(&state).await?;
            println!("migrations applied to {}", db::redact(&config.database_url));
            Ok(())
        }
        Command::User(cmd) => user(cmd, &admin_state(&config).await?, &config).await,
        Command::Client(cmd) => client(cmd, &admin_state(&config).await?, &config).await,
        Command::Keys(cmd) => signing_keys(cmd, &admin_state(&config).await?, &config).await,
    }
}

/// The state of an administrative command over the existing database.
async fn admin_state(config: &Config) -> anyhow::Result<AppState> {
    let db = db::connect_existing(&config.database_url).await?;
    db::migrate(&db).await?;
    // The real secret (not a throwaway one): `keys rotate` seals new keys under it.
    let secret = crate::startup::server_secret(config, &db).await?;
    let state = AppState::with_parts(
        db.clone(),
        db,
        Settings::from(config),
        Arc::new(SystemClock),
        crate::budget::BudgetStore::Memory(crate::budget::MemoryBudgets::default()),
        secret,
    );
    // Seeded by whichever command first meets an empty clients table, so that creating a
    // client before the first `serve` does not leave the defaults out.
    clients::seed_defaults(&state).await?;
    Ok(state)
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

async fn user(cmd: UserCommand, state: &AppState, config: &Config) -> anyhow::Result<()> {
    let db = db::redact(&config.database_url);
    match cmd {
        UserCommand::Create {
            username,
            admin,
            password_stdin,
        } => {
            let password = read_password(password_stdin)?;
            users::create(state, &username, password, admin).await?;
            let role = if admin { " (admin)" } else { "" };
            println!("created user {username}{role} in {db}");
        }
        UserCommand::List => {
            println!("# users in {db}");
            println!(
                "{:<6} {:<30} {:<7} {:<6}",
                "ID", "USERNAME", "ACTIVE", "ADMIN"
            );
            let mut after = None;
            loop {
                let page = users::list(state, after, 1000, None).await?;
                for u in &page {
                    println!(
                        "{:<6} {:<30} {:<7} {:<6}",
                        u.id, u.username, u.is_active, u.is_admin
                    );
                }
                match page.last() {
                    Some(last) if page.len() == 1000 => after = Some(last.id),
                    _ => break,
                }
            }
        }
        UserCommand::Deactivate { username } => set_active(state, &username, false, &db).await?,
        UserCommand::Activate { username } => set_active(state, &username, true, &db).await?,
    }
    Ok(())
}

async fn set_active(
    state: &AppState,
    username: &str,
    active: bool,
    db: &str,
) -> anyhow::Result<()> {
    let user = users::get_by_username(state, username)
        .await
        .map_err(|_| anyhow::anyhow!("no user named {username} in {db}"))?;
    let patch = UserPatch {
        is_active: Some(active),
        ..UserPatch::default()
    };
    users::update(state, user.id, patch).await?;
    if active {
        println!("activated user {username} in {db}");
    } else {
        println!("deactivated user {username} in {db}; their sessions and API keys have ended");
    }
    Ok(())
}

fn show(secs: Option<i64>) -> String {
    secs.map_or("never".into(), |s| format!("{s}s"))
}

async fn client(cmd: ClientCommand, state: &AppState, config: &Config) -> anyhow::Result<()> {
    let db = db::redact(&config.database_url);
    match cmd {
        ClientCommand::Create(args) => {
            clients::create(state, &args.name, &args.policy()).await?;
            println!("created client {} in {db}", args.name);
        }
        ClientCommand::List => {
            println!("# clients in {db}");
            println!(
                "{:<20} {:<12} {:<12} {:<10} {:<9} {:<6} {:<12} {:<9}",
                "NAME", "TOKEN_TTL", "MAX_LIFE", "RATE", "SESSIONS", "RENEW", "IDLE", "TRANSPORT"
            );
            for c in clients::list(state).await? {
                let policy = clients::policy_of(&c);
                println!(
                    "{:<20} {:<12} {:<12} {:<10} {:<9} {:<6} {:<12} {:<9}",
                    c.name,
                    show(policy.token_ttl),
                    show(policy.max_lifetime),
                    policy
                        .throttle_rate
                        .map_or("-".into(), |r: policy::Rate| r.to_string()),
                    policy.max_sessions.map_or("-".into(), |n| n.to_string()),
                    policy.auto_renew,
                    show(policy.idle_timeout),
                    policy.transport.as_str(),
                );
            }
        }
        ClientCommand::Delete { name } => {
            clients::delete(state, &name).await.map_err(|e| match e {
                crate::error::AppError::NotFound => anyhow::anyhow!("no client named {name}"),
                other => other.into(),
            })?;
            // Running PostgreSQL instances evict the client's cached sessions at once; an SQLite
            // server (another process) notices within its cache TTL.
            println!("deleted client {name} and its sessions in {db}");
        }
    }
    Ok(())
}

async fn signing_keys(cmd: KeysCommand, state: &AppState, config: &Config) -> anyhow::Result<()> {
    let db = db::redact(&config.database_url);
    let list = match cmd {
        KeysCommand::List => {
            keys::ensure(state).await?;
            keys::list(state).await?
        }
        KeysCommand::Rotate => {
            let list = keys::rotate(state).await?;
            println!("rotated the signing keys in {db}; running servers switch within 10 s");
            list
        }
    };
    println!("# signing keys in {db}");
    println!("{:<24} {:<8} CREATED", "KID", "STATE");
    for key in list {
        println!(
            "{:<24} {:<8} {}",
            key.kid,
            key.state,
            crate::clock::to_datetime(key.created)
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
    }
    Ok(())
}
