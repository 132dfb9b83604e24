//! Admin API: every session (docs/endpoints.md, "All sessions").

use super::openapi::TAG_ADMIN;
use super::pagination;
use super::views::{AdminSessionView, SessionView};
use crate::authn::{AdminOnly, Auth};
use crate::error::{AppError, AppResult, ErrorBody};
use crate::extract::AppQuery;
use crate::rules::Fields;
use crate::service::sessions::SessionFilter;
use crate::service::{clients, sessions};
use crate::state::AppState;
use crate::token::TokenKind;
use axum::http::{HeaderMap, Uri};
use axum::{Json, extract::State};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_all_sessions))
}

/// `session` or `api_key`.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum KindFilter {
    Session,
    ApiKey,
}

/// Filters and page of the listing.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SessionListQuery {
    /// Only sessions on this client.
    #[param(example = "web")]
    pub client: Option<String>,
    /// Only this user's sessions.
    #[param(minimum = 0, maximum = 2147483647)]
    pub user_id: Option<i32>,
    /// Only sessions, or only API keys.
    #[param(inline)]
    pub kind: Option<KindFilter>,
    /// Page size (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u64>,
    /// The id of the previous page's last session.
    #[param(format = Uuid)]
    pub after: Option<uuid::Uuid>,
}

/// List every session
///
/// Live sessions and API keys of every user, newest first, paginated: `Link: <next page>;
/// rel="next"` when more exist. An unknown client or user matches nothing.
#[utoipa::path(get, path = "/api/admin/sessions", tag = TAG_ADMIN, security(("bearer" = [])),
    params(SessionListQuery),
    responses(
        (status = 200, description = "A page of sessions", body = Vec<AdminSessionView>,
            headers(("Link" = String, description = "`<URL of the next page>; rel=\"next\"` when more exist"))),
        (status = 400, description = "Invalid query, or an `after` that no longer exists", body = ErrorBody,
            example = json!({"code": "validation_error", "detail": "Invalid input."})),
    ))]
pub async fn list_all_sessions(
    State(state): State<AppState>,
    _admin: Auth<AdminOnly>,
    uri: Uri,
    AppQuery(query): AppQuery<SessionListQuery>,
) -> AppResult<(HeaderMap, Json<Vec<AdminSessionView>>)> {
    let mut fields = Fields::default();
    let limit = pagination::limit(&mut fields, query.limit);
    fields.check(
        "user_id",
        query.user_id.as_ref(),
        |n| *n >= 0,
        "Enter a user id.",
    );
    fields.finish()?;
    let client_id = match &query.client {
        // An unknown client matches no session (id 0 never exists).
        Some(name) => Some(clients::get(&state, name).await.map_or(0, |c| c.id)),
        None => None,
    };
    let filter = SessionFilter {
        client_id,
        user_id: query.user_id,
        kind: query.kind.map(|k| match k {
            KindFilter::Session => TokenKind::Session,
            KindFilter::ApiKey => TokenKind::ApiKey,
        }),
    };
    let after = query.after.map(|id| id.to_string());
    let Some(rows) = sessions::list_all(&state, &filter, after.as_deref(), limit + 1).await? else {
        return Err(AppError::field(
            "after",
            "That session no longer exists; start again from the first page.",
        ));
    };
    let (headers, rows) = pagination::page(&uri, rows, limit, |(s, _, _)| s.id.clone());
    let views = rows
        .into_iter()
        .map(|(s, client, username)| AdminSessionView {
            user_id: s.user_id,
            username,
            session: SessionView::new(s, client, None),
        })
        .collect();
    Ok((headers, Json(views)))
}
