//! What a security event records about the request behind it (docs/endpoints.md, "Security
//! events"): the client IP, the User-Agent and the authenticated user who acted. The `track`
//! middleware opens a task-local scope per request and the authentication layer names the
//! actor, so the services that write events need no extra parameters for it; outside a request
//! (the CLI, background tasks) every field is empty.

use axum::http::HeaderValue;
use std::cell::Cell;
use std::future::Future;
use std::net::IpAddr;

tokio::task_local! {
    static CONTEXT: RequestContext;
}

/// The request a task is serving.
#[derive(Debug, Default)]
pub struct RequestContext {
    ip: Option<IpAddr>,
    user_agent: Option<HeaderValue>,
    actor: Cell<Option<i32>>,
}

impl RequestContext {
    /// A request from `ip` with this User-Agent.
    pub fn new(ip: Option<IpAddr>, user_agent: Option<HeaderValue>) -> Self {
        Self {
            ip,
            user_agent,
            actor: Cell::new(None),
        }
    }
}

/// Runs `f` as the request described by `context`.
pub async fn scope<F: Future>(context: RequestContext, f: F) -> F::Output {
    CONTEXT.scope(context, f).await
}

/// Names the authenticated user of the current request.
pub fn set_actor(user_id: i32) {
    let _ = CONTEXT.try_with(|c| c.actor.set(Some(user_id)));
}

/// The current request's IP, User-Agent (cut to 512 characters) and actor.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub actor: Option<i32>,
}

/// What is known of the current request (all empty outside one).
pub fn snapshot() -> Snapshot {
    CONTEXT
        .try_with(|c| Snapshot {
            ip: c.ip.map(|ip| ip.to_string()),
            user_agent: c.user_agent.as_ref().map(|v| {
                String::from_utf8_lossy(v.as_bytes())
                    .chars()
                    .take(512)
                    .collect()
            }),
            actor: c.actor.get(),
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_scope_carries_the_request_and_its_actor() {
        assert_eq!(snapshot(), Snapshot::default());
        let ctx = RequestContext::new(
            Some("203.0.113.7".parse().unwrap()),
            Some(HeaderValue::from_static("curl/8")),
        );
        let seen = scope(ctx, async {
            set_actor(7);
            tokio::task::yield_now().await;
            snapshot()
        })
        .await;
        assert_eq!(seen.ip.as_deref(), Some("203.0.113.7"));
        assert_eq!(seen.user_agent.as_deref(), Some("curl/8"));
        assert_eq!(seen.actor, Some(7));
        set_actor(8);
        assert_eq!(snapshot(), Snapshot::default());
    }
}
