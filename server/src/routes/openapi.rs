//! The OpenAPI document's frame: tags, security schemes, and the error responses every
//! operation can give, derived from what its extractors do rather than listed by hand:
//!
//! - a `bearer` credential ([`crate::authn::Auth`]) → 401 with every authentication code, 403
//!   (`csrf_failed` for a cookie, `permission_denied` for a key limited to scopes), and 429 (the
//!   (user, client) budget);
//! - the `admin` tag ([`crate::authn::AdminOnly`]) → 403;
//! - the `introspection` credential → 401 and 403, no budget;
//! - a request body ([`crate::extract::AppJson`], [`crate::extract::JsonOrForm`]) → 400
//!   (`invalid_json`, `validation_error`), 413 and 415.
//!
//! A handler lists only the answers of its own logic (a 404, a 409, a specific 400 with an
//! `example`); [`ErrorResponses`] merges them with the derived ones into one response per
//! status, with one named example per error code.

use crate::error::ErrorBody;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use utoipa::openapi::example::ExampleBuilder;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, RefOr, Response, ResponseBuilder};
use utoipa::{Modify, OpenApi};

/// Tag of the token lifecycle.
pub const TAG_AUTH: &str = "auth";
/// Tag of session management and API keys.
pub const TAG_SESSIONS: &str = "sessions";
/// Tag of forward-auth and introspection.
pub const TAG_INTEGRATION: &str = "integration";
/// Tag of the admin API.
pub const TAG_ADMIN: &str = "admin";
/// Tag of health and metrics.
pub const TAG_OPS: &str = "operations";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tessera",
        description = "Per-device tokens and sessions: login, renewal, session management, API keys, \
                       forward-auth and introspection. Use **Authorize** with a token from `POST /api/auth/login`.",
        license(name = "MIT OR Apache-2.0", identifier = "MIT OR Apache-2.0"),
    ),
    modifiers(&SecurityAddon),
    components(schemas(ErrorBody)),
    tags(
        (name = TAG_AUTH, description = "Log in, renew, log out"),
        (name = TAG_SESSIONS, description = "Your devices and your API key"),
        (name = TAG_INTEGRATION, description = "For reverse proxies and other services"),
        (name = TAG_ADMIN, description = "Users, clients, sessions and throttles (admins only)"),
        (name = TAG_OPS, description = "Health and metrics"),
    )
)]
pub struct ApiDoc;

struct SecurityAddon;

impl Modify for SecurityAddon {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A token from login (`tss_…`) or an API key (`tsk_…`); an API key may also \
                         be sent as `X-Api-Key`.",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "introspection",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "`TESSERA_INTROSPECTION_SECRET`, or the token of an admin.",
                    ))
                    .build(),
            ),
        );
    }
}

/// Every error code an extractor can answer, by status.
const UNAUTHORIZED: &[(&str, &str)] = &[
    (
        "not_authenticated",
        "Authentication credentials were not provided.",
    ),
    (
        "invalid_header",
        "Invalid token header. No credentials provided.",
    ),
    ("invalid_token", "Invalid token."),
    ("token_expired", "Token has expired."),
    ("user_inactive", "User inactive or deleted."),
];
const THROTTLED: &[(&str, &str)] = &[(
    "throttled",
    "Request was throttled. Expected available in 20 seconds.",
)];
const FORBIDDEN: &[(&str, &str)] = &[(
    "permission_denied",
    "You do not have permission to perform this action.",
)];
const CREDENTIAL_FORBIDDEN: &[(&str, &str)] = &[
    (
        "permission_denied",
        "You do not have permission to perform this action.",
    ),
    (
        "csrf_failed",
        "CSRF check failed: send the X-CSRF-Token header from a page of this site.",
    ),
];
const BAD_BODY: &[(&str, &str)] = &[
    ("invalid_json", "The request body is not valid JSON."),
    ("validation_error", "Invalid input."),
];
const TOO_LARGE: &[(&str, &str)] = &[(
    "payload_too_large",
    "The request body is larger than 65536 bytes.",
)];
const MEDIA_TYPE: &[(&str, &str)] = &[(
    "unsupported_media_type",
    "Send the body as application/json.",
)];

/// Merges the derived error responses into every operation (see the module docs). It runs on
/// the finished document ([`finish`]): `ApiDoc`'s own modifiers run before any route is added.
pub struct ErrorResponses;

/// Completes the document built from the routes.
pub fn finish(mut api: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    ErrorResponses.modify(&mut api);
    api
}

impl Modify for ErrorResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let mut seen = std::collections::BTreeSet::new();
        for item in openapi.paths.paths.values_mut() {
            for (method, op) in [
                ("get", &mut item.get),
                ("put", &mut item.put),
                ("post", &mut item.post),
                ("delete", &mut item.delete),
                ("options", &mut item.options),
                ("head", &mut item.head),
                ("patch", &mut item.patch),
            ] {
                let Some(op) = op else { continue };
                derive_errors(op);
                // One handler serving several methods (forward-auth) gets one id per method.
                if let Some(id) = &mut op.operation_id
                    && !seen.insert(id.clone())
                {
                    *id = format!("{id}_{method}");
                    seen.insert(id.clone());
                }
            }
        }
    }
}

fn schemes(op: &Operation) -> Vec<String> {
    let value = serde_json::to_value(&op.security).unwrap_or(Value::Null);
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .flat_map(|o| o.keys().cloned())
        .collect()
}

fn derive_errors(op: &mut Operation) {
    let schemes = schemes(op);
    let admin = op
        .tags
        .as_ref()
        .is_some_and(|t| t.iter().any(|t| t == TAG_ADMIN));
    let mut derived: BTreeMap<&str, Vec<(&str, &str)>> = BTreeMap::new();
    if schemes.iter().any(|s| s == "bearer") {
        derived.entry("401").or_default().extend(UNAUTHORIZED);
        // A cookie without its CSRF token on an unsafe method, or an API key limited to scopes
        // outside the few endpoints it may call.
        derived
            .entry("403")
            .or_default()
            .extend(CREDENTIAL_FORBIDDEN);
        derived.entry("429").or_default().extend(THROTTLED);
    }
    if schemes.iter().any(|s| s == "introspection") {
        derived.entry("401").or_default().extend(UNAUTHORIZED);
        derived.entry("403").or_default().extend(FORBIDDEN);
    }
    if admin {
        derived.entry("403").or_default().extend(FORBIDDEN);
    }
    let has_query = op.parameters.as_ref().is_some_and(|ps| {
        ps.iter()
            .any(|p| matches!(p.parameter_in, utoipa::openapi::path::ParameterIn::Query))
    });
    if has_query {
        derived.entry("400").or_default().extend(&BAD_BODY[1..]);
    }
    if op.request_body.is_some() {
        derived.entry("400").or_default().extend(BAD_BODY);
        derived.entry("413").or_default().extend(TOO_LARGE);
        derived.entry("415").or_default().extend(MEDIA_TYPE);
    }
    // Statuses the handler declared itself keep their description and example code.
    let statuses: Vec<String> = op
        .responses
        .responses
        .keys()
        .filter(|s| s.starts_with('4') || s.starts_with('5'))
        .cloned()
        .chain(derived.keys().map(|s| s.to_string()))
        .collect();
    for status in statuses {
        let declared = op.responses.responses.get(&status).and_then(|r| match r {
            RefOr::T(r) => Some(r.clone()),
            RefOr::Ref(_) => None,
        });
        let mut examples: Vec<(String, String)> = derived
            .get(status.as_str())
            .into_iter()
            .flatten()
            .map(|(c, d)| (c.to_string(), d.to_string()))
            .collect();
        let mut codes = std::collections::BTreeSet::new();
        examples.retain(|(c, _)| codes.insert(c.clone()));
        if let Some(example) = declared.as_ref().and_then(declared_example) {
            examples.retain(|(c, _)| *c != example.0);
            examples.insert(0, example);
        }
        let description = declared
            .as_ref()
            .map(|r| r.description.clone())
            .unwrap_or_else(|| default_description(&status).to_string());
        op.responses
            .responses
            .insert(status, RefOr::T(error_response(&description, &examples)));
    }
}

/// The `{code, detail}` example a handler wrote on a declared error response.
fn declared_example(r: &Response) -> Option<(String, String)> {
    let content = r.content.get("application/json")?;
    let example = content.example.as_ref()?;
    Some((
        example.get("code")?.as_str()?.to_string(),
        example
            .get("detail")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
    ))
}

fn default_description(status: &str) -> &'static str {
    match status {
        "400" => "Invalid input",
        "401" => "Not authenticated",
        "403" => "Not allowed",
        "404" => "Not found",
        "409" => "Conflict",
        "413" => "Body larger than 65536 bytes",
        "415" => "Unsupported content type",
        "429" => "Throttled; see Retry-After",
        "503" => "Database unavailable; see Retry-After",
        _ => "Error",
    }
}

fn error_response(description: &str, examples: &[(String, String)]) -> Response {
    let mut content = ContentBuilder::new().schema(Some(RefOr::Ref(
        utoipa::openapi::Ref::from_schema_name("ErrorBody"),
    )));
    for (code, detail) in examples {
        let mut value = json!({"code": code, "detail": detail});
        if code == "validation_error" {
            value["fields"] = json!({"username": ["This field is required."]});
        }
        content = content.examples_from_iter([(
            code.clone(),
            ExampleBuilder::new()
                .summary(code.clone())
                .value(Some(value))
                .build(),
        )]);
    }
    ResponseBuilder::new()
        .description(description)
        .content("application/json", content.build())
        .build()
}
