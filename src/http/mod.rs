//! The HTTP side: the Mailpit-compatible API, the WebSocket feed and the UI.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use tokio::net::TcpListener;

use crate::shutdown::Shutdown;
use crate::{App, StartError};

/// A bound, not yet serving, HTTP listener.
pub struct HttpServer {
    pub addr: SocketAddr,
    listener: TcpListener,
    app: Arc<App>,
}

pub async fn bind(app: Arc<App>) -> Result<HttpServer, StartError> {
    let addr = app.config.http.bind;
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Bind { addr, source })?;
    let addr = listener
        .local_addr()
        .map_err(|source| StartError::Bind { addr, source })?;
    Ok(HttpServer {
        addr,
        listener,
        app,
    })
}

impl HttpServer {
    pub async fn serve(self, mut shutdown: Shutdown) {
        let router = router(self.app);
        let result = axum::serve(
            self.listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move { shutdown.wait().await })
        .await;
        if let Err(error) = result {
            tracing::error!(%error, "HTTP server failed");
        }
    }
}

/// Every route, in one router.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/livez", get(|| async { "ok" }))
        .route("/readyz", get(|| async { "ok" }))
        .with_state(app)
}

/// `mailcatch readyz`: a dependency-free probe of `/readyz` for container
/// health checks. Exits 0 on a 200 answer within five seconds.
pub async fn probe_readyz(listen: &str) -> std::process::ExitCode {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // A wildcard bind address is probed on loopback.
    let target = listen
        .replace("0.0.0.0:", "127.0.0.1:")
        .replace("[::]:", "[::1]:");
    let probe = async {
        let mut stream = tokio::net::TcpStream::connect(&target).await.ok()?;
        let request =
            format!("GET /readyz HTTP/1.0\r\nHost: {target}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.ok()?;
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).await.ok()?;
        Some(head.starts_with(b"HTTP/1.") && &head[9..12] == b"200")
    };
    match tokio::time::timeout(std::time::Duration::from_secs(5), probe).await {
        Ok(Some(true)) => std::process::ExitCode::SUCCESS,
        _ => std::process::ExitCode::FAILURE,
    }
}
