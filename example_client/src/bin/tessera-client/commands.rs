//! What each subcommand does, and how failures are put to the person.

use crate::terminal::{
    default_device_name, expires, normalize, print_api_keys, print_sessions, read_password, scopes,
    time,
};
use crate::{ApikeyAction, Cli, Command, DEFAULT_SERVER};
use chrono::{DateTime, Utc};
use example_client::credentials::{Credentials, Store, StoreError};
use example_client::{Client, Error, NewApiKey, NewApiKeyRequest};

/// Runs the command line; `Err` is the message for stderr.
pub async fn run(cli: Cli) -> Result<(), String> {
    let store = Store::from_env().map_err(|e| e.to_string())?;
    let named = cli.server.as_deref().map(normalize);
    match cli.command {
        Command::Login {
            username,
            client,
            device_name,
            password_stdin,
        } => {
            let server = named.unwrap_or_else(|| DEFAULT_SERVER.to_string());
            let device_name = device_name.unwrap_or_else(default_device_name);
            let password = read_password(&username, password_stdin)?;
            login(&store, &server, &username, &client, &device_name, &password)
                .await
                .map_err(|f| describe(&f, &server))
        }
        command => {
            let mut device = Device::open(store, named)?;
            let result = device.run(command).await;
            result.map_err(|f| device.explain(f))
        }
    }
}

/// Why a command failed.
enum Failure {
    Api(Error),
    Store(StoreError),
    /// A message that is already in plain words.
    Plain(String),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Api(e)
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure::Store(e)
    }
}

/// The message for a failure that does not depend on being logged in.
fn describe(failure: &Failure, server: &str) -> String {
    match failure {
        Failure::Api(e) => match e {
            Error::Api {
                status: 429,
                retry_after,
                ..
            } => format!(
                "The server is limiting requests: wait {} seconds and try again.",
                retry_after.unwrap_or(1)
            ),
            Error::Api {
                code,
                detail,
                fields,
                ..
            } => {
                // A validation_error says which input was wrong: `name: Enter 1–100 …`.
                let fields: Vec<String> = fields
                    .iter()
                    .map(|(field, messages)| format!("{field}: {}", messages.join(" ")))
                    .collect();
                if fields.is_empty() {
                    format!("{detail} ({code})")
                } else {
                    format!("{detail} ({code}) {}", fields.join("; "))
                }
            }
            Error::InvalidInput(message) => message.clone(),
            Error::Unexpected { .. } | Error::Transport(_) => {
                format!("Could not talk to the Tessera server at {server}: {e}")
            }
        },
        Failure::Store(e) => format!("Credentials file: {e}"),
        Failure::Plain(message) => message.clone(),
    }
}

/// Logs in and stores the token, replacing (and logging out) an earlier login.
async fn login(
    store: &Store,
    server: &str,
    username: &str,
    client_name: &str,
    device_name: &str,
    password: &str,
) -> Result<(), Failure> {
    let mut client = Client::new(server);
    // The proof of an earlier login from this device keeps its logins going while someone
    // guesses the password elsewhere.
    if let Some(proof) = store.device_proof(server) {
        client = client.with_device_proof(proof);
    }
    let res = client
        .login(username, password, client_name, Some(device_name))
        .await?;
    if let Some(proof) = &res.device_proof {
        store.save_device_proof(server, proof)?;
    }
    // A new login is a new session: end the one it replaces so that it does not linger. Best
    // effort, as the old session may be gone already or belong to an unreachable server.
    if let Ok(Some(old)) = store.load() {
        let _ = Client::new(&old.server)
            .with_token(old.token)
            .logout()
            .await;
    }
    let creds = Credentials {
        server: server.to_string(),
        token: res.token,
        username: res.user.username.clone(),
        client: res.session.client.clone(),
        session_id: res.session.id.clone(),
        expiry: res.expiry,
        renewed_at: Utc::now(),
    };
    store.save(&creds)?;
    println!(
        "Logged in to {server} as {} on client {} (device \"{}\", session {}).",
        res.user.username, res.session.client, res.session.device_name, res.session.id
    );
    println!(
        "The token is stored in {} and {}.",
        store.path().display(),
        expires(res.expiry)
    );
    Ok(())
}

/// A logged-in device: its stored credentials and a client that uses them.
struct Device {
    store: Store,
    creds: Credentials,
    client: Client,
}

impl Device {
    /// Loads the stored login; refuses a `--server` other than the one the token is for.
    fn open(store: Store, named: Option<String>) -> Result<Self, String> {
        let server = named.clone().unwrap_or_else(|| DEFAULT_SERVER.to_string());
        let creds = match store.load() {
            Ok(Some(c)) => c,
            Ok(None) => {
                return Err(format!(
                    "Not logged in. Log in with: tessera-client --server {server} login --username NAME"
                ));
            }
            Err(e) => return Err(format!("Credentials file: {e}")),
        };
        if let Some(named) = named.filter(|n| *n != creds.server) {
            return Err(format!(
                "You are logged in to {}, not {named}. Log in there with: \
                 tessera-client --server {named} login --username {}",
                creds.server, creds.username
            ));
        }
        let client = Client::new(&creds.server).with_token(creds.token.clone());
        Ok(Self {
            store,
            creds,
            client,
        })
    }

    /// The message for `failure`; a 401 also deletes the stored token, which no longer works.
    fn explain(&self, failure: Failure) -> String {
        match &failure {
            Failure::Api(e) if e.needs_login() => {
                let removed = match self.store.remove() {
                    Ok(_) => String::new(),
                    Err(e) => format!("\n(The stored token could not be deleted: {e})"),
                };
                format!(
                    "Your session has ended or was revoked. Log in again with: \
                     tessera-client --server {} login --username {} --client {}{removed}",
                    self.creds.server, self.creds.username, self.creds.client
                )
            }
            _ => describe(&failure, &self.creds.server),
        }
    }

    /// Renews the token and stores the new expiry.
    async fn renew(&mut self) -> Result<Option<DateTime<Utc>>, Failure> {
        let expiry = self.client.refresh().await?;
        // A client that rotates tokens answered a new one: keep it.
        if let Some(token) = self.client.token() {
            self.creds.token = token.to_string();
        }
        self.creds.renewed(expiry, Utc::now());
        self.store.save(&self.creds)?;
        Ok(expiry)
    }

    async fn run(&mut self, command: Command) -> Result<(), Failure> {
        // `refresh` renews by itself; renewing a token about to be ended is pointless.
        let skip_renewal = matches!(
            command,
            Command::Refresh | Command::Logout | Command::LogoutAll
        );
        if !skip_renewal && self.creds.needs_renewal(Utc::now()) {
            self.renew().await?;
        }
        match command {
            // `run` handles login before any credentials are loaded.
            Command::Login { .. } => return Err(Failure::Plain("Already handled.".into())),
            Command::Whoami => {
                let me = self.client.me().await?;
                let role = if me.user.is_admin { ", admin" } else { "" };
                println!("{} (user {}{role})", me.user.username, me.user.id);
                println!(
                    "session {} on client {}, device \"{}\"; the token {}",
                    me.session.id,
                    me.session.client,
                    me.session.device_name,
                    expires(self.creds.expiry)
                );
            }
            Command::Sessions => print_sessions(&self.client.sessions().await?),
            Command::Revoke { id } => match self.client.revoke(&id).await {
                Err(e) if e.code() == Some("cannot_revoke_current") => {
                    return Err(Failure::Plain(
                        "That is this device's session: use `tessera-client logout`.".into(),
                    ));
                }
                other => {
                    other?;
                    println!("Revoked session {id}.");
                }
            },
            Command::RevokeOthers => {
                let n = self.client.revoke_others().await?;
                println!("Revoked {n} other session(s); this one and your API keys remain.");
            }
            Command::Refresh => {
                let expiry = self.renew().await?;
                println!("Renewed: the token {}.", expires(expiry));
            }
            Command::Logout => self.logout(false).await?,
            Command::LogoutAll => self.logout(true).await?,
            Command::Apikey { action } => self.apikey(action).await?,
        }
        Ok(())
    }

    /// Ends the session (or all of them) and deletes the stored token.
    async fn logout(&mut self, everywhere: bool) -> Result<(), Failure> {
        let result = if everywhere {
            self.client.logout_all().await
        } else {
            self.client.logout().await
        };
        // A 401 means the session is already gone: the person is logged out either way. Any
        // other failure keeps the token, so that the logout can be retried.
        let note = match result {
            Ok(()) => "",
            Err(e) if e.needs_login() => " (the session had already ended)",
            Err(e) => return Err(e.into()),
        };
        self.store.remove()?;
        if everywhere {
            println!("Logged out of every session and deleted every API key{note}.");
        } else {
            println!("Logged out{note}.");
        }
        Ok(())
    }

    async fn apikey(&self, action: ApikeyAction) -> Result<(), Failure> {
        let plain = |s: &str| Err(Failure::Plain(s.to_string()));
        match action {
            ApikeyAction::List => {
                let keys = self.client.api_keys().await?;
                if keys.is_empty() {
                    eprintln!(
                        "You have no API keys. Create one with: \
                         tessera-client apikey create --name NAME"
                    );
                } else {
                    print_api_keys(&keys);
                }
            }
            ApikeyAction::Show => match self.client.api_key().await {
                Err(e) if e.code() == Some("not_found") => {
                    return plain(
                        "You have no API key named \"default\". Create one with: \
                         tessera-client apikey create (all your keys: tessera-client apikey list)",
                    );
                }
                other => {
                    let key = other?;
                    println!(
                        "API key {}… on client {} (id {}, name \"{}\", scopes {})",
                        key.token_hint,
                        key.client,
                        key.id,
                        key.name,
                        scopes(key.scopes.as_deref())
                    );
                    println!(
                        "created {}, last used {}",
                        time(key.created),
                        time(key.last_used)
                    );
                    println!("it {}", expires(key.expiry));
                }
            },
            ApikeyAction::Create { name: None, .. } => {
                let new = match self.client.create_api_key().await {
                    // 409: a live `default` key exists, or the user holds the most keys allowed.
                    Err(e) if e.code() == Some("conflict") => {
                        if self.client.api_key().await.is_ok() {
                            return plain(
                                "You already have an API key named \"default\". Delete it first \
                                 with: tessera-client apikey delete, or create another with: \
                                 tessera-client apikey create --name NAME",
                            );
                        }
                        return Err(e.into());
                    }
                    other => other?,
                };
                print_new_key(&new, "API key");
            }
            ApikeyAction::Create {
                name: Some(name),
                scopes,
                no_scopes,
                expires_in,
            } => {
                let req = NewApiKeyRequest {
                    name,
                    scopes: (no_scopes || !scopes.is_empty()).then_some(scopes),
                    expires_in,
                };
                print_new_key(&self.client.create_named_api_key(&req).await?, "API key");
            }
            ApikeyAction::Roll { id, grace } => match self.client.roll_api_key(&id, grace).await {
                Err(e) if e.code() == Some("not_found") => return Err(no_key_with_id(&id)),
                other => {
                    let new = other?;
                    print_new_key(&new, "new API key");
                    match grace.unwrap_or(0) {
                        0 => eprintln!("The old one no longer works."),
                        n => eprintln!("The old one keeps working for {n} more seconds."),
                    }
                }
            },
            ApikeyAction::Delete { id: Some(id) } => {
                match self.client.delete_api_key_by_id(&id).await {
                    Err(e) if e.code() == Some("not_found") => return Err(no_key_with_id(&id)),
                    other => {
                        other?;
                        println!("Deleted API key {id}.");
                    }
                }
            }
            ApikeyAction::Delete { id: None } => match self.client.delete_api_key().await {
                Err(e) if e.code() == Some("not_found") => {
                    return plain("You have no API key named \"default\".");
                }
                other => {
                    other?;
                    println!("Deleted the API key.");
                }
            },
        }
        Ok(())
    }
}

/// Prints a new secret alone on stdout, so that scripts can capture it, and the rest on stderr.
fn print_new_key(new: &NewApiKey, what: &str) {
    println!("{}", new.token);
    let key = &new.key;
    eprintln!(
        "This is the only time the {what} is shown: store it now. It {}.",
        expires(key.expiry)
    );
    eprintln!(
        "Key {} \"{}\", scopes {}.",
        key.id,
        key.name,
        scopes(key.scopes.as_deref())
    );
}

/// The failure for an id that names none of the person's keys.
fn no_key_with_id(id: &str) -> Failure {
    Failure::Plain(format!(
        "You have no API key with id {id}. List them with: tessera-client apikey list"
    ))
}
