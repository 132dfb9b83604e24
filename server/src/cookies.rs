//! The cookies of the browser transport (docs/tokens.md, "Browser apps"): the session cookie,
//! the device-proof cookie, reading them from a request, and the [`ResponseNotes`] through
//! which the authentication layer and handlers ask for `Set-Cookie` (and `RateLimit`) headers
//! that the `track` middleware then writes.

use crate::config::Settings;
use crate::gcra::Allowance;
use axum::extract::FromRequestParts;
use axum::http::{HeaderMap, HeaderValue, header, request::Parts};
use cookie::{Cookie, SameSite};
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

/// The cookie that carries a device proof for cookie clients (SPEC §3.2).
pub const DEVICE_COOKIE: &str = "tessera_device";
/// `Max-Age` of a session cookie whose session never expires: 400 days, the most browsers keep.
pub const FOREVER_SECS: i64 = 400 * 86_400;

fn header_value(cookie: Cookie<'_>) -> HeaderValue {
    // Names come from validated configuration and values are base62 tokens or base64url
    // proofs, so the rendered cookie is always a valid header value.
    HeaderValue::from_str(&cookie.to_string()).unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn session_cookie_with(settings: &Settings, value: String, max_age_secs: i64) -> HeaderValue {
    header_value(
        Cookie::build((settings.cookie_name.clone(), value))
            .path("/")
            .max_age(cookie::time::Duration::seconds(max_age_secs.max(0)))
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(settings.cookie_secure)
            .build(),
    )
}

/// `Set-Cookie` for a session token expiring at `expiry` (µs; `None` = never), at `now` (µs).
pub fn session_cookie(
    settings: &Settings,
    token: &str,
    expiry: Option<i64>,
    now: i64,
) -> HeaderValue {
    let max_age = match expiry {
        // Rounded up, so the cookie never outlives its session by less than a second early.
        Some(expiry) => (expiry - now + crate::clock::SECOND - 1).div_euclid(crate::clock::SECOND),
        None => FOREVER_SECS,
    };
    session_cookie_with(settings, token.to_string(), max_age)
}

/// `Set-Cookie` that removes the session cookie.
pub fn clear_session_cookie(settings: &Settings) -> HeaderValue {
    session_cookie_with(settings, String::new(), 0)
}

/// `Set-Cookie` for a device proof: only sent to the login endpoints (`Path=/api/auth`), never
/// to other sites (`SameSite=Strict`).
pub fn device_cookie(settings: &Settings, proof: &str) -> HeaderValue {
    header_value(
        Cookie::build((DEVICE_COOKIE, proof.to_string()))
            .path("/api/auth")
            .max_age(cookie::time::Duration::seconds(
                crate::secret::DEVICE_PROOF_TTL,
            ))
            .http_only(true)
            .same_site(SameSite::Strict)
            .secure(settings.cookie_secure)
            .build(),
    )
}

/// The value of the first cookie called `name` in the request's `Cookie` headers.
///
/// Parsed here rather than with the `cookie` crate's parser: this runs on every request that
/// presents no header credential, and a borrowed scan allocates nothing.
pub fn read<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value.trim().trim_matches('"'))
}

#[derive(Debug, Default)]
struct Notes {
    allowance: Option<Allowance>,
    session_cookie: Option<HeaderValue>,
    device_cookie: Option<HeaderValue>,
}

/// Headers a request asks for on its response, whatever answers it (a handler or a
/// rejection): the budget left (`RateLimit`) and the cookies to set. The latest session cookie
/// wins, so a refresh and an auto-renewal in one request set it once.
#[derive(Debug, Clone, Default)]
pub struct ResponseNotes(Arc<Mutex<Notes>>);

impl ResponseNotes {
    fn with<T>(&self, f: impl FnOnce(&mut Notes) -> T) -> T {
        f(&mut self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Records what is left of the budget the request spent.
    pub fn set_allowance(&self, allowance: Allowance) {
        self.with(|n| n.allowance = Some(allowance));
    }

    /// Sets (or clears) the session cookie on the response.
    pub fn set_session_cookie(&self, value: HeaderValue) {
        self.with(|n| n.session_cookie = Some(value));
    }

    /// Sets the device-proof cookie on the response.
    pub fn set_device_cookie(&self, value: HeaderValue) {
        self.with(|n| n.device_cookie = Some(value));
    }

    /// The budget left, if the request spent one.
    pub fn allowance(&self) -> Option<Allowance> {
        self.with(|n| n.allowance)
    }

    /// Writes the cookies asked for into `headers`.
    pub fn write_cookies(&self, headers: &mut HeaderMap) {
        let (session, device) = self.with(|n| (n.session_cookie.take(), n.device_cookie.take()));
        for value in [session, device].into_iter().flatten() {
            headers.append(header::SET_COOKIE, value);
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ResponseNotes {
    type Rejection = Infallible;

    /// The request's notes (put there by the `track` middleware); detached ones otherwise.
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        Ok(parts.extensions.get::<Self>().cloned().unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::SECOND;

    fn settings(secure: bool) -> Settings {
        Settings {
            cookie_secure: secure,
            cookie_name: crate::config::default_cookie_name(secure).into(),
            ..Settings::default()
        }
    }

    #[test]
    fn the_session_cookie_has_every_attribute() {
        let v = session_cookie(&settings(true), "tss_x", Some(90 * SECOND + 1), 0);
        let v = v.to_str().unwrap();
        assert!(v.starts_with("__Host-tessera=tss_x;"), "{v}");
        for attr in ["Path=/", "Max-Age=91", "HttpOnly", "SameSite=Lax", "Secure"] {
            assert!(v.split("; ").any(|a| a == attr), "{attr} in {v}");
        }
        let v = session_cookie(&settings(false), "tss_x", None, 0);
        let v = v.to_str().unwrap();
        assert!(
            v.starts_with("tessera=tss_x;") && !v.contains("Secure"),
            "{v}"
        );
        assert!(v.contains(&format!("Max-Age={FOREVER_SECS}")), "{v}");
        let v = clear_session_cookie(&settings(true));
        assert!(v.to_str().unwrap().contains("Max-Age=0"));
    }

    #[test]
    fn reads_the_named_cookie_only() {
        let mut headers = HeaderMap::new();
        headers.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; tessera=tss_y"),
        );
        headers.append(header::COOKIE, HeaderValue::from_static("tessera=second"));
        assert_eq!(read(&headers, "tessera"), Some("tss_y"));
        assert_eq!(read(&headers, "a"), Some("1"));
        assert_eq!(read(&headers, "tess"), None);
        assert_eq!(read(&HeaderMap::new(), "tessera"), None);
    }
}
