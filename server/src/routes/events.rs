//! Security events (docs/endpoints.md, "Security events"): a person's own recent activity, and
//! every event for admins.

use super::openapi::{TAG_ADMIN, TAG_SESSIONS};
use super::pagination;
use crate::authn::{AdminOnly, Auth};
use crate::clock::to_datetime;
use crate::error::{AppResult, ErrorBody};
use crate::extract::AppQuery;
use crate::rules::Fields;
use crate::service::events::{self, EventFilter};
use crate::state::AppState;
use axum::http::{HeaderMap, Uri};
use axum::{Json, extract::State};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_my_events))
        .routes(routes!(list_all_events))
}

/// A security event. Never a token, digest, password or secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    /// Increasing.
    #[schema(example = 1042)]
    pub id: i64,
    pub time: DateTime<Utc>,
    /// `login.succeeded`, `login.failed`, `session.revoked`, …
    #[serde(rename = "type")]
    #[schema(example = "login.succeeded")]
    pub kind: String,
    pub user_id: Option<i32>,
    #[schema(example = "alice")]
    pub username: Option<String>,
    #[schema(example = "web")]
    pub client: Option<String>,
    pub session_id: Option<String>,
    /// The admin (or other user) who acted, when not the event's user.
    pub actor_id: Option<i32>,
    #[schema(example = "203.0.113.7")]
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// Details of this type of event, e.g. `{"reason": "wrong_password"}`.
    #[schema(value_type = Object, example = json!({"method": "password"}))]
    pub detail: serde_json::Value,
}

impl From<entity::event::Model> for EventView {
    fn from(e: entity::event::Model) -> Self {
        Self {
            id: e.id,
            time: to_datetime(e.time),
            kind: e.kind,
            user_id: e.user_id,
            username: e.username,
            client: e.client,
            session_id: e.session_id,
            actor_id: e.actor_id,
            ip: e.ip,
            user_agent: e.user_agent,
            // Written by Tessera as a JSON object; anything else shows as empty.
            detail: serde_json::from_str(&e.detail).unwrap_or_else(|_| serde_json::json!({})),
        }
    }
}

/// A page of the caller's events.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MyEventsQuery {
    /// Page size (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u64>,
    /// The id of the previous page's last event.
    #[param(minimum = 1)]
    pub after: Option<i64>,
}

/// Filters and page of every event.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Only events about this user.
    #[param(minimum = 0, maximum = 2147483647)]
    pub user_id: Option<i32>,
    /// Only events of this type.
    #[param(example = "login.failed")]
    pub r#type: Option<String>,
    /// Only events at or after this time (RFC 3339).
    #[param(example = "2026-12-01T00:00:00Z")]
    pub since: Option<DateTime<Utc>>,
    /// Page size (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u64>,
    /// The id of the previous page's last event.
    #[param(minimum = 1)]
    pub after: Option<i64>,
}

async fn page(
    state: &AppState,
    uri: &Uri,
    filter: EventFilter,
    limit: Option<u64>,
    after: Option<i64>,
) -> AppResult<(HeaderMap, Json<Vec<EventView>>)> {
    let mut fields = Fields::default();
    let limit = pagination::limit(&mut fields, limit);
    fields.check("after", after.as_ref(), |n| *n >= 1, "Enter an event id.");
    fields.finish()?;
    let rows = events::list(state, &filter, after, limit + 1).await?;
    let (headers, rows) = pagination::page(uri, rows, limit, |e| e.id.to_string());
    Ok((
        headers,
        Json(rows.into_iter().map(EventView::from).collect()),
    ))
}

/// My recent security activity
///
/// The caller's own events (logins, failed attempts, revocations, password changes, …),
/// newest first, paginated: `Link: <next page>; rel="next"` when more exist.
#[utoipa::path(get, path = "/api/auth/events", tag = TAG_SESSIONS, security(("bearer" = [])),
    params(MyEventsQuery),
    responses(
        (status = 200, description = "A page of events", body = Vec<EventView>,
            headers(("Link" = String, description = "`<URL of the next page>; rel=\"next\"` when more exist"))),
        (status = 400, description = "Invalid query", body = ErrorBody,
            example = json!({"code": "validation_error", "detail": "Invalid input."})),
    ))]
pub async fn list_my_events(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    AppQuery(query): AppQuery<MyEventsQuery>,
) -> AppResult<(HeaderMap, Json<Vec<EventView>>)> {
    let filter = EventFilter {
        user_id: Some(auth.user().id),
        ..EventFilter::default()
    };
    page(&state, &uri, filter, query.limit, query.after).await
}

/// List security events
///
/// Every event, newest first, filtered by user, type and time, paginated.
#[utoipa::path(get, path = "/api/admin/events", tag = TAG_ADMIN, security(("bearer" = [])),
    params(EventsQuery),
    responses(
        (status = 200, description = "A page of events", body = Vec<EventView>,
            headers(("Link" = String, description = "`<URL of the next page>; rel=\"next\"` when more exist"))),
        (status = 400, description = "Invalid query", body = ErrorBody,
            example = json!({"code": "validation_error", "detail": "Invalid input."})),
    ))]
pub async fn list_all_events(
    State(state): State<AppState>,
    _admin: Auth<AdminOnly>,
    uri: Uri,
    AppQuery(query): AppQuery<EventsQuery>,
) -> AppResult<(HeaderMap, Json<Vec<EventView>>)> {
    if query.user_id.is_some_and(|id| id < 0) {
        return Err(crate::error::AppError::field("user_id", "Enter a user id."));
    }
    let filter = EventFilter {
        user_id: query.user_id,
        kind: query.r#type,
        since: query.since.map(|t| t.timestamp_micros()),
    };
    page(&state, &uri, filter, query.limit, query.after).await
}
