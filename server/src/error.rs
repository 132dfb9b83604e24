//! The one error type of the HTTP API and its JSON body (docs/conventions.md, "Errors").
//! Every rejection, from an extractor, a service or the database, ends up here.

use crate::rules::Invalid;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sea_orm::{DbErr, RuntimeErr, SqlErr};
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

pub use crate::rules::FieldErrors;

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// A stable snake_case code, e.g. `invalid_token`.
    #[schema(example = "invalid_token")]
    pub code: &'static str,
    /// A human sentence.
    #[schema(example = "Invalid token.")]
    pub detail: String,
    /// Per-field messages, only for `validation_error`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(inline, example = json!({"username": ["This field is required."]}))]
    pub fields: Option<FieldErrors>,
}

/// Every way a request can fail.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 400 `validation_error` with per-field messages.
    #[error("{}", Invalid(.0.clone()))]
    Validation(FieldErrors),
    /// 400 with a specific code (`invalid_credentials`, `unknown_client`, …).
    #[error("{detail}")]
    BadRequest { code: &'static str, detail: String },
    /// 401 with a specific code; carries `WWW-Authenticate`.
    #[error("{detail}")]
    Unauthorized {
        code: &'static str,
        detail: &'static str,
    },
    /// 403 `permission_denied`.
    #[error("permission denied")]
    Forbidden,
    /// 403 `insufficient_scope`: the credential lacks these scopes (RFC 6750 §3.1); carries
    /// `WWW-Authenticate` naming them. Scopes are `[a-z0-9:._-]`, so they need no escaping.
    #[error("insufficient scope")]
    InsufficientScope(Vec<String>),
    /// 403 `csrf_failed`: a cookie request without its CSRF token, or from a foreign origin.
    #[error("CSRF check failed")]
    CsrfFailed,
    /// 404 `not_found`.
    #[error("not found")]
    NotFound,
    /// 405 `method_not_allowed`.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 409 `conflict`.
    #[error("{0}")]
    Conflict(String),
    /// 408 `request_timeout`: the body did not arrive in time.
    #[error("request timeout")]
    RequestTimeout,
    /// 413 `payload_too_large`.
    #[error("payload too large")]
    PayloadTooLarge,
    /// 415 `unsupported_media_type`.
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// 429 `throttled`, with the wait in whole seconds (≥ 1).
    #[error("throttled")]
    Throttled { wait_secs: u64 },
    /// 503 `unavailable`.
    #[error("service unavailable")]
    Unavailable,
    /// 500; the cause is logged, never sent.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// `Result` with [`AppError`].
pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    /// A 400 with a specific code.
    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        Self::BadRequest {
            code,
            detail: detail.into(),
        }
    }

    /// A 400 `validation_error` for one field.
    pub fn field(name: &str, message: impl Into<String>) -> Self {
        Self::Validation(BTreeMap::from([(name.to_string(), vec![message.into()])]))
    }

    /// A 401 with a specific code.
    pub fn unauthorized(code: &'static str, detail: &'static str) -> Self {
        Self::Unauthorized { code, detail }
    }

    fn parts(&self) -> (StatusCode, &'static str, String) {
        use AppError::*;
        match self {
            Validation(_) => (
                StatusCode::BAD_REQUEST,
                "validation_error",
                "Invalid input.".into(),
            ),
            BadRequest { code, detail } => (StatusCode::BAD_REQUEST, code, detail.clone()),
            Unauthorized { code, detail } => (StatusCode::UNAUTHORIZED, code, (*detail).into()),
            Forbidden => (
                StatusCode::FORBIDDEN,
                "permission_denied",
                "You do not have permission to perform this action.".into(),
            ),
            InsufficientScope(_) => (
                StatusCode::FORBIDDEN,
                "insufficient_scope",
                "The credential lacks a required scope.".into(),
            ),
            CsrfFailed => (
                StatusCode::FORBIDDEN,
                "csrf_failed",
                "CSRF check failed: send the X-CSRF-Token header from a page of this site.".into(),
            ),
            NotFound => (StatusCode::NOT_FOUND, "not_found", "Not found.".into()),
            MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "Method not allowed on this path.".into(),
            ),
            Conflict(detail) => (StatusCode::CONFLICT, "conflict", detail.clone()),
            RequestTimeout => (
                StatusCode::REQUEST_TIMEOUT,
                "request_timeout",
                "The request body did not arrive in time.".into(),
            ),
            PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "The request body is larger than 65536 bytes.".into(),
            ),
            UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Send the body as application/json.".into(),
            ),
            Throttled { wait_secs } => (
                StatusCode::TOO_MANY_REQUESTS,
                "throttled",
                format!("Request was throttled. Expected available in {wait_secs} seconds."),
            ),
            Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "The service is temporarily unavailable.".into(),
            ),
            Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
                "Internal server error.".into(),
            ),
        }
    }
}

impl From<DbErr> for AppError {
    fn from(err: DbErr) -> Self {
        sql_err(err)
    }
}

impl From<Invalid> for AppError {
    fn from(Invalid(fields): Invalid) -> Self {
        Self::Validation(fields)
    }
}

/// Whether a database error means "not reachable right now" rather than a bug: no connection,
/// a connection lost mid-query, or SQLite still locked after its busy timeout.
pub fn is_unavailable(err: &DbErr) -> bool {
    let sqlx = match err {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => return true,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => e,
        _ => return false,
    };
    use sea_orm::sqlx::Error as E;
    match sqlx.as_ref() {
        E::Io(_) | E::PoolTimedOut | E::PoolClosed | E::WorkerCrashed => true,
        // SQLITE_BUSY (5) and SQLITE_LOCKED (6); PostgreSQL's class 08 (connection exception)
        // and 57P01..57P03 (administrator shutdown, crash shutdown, cannot connect now).
        E::Database(db) => db.code().is_some_and(|code| {
            matches!(code.as_ref(), "5" | "6" | "517" | "262")
                || code.starts_with("08")
                || code.starts_with("57P")
        }),
        _ => false,
    }
}

/// Maps a database error in one place: unique violations are conflicts, an unreachable or
/// locked database is 503, anything else is an internal error (logged once, never shown).
pub fn sql_err(err: DbErr) -> AppError {
    match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => {
            return AppError::Conflict("A record with these values already exists.".into());
        }
        Some(SqlErr::ForeignKeyConstraintViolation(_)) => return AppError::NotFound,
        _ => {}
    }
    // The row went away between reading and writing it (a concurrent delete).
    if matches!(err, DbErr::RecordNotUpdated | DbErr::RecordNotFound(_)) {
        return AppError::NotFound;
    }
    if is_unavailable(&err) {
        crate::metrics::db_error("unavailable", &err);
        return AppError::Unavailable;
    }
    crate::metrics::db_error("other", &err);
    AppError::Internal(err.into())
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, code, detail) = self.parts();
        if let AppError::Internal(cause) = &self {
            // `{:#}` prints the cause chain on one line, once.
            tracing::error!(error = %format!("{cause:#}"), "internal error");
        }
        let wait = match &self {
            AppError::Throttled { wait_secs } => Some(*wait_secs),
            _ => None,
        };
        let challenge = match &self {
            AppError::InsufficientScope(missing) => Some(format!(
                "Bearer realm=\"tessera\", error=\"insufficient_scope\", scope=\"{}\"",
                missing.join(" ")
            )),
            _ => None,
        };
        let fields = match self {
            AppError::Validation(fields) => Some(fields),
            _ => None,
        };
        let mut response = (
            status,
            axum::Json(ErrorBody {
                code,
                detail,
                fields,
            }),
        )
            .into_response();
        let headers = response.headers_mut();
        if status == StatusCode::UNAUTHORIZED {
            // RFC 6750 §3.1: the error attribute only when a credential was presented.
            let challenge = if code == "not_authenticated" {
                "Bearer realm=\"tessera\""
            } else {
                "Bearer realm=\"tessera\", error=\"invalid_token\""
            };
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
        }
        if let Some(value) = challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
            headers.insert(header::WWW_AUTHENTICATE, value);
        }
        if let Some(wait) = wait {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(wait));
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}
