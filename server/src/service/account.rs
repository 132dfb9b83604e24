//! Self-service account actions (docs/endpoints.md, "Token lifecycle"): sign-up,
//! re-authentication and password change. Every password check spends from the login budgets
//! exactly as a login does (docs/concepts.md, "Budgets").

use super::events::{self, Event};
use super::invalidate;
use super::login::invalid_credentials;
use crate::cache::Target;
use crate::error::{AppError, AppResult};
use crate::gcra::BudgetKey;
use crate::net::Caller;
use crate::principal::Principal;
use crate::rules::{Fields, PASSWORD_MSG, valid_password};
use crate::state::AppState;
use crate::store::sessions::{self, Scope};
use crate::store::users;
use entity::user;
use sea_orm::{ActiveValue::Set, IntoActiveModel};
use secrecy::{ExposeSecret, SecretString};

/// Creates an account for anyone (`TESSERA_SIGNUP=open`): not an admin, and spending the
/// caller's per-IP login budget, so it cannot be used to create accounts in bulk.
pub async fn signup(
    state: &AppState,
    username: &str,
    password: SecretString,
    caller: &Caller,
) -> AppResult<user::Model> {
    if let Err(refused) = state.budgets.before_password(caller.ip, None).await {
        return Err(AppError::Throttled {
            wait_secs: refused.wait_secs,
        });
    }
    super::users::create_recorded(state, username, password, false, "signup").await
}

/// The event about the principal's session.
fn session_event(kind: &'static str, principal: &Principal) -> Event {
    let user = principal.user();
    Event::new(kind)
        .user(user.id, &user.username)
        .client(&principal.client().name)
        .session(&principal.session().id)
}

/// Checks the principal's user's password like a login does: per-IP budget for every attempt,
/// per-username budget only for failures, both checked before Argon2. A user without a usable
/// password (created by remote-user login) never passes; a failure records `reauth.failed`
/// with what it was `during` (`reauth` or `password_change`).
async fn check_password(
    state: &AppState,
    principal: &Principal,
    password: SecretString,
    caller: &Caller,
    during: &'static str,
) -> AppResult<user::Model> {
    let username = &principal.user().username;
    let who = BudgetKey::LoginUser(username.clone());
    if let Err(refused) = state
        .budgets
        .before_password(caller.ip, Some(who.clone()))
        .await
    {
        return Err(AppError::Throttled {
            wait_secs: refused.wait_secs,
        });
    }
    let user = users::find(&state.db, principal.user().id).await?;
    let verified =
        crate::password::verify(password, user.as_ref().map(|u| u.password_hash.clone())).await?;
    match user {
        Some(user) if verified => Ok(user),
        _ => {
            state.budgets.password_failed(who).await;
            let event = session_event("reauth.failed", principal).with("during", during);
            events::record_alone(state, event).await?;
            Err(invalid_credentials())
        }
    }
}

/// The person proves their password again for the presenting session; returns the new
/// `authenticated_at` (µs). The token does not change.
pub async fn reauthenticate(
    state: &AppState,
    principal: &Principal,
    password: SecretString,
    caller: &Caller,
) -> AppResult<i64> {
    check_password(state, principal, password, caller, "reauth").await?;
    let event = session_event("reauth.succeeded", principal);
    super::sessions::reauthenticated(state, principal, event).await
}

/// Changes the user's own password: every other session of the user ends (API keys are
/// kept), and the presenting session counts as freshly authenticated.
pub async fn change_password(
    state: &AppState,
    principal: &Principal,
    current: SecretString,
    new: SecretString,
    caller: &Caller,
) -> AppResult<()> {
    let mut fields = Fields::default();
    fields.check(
        "new_password",
        Some(new.expose_secret()),
        valid_password,
        PASSWORD_MSG,
    );
    fields.finish()?;
    let user = check_password(state, principal, current, caller, "password_change").await?;
    let hash = crate::password::hash(new).await?;
    let now = state.now();
    let (user_id, session_id) = (user.id, principal.session().id.clone());
    let txn = super::begin(state).await?;
    let mut model = user.into_active_model();
    model.password_hash = Set(hash);
    users::update(&*txn, model).await?;
    let revoked =
        sessions::delete_for_user(&*txn, user_id, Scope::SessionsExcept(&session_id), now).await?;
    sessions::set_authenticated_at(&*txn, &session_id, now).await?;
    let event = session_event("password.changed", principal).with("revoked", revoked);
    let recorded = events::record(&*txn, state, event).await?;
    txn.commit().await?;
    recorded.emit(state);
    invalidate(state, Target::User(user_id)).await;
    Ok(())
}
