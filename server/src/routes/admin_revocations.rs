//! Admin API: bulk revocation, the kill switch (docs/endpoints.md, "Bulk revocation").

use super::openapi::TAG_ADMIN;
use super::views::RevokedCount;
use crate::authn::{AdminOnly, Auth};
use crate::error::{AppError, AppResult};
use crate::extract::AppJson;
use crate::service::clients;
use crate::service::revocations::{self, Revocation};
use crate::state::AppState;
use axum::{Json, extract::State};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create_revocation))
}

/// Which sessions and keys to end: at least one filter; every given one must match.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevocationRequest {
    /// Only sessions on this client (an unknown client matches nothing).
    #[schema(example = "mobile")]
    pub client: Option<String>,
    /// Only this user's sessions (an unknown user matches nothing).
    #[schema(example = 42, minimum = 0, maximum = 2147483647)]
    pub user_id: Option<i32>,
    /// Only sessions created before this time (RFC 3339).
    #[schema(example = "2026-12-01T00:00:00Z")]
    pub created_before: Option<DateTime<Utc>>,
}

/// End every matching session and API key
///
/// The kill switch after an incident: ends every session and API key matching all the given
/// filters (`client`, `user_id`, `created_before`; at least one), on every instance at once.
#[utoipa::path(post, path = "/api/admin/revocations", tag = TAG_ADMIN, security(("bearer" = [])),
    request_body = RevocationRequest,
    responses(
        (status = 200, description = "How many live sessions and keys ended", body = RevokedCount),
        (status = 400, description = "No filter, or an invalid one", body = crate::error::ErrorBody,
            example = json!({"code": "validation_error", "detail": "Invalid input.", "fields": {"non_field_errors": ["Give at least one of client, user_id, created_before."]}})),
    ))]
pub async fn create_revocation(
    State(state): State<AppState>,
    _admin: Auth<AdminOnly>,
    AppJson(req): AppJson<RevocationRequest>,
) -> AppResult<Json<RevokedCount>> {
    if req.client.is_none() && req.user_id.is_none() && req.created_before.is_none() {
        return Err(AppError::field(
            "non_field_errors",
            "Give at least one of client, user_id, created_before.",
        ));
    }
    let client_id = match &req.client {
        // An unknown client matches no session (id 0 never exists).
        Some(name) => Some(match clients::get(&state, name).await {
            Ok(c) => c.id,
            Err(AppError::NotFound) => 0,
            Err(err) => return Err(err),
        }),
        None => None,
    };
    let filter = Revocation {
        client_id,
        user_id: req.user_id,
        // chrono's range (±262,000 years) fits in i64 microseconds.
        created_before: req.created_before.map(|t| t.timestamp_micros()),
    };
    let revoked = revocations::revoke_matching(&state, &filter, req.client.as_deref()).await?;
    Ok(Json(RevokedCount { revoked }))
}
