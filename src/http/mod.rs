//! The HTTP side: the Mailpit-compatible API, the WebSocket feed and the UI.
//!
//! Layout: `api/` holds the `/api/v1` handlers, [`mailhog`] MailHog's API,
//! [`ws`] the live feed,
//! [`view`] the rendered message views, [`json`] Mailpit's wire shapes,
//! [`body`] and [`params`] request decoding, [`access`] (who sees which
//! mailboxes) and [`cors`] the guards, [`safe_download`] how message content is served safely, and
//! [`openapi`] the API description. Handlers stay thin: the store does the
//! work.

pub mod access;
pub mod api;
pub mod body;
pub mod cors;
pub mod deliveries;
pub mod envelope;
pub mod error;
pub mod extract;
pub mod host;
pub mod json;
pub mod mailboxes;
pub mod mailhog;
pub mod metrics;
pub mod openapi;
pub mod params;
pub mod safe_download;
pub mod ui;
pub mod view;
pub mod wait;
pub mod webhook;
pub mod webroot;
pub mod ws;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::http::{HeaderValue, Method, header};
use axum::middleware;
use axum::routing::{MethodRouter, get};
use axum::serve::ListenerExt;
use axum::{Router, ServiceExt};
use tower::Layer;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::app::App;
use crate::listen::{Bound, BoundUnix, Listen};
use crate::running::StartError;
use crate::shutdown::Shutdown;
use crate::store::detail::{Detail, DetailCache};
use crate::store::{ScopedStore, StoreError, StoredMessage};
use access::Access;
use error::ApiError;
use params::Params;

/// A bound, not yet serving, HTTP listener.
pub struct HttpServer {
    /// The TCP address; None on a Unix socket.
    pub addr: Option<SocketAddr>,
    listener: Bound,
    app: Arc<App>,
}

/// Binds the listener. The UI credentials and CORS origins were resolved,
/// and a bad `--ui-auth-file` refused, by
/// [`crate::settings::Settings::resolve`] before anything bound.
pub async fn bind(app: Arc<App>) -> Result<HttpServer, StartError> {
    let (listener, addr) = app.settings.config.http.bind.bind().await?;
    Ok(HttpServer {
        addr,
        listener,
        app,
    })
}

impl HttpServer {
    pub async fn serve(self, shutdown: Shutdown) {
        let state = Arc::new(HttpState::new(self.app.clone(), shutdown.clone()));
        let mut stop = shutdown;
        let stopped = async move { stop.wait().await };
        // The mailbox prefix comes off before routing, so one router
        // serves the root and every `/mailbox/{name}/`.
        let service = middleware::from_fn(access::strip_mailbox_prefix).layer(router(state));
        // Outside the mailbox prefix: the webroot (`/mail/mailbox/x/…`), and
        // outside that the Host check, which every request passes first.
        let settings = &self.app.settings;
        let service =
            middleware::from_fn_with_state(settings.webroot.clone(), webroot::strip_webroot)
                .layer(service);
        let service =
            middleware::from_fn_with_state(settings.allowed_hosts.clone(), host::check_host)
                .layer(service);
        let result = match self.listener {
            Bound::Tcp(listener) => {
                // No Nagle delay: WebSocket frames and small JSON answers go out at once.
                let listener = listener.tap_io(|stream| {
                    let _ = stream.set_nodelay(true);
                });
                let service =
                    ServiceExt::<axum::extract::Request>::into_make_service_with_connect_info::<
                        SocketAddr,
                    >(service);
                axum::serve(listener, service)
                    .with_graceful_shutdown(stopped)
                    .await
            }
            // A Unix-socket client has no address to tell handlers.
            Bound::Unix(BoundUnix { listener, file }) => {
                let service = ServiceExt::<axum::extract::Request>::into_make_service(service);
                let served = axum::serve(listener, service)
                    .with_graceful_shutdown(stopped)
                    .await;
                drop(file);
                served
            }
        };
        if let Err(error) = result {
            tracing::error!(%error, "HTTP server failed");
        }
    }
}

/// What every handler shares.
pub struct HttpState {
    pub app: Arc<App>,
    pub details: DetailCache,
    /// Long-lived connections (WebSockets) end when this fires.
    pub shutdown: Shutdown,
    /// Permits for `POST /api/v1/send` in flight (`--send-max-concurrent`).
    pub sends: tokio::sync::Semaphore,
}

impl HttpState {
    pub fn new(app: Arc<App>, shutdown: Shutdown) -> HttpState {
        HttpState {
            details: DetailCache::new(app.settings.config.http.detail_cache),
            sends: tokio::sync::Semaphore::new(app.settings.config.http.send_max_concurrent.max(1)),
            app,
            shutdown,
        }
    }

    /// The store as the request may see it.
    pub fn store(&self, access: &Access) -> ScopedStore<'_> {
        self.app.store.scoped(&access.scope)
    }

    /// The message an `{ID}` path segment names, among those the request
    /// may see: an ID, or `latest` (the newest message, or the newest
    /// matching `?query=`).
    pub async fn resolve(
        &self,
        access: &Access,
        id: &str,
        params: &Params,
    ) -> Result<Arc<StoredMessage>, ApiError> {
        let store = self.store(access);
        if id == "latest" {
            store
                .latest(params::latest_query(params).as_ref())
                .await?
                .ok_or(ApiError::MessageNotFound)
        } else {
            store.get(id).await?.ok_or(ApiError::NotFound)
        }
    }

    /// The parsed detail of a message, from the cache or parsed off the
    /// async threads (a large message can take a while).
    pub async fn detail(&self, message: &Arc<StoredMessage>) -> Result<Arc<Detail>, ApiError> {
        if let Some(detail) = self.details.get(message.id()) {
            return Ok(detail);
        }
        let raw = self.app.store.raw(message).await?;
        let detail = tokio::task::spawn_blocking(move || Arc::new(Detail::parse(&raw)))
            .await
            .unwrap_or_default();
        self.details.insert(message.id(), detail.clone());
        Ok(detail)
    }

    /// Runs `read` on a message's raw bytes: inline when the message is
    /// small, on a blocking thread when it is large, since parsing megabytes
    /// must not stall the async workers.
    pub async fn read_raw<T: Send + 'static>(
        &self,
        message: &Arc<StoredMessage>,
        read: impl FnOnce(&StoredMessage, bytes::Bytes) -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let raw = self.app.store.raw(message).await?;
        if message.size() < crate::store::LARGE_MESSAGE_BYTES {
            return Ok(read(message, raw));
        }
        let message = message.clone();
        tokio::task::spawn_blocking(move || read(&message, raw))
            .await
            .map_err(|_| ApiError::Store(StoreError::Unavailable("reading failed".into())))
    }
}

/// One route: path, method and handler. Each router is built from a list
/// of these, so that a unit test can hold every list to the OpenAPI
/// document and a route without documentation fails it.
pub type Route = (&'static str, Method, MethodRouter<Arc<HttpState>>);

/// The router serving a list of [`Route`]s (the same path twice merges
/// the methods).
pub fn routed(table: Vec<Route>) -> Router<Arc<HttpState>> {
    table
        .into_iter()
        .fold(Router::new(), |router, (path, _, handler)| {
            router.route(path, handler)
        })
}

/// Every route. `/livez` and `/readyz` sit outside auth; the API, the views
/// and the WebSocket also pass the Origin check.
pub fn router(state: Arc<HttpState>) -> Router {
    let guarded = Router::new()
        .merge(api::routes(&state))
        .merge(mailhog::routes(&state))
        .merge(openapi::routes())
        .merge(deliveries::router())
        .route("/api/events", get(ws::events))
        .route("/view/{file}", get(view::view))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            cors::origin_guard,
        ))
        .with_state(state.clone());

    // ── UI ─────────────────────────────────────────────────────────────
    // The UI engineer's routes (src/http/ui.rs) and mailcatch's own
    // endpoints (src/http/envelope.rs) merge here, inside basic auth.
    // `/view/{ID}` for the SPA is answered by `view::view`.
    let ui = Router::new()
        .merge(ui::router())
        .merge(envelope::router())
        .merge(wait::router())
        .merge(metrics::route(&state))
        .merge(extract::router())
        .merge(mailboxes::router())
        .with_state(state.clone());
    // ───────────────────────────────────────────────────────────────────

    Router::new()
        .merge(guarded)
        .merge(ui)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            access::authorize,
        ))
        .route("/livez", get(|| async { "ok" }))
        .route("/readyz", get(readyz).with_state(state.clone()))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
}

/// `GET /readyz`: `ok` while the store can take mail; `503` while its
/// database does not answer (so a load balancer sends mail elsewhere).
async fn readyz(
    axum::extract::State(state): axum::extract::State<Arc<HttpState>>,
) -> axum::response::Response {
    match state.app.store.ready().await {
        Ok(()) => error::plain(axum::http::StatusCode::OK, "ok"),
        Err(e) => error::plain(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {e}\n"),
        ),
    }
}

/// `mailcatch readyz`: a dependency-free probe of `/readyz` for container
/// health checks. Exits 0 on a 200 answer within five seconds; with
/// `patience` (`--wait`), keeps trying every 100 ms until then.
pub async fn probe_readyz(
    listen: &str,
    patience: Option<std::time::Duration>,
) -> std::process::ExitCode {
    let give_up = tokio::time::Instant::now() + patience.unwrap_or_default();
    loop {
        if probe_once(listen).await {
            return std::process::ExitCode::SUCCESS;
        }
        if tokio::time::Instant::now() >= give_up {
            return std::process::ExitCode::FAILURE;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

async fn probe_once(listen: &str) -> bool {
    // A wildcard bind address is probed on loopback.
    let target = listen
        .replace("0.0.0.0:", "127.0.0.1:")
        .replace("[::]:", "[::1]:");
    let probe = async {
        match target.parse::<Listen>() {
            Ok(Listen::Unix(socket)) => {
                let stream = tokio::net::UnixStream::connect(&socket.path).await.ok()?;
                ask_readyz(stream, "localhost").await
            }
            _ => {
                let stream = tokio::net::TcpStream::connect(&target).await.ok()?;
                ask_readyz(stream, &target).await
            }
        }
    };
    matches!(
        tokio::time::timeout(std::time::Duration::from_secs(5), probe).await,
        Ok(Some(true))
    )
}

/// Sends `GET /readyz`; whether the answer is a 200.
async fn ask_readyz(
    mut stream: impl tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    host: &str,
) -> Option<bool> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let request = format!("GET /readyz HTTP/1.0\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).await.ok()?;
    Some(head.starts_with(b"HTTP/1.") && &head[9..12] == b"200")
}
