//! The HTTP server loop (docs/operations.md, "When things fail"): hyper's HTTP/1 connections
//! with a header deadline, a cap on open connections (at the cap, a connection that has never
//! sent a byte makes room for a new one), and a drain with a deadline.
//!
//! Written on hyper-util's building blocks rather than `axum::serve`, because `axum::serve`
//! offers none of the three: it runs hyper without a timer (so no header timeout), accepts
//! without bound, and drains without end. Everything else (HTTP/1 itself, graceful close) is
//! hyper's.

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::task::{AbortHandle, JoinSet};
use tower::ServiceExt;

/// A connection's stream that notes whether the client has sent anything at all.
struct Watched {
    stream: TcpStream,
    spoke: Arc<AtomicBool>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.stream).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.spoke.store(true, Ordering::Relaxed);
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, data)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// Open connections, oldest first, with whether each has sent a byte yet.
#[derive(Default)]
struct Open(VecDeque<(AbortHandle, Arc<AtomicBool>)>);

impl Open {
    /// At the cap, closes the oldest connection that has never sent a byte (an idle one holds
    /// a slot for nothing), so that a client with a request is served at once rather than
    /// after the idle ones' header timeout. Returns whether one was closed.
    fn evict_idle(&mut self) -> bool {
        self.0.retain(|(handle, _)| !handle.is_finished());
        let idle = self
            .0
            .iter()
            .position(|(_, spoke)| !spoke.load(Ordering::Relaxed));
        match idle.and_then(|at| self.0.remove(at)) {
            Some((handle, _)) => {
                handle.abort();
                true
            }
            None => false,
        }
    }
}

/// A request whose head has not arrived in this time is dropped.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// A request whose body has not arrived in this time gets 408 (see `crate::app`).
pub const BODY_TIMEOUT: Duration = Duration::from_secs(30);

/// How the loop treats connections.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Most connections open at once; past it, new ones wait in the listen queue.
    pub max_connections: usize,
    /// How long requests in flight may take to finish once shutdown begins.
    pub shutdown_timeout: Duration,
    /// How long a request head may take to arrive.
    pub header_timeout: Duration,
}

/// Raises this process's open-file limit to its hard limit and returns the connection cap that
/// fits under it (leaving room for the database, Redis, logs and listeners), at most `wanted`.
pub fn fit_connection_cap(wanted: usize) -> usize {
    let limit = match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) => n,
        Err(err) => {
            tracing::warn!(error = %err, "cannot raise the open-file limit");
            rlimit::getrlimit(rlimit::Resource::NOFILE).map_or(1024, |(soft, _)| soft)
        }
    };
    let room = limit.saturating_sub(128).max(16) as usize;
    if wanted > room {
        tracing::warn!(
            wanted,
            open_file_limit = limit,
            cap = room,
            "TESSERA_MAX_CONNECTIONS is above what the open-file limit allows; capping it"
        );
    }
    wanted.min(room).max(1)
}

/// Serves `app` on `listener` until `stop` completes, then stops accepting, lets requests in
/// flight finish for at most `limits.shutdown_timeout`, and closes what is left.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    stop: impl Future<Output = ()> + Send + 'static,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut connections = JoinSet::new();
    let mut open = Open::default();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    let mut stop = std::pin::pin!(stop);
    loop {
        // Reap finished connections so neither list grows with the server's age.
        while connections.try_join_next().is_some() {}
        if open.0.len() > limits.max_connections {
            open.0.retain(|(handle, _)| !handle.is_finished());
        }
        if permits.available_permits() == 0 && open.evict_idle() {
            // The evicted task releases its permit as it is dropped.
            tokio::task::yield_now().await;
        }
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            () = &mut stop => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors or a connection reset before accept: wait a
                    // moment rather than spin, and keep serving the connections we have.
                    tracing::warn!(error = %err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let _ = stream.set_nodelay(true);
        let service = app
            .clone()
            .map_request(move |req: axum::http::Request<Incoming>| {
                let mut req = req.map(Body::new);
                req.extensions_mut().insert(ConnectInfo(peer));
                req
            });
        let spoke = Arc::new(AtomicBool::new(false));
        let stream = Watched {
            stream,
            spoke: spoke.clone(),
        };
        let conn = http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let conn = graceful.watch(conn);
        let handle = connections.spawn(async move {
            let _ = conn.await;
            drop(permit);
        });
        open.0.push_back((handle, spoke));
    }
    drop(listener);
    let open = connections.len();
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(limits.shutdown_timeout) => {
            tracing::warn!(
                open,
                timeout_secs = limits.shutdown_timeout.as_secs(),
                "shutdown deadline passed; closing the connections still open"
            );
        }
    }
    connections.abort_all();
    while connections.join_next().await.is_some() {}
}
