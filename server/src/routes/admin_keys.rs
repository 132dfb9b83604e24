//! Admin API: the JWT signing keys (docs/endpoints.md, "Signing keys").

use super::openapi::TAG_ADMIN;
use crate::authn::{AdminOnly, Auth};
use crate::clock::to_datetime;
use crate::error::AppResult;
use crate::service::keys;
use crate::state::AppState;
use axum::{Json, extract::State};
use chrono::{DateTime, Utc};
use entity::signing_key;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_signing_keys))
        .routes(routes!(rotate_signing_keys))
}

/// A signing key (never its private half).
#[derive(Debug, Serialize, ToSchema)]
pub struct SigningKeyView {
    #[schema(example = "kZbV3lq2Jb0k8bXo")]
    pub kid: String,
    /// `next`, `current` or `retired`.
    #[schema(example = "current")]
    pub state: String,
    pub created: DateTime<Utc>,
}

fn views(keys: Vec<signing_key::Model>) -> Vec<SigningKeyView> {
    keys.into_iter()
        .map(|k| SigningKeyView {
            kid: k.kid,
            state: k.state,
            created: to_datetime(k.created),
        })
        .collect()
}

/// List the signing keys
///
/// Newest first.
#[utoipa::path(get, path = "/api/admin/keys", tag = TAG_ADMIN, security(("bearer" = [])),
    responses((status = 200, description = "The keys", body = Vec<SigningKeyView>)))]
pub async fn list_signing_keys(
    State(state): State<AppState>,
    _auth: Auth<AdminOnly>,
) -> AppResult<Json<Vec<SigningKeyView>>> {
    Ok(Json(views(keys::list(&state).await?)))
}

/// Rotate the signing keys
///
/// `next` becomes `current`, a new `next` is made, and the old `current` is retired: published
/// until its last JWT has expired, then deleted. Other instances switch within ten seconds.
#[utoipa::path(post, path = "/api/admin/keys/rotate", tag = TAG_ADMIN, security(("bearer" = [])),
    responses((status = 200, description = "The keys after the rotation", body = Vec<SigningKeyView>)))]
pub async fn rotate_signing_keys(
    State(state): State<AppState>,
    _auth: Auth<AdminOnly>,
) -> AppResult<Json<Vec<SigningKeyView>>> {
    Ok(Json(views(keys::rotate(&state).await?)))
}
