//! Request extractors whose rejections use the API's error body (docs/conventions.md).
//! A NUL character in any JSON string, form value or query value is a `validation_error` naming
//! the field, whatever the database: PostgreSQL cannot store one, and no field needs one.

use crate::error::{AppError, FieldErrors};
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::{header, request::Parts};

use serde::de::DeserializeOwned;
use serde_json::Value;

/// The largest request body accepted, in bytes.
pub const BODY_LIMIT: usize = 65_536;

/// A JSON body; rejections become `invalid_json`, `validation_error`, 413 or 415.
#[derive(Debug, Clone, Copy, Default)]
pub struct AppJson<T>(pub T);

/// A JSON body that may be left out: an empty body without a `Content-Type` is `T::default()`
/// (so `curl -X POST …/roll` works); anything else is read as [`AppJson`] reads it.
#[derive(Debug, Clone, Copy, Default)]
pub struct OptionalJson<T>(pub T);

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

/// Parses JSON so that syntax errors and shape errors are told apart, naming the field. Every
/// body Tessera takes is an object: serde would also fill a struct from an array, so anything
/// else is refused first.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => {}
        // Not JSON at all: let the parser say so.
        Some(b) if !b"[\"-0123456789tfn".contains(b) => {}
        None => {}
        Some(_) => {
            return Err(AppError::field(
                "non_field_errors",
                "Expected a JSON object.",
            ));
        }
    }
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
    // A NUL can only arrive escaped (raw control characters are invalid JSON), so the full walk
    // runs only for bodies that spell one.
    if bytes.windows(6).any(|w| w == b"\\u0000") {
        let tree: Value = serde_json::from_slice(bytes).unwrap_or(Value::Null);
        if let Some(path) = nul_path(&tree) {
            return Err(nul_error(&path));
        }
    }
    Ok(value)
}

const NUL_MSG: &str = "Null characters are not allowed.";

fn nul_error(field: &str) -> AppError {
    let field = if field.is_empty() {
        "non_field_errors"
    } else {
        field
    };
    AppError::field(field, NUL_MSG)
}

/// The path (`a.b[2]`, or `""` for the root) of the first string or key holding a NUL.
fn nul_path(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => s.contains('\0').then(String::new),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| nul_path(item).map(|rest| format!("[{i}]{}", dotted(&rest)))),
        Value::Object(map) => map.iter().find_map(|(key, item)| {
            if key.contains('\0') {
                return Some(key.replace('\0', ""));
            }
            nul_path(item).map(|rest| format!("{key}{}", dotted(&rest)))
        }),
        _ => None,
    }
}

fn dotted(rest: &str) -> String {
    if rest.is_empty() || rest.starts_with('[') {
        rest.to_string()
    } else {
        format!(".{rest}")
    }
}

/// Refuses a form or query string with a NUL in any name or value, naming the field.
fn check_pairs(raw: &[u8]) -> Result<(), AppError> {
    // A NUL can only arrive percent-encoded, so a string without `%00` (the common case, on
    // the hot path of every query) needs no decoding here.
    if !raw.windows(3).any(|w| w == b"%00") {
        return Ok(());
    }
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(raw).unwrap_or_default();
    match pairs
        .iter()
        .find(|(k, v)| k.contains('\0') || v.contains('\0'))
    {
        Some((k, _)) => Err(nul_error(&k.replace('\0', ""))),
        None => Ok(()),
    }
}

/// Parses `application/x-www-form-urlencoded` pairs (a form body or a query string), naming
/// the field a wrong value is in.
fn parse_form<T: DeserializeOwned>(raw: &[u8]) -> Result<T, AppError> {
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(raw));
    serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().to_string();
        validation_from_serde(&path, &err.into_inner().to_string())
    })
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

impl<S: Send + Sync, T: DeserializeOwned + Default> FromRequest<S> for OptionalJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let typed = req.headers().contains_key(header::CONTENT_TYPE);
        let kind = body_kind(&req);
        let bytes = read_body(req).await?;
        match kind {
            BodyKind::Json => Ok(Self(parse_json(&bytes)?)),
            _ if !typed && bytes.is_empty() => Ok(Self(T::default())),
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
                check_pairs(&bytes)?;
                parse_form(&bytes).map(Self)
            }
            BodyKind::Other => Err(AppError::UnsupportedMediaType),
        }
    }
}

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for AppPath<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        // No id or name holds a NUL: the same 404 as any unknown one, before any query.
        if parts.uri.path().to_ascii_lowercase().contains("%00") {
            return Err(AppError::NotFound);
        }
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(v)| Self(v))
            .map_err(|_| AppError::NotFound)
    }
}

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for AppQuery<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        check_pairs(parts.uri.query().unwrap_or("").as_bytes())?;
        parse_form(parts.uri.query().unwrap_or("").as_bytes()).map(Self)
    }
}
