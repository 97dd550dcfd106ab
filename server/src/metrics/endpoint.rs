//! The `--metrics-bind` listener: `GET /metrics` and nothing else, on its own address, never on
//! the relay's public port. No authentication: bind it to loopback or a private network.

use std::future::Future;
use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::routing::get;
use axum::Router;
use tokio::net::TcpListener;

use super::render::CONTENT_TYPE;
use super::{render, Metrics, SocketsOpen};

/// Counts the sockets open now, when scraped.
pub type Census = Arc<dyn Fn() -> SocketsOpen + Send + Sync>;

#[derive(Clone)]
struct Scrape {
    metrics: Metrics,
    census: Census,
}

/// Serves `GET /metrics` on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    metrics: Metrics,
    census: Census,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let app = Router::new()
        .route("/metrics", get(scrape))
        .with_state(Scrape { metrics, census });
    if let Err(e) = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
    {
        tracing::error!(error = %e, "the metrics listener failed");
    }
}

async fn scrape(State(s): State<Scrape>) -> ([(header::HeaderName, &'static str); 1], String) {
    let text = render(&s.metrics, (s.census)());
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], text)
}
