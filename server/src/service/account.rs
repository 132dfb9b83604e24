//! Self-service account actions (docs/endpoints.md, "Token lifecycle"): sign-up,
//! re-authentication and password change. Every password check spends from the login budgets
//! exactly as a login does (docs/concepts.md, "Budgets").

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
use sea_orm::{ActiveValue::Set, IntoActiveModel, TransactionTrait};
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
    let created = super::users::create(state, username, password, false).await?;
    tracing::info!(user_id = created.id, ip = ?caller.ip, "signup");
    Ok(created)
}

/// Checks the principal's user's password like a login does: per-IP budget for every attempt,
/// per-username budget only for failures, both checked before Argon2. A user without a usable
/// password (created by remote-user login) never passes.
async fn check_password(
    state: &AppState,
    principal: &Principal,
    password: SecretString,
    caller: &Caller,
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
            tracing::info!(user_id = principal.user().id, ip = ?caller.ip, "password check failed");
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
    check_password(state, principal, password, caller).await?;
    let at = super::sessions::reauthenticated(state, principal).await?;
    tracing::info!(user_id = principal.user().id, session_id = %principal.session().id, "reauthenticated");
    Ok(at)
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
    let user = check_password(state, principal, current, caller).await?;
    let hash = crate::password::hash(new).await?;
    let now = state.now();
    let (user_id, session_id) = (user.id, principal.session().id.clone());
    let txn = state.db.begin().await?;
    let mut model = user.into_active_model();
    model.password_hash = Set(hash);
    users::update(&txn, model).await?;
    let revoked =
        sessions::delete_for_user(&txn, user_id, Scope::SessionsExcept(&session_id), now).await?;
    sessions::set_authenticated_at(&txn, &session_id, now).await?;
    txn.commit().await?;
    tracing::info!(user_id, revoked, "password changed by its user");
    invalidate(state, Target::User(user_id)).await;
    Ok(())
}
