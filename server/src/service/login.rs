//! Password login: budgets, client checks, Argon2, then a new session.

use super::sessions::{self, Issue, Issued};
use crate::error::{AppError, AppResult};
use crate::gcra::BudgetKey;
use crate::net::Caller;
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
}

/// A successful login: the session, its user, and a new proof for this device.
pub struct LoggedIn {
    pub issued: Issued,
    pub user: entity::user::Model,
    pub device_proof: String,
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
        return Err(AppError::Throttled {
            wait_secs: refused.wait_secs,
        });
    }
    let Some(client) = clients::find_by_name(&state.db, &creds.client).await? else {
        outcome(state, "unknown_client", username, &caller);
        return Err(AppError::bad_request(
            "unknown_client",
            "No client with that name.",
        ));
    };
    if client.name == state.settings.api_access_client {
        outcome(state, "invalid_client", username, &caller);
        return Err(AppError::bad_request(
            "invalid_client",
            "This client issues API keys only; use POST /api/auth/apiaccess.",
        ));
    }
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
    let user = match user {
        Some(user) if verified && user.is_active => user,
        _ => {
            state.budgets.password_failed(who).await;
            outcome(state, "invalid_credentials", username, &caller);
            return Err(invalid_credentials());
        }
    };
    let device_name = creds
        .device_name
        .unwrap_or_else(|| crate::net::device_name(&caller.user_agent));
    let issued = sessions::issue(
        state,
        Issue {
            kind: TokenKind::Session,
            user_id: user.id,
            client,
            device_name,
            user_agent: caller.user_agent.clone(),
            ip: caller.ip.map(|ip| ip.to_string()),
            login: true,
        },
    )
    .await?;
    outcome(state, "success", username, &caller);
    let device_proof = state.secret.issue_device_proof(&user.username, now_secs);
    Ok(LoggedIn {
        issued,
        user,
        device_proof,
    })
}
