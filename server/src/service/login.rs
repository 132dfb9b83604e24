//! Logins: by password (in the body or HTTP Basic) and by a trusted single-sign-on proxy
//! (remote user). Budgets, client checks, Argon2, then a new session.

use super::events::{self, Event};
use super::sessions::{self, Issue, Issued};
use crate::error::{AppError, AppResult};
use crate::gcra::BudgetKey;
use crate::net::Caller;
use crate::policy::Transport;
use crate::state::AppState;
use crate::store::{clients, users};
use crate::token::TokenKind;
use secrecy::SecretString;

/// A validated login request.
#[derive(Debug)]
pub struct Credentials {
    pub username: String,
    pub password: SecretString,
    pub client: String,
    /// Shown in the session list; derived from the User-Agent when `None`.
    pub device_name: Option<String>,
    /// The proof of an earlier login from this device, if the app kept one.
    pub device_proof: Option<String>,
    /// Whether the request's `Origin` (if any) is this server's or an allowed one; a login to
    /// a cookie client from a foreign origin is a CSRF attempt (login CSRF).
    pub origin_allowed: bool,
    /// How the credentials came: `password` (the body) or `basic` (the header), for the event.
    pub method: &'static str,
}

/// A validated remote-user login: the user a trusted proxy vouches for.
#[derive(Debug)]
pub struct RemoteLogin {
    pub username: String,
    pub client: String,
    pub device_name: Option<String>,
    /// See [`Credentials::origin_allowed`].
    pub origin_allowed: bool,
}

/// A successful login: the session, its user, and a new proof for this device.
pub struct LoggedIn {
    pub issued: Issued,
    pub user: entity::user::Model,
    /// `None` for a remote-user login, which proves no password on this device.
    pub device_proof: Option<String>,
}

/// The one answer for a wrong password, an unknown user and an inactive user.
pub fn invalid_credentials() -> AppError {
    AppError::bad_request(
        "invalid_credentials",
        "Unable to log in with provided credentials.",
    )
}

fn outcome(state: &AppState, outcome: &'static str, username: &str, caller: &Caller) {
    state.metrics.observe_login(outcome);
    tracing::info!(outcome, username, ip = ?caller.ip, "login");
}

/// Logs a user in on a client; wrong password, unknown and inactive users get the same answer in
/// about the same time (an unknown user is verified against a dummy hash).
///
/// Budgets (docs/concepts.md, "Budgets"): every attempt spends from its IP's budget; only a
/// failed one spends from the username's budget, or, when the app sent a valid proof that this
/// device logged in as that user before, from that device's own budget. So someone guessing a
/// person's password elsewhere cannot lock the person's own devices out. Both are checked
/// before Argon2 runs, and a refused attempt spends nothing.
pub async fn login(state: &AppState, creds: Credentials, caller: Caller) -> AppResult<LoggedIn> {
    let username = creds.username.as_str();
    let now_secs = state.now().div_euclid(crate::clock::SECOND);
    let who = match creds
        .device_proof
        .as_deref()
        .and_then(|p| state.secret.check_device_proof(p, username, now_secs))
    {
        Some(nonce) => BudgetKey::LoginProof(nonce),
        None => BudgetKey::LoginUser(username.to_string()),
    };
    if let Err(refused) = state
        .budgets
        .before_password(caller.ip, Some(who.clone()))
        .await
    {
        outcome(state, "throttled", username, &caller);
        throttled_event(state, username, &creds.client).await?;
        return Err(AppError::Throttled {
            wait_secs: refused.wait_secs,
        });
    }
    let client = login_client(
        state,
        &creds.client,
        creds.origin_allowed,
        username,
        &caller,
    )
    .await?;
    // A name that breaks the username rules cannot exist; it is verified like an unknown one.
    let user = if crate::rules::valid_username(username) {
        users::find_by_username(&state.db, username).await?
    } else {
        None
    };
    let verified = crate::password::verify(
        creds.password,
        user.as_ref().map(|u| u.password_hash.clone()),
    )
    .await?;
    // The answer is the same for all three; the event keeps the reason.
    let refused = match &user {
        None => Some(
            Event::new("login.failed")
                .username(username)
                .with("reason", "unknown_user"),
        ),
        Some(u) if !verified => Some(
            Event::new("login.failed")
                .user(u.id, &u.username)
                .with("reason", "wrong_password"),
        ),
        Some(u) if !u.is_active => Some(
            Event::new("login.failed")
                .user(u.id, &u.username)
                .with("reason", "inactive_user"),
        ),
        Some(_) => None,
    };
    if let Some(event) = refused {
        state.budgets.password_failed(who).await;
        outcome(state, "invalid_credentials", username, &caller);
        events::record_alone(state, event.client(&client.name)).await?;
        return Err(invalid_credentials());
    }
    let user = user.ok_or_else(invalid_credentials)?;
    let device_proof = state.secret.issue_device_proof(&user.username, now_secs);
    let issued = start(
        state,
        &user,
        client,
        creds.device_name,
        &caller,
        creds.method,
    )
    .await?;
    outcome(state, "success", username, &caller);
    Ok(LoggedIn {
        issued,
        user,
        device_proof: Some(device_proof),
    })
}

/// The client a login names, refused when unknown, when it is the API-access client, or when
/// it is a cookie client and the request comes from a foreign origin.
async fn login_client(
    state: &AppState,
    name: &str,
    origin_allowed: bool,
    username: &str,
    caller: &Caller,
) -> AppResult<entity::client::Model> {
    let failed = |reason: &'static str| {
        Event::new("login.failed")
            .username(username)
            .client(name)
            .with("reason", reason)
    };
    let Some(client) = clients::find_by_name(&state.db, name).await? else {
        outcome(state, "unknown_client", username, caller);
        events::record_alone(state, failed("unknown_client")).await?;
        return Err(AppError::bad_request(
            "unknown_client",
            "No client with that name.",
        ));
    };
    if client.name == state.settings.api_access_client {
        outcome(state, "invalid_client", username, caller);
        events::record_alone(state, failed("invalid_client")).await?;
        return Err(AppError::bad_request(
            "invalid_client",
            "This client issues API keys only; use POST /api/auth/apiaccess.",
        ));
    }
    if !origin_allowed && client.transport == Transport::Cookie.as_str() {
        outcome(state, "csrf_failed", username, caller);
        return Err(AppError::CsrfFailed);
    }
    Ok(client)
}

/// Creates the session of a successful login.
async fn start(
    state: &AppState,
    user: &entity::user::Model,
    client: entity::client::Model,
    device_name: Option<String>,
    caller: &Caller,
    method: &'static str,
) -> AppResult<Issued> {
    let device_name = device_name.unwrap_or_else(|| crate::net::device_name(&caller.user_agent));
    sessions::issue(
        state,
        Issue {
            kind: TokenKind::Session,
            user_id: user.id,
            client,
            device_name,
            user_agent: caller.user_agent.clone(),
            ip: caller.ip.map(|ip| ip.to_string()),
            login: true,
            event: Some(
                Event::new("login.succeeded")
                    .user(user.id, &user.username)
                    .with("method", method),
            ),
        },
    )
    .await
}

/// Records a throttled login attempt (the user's id when the name exists).
async fn throttled_event(state: &AppState, username: &str, client: &str) -> AppResult<()> {
    let event = Event::new("login.throttled").client(client);
    let event = match users::find_by_username(&state.db, username).await? {
        Some(user) => event.user(user.id, &user.username),
        None => event.username(username),
    };
    events::record_alone(state, event).await
}

/// Logs in the user a trusted single-sign-on proxy names (docs/tokens.md, "Single sign-on
/// proxy"). The caller has already checked that the request comes from a trusted proxy. It
/// spends the per-IP login budget; an unknown user is created (without a usable password)
/// only when `TESSERA_REMOTE_USER_CREATE` is on, and an unknown or inactive one otherwise gets
/// the same answer as a wrong password.
pub async fn login_remote(
    state: &AppState,
    req: RemoteLogin,
    caller: Caller,
) -> AppResult<LoggedIn> {
    let username = req.username.as_str();
    if let Err(refused) = state.budgets.before_password(caller.ip, None).await {
        outcome(state, "throttled", username, &caller);
        throttled_event(state, username, &req.client).await?;
        return Err(AppError::Throttled {
            wait_secs: refused.wait_secs,
        });
    }
    let client = login_client(state, &req.client, req.origin_allowed, username, &caller).await?;
    let valid = crate::rules::valid_username(username);
    let existing = if valid {
        users::find_by_username(&state.db, username).await?
    } else {
        None
    };
    let user = match existing {
        Some(user) if user.is_active => user,
        None if valid && state.settings.remote_user_create => {
            super::users::create_without_password(state, username).await?
        }
        existing => {
            outcome(state, "invalid_credentials", username, &caller);
            let event = match existing {
                Some(u) => Event::new("login.failed")
                    .user(u.id, &u.username)
                    .with("reason", "inactive_user"),
                None => Event::new("login.failed")
                    .username(username)
                    .with("reason", "unknown_user"),
            };
            events::record_alone(state, event.client(&client.name)).await?;
            return Err(invalid_credentials());
        }
    };
    let issued = start(state, &user, client, req.device_name, &caller, "remote").await?;
    outcome(state, "success_remote", username, &caller);
    Ok(LoggedIn {
        issued,
        user,
        device_proof: None,
    })
}
