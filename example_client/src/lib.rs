//! A typed HTTP client for Tessera, for mobile and CLI app authors to copy.
//!
//! [`Client`] has one method per endpoint an app uses (docs/endpoints.md). It speaks only
//! HTTP (it never links the server) and maps every error body (`{"code", "detail"}`) to
//! [`Error::Api`], so apps can branch on the documented codes: any 401 ([`Error::needs_login`])
//! means "log in again", a 429 carries `Retry-After` ([`Error::retry_after`]).
//!
//! [`credentials`] is the other half of an app: where a CLI keeps its token (a 0600 file) and
//! when it renews it. The `tessera-client` binary in this crate puts both together.
//!
//! ```no_run
//! # async fn demo() -> Result<(), example_client::Error> {
//! let mut client = example_client::Client::new("http://127.0.0.1:8080");
//! let login = client.login("alice", "correct horse battery", "cli", Some("laptop")).await?;
//! // Store `login.token` securely; later runs use `Client::new(url).with_token(token)`.
//! for session in client.sessions().await? {
//!     println!("{} {}", session.id, session.device_name);
//! }
//! client.logout().await?;
//! # Ok(())
//! # }
//! ```

pub mod credentials;
mod types;

pub use types::{ApiKey, LoginResponse, Me, NewApiKey, NewApiKeyRequest, Session, User};

use chrono::{DateTime, Utc};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde::{Serialize, de::DeserializeOwned};
use std::collections::BTreeMap;
use std::time::Duration;
use types::{ErrorBody, ExpiryBody, RevokedBody};

/// What can go wrong talking to Tessera.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The server answered with an error body.
    #[error("{status} {code}: {detail}")]
    Api {
        /// HTTP status.
        status: u16,
        /// The documented snake_case code, e.g. `invalid_token`.
        code: String,
        /// The human sentence.
        detail: String,
        /// Seconds to wait, on 429.
        retry_after: Option<u64>,
        /// Per-field messages of a `validation_error` (field name → messages); else empty.
        fields: BTreeMap<String, Vec<String>>,
    },
    /// The server answered something that is not a Tessera answer (e.g. a proxy's HTML page).
    #[error("unexpected answer from the server ({status}): {detail}")]
    Unexpected {
        /// HTTP status.
        status: u16,
        /// What was wrong with it.
        detail: String,
    },
    /// An argument was refused before anything was sent.
    #[error("{0}")]
    InvalidInput(String),
    /// The server could not be reached, or the connection broke.
    #[error("transport: {0}")]
    Transport(#[from] reqwest::Error),
}

impl Error {
    /// Whether the person must log in again: the token is missing, unknown, revoked or expired,
    /// or the user was deactivated. Every 401 means this (docs/conventions.md.1).
    pub fn needs_login(&self) -> bool {
        matches!(self, Error::Api { status: 401, .. })
    }

    /// Seconds to wait before retrying, when the server throttled the request (429).
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Error::Api {
                status: 429,
                retry_after,
                ..
            } => Some(retry_after.unwrap_or(1)),
            _ => None,
        }
    }

    /// The documented error code, when the server sent one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Api { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// A client for one Tessera server, holding the current token (if logged in).
#[derive(Clone)]
pub struct Client {
    base: String,
    http: reqwest::Client,
    token: Option<String>,
    device_proof: Option<String>,
}

// By hand, so that logging a client never leaks its token.
impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field(
                "device_proof",
                &self.device_proof.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

impl Client {
    /// A client for the server at `base` (e.g. `http://127.0.0.1:8080`).
    pub fn new(base: &str) -> Self {
        // Bounded waits, so that a dead server ends a command instead of hanging it.
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .user_agent(concat!(
                "tessera-example-client/",
                env!("CARGO_PKG_VERSION")
            ))
            .build()
            .unwrap_or_default();
        Self {
            base: base.trim_end_matches('/').to_string(),
            http,
            token: None,
            device_proof: None,
        }
    }

    /// Sends this device proof (kept from an earlier login) with the next login.
    pub fn with_device_proof(mut self, proof: impl Into<String>) -> Self {
        self.device_proof = Some(proof.into());
        self
    }

    /// The device proof from the last login: keep it (it outlives logouts) and hand it back
    /// with [`Client::with_device_proof`].
    pub fn device_proof(&self) -> Option<&str> {
        self.device_proof.as_deref()
    }

    /// Uses a token kept from an earlier login.
    pub fn with_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// The current token.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// The server's base URL, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let req = self.http.request(method, format!("{}{path}", self.base));
        match &self.token {
            Some(t) => req.bearer_auth(t),
            None => req,
        }
    }

    /// Sends `req`; a non-2xx answer becomes [`Error::Api`] (or [`Error::Unexpected`]).
    async fn send(req: RequestBuilder) -> Result<Response, Error> {
        let res = req.send().await?;
        let status = res.status();
        if status.is_success() {
            return Ok(res);
        }
        let retry_after = res
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok());
        let bytes = res.bytes().await?;
        match serde_json::from_slice::<ErrorBody>(&bytes) {
            Ok(body) => Err(Error::Api {
                status: status.as_u16(),
                code: body.code,
                detail: body.detail,
                retry_after,
                fields: body.fields,
            }),
            Err(_) => Err(Error::Unexpected {
                status: status.as_u16(),
                detail: "the body is not a Tessera error".into(),
            }),
        }
    }

    /// Sends `req` and parses a JSON success body.
    async fn json<T: DeserializeOwned>(req: RequestBuilder) -> Result<T, Error> {
        let res = Self::send(req).await?;
        let status = res.status().as_u16();
        let bytes = res.bytes().await?;
        serde_json::from_slice(&bytes).map_err(|e| Error::Unexpected {
            status,
            detail: format!("the body does not parse: {e}"),
        })
    }

    /// Sends `req` and expects 204 No Content.
    async fn no_content(req: RequestBuilder) -> Result<(), Error> {
        let res = Self::send(req).await?;
        match res.status() {
            StatusCode::NO_CONTENT => Ok(()),
            other => Err(Error::Unexpected {
                status: other.as_u16(),
                detail: "expected 204 No Content".into(),
            }),
        }
    }

    /// `POST /api/auth/login`: logs in on `client` (e.g. `cli`, `mobile`) and keeps the token.
    /// Each login is a new session, i.e. a new device in [`Client::sessions`].
    pub async fn login(
        &mut self,
        username: &str,
        password: &str,
        client: &str,
        device_name: Option<&str>,
    ) -> Result<LoginResponse, Error> {
        #[derive(Serialize)]
        struct Body<'a> {
            username: &'a str,
            password: &'a str,
            client: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            device_name: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            device_proof: Option<&'a str>,
        }
        // Without the old token: a login never authenticates with one.
        let req = self
            .http
            .post(format!("{}/api/auth/login", self.base))
            .json(&Body {
                username,
                password,
                client,
                device_name,
                device_proof: self.device_proof.as_deref(),
            });
        let res: LoginResponse = Self::json(req).await?;
        self.token = Some(res.token.clone());
        if let Some(proof) = &res.device_proof {
            self.device_proof = Some(proof.clone());
        }
        Ok(res)
    }

    /// `POST /api/auth/refresh`: renews the token; returns the new expiry (`None` = never). The
    /// expiry never moves past the client's `max_lifetime`. On a client that rotates tokens
    /// the answer carries a new token, which this client uses from then on (read it with
    /// [`Client::token`] to store it: the old one stops working seconds later).
    pub async fn refresh(&mut self) -> Result<Option<DateTime<Utc>>, Error> {
        let res: ExpiryBody = Self::json(self.request(Method::POST, "/api/auth/refresh")).await?;
        if let Some(token) = res.token {
            self.token = Some(token);
        }
        Ok(res.expiry)
    }

    /// `POST /api/auth/logout`: ends this device's session and forgets the token.
    pub async fn logout(&mut self) -> Result<(), Error> {
        Self::no_content(self.request(Method::POST, "/api/auth/logout")).await?;
        self.token = None;
        Ok(())
    }

    /// `POST /api/auth/logoutall`: ends every session and every API key of the user, then
    /// forgets the token.
    pub async fn logout_all(&mut self) -> Result<(), Error> {
        Self::no_content(self.request(Method::POST, "/api/auth/logoutall")).await?;
        self.token = None;
        Ok(())
    }

    /// `GET /api/auth/me`: who the token belongs to, and its session.
    pub async fn me(&self) -> Result<Me, Error> {
        Self::json(self.request(Method::GET, "/api/auth/me")).await
    }

    /// `GET /api/auth/sessions`: the user's live sessions, most recently used first.
    pub async fn sessions(&self) -> Result<Vec<Session>, Error> {
        Self::json(self.request(Method::GET, "/api/auth/sessions")).await
    }

    /// `DELETE /api/auth/sessions/{id}`: ends another device's session. The current one gets
    /// 400 `cannot_revoke_current` (use [`Client::logout`]); an unknown id 404 `not_found`.
    pub async fn revoke(&self, session_id: &str) -> Result<(), Error> {
        let path = format!("/api/auth/sessions/{}", path_id(session_id, "a session")?);
        Self::no_content(self.request(Method::DELETE, &path)).await
    }

    /// `DELETE /api/auth/sessions`: ends every other session of the user (the API keys stay);
    /// returns how many ended.
    pub async fn revoke_others(&self) -> Result<u64, Error> {
        let res: RevokedBody =
            Self::json(self.request(Method::DELETE, "/api/auth/sessions")).await?;
        Ok(res.revoked)
    }

    /// `GET /api/auth/apikeys`: the user's live API keys (without their secrets), newest
    /// first.
    pub async fn api_keys(&self) -> Result<Vec<ApiKey>, Error> {
        Self::json(self.request(Method::GET, "/api/auth/apikeys")).await
    }

    /// `POST /api/auth/apikeys`: creates a named API key, optionally scoped and expiring, and
    /// returns its secret, the only time it is shown. A live key of the same name, or a user
    /// holding the most keys allowed (`TESSERA_MAX_API_KEYS`): 409 `conflict`; a bad name,
    /// scope or `expires_in`: 400 `validation_error` naming the field.
    pub async fn create_named_api_key(&self, req: &NewApiKeyRequest) -> Result<NewApiKey, Error> {
        Self::json(self.request(Method::POST, "/api/auth/apikeys").json(req)).await
    }

    /// `DELETE /api/auth/apikeys/{id}`: deletes one of the user's API keys; an unknown id (or
    /// another user's) is 404 `not_found`.
    pub async fn delete_api_key_by_id(&self, id: &str) -> Result<(), Error> {
        let path = format!("/api/auth/apikeys/{}", path_id(id, "an API key")?);
        Self::no_content(self.request(Method::DELETE, &path)).await
    }

    /// `POST /api/auth/apikeys/{id}/roll`: gives the key a new secret and returns it (same id,
    /// name, scopes and expiry). The old secret keeps working for `grace` seconds (0–86400;
    /// `None` = 0, it ends at once). An unknown id is 404 `not_found`.
    pub async fn roll_api_key(&self, id: &str, grace: Option<u64>) -> Result<NewApiKey, Error> {
        #[derive(Serialize)]
        struct Body {
            #[serde(skip_serializing_if = "Option::is_none")]
            grace: Option<u64>,
        }
        let path = format!("/api/auth/apikeys/{}/roll", path_id(id, "an API key")?);
        Self::json(self.request(Method::POST, &path).json(&Body { grace })).await
    }

    /// `GET /api/auth/apiaccess` (v1): the user's API key named `default` (without its
    /// secret); none is 404 `not_found`.
    pub async fn api_key(&self) -> Result<ApiKey, Error> {
        Self::json(self.request(Method::GET, "/api/auth/apiaccess")).await
    }

    /// `POST /api/auth/apiaccess` (v1): creates the user's unrestricted API key named `default`
    /// and returns its secret, the only time it is shown. A live `default` key already exists,
    /// or the user holds the most keys allowed: 409 `conflict`.
    pub async fn create_api_key(&self) -> Result<NewApiKey, Error> {
        Self::json(self.request(Method::POST, "/api/auth/apiaccess")).await
    }

    /// `DELETE /api/auth/apiaccess` (v1): deletes the user's API key named `default`; none is
    /// 404 `not_found`.
    pub async fn delete_api_key(&self) -> Result<(), Error> {
        Self::no_content(self.request(Method::DELETE, "/api/auth/apiaccess")).await
    }
}

/// `id`, checked before it becomes a path segment: anything but a UUID's characters (say "",
/// "..", "?") could turn the call into another request, e.g. `DELETE /api/auth/sessions` (all
/// other sessions). `what` names the id in the error ("a session").
fn path_id<'a>(id: &'a str, what: &str) -> Result<&'a str, Error> {
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        return Err(Error::InvalidInput(format!("{id:?} is not {what} id")));
    }
    Ok(id)
}
