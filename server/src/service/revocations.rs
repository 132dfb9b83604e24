//! Bulk revocation, the admins' kill switch after an incident (docs/endpoints.md,
//! "Bulk revocation").

use super::events::{self, Event};
use super::invalidate;
use crate::cache::Target;
use crate::error::AppResult;
use crate::state::AppState;
use crate::store::sessions;
pub use crate::store::sessions::Revocation;

/// Ends every session and API key matching `filter` (all given filters must match); returns
/// how many live ones ended. Every instance drops its whole verification cache: a kill switch
/// is rare, and re-reading the surviving tokens once is cheaper than being clever here.
/// `client` is the filter's client name as given, for the event.
pub async fn revoke_matching(
    state: &AppState,
    filter: &Revocation,
    client: Option<&str>,
) -> AppResult<u64> {
    let mut event = Event::new("revocation.bulk");
    if let Some(id) = filter.user_id
        && let Some(user) = crate::store::users::find(&state.db, id).await?
    {
        event = event.user(user.id, &user.username);
    }
    let txn = super::begin(state).await?;
    let revoked = sessions::delete_matching(&*txn, filter, state.now()).await?;
    let event = event
        .with("client", client)
        .with("user_id", filter.user_id)
        .with(
            "created_before",
            filter.created_before.map(|t| {
                crate::clock::to_datetime(t).to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
            }),
        )
        .with("revoked", revoked);
    let recorded = events::record(&*txn, state, event).await?;
    txn.commit().await?;
    recorded.emit(state);
    invalidate(state, Target::All).await;
    Ok(revoked)
}
