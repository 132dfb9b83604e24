//! Authentication in one place (docs/tokens.md, "Presenting a credential"): which credential a
//! request presents, the [`Principal`] it resolves to, and the [`Auth`] extractor whose
//! [`Requirement`] fixes the order of checks: 401, then CSRF (403), then permission (403), then
//! 429. Handlers never read credential headers or cookies themselves.

use crate::config::Settings;
use crate::cookies::{self, ResponseNotes};
use crate::error::{AppError, AppResult};
use crate::gcra::BudgetKey;
use crate::policy::Transport;
use crate::principal::{Credential, Principal};
use crate::service::sessions::{self, Mode};
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::{HeaderMap, HeaderName, Method, header, request::Parts};
use secrecy::ExposeSecret;
use std::marker::PhantomData;
use std::ops::Deref;
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

/// The header that carries the CSRF token of a cookie session.
pub static X_CSRF_TOKEN: HeaderName = HeaderName::from_static("x-csrf-token");

/// The credential a request presents, in the documented order: `Authorization`, then
/// `X-Api-Key`, then the session cookie. The first one present is used; the others are ignored.
pub fn presented<'a>(parts: &'a Parts, settings: &Settings) -> AppResult<(Credential, &'a str)> {
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
    match cookies::read(&parts.headers, &settings.cookie_name) {
        Some(token) if !token.is_empty() => Ok((Credential::Cookie, token)),
        _ => Err(not_authenticated()),
    }
}

/// The response notes of a request (detached ones where the middleware did not run).
fn notes(parts: &Parts) -> ResponseNotes {
    parts
        .extensions
        .get::<ResponseNotes>()
        .cloned()
        .unwrap_or_default()
}

/// Resolves the request's credential to a [`Principal`] and counts the use.
///
/// A cookie holding the token of a `bearer` client is ignored (as if absent). A 401 caused by
/// the cookie's own token clears the cookie; an auto-renewal of a cookie session re-sends it
/// with the new `Max-Age`.
pub async fn authenticate(parts: &Parts, state: &AppState) -> AppResult<Principal> {
    let (credential, token) = presented(parts, &state.settings)?;
    let is_cookie = credential == Credential::Cookie;
    let mut verified = match sessions::verify(state, token, Mode::Authenticate).await {
        Ok(verified) => verified,
        Err(err @ AppError::Unauthorized { .. }) if is_cookie => {
            notes(parts).set_session_cookie(cookies::clear_session_cookie(&state.settings));
            return Err(err);
        }
        Err(err) => return Err(err),
    };
    if is_cookie && verified.record.client.policy.transport != Transport::Cookie {
        return Err(not_authenticated());
    }
    let renewed = sessions::note_use(state, &mut verified);
    if is_cookie && renewed {
        notes(parts).set_session_cookie(cookies::session_cookie(
            &state.settings,
            token,
            verified.record.session.expiry,
            state.now(),
        ));
    }
    crate::context::set_actor(verified.record.user.id);
    Ok(Principal {
        record: verified.record,
        credential,
        digest: verified.digest,
    })
}

/// Whether a request's `Origin` (if it sends one) is the server's own or an allowed one.
/// `Origin: null` (sandboxed frames, some redirects) is always foreign.
pub fn origin_allowed(headers: &HeaderMap, settings: &Settings) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let origin = origin.trim().to_ascii_lowercase();
    origin == settings.public_url || settings.allowed_origins.contains(&origin)
}

/// The CSRF rule of the cookie transport (docs/tokens.md, "Browser apps"): a request
/// authenticated by the cookie with an unsafe `method` must carry the session's CSRF token and
/// no foreign `Origin`. Other credentials cannot be sent by a browser on its own, so they need
/// neither.
pub fn check_csrf(
    parts: &Parts,
    state: &AppState,
    principal: &Principal,
    method: &Method,
) -> AppResult<()> {
    if principal.credential != Credential::Cookie
        || matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
    {
        return Ok(());
    }
    let token_ok = parts.headers.get(&X_CSRF_TOKEN).is_some_and(|v| {
        state
            .secret
            .check_csrf(&principal.session().id, v.as_bytes())
    });
    if token_ok && origin_allowed(&parts.headers, &state.settings) {
        Ok(())
    } else {
        Err(AppError::CsrfFailed)
    }
}

/// Spends one unit of the principal's (user, client) budget; 429 when it is used up. What is
/// left goes to the response notes, for the `RateLimit` headers.
pub async fn spend(
    state: &AppState,
    notes: Option<&ResponseNotes>,
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
    if let (Some(allowance), Some(notes)) = (allowance, notes) {
        notes.set_allowance(allowance);
    }
    Ok(())
}

/// What an endpoint asks of its caller beyond a valid credential.
pub trait Requirement: Send + Sync + 'static {
    /// Whether the principal may call the endpoint at all (else 403 `permission_denied`).
    fn permits(principal: &Principal) -> bool;
    /// Whether an API key limited to scopes may call the endpoint: only those that say who is
    /// calling (`me`, `verify`, `token`) do; everywhere else it is 403 `permission_denied`.
    const SCOPED_KEYS: bool = false;
    /// Whether the extractor spends the budget; an unmetered endpoint calls [`spend`] itself
    /// (forward-auth does, after its own 403 checks).
    const METERED: bool = true;
    /// The method the CSRF rule judges: the request's own.
    fn method(parts: &Parts) -> Method {
        parts.method.clone()
    }
}

/// Any valid credential.
pub struct AnyCredential;
impl Requirement for AnyCredential {
    fn permits(_: &Principal) -> bool {
        true
    }
}

/// Any valid credential, scoped API keys included: for the endpoints that only say who is
/// calling (`GET /api/auth/me`, `POST /api/auth/token`).
pub struct Identity;
impl Requirement for Identity {
    fn permits(_: &Principal) -> bool {
        true
    }
    const SCOPED_KEYS: bool = true;
}

/// A credential of an admin.
pub struct AdminOnly;
impl Requirement for AdminOnly {
    fn permits(principal: &Principal) -> bool {
        principal.user().is_admin
    }
}

/// Forward-auth (`/api/auth/verify`): any valid credential; the handler spends the budget
/// itself, after its own 403 checks. The CSRF rule judges the method of the request the proxy
/// is asking about (`X-Forwarded-Method` from Traefik, `X-Original-Method` from nginx), which
/// can only make the rule stricter: verify changes nothing itself.
pub struct ForwardAuth;
impl Requirement for ForwardAuth {
    fn permits(_: &Principal) -> bool {
        true
    }
    const METERED: bool = false;
    const SCOPED_KEYS: bool = true;
    fn method(parts: &Parts) -> Method {
        // Typed names: a `&str` key would be parsed and validated on every request.
        const NAMES: [HeaderName; 2] = [
            HeaderName::from_static("x-forwarded-method"),
            HeaderName::from_static("x-original-method"),
        ];
        NAMES
            .iter()
            .find_map(|name| parts.headers.get(name))
            .and_then(|v| Method::from_bytes(v.as_bytes()).ok())
            .unwrap_or_else(|| parts.method.clone())
    }
}

/// Checks a request against a requirement in the one fixed order: authentication (401), CSRF
/// (403), permission (403), budget (429).
pub async fn authorize<R: Requirement>(parts: &Parts, state: &AppState) -> AppResult<Principal> {
    let principal = authenticate(parts, state).await?;
    // Only a cookie is judged by the CSRF rule; the method (for forward-auth, read from the
    // proxy's headers) is only worked out for one.
    if principal.credential == Credential::Cookie {
        check_csrf(parts, state, &principal, &R::method(parts))?;
    }
    if !R::permits(&principal) || (principal.is_scoped() && !R::SCOPED_KEYS) {
        return Err(AppError::Forbidden);
    }
    if R::METERED {
        spend(state, parts.extensions.get::<ResponseNotes>(), &principal).await?;
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
        let (credential, presented) = presented(parts, &state.settings)?;
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
        // An admin's own credential, judged like on any admin endpoint (a cookie needs its
        // CSRF token), but not counted as a use of it.
        let verified = sessions::verify(state, presented, Mode::Authenticate).await?;
        if credential == Credential::Cookie {
            if verified.record.client.policy.transport != Transport::Cookie {
                return Err(not_authenticated());
            }
            let principal = Principal {
                record: verified.record.clone(),
                credential,
                digest: verified.digest.clone(),
            };
            check_csrf(parts, state, &principal, &parts.method)?;
        }
        // A key limited to scopes may not introspect, whoever holds it.
        if verified.record.user.is_admin && verified.record.session.scopes.is_none() {
            Ok(Self)
        } else {
            Err(AppError::Forbidden)
        }
    }
}
