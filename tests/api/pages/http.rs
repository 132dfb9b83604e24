//! The HTTP side of the browser tests: what an app does with Tessera while a person uses the
//! pages (logins on other clients, the token checks that show a revocation took effect).

use serde_json::{Value, json};

/// Plain HTTP calls to the live server, with bearer tokens.
pub(super) struct Api {
    base: String,
    http: reqwest::Client,
}

impl Api {
    pub(super) fn new(base: &str) -> Self {
        Self {
            base: base.to_string(),
            http: reqwest::Client::new(),
        }
    }

    /// `POST /api/auth/login`: (status, body).
    pub(super) async fn login(&self, username: &str, password: &str, client: &str) -> (u16, Value) {
        let res = self
            .http
            .post(format!("{}/api/auth/login", self.base))
            .json(&json!({"username": username, "password": password, "client": client}))
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// A bearer token of a successful login.
    pub(super) async fn token(
        &self,
        username: &str,
        password: &str,
        client: &str,
    ) -> (String, String) {
        let (status, body) = self.login(username, password, client).await;
        assert_eq!(status, 200, "login {username} on {client}: {body}");
        (
            body["token"].as_str().expect("a token").to_string(),
            body["session"]["id"].as_str().unwrap().to_string(),
        )
    }

    /// `method path` with a bearer token: (status, body).
    pub(super) async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
    ) -> (u16, Value) {
        let res = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// The status of `GET /api/auth/me` with `token`.
    pub(super) async fn me(&self, token: &str) -> u16 {
        self.call(reqwest::Method::GET, "/api/auth/me", token)
            .await
            .0
    }
}
