//! Security events (docs/endpoints.md, "Security events"): built by the services that make
//! the changes they describe, written in the same transaction, and announced (the
//! `tessera::audit` log line and the metric) only once that transaction has committed.

use crate::error::AppResult;
use crate::state::AppState;
use crate::store::events;
pub use crate::store::events::EventFilter;
use entity::event;
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr};
use serde_json::{Value, json};

/// An event about to be recorded. Never put a token, digest, password or secret in it.
#[derive(Debug, Clone)]
pub struct Event {
    kind: &'static str,
    user_id: Option<i32>,
    username: Option<String>,
    client: Option<String>,
    session_id: Option<String>,
    detail: Value,
}

impl Event {
    /// An event of this type (`login.succeeded`, `session.revoked`, …).
    pub fn new(kind: &'static str) -> Self {
        Self {
            kind,
            user_id: None,
            username: None,
            client: None,
            session_id: None,
            detail: json!({}),
        }
    }

    /// The user it is about.
    pub fn user(mut self, id: i32, username: &str) -> Self {
        self.user_id = Some(id);
        self.username = Some(username.to_string());
        self
    }

    /// A username without a known user (a failed login for an unknown name), cut to 150
    /// characters.
    pub fn username(mut self, username: &str) -> Self {
        self.username = Some(username.chars().take(150).collect());
        self
    }

    /// The client it is about, cut to 64 characters (a failed login may name anything).
    pub fn client(mut self, name: &str) -> Self {
        self.client = Some(name.chars().take(64).collect());
        self
    }

    /// The session (or API key) it is about.
    pub fn session(mut self, id: &str) -> Self {
        self.session_id = Some(id.to_string());
        self
    }

    /// Details (a JSON object).
    pub fn detail(mut self, detail: Value) -> Self {
        self.detail = detail;
        self
    }

    /// Adds one detail.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        if let Value::Object(map) = &mut self.detail {
            map.insert(key.to_string(), value.into());
        }
        self
    }
}

/// An event written but not yet announced: call [`Recorded::emit`] once the transaction it was
/// written in has committed.
#[must_use = "announce the event with emit() after the transaction commits"]
#[derive(Debug)]
pub struct Recorded(event::Model);

impl Recorded {
    /// Writes the `tessera::audit` log line and counts the event.
    pub fn emit(self, state: &AppState) {
        let e = self.0;
        state.metrics.observe_event(&e.kind);
        tracing::info!(
            target: "tessera::audit",
            id = e.id,
            r#type = %e.kind,
            user_id = e.user_id,
            username = e.username.as_deref(),
            client = e.client.as_deref(),
            session_id = e.session_id.as_deref(),
            actor_id = e.actor_id,
            ip = e.ip.as_deref(),
            detail = %e.detail,
            "event"
        );
    }
}

/// Writes `event` through `db` (the caller's transaction), with the request's IP, User-Agent
/// and actor (the actor only when it is not the event's own user).
pub async fn record(
    db: &impl ConnectionTrait,
    state: &AppState,
    event: Event,
) -> Result<Recorded, DbErr> {
    let request = crate::context::snapshot();
    let actor = request.actor.filter(|a| Some(*a) != event.user_id);
    let model = event::ActiveModel {
        time: Set(state.now()),
        kind: Set(event.kind.to_string()),
        user_id: Set(event.user_id),
        username: Set(event.username),
        client: Set(event.client),
        session_id: Set(event.session_id),
        actor_id: Set(actor),
        ip: Set(request.ip),
        user_agent: Set(request.user_agent),
        detail: Set(event.detail.to_string()),
        ..Default::default()
    };
    Ok(Recorded(events::insert(db, model).await?))
}

/// Records an event that goes with no other change (a failed or throttled login) and
/// announces it.
pub async fn record_alone(state: &AppState, event: Event) -> AppResult<()> {
    record(&state.db, state, event).await?.emit(state);
    Ok(())
}

/// A page of events matching `filter`, newest first, after the event `after`.
pub async fn list(
    state: &AppState,
    filter: &EventFilter,
    after: Option<i64>,
    limit: u64,
) -> AppResult<Vec<event::Model>> {
    Ok(events::list(&state.db, filter, after, limit).await?)
}
