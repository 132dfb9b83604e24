//! Users: creation (rules, Argon2), changes (the last-admin rule; deactivation and password
//! changes end sessions), deletion.

use super::events::{self, Event};
use super::invalidate;
use crate::cache::Target;
use crate::error::{AppError, AppResult};
use crate::rules::{Fields, PASSWORD_MSG, USERNAME_MSG, valid_password, valid_username};
use crate::state::AppState;
use crate::store::sessions::{self, Scope};
use crate::store::users;
use entity::user;
use sea_orm::{ActiveValue::Set, IntoActiveModel};
use secrecy::{ExposeSecret, SecretString};

const LAST_ADMIN: &str = "This is the last active admin; promote another user first.";
const TAKEN: &str = "A user with that username already exists.";

/// Creates a user after checking the username and password rules (`user.created`).
pub async fn create(
    state: &AppState,
    username: &str,
    password: SecretString,
    is_admin: bool,
) -> AppResult<user::Model> {
    create_recorded(state, username, password, is_admin, "user.created").await
}

/// Creates a user, recording an event of `kind` (`user.created`, or `signup`).
pub async fn create_recorded(
    state: &AppState,
    username: &str,
    password: SecretString,
    is_admin: bool,
    kind: &'static str,
) -> AppResult<user::Model> {
    let mut fields = Fields::default();
    fields.check("username", Some(username), valid_username, USERNAME_MSG);
    fields.check(
        "password",
        Some(password.expose_secret()),
        valid_password,
        PASSWORD_MSG,
    );
    fields.finish()?;
    if users::find_by_username(&state.db, username)
        .await?
        .is_some()
    {
        return Err(AppError::Conflict(TAKEN.into()));
    }
    let hash = crate::password::hash(password).await?;
    let txn = super::begin(state).await?;
    let created = users::create(&*txn, username, hash, is_admin, state.now())
        .await
        .map_err(|err| match AppError::from(err) {
            AppError::Conflict(_) => AppError::Conflict(TAKEN.into()),
            other => other,
        })?;
    let event = Event::new(kind)
        .user(created.id, &created.username)
        .with("is_admin", is_admin);
    let recorded = events::record(&*txn, state, event).await?;
    txn.commit().await?;
    recorded.emit(state);
    Ok(created)
}

/// Creates a user without a usable password (remote-user login, `TESSERA_REMOTE_USER_CREATE`);
/// when a concurrent request created them first, returns that user.
pub async fn create_without_password(state: &AppState, username: &str) -> AppResult<user::Model> {
    let txn = super::begin(state).await?;
    let created = match users::create(
        &*txn,
        username,
        crate::password::unusable(),
        false,
        state.now(),
    )
    .await
    {
        Ok(created) => created,
        Err(err) => {
            txn.rollback().await?;
            return match AppError::from(err) {
                AppError::Conflict(_) => get_by_username(state, username).await,
                other => Err(other),
            };
        }
    };
    let event = Event::new("user.created")
        .user(created.id, &created.username)
        .with("by", "remote_user");
    let recorded = events::record(&*txn, state, event).await?;
    txn.commit().await?;
    recorded.emit(state);
    Ok(created)
}

/// A user by id, or 404.
pub async fn get(state: &AppState, id: i32) -> AppResult<user::Model> {
    users::find(&state.db, id).await?.ok_or(AppError::NotFound)
}

/// A user by username, or 404.
pub async fn get_by_username(state: &AppState, username: &str) -> AppResult<user::Model> {
    users::find_by_username(&state.db, username)
        .await?
        .ok_or(AppError::NotFound)
}

/// A page of users by ascending id.
pub async fn list(
    state: &AppState,
    after: Option<i32>,
    limit: u64,
    q: Option<&str>,
) -> AppResult<Vec<user::Model>> {
    Ok(users::list(&state.db, after, limit, q).await?)
}

/// Changes to a user; `None` leaves a field as it is.
#[derive(Debug, Default)]
pub struct UserPatch {
    pub password: Option<SecretString>,
    pub is_active: Option<bool>,
    pub is_admin: Option<bool>,
}

/// Applies `patch`. A new password ends the user's sessions (not API keys); deactivation ends
/// every session and API key (reactivation restores none). The last active admin cannot be
/// deactivated or demoted.
pub async fn update(state: &AppState, id: i32, patch: UserPatch) -> AppResult<user::Model> {
    if let Some(p) = &patch.password {
        let mut fields = Fields::default();
        fields.check(
            "password",
            Some(p.expose_secret()),
            valid_password,
            PASSWORD_MSG,
        );
        fields.finish()?;
    }
    let existing = get(state, id).await?;
    let hash = match patch.password {
        Some(p) => Some(crate::password::hash(p).await?),
        None => None,
    };
    let now = state.now();
    let deactivated = existing.is_active && patch.is_active == Some(false);
    let txn = super::begin(state).await?;
    let stays_admin = patch.is_active.unwrap_or(existing.is_active)
        && patch.is_admin.unwrap_or(existing.is_admin);
    if existing.is_active
        && existing.is_admin
        && !stays_admin
        && users::count_active_admins(&*txn).await? <= 1
    {
        txn.rollback().await?;
        return Err(AppError::Conflict(LAST_ADMIN.into()));
    }
    let (existing_active, existing_admin) = (existing.is_active, existing.is_admin);
    let mut model = existing.into_active_model();
    if let Some(v) = patch.is_active {
        model.is_active = Set(v);
    }
    if let Some(v) = patch.is_admin {
        model.is_admin = Set(v);
    }
    let password_changed = hash.is_some();
    if let Some(h) = hash {
        model.password_hash = Set(h);
    }
    let changed: Vec<&str> = [
        ("password", password_changed),
        (
            "is_active",
            patch.is_active.is_some_and(|v| v != existing_active),
        ),
        (
            "is_admin",
            patch.is_admin.is_some_and(|v| v != existing_admin),
        ),
    ]
    .into_iter()
    .filter_map(|(name, changed)| changed.then_some(name))
    .collect();
    let updated = users::update(&*txn, model).await?;
    let mut revoked = 0;
    if deactivated {
        revoked = sessions::delete_for_user(&*txn, id, Scope::All, now).await?;
    } else if password_changed {
        revoked = sessions::delete_for_user(&*txn, id, Scope::SessionsOnly, now).await?;
    }
    let event = Event::new("user.updated")
        .user(updated.id, &updated.username)
        .with("fields", changed)
        .with("revoked", revoked);
    let recorded = events::record(&*txn, state, event).await?;
    txn.commit().await?;
    recorded.emit(state);
    tracing::info!(
        user_id = id,
        is_active = updated.is_active,
        is_admin = updated.is_admin,
        password_changed,
        revoked,
        "user updated"
    );
    // The cached records carry `is_active` and `is_admin`: refetch them.
    invalidate(state, Target::User(id)).await;
    Ok(updated)
}

/// Deletes a user with their sessions and keys; the last active admin cannot be deleted.
pub async fn delete(state: &AppState, id: i32) -> AppResult<()> {
    let existing = get(state, id).await?;
    let txn = super::begin(state).await?;
    if existing.is_active && existing.is_admin && users::count_active_admins(&*txn).await? <= 1 {
        txn.rollback().await?;
        return Err(AppError::Conflict(LAST_ADMIN.into()));
    }
    users::delete(&*txn, id).await?;
    let event = Event::new("user.deleted").user(id, &existing.username);
    let recorded = events::record(&*txn, state, event).await?;
    txn.commit().await?;
    recorded.emit(state);
    invalidate(state, Target::User(id)).await;
    Ok(())
}

/// Creates the bootstrap admin (`username:password`) when no user of that name exists;
/// returns whether it was created.
///
/// Several instances started at once on an empty database all try; the ones that lose the
/// race see the name taken and carry on (`Ok(false)`) instead of refusing to start.
pub async fn ensure_bootstrap_admin(state: &AppState, spec: &SecretString) -> anyhow::Result<bool> {
    let Some((username, password)) = spec.expose_secret().split_once(':') else {
        anyhow::bail!("TESSERA_BOOTSTRAP_ADMIN must be username:password");
    };
    if users::find_by_username(&state.db, username)
        .await?
        .is_some()
    {
        return Ok(false);
    }
    let password = SecretString::from(password.to_string());
    match create(state, username, password, true).await {
        Ok(_) => Ok(true),
        // `create`'s only conflict is the name being taken, here by a concurrent start.
        Err(AppError::Conflict(_)) => Ok(false),
        Err(e) => Err(anyhow::anyhow!("cannot create the bootstrap admin: {e}")),
    }
}
