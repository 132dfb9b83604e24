//! A typed HTTP client for Tessera, for mobile and CLI app authors to copy.
//!
//! It speaks only HTTP (it never links the server) and maps every error body
//! (`{"code", "detail"}`) to [`Error::Api`], so apps can branch on the SPEC's codes:
//! `invalid_token` / `token_expired` mean "log in again", `throttled` carries `Retry-After`.

use serde::{Deserialize, Serialize, de::DeserializeOwned};

/// What can go wrong talking to Tessera.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The server answered with an error body.
    #[error("{status} {code}: {detail}")]
    Api {
        /// HTTP status.
        status: u16,
        /// The SPEC's snake_case code, e.g. `invalid_token`.
        code: String,
        /// The human sentence.
        detail: String,
        /// Seconds to wait, on 429.
        retry_after: Option<u64>,
    },
    /// The server could not be reached or answered something that is not Tessera.
    #[error("transport: {0}")]
    Transport(#[from] reqwest::Error),
}

impl Error {
    /// Whether the person must log in again (the token is unknown, revoked or expired).
    pub fn needs_login(&self) -> bool {
        matches!(self, Error::Api { status: 401, .. })
    }
}

/// A user as the token lifecycle endpoints return it.
#[derive(Debug, Clone, Deserialize)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub is_admin: bool,
}

/// One device's session.
#[derive(Debug, Clone, Deserialize)]
pub struct Session {
    pub id: String,
    pub kind: String,
    pub client: String,
    pub device_name: String,
    pub ip: Option<String>,
    pub last_used: String,
    pub expiry: Option<String>,
    pub is_current: bool,
    pub token_hint: String,
}

/// The answer to a login: keep `token` in secure storage; it is shown only once.
#[derive(Debug, Clone, Deserialize)]
pub struct LoginResponse {
    pub token: String,
    pub expiry: Option<String>,
    pub session: Session,
    pub user: User,
}

/// `GET /api/auth/me`.
#[derive(Debug, Clone, Deserialize)]
pub struct Me {
    pub user: User,
    pub session: Session,
}

#[derive(Deserialize)]
struct ErrorBody {
    code: String,
    detail: String,
}

#[derive(Deserialize)]
struct Expiry {
    expiry: Option<String>,
}

/// A client for one Tessera server, holding the current token (if logged in).
#[derive(Debug, Clone)]
pub struct Client {
    base: String,
    http: reqwest::Client,
    token: Option<String>,
}

impl Client {
    /// A client for the server at `base` (e.g. `http://127.0.0.1:8080`).
    pub fn new(base: &str) -> Self {
        Self {
            base: base.trim_end_matches('/').to_string(),
            http: reqwest::Client::new(),
            token: None,
        }
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

    async fn send<T: DeserializeOwned>(
        &self,
        req: reqwest::RequestBuilder,
    ) -> Result<Option<T>, Error> {
        let req = match &self.token {
            Some(t) => req.bearer_auth(t),
            None => req,
        };
        let res = req.send().await?;
        let status = res.status().as_u16();
        if res.status().is_success() {
            return if status == 204 {
                Ok(None)
            } else {
                Ok(Some(res.json().await?))
            };
        }
        let retry_after = res
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        let body: ErrorBody = res.json().await?;
        Err(Error::Api {
            status,
            code: body.code,
            detail: body.detail,
            retry_after,
        })
    }

    /// Logs in on `client` (e.g. `cli`, `mobile`) and keeps the token.
    pub async fn login(
        &mut self,
        username: &str,
        password: &str,
        client: &str,
        device: Option<&str>,
    ) -> Result<LoginResponse, Error> {
        #[derive(Serialize)]
        struct Body<'a> {
            username: &'a str,
            password: &'a str,
            client: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            device_name: Option<&'a str>,
        }
        let req = self
            .http
            .post(format!("{}/api/auth/login", self.base))
            .json(&Body {
                username,
                password,
                client,
                device_name: device,
            });
        let res: LoginResponse = self
            .send(req)
            .await?
            .expect("login answers 200 with a body");
        self.token = Some(res.token.clone());
        Ok(res)
    }

    /// Who the token belongs to.
    pub async fn me(&self) -> Result<Me, Error> {
        Ok(self
            .send(self.http.get(format!("{}/api/auth/me", self.base)))
            .await?
            .expect("200 with a body"))
    }

    /// Renews the token; returns the new expiry (`None` = never).
    pub async fn refresh(&self) -> Result<Option<String>, Error> {
        let res: Expiry = self
            .send(self.http.post(format!("{}/api/auth/refresh", self.base)))
            .await?
            .expect("200 with a body");
        Ok(res.expiry)
    }

    /// The user's live sessions, most recently used first.
    pub async fn sessions(&self) -> Result<Vec<Session>, Error> {
        Ok(self
            .send(self.http.get(format!("{}/api/auth/sessions", self.base)))
            .await?
            .unwrap_or_default())
    }

    /// Ends another device's session.
    pub async fn revoke(&self, session_id: &str) -> Result<(), Error> {
        self.send::<serde_json::Value>(
            self.http
                .delete(format!("{}/api/auth/sessions/{session_id}", self.base)),
        )
        .await?;
        Ok(())
    }

    /// Ends this device's session and forgets the token.
    pub async fn logout(&mut self) -> Result<(), Error> {
        self.send::<serde_json::Value>(self.http.post(format!("{}/api/auth/logout", self.base)))
            .await?;
        self.token = None;
        Ok(())
    }
}
