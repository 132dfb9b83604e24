//! Authentication in one place (docs/tokens.md, "Presenting a credential"): which credential a
//! request presents, the [`Principal`] it resolves to, and the [`Auth`] extractor whose
//! [`Requirement`] fixes the order of checks: 401, then 403, then 429. Handlers never read
//! credential headers themselves.

use crate::error::{AppError, AppResult};
use crate::gcra::{Allowance, BudgetKey};
use crate::principal::{Credential, Principal};
use crate::service::sessions::{self, Mode};
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::{HeaderName, header, request::Parts};
use secrecy::ExposeSecret;
use std::marker::PhantomData;
use std::ops::Deref;
use std::sync::{Arc, Mutex};
use subtle::ConstantTimeEq;

/// The header that carries an API key.
pub static X_API_KEY: HeaderName = HeaderName::from_static("x-api-key");

fn not_authenticated() -> AppError {
    AppError::unauthorized(
        "not_authenticated",
        "Authentication credentials were not provided.",
    )
}

fn invalid_token() -> AppError {
    AppError::unauthorized("invalid_token", "Invalid token.")
}

/// The token in `Authorization: Bearer|Token <token>`: `Ok(None)` when the header is absent or
/// uses another scheme (such as `Basic`), a 401 `invalid_header` when it is malformed.
pub fn bearer_token(parts: &Parts) -> AppResult<Option<&str>> {
    let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    // Split on bytes: a token with non-ASCII bytes is a malformed token, not a malformed header.
    let mut words = value
        .as_bytes()
        .split(|b| b.is_ascii_whitespace())
        .filter(|w| !w.is_empty());
    let scheme = words.next().unwrap_or(b"");
    if !scheme.eq_ignore_ascii_case(b"bearer") && !scheme.eq_ignore_ascii_case(b"token") {
        return Ok(None);
    }
    match (words.next(), words.next()) {
        (Some(token), None) => std::str::from_utf8(token)
            .map(Some)
            .map_err(|_| invalid_token()),
        (None, _) => Err(AppError::unauthorized(
            "invalid_header",
            "Invalid token header. No credentials provided.",
        )),
        _ => Err(AppError::unauthorized(
            "invalid_header",
            "Invalid token header. Token string should not contain spaces.",
        )),
    }
}

/// The credential a request presents, in the documented order: `Authorization`, then
/// `X-Api-Key`. The first one present is used; the others are ignored.
pub fn presented(parts: &Parts) -> AppResult<(Credential, &str)> {
    if let Some(token) = bearer_token(parts)? {
        return Ok((Credential::Authorization, token));
    }
    if let Some(value) = parts.headers.get(&X_API_KEY) {
        let token = value.to_str().map_err(|_| invalid_token())?.trim();
        // Only API keys travel in this header; a session token there is refused.
        if !token.starts_with("tsk_") {
            return Err(invalid_token());
        }
        return Ok((Credential::ApiKeyHeader, token));
    }
    Err(not_authenticated())
}

/// Resolves the request's credential to a [`Principal`] and counts the use.
pub async fn authenticate(parts: &Parts, state: &AppState) -> AppResult<Principal> {
    let (credential, token) = presented(parts)?;
    let mut verified = sessions::verify(state, token, Mode::Authenticate).await?;
    sessions::note_use(state, &mut verified);
    Ok(Principal {
        record: verified.record,
        credential,
        digest: verified.digest,
    })
}

/// Where the budget was spent, for the `RateLimit-*` response headers the middleware writes.
#[derive(Clone, Default)]
pub struct AllowanceSlot(pub Arc<Mutex<Option<Allowance>>>);

/// Spends one unit of the principal's (user, client) budget; 429 when it is used up. What is
/// left goes to `slot`, for the response headers.
pub async fn spend(
    state: &AppState,
    slot: Option<&AllowanceSlot>,
    principal: &Principal,
) -> AppResult<()> {
    let key = BudgetKey::Pair(principal.user().id, principal.client().id);
    let allowance = state
        .budgets
        .spend(key, principal.record.rate)
        .await
        .map_err(|refused| AppError::Throttled {
            wait_secs: refused.wait_secs,
        })?;
    if let (Some(allowance), Some(slot)) = (allowance, slot) {
        *slot.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(allowance);
    }
    Ok(())
}

/// What an endpoint asks of its caller beyond a valid credential.
pub trait Requirement: Send + Sync + 'static {
    /// Whether the principal may call the endpoint at all (else 403 `permission_denied`).
    fn permits(principal: &Principal) -> bool;
    /// Whether the extractor spends the budget; an unmetered endpoint calls [`spend`] itself
    /// (forward-auth does, after its own 403 checks).
    const METERED: bool = true;
}

/// Any valid credential.
pub struct AnyCredential;
impl Requirement for AnyCredential {
    fn permits(_: &Principal) -> bool {
        true
    }
}

/// A credential of an admin.
pub struct AdminOnly;
impl Requirement for AdminOnly {
    fn permits(principal: &Principal) -> bool {
        principal.user().is_admin
    }
}

/// Any valid credential; the handler spends the budget itself.
pub struct Unmetered;
impl Requirement for Unmetered {
    fn permits(_: &Principal) -> bool {
        true
    }
    const METERED: bool = false;
}

/// Checks a request against a requirement in the one fixed order: authentication (401),
/// permission (403), budget (429).
pub async fn authorize<R: Requirement>(parts: &Parts, state: &AppState) -> AppResult<Principal> {
    let principal = authenticate(parts, state).await?;
    if !R::permits(&principal) {
        return Err(AppError::Forbidden);
    }
    if R::METERED {
        spend(state, parts.extensions.get::<AllowanceSlot>(), &principal).await?;
    }
    Ok(principal)
}

/// An authenticated request that meets `R`.
pub struct Auth<R: Requirement = AnyCredential> {
    /// The caller.
    pub principal: Principal,
    _requirement: PhantomData<R>,
}

impl<R: Requirement> Deref for Auth<R> {
    type Target = Principal;

    fn deref(&self) -> &Principal {
        &self.principal
    }
}

impl<R: Requirement> FromRequestParts<AppState> for Auth<R> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> AppResult<Self> {
        Ok(Self {
            principal: authorize::<R>(parts, state).await?,
            _requirement: PhantomData,
        })
    }
}

/// A caller of the introspection endpoint: the introspection secret or an admin credential.
/// Neither spends budget nor counts as a use.
#[derive(Debug, Clone)]
pub struct IntrospectionCaller;

impl FromRequestParts<AppState> for IntrospectionCaller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> AppResult<Self> {
        let (credential, presented) = presented(parts)?;
        let secret_matches = credential == Credential::Authorization
            && state
                .settings
                .introspection_secret
                .as_ref()
                .is_some_and(|secret| {
                    bool::from(
                        presented
                            .as_bytes()
                            .ct_eq(secret.expose_secret().as_bytes()),
                    )
                });
        if secret_matches {
            return Ok(Self);
        }
        let verified = sessions::verify(state, presented, Mode::Authenticate).await?;
        if verified.record.user.is_admin {
            Ok(Self)
        } else {
            Err(AppError::Forbidden)
        }
    }
}
