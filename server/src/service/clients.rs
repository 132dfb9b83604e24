//! Clients: creation and changes checked by the one [`ClientPolicy::validate`], deletion (which
//! ends the client's sessions), and the default clients of a new database.

use super::events::{self, Event};
use super::invalidate;
use crate::cache::Target;
use crate::error::{AppError, AppResult};
use crate::policy::{ClientPolicy, ClientPolicyPatch, Transport};
use crate::rules::{CLIENT_NAME_MSG, Fields, valid_client_name};
use crate::state::AppState;
use crate::store::clients;
use entity::client;

/// Records an error on `name` unless it is a valid client name.
pub fn check_name(fields: &mut Fields, name: Option<&str>) {
    fields.check("name", name, valid_client_name, CLIENT_NAME_MSG);
}

/// Creates a client with `policy`.
pub async fn create(
    state: &AppState,
    name: &str,
    policy: &ClientPolicy,
) -> AppResult<client::Model> {
    let mut fields = Fields::default();
    check_name(&mut fields, Some(name));
    policy.validate(&mut fields);
    fields.finish()?;
    let txn = super::begin(state).await?;
    let created = clients::create(&*txn, name, policy, state.now())
        .await
        .map_err(|err| match AppError::from(err) {
            AppError::Conflict(_) => {
                AppError::Conflict("A client with that name already exists.".into())
            }
            other => other,
        })?;
    let recorded = events::record(&*txn, state, Event::new("client.created").client(name)).await?;
    txn.commit().await?;
    recorded.emit(state);
    Ok(created)
}

/// A client by name, or 404.
pub async fn get(state: &AppState, name: &str) -> AppResult<client::Model> {
    clients::find_by_name(&state.db, name)
        .await?
        .ok_or(AppError::NotFound)
}

/// Every client, by name.
pub async fn list(state: &AppState) -> AppResult<Vec<client::Model>> {
    Ok(clients::list(&state.db).await?)
}

/// The policy stored for a client.
pub fn policy_of(c: &client::Model) -> ClientPolicy {
    ClientPolicy {
        description: c.description.clone(),
        token_ttl: c.token_ttl,
        max_lifetime: c.max_lifetime,
        throttle_rate: c.throttle_rate.as_deref().and_then(|r| r.parse().ok()),
        max_sessions: c.max_sessions.map(i64::from),
        auto_renew: c.auto_renew,
        idle_timeout: c.idle_timeout,
        transport: c.transport.parse().unwrap_or_default(),
        rotate_on_refresh: c.rotate_on_refresh,
    }
}

/// Applies `patch` to a client's policy. It applies from the next request (rates), the next
/// login (`max_sessions`) or the next renewal (`token_ttl`, `max_lifetime`).
pub async fn update(
    state: &AppState,
    name: &str,
    patch: ClientPolicyPatch,
) -> AppResult<client::Model> {
    let existing = get(state, name).await?;
    let mut fields = Fields::default();
    fields.check(
        "name",
        patch.name.as_ref(),
        |n| *n == existing.name,
        "A client's name cannot change.",
    );
    let before = policy_of(&existing);
    let policy = before.clone().patched(patch, &mut fields);
    policy.validate(&mut fields);
    fields.finish()?;
    let changed = before.changed_fields(&policy);
    let txn = super::begin(state).await?;
    let updated = clients::update(&*txn, existing.id, &policy).await?;
    let event = Event::new("client.updated")
        .client(name)
        .with("fields", changed);
    let recorded = events::record(&*txn, state, event).await?;
    txn.commit().await?;
    recorded.emit(state);
    // Cached records carry the policy (TTL, rate, auto-renew): refetch them.
    invalidate(state, Target::Client(updated.id)).await;
    Ok(updated)
}

/// Deletes a client and ends every session and key on it.
pub async fn delete(state: &AppState, name: &str) -> AppResult<()> {
    let existing = get(state, name).await?;
    let txn = super::begin(state).await?;
    clients::delete(&*txn, existing.id).await?;
    let recorded = events::record(&*txn, state, Event::new("client.deleted").client(name)).await?;
    txn.commit().await?;
    recorded.emit(state);
    invalidate(state, Target::Client(existing.id)).await;
    Ok(())
}

/// Creates `web`, `mobile`, `cli`, the API-access client and `browser` when there are no clients at all.
pub async fn seed_defaults(state: &AppState) -> AppResult<()> {
    if clients::count(&state.db).await? > 0 {
        return Ok(());
    }
    let day = 86_400;
    let api = state.settings.api_access_client.clone();
    let bearer = |ttl| ClientPolicy {
        token_ttl: ttl,
        ..ClientPolicy::default()
    };
    let defaults = [
        ("web", bearer(Some(day))),
        ("mobile", bearer(Some(30 * day))),
        ("cli", bearer(Some(90 * day))),
        (api.as_str(), bearer(None)),
        // The account page's client (docs/tokens.md, "Browser apps").
        (
            "browser",
            ClientPolicy {
                token_ttl: Some(14 * day),
                idle_timeout: Some(12 * 3600),
                transport: Transport::Cookie,
                ..ClientPolicy::default()
            },
        ),
    ];
    for (name, policy) in defaults {
        create(state, name, &policy).await?;
    }
    Ok(())
}
