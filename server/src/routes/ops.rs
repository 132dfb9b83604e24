//! Operations (docs/operations.md): liveness, readiness, metrics.

use super::openapi::TAG_OPS;
use crate::error::{AppError, AppResult, ErrorBody};
use crate::state::AppState;
use axum::http::header;
use axum::{Json, extract::State};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_health))
        .routes(routes!(get_readiness))
        .routes(routes!(get_metrics))
}

/// `{"status": …}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Status {
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// Liveness
#[utoipa::path(get, path = "/healthz", tag = TAG_OPS, responses((status = 200, description = "Alive", body = Status)))]
pub async fn get_health() -> Json<Status> {
    Json(Status { status: "ok" })
}

/// Readiness
///
/// 503 when the database does not answer.
#[utoipa::path(get, path = "/readyz", tag = TAG_OPS, responses(
    (status = 200, description = "Ready", body = Status),
    (status = 503, description = "Database unavailable", body = ErrorBody,
        example = json!({"code": "unavailable", "detail": "The service is temporarily unavailable."})),
))]
pub async fn get_readiness(State(state): State<AppState>) -> AppResult<Json<Status>> {
    match state.db.ping().await {
        Ok(()) => Ok(Json(Status { status: "ready" })),
        Err(err) => {
            tracing::warn!(error = %err, "readiness check failed");
            Err(AppError::Unavailable)
        }
    }
}

/// Open and idle connections of a pool.
fn pool_use(db: &sea_orm::DatabaseConnection) -> (u32, usize) {
    match db.get_database_backend() {
        sea_orm::DbBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool();
            (pool.size(), pool.num_idle())
        }
        sea_orm::DbBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (pool.size(), pool.num_idle())
        }
        _ => (0, 0),
    }
}

/// Prometheus metrics
#[utoipa::path(get, path = "/metrics", tag = TAG_OPS, responses(
    (status = 200, description = "Prometheus text exposition", body = String, content_type = "text/plain"),
))]
pub async fn get_metrics(
    State(state): State<AppState>,
) -> ([(header::HeaderName, &'static str); 1], String) {
    for (name, db) in [("writer", &state.db), ("reader", state.reader.pool())] {
        let (size, idle) = pool_use(db);
        state.metrics.observe_pool(name, size, idle);
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
}
