//! Request extractors whose rejections use the API's error body (SPEC §3).

use crate::error::{AppError, FieldErrors};
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::{header, request::Parts};
use serde::de::DeserializeOwned;

/// The largest request body accepted, in bytes.
pub const BODY_LIMIT: usize = 65_536;

/// A JSON body; rejections become `invalid_json`, `validation_error`, 413 or 415.
#[derive(Debug, Clone, Copy, Default)]
pub struct AppJson<T>(pub T);

/// A body that is JSON or `application/x-www-form-urlencoded` (login and introspection).
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonOrForm<T>(pub T);

/// Path parameters; a value that does not parse is the same 404 as an unknown id.
#[derive(Debug, Clone, Copy, Default)]
pub struct AppPath<T>(pub T);

/// Query parameters; a malformed query string is a `validation_error`.
#[derive(Debug, Clone, Copy, Default)]
pub struct AppQuery<T>(pub T);

enum BodyKind {
    Json,
    Form,
    Other,
}

fn body_kind(req: &Request) -> BodyKind {
    let Some(ct) = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return BodyKind::Other;
    };
    let mime = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json")) {
        BodyKind::Json
    } else if mime == "application/x-www-form-urlencoded" {
        BodyKind::Form
    } else {
        BodyKind::Other
    }
}

async fn read_body(req: Request) -> Result<Bytes, AppError> {
    axum::body::to_bytes(req.into_body(), BODY_LIMIT)
        .await
        .map_err(|err| {
            // Exceeding the limit is a 413; any other failure to read (a broken connection)
            // is the client's doing too, so it is a 400 rather than a 500.
            if std::error::Error::source(&err)
                .is_some_and(|s| s.is::<http_body_util::LengthLimitError>())
            {
                AppError::PayloadTooLarge
            } else {
                AppError::bad_request("invalid_body", "The request body could not be read.")
            }
        })
}

/// Parses JSON so that syntax errors and shape errors are told apart, naming the field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        if inner.is_data() {
            validation_from_serde(&path, &inner.to_string())
        } else {
            AppError::bad_request("invalid_json", "The request body is not valid JSON.")
        }
    })?;
    de.end().map_err(|_| {
        AppError::bad_request("invalid_json", "The request body is not valid JSON.")
    })?;
    Ok(value)
}

fn validation_from_serde(path: &str, message: &str) -> AppError {
    // serde_json appends " at line L column C", which means nothing to an API user.
    let message = message
        .split(" at line ")
        .next()
        .unwrap_or(message)
        .to_string();
    let field = if path.is_empty() || path == "." {
        "non_field_errors".to_string()
    } else {
        path.to_string()
    };
    AppError::Validation(FieldErrors::from([(field, vec![message])]))
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for AppJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        match body_kind(&req) {
            BodyKind::Json => Ok(Self(parse_json(&read_body(req).await?)?)),
            _ => Err(AppError::UnsupportedMediaType),
        }
    }
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonOrForm<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        match body_kind(&req) {
            BodyKind::Json => Ok(Self(parse_json(&read_body(req).await?)?)),
            BodyKind::Form => {
                let bytes = read_body(req).await?;
                serde_urlencoded::from_bytes(&bytes)
                    .map(Self)
                    .map_err(|err| validation_from_serde("", &err.to_string()))
            }
            BodyKind::Other => Err(AppError::UnsupportedMediaType),
        }
    }
}

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for AppPath<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(v)| Self(v))
            .map_err(|_| AppError::NotFound)
    }
}

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for AppQuery<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| Self(v))
            .map_err(|err| validation_from_serde("", &err.body_text()))
    }
}

/// Deserialises a field that may be absent (outer `None`) or `null` (inner `None`), for PATCH.
pub fn double_option<'de, D, T>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    serde::Deserialize::deserialize(de).map(Some)
}
